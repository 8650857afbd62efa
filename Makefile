# posbridge: `make demo` and `make test` work on a fresh clone with Rust (>= 1.89) and Python (>= 3.10).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-installed
export VIRTUAL_ENV := $(abspath $(VENV))

# The Odoo 18 tree for the addon's tests: ../shared/odoo/18.0 when it is there (override: make ODOO_SRC=...)
ODOO_SRC ?= $(if $(wildcard ../shared/odoo/18.0/odoo-bin),../shared/odoo/18.0)
export ODOO_SRC

.PHONY: all build release demo test test-rust test-python test-odoo odoo-demo lint fuzz bench clean wheelhouse check-wheels

all: build

$(PY):
	$(PYTHON) -m venv $(VENV) || { echo "python venv failed: on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }

$(DEPS): $(PY) requirements-dev.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## build: debug build of the native module, installed editable into .venv
build: $(DEPS)
	$(BIN)/maturin develop --quiet

## release: optimised build (for benchmarks)
release: $(DEPS)
	$(BIN)/maturin develop --quiet --release

## demo: the main flow on the embedded sandbox, no credentials needed
demo: build
	$(BIN)/posbridge demo

## test: every test (Rust, Python, the wheelhouse's wheels; the Odoo addon's when ODOO_SRC is set)
test: build test-rust test-python check-wheels test-odoo

test-rust:
	cargo test --quiet

test-python: build
	$(PY) -m pytest -q tests

## test-odoo: the addon's tests on Odoo 18 (tests_odoo/run.py: its own venv .venv-odoo, PostgreSQL, Chromium),
##            then the same addon on a prefork server (tests_odoo/prefork.py: --workers=2, concurrent users)
test-odoo: $(DEPS)
	@if [ -z "$$ODOO_SRC" ]; then echo "Odoo addon tests skipped: no ../shared/odoo/18.0; set ODOO_SRC to an Odoo 18 source tree to run them"; \
	elif [ ! -f odoo_addon/posbridge/__manifest__.py ]; then echo "Odoo addon tests skipped: no odoo_addon/posbridge/ yet"; \
	else $(PY) tests_odoo/run.py $(ODOO_TEST_ARGS) && $(PY) tests_odoo/prefork.py; fi

## wheelhouse: dist/ for offline installs (scripts/wheelhouse.py): posbridge's sdist, its cp310-abi3
##             manylinux_2_17 (manylinux2014) wheels for WHEELHOUSE_ARCHS built from that sdist with
##             maturin + zig, the projects in WHEELHOUSE_EXTRA (built with pip wheel), SHA256SUMS.
##             The x86_64 wheel: dist/posbridge-*-cp310-abi3-*manylinux_2_17_x86_64*.whl
WHEELHOUSE_ARCHS ?= x86_64 aarch64
WHEELHOUSE_EXTRA ?=
wheelhouse: $(DEPS)
	$(PY) scripts/wheelhouse.py --out dist --archs "$(WHEELHOUSE_ARCHS)" $(addprefix --extra ,$(WHEELHOUSE_EXTRA))

## check-wheels: scripts/check_wheels.py on the wheelhouse: tags, glibc symbols, NEEDED, pip's resolver,
##               fresh venvs of Python 3.10-3.13 running `posbridge demo`, a Debian 11 load, arm64 under qemu
check-wheels: wheelhouse
	$(PY) scripts/check_wheels.py dist --archs "$(WHEELHOUSE_ARCHS)"

## odoo-demo: Odoo with the addon and its demo data on http://127.0.0.1:8069, the sandbox on 8070
odoo-demo: $(DEPS)
	@if [ -z "$$ODOO_SRC" ]; then echo "make odoo-demo needs an Odoo 18 source tree: set ODOO_SRC (no ../shared/odoo/18.0 here)"; exit 2; fi
	$(PY) tests_odoo/demo.py $(ODOO_DEMO_ARGS)

## lint: clippy with panics denied, mypy --strict, stubtest
lint: build
	cargo clippy --all-targets --quiet -- -D warnings
	$(BIN)/mypy
	$(PY) -m mypy.stubtest posbridge._native

## fuzz: tests/fuzz_properties.rs (make test runs 256 cases each) with FUZZ_CASES cases per target,
##       optimised with overflow checks on (Cargo.toml's fuzz profile); prints count and time per target
FUZZ_CASES ?= 1000000
fuzz:
	PROPTEST_CASES=$(FUZZ_CASES) cargo test --profile fuzz --test fuzz_properties -- --nocapture --test-threads=1

## bench: release build, then posbridge against its pure-Python peers in the same run
bench: release
	$(PY) bench/bench.py
	$(PY) bench/bench_helcim.py
	@if [ -n "$$ODOO_SRC" ]; then $(PY) bench/bench_odoo.py; else echo "bench_odoo.py skipped: set ODOO_SRC to an Odoo 18 tree"; fi

clean:
	rm -rf $(VENV) target dist

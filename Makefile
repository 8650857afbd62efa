# posbridge: `make demo` and `make test` work on a fresh clone with Rust (>= 1.89) and Python (>= 3.10).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-installed
export VIRTUAL_ENV := $(abspath $(VENV))

# The Odoo trees for the addon's tests, one folder per series (override: make ODOO_TREES=DIR, or
# ODOO_SRC_19=DIR for one series). SERIES: the series to test or demo (default: the newest
# whose tree is here); the addon's series are its folders odoo_addon/<series>/.
ODOO_TREES ?= ../shared/odoo
export ODOO_TREES
SERIES ?=

.PHONY: all build release demo test test-rust test-python test-odoo test-odoo-all check-series odoo-demo odoo-screens odoo-pot lint fuzz bench clean wheelhouse check-wheels

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

## test: every test (Rust, Python, the wheelhouse's wheels, and the Odoo addon's on every series whose tree is here)
test: build check-series test-rust test-python check-wheels test-odoo-all

test-rust:
	cargo test --quiet

test-python: build
	$(PY) -m pytest -q tests

## test-odoo: the addon's tests on Odoo SERIES (tests_odoo/run.py: its own venv .venv-odoo/SERIES with the
##            wheelhouse's posbridge wheel, PostgreSQL, Chromium), then on a prefork server (tests_odoo/prefork.py)
test-odoo: wheelhouse
	$(PY) tests_odoo/every_series.py $(SERIES) --run-args "$(ODOO_TEST_ARGS)"

## wheelhouse: dist/ for offline installs (scripts/wheelhouse.py): posbridge's sdist, its cp310-abi3
##             manylinux_2_17 (manylinux2014) wheels for WHEELHOUSE_ARCHS built from that sdist with
##             maturin + zig, the addon's wheel of each series (WHEELHOUSE_EXTRA, pip wheel), SHA256SUMS.
##             The x86_64 wheel: dist/posbridge-*-cp310-abi3-*manylinux_2_17_x86_64*.whl
WHEELHOUSE_ARCHS ?= x86_64 aarch64
WHEELHOUSE_EXTRA ?= $(patsubst %/__manifest__.py,%,$(wildcard odoo_addon/[0-9]*.0/*/__manifest__.py))
wheelhouse: $(DEPS)
	$(PY) scripts/wheelhouse.py --out dist --archs "$(WHEELHOUSE_ARCHS)" $(addprefix --extra ,$(WHEELHOUSE_EXTRA))

## check-wheels: scripts/check_wheels.py on the wheelhouse: tags, glibc symbols, NEEDED, pip's resolver,
##               fresh venvs of Python 3.10-3.13 running `posbridge demo`, a Debian 11 load, arm64 under qemu
check-wheels: wheelhouse
	$(PY) scripts/check_wheels.py dist --archs "$(WHEELHOUSE_ARCHS)"

## test-odoo-all: the same on every series of the addon, one after another (a missing tree is skipped, said)
test-odoo-all: wheelhouse
	$(PY) tests_odoo/every_series.py --all --run-args "$(ODOO_TEST_ARGS)"

## check-series: every odoo_addon/<series>/ folder complete, nothing copied (odoo_addon/SERIES.md)
check-series:
	$(PYTHON) scripts/odoo_series.py check

## odoo-demo: Odoo SERIES with the addon and its demo data on http://127.0.0.1:8069, the sandbox on 8070
odoo-demo: wheelhouse
	$(PY) tests_odoo/demo.py $(if $(SERIES),--series $(SERIES)) $(ODOO_DEMO_ARGS)

## odoo-screens: screenshots of the addon's screens on Odoo SERIES (tests_odoo/logs/screens/SERIES/), to look at;
##        ODOO_SCREENS_ARGS="--pos" for the Point of Sale's, "--lang ar_001" in Arabic
odoo-screens: wheelhouse
	$(PY) tests_odoo/screens.py $(if $(SERIES),--series $(SERIES)) $(ODOO_SCREENS_ARGS)

## odoo-pot: i18n/posbridge.pot of odoo_addon/SERIES exported by that series' Odoo; checks ar.po covers it
odoo-pot: wheelhouse
	$(PY) tests_odoo/i18n.py $(if $(SERIES),--series $(SERIES))

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

## bench: release build, then posbridge against its pure-Python peers in the same run; the addon on a
##        prefork Odoo of every series whose tree is here (bench/bench_odoo.py), against Odoo's payment_demo;
##        the Point of Sale's terminal flow on each (bench/bench_pos.py)
bench: release wheelhouse
	$(PY) bench/bench.py
	$(PY) bench/bench_helcim.py
	for series in $(or $(SERIES),$$($(PY) tests_odoo/every_series.py --list)); do \
		$(PY) bench/bench_odoo.py --series $$series || exit 1; \
		$(PY) bench/bench_pos.py --series $$series || exit 1; done

clean:
	rm -rf $(VENV) target dist

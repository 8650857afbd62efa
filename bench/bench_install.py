#!/usr/bin/env python3
"""Install size, `import posbridge` time and memory of the portable wheel, against the locally
built one, in the same run.

    python bench/bench_install.py                      # dist/'s x86_64 manylinux wheel vs a fresh
                                                       # `maturin build --release` wheel
    python bench/bench_install.py --local WHEEL        # compare with a wheel already built
    python bench/bench_install.py --codec              # also bench/bench.py in each venv (minutes;
                                                       # installs requests and cryptography there)

Each wheel goes into its own fresh virtualenv (`pip install --no-index --no-deps`). Measured:
the wheel's size, the installed size (the files its RECORD lists) and the extension's size;
`import posbridge, posbridge.hesabe` in a fresh process (the statement bench/bench.py measures
memory with): wall time and the VmRSS increase over it, medians of --repeats processes, the two
wheels interleaved, after one untimed warm-up each. Results: bench/results_install.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PROBE = """
import sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss()
t = time.perf_counter()
import posbridge, posbridge.hesabe
dt = time.perf_counter() - t
print(dt, rss() - before, posbridge.__file__)
"""


def run(cmd: list[str], **kw: object) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if r.returncode != 0:
        sys.exit(f"bench_install: {' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return str(r.stdout)


def base_python() -> str:
    return getattr(sys, "_base_executable", sys.executable)


def find_portable() -> Path:
    found = sorted((ROOT / "dist").glob("posbridge-*-cp310-abi3-*manylinux_2_17_x86_64*.whl"))
    if len(found) != 1:
        sys.exit(f"bench_install: expected one x86_64 manylinux wheel in dist/ (make wheelhouse), found {found}")
    return found[0]


def build_local(out: Path) -> Path:
    maturin = Path(sys.executable).parent / "maturin"
    print("bench_install: maturin build --release (the locally built wheel) ...", flush=True)
    t = time.monotonic()
    run([str(maturin if maturin.exists() else "maturin"), "build", "--release", "--quiet", "--out", str(out)], cwd=ROOT)
    print(f"bench_install: built in {time.monotonic() - t:.0f} s", flush=True)
    wheels = sorted(out.glob("posbridge-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"bench_install: expected one wheel in {out}, found {wheels}")
    return wheels[0]


class Installed:
    def __init__(self, label: str, wheel: Path, tmp: Path, python: str) -> None:
        self.label, self.wheel = label, wheel
        self.venv = tmp / f"venv-{label}"
        run([python, "-m", "venv", str(self.venv)])
        self.python = str(self.venv / "bin" / "python")
        run([self.python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        files = json.loads(run([self.python, "-c",
            "import json, importlib.metadata as m; d = m.distribution('posbridge');"
            "print(json.dumps([str(d.locate_file(f)) for f in d.files]))"]))
        self.installed_bytes = sum(Path(f).stat().st_size for f in files if Path(f).is_file())
        self.so_bytes = sum(Path(f).stat().st_size for f in files if f.endswith(".so"))
        self.times: list[float] = []
        self.rss_kb: list[int] = []

    def probe(self, record: bool = True) -> None:
        out = run([self.python, "-c", PROBE], cwd=tempfile.gettempdir()).split()
        if not Path(out[2]).is_relative_to(self.venv):
            sys.exit(f"bench_install: {self.label} imported {out[2]}, not its venv's posbridge")
        if record:
            self.times.append(float(out[0]))
            self.rss_kb.append(int(out[1]))

    def summary(self) -> dict[str, object]:
        return {
            "wheel": self.wheel.name,
            "wheel_mb": self.wheel.stat().st_size / 1e6,
            "installed_mb": self.installed_bytes / 1e6,
            "extension_mb": self.so_bytes / 1e6,
            "import_ms_median": statistics.median(self.times) * 1e3,
            "import_ms_runs": [t * 1e3 for t in self.times],
            "import_rss_mb_median": statistics.median(self.rss_kb) / 1024,
            "import_rss_mb_runs": [k / 1024 for k in self.rss_kb],
        }


def codec_bench(inst: Installed, tmp: Path) -> list[dict[str, object]]:
    run([inst.python, "-m", "pip", "install", "--quiet", "requests>=2.31", "cryptography>=42"])
    out = tmp / f"bench-{inst.label}.json"
    print(f"bench_install: bench/bench.py with the {inst.label} wheel ...", flush=True)
    run([inst.python, str(HERE / "bench.py"), "--json", str(out)], cwd=tempfile.gettempdir())
    return list(json.loads(out.read_text())["table"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--portable", type=Path, help="the manylinux wheel (default: dist/'s x86_64 one)")
    ap.add_argument("--local", type=Path, help="a locally built wheel (default: build one now)")
    ap.add_argument("--python", default=base_python(), help="the Python the venvs are made from")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--codec", action="store_true", help="also run bench/bench.py in both venvs")
    ap.add_argument("--json", default=str(HERE / "results_install.json"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-install-") as t:
        tmp = Path(t)
        portable = args.portable or find_portable()
        local = args.local or build_local(tmp / "local")
        envs = [Installed("portable", portable, tmp, args.python), Installed("local", local, tmp, args.python)]
        for e in envs:
            e.probe(record=False)  # page cache, .pyc files
        for _ in range(args.repeats):
            for e in envs:
                e.probe()
        result: dict[str, object] = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": run([args.python, "-c", "import sys; print(sys.version.split()[0])"]).strip(),
            "machine": platform.machine(), "cpus": os.cpu_count(), "repeats": args.repeats,
            "statement": "import posbridge, posbridge.hesabe",
        }
        for e in envs:
            result[e.label] = e.summary()
        if args.codec:
            tables = {e.label: codec_bench(e, tmp) for e in envs}
            result["bench_py"] = tables

    p, lo = result["portable"], result["local"]
    assert isinstance(p, dict) and isinstance(lo, dict)
    print(f"\nPython {result['python']}, {args.repeats} fresh processes each, medians")
    print("| | portable (manylinux_2_17, zig) | local (`maturin build --release`) |")
    print("|---|---:|---:|")
    print(f"| wheel | {p['wheel_mb']:.2f} MB | {lo['wheel_mb']:.2f} MB |")
    print(f"| installed | {p['installed_mb']:.2f} MB | {lo['installed_mb']:.2f} MB |")
    print(f"| of which the extension | {p['extension_mb']:.2f} MB | {lo['extension_mb']:.2f} MB |")
    print(f"| `import posbridge, posbridge.hesabe` | {p['import_ms_median']:.1f} ms | {lo['import_ms_median']:.1f} ms |")
    print(f"| RSS increase over that import | {p['import_rss_mb_median']:.1f} MB | {lo['import_rss_mb_median']:.1f} MB |")
    if "bench_py" in result:
        bench_tables = result["bench_py"]
        assert isinstance(bench_tables, dict)
        print("\n| bench/bench.py metric | portable: posbridge / peer / ratio | local: posbridge / peer / ratio |")
        print("|---|---:|---:|")
        for rp, rl in zip(bench_tables["portable"], bench_tables["local"]):
            def cell(r: dict[str, object]) -> str:
                return f"{r['posbridge']:.3g} / {r['peer']:.3g} / {r['ratio']:.2f}×"
            print(f"| {rp['metric']} | {cell(rp)} | {cell(rl)} |")
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nbench_install: wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""make wheelhouse: everything an offline Odoo server needs, in one folder (default dist/).

    dist/posbridge-X.Y.Z.tar.gz                                        the sdist (`maturin sdist`)
    dist/posbridge-X.Y.Z-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    dist/posbridge-X.Y.Z-cp310-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl
    dist/<extra wheels>                                                see EXTRA WHEELS below
    dist/SHA256SUMS                                                    over every other file in dist/

The wheels are built from the sdist, unpacked (as pip and the PyPA build tools do), so a file
missing from the sdist breaks `make wheelhouse` here instead of `pip install posbridge-*.tar.gz`
on a user's machine. They are built by maturin with zig as linker and C compiler for glibc 2.17
(`--zig --compatibility manylinux2014`), with CC/CXX/HOST_CC/HOST_CXX/CFLAGS/CXXFLAGS/RUSTFLAGS
removed from the environment: aws-lc-sys prefers CC over zig when host == target and would pull
in the build machine's glibc symbols, and RUSTFLAGS could carry a -C target-cpu that drops the
run-time CPU detection of the codec. cargo's output goes to target/<triple>/release, so a second
run only recompiles what changed (the unpacked sources keep their dates when their bytes did not
change). scripts/check_wheels.py checks the result (make test runs both).

A target whose Rust standard library cannot be installed (`rustup target add`) is an error, not
a silent skip: build a smaller wheelhouse on purpose with `--archs x86_64` (make
WHEELHOUSE_ARCHS=x86_64).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
TRIPLES = {"x86_64": "x86_64-unknown-linux-gnu", "aarch64": "aarch64-unknown-linux-gnu"}
# Variables that would make the C parts (aws-lc) or rustc bypass zig's glibc 2.17 target
NOT_INHERITED = ("CC", "CXX", "HOST_CC", "HOST_CXX", "CFLAGS", "CXXFLAGS", "HOST_CFLAGS",
                 "HOST_CXXFLAGS", "LDFLAGS", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS",
                 "CARGO_BUILD_RUSTFLAGS", "CARGO_BUILD_TARGET")


def say(msg: str) -> None:
    print(f"wheelhouse: {msg}", flush=True)


def die(msg: str) -> NoReturn:
    bar = "!" * 78
    print(f"{bar}\nwheelhouse: FAILED: {msg}\n{bar}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd: list[str], **kw: object) -> None:
    say("$ " + " ".join(cmd))
    if subprocess.run(cmd, **kw).returncode != 0:  # type: ignore[call-overload]
        die(f"command failed: {' '.join(cmd)}")


def build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    # maturin finds zig as `python -m ziglang` of the first python on PATH: the venv's
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CARGO_TARGET_DIR"] = str(ROOT / "target")
    return env


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        die(f"{name} not found (make installs it into .venv from requirements-dev.txt)")
    return found


def ensure_rust_target(triple: str) -> None:
    """`rustup target add` (a no-op when installed); an error when it cannot be fetched."""
    out = subprocess.run(["rustc", "--print", "target-libdir", "--target", triple],
                         capture_output=True, text=True)
    if out.returncode == 0 and Path(out.stdout.strip()).is_dir() and any(Path(out.stdout.strip()).glob("libstd-*")):
        return
    if not shutil.which("rustup"):
        die(f"the Rust standard library for {triple} is not installed and there is no rustup to add it;"
            f" install it, or build without that architecture (make WHEELHOUSE_ARCHS=x86_64)")
    r = subprocess.run(["rustup", "target", "add", triple], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"`rustup target add {triple}` failed, so no wheel for it can be built:\n{r.stderr.strip()}\n"
            f"Build without it on purpose with make WHEELHOUSE_ARCHS=x86_64 (CI needs both).")
    say(f"rustup target add {triple}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'ok'}")


def unpack_sdist(sdist: Path, dest: Path) -> Path:
    """Unpack the sdist into dest; files whose bytes did not change keep their date, so cargo
    rebuilds only what changed (every file's date is new otherwise, and the crate and its fat
    LTO would be rebuilt on each run)."""
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        top = members[0].name.split("/", 1)[0]
        wanted: set[Path] = set()
        for m in members:
            if not m.name.startswith(top + "/") or ".." in Path(m.name).parts:
                die(f"unexpected path in {sdist.name}: {m.name}")
            rel = Path(m.name).relative_to(top)
            wanted.add(rel)
            target = dest / rel
            data = tar.extractfile(m).read()  # type: ignore[union-attr]
            if target.is_file() and target.read_bytes() == data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o755 if m.mode & 0o100 else 0o644)
    for p in sorted(dest.rglob("*"), reverse=True):  # files no longer in the sdist
        if p.is_file() and p.relative_to(dest) not in wanted:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    return dest


def sha256sums(out: Path) -> None:
    lines = []
    for f in sorted(p for p in out.iterdir() if p.is_file() and p.name != "SHA256SUMS"):
        h = hashlib.sha256(f.read_bytes()).hexdigest()
        lines.append(f"{h}  {f.name}\n")
    (out / "SHA256SUMS").write_text("".join(lines))
    say(f"SHA256SUMS over {len(lines)} files")


# ---------------------------------------------------------------------------------------------
# EXTRA WHEELS: other distributions built into the same wheelhouse, after posbridge's wheels and
# before SHA256SUMS. Each `--extra PATH` (make WHEELHOUSE_EXTRA="path ...") is a project that pip
# can build (odoo_addon/<series>/posbridge for odoo-addon-posbridge, once per Odoo series); its wheel
# goes into dist/ with `pip wheel --no-deps`. Projects that need more than `pip wheel` (another
# environment variable, a post-version strategy) get their own function here, called from
# build_extra_wheels().
# ---------------------------------------------------------------------------------------------
def build_extra_wheels(out: Path, extras: list[str]) -> None:
    for path in extras:
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), path])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "dist"), help="the wheelhouse folder (emptied first)")
    ap.add_argument("--archs", default="x86_64 aarch64", help="space-separated: x86_64 aarch64")
    ap.add_argument("--compatibility", default="manylinux2014",
                    help="maturin --compatibility (manylinux2014 = manylinux_2_17; never newer than manylinux_2_28)")
    ap.add_argument("--extra", action="append", default=[], metavar="PATH",
                    help="another project to build into the wheelhouse with pip wheel (repeatable)")
    args = ap.parse_args()

    archs = args.archs.split()
    unknown = [a for a in archs if a not in TRIPLES]
    if unknown or not archs:
        die(f"unknown architecture(s) {unknown}; known: {' '.join(TRIPLES)}")
    out = Path(args.out).resolve()
    maturin = tool("maturin")
    env = build_env()
    if subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True).returncode != 0:
        die("zig not found: `pip install ziglang==0.15.2` (requirements-dev.txt) into the build venv")
    for arch in archs:
        ensure_rust_target(TRIPLES[arch])

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    timings: dict[str, float] = {}

    t = time.monotonic()
    run([maturin, "sdist", "--manifest-path", str(ROOT / "Cargo.toml"), "--out", str(out)], env=env)
    sdists = sorted(out.glob("posbridge-*.tar.gz"))
    if len(sdists) != 1:
        die(f"expected one sdist in {out}, found {[p.name for p in sdists]}")
    src = unpack_sdist(sdists[0], ROOT / "target" / "wheelhouse" / "sdist-src")
    timings["sdist"] = time.monotonic() - t

    for arch in archs:
        t = time.monotonic()
        run([maturin, "build", "--release", "--locked", "--zig", "--compatibility", args.compatibility,
             "--target", TRIPLES[arch], "--manifest-path", str(src / "Cargo.toml"), "--out", str(out)],
            env=env)
        timings[f"wheel {arch}"] = time.monotonic() - t
        say(f"{arch} wheel built in {timings[f'wheel {arch}']:.0f} s")

    if args.extra:
        t = time.monotonic()
        build_extra_wheels(out, args.extra)
        timings["extra wheels"] = time.monotonic() - t

    sha256sums(out)
    (ROOT / "target" / "wheelhouse" / "timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    for f in sorted(out.iterdir()):
        say(f"  {f.stat().st_size / 1e6:7.2f} MB  {f.name}")
    say("done: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check the wheelhouse `make wheelhouse` built (default dist/): are the posbridge wheels really
portable, and does what is in dist/ install and run where it claims to?

Checks (each prints PASS or FAIL with what it saw; the exit code is 1 if any failed):

  dist        one sdist, one wheel per architecture asked for, SHA256SUMS complete and right
  sdist       only what building needs (no tests, bench, Odoo addon, tests_odoo, .ci, scripts),
              LICENSE, Cargo.lock, version = Cargo.toml's
  tag         file name `posbridge-V-cp310-abi3-manylinux_2_NN_ARCH...`, the tag asked for
              (--expect-glibc), never newer than manylinux_2_28; WHEEL's Tag lines say the same
  metadata    version = Cargo.toml's = the sdist's; License-Expression MIT; LICENSE in
              .dist-info/licenses, byte-identical to the repository's; RECORD's hashes right
  elf         readelf -h of the extension: ELF64, machine = the wheel's architecture; the stack
              is not executable (readelf -l, GNU_STACK)
  glibc       readelf -V (the version needs of .gnu.version_r): highest GLIBC_x.y <= the tag's
              glibc; GCC_ etc. within the manylinux policy; objdump -T names the symbols that
              need the highest version
  needed      readelf -d NEEDED entries all on the manylinux (PEP 599/600) allow-list
  cpu         x86_64: AES-NI instructions present (the codec's fast path is compiled in); then
              the codec runs on a baseline x86-64 CPU under qemu-x86_64 -cpu qemu64 (no AES-NI,
              no AVX): the fast path is chosen at run time, not assumed at build time
  resolver    pip install --dry-run --no-index --find-links dist --only-binary :all:
              --platform manylinux_2_31_ARCH for Python 3.10 and 3.12 picks this wheel; and, as
              a control, finds nothing for manylinux_2_16_ARCH (the tag is honest)
  auditwheel  `auditwheel show`: a second opinion on the policy the wheel meets
  venv-3.x    x86_64: fresh virtualenv of each pyenv Python (3.10-3.13), installed offline from
              dist/, run from outside the source tree with no Rust on PATH: version equal to the
              wheel's, `posbridge demo` against the embedded sandbox
  debian11    x86_64: the extension loaded by Debian 11's (glibc 2.31) python3 with RTLD_NOW in
              a chroot made by debootstrap (cached), and `ldd -r` there: no missing version
  qemu-arm64  aarch64: the wheel imported and `posbridge demo` run by Debian 12 arm64's
              python3.11 under qemu-aarch64-static in a chroot (no binfmt needed)

A check that cannot run here (no debootstrap, no pyenv Python 3.13, ...) FAILS, saying why. To
leave some out on purpose, name them: --skip debian11,qemu-arm64 (or CHECK_WHEELS_SKIP=...);
with CI=true a skip, or a wheelhouse without one of the two
architectures (make WHEELHOUSE_ARCHS=x86_64), is refused. Roots made by debootstrap are cached in --roots
(default /var/cache/posbridge/roots, POSBRIDGE_ROOTS) and take under a minute each the first time.
"""

from __future__ import annotations

import argparse
import ast
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The sdist must hold what building needs and nothing of these
SDIST_FORBIDDEN = ("odoo_addon/", "tests_odoo/", ".ci/", "scripts/", "bench/", "tests/", ".venv", "target/")
SDIST_REQUIRED = ("Cargo.toml", "Cargo.lock", "pyproject.toml", "LICENSE", "README.md", "PKG-INFO",
                  "src/lib.rs", "python/posbridge/__init__.py")

# PEP 599 (manylinux2014) / PEP 600 allow-list of shared libraries, plus the dynamic loader
ALLOWED_NEEDED = {
    "libgcc_s.so.1", "libstdc++.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libc.so.6",
    "libnsl.so.1", "libutil.so.1", "libpthread.so.0", "libresolv.so.2", "libX11.so.6",
    "libXext.so.6", "libXrender.so.1", "libICE.so.6", "libSM.so.6", "libGL.so.1",
    "libgobject-2.0.so.0", "libgthread-2.0.so.0", "libglib-2.0.so.0",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
}
# Highest version per symbol-version namespace besides GLIBC (auditwheel's policy for each tag)
OTHER_VERSION_LIMITS = {
    ("2.17", "x86_64"): {"GCC": "4.8.0", "GLIBCXX": "3.4.19", "CXXABI": "1.3.7"},
    ("2.17", "aarch64"): {"GCC": "4.7.0", "GLIBCXX": "3.4.19", "CXXABI": "1.3.7"},
    ("2.28", "x86_64"): {"GCC": "7.0.0", "GLIBCXX": "3.4.24", "CXXABI": "1.3.11"},
    ("2.28", "aarch64"): {"GCC": "7.0.0", "GLIBCXX": "3.4.24", "CXXABI": "1.3.11"},
}
ELF_MACHINE = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}
DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
WHEEL_RE = re.compile(r"^posbridge-(?P<version>[^-]+)-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$")
PLAT_RE = re.compile(r"^manylinux_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>x86_64|aarch64)$|^manylinux2014_(?P<arch14>x86_64|aarch64)$")
ALL_CHECKS = ("dist", "sdist", "addon", "tag", "metadata", "elf", "glibc", "needed", "cpu", "resolver",
              "auditwheel", "venv", "debian11", "qemu-arm64")


def vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v))


def sh(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload, no-any-return]


class CheckFailed(Exception):
    pass


def need(cond: object, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)


def need_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise CheckFailed(f"{name} not found here ({hint}): this check cannot run")
    return path


@dataclass
class Result:
    name: str
    subject: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Wheel:
    path: Path
    version: str
    arch: str
    glibc: str  # of the tag, e.g. "2.17"
    tags: list[str]
    so_name: str = ""
    so_bytes: bytes = b""
    workdir: Path = field(default_factory=Path)

    @property
    def so(self) -> Path:
        return self.workdir / "_native.abi3.so"


class Checker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dist = Path(args.dist).resolve()
        self.results: list[Result] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="check-wheels-"))
        self.cargo_version = re.search(r'(?m)^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text()).group(1)  # type: ignore[union-attr]
        self.wheels: list[Wheel] = []

    # -- reporting -----------------------------------------------------------------------------
    def check(self, name: str, subject: str, fn: Callable[[], str]) -> bool:
        base = name.split("-")[0] if name.startswith("venv-") else name
        if base in self.args.skip:
            self.results.append(Result(name, subject, True, "SKIPPED on request (--skip)", 0.0))
            print(f"SKIP  {name:<11} {subject}: skipped on request", flush=True)
            return True
        t = time.monotonic()
        try:
            detail, ok = fn(), True
        except CheckFailed as e:
            detail, ok = str(e), False
        except Exception as e:  # a bug or an unexpected tool output is a failure too
            detail, ok = f"{type(e).__name__}: {e}", False
        dt = time.monotonic() - t
        self.results.append(Result(name, subject, ok, detail, dt))
        print(f"{'PASS' if ok else 'FAIL'}  {name:<11} {subject}: {detail}  ({dt:.1f} s)", flush=True)
        return ok

    def report(self) -> int:
        failed = [r for r in self.results if not r.ok]
        skipped = [r for r in self.results if r.detail.startswith("SKIPPED")]
        total = sum(r.seconds for r in self.results)
        print("\n" + "=" * 78)
        summary = f"check_wheels: {len(self.results) - len(failed) - len(skipped)} passed, {len(failed)} failed"
        print(summary + (f", {len(skipped)} skipped" if skipped else ""))
        for r in failed:
            print(f"  FAILED {r.name} ({r.subject}): {r.detail}")
        if skipped:
            print(f"  NOT CHECKED (skipped on request): {', '.join(sorted({r.name for r in skipped}))}")
        print(f"  time in checks: {total:.0f} s")
        if self.args.json:
            Path(self.args.json).write_text(json.dumps([r.__dict__ for r in self.results], indent=1) + "\n")
        return 1 if failed else 0

    # -- dist/ and the sdist ---------------------------------------------------------------------
    def check_dist(self) -> str:
        files = sorted(p.name for p in self.dist.iterdir() if p.is_file())
        need(files, f"{self.dist} is empty: run make wheelhouse")
        sdists = [f for f in files if f.startswith("posbridge-") and f.endswith(".tar.gz")]
        need(len(sdists) == 1, f"expected one posbridge sdist, found {sdists}")
        for f in files:
            if f.startswith("posbridge-") and f.endswith(".whl"):
                self.wheels.append(self.parse_wheel_name(self.dist / f))
        for arch in self.args.archs:
            have = [w.path.name for w in self.wheels if w.arch == arch]
            need(len(have) == 1, f"expected one posbridge wheel for {arch}, found {have or 'none'}")
        extra = [w.path.name for w in self.wheels if w.arch not in self.args.archs]
        need(not extra, f"wheels for architectures not asked for: {extra}")
        sums = self.dist / "SHA256SUMS"
        need(sums.is_file(), "no SHA256SUMS")
        listed: dict[str, str] = {}
        for line in sums.read_text().splitlines():
            digest, _, name = line.partition("  ")
            need(re.fullmatch(r"[0-9a-f]{64}", digest) and name, f"malformed SHA256SUMS line: {line!r}")
            listed[name] = digest
        expected = sorted((p.parent.name, p.parent.parent.name)
                          for p in (ROOT / "odoo_addon").glob("[0-9]*.0/*/__manifest__.py"))
        addons = [f for f in files if f.startswith("odoo_addon_")]
        for addon, series in expected:
            have = [f for f in addons if f.startswith(f"odoo_addon_{addon}-{series}.")]
            need(len(have) == 1, f"expected one odoo-addon-{addon} wheel for Odoo {series}, found {have or 'none'}")
        need(len(addons) == len(expected), f"addon wheels {addons} for {expected}")
        others = [f for f in files if f != "SHA256SUMS"]
        need(sorted(listed) == others, f"SHA256SUMS lists {sorted(listed)}, dist/ has {others}")
        for name, digest in listed.items():
            need(hashlib.sha256((self.dist / name).read_bytes()).hexdigest() == digest, f"{name}: wrong SHA-256")
        return f"{len(others)} files, SHA256SUMS matches: {', '.join(others)}"

    def parse_wheel_name(self, path: Path) -> Wheel:
        m = WHEEL_RE.match(path.name)
        need(m, f"not a wheel file name: {path.name}")
        assert m
        tags = m["plat"].split(".")
        arch, glibcs = "", set()
        for t in tags:
            pm = PLAT_RE.match(t)
            need(pm, f"{path.name}: platform tag {t!r} is not manylinux (a linux_* wheel installs anywhere and breaks on old glibc)")
            assert pm
            a = pm["arch"] or pm["arch14"]
            need(arch in ("", a), f"{path.name}: tags name two architectures")
            arch = a
            glibcs.add("2.17" if pm["arch14"] else f"{pm['major']}.{pm['minor']}")
        need(len(glibcs) == 1, f"{path.name}: tags disagree on the glibc ({sorted(glibcs)})")
        return Wheel(path, m["version"], arch, glibcs.pop(), [f"{m['python']}-{m['abi']}-{t}" for t in tags])

    def check_sdist(self) -> str:
        sdist = next(self.dist.glob("posbridge-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            names = [m.name for m in tar.getmembers() if m.isfile()]
            top = f"posbridge-{self.cargo_version}/"
            need(all(n.startswith(top) for n in names), f"entries outside {top}: {[n for n in names if not n.startswith(top)][:3]}")
            rel = [n[len(top):] for n in names]
            bad = [n for n in rel if n.startswith(SDIST_FORBIDDEN) or n.endswith((".so", ".whl"))]
            need(not bad, f"{sdist.name} carries what building does not need: {bad[:8]}{' ...' if len(bad) > 8 else ''}")
            missing = [n for n in SDIST_REQUIRED if n not in rel]
            need(not missing, f"{sdist.name} lacks {missing}")
            pkg = tar.extractfile(top + "PKG-INFO").read().decode()  # type: ignore[union-attr]
            lic = tar.extractfile(top + "LICENSE").read()  # type: ignore[union-attr]
        need(re.search(rf"(?m)^Version: {re.escape(self.cargo_version)}$", pkg), f"PKG-INFO's version is not {self.cargo_version}")
        need(re.search(r"(?m)^License-Expression: MIT$", pkg), "PKG-INFO has no License-Expression: MIT")
        need(lic == (ROOT / "LICENSE").read_bytes(), "the sdist's LICENSE differs from the repository's")
        tops = sorted({n.split("/")[0] for n in rel})
        return f"{sdist.name}: {len(rel)} files ({', '.join(tops)}), version {self.cargo_version}, MIT LICENSE"

    def check_addon(self, path: Path) -> str:
        """An addon's wheel (odoo-addon-posbridge, odoo-addon-pos_posbridge): the manifest's
        version, odoo==<series>.*, a posbridge pin with an upper bound that this wheelhouse's
        posbridge satisfies, the LGPL-3 LICENSE, and every file of the series folder, symlinks as
        their content."""
        addon, version = path.name[len("odoo_addon_"):].split("-")[:2]
        series = ".".join(version.split(".")[:2])
        folder = ROOT / "odoo_addon" / series / addon
        manifest = ast.literal_eval((folder / "__manifest__.py").read_text())
        need(version == manifest["version"], f"version {version}, the {series} manifest says {manifest['version']}")
        prefix = f"odoo/addons/{addon}/"
        with zipfile.ZipFile(path) as z:
            meta = z.read(f"odoo_addon_{addon}-{version}.dist-info/METADATA").decode()
            contents = {n[len(prefix):]: z.read(n) for n in z.namelist() if n.startswith(prefix)}
        requires = re.findall(r"(?m)^Requires-Dist: (.+)$", meta)
        need(f"odoo=={series}.*" in requires, f"Requires-Dist {requires} lacks odoo=={series}.*")
        pin = next((r for r in requires if re.match(r"posbridge\b", r)), "")
        bounds = dict(re.findall(r"(>=|<)\s*([\d.]+)", pin))
        need(">=" in bounds and "<" in bounds, f"posbridge must be pinned with both bounds: {pin!r}")
        need(vkey(bounds[">="]) <= vkey(self.cargo_version) < vkey(bounds["<"]),
             f"{pin!r} excludes this wheelhouse's posbridge {self.cargo_version}")
        tracked = subprocess.run(["git", "ls-files"], cwd=folder, capture_output=True, text=True, check=True).stdout.split()
        missing = [f for f in tracked if f != "pyproject.toml" and f not in contents]
        need(not missing, f"lacks {missing[:5]}")
        differ = [f for f in tracked if f in contents and contents[f] != (folder / f).read_bytes()]
        need(not differ, f"differs from odoo_addon/{series}/posbridge (a symlink not followed?): {differ[:5]}")
        need(contents.get("LICENSE", b"").find(b"GNU LESSER GENERAL PUBLIC LICENSE") >= 0, "no LGPL-3 LICENSE")
        return f"Odoo {series}, version {version}, requires {', '.join(requires)}; {len(contents)} files, LGPL-3 LICENSE"

    # -- one wheel -------------------------------------------------------------------------------
    def check_tag(self, w: Wheel) -> str:
        need(w.tags[0].startswith("cp310-abi3-"), f"not a cp310-abi3 wheel: {w.tags}")
        need(vkey(w.glibc) <= vkey(self.args.max_glibc), f"tagged for glibc {w.glibc}, newer than manylinux_{self.args.max_glibc.replace('.', '_')}")
        need(w.glibc == self.args.expect_glibc,
             f"tagged manylinux for glibc {w.glibc}, but the wheelhouse is to be manylinux for glibc {self.args.expect_glibc}")
        with zipfile.ZipFile(w.path) as z:
            wheel_txt = z.read(f"posbridge-{w.version}.dist-info/WHEEL").decode()
        inner = sorted(re.findall(r"(?m)^Tag: (\S+)$", wheel_txt))
        need(inner == sorted(w.tags), f"WHEEL says {inner}, the file name {sorted(w.tags)}")
        need(re.search(r"(?m)^Root-Is-Purelib: false$", wheel_txt), "WHEEL: Root-Is-Purelib is not false")
        return f"{' + '.join(t.split('-')[2] for t in w.tags)} (cp310-abi3), WHEEL agrees"

    def check_metadata(self, w: Wheel) -> str:
        di = f"posbridge-{w.version}.dist-info/"
        need(w.version == self.cargo_version, f"wheel version {w.version} != Cargo.toml's {self.cargo_version}")
        with zipfile.ZipFile(w.path) as z:
            meta = z.read(di + "METADATA").decode()
            need(re.search(rf"(?m)^Version: {re.escape(w.version)}$", meta), "METADATA's Version differs from the file name's")
            need(re.search(r"(?m)^License-Expression: MIT$", meta), "METADATA has no License-Expression: MIT")
            need(re.search(r"(?m)^License-File: LICENSE$", meta), "METADATA has no License-File: LICENSE")
            names = z.namelist()
            need(di + "licenses/LICENSE" in names, f"no {di}licenses/LICENSE in the wheel")
            need(z.read(di + "licenses/LICENSE") == (ROOT / "LICENSE").read_bytes(), "the wheel's LICENSE differs from the repository's")
            sos = [n for n in names if n.startswith("posbridge/_native") and n.endswith(".so")]
            need(sos == ["posbridge/_native.abi3.so"], f"expected posbridge/_native.abi3.so, found {sos}")
            record = list(csv.reader(io.StringIO(z.read(di + "RECORD").decode())))
            recorded = {row[0] for row in record}
            need(recorded == set(names), f"RECORD and the zip disagree: {sorted(recorded ^ set(names))[:5]}")
            for name, digest, _size in record:
                if not digest:
                    need(name == di + "RECORD", f"{name} has no hash in RECORD")
                    continue
                algo, _, want = digest.partition("=")
                got = base64.urlsafe_b64encode(hashlib.new(algo, z.read(name)).digest()).rstrip(b"=").decode()
                need(got == want, f"RECORD hash mismatch for {name}")
            w.so_bytes = z.read(sos[0])
        w.workdir = self.tmp / w.path.stem
        w.workdir.mkdir(parents=True, exist_ok=True)
        w.so.write_bytes(w.so_bytes)
        return f"version {w.version} = Cargo.toml's; License-Expression MIT; licenses/LICENSE; RECORD verified ({len(names)} files)"

    def check_elf(self, w: Wheel) -> str:
        need_tool("readelf", "binutils")
        h = sh(["readelf", "-h", str(w.so)]).stdout
        machine = re.search(r"Machine:\s+(.+)", h)
        need(re.search(r"Class:\s+ELF64", h), "not ELF64")
        need(machine and machine[1].strip() == ELF_MACHINE[w.arch], f"readelf -h says Machine: {machine[1].strip() if machine else '?'}, the tag says {w.arch}")
        assert machine
        stack = re.search(r"GNU_STACK(?:\s+\S+){5}\s+(\S+)", sh(["readelf", "-lW", str(w.so)]).stdout)
        need(stack and "E" not in stack[1], f"GNU_STACK flags {stack[1] if stack else 'missing'}: executable stack")
        return f"ELF64, Machine: {machine[1].strip()}, non-executable stack, {len(w.so_bytes) / 1e6:.1f} MB"

    def version_needs(self, so: Path) -> dict[str, list[str]]:
        """{file: [versions]} from .gnu.version_r (what the dynamic loader will demand)."""
        out = sh(["readelf", "-V", "--wide", str(so)]).stdout
        section = out.split("Version needs section", 1)
        need(len(section) == 2, "readelf -V shows no version needs section: cannot tell the glibc versions")
        needs: dict[str, list[str]] = {}
        current = None
        for line in section[1].splitlines():
            f = re.search(r"File: (\S+)", line)
            if f:
                current = f[1]
                needs.setdefault(current, [])
                continue
            n = re.search(r"Name: (\S+)", line)
            if n and current:
                needs[current].append(n[1])
            elif line.strip() == "" and needs:
                break
        return needs

    def check_glibc(self, w: Wheel) -> str:
        need_tool("readelf", "binutils")
        need_tool("objdump", "binutils")
        needs = self.version_needs(w.so)
        glibc = sorted({v[6:] for vs in needs.values() for v in vs if v.startswith("GLIBC_") and v != "GLIBC_PRIVATE"}, key=vkey)
        need(glibc, "no GLIBC_ version needed at all: readelf output not understood")
        need(not any(v == "GLIBC_PRIVATE" for vs in needs.values() for v in vs), "needs GLIBC_PRIVATE")
        top = glibc[-1]
        # objdump -T: the undefined dynamic symbols and the version each is bound to
        syms: dict[str, list[str]] = {}
        for line in sh(["objdump", "-T", str(w.so)]).stdout.splitlines():
            m = re.search(r"\*UND\*\s+\S+\s+(?:\(?)(GLIBC_[0-9.]+)(?:\)?)\s+(\S+)", line)
            if m:
                syms.setdefault(m[1][6:], []).append(m[2])
        objdump_top = max(syms, key=vkey) if syms else "?"
        need(objdump_top == top, f"readelf -V says GLIBC_{top}, objdump -T says GLIBC_{objdump_top}")
        need(vkey(top) <= vkey(w.glibc),
             f"needs GLIBC_{top} ({', '.join(sorted(syms.get(top, []))[:8])}) but the tag promises glibc {w.glibc}")
        limits = OTHER_VERSION_LIMITS.get((w.glibc, w.arch))
        need(limits is not None, f"highest GLIBC_{top}; no manylinux policy table here for glibc {w.glibc} {w.arch}")
        assert limits is not None
        others = []
        for vs in needs.values():
            for v in vs:
                if v.startswith("GLIBC_"):
                    continue
                ns, _, ver = v.partition("_")
                need(ns in limits, f"needs {v}, a symbol version outside the manylinux policy")
                need(vkey(ver) <= vkey(limits[ns]), f"needs {v}, newer than the policy's {ns}_{limits[ns]}")
                others.append(v)
        return (f"highest GLIBC_{top} <= {w.glibc} (for: {', '.join(sorted(syms.get(top, []))[:6])}"
                f"{' ...' if len(syms.get(top, [])) > 6 else ''}); also {', '.join(sorted(set(others), key=vkey)) or 'nothing else'}")

    def check_needed(self, w: Wheel) -> str:
        need_tool("readelf", "binutils")
        out = sh(["readelf", "-d", str(w.so)]).stdout
        libs = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
        need(libs, "no NEEDED entries found: readelf output not understood")
        bad = [lib for lib in libs if lib not in ALLOWED_NEEDED]
        need(not bad, f"NEEDED outside the manylinux allow-list: {bad}")
        rpath = re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]+)\]", out)
        need(not rpath, f"RPATH/RUNPATH set: {rpath}")
        return f"NEEDED {', '.join(libs)}: all allowed"

    def check_cpu(self, w: Wheel) -> str:
        need_tool("objdump", "binutils")
        if w.arch == "x86_64":
            dis = sh(["objdump", "-d", "--no-show-raw-insn", str(w.so)]).stdout
            aesni = len(re.findall(r"\t(?:v?aesenc|v?aesenclast)\b", dis))
            vaes = len(re.findall(r"\tvaesenc\s+%[yz]mm", dis))
            need(aesni, "no AES-NI instruction in the extension: the codec would be software AES only")
            detail = f"{aesni} AES-NI encrypt instructions ({vaes} VAES)"
            if w.arch == os.uname().machine:
                qemu = need_tool("qemu-x86_64-static", "apt-get install qemu-user-static")
                script = (
                    "import posbridge._native as n, sys; from posbridge import hesabe;"
                    "c = hesabe.Codec('PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg', '5NVdrlPVNnjo2Jy9');"
                    "x = c.encrypt('{\"merchantCode\":\"842217\"}' * 40);"
                    "assert c.decrypt(x) == '{\"merchantCode\":\"842217\"}' * 40; print(x[:32])")
                site = self.unpack(w)
                env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
                py = self.pythons().get("3.10") or sys.executable
                native = sh([py, "-c", script], env=env, cwd=str(self.tmp))
                need(native.returncode == 0, f"the codec failed natively: {native.stderr.strip()[-400:]}")
                emu = sh([qemu, "-cpu", "qemu64", py, "-c", script], env=env, cwd=str(self.tmp), timeout=300)
                need(emu.returncode == 0, f"the codec failed on a baseline x86-64 CPU (qemu64, no AES-NI/AVX): "
                     f"{emu.stderr.strip()[-400:]}")
                need(emu.stdout == native.stdout, "baseline CPU and native CPU give different ciphertexts")
                detail += "; the codec runs on qemu64 (no AES-NI, no AVX) with the same ciphertext"
            return detail
        # The host's objdump may not know AArch64: read the instruction words of .text directly.
        # AESE Vd.16B, Vn.16B is 0x4E284800 | Rn << 5 | Rd (Arm ARM, C7.2.7)
        sec = re.search(r"\]\s+\.text\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", sh(["readelf", "-SW", str(w.so)]).stdout)
        need(sec, "no .text section found by readelf -S")
        assert sec
        off, size = int(sec[1], 16), int(sec[2], 16)
        text = w.so_bytes[off:off + size]
        words = memoryview(text[: len(text) // 4 * 4]).cast("I")
        aese = sum(1 for x in words if x & 0xFFFFFC00 == 0x4E284800)
        need(aese, "no ARMv8 AES instruction (AESE) in .text: the codec would be software AES only")
        return f"{aese} ARMv8 AESE instructions in .text (the aes crate's hardware path, chosen at run time)"

    @staticmethod
    def platforms(glibc_minor: int, arch: str) -> list[str]:
        """What pip on a glibc 2.<minor> machine accepts (packaging.tags): manylinux_2_<minor>
        down to 2_17 (2_5 on x86_64), with the legacy aliases. pip's --platform does not expand
        this by itself."""
        low = 5 if arch in ("x86_64", "i686") else 17
        out = []
        for minor in range(glibc_minor, low - 1, -1):
            out.append(f"manylinux_2_{minor}_{arch}")
            alias = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}.get(minor)
            if alias:
                out.append(f"{alias}_{arch}")
        return out or [f"manylinux_2_{glibc_minor}_{arch}"]

    def pip_dry_run(self, platforms: list[str], py: str, version: str, report: Path | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "pip", "--isolated", "install", "--quiet", "--dry-run", "--ignore-installed",
               "--no-deps", "--no-index", "--find-links", str(self.dist), "--only-binary", ":all:",
               "--python-version", py]
        for p in platforms:
            cmd += ["--platform", p]
        if report:
            cmd += ["--report", str(report)]
        return sh([*cmd, f"posbridge=={version}"])

    def check_resolver(self, w: Wheel) -> str:
        seen = []
        for py in ("3.10", "3.12"):
            report = self.tmp / f"report-{w.arch}-{py}.json"
            r = self.pip_dry_run(self.platforms(31, w.arch), py, w.version, report)
            need(r.returncode == 0, f"pip --platform manylinux_2_31_{w.arch} --python-version {py}: {r.stderr.strip()[-300:]}")
            chosen = [i["download_info"]["url"].rsplit("/", 1)[-1] for i in json.loads(report.read_text())["install"]]
            need(chosen == [w.path.name], f"Python {py} on manylinux_2_31_{w.arch} would install {chosen}, not {w.path.name}")
            seen.append(py)
        # control: a machine older than the tag must find nothing, or the tag does not mean anything
        r = self.pip_dry_run(self.platforms(16, w.arch), "3.12", w.version)
        need(r.returncode != 0 and "No matching distribution" in r.stderr,
             f"control failed: pip would install something on manylinux_2_16_{w.arch}: {r.stdout[-200:]}")
        return (f"pip picks it for Python {' and '.join(seen)} on manylinux_2_31_{w.arch}; "
                f"finds nothing on manylinux_2_16_{w.arch} (control)")

    def check_auditwheel(self, w: Wheel) -> str:
        aw = Path(sys.executable).parent / "auditwheel"
        if not aw.exists():
            aw = Path(need_tool("auditwheel", "pip install auditwheel (requirements-dev.txt)"))
        r = sh([str(aw), "show", str(w.path)])
        need(r.returncode == 0, f"auditwheel show failed: {(r.stderr or r.stdout).strip()[-300:]}")
        text = " ".join(r.stdout.split())
        m = re.search(r'consistent with the following platform tag: "manylinux_(\d+)_(\d+)_(\w+)"', text)
        need(m, f"auditwheel show said: {text[:300]}")
        assert m
        need(m[3] == w.arch, f"auditwheel sees {m[3]}, the tag says {w.arch}")
        need(vkey(f"{m[1]}.{m[2]}") <= vkey(w.glibc), f"auditwheel: consistent only with manylinux_{m[1]}_{m[2]}, newer than the tag")
        return f"consistent with manylinux_{m[1]}_{m[2]}_{m[3]}"

    # -- running it ------------------------------------------------------------------------------
    def unpack(self, w: Wheel) -> Path:
        site = w.workdir / "site"
        if not site.exists():
            with zipfile.ZipFile(w.path) as z:
                z.extractall(site)
        return site

    def pythons(self) -> dict[str, str]:
        """Python 3.10-3.13: POSBRIDGE_PYTHONS="3.10=/path ..." or pyenv's versions."""
        found: dict[str, str] = {}
        for item in os.environ.get("POSBRIDGE_PYTHONS", "").split():
            v, _, p = item.partition("=")
            found[v] = p
        pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
        for v in self.args.pythons:
            if v in found:
                continue
            cands = sorted((pyenv_root / "versions").glob(f"{v}.*/bin/python{v}"), key=lambda p: vkey(p.parent.parent.name))
            if cands:
                found[v] = str(cands[-1])
            elif shutil.which(f"python{v}"):
                found[v] = str(shutil.which(f"python{v}"))
        return found

    def clean_env(self, venv: Path) -> dict[str, str]:
        """A user's shell without Rust: PATH has the venv and the system's bin dirs, no cargo."""
        path = [str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
        env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TERM", "TMPDIR")}
        env.update(PATH=os.pathsep.join(path), PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        return env

    def check_venv(self, w: Wheel, version: str, python: str | None) -> str:
        need(python, f"no Python {version} here (pyenv install {version}, or POSBRIDGE_PYTHONS=\"{version}=/path/to/python\")")
        assert python
        venv = self.tmp / f"venv-{version}"
        r = sh([python, "-m", "venv", str(venv)])
        need(r.returncode == 0, f"python{version} -m venv failed: {r.stderr.strip()[-300:]}")
        env = self.clean_env(venv)
        need(shutil.which("cargo", path=env["PATH"]) is None and shutil.which("rustc", path=env["PATH"]) is None,
             "cargo/rustc still on PATH")
        report = venv / "pip-report.json"
        r = sh([str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(self.dist),
                "--only-binary", ":all:", "--report", str(report), "posbridge"], env=env, cwd=str(self.tmp))
        need(r.returncode == 0, f"pip install --no-index --find-links dist posbridge: {r.stderr.strip()[-400:]}")
        chosen = [i["download_info"]["url"].rsplit("/", 1)[-1] for i in json.loads(report.read_text())["install"]]
        need(chosen == [w.path.name], f"pip installed {chosen}, not {w.path.name}")
        probe = ("import json, posbridge, posbridge._native as n, sys; from importlib.metadata import version;"
                 "print(json.dumps([posbridge.__version__, version('posbridge'), n.__file__, sys.version.split()[0]]))")
        r = sh([str(venv / "bin/python"), "-c", probe], env=env, cwd=str(self.tmp))
        need(r.returncode == 0, f"import failed: {r.stderr.strip()[-400:]}")
        pv, dv, so, pyv = json.loads(r.stdout)
        need(pv == dv == w.version, f"posbridge.__version__ {pv}, installed distribution {dv}, wheel {w.version}")
        need(Path(so).resolve().is_relative_to(venv.resolve()), f"imported {so}, not the venv's")
        t = time.monotonic()
        r = sh([str(venv / "bin/posbridge"), "demo"], env=env, cwd=str(self.tmp), timeout=300)
        need(r.returncode == 0, f"posbridge demo failed ({r.returncode}): {(r.stdout + r.stderr).strip()[-600:]}")
        last = [ln for ln in r.stdout.strip().splitlines() if ln.strip()][-1:]
        return f"Python {pyv}: __version__ {pv}; posbridge demo ok in {time.monotonic() - t:.1f} s ({last[0].strip()[:60] if last else ''})"

    def debian_root(self, suite: str, arch: str) -> Path:
        """A Debian root made by `debootstrap --foreign` (downloads and unpacks, runs nothing, so it
        needs neither binfmt nor an emulator for another architecture), with every downloaded
        package unpacked by dpkg-deb. Cached; the marker is written last."""
        roots = Path(self.args.roots)
        root = roots / f"{suite}-{arch}"
        marker = root / ".posbridge-root-v2"  # bump when what is in a root changes
        if marker.exists():
            return root
        need(os.geteuid() == 0, "making and entering a chroot needs root")
        deboot = need_tool("debootstrap", "apt-get install debootstrap (.ci/run does)")
        need_tool("dpkg-deb", "dpkg")
        mirror = self.debian_mirror()
        if root.exists():
            shutil.rmtree(root)
        roots.mkdir(parents=True, exist_ok=True)
        include = "python3,ca-certificates"
        print(f"      debootstrap --foreign --variant=minbase --include={include} --arch={arch} {suite} {root} (mirror from the apt sources)", flush=True)
        r = sh([deboot, "--foreign", "--variant=minbase", f"--include={include}", f"--arch={arch}", suite, str(root), mirror],
               timeout=900)
        need(r.returncode == 0, f"debootstrap {suite} {arch} failed: {(r.stdout + r.stderr).strip()[-500:]}")
        for deb in sorted((root / "var/cache/apt/archives").glob("*.deb")):
            r = sh(["dpkg-deb", "-x", str(deb), str(root)])
            need(r.returncode == 0, f"dpkg-deb -x {deb.name}: {r.stderr.strip()}")
            deb.unlink()
        # what ca-certificates' postinst (update-ca-certificates) would write: rustls loads the
        # system's trust store when a client is built, even for the sandbox's plain HTTP
        bundle = root / "etc/ssl/certs/ca-certificates.crt"
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_bytes(b"".join(p.read_bytes() for p in sorted((root / "usr/share/ca-certificates").rglob("*.crt"))))
        need(bundle.stat().st_size > 10000, "no CA certificates in the root")
        marker.write_text(f"{suite} {arch}\n")
        return root

    def debian_mirror(self) -> str:
        """The Debian mirror this machine's apt uses (never written into the project)."""
        if os.environ.get("POSBRIDGE_DEBIAN_MIRROR"):
            return os.environ["POSBRIDGE_DEBIAN_MIRROR"]
        sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]
        sources += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
        for src in sources:
            if not src.is_file():
                continue
            text = src.read_text()
            for m in re.finditer(r"(?m)^URIs:\s*(\S+)|^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text):
                uri = m[1] or m[2]
                if "debian" in uri and "security" not in uri and "ports" not in uri:
                    return uri.rstrip("/")
        raise CheckFailed("no Debian mirror in /etc/apt/sources*: set POSBRIDGE_DEBIAN_MIRROR")

    def check_debian11(self, w: Wheel) -> str:
        root = self.debian_root("bullseye", DEBIAN_ARCH[w.arch])
        chroot = need_tool("chroot", "coreutils")
        inside = Path("/tmp/posbridge-check")
        (root / inside.relative_to("/")).mkdir(parents=True, exist_ok=True)
        so = inside / "_native.abi3.so"
        shutil.copyfile(w.so, root / so.relative_to("/"))
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        libc = sh([chroot, str(root), "/usr/bin/ldd", "--version"], env=env)
        need(libc.returncode == 0 and "2.31" in libc.stdout.splitlines()[0], f"the root's glibc is not 2.31: {libc.stdout[:80]}{libc.stderr[-200:]}")
        # ldd -r relocates everything: a glibc version the root lacks shows as "version `GLIBC_x' not found".
        # An extension module leaves the C API (Py*) to the interpreter that imports it, so only
        # undefined Py* symbols are expected here; anything else is a failure.
        r = sh([chroot, str(root), "/usr/bin/ldd", "-r", str(so)], env=env)
        text = r.stdout + r.stderr
        need("not found" not in text, f"ldd -r on Debian 11: {text.strip()[-600:]}")
        undefined = re.findall(r"undefined symbol: (\S+)", text)
        non_py = [s for s in undefined if not s.startswith(("Py", "_Py"))]
        need(not non_py, f"ldd -r on Debian 11: undefined non-Python symbols {non_py[:8]}")
        # and the loader itself: Debian 11's python3 dlopens it with RTLD_NOW. Python 3.9 cannot import
        # a cp310 module, and the extension is linked with BIND_NOW (full RELRO), so the few C API
        # functions that are new in 3.10 (_Py_DecRef, ...) come from a stub library made here with
        # no libc at all (-nostdlib), loaded first with RTLD_GLOBAL. Every other symbol resolves
        # against bullseye's glibc 2.31 and python3.9.
        exported = set()
        for line in sh(["readelf", "--dyn-syms", "-W", str(root / "usr/bin/python3.9")]).stdout.splitlines():
            parts = line.split()
            if len(parts) >= 8 and parts[6] != "UND":
                exported.add(parts[7].split("@")[0])
        need(len(exported) > 1000, "could not read python3.9's exported symbols")
        missing = sorted(set(undefined) - exported)
        load_stub = ""
        if missing:
            cc = need_tool("cc", "a C compiler, for a stub of the C API functions Python 3.9 lacks")
            stub_c = self.tmp / "py310stub.c"
            stub_c.write_text("".join(f"void {name}(void) {{}}\n" for name in missing))
            stub = inside / "libpy310stub.so"
            r = sh([cc, "-shared", "-fPIC", "-nostdlib", "-o", str(root / stub.relative_to("/")), str(stub_c)])
            need(r.returncode == 0, f"cc (stub): {r.stderr.strip()[-300:]}")
            need("NEEDED" not in sh(["readelf", "-d", str(root / stub.relative_to("/"))]).stdout, "the stub needs a library")
            load_stub = f"ctypes.CDLL('{stub}', os.RTLD_NOW | os.RTLD_GLOBAL);"
        probe = ("import ctypes, os, sys;" + load_stub +
                 f"ctypes.CDLL('{so}', os.RTLD_NOW | os.RTLD_LOCAL);"
                 "print(sys.version.split()[0], os.confstr('CS_GNU_LIBC_VERSION'))")
        r = sh([chroot, str(root), "/usr/bin/python3", "-c", probe], env=env)
        need(r.returncode == 0, f"dlopen(RTLD_NOW) on Debian 11 failed: {r.stderr.strip()[-500:]}")
        pyv, _, glibc_v = r.stdout.split()
        stubbed = f" and a stub for {', '.join(missing)} (new in 3.10)" if missing else ""
        return (f"Debian 11 ({libc.stdout.splitlines()[0].split()[-1]}): ldd -r finds every library and version "
                f"({len(undefined)} Py* symbols left to the interpreter); python {pyv} on glibc {glibc_v} "
                f"dlopens it with RTLD_NOW{stubbed}")

    def check_qemu_arm64(self, w: Wheel) -> str:
        qemu = need_tool("qemu-aarch64-static", "apt-get install qemu-user-static (.ci/run does)")
        root = self.debian_root("bookworm", "arm64")
        shutil.copyfile(qemu, root / "usr/bin/qemu-aarch64-static")
        os.chmod(root / "usr/bin/qemu-aarch64-static", 0o755)
        inside = Path("/tmp/posbridge-check")
        site_in = root / inside.relative_to("/") / "site"
        if site_in.exists():
            shutil.rmtree(site_in)
        site_in.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(w.path) as z:
            z.extractall(site_in)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": str(inside / "site"), "HOME": "/tmp"}
        py = [need_tool("chroot", "coreutils"), str(root), "/usr/bin/qemu-aarch64-static", "/usr/bin/python3"]
        probe = ("import platform, os, posbridge, posbridge._native as n;"
                 "print(platform.machine(), platform.python_version(), os.confstr('CS_GNU_LIBC_VERSION'), posbridge.__version__)")
        r = sh([*py, "-c", probe], env=env, cwd="/", timeout=300)
        need(r.returncode == 0, f"import under qemu-aarch64 failed: {r.stderr.strip()[-500:]}")
        machine, pyv, _glibc, glibc_v, ver = r.stdout.split()
        need(machine == "aarch64" and ver == w.version, f"under qemu: {r.stdout.strip()}")
        t = time.monotonic()
        r = sh([*py, "-m", "posbridge", "demo"], env=env, cwd="/", timeout=600)
        need(r.returncode == 0, f"posbridge demo under qemu-aarch64 failed: {(r.stdout + r.stderr).strip()[-600:]}")
        return (f"Debian 12 arm64, Python {pyv}, glibc {glibc_v} under qemu-aarch64: imported, "
                f"__version__ {ver}, posbridge demo ok in {time.monotonic() - t:.1f} s")

    # -- all -------------------------------------------------------------------------------------
    def run(self) -> int:
        print(f"check_wheels: {self.dist} (archs {' '.join(self.args.archs)}; tag glibc {self.args.expect_glibc}, "
              f"at most {self.args.max_glibc}; CI={'true' if CI else 'false'})", flush=True)
        if not self.check("dist", str(self.dist), self.check_dist):
            return self.report()
        self.check("sdist", "sdist", self.check_sdist)
        for addon in sorted(self.dist.glob("odoo_addon_*.whl")):
            self.check("addon", addon.name, lambda addon=addon: self.check_addon(addon))  # type: ignore[misc]
        pythons = self.pythons()
        for w in sorted(self.wheels, key=lambda w: w.arch != "x86_64"):
            s = w.path.name
            self.check("tag", s, lambda: self.check_tag(w))
            if not self.check("metadata", s, lambda: self.check_metadata(w)):
                continue  # nothing to look at without the extension
            self.check("elf", s, lambda: self.check_elf(w))
            self.check("glibc", s, lambda: self.check_glibc(w))
            self.check("needed", s, lambda: self.check_needed(w))
            self.check("cpu", s, lambda: self.check_cpu(w))
            self.check("resolver", s, lambda: self.check_resolver(w))
            self.check("auditwheel", s, lambda: self.check_auditwheel(w))
            if w.arch == "x86_64":
                for v in self.args.pythons:
                    self.check(f"venv-{v}", s, lambda v=v: self.check_venv(w, v, pythons.get(v)))  # type: ignore[misc]
                self.check("debian11", s, lambda: self.check_debian11(w))
            elif w.arch == "aarch64":
                self.check("qemu-arm64", s, lambda: self.check_qemu_arm64(w))
        return self.report()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dist", nargs="?", default=str(ROOT / "dist"))
    ap.add_argument("--archs", default="x86_64 aarch64")
    ap.add_argument("--expect-glibc", default="2.17", help="the glibc of the manylinux tag the wheelhouse is built for")
    ap.add_argument("--max-glibc", default="2.28", help="never accept a tag newer than this")
    ap.add_argument("--pythons", default="3.10 3.11 3.12 3.13", help="Pythons to install the x86_64 wheel into")
    ap.add_argument("--roots", default=os.environ.get("POSBRIDGE_ROOTS", "/var/cache/posbridge/roots"))
    ap.add_argument("--skip", default=os.environ.get("CHECK_WHEELS_SKIP", ""), help=f"comma-separated, of: {', '.join(ALL_CHECKS)}")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    args.archs = args.archs.split()
    args.pythons = args.pythons.split()
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - set(ALL_CHECKS)
    if unknown:
        ap.error(f"unknown check(s) to skip: {sorted(unknown)}")
    if args.skip and CI:
        print(f"check_wheels: CI=true: refusing to skip {sorted(args.skip)}", file=sys.stderr)
        return 2
    if CI and sorted(args.archs) != ["aarch64", "x86_64"]:
        print(f"check_wheels: CI=true: the wheelhouse must have both x86_64 and aarch64 wheels, not only {args.archs}",
              file=sys.stderr)
        return 2
    checker = Checker(args)
    try:
        return checker.run()
    finally:
        if args.keep:
            print(f"check_wheels: kept {checker.tmp}")
        else:
            shutil.rmtree(checker.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

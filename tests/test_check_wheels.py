"""scripts/check_wheels.py cannot be fooled: its glibc, NEEDED and tag checks reject binaries and
names that are not portable. The libraries here are built by the host's C compiler, which binds
pthread_create and stat to this machine's new glibc (2.34 and 2.33), as a locally built wheel does."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_wheels", ROOT / "scripts" / "check_wheels.py")
assert spec and spec.loader
cw = importlib.util.module_from_spec(spec)
sys.modules["check_wheels"] = cw
spec.loader.exec_module(cw)

needs_tools = pytest.mark.skipif(
    not (shutil.which("cc") and shutil.which("readelf") and shutil.which("objdump")),
    reason="needs a C compiler and binutils")

C_NEW_GLIBC = r"""
#include <pthread.h>
#include <sys/stat.h>
static void *run(void *p) { return p; }
int go(const char *path) {
    pthread_t t; struct stat st;
    pthread_create(&t, 0, run, 0); pthread_join(t, 0);
    return stat(path, &st);
}
"""


def build(tmp: Path, name: str, source: str, *link: str) -> Path:
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / f"{name}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(out), str(src), f"-L{tmp}", *link], check=True)
    return out


def wheel_for(so: Path, glibc: str = "2.17") -> "cw.Wheel":
    w = cw.Wheel(Path("posbridge-0.2.0-cp310-abi3-manylinux_2_17_x86_64.whl"), "0.2.0", "x86_64", glibc,
                 ["cp310-abi3-manylinux_2_17_x86_64"])
    w.workdir = so.parent
    if so.name != "_native.abi3.so":
        shutil.copyfile(so, so.parent / "_native.abi3.so")
    return w


def checker() -> "cw.Checker":
    import argparse
    return cw.Checker(argparse.Namespace(dist=str(ROOT / "dist"), skip=set()))


@needs_tools
def test_glibc_check_rejects_the_hosts_new_symbols(tmp_path: Path) -> None:
    if cw.vkey(subprocess.run(["ldd", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split()[-1]) < (2, 34):
        pytest.skip("the host's glibc is older than 2.34")
    w = wheel_for(build(tmp_path, "lib", C_NEW_GLIBC, "-lpthread"))
    with pytest.raises(cw.CheckFailed, match=r"needs GLIBC_2\.3[4-9].*pthread_create.*promises glibc 2\.17"):
        checker().check_glibc(w)


@needs_tools
def test_needed_check_rejects_a_library_outside_the_allow_list(tmp_path: Path) -> None:
    build(tmp_path, "libvendor", "int vendor(void) { return 1; }")
    so = build(tmp_path, "lib", "int vendor(void); int go(void) { return vendor(); }", "-lvendor")
    with pytest.raises(cw.CheckFailed, match=r"outside the manylinux allow-list: \['libvendor.so'\]"):
        checker().check_needed(wheel_for(so))


@needs_tools
def test_elf_check_rejects_a_wrong_architecture_claim(tmp_path: Path) -> None:
    w = wheel_for(build(tmp_path, "lib", "int go(void) { return 0; }"))
    w.arch = "aarch64"
    with pytest.raises(cw.CheckFailed, match=r"Machine: Advanced Micro Devices X86-64, the tag says aarch64"):
        checker().check_elf(w)


@pytest.mark.parametrize("name", [
    "posbridge-0.2.0-cp310-abi3-linux_x86_64.whl",                         # what pip install . builds
    "posbridge-0.2.0-cp310-abi3-manylinux_2_17_x86_64.linux_x86_64.whl",
    "posbridge-0.2.0-cp310-abi3-musllinux_1_2_x86_64.whl",
    "posbridge-0.2.0-cp310-abi3-manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",  # two glibcs
])
def test_tag_check_rejects_non_manylinux_names(name: str) -> None:
    with pytest.raises(cw.CheckFailed):
        checker().parse_wheel_name(Path(name))


def test_tag_check_reads_a_manylinux2014_name() -> None:
    w = checker().parse_wheel_name(Path("posbridge-0.2.0-cp310-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"))
    assert (w.version, w.arch, w.glibc) == ("0.2.0", "aarch64", "2.17")

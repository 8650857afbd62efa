#!/usr/bin/env python3
"""The Odoo addons on every series from one source (odoo_addon/SERIES.md).

    odoo_addon/shared/<addon>/...        the files that are the same on every series (edit these)
    odoo_addon/<series>/<addon>/...      a complete addon that Odoo loads and whool builds:
                                         a relative symlink to each shared file, plus the few
                                         files of its own that SERIES.md lists, with the reason

    scripts/odoo_series.py check               every series folder is complete and right (CI)
    scripts/odoo_series.py link [SERIES ...]   make the symlinks to the shared files (after adding,
                                               moving or deleting a shared file)
    scripts/odoo_series.py new SERIES          start a series: the newest series' own files copied
                                               (to be adapted), the shared files linked
    scripts/odoo_series.py series              the series the repository has, oldest first

`check` fails, and says which file to edit, when a series folder lacks a link, has a link that
points elsewhere or nowhere, has a regular file that SERIES.md does not list (a copy that would
drift: move it to shared/), lacks a file that SERIES.md lists, or when the series' manifests
differ in anything but their version, a listed file is the same on every series, or a
manifest's version is not of its folder's series.

Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "odoo_addon"
SHARED = ADDONS / "shared"
SERIES_MD = ADDONS / "SERIES.md"
SERIES_DIR = re.compile(r"^\d+\.0$")
SKIP_PARTS = {"__pycache__"}


def series_list() -> list[str]:
    """The series folders (odoo_addon/18.0, ...), oldest first."""
    names = [p.name for p in ADDONS.iterdir() if p.is_dir() and SERIES_DIR.match(p.name)]
    return sorted(names, key=lambda s: float(s))


def addon_names() -> list[str]:
    return sorted(p.name for p in SHARED.iterdir() if (p / "__init__.py").is_file())


def files_under(folder: Path) -> set[str]:
    """Paths of the files (and symlinks) under `folder`, relative to it."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in SKIP_PARTS]
        for name in filenames:
            if not name.endswith((".pyc", ".pyo")):
                found.add(str((Path(dirpath) / name).relative_to(folder)))
    return found


def own_files() -> dict[str, str]:
    """The files SERIES.md lists as each series' own: ``{"posbridge/__manifest__.py": reason}``,
    read from its table rows that start with a path in backquotes."""
    listed = {}
    for line in SERIES_MD.read_text().splitlines():
        m = re.match(r"^\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|?\s*$", line)
        if m:
            listed[m.group(1)] = m.group(2)
    return listed


def shared_files() -> set[str]:
    """Every shared file, as ``addon/path``."""
    return {f"{addon}/{f}" for addon in addon_names() for f in files_under(SHARED / addon)}


def link_target(series: str, rel: str) -> str:
    """The relative symlink from odoo_addon/<series>/<rel> to odoo_addon/shared/<rel>."""
    link = ADDONS / series / rel
    return os.path.relpath(SHARED / rel, link.parent)


def link(series: str) -> list[str]:
    """Make odoo_addon/<series>'s links to the shared files; drop links to shared files that are
    gone. Returns what it changed."""
    changed = []
    shared = shared_files()
    folder = ADDONS / series
    for rel in sorted(shared):
        path = folder / rel
        target = link_target(series, rel)
        if path.is_symlink() and os.readlink(path) == target:
            continue
        if path.exists() and not path.is_symlink():
            continue  # a regular file: `check` reports it
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        path.symlink_to(target)
        changed.append(f"linked {path.relative_to(ROOT)}")
    for rel in sorted(files_under(folder)):
        path = folder / rel
        if path.is_symlink() and rel not in shared and not path.exists():
            path.unlink()
            changed.append(f"removed {path.relative_to(ROOT)} (its shared file is gone)")
    return changed


def manifest_without_version(path: Path) -> dict[str, object]:
    manifest = ast.literal_eval(path.read_text())
    manifest.pop("version", None)
    return manifest


def check() -> list[str]:
    """Every problem found, each saying which file to edit."""
    problems = []
    listed = own_files()
    shared = shared_files()
    all_series = series_list()
    if not all_series:
        return [f"no series folder in {ADDONS.relative_to(ROOT)}"]
    for rel in sorted(set(listed) & shared):
        problems.append(f"{rel} is both shared and listed in SERIES.md as a series' own: remove one")
    for series in all_series:
        folder = ADDONS / series
        present = files_under(folder)
        for rel in sorted(shared):
            path = folder / rel
            where = path.relative_to(ROOT)
            if not path.is_symlink():
                if path.exists():
                    problems.append(
                        f"{where} is a copy of shared/{rel}: delete it and run scripts/odoo_series.py "
                        f"link (if it must differ on {series}, move it out of shared/ into every series "
                        "and list it in odoo_addon/SERIES.md with the reason)")
                else:
                    problems.append(f"{where} is missing: run scripts/odoo_series.py link {series}")
            elif os.readlink(path) != link_target(series, rel):
                problems.append(f"{where} points to {os.readlink(path)}, not to shared/{rel}: "
                                f"run scripts/odoo_series.py link {series}")
        for rel in sorted(present - shared):
            path = folder / rel
            where = path.relative_to(ROOT)
            if path.is_symlink():
                problems.append(f"{where} links to {os.readlink(path)}, which is no shared file: "
                                f"run scripts/odoo_series.py link {series}")
            elif rel not in listed:
                problems.append(
                    f"{where} is {series}'s own but odoo_addon/SERIES.md does not list it: if it is "
                    f"the same on every series, move it to odoo_addon/shared/{rel}; else list it "
                    "there with the reason")
        for rel in sorted(set(listed) - present):
            problems.append(f"odoo_addon/{series}/{rel} is missing (odoo_addon/SERIES.md lists it as "
                            f"every series' own): copy it from another series and adapt it")
        for addon in addon_names():
            manifest = folder / addon / "__manifest__.py"
            if manifest.is_file():
                version = str(ast.literal_eval(manifest.read_text()).get("version", ""))
                if not version.startswith(series + "."):
                    problems.append(f"{manifest.relative_to(ROOT)}: version {version!r} is not a "
                                    f"{series} version ({series}.x.y.z)")
    for rel in sorted(listed):
        paths = [ADDONS / s / rel for s in all_series if (ADDONS / s / rel).is_file()]
        for path in paths if rel.endswith(".pot") else []:
            missing = untranslated(path)
            if missing:
                problems.append(
                    f"{arabic_po(path).relative_to(ROOT)} lacks {len(missing)} text(s) of "
                    f"{path.relative_to(ROOT)}, e.g. {missing[0][:80]!r}: translate them")
        for path in paths if rel.endswith(".pot") else []:
            exported = po_entries(path)
            for source, msgid in python_texts(SHARED / path.parent.parent.name):
                if msgid not in exported:
                    problems.append(
                        f"{path.relative_to(ROOT)} lacks {msgid[:60]!r} of {source.relative_to(ROOT)}: run make "
                        f"odoo-pot SERIES={path.parent.parent.parent.name} (if it still lacks it, that series' "
                        "exporter could not parse the file: keep the arguments of _() simple)")
                    break
        if len(paths) < 2:
            continue
        if rel.endswith("__manifest__.py"):
            bodies = {p.parent.parent.name: manifest_without_version(p) for p in paths}
            first = next(iter(bodies.values()))
            for series, body in bodies.items():
                if body != first:
                    keys = sorted(k for k in set(body) | set(first) if body.get(k) != first.get(k))
                    problems.append(
                        f"odoo_addon/{series}/{rel} differs from odoo_addon/{all_series[0]}/{rel} in "
                        f"{', '.join(keys)}: the manifests may differ in their version only; edit "
                        "every series' manifest alike")
        elif len({p.read_bytes() for p in paths}) == 1:
            problems.append(f"{rel} is the same on every series: move it to odoo_addon/shared/{rel} "
                            "and drop it from odoo_addon/SERIES.md")
    return problems


def python_texts(addon: Path) -> list[tuple[Path, str]]:
    """``(file, text)`` of each literal ``_("...")`` and ``_lt("...")`` in the addon's Python code
    (its tests left out): what every series' exported .pot must hold."""
    found = []
    for py in sorted(addon.rglob("*.py")):
        if "tests" in py.relative_to(addon).parts:
            continue
        for node in ast.walk(ast.parse(py.read_text(), str(py))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "_lt")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.append((py, node.args[0].value))
    return found


def po_entries(path: Path) -> dict[str, str]:
    """``{msgid: msgstr}`` of a .po or .pot file (its header left out)."""
    entries: dict[str, str] = {}
    key = None
    parts: dict[str, list[str]] = {}

    def flush() -> None:
        if "msgid" in parts:
            msgid = "".join(parts["msgid"])
            if msgid:
                entries[msgid] = "".join(parts.get("msgstr", []))
        parts.clear()

    for line in path.read_text().splitlines() + [""]:
        line = line.strip()
        m = re.match(r'^(msgid|msgstr) (".*")$', line)
        if m:
            if m.group(1) == "msgid":
                flush()
            key = m.group(1)
            parts[key] = [ast.literal_eval(m.group(2))]
        elif line.startswith('"') and key:
            parts[key].append(ast.literal_eval(line))
        elif not line or line.startswith("#"):
            key = None
    flush()
    return entries


def arabic_po(pot: Path) -> Path:
    """The shared Arabic translation of the addon whose .pot `pot` is."""
    return SHARED / pot.parent.parent.name / "i18n" / "ar.po"


def untranslated(pot: Path) -> list[str]:
    """The texts of `pot` that its addon's shared Arabic translation lacks or leaves empty."""
    po = arabic_po(pot)
    arabic = po_entries(po) if po.is_file() else {}
    return [msgid for msgid in po_entries(pot) if not arabic.get(msgid)]


def new_series(series: str) -> list[str]:
    if not SERIES_DIR.match(series):
        sys.exit(f"{series!r} is not a series name like 20.0")
    if (ADDONS / series).exists():
        sys.exit(f"odoo_addon/{series} exists already")
    newest = series_list()[-1]
    done = []
    for rel in sorted(own_files()):
        src = ADDONS / newest / rel
        dst = ADDONS / series / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        done.append(f"copied {src.relative_to(ROOT)} -> {dst.relative_to(ROOT)} (adapt it)")
    for addon in addon_names():
        manifest = ADDONS / series / addon / "__manifest__.py"
        if manifest.is_file():
            text = manifest.read_text()
            manifest.write_text(re.sub(r'("version":\s*")' + re.escape(newest) + r"\.", r"\g<1>" + series + ".", text))
            done.append(f"{manifest.relative_to(ROOT)}: version {series}.x.y.z")
    return done + link(series)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="fail on any drift between the series folders (CI)")
    p_link = sub.add_parser("link", help="make the symlinks to the shared files")
    p_link.add_argument("series", nargs="*", help="default: every series")
    p_new = sub.add_parser("new", help="start a series from the newest one")
    p_new.add_argument("series")
    sub.add_parser("series", help="print the series, oldest first")
    args = ap.parse_args()
    if args.command == "series":
        print(" ".join(series_list()))
        return 0
    if args.command == "link":
        for series in args.series or series_list():
            for line in link(series):
                print(line)
        return 0
    if args.command == "new":
        for line in new_series(args.series):
            print(line)
        print(f"now adapt odoo_addon/{args.series}'s own files (odoo_addon/SERIES.md says why each differs)")
        return 0
    problems = check()
    for problem in problems:
        print(f"odoo_series: {problem}", file=sys.stderr)
    if problems:
        print(f"odoo_series: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    listed = own_files()
    print(f"odoo_series: {', '.join(series_list())}: {len(shared_files())} shared files linked, "
          f"{len(listed)} own files per series (odoo_addon/SERIES.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

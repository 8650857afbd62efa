#!/usr/bin/env python3
"""The addon's tests on each Odoo series, one after another (`make test-odoo`, `make test`).

    tests_odoo/every_series.py [SERIES ...] [--all] [--run-args "..."] [--no-prefork]

For each series: tests_odoo/run.py (the addon's tests and tours in a real Odoo), then
tests_odoo/prefork.py (a real --workers=2 server). Never two series at once: one Odoo run
already fills both cores. With no series named, the newest one whose tree is here; with --all,
every series the addon has a folder for (odoo_addon/<series>), each one whose tree is missing
skipped with the reason. Ends with one line per series and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import odoo_env as E  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("series", nargs="*", help="e.g. 18.0 19.0 (default: the newest whose tree is here)")
    ap.add_argument("--all", action="store_true", help="every series of the addon; the missing ones are skipped")
    ap.add_argument("--run-args", default="", help="more arguments for tests_odoo/run.py")
    ap.add_argument("--no-prefork", action="store_true", help="skip tests_odoo/prefork.py")
    ap.add_argument("--list", action="store_true", help="print the series whose tree is here, and stop")
    args = ap.parse_args()
    if args.list:
        print(" ".join(E.present_series()))
        return 0

    known = E.addon_series()
    wanted = known if args.all else args.series
    if not wanted:
        present = E.present_series()
        if not present:
            E.say(f"Odoo addon tests skipped: no Odoo tree for any of the addon's series "
                  f"({', '.join(known)}) in {E.TREES} (set ODOO_TREES, or ODOO_SRC_<major>)")
            return 0
        wanted = present[-1:]
    lines = []
    failed = False
    for name in wanted:
        if name not in known:
            E.die(f"the addon has no {name} folder (odoo_addon/{name}); it has {', '.join(known)}")
        if E.tree_of(name) is None:
            lines.append(f"Odoo {name}: SKIPPED, no Odoo tree at {E.TREES / name} "
                         f"(set ODOO_TREES, or ODOO_SRC_{name.split('.')[0]})")
            E.say(lines[-1])
            continue
        steps = [("tests", [sys.executable, str(HERE / "run.py"), "--series", name, *shlex.split(args.run_args)])]
        if not args.no_prefork:
            steps.append(("prefork", [sys.executable, str(HERE / "prefork.py"), "--series", name]))
        results = []
        for label, cmd in steps:
            E.say(f"==== Odoo {name}: {label}: {' '.join(cmd[1:])}")
            t0 = time.monotonic()
            rc = subprocess.run(cmd).returncode
            results.append(f"{label} {'passed' if rc == 0 else 'FAILED'} ({time.monotonic() - t0:.0f} s)")
            failed |= rc != 0
        lines.append(f"Odoo {name}: " + ", ".join(results))
    print()
    for line in lines:
        E.say(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

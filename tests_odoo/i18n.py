#!/usr/bin/env python3
"""`make odoo-pot SERIES=19.0`: each addon's i18n/<addon>.pot of that series (posbridge,
pos_posbridge), exported by that series' own Odoo (`odoo-bin --i18n-export`) from a database with
the addons installed, written to odoo_addon/<series>/<addon>/i18n/<addon>.pot; then says which of
their texts the addon's shared Arabic translation (odoo_addon/shared/<addon>/i18n/ar.po) lacks.
`scripts/odoo_series.py check` (make test) fails while any is missing.

    tests_odoo/i18n.py [--series 19.0] [--odoo-src DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))
import odoo_env as E  # noqa: E402
import odoo_series  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", help="the Odoo series, e.g. 19.0 (default: the newest whose tree is here)")
    ap.add_argument("--odoo-src", help="the series' Odoo tree holding odoo-bin (default: $ODOO_TREES/<series>)")
    args = ap.parse_args()
    series = E.series(args.series, args.odoo_src)
    timings: dict[str, float] = {}
    names = series.addon_names
    db = f"posbridge_i18n_{os.getpid()}"
    texts: dict[str, str] = {}
    with E.file_lock(E.STATE_ROOT / "run.lock", "an Odoo test run in this work tree"):
        template = E.prepare(series, timings)
        E.drop_dbs_of_dead_runs("posbridge_i18n_", r"(\d+)")
        try:
            E.clone_db(template, db)
            common = ["--stop-after-init", "--http-port", str(E.free_port()), "--log-level=warn"]
            E.run(E.odoo_cmd(series, db, "-i", ",".join(names), *common), cwd=E.ROOT)
            with tempfile.TemporaryDirectory() as tmp:
                for name in names:
                    out = Path(tmp) / f"{name}.pot"
                    E.run(series.export_pot(db, out, name), cwd=E.ROOT)
                    texts[name] = out.read_text()
        finally:
            E.drop_db(db)
    lacking = 0
    for name, text in texts.items():
        target = E.ADDONS / series.name / name / "i18n" / f"{name}.pot"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        E.say(f"wrote {target.relative_to(E.ROOT)}: {len(odoo_series.po_entries(target))} texts "
              f"(Odoo {series.name}, {time.strftime('%Y-%m-%d')})")
        missing = odoo_series.untranslated(target)
        lacking += len(missing)
        for msgid in missing:
            E.say(f"  not in {name}'s ar.po: {msgid[:120]!r}")
    E.say(f"the Arabic translations lack {lacking} text(s)" if lacking else "ar.po translates every text")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`make odoo-demo [SERIES=19.0]`: Odoo of that series (default: the newest whose tree is
here) with the addon and its demo data on http://127.0.0.1:8069, talking to
`posbridge sandbox --port 8070`. Ctrl-C stops both.

The database posbridge_demo_<major> is cloned from the test runner's template the first time
(-i posbridge), and updated (-u posbridge) on later runs; `--reset` starts it afresh.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env as E  # noqa: E402



def port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_http(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (loopback only)
            return True
        except OSError as e:
            if getattr(e, "code", None):  # an HTTP error status: something answers
                return True
            time.sleep(0.3)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", help="the Odoo series, e.g. 19.0 (default: the newest whose tree is here)")
    ap.add_argument("--odoo-src", help="the series' Odoo tree holding odoo-bin (default: $ODOO_TREES/<series>)")
    ap.add_argument("--port", type=int, default=8069, help="Odoo's HTTP port (default 8069)")
    ap.add_argument("--sandbox-port", type=int, default=8070, help="the sandbox's port (default 8070)")
    ap.add_argument("--reset", action="store_true", help="drop the demo database and start afresh")
    args = ap.parse_args()

    series = E.series(args.series, args.odoo_src)
    db = f"posbridge_demo_{series.major}"
    timings: dict[str, float] = {}
    for port, what in ((args.port, "Odoo"), (args.sandbox_port, "the sandbox")):
        if not port_free(port):
            E.die(f"port {port} (for {what}) is in use: stop what holds it, or pass another port")
    with E.file_lock(E.STATE_ROOT / "run.lock", "an Odoo test run in this work tree"):
        template = E.prepare(series, timings)

    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
    E.say(f"starting the embedded sandbox: posbridge sandbox --port {args.sandbox_port}")
    sandbox = subprocess.Popen(
        [str(series.venv / "bin" / "posbridge"), "sandbox", "--port", str(args.sandbox_port)],
        env=E.clean_env(series.venv), start_new_session=True,
    )
    procs = [sandbox]

    def stop_all(*_: object) -> None:
        if any(p.poll() is None for p in procs):
            E.say("stopping Odoo and the sandbox ...")
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    try:
        if not wait_http(sandbox_url + "/", 20) or sandbox.poll() is not None:
            E.die(f"the sandbox did not come up on {sandbox_url}")
        if args.reset:
            E.drop_db(db)
        if E.db_exists(db):
            step, flag = f"updating {db} (-u posbridge)", "-u"
        else:
            E.say(f"creating {db} from {template}")
            E.clone_db(template, db)
            step, flag = f"installing posbridge with its demo data into {db} (-i posbridge)", "-i"
        E.say(step + " ...")
        with E.timed(step, timings):
            p = subprocess.run(
                E.odoo_cmd(series, db, flag, E.ADDON_NAME, "--stop-after-init",
                           "--http-port", str(E.free_port()), "--log-level=warn"),
                env=E.clean_env(series.venv), cwd=E.ROOT,
            )
        if p.returncode != 0:
            E.die(f"odoo-bin {flag} {E.ADDON_NAME} failed ({p.returncode})")
        url = f"http://127.0.0.1:{args.port}"
        print(flush=True)
        E.say(f"Odoo:    {url}/odoo   login admin, password admin   (database {db})")
        E.say(f"sandbox: {sandbox_url}   (the customer at the terminal: {sandbox_url}/_sandbox/)")
        E.say("Ctrl-C stops both.")
        print(flush=True)
        odoo = subprocess.Popen(
            E.odoo_cmd(series, db, "--http-port", str(args.port), "--http-interface", "127.0.0.1",
                       "--log-handler", "odoo.addons.base.models.ir_cron:WARNING"),
            env=E.clean_env(series.venv), cwd=E.ROOT, start_new_session=True,
        )
        procs.insert(0, odoo)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while odoo.poll() is None and sandbox.poll() is None:
            time.sleep(0.5)
        if sandbox.poll() is not None:
            E.say(f"the sandbox stopped ({sandbox.returncode})")
        return odoo.returncode or 0
    except KeyboardInterrupt:
        print(flush=True)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The Odoo addon's tests on a real Odoo of one series (`make test-odoo SERIES=19.0`).

Installs posbridge and the series' addon (odoo_addon/<series>/posbridge) into that series' own
Odoo virtualenv (.venv-odoo/<series>/, cached on the requirements file's hash) the way a user
does, clones a fresh database from a cached template (sale_management + account_payment with
demo data, keyed on the Odoo tree), runs

    odoo-bin -d <db> -i posbridge --test-enable --test-tags /posbridge --stop-after-init

and judges Odoo's log, not only its exit code: it fails on ERROR/CRITICAL lines, on failures or
errors in Odoo's test summary, on a warning that Odoo ignored something the addon declares,
when no posbridge test ran, when the addon is not installed afterwards, and when any test or
tour was skipped (a tour skips silently without websocket-client or Chromium). The last line is
`N passed, N failed[, N skipped]`.

    tests_odoo/run.py [--series 19.0] [--odoo-src DIR] [--tags /posbridge] [--keep-db] [--verbose]

The series defaults to the newest one whose Odoo tree is here ($ODOO_TREES/<series>, default
../shared/odoo/<series>; or $ODOO_SRC_<major>, or --odoo-src).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env as E  # noqa: E402

RECORD = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (?P<pid>\d+) (?P<level>[A-Z_]+) "
    r"(?P<db>\S+) (?P<logger>[\w.\-]+): (?P<msg>.*)$"
)
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
RAN = re.compile(r"\bRan (\d+) tests?\b")
SKIP = re.compile(
    r"\bskip(ped|ping)?\b|SkipTest|websocket-client module is not installed"
    r"|chrome executable not found|failed to detect chrome|error during chrome"
    r"|cannot connect to chrome",
    re.I,
)
SHOWN_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
#: The loggers of the repository's addons' tests.
TEST_LOGGERS = tuple(f"odoo.addons.{name}." for name in E.ADDON_NAMES)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", help="the Odoo series, e.g. 19.0 (default: the newest whose tree is here)")
    ap.add_argument("--odoo-src", help="the series' Odoo tree holding odoo-bin (default: $ODOO_TREES/<series>)")
    ap.add_argument("--tags", help="Odoo --test-tags (default: every addon of the series, /posbridge,...)")
    ap.add_argument("--keep-db", action="store_true", help="keep the test database afterwards")
    ap.add_argument("--verbose", action="store_true", help="print all of Odoo's log, not a digest")
    ap.add_argument("--timeout", type=float, default=45 * 60, help="seconds for Odoo's run (default 2700)")
    args = ap.parse_args()

    t_start = time.monotonic()
    timings: dict[str, float] = {}
    series = E.series(args.series, args.odoo_src)
    args.tags = args.tags or ",".join(f"/{name}" for name in series.addon_names)
    say = E.say
    say(f"Odoo {series.name}: tree {series.src}, addon {series.addon}")

    # One run at a time per work tree: the runs share .venv-odoo, which each reinstalls.
    with E.file_lock(E.STATE_ROOT / "run.lock", "another Odoo test run in this work tree"):
        return run_tests(args, series, timings, t_start)


def run_tests(args: argparse.Namespace, series: E.Series, timings: dict[str, float], t_start: float) -> int:
    say = E.say
    template = E.prepare(series, timings)
    E.drop_dbs_of_dead_runs("posbridge_test_", r"(\d+)_\d+")  # posbridge_test_<pid>_<time>

    db = f"posbridge_test_{os.getpid()}_{int(time.time())}"  # the series is in the log's name
    E.LOGS.mkdir(parents=True, exist_ok=True)
    log_path = E.LOGS / f"{db}_{series.major}.log"
    latest = E.LOGS / "latest.log"
    rc = 1
    try:
        with E.timed("test database (createdb -T)", timings):
            E.clone_db(template, db)
        port = E.free_port()
        cmd = E.odoo_cmd(
            series, db, "-i", ",".join(series.addon_names), "--test-enable", "--test-tags", args.tags,
            "--stop-after-init", "--http-port", str(port), "--log-level=test",
            "--max-cron-threads=0",
        )
        with E.timed("Chromium warm-up", timings):
            warm_up_chromium()
        say(f"running: {' '.join(cmd)}")
        say(f"log: {log_path}")
        with E.timed("Odoo install + tests", timings):
            odoo_rc, lines = run_odoo(series, cmd, log_path, args.verbose, args.timeout)
        try:
            latest.unlink(missing_ok=True)
            latest.symlink_to(log_path.name)
        except OSError:
            pass
        names = ", ".join(f"'{name}'" for name in series.addon_names)
        states = E._psql(f"select name || '=' || state from ir_module_module where name in ({names})", db)
        rc = judge(series, lines, odoo_rc, states.stdout.split(), log_path, timings, t_start)
    except KeyboardInterrupt:
        say("interrupted")
        rc = 130
    finally:
        if args.keep_db:
            say(f"kept database {db} (drop it with: dropdb {db})")
        else:
            E.drop_db(db)
    return rc


def warm_up_chromium() -> None:
    """Starts headless Chromium once before Odoo does. Odoo gives the browser of a tour 10 s to
    open its DevTools port and skips the tour otherwise; on a machine that has not run Chromium
    since it booted, reading it from disk alone can take longer (seen in CI: the tour skipped,
    so the run failed). Nothing is judged here: a Chromium that is missing or fails is left to
    Odoo's own error."""
    # Odoo's own search order (odoo.tests.common._find_executable).
    exe = next(filter(None, map(shutil.which, ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable"))), None)
    if exe is None:
        return
    with tempfile.TemporaryDirectory(prefix="posbridge-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}", "--dump-dom", "about:blank"]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            p.wait(120)
        except subprocess.TimeoutExpired:
            E.say("Chromium did not finish loading about:blank in 120 s")
        finally:
            stop_group(p.pid, grace=5)


def stop_group(pgid: int, grace: float) -> None:
    """SIGTERM to what is left of a process group, SIGKILL after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        time.sleep(grace)


def run_odoo(series: E.Series, cmd: list[str], log_path: Path, verbose: bool,
             timeout: float) -> tuple[int, list[str]]:
    """Run Odoo, every line into the log file, a digest (or everything) on the console.

    Odoo runs in a process group of its own. A watcher stops what is left of that group once
    Odoo has exited: a Chromium that Odoo gave up on (a tour skipped for a slow start) is not
    stopped by Odoo and keeps the output pipe open, which would make this read wait forever.
    The watcher also enforces `timeout`, output or not."""
    lines: list[str] = []
    shown = False  # whether the current record is printed (its traceback lines follow it)
    timed_out = threading.Event()
    with open(log_path, "w") as log:
        p = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            env=E.clean_env(series.venv), cwd=E.ROOT, start_new_session=True,
        )
        assert p.stdout is not None

        def watch() -> None:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out.set()
                stop_group(p.pid, grace=10)
                return
            stop_group(p.pid, grace=5)

        watcher = threading.Thread(target=watch, name="odoo-watcher", daemon=True)
        watcher.start()
        try:
            for line in p.stdout:
                log.write(line)
                line = line.rstrip("\n")
                lines.append(line)
                m = RECORD.match(line)
                if m:
                    msg, lvl, logger = m["msg"], m["level"], m["logger"]
                    shown = (
                        lvl in SHOWN_LEVELS
                        or SKIP.search(msg) is not None
                        or (logger.startswith(TEST_LOGGERS) and msg.startswith("Starting "))
                        or logger in ("odoo.tests.result", "odoo.tests.stats")
                        or re.search(r"post-tests in|Module \S+: \d+ failures", msg) is not None
                    )
                if verbose or shown:
                    print(line, flush=True)
        except KeyboardInterrupt:
            os.killpg(p.pid, signal.SIGINT)
            p.wait(30)
            raise
        finally:
            if p.poll() is None:
                stop_group(p.pid, grace=10)
        if timed_out.is_set():
            E.say(f"ERROR: Odoo ran longer than {timeout:.0f} s: stopped it")
            lines.append(f"TIMEOUT after {timeout:.0f} s")
        return p.wait(), lines


def judge(series: E.Series, lines: list[str], odoo_rc: int, module_states: list[str], log_path: Path,
          timings: dict[str, float], t_start: float) -> int:
    errors: list[str] = []
    skips: list[str] = []
    started = 0
    skipped_tests = 0
    summary: tuple[int, int, int] | None = None
    ran: int | None = None
    timeout = any(ln.startswith("TIMEOUT after") for ln in lines)
    for line in lines:
        m = RECORD.match(line)
        text = m["msg"] if m else line
        if E.BAD_LOG_LINE.search(line):
            errors.append(line)
        if m and SKIP.search(text):
            skips.append(line)
            if re.match(r"skipped \S+ : ", text):
                skipped_tests += 1
        if m and m["logger"].startswith(TEST_LOGGERS) and text.startswith("Starting "):
            started += 1
        s = SUMMARY.search(text)
        if s:
            summary = (int(s[1]), int(s[2]), int(s[3]))
        r = RAN.search(text)
        if r:
            ran = int(r[1])

    if summary:
        failures, errs, total = summary
    else:
        failures, errs, total = 0, 0, ran if ran is not None else started
    failed = failures + errs
    passed = max(total - failed - skipped_tests, 0)

    problems: list[str] = []
    if timeout:
        problems.append("Odoo timed out")
    if odoo_rc != 0:
        problems.append(f"odoo-bin exited with {odoo_rc}")
    if summary is None:
        problems.append("no test summary in Odoo's log ('N failed, N error(s) of N tests')")
    if failed:
        problems.append(f"Odoo's summary: {failures} failed, {errs} error(s) of {total} tests")
    if errors:
        problems.append(f"{len(errors)} ERROR/CRITICAL line(s), or warnings of something ignored, in the log")
    if started == 0:
        problems.append(f"no test of {', '.join(series.addon_names)} ran")
    for name in series.addon_names:
        if f"{name}=installed" not in module_states:
            problems.append(f"module {name} is not installed afterwards ({' '.join(module_states) or 'absent'})")
    if skips:
        problems.append(f"{len(skips)} skip line(s): a skipped test or tour is not a pass")

    print()
    E.say("---- summary ----")
    for line in errors[:20]:
        print("  " + line[:400])
    for line in skips[:20]:
        print("  " + line[:400])
    E.say(f"Odoo {series.name}: {started} test(s) of {', '.join(series.addon_names)} started; Odoo: {failures} failed, "
          f"{errs} error(s) of {total} tests")
    for label, secs in timings.items():
        E.say(f"  {label}: {secs:.1f} s")
    E.say(f"  total: {time.monotonic() - t_start:.1f} s")
    E.say(f"log: {log_path}")
    if problems:
        E.say("FAILED: " + "; ".join(problems))
    else:
        E.say("OK")
    tail = f"Odoo {series.name}: {passed} passed, {failed} failed"
    if skipped_tests:
        tail += f", {skipped_tests} skipped"
    print(tail, flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The addon on a REAL prefork Odoo (`--workers=2`) of one series: concurrent salespeople,
webhooks handled by forked workers, live refresh over the websocket process, a double send
from two threads.

    tests_odoo/prefork.py [--series 19.0] [--odoo-src DIR] [--odoo-python PY] [--template DB] [--port 18300]
                          [--orders 20] [--users 4] [--hesabe-orders 4] [--keep-db] [--timeout 180]

What it does, bounded in time (a watchdog stops everything after --timeout seconds):
1. `posbridge sandbox --port P` in its own process (Hesabe + Helcim on 127.0.0.1);
2. a fresh database `pbb_prefork_<pid>` cloned from the template (default `pbt_base`:
   sale_management + account_payment, no demo; never modified), `-i posbridge` with
   --stop-after-init, then `odoo-bin --workers=2 --max-cron-threads=1` on a free port;
3. as admin over JSON-RPC: both providers on the sandbox, terminals synced, the sandbox's Helcim
   webhooks pointed at /posbridge/webhook/<id>, 4 salesman users;
4. the 4 users, each with its own session, push 20 orders (CAD to a pool of Helcim devices,
   some KWD to Hesabe terminals; one device serves one request at a time, so users queue for
   devices), the sandbox's customer pays (Helcim: signed webhook to Odoo's workers; Hesabe:
   Check status), each user waits for its order to be confirmed;
5. one order sent twice at once from two threads (two sessions of one user, a double click).

Checks: every order confirmed (`sale`) with one done transaction and one posted account.payment,
one vendor request per order (sandbox stats), every webhook answered 200 at the first attempt,
and the requests (webhooks and sends) served by the forked HTTP workers, not the main process
(the pid in Odoo's log lines). Prints `N passed, N failed`; exits 1 on any failure.

Odoo's Python: --odoo-python or $ODOO_PYTHON (then the addon comes from odoo_addon/<series> via
--addons-path); by default the series' virtualenv of tests_odoo/odoo_env.py (.venv-odoo/<series>),
brought up to date as `make test-odoo` does (posbridge's wheel + the addon's wheel), unless
--no-install.
Standard library only (plus posbridge for sandbox.Remote when the running python has it).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import http.cookiejar
import itertools
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import odoo_env as E  # noqa: E402

ROOT = E.ROOT
DB_PREFIX = "pbb_"
HESABE = "hesabe_pos"
HELCIM = "helcim_terminal"

# Odoo's log record: "2026-12-01 15:13:16,123 4242 INFO db werkzeug: ... <perf>"
RECORD = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) (?P<pid>\d+) (?P<level>[A-Z_]+) "
    r"(?P<db>\S+) (?P<logger>[\w.\-]+): (?P<msg>.*)$"
)
# werkzeug's request line, with Odoo's perf info: query count, SQL time, remaining time.
REQUEST = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<sql>[\d.]+) (?P<other>[\d.]+)"
)
WORKER_ALIVE = re.compile(r"Worker (?P<kind>WorkerHTTP|WorkerCron) \((?P<pid>\d+)\) alive")


def say(msg: str) -> None:
    print(f"[prefork] {msg}", flush=True)


# ----------------------------------------------------------------------------- JSON-RPC


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]):
        data = error.get("data") or {}
        self.name = data.get("name", "")
        self.message = data.get("message") or error.get("message", "")
        super().__init__(f"{self.name}: {self.message}")


class Rpc:
    """One browser session (its own cookie jar), as the web client talks to Odoo."""

    def __init__(self, base: str, timeout: float = 60.0):
        self.base = base
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.context: dict[str, Any] = {}
        self.uid: int | None = None
        self._id = 0

    def post(self, path: str, params: dict[str, Any]) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": self._id}).encode()
        req = urllib.request.Request(self.base + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with self.opener.open(req, timeout=self.timeout) as resp:
            answer = json.loads(resp.read())
        if answer.get("error"):
            raise RpcError(answer["error"])
        return answer.get("result")

    def login(self, db: str, login: str, password: str) -> Rpc:
        info = self.post("/web/session/authenticate", {"db": db, "login": login, "password": password})
        if not info or not info.get("uid"):
            raise RuntimeError(f"login {login} refused: {info}")
        self.uid = info["uid"]
        self.context = dict(info.get("user_context") or {})
        return self

    def kw(self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        kwargs["context"] = {**self.context, **(context or {})}
        return self.post(f"/web/dataset/call_kw/{model}/{method}",
                         {"model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def button(self, model: str, method: str, ids: list[int], context: dict[str, Any] | None = None) -> Any:
        """A button in a form: POST /web/dataset/call_button/<model>/<method>, as the web client."""
        return self.post(f"/web/dataset/call_button/{model}/{method}", {
            "model": model, "method": method, "args": [ids],
            "kwargs": {"context": {**self.context, **(context or {})}},
        })

    def session_id(self) -> str:
        return next(c.value for c in self.cookies if c.name == "session_id")

    def read1(self, model: str, rid: int, fields: list[str]) -> dict[str, Any]:
        rows = self.kw(model, "read", [rid], fields)
        return rows[0]


def xmlid(rpc: Rpc, ref: str) -> int:
    module, name = ref.split(".")
    rows = rpc.kw("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)], ["res_id"])
    if not rows:
        raise RuntimeError(f"no xmlid {ref}")
    return int(rows[0]["res_id"])


# ----------------------------------------------------------------------------- the sandbox


class SandboxControls:
    """posbridge.sandbox.Remote when this python has posbridge; else the same few controls
    over the sandbox's HTTP API under /_sandbox/ (standard library)."""

    def __init__(self, url: str):
        self.url = url
        try:
            from posbridge import sandbox as pb_sandbox

            self.remote: Any = pb_sandbox.Remote(url, timeout=15.0)
        except ImportError:
            self.remote = None

    def _http(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_sandbox/{path}", data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310 (loopback)
            text = resp.read().decode()
        return json.loads(text) if text else None

    def stats(self) -> dict[str, Any]:
        return dict(self.remote.stats()) if self.remote else self._http("GET", "stats")

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.remote.helcim_deliveries()) if self.remote else self._http("GET", "helcim/deliveries")

    def set_webhook_url(self, url: str) -> None:
        if self.remote:
            self.remote.helcim_webhook_url = url
        else:
            self._http("PUT", "helcim/webhook-url", {"url": url})

    def helcim_complete(self, code: str, outcome: str = "approved", card_type: str = "VI") -> Any:
        if self.remote:
            return self.remote.helcim_complete(code, outcome=outcome, card_type=card_type)
        return self._http("POST", f"helcim/devices/{code}/complete", {"outcome": outcome, "card_type": card_type})

    def hesabe_pay(self, transaction_id: str) -> Any:
        if self.remote:
            return self.remote.hesabe_pay(transaction_id)
        return self._http("POST", f"hesabe/pos/{transaction_id}/pay")


# ----------------------------------------------------------------------------- processes


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(start: int, taken: set[int]) -> int:
    for port in range(start, start + 100):
        if port not in taken and port_free(port):
            taken.add(port)
            return port
    raise RuntimeError(f"no free port in {start}..{start + 99}")


def wait_for(pred: Any, seconds: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def native_build_kind(python: str) -> str:
    """'release' or 'debug' build of posbridge's native module in that python (a release build
    is stripped: no .debug_info section)."""
    p = subprocess.run([python, "-c", "import posbridge._native as n, posbridge; print(n.__file__); print(posbridge.__version__)"],
                       text=True, capture_output=True, cwd="/", env=clean_env_for(python))
    if p.returncode != 0:
        return f"unavailable ({p.stderr.strip().splitlines()[-1:]})"
    path, version = p.stdout.split()[:2]
    size = os.path.getsize(path)
    kind = "debug" if ".debug_info" in elf_sections(path) else "release"
    return f"{kind} (posbridge {version}, {size / 1e6:.0f} MB {Path(path).name})"


def elf_sections(path: str) -> set[str]:
    """The section names of an ELF64 little-endian file (a release build is stripped: no
    .debug_* sections)."""
    import struct

    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return set()
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", head, 0x3A)
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        sections = [struct.unpack_from("<IIQQQQ", table, i * shentsize) for i in range(shnum)]
        _, _, _, _, str_off, str_size = sections[shstrndx]
        f.seek(str_off)
        names = f.read(str_size)
    return {names[s[0]:names.index(b"\0", s[0])].decode(errors="replace") for s in sections}


def clean_env_for(python: str) -> dict[str, str]:
    env = dict(os.environ)
    for k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX"):
        env.pop(k, None)
    bindir = str(Path(python).parent)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Stack:
    """Sandbox + database + prefork Odoo + data, torn down by close() (idempotent)."""

    def __init__(self, args: argparse.Namespace, tag: str, modules: tuple[str, ...] = ("posbridge",),
                 helcim_limits: str = "helcim", cron_threads: int = 1, workers: int = 2):
        self.args = args
        self.tag = tag
        self.modules = modules
        self.helcim_limits = helcim_limits
        self.cron_threads = cron_threads
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.db = f"{DB_PREFIX}{tag}_{os.getpid()}"
        self.closed = False
        self.lock = threading.Lock()
        self.timings: dict[str, float] = {}
        self.log_path = E.LOGS / f"{self.db}.log"
        self.python = ""
        self.addons_path: str | None = None

    # -- set-up ------------------------------------------------------------------------

    def start(self) -> None:
        args = self.args
        self.series = E.series(args.series, args.odoo_src)
        src = self.src = self.series.src
        python = args.odoo_python or os.environ.get("ODOO_PYTHON")
        if python:
            self.python = str(Path(python).absolute())
            self.addons_path = f"{src / 'odoo' / 'addons'},{self.series.addon.parent}"
        else:
            if not args.no_install:
                E.install(self.series, self.timings)
            elif not self.series.python.exists():
                E.die(f"--no-install: {self.series.python} does not exist")
            self.python = str(self.series.python)
        self.build = native_build_kind(self.python)
        if not shutil.which("wkhtmltopdf"):
            say("WARNING: no wkhtmltopdf: confirming a paid order mails its PDF and fails "
                "(apt-get install wkhtmltopdf)")
        say(f"Odoo {self.series.name}, python {self.python}; posbridge native module: {self.build}")
        E.ensure_postgres()
        E.drop_dbs_of_dead_runs(DB_PREFIX, r"\w+?_(\d+)")  # pbb_<tag>_<pid>
        taken: set[int] = set()
        self.port = pick_port(args.port, taken)
        self.gevent_port = pick_port(args.port + 1, taken)
        self.sandbox_port = pick_port(args.sandbox_port or args.port + 2, taken)
        E.LOGS.mkdir(parents=True, exist_ok=True)

        t0 = time.monotonic()
        self._start_sandbox()
        self._clone_db()
        self._install()
        self._start_odoo()
        self.timings["stack up"] = time.monotonic() - t0
        say(f"stack up in {self.timings['stack up']:.1f} s: Odoo {self.base} (db {self.db}, "
            f"--workers={self.workers}), sandbox {self.sandbox_url}; log {self.log_path}")

    def _start_sandbox(self) -> None:
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        cmd = [self.python, "-m", "posbridge", "sandbox", "--port", str(self.sandbox_port), "--json",
               "--helcim-limits", self.helcim_limits]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             env=clean_env_for(self.python), cwd="/", start_new_session=True)
        self.procs.append(p)
        assert p.stdout is not None
        first = p.stdout.readline().decode()
        try:
            info = json.loads(first)
        except ValueError:
            raise RuntimeError(f"the sandbox did not start: {first!r}") from None
        threading.Thread(target=lambda: p.stdout.read() if p.stdout else None, daemon=True).start()
        self.sandbox = SandboxControls(self.sandbox_url)
        if not wait_for(lambda: _ok(self.sandbox.stats), 10):
            raise RuntimeError(f"the sandbox does not answer at {self.sandbox_url} ({info})")

    def _clone_db(self) -> None:
        template = self.args.template or os.environ.get("PBB_TEMPLATE") or "pbt_base"
        if not E.db_exists(template):
            say(f"template {template} does not exist: using tests_odoo's cached template (demo data)")
            template = E.ensure_template(self.series, E.ensure_venv(self.series), self.timings)
        self.template = template
        E.drop_db(self.db)
        r = subprocess.run(["createdb", "-T", template, self.db], text=True, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"createdb -T {template} {self.db}: {r.stderr.strip()}")
        if E.filestore(template).is_dir():
            shutil.copytree(E.filestore(template), E.filestore(self.db), dirs_exist_ok=True)

    def odoo_cmd(self, *extra: str) -> list[str]:
        cmd = [self.python, str(self.src / "odoo-bin"), "-d", self.db, "--db-filter", f"^{re.escape(self.db)}$"]
        if self.addons_path:
            cmd += ["--addons-path", self.addons_path]
        return cmd + list(extra)

    def _install(self) -> None:
        t0 = time.monotonic()
        log = E.LOGS / f"{self.db}.install.log"
        with open(log, "w") as lf:
            p = subprocess.Popen(
                self.odoo_cmd("-i", ",".join(self.modules), "--stop-after-init", *self.series.without_demo,
                              "--http-port", str(E.free_port()), "--max-cron-threads=0", "--log-level=warn"),
                stdout=lf, stderr=subprocess.STDOUT, env=clean_env_for(self.python), cwd=ROOT,
                start_new_session=True,
            )
            self.procs.append(p)
            try:
                rc = p.wait(timeout=self.args.install_timeout)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"installing {self.modules} took more than {self.args.install_timeout} s; log {log}") from None
        text = log.read_text(errors="replace")
        bad = [ln for ln in text.splitlines() if re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", ln)]
        if rc != 0 or bad:
            sys.stderr.write("\n".join(text.splitlines()[-40:]) + "\n")
            raise RuntimeError(f"odoo-bin -i {','.join(self.modules)} failed (exit {rc}); log {log}")
        self.timings["install"] = time.monotonic() - t0
        say(f"installed {','.join(self.modules)} into {self.db} (from {self.template}) in {self.timings['install']:.1f} s")

    def _start_odoo(self) -> None:
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_file = open(self.log_path, "w")
        p = subprocess.Popen(
            self.odoo_cmd("--http-interface", "127.0.0.1", "--http-port", str(self.port),
                          "--gevent-port", str(self.gevent_port), f"--workers={self.workers}",
                          f"--max-cron-threads={self.cron_threads}", "--limit-time-real=120",
                          "--limit-time-cpu=60", "--log-level=info", *self.series.without_demo),
            stdout=self.log_file, stderr=subprocess.STDOUT, env=clean_env_for(self.python), cwd=ROOT,
            start_new_session=True,
        )
        self.procs.append(p)
        self.odoo = p

        def health() -> bool:
            try:
                with urllib.request.urlopen(self.base + "/web/health", timeout=5) as r:  # noqa: S310
                    return r.status == 200
            except OSError:
                return False

        if not wait_for(health, 60, 0.3) or p.poll() is not None:
            raise RuntimeError(f"Odoo did not answer on {self.base} (exit {p.poll()}); log {self.log_path}")

    # -- Odoo's log --------------------------------------------------------------------

    def log_lines(self) -> list[str]:
        self.log_file.flush()
        return self.log_path.read_text(errors="replace").splitlines()

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    def requests_since(self, offset: int) -> list[dict[str, Any]]:
        """werkzeug's request lines written after `offset`: pid, path, status, SQL and other time."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        out = []
        for line in text.splitlines():
            m = RECORD.match(line)
            if not m or m["logger"] != "werkzeug":
                continue
            r = REQUEST.search(m["msg"])
            if r:
                # 19.0 logs JSON-RPC paths with "#model.method" appended
                out.append({"pid": int(m["pid"]), "method": r["method"], "path": r["path"].split("#")[0],
                            "status": int(r["status"]), "queries": int(r["queries"]),
                            "sql": float(r["sql"]), "other": float(r["other"]),
                            "server_ms": (float(r["sql"]) + float(r["other"])) * 1000})
        return out

    def wait_request_line(self, offset: int, path_part: str, count: int = 1, seconds: float = 5.0) -> list[dict[str, Any]]:
        """werkzeug logs a request after answering it: wait for its line."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            found[:] = [r for r in self.requests_since(offset) if path_part in r["path"]]
            return len(found) >= count

        wait_for(seen, seconds, 0.02)
        return found

    def worker_pids(self) -> dict[str, set[int]]:
        kinds: dict[str, set[int]] = {"WorkerHTTP": set(), "WorkerCron": set()}
        for line in self.log_lines():
            m = WORKER_ALIVE.search(line)
            if m:
                kinds[m["kind"]].add(int(m["pid"]))
        return kinds

    def errors_in_log(self) -> list[str]:
        return [ln for ln in self.log_lines() if E.BAD_LOG_LINE.search(ln)]

    # -- data ----------------------------------------------------------------------------

    def admin(self) -> Rpc:
        return Rpc(self.base).login(self.db, "admin", self.args.admin_password)

    def setup_data(self, users: int, demo_provider: bool = False) -> None:
        """As admin: currencies, both providers on the sandbox, terminals, webhook URL,
        partner, product, pricelists, salesman users; warms both workers up."""
        t0 = time.monotonic()
        a = self.admin()
        self.admin_rpc = a
        self.company_id = a.context.get("allowed_company_ids", [None])[0] or a.kw("res.users", "read", [a.uid], ["company_id"])[0]["company_id"][0]
        cur = {c["name"]: c["id"] for c in a.kw("res.currency", "search_read", [("name", "in", ["KWD", "CAD"])],
                                                ["name"], context={"active_test": False})}
        a.kw("res.currency", "write", list(cur.values()), {"active": True})
        self.currency_ids = cur
        creds = self.hesabe_credentials()
        providers = {p["code"]: p["id"] for p in a.kw("payment.provider", "search_read",
                                                      [("code", "in", [HESABE, HELCIM])], ["code"])}
        common = {"state": "test", "company_id": self.company_id, "posbridge_environment": "embedded",
                  "posbridge_sandbox_url": self.sandbox_url}
        a.kw("payment.provider", "write", [providers[HESABE]], {**common, **{f"hesabe_{k}": v for k, v in creds["hesabe"].items()}})
        a.kw("payment.provider", "write", [providers[HELCIM]], {
            **common, "helcim_api_token": creds["helcim_api_token"],
            "helcim_verifier_token": creds["helcim_verifier_token"], "helcim_currency": "CAD"})
        self.providers = providers
        a.button("payment.provider", "action_posbridge_sync_terminals", [providers[HESABE], providers[HELCIM]])
        terms = a.kw("posbridge.terminal", "search_read", [], ["vendor_ref", "provider_id"])
        self.terminals = {t["vendor_ref"]: t["id"] for t in terms}
        self.webhook_url = f"{self.base}/posbridge/webhook/{providers[HELCIM]}"
        self.sandbox.set_webhook_url(self.webhook_url)
        # One customer per order, as at a counter (one shared partner makes every confirmation
        # update the same res_partner row: serialization failures that are not the addon's).
        self.partner_ids = a.kw("res.partner", "create", [
            {"name": f"Customer {i + 1}", "email": f"customer{i + 1}@example.com", "phone": f"+9655000{i + 1:04d}"}
            for i in range(self.args.partners)])
        self.partner_id = self.partner_ids[0]
        self._partner_i = 0
        self.product_id = a.kw("product.product", "create", {"name": "Espresso machine", "list_price": 12.5,
                                                             "type": "consu", "invoice_policy": "order",
                                                             "taxes_id": [(5, 0, 0)]})
        self.pricelists = {name: a.kw("product.pricelist", "create", {"name": f"pbb {name}", "currency_id": cid})
                           for name, cid in cur.items()}
        group = xmlid(a, "sales_team.group_sale_salesman")
        self.users = []
        for i in range(users):
            login = f"pbb_salesman_{i + 1}"
            a.kw("res.users", "create", {"name": f"Salesman {i + 1}", "login": login, "password": login,
                                         self.series.groups_field: [(6, 0, [group])]})
            self.users.append(login)
        if not self.args.confirmation_pdf:
            # wkhtmltopdf fetches the report's CSS from this same server: with 2 workers both
            # rendering a confirmation PDF, nobody serves it and both hang until limit-time-real.
            a.kw("mail.template", "write", [xmlid(a, "sale.mail_template_sale_confirmation")],
                 {"report_template_ids": [(5, 0, 0)]})
        if demo_provider:
            demo = a.kw("payment.provider", "search_read", [("code", "=", "demo")], ["id", "payment_method_ids"])[0]
            a.kw("payment.provider", "write", [demo["id"]], {"state": "test", "company_id": self.company_id})
            self.demo_provider_id = demo["id"]
            self.demo_method_id = demo["payment_method_ids"][0]
        # Each worker loads the registry on its first request: warm both (and the routing map).
        with cf.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: self.admin().kw("sale.order", "search_count", []), range(6)))
        self.timings["data set-up"] = time.monotonic() - t0

    def hesabe_credentials(self) -> dict[str, Any]:
        """The sandbox's public credentials (the same in every sandbox), read from the sandbox's
        python so that this script needs no posbridge."""
        code = ("import json; from posbridge import sandbox as s; print(json.dumps({'hesabe': s.HESABE_CREDENTIALS,"
                " 'helcim_api_token': s.HELCIM_API_TOKEN, 'helcim_verifier_token': s.HELCIM_VERIFIER_TOKEN}))")
        p = subprocess.run([self.python, "-c", code], text=True, capture_output=True, cwd="/",
                           env=clean_env_for(self.python), check=True)
        return dict(json.loads(p.stdout))

    def salesman(self, login: str) -> Rpc:
        return Rpc(self.base).login(self.db, login, login)

    def listen(self, rpc: Rpc, channels: tuple[str, ...] = ()) -> LiveRefresh:
        """A websocket on Odoo's gevent port with `rpc`'s session, as the user's open tab (and
        a register's POS when `channels` holds its access token)."""
        listener = LiveRefresh(self, rpc, channels)
        self.procs.append(listener.proc)
        return listener

    # -- tear-down -------------------------------------------------------------------------

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for p in reversed(self.procs):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        with contextlib.suppress(Exception):
            self.log_file.close()
        if self.args.keep_db:
            say(f"kept database {self.db} (dropdb {self.db})")
        else:
            E.drop_db(self.db)


class LiveRefresh:
    """The bus notifications one user's browser tab receives over Odoo's websocket process
    (`odoo-bin gevent` on the gevent port): tests_odoo/ws_listen.py, run by Odoo's python."""

    def __init__(self, stack: Stack, rpc: Rpc, channels: tuple[str, ...] = ()):
        self.uid = rpc.uid
        self.received: list[tuple[float, dict[str, Any]]] = []
        url = f"ws://127.0.0.1:{stack.gevent_port}/websocket"
        self.proc = subprocess.Popen([stack.python, str(HERE / "ws_listen.py"), url, rpc.session_id(), *channels],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=clean_env_for(stack.python), cwd="/", start_new_session=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if '"ready"' not in first:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"no websocket for user {self.uid} at {url}: {first!r} {err[-500:]}")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.received.append((time.monotonic(), json.loads(line)))

    def updates(self) -> dict[int, list[str]]:
        """``{order id: [state, ...]}`` of the terminal updates received so far."""
        found: dict[int, list[str]] = {}
        for _, message in list(self.received):
            if message.get("type") == "posbridge.terminal_update":
                for order_id in message["payload"].get("sale_order_ids", []):
                    found.setdefault(order_id, []).append(message["payload"].get("state"))
        return found


#: The registers' terminals, per vendor (the sandbox's Hesabe references and Helcim devices).
POS_TERMINALS = {"hesabe": ["29708454", "48515", "2011687", "yutre34567"], "helcim": ["DY6L", "NBL7", "XY7Z", "JSV5"]}


class Pos:
    """The POS side of a stack with pos_posbridge: a terminal payment method per vendor and cash, and
    `per_vendor` registers per vendor, each with its own terminal and an open session; the verbs
    as the POS's JS calls them (bench/bench_pos.py, tests_odoo/screens.py --pos)."""

    def __init__(self, stack: Stack, per_vendor: int = 4):
        self.stack = stack
        a = self.a = stack.admin_rpc
        cur = stack.currency_ids
        self.methods: dict[str, int] = {}
        self.receipts = itertools.count(1)  # the receipt numbers of the orders paid on a terminal
        self.registers: list[dict[str, Any]] = []
        for vendor, currency, code in (("hesabe", "KWD", HESABE), ("helcim", "CAD", HELCIM)):
            bank = a.kw("account.journal", "create", {"name": f"Card {currency}", "type": "bank",
                                                       "code": f"B{currency}", "currency_id": cur[currency]})
            self.methods[vendor] = a.kw("pos.payment.method", "create", {
                "name": f"Card ({vendor})", "journal_id": bank, "payment_method_type": "terminal",
                "use_payment_terminal": code, "posbridge_provider_id": stack.providers[code]})
            sales = a.kw("account.journal", "create", {"name": f"POS {currency}", "type": "sale",
                                                        "code": f"P{currency}", "currency_id": cur[currency]})
            refs = POS_TERMINALS[vendor][:per_vendor]
            for i, ref in enumerate(refs):
                pricelist = stack.pricelists[currency]
                # and cash, as at a counter (with a single method, the POS sends each order to the
                # terminal as the payment screen opens); a till and its method per register
                till = a.kw("account.journal", "create", {"name": f"Cash {currency} {i + 1}", "type": "cash",
                                                           "code": f"C{currency[:2]}{i + 1}", "currency_id": cur[currency]})
                cash = a.kw("pos.payment.method", "create", {"name": f"Cash {currency}", "journal_id": till,
                                                              "is_cash_count": True})
                config = a.kw("pos.config", "create", {
                    "name": f"{vendor} register {i + 1}", "journal_id": sales, "use_pricelist": True,
                    "pricelist_id": pricelist, "available_pricelist_ids": [(6, 0, [pricelist])],
                    "payment_method_ids": [(6, 0, [self.methods[vendor], cash])]})
                a.kw("posbridge.terminal", "write", [stack.terminals[ref]], {"pos_config_ids": [(4, config)]})
                token = uuid.uuid4().hex
                a.kw("pos.config", "write", [config], {"access_token": token})
                session = a.kw("pos.session", "create", {"config_id": config, "user_id": a.uid})
                self.registers.append({"vendor": vendor, "config": config, "ref": ref, "token": token,
                                       "session": session, "pricelist": pricelist, "cash": cash})

    def sync_order(self, register: dict[str, Any], amount: float, terminal_reference: str | None = None) -> int:
        """The POS saves a paid one-line order (Odoo's own `pos.order.sync_from_ui`, as the POS
        calls it when the cashier validates), paid by the request `terminal_reference` (its line
        carries the reference, as posbridge_core.js fills it) or else in cash: the order's id."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        payment = {"amount": amount, "name": stamp, "payment_method_id": register["cash"]}
        if terminal_reference:
            payment.update(payment_method_id=self.methods[register["vendor"]], posbridge_reference=terminal_reference,
                           posbridge_attempt=1, payment_status="done")
        order_uuid = str(uuid.uuid4())
        order = {
            "uuid": order_uuid, "name": f"Order {order_uuid}", "session_id": register["session"], "state": "paid",
            "user_id": self.a.uid, "pricelist_id": register["pricelist"], "fiscal_position_id": False,
            "partner_id": self.stack.partner_id, "date_order": stamp, "sequence_number": 1, "to_invoice": False,
            "last_order_preparation_change": "{}", "amount_total": amount, "amount_tax": 0, "amount_paid": amount,
            "amount_return": 0,
            "lines": [(0, 0, {"product_id": self.stack.product_id, "qty": 1, "price_unit": amount, "discount": 0,
                              "price_subtotal": amount, "price_subtotal_incl": amount, "tax_ids": [(6, 0, [])],
                              "pack_lot_ids": []})],
            "payment_ids": [(0, 0, payment)],
        }
        return self.a.kw("pos.order", "sync_from_ui", [order])["pos.order"][0]["id"]

    def send(self, register: dict[str, Any], amount: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """The cashier presses the method: the answer and the request line's figures."""
        off = self.stack.log_offset()
        t0 = time.perf_counter()
        answer = self.a.kw("pos.payment.method", "posbridge_pos_send", [self.methods[register["vendor"]]], {
            "config_id": register["config"], "order_uuid": str(uuid.uuid4()), "order_name": f"Order {register['config']:05d}-001-{next(self.receipts):04d}",
            "line_uuid": str(uuid.uuid4()), "attempt": 1, "amount": amount, "partner_id": self.stack.partner_id})
        rtt = (time.perf_counter() - t0) * 1000
        line = self.stack.wait_request_line(off, "posbridge_pos_send")
        return answer, {"send_rtt_ms": rtt, "send_server_ms": line[0]["server_ms"] if line else None,
                        "send_queries": line[0]["queries"] if line else None}

    def status(self, register: dict[str, Any], reference: str, rpc: Rpc | None = None) -> dict[str, Any]:
        return (rpc or self.a).kw("pos.payment.method", "posbridge_pos_status", [self.methods[register["vendor"]]],
                                  register["config"], reference)

    def cancel(self, register: dict[str, Any], reference: str) -> None:
        self.a.kw("pos.payment.method", "posbridge_pos_cancel", [self.methods[register["vendor"]]],
                  register["config"], reference)


def _ok(fn: Any) -> bool:
    try:
        fn()
        return True
    except Exception:  # noqa: BLE001
        return False


def watchdog(stack: Stack, seconds: float) -> threading.Timer:
    def fire() -> None:
        say(f"ERROR: still running after {seconds:.0f} s: stopping everything")
        stack.close()
        print("0 passed, 1 failed", flush=True)
        os._exit(3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


# ----------------------------------------------------------------------------- the flows


def create_order(rpc: Rpc, stack: Stack, currency: str, price: float) -> int:
    with stack.lock:
        partner = stack.partner_ids[stack._partner_i % len(stack.partner_ids)]
        stack._partner_i += 1
    return int(rpc.kw("sale.order", "create", {
        "partner_id": partner, "pricelist_id": stack.pricelists[currency],
        "order_line": [(0, 0, {"product_id": stack.product_id, "product_uom_qty": 1, "price_unit": price})],
    }))


def open_wizard(rpc: Rpc, order_id: int, terminal_id: int) -> tuple[int, dict[str, Any]]:
    ctx = {"active_model": "sale.order", "active_id": order_id, "active_ids": [order_id]}
    wid = int(rpc.kw("posbridge.pay.wizard", "create", {"terminal_id": terminal_id}, context=ctx))
    return wid, ctx


def send(rpc: Rpc, wizard_id: int, ctx: dict[str, Any]) -> Any:
    """The wizard's Send button."""
    return rpc.button("posbridge.pay.wizard", "action_send", [wizard_id], ctx)


def pending_tx(rpc: Rpc, order_id: int) -> dict[str, Any]:
    order = rpc.read1("sale.order", order_id, ["posbridge_pending_transaction_id"])
    tx_id = order["posbridge_pending_transaction_id"][0]
    return rpc.read1("payment.transaction", tx_id, ["reference", "provider_reference", "state"])


def wait_confirmed(rpc: Rpc, order_id: int, seconds: float = 30.0) -> bool:
    return wait_for(lambda: rpc.read1("sale.order", order_id, ["state"])["state"] == "sale", seconds, 0.1)


def concurrent_orders(stack: Stack, n_orders: int, users: int, hesabe_orders: int,
                      helcim_devices: list[str], hesabe_terminals: list[str]) -> dict[str, Any]:
    """`users` salespeople push `n_orders` orders at once and their customers pay: CAD orders
    to a pool of Helcim devices (a user waits for a free device), `hesabe_orders` KWD orders to
    Hesabe terminals. Each user waits until its order is confirmed before the next."""
    pools: dict[str, queue.Queue[str]] = {"CAD": queue.Queue(), "KWD": queue.Queue()}
    for code in helcim_devices:
        pools["CAD"].put(code)
    for ref in hesabe_terminals:
        pools["KWD"].put(ref)
    jobs: queue.Queue[tuple[int, str]] = queue.Queue()
    every = max(n_orders // max(hesabe_orders, 1), 1) if hesabe_orders else 0
    kinds = []
    for i in range(n_orders):
        kinds.append("KWD" if hesabe_orders and i % every == every - 1 and kinds.count("KWD") < hesabe_orders else "CAD")
    for i, cur in enumerate(kinds):
        jobs.put((i, cur))
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()
    sessions = [stack.salesman(login) for login in stack.users[:users]]
    listeners = {rpc.uid: stack.listen(rpc) for rpc in sessions}

    def user_loop(rpc: Rpc) -> None:
        while True:
            try:
                i, cur = jobs.get_nowait()
            except queue.Empty:
                return
            price = 10.0 + i + (0.99 if cur == "CAD" else 0.125)
            t0 = time.monotonic()
            try:
                order_id = create_order(rpc, stack, cur, price)
                device = pools[cur].get(timeout=30)
                waited = time.monotonic() - t0
                stuck = True  # a device whose request failed half-way stays busy in Odoo: retire it
                try:
                    wid, ctx = open_wizard(rpc, order_id, stack.terminals[device])
                    ts = time.monotonic()
                    send(rpc, wid, ctx)
                    send_ms = (time.monotonic() - ts) * 1000
                    if cur == "CAD":
                        stack.sandbox.helcim_complete(device, "approved", "VI")
                    else:
                        tx = pending_tx(rpc, order_id)
                        stack.sandbox.hesabe_pay(tx["provider_reference"])
                        rpc.button("sale.order", "action_posbridge_check_status", [order_id])
                    ok = wait_confirmed(rpc, order_id)
                    stuck = not ok
                finally:
                    if not stuck:
                        pools[cur].put(device)
                with lock:
                    results.append({"order_id": order_id, "currency": cur, "device": device, "confirmed": ok,
                                    "send_ms": send_ms, "queue_wait_s": waited, "user": rpc.uid,
                                    "seconds": time.monotonic() - t0, "confirmed_at": time.monotonic()})
            except Exception as error:  # noqa: BLE001
                with lock:
                    errors.append(f"order {i} ({cur}): {type(error).__name__}: {error}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=user_loop, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"wall_s": time.monotonic() - t0, "results": results, "errors": errors, "kinds": kinds,
            "listeners": listeners}


def live_refresh_report(run: dict[str, Any], seconds: float = 10.0) -> dict[str, Any]:
    """Whether each order's user got its "done" terminal update over the websocket (waiting up
    to `seconds` for the last ones), and how long after the user saw the order confirmed."""
    wanted = {(r["user"], r["order_id"]): r for r in run["results"] if r["confirmed"]}

    def missing() -> list[tuple[int, int]]:
        return [(uid, oid) for uid, oid in wanted if "done" not in run["listeners"][uid].updates().get(oid, [])]

    wait_for(lambda: not missing(), seconds, 0.1)
    lags = []
    for (uid, oid), result in wanted.items():
        for at, message in run["listeners"][uid].received:
            payload = message.get("payload") or {}
            if message.get("type") == "posbridge.terminal_update" and oid in payload.get("sale_order_ids", []) \
                    and payload.get("state") == "done":
                lags.append((at - result["confirmed_at"]) * 1000)
                break
    return {"orders": len(wanted), "missing": missing(), "lag_ms": sorted(lags)}


def double_send(stack: Stack, device: str) -> dict[str, Any]:
    """One order, one wizard, Send pressed twice at once: two sessions of the same user (two
    tabs), two threads, released by a barrier so that both requests reach the two workers."""
    login = stack.users[0]
    a, b = stack.salesman(login), stack.salesman(login)
    order_id = create_order(a, stack, "CAD", 42.42)
    wid, ctx = open_wizard(a, order_id, stack.terminals[device])
    before = stack.sandbox.stats()
    offset = stack.log_offset()
    barrier = threading.Barrier(2)
    outcome: list[str] = ["", ""]

    def press(i: int, rpc: Rpc) -> None:
        barrier.wait()
        try:
            send(rpc, wid, ctx)
            outcome[i] = "sent"
        except RpcError as error:
            outcome[i] = f"refused: {error.message.splitlines()[0][:140]}"
        except Exception as error:  # noqa: BLE001
            outcome[i] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=press, args=(i, r)) for i, r in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = stack.sandbox.stats()
    lines = stack.wait_request_line(offset, "action_send", count=2)
    txs = stack.admin_rpc.kw("payment.transaction", "search_read", [("sale_order_ids", "in", [order_id])],
                             ["reference", "state"])
    # then the customer pays it: the order must end confirmed with one payment
    paid = False
    if len(txs) == 1:
        stack.sandbox.helcim_complete(device, "approved", "VI")
        paid = wait_confirmed(a, order_id)
    return {"order_id": order_id, "outcomes": outcome,
            "purchases_started": after["purchases_started"] - before["purchases_started"],
            "transactions": len(txs), "pids": sorted({r["pid"] for r in lines}), "confirmed": paid}


def order_report(admin: Rpc, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per order: state, its transactions and their account.payment records (as admin)."""
    orders = admin.kw("sale.order", "read", order_ids, ["state", "amount_total", "amount_paid", "transaction_ids"])
    tx_ids = [t for o in orders for t in o["transaction_ids"]]
    txs = {t["id"]: t for t in admin.kw("payment.transaction", "read", tx_ids, ["state", "payment_id", "provider_code"])}
    pay_ids = [t["payment_id"][0] for t in txs.values() if t["payment_id"]]
    pays = {p["id"]: p for p in admin.kw("account.payment", "read", pay_ids, ["state", "amount"])} if pay_ids else {}
    out = {}
    for o in orders:
        ts = [txs[t] for t in o["transaction_ids"]]
        ps = [pays[t["payment_id"][0]] for t in ts if t["payment_id"]]
        out[o["id"]] = {"state": o["state"], "transactions": len(ts), "done": sum(t["state"] == "done" for t in ts),
                        "payments": len(ps), "posted": sum(p["state"] in ("in_process", "paid") for p in ps)}
    return out


# ----------------------------------------------------------------------------- main


def common_args(ap: argparse.ArgumentParser, port: int) -> None:
    ap.add_argument("--series", help="the Odoo series, e.g. 19.0 (default: the newest whose tree is here)")
    ap.add_argument("--odoo-src", help="the series' Odoo tree holding odoo-bin (default: $ODOO_TREES/<series>)")
    ap.add_argument("--odoo-python", help="a python with Odoo's requirements and posbridge (default: $ODOO_PYTHON, "
                    "else .venv-odoo/<series> built by tests_odoo/odoo_env.py)")
    ap.add_argument("--no-install", action="store_true", help="use .venv-odoo/<series> as it is (no wheel rebuild)")
    ap.add_argument("--template", help="database to clone (default: $PBB_TEMPLATE, else pbt_base)")
    ap.add_argument("--admin-password", default="admin")
    ap.add_argument("--port", type=int, default=port, help="first port to try for Odoo (default %(default)s; "
                    "the gevent port and the sandbox take the next free ones)")
    ap.add_argument("--sandbox-port", type=int, default=0)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--install-timeout", type=float, default=150)
    ap.add_argument("--partners", type=int, default=40, help="customers the orders cycle through")
    ap.add_argument("--confirmation-pdf", action="store_true",
                    help="keep the PDF on the order confirmation mail (default: removed from the template in the "
                    "test database: with 2 workers, concurrent renders deadlock on wkhtmltopdf's asset requests)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap, 18300)
    ap.add_argument("--orders", type=int, default=20)
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--hesabe-orders", type=int, default=4, help="how many of the orders are KWD to Hesabe")
    ap.add_argument("--helcim-devices", default="DY6L,NBL7,XY7Z", help="the pool of Helcim devices the users share")
    ap.add_argument("--double-send-device", default="JSV5")
    ap.add_argument("--cron-threads", type=int, default=1, help="--max-cron-threads (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=180, help="stop everything after this many seconds")
    args = ap.parse_args()
    args.series = E.series(args.series, args.odoo_src).name

    t_start = time.monotonic()
    stack = Stack(args, "prefork", modules=("posbridge",), helcim_limits="helcim", cron_threads=args.cron_threads)
    dog = watchdog(stack, args.timeout)
    passed: list[str] = []
    failed: list[str] = []

    def check(ok: bool, what: str, detail: Any = "") -> None:
        (passed if ok else failed).append(what)
        say(f"{'PASS' if ok else 'FAIL'} {what}" + (f": {detail}" if detail not in ("", None) else ""))

    try:
        stack.start()
        stack.setup_data(args.users)
        devices = [d.strip().upper() for d in args.helcim_devices.split(",") if d.strip()]
        hesabe_refs = ["29708454", "48515"]
        missing = [d for d in devices + hesabe_refs + [args.double_send_device] if d not in stack.terminals]
        if missing:
            raise RuntimeError(f"terminals {missing} not synced: {sorted(stack.terminals)}")
        before = stack.sandbox.stats()
        n_deliveries = len(stack.sandbox.deliveries())
        offset = stack.log_offset()

        say(f"{args.users} users push {args.orders} orders ({args.hesabe_orders} KWD to Hesabe "
            f"{'+'.join(hesabe_refs)}, the rest CAD to Helcim {'+'.join(devices)}) ...")
        run = concurrent_orders(stack, args.orders, args.users, args.hesabe_orders, devices, hesabe_refs)
        after = stack.sandbox.stats()
        n_cad = run["kinds"].count("CAD")
        n_kwd = run["kinds"].count("KWD")
        say(f"{len(run['results'])} orders in {run['wall_s']:.1f} s")
        check(not run["errors"], "every push and payment went through", "; ".join(run["errors"][:5]))
        ids = [r["order_id"] for r in run["results"]]
        report = order_report(stack.admin_rpc, ids) if ids else {}
        check(len(ids) == args.orders and all(r["state"] == "sale" for r in report.values()),
              f"all {args.orders} orders confirmed (state sale)",
              {o: r["state"] for o, r in report.items() if r["state"] != "sale"} or f"{len(ids)} orders")
        check(bool(report) and all(r["transactions"] == 1 and r["done"] == 1 for r in report.values()),
              "one transaction per order, done", {o: r for o, r in report.items() if r["transactions"] != 1 or r["done"] != 1})
        check(bool(report) and all(r["payments"] == 1 and r["posted"] == 1 for r in report.values()),
              "one posted account.payment per order", {o: r for o, r in report.items() if r["posted"] != 1 or r["payments"] != 1})
        started = after["purchases_started"] - before["purchases_started"]
        created = after["pos_invoices_created"] - before["pos_invoices_created"]
        check(started == n_cad and created == n_kwd, "one vendor request per order",
              f"Helcim purchases_started {started} for {n_cad} CAD orders, Hesabe pos_invoices_created {created} for {n_kwd} KWD orders")
        new = stack.sandbox.deliveries()[n_deliveries:]
        ids_200 = {d["webhook_id"] for d in new if d.get("status") == 200}
        not_200 = [d for d in new if d.get("status") != 200]
        check(len(ids_200) == n_cad and not not_200 and all(d["attempt"] == 1 for d in new),
              "every Helcim webhook answered 200 by Odoo at its first attempt",
              f"{len(ids_200)} webhooks answered 200 for {n_cad} CAD orders; other attempts: {not_200[:3]}")

        live = live_refresh_report(run)
        check(not live["missing"], "live refresh: each user's open tab got its orders' done update over the "
              "websocket process", live["missing"] or
              f"{live['orders']} orders; received {live['lag_ms'][len(live['lag_ms']) // 2]:+.0f} ms (median) "
              f"after the user's poll saw the order confirmed" if live["lag_ms"] else live)

        reqs = stack.requests_since(offset)
        workers = stack.worker_pids()
        http_pids = workers["WorkerHTTP"]
        hooks = [r for r in reqs if r["path"].startswith("/posbridge/webhook/")]
        sends = [r for r in reqs if r["path"].endswith("/action_send")]
        hook_pids = {r["pid"] for r in hooks}
        send_pids = {r["pid"] for r in sends}
        check(len(hooks) == n_cad and all(r["status"] == 200 for r in hooks),
              "Odoo's log shows each webhook answered 200", f"{len(hooks)} webhook lines")
        check(bool(http_pids) and bool(sends) and hook_pids <= http_pids
              and stack.odoo.pid not in hook_pids | send_pids and send_pids <= http_pids,
              f"webhooks and sends served by forked HTTP workers (main pid {stack.odoo.pid})",
              f"HTTP workers {sorted(http_pids)}, cron {sorted(workers['WorkerCron'])}; webhooks by {sorted(hook_pids)}, sends by {sorted(send_pids)}")
        check(len(http_pids) == 2 and len(hook_pids | send_pids) == 2, "both workers served requests",
              f"{len(hook_pids | send_pids)} distinct pids")
        if sends:
            ms = sorted(r["server_ms"] for r in sends)
            say(f"action_send server time under load: median {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms; "
                f"webhook median {sorted(r['server_ms'] for r in hooks)[len(hooks) // 2]:.0f} ms" if hooks else "")

        say("double send: one order, Send pressed twice at once from two threads ...")
        ds = double_send(stack, args.double_send_device)
        check(ds["purchases_started"] == 1, "double send: one vendor request", ds)
        check(ds["transactions"] == 1, "double send: one transaction", ds["outcomes"])
        check(sorted(o == "sent" for o in ds["outcomes"]) == [False, True],
              "double send: one Send succeeds, the other is refused with a message", ds["outcomes"])
        check(ds["confirmed"], "double send: the order is then paid and confirmed")
        check(len(ds["pids"]) == 2, "double send: the two clicks were served by two workers at once", ds["pids"])

        errs = stack.errors_in_log()
        check(not errs, "no ERROR/CRITICAL line in Odoo's log", "\n".join(errs[:10]))
        tracebacks = sum("Traceback (most recent call last)" in ln for ln in stack.log_lines())
        check(tracebacks == 0, "no traceback in Odoo's log", f"{tracebacks} tracebacks")
    except Exception as error:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        check(False, f"run aborted: {type(error).__name__}: {error}")
    finally:
        dog.cancel()
        stack.close()
    say(f"total {time.monotonic() - t_start:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in stack.timings.items())}); "
        f"Odoo log {stack.log_path}")
    print(f"Odoo {args.series} prefork: {len(passed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the test modules: sandbox counters, a closed port, and a tiny threaded
HTTP server that stands in for a vendor so that a test can see exactly what goes on the wire."""

from __future__ import annotations

import contextlib
import json
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from posbridge import sandbox

POS_TRANSACTION = "/api/v1/merchant/smartpos-transaction"
POS_TERMINALS = "/api/v1/merchant/smartpos-terminals"
POS_INVOICES = "/api/v1/merchant/smartpos-invoices"
LOGIN = "/api/v1/login"

#: The arguments of seed 001's example create request.
SEED_CREATE: Dict[str, Any] = dict(terminal_id="29708454", amount=Decimal("0.100"), customer_name="Salman", description="test")


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def sandbox_in_another_process(*args: str) -> Iterator[Dict[str, Any]]:
    """``posbridge sandbox --json ARGS`` in a subprocess: its JSON line (``url``, credentials),
    plus ``process``; stopped with Ctrl-C (SIGINT) afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "posbridge", "sandbox", "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "posbridge sandbox --json printed nothing in 30 s"
        info: Dict[str, Any] = json.loads(proc.stdout.readline())
        info["process"] = proc
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def hits(sb: sandbox.Sandbox, method: str, path: str) -> int:
    """How many ``method path`` requests the sandbox has received."""
    return int(sb.stats()["by_path"].get(f"{method} {path}", 0))


def floats_in(value: Any) -> List[float]:
    """Every float inside a decoded vendor reply (money must be Decimal, never float)."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats_in(v)]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in floats_in(v)]
    return []


# -- a fake vendor -----------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


Reply = Union[Tuple[int, Union[str, bytes, dict, list]], Tuple[int, Union[str, bytes, dict, list], Dict[str, str]]]
Route = Callable[[Recorded], Reply]
#: A route's payload that makes the fake close the connection without answering.
DROP = b"<drop the connection>"


@dataclass
class FakeVendor:
    """Records every request and answers from ``routes`` (``(method, path) -> fn(request)``
    returning ``(status, payload)`` or ``(status, payload, headers)``; payload :data:`DROP`
    closes the connection unanswered)."""

    routes: Dict[Tuple[str, str], Route] = field(default_factory=dict)
    requests: List[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                rec = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                fake.requests.append(rec)
                route = fake.routes.get((self.command, path))
                reply = route(rec) if route else (404, {"message": "Not Found"})
                status, payload = reply[0], reply[1]
                headers: Dict[str, str] = reply[2] if len(reply) > 2 else {}  # type: ignore[misc]
                if payload is DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = payload if isinstance(payload, bytes) else (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def to(self, method: str, path: str) -> List[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.split("?", 1)[0] == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "FakeVendor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class FakeHesabe(FakeVendor):
    """A fake Hesabe: login answers with known tokens unless a route overrides it."""

    access_token: str = "eyJ0eXAiOiJKV1QifQ.fake-access-token.Zm9vYmFy-4815162342"
    refresh_token: str = "def50200fakefakefake0123456789abcdef"
    expires_in: int = 900

    def __post_init__(self) -> None:
        self.routes.setdefault(("POST", LOGIN), self._login)
        super().__post_init__()

    def _login(self, rec: Recorded) -> Reply:
        return 200, {
            "status": True,
            "message": "Success",
            "response": {
                "token": {
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                }
            },
        }

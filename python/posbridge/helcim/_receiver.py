"""A small webhook receiver on 127.0.0.1 (``posbridge helcim listen``, the demo, tests): it
answers as Helcim's docs and riverside-os suggest, so Helcim retries what was not taken.

- 200: verified and new (handed to ``on_event``), or a duplicate ``webhook-id`` (ignored);
- 401: not verified (a webhook header missing or malformed, no signature matching, a stale
  timestamp): :class:`~posbridge.SignatureError`;
- 400: verified, but the body is not a webhook object; 500: ``on_event`` raised.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, List, Optional

from .. import _native
from ..errors import DecodeError, SignatureError

#: ``webhook-id`` values remembered for deduplication.
_SEEN_MAX = 10_000
#: Largest body read (Helcim's webhooks are a few hundred bytes).
_MAX_BODY = 1 << 20


class WebhookReceiver:
    """Receives Helcim webhooks on ``http://127.0.0.1:PORT/`` (any path) in a background
    thread until :meth:`close`.

    :param on_event: called with each new verified event (duplicates are not passed on); an
        exception it raises makes the reply 500, so the sender retries.
    """

    def __init__(
        self,
        verifier_token: str,
        *,
        port: int = 0,
        tolerance: float = 300.0,
        on_event: Optional[Callable[[_native.WebhookEvent], None]] = None,
    ) -> None:
        self.events: List[_native.WebhookEvent] = []
        self.rejected: List[str] = []
        self.duplicates = 0
        self._seen: "OrderedDict[str, None]" = OrderedDict()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(min(length, _MAX_BODY))
                status, text = receiver._take(self.headers.items(), body, verifier_token, tolerance, on_event)
                payload = text.encode()
                self.send_response(status)
                self.send_header("content-type", "text/plain; charset=utf-8")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="posbridge-webhooks", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/webhooks``: give it to ``sb.helcim_webhook_url``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def _take(self, headers: Any, body: bytes, token: str, tolerance: float, on_event: Any) -> "tuple[int, str]":
        try:
            event = _native.verify_webhook(headers, body, token, tolerance)
        except SignatureError as error:
            with self._lock:
                self.rejected.append(str(error))
            return 401, str(error)
        except DecodeError as error:
            with self._lock:
                self.rejected.append(str(error))
            return 400, str(error)
        with self._lock:
            if event.webhook_id in self._seen:
                self.duplicates += 1
                return 200, "duplicate"
            self._seen[event.webhook_id] = None
            if len(self._seen) > _SEEN_MAX:
                self._seen.popitem(last=False)
        try:
            if on_event is not None:
                on_event(event)
        except Exception as error:  # the sender retries; the id must be accepted again then
            with self._lock:
                self._seen.pop(event.webhook_id, None)
            return 500, f"handler failed: {type(error).__name__}"
        with self._lock:
            self.events.append(event)
        return 200, "ok"

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> List[_native.WebhookEvent]:
        """Blocks until ``count`` events have been taken (or ``timeout``); returns them all."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.01)
        with self._lock:
            return list(self.events)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "WebhookReceiver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""Kept-alive connections on the sync path: a sync call drives the I/O itself, so nothing
watches the pooled connections between calls. A connection the server closed meanwhile must
be noticed before a request is written on it; otherwise a purchase the server never received
would be reported as OutcomeUnknownError."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from decimal import Decimal
from typing import List, Optional, Tuple

import pytest

from posbridge import helcim


class KeepAliveServer:
    """Answers every request 202 on a kept-alive connection; with ``close_after``, closes each
    connection that long after answering (as a load balancer's idle timeout does)."""

    def __init__(self, close_after: Optional[float]) -> None:
        self.close_after = close_after
        self.requests: List[Tuple[int, bytes]] = []  # (connection number, request line)
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v2"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                self.requests.append((number, head.split(b"\r\n", 1)[0]))
                conn.sendall(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                if self.close_after is not None:
                    time.sleep(self.close_after)
                    return

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def closing_server():
    server = KeepAliveServer(close_after=0.05)
    yield server
    server.close()


def purchase(client: helcim.Client, n: int) -> helcim.PaymentStarted:
    return client.purchase("DY6L", Decimal("1.00"), "CAD", invoice_number=f"INV-{n}")


def test_sync_call_after_the_server_closed_the_idle_connection(closing_server):
    client = helcim.Client(api_token="t", base_url=closing_server.url)
    for n in range(3):
        started = purchase(client, n)  # never OutcomeUnknownError: each request gets a live connection
        assert started.status_code == 202
        time.sleep(0.2)  # the server closes the connection meanwhile
    assert [number for number, _ in closing_server.requests] == [1, 2, 3]


def test_async_call_after_the_server_closed_the_idle_connection(closing_server):
    client = helcim.AsyncClient(api_token="t", base_url=closing_server.url)

    async def main() -> None:
        for n in range(3):
            await client.purchase("DY6L", Decimal("1.00"), "CAD", invoice_number=f"INV-{n}")
            await asyncio.sleep(0.2)

    asyncio.run(main())
    assert [number for number, _ in closing_server.requests] == [1, 2, 3]


def test_sync_calls_reuse_a_live_connection():
    server = KeepAliveServer(close_after=None)
    try:
        client = helcim.Client(api_token="t", base_url=server.url)
        for n in range(5):
            purchase(client, n)
        assert [number for number, _ in server.requests] == [1] * 5
    finally:
        server.close()


def test_sync_calls_from_threads_at_once():
    """Threads share the caller-driven runtime: one drives, the others wait and take over."""
    server = KeepAliveServer(close_after=None)
    try:
        client = helcim.Client(api_token="t", base_url=server.url)
        errors: List[BaseException] = []

        def work(t: int) -> None:
            try:
                for n in range(20):
                    purchase(client, t * 100 + n)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert len(server.requests) == 160
    finally:
        server.close()

"""The runtime rules: fork-safe (Odoo forks workers after import), the GIL released while a
call waits, concurrency on one event loop, and an import that starts nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from decimal import Decimal
from typing import Callable, List

import pytest

from helpers import POS_TERMINALS, hits
from posbridge import hesabe, sandbox

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(body: Callable[[], None], timeout: int = 20) -> int:
    """Runs ``body`` in a forked child under an alarm; returns the child's exit code
    (0 when ``body`` returned, 1 when it raised, -SIGALRM when it hung)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "fork() with threads" (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            signal.alarm(timeout)
            body()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_client_works_in_forked_child_after_parent_used_it(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    aclient = hesabe.AsyncClient(**sb.hesabe_credentials)
    assert len(client.terminals()) == 5  # the parent's runtime, pool and session exist now
    assert len(asyncio.run(aclient.terminals())) == 5
    created_before = sb.stats()["pos_invoices_created"]

    def child() -> None:
        assert len(client.terminals()) == 5
        invoice = client.create_pos_invoice(terminal_id="29708454", amount=Decimal("1.000"), customer_name="Child", invoice_number="FORK-SYNC")
        assert invoice.invoice_number == "FORK-SYNC"

        async def main() -> None:
            assert len(await aclient.terminals()) == 5
            created = await aclient.create_pos_invoice(terminal_id="29708454", amount=Decimal("2.000"), customer_name="Child", invoice_number="FORK-ASYNC")
            assert (await aclient.pos_invoice(created.id)).state == "pending"

        asyncio.run(main())

    assert _in_child(child) == 0
    assert sb.stats()["pos_invoices_created"] == created_before + 2
    # the parent still works afterwards, sync and async
    assert client.find_pos_invoice(invoice_number="FORK-SYNC") is not None
    assert asyncio.run(aclient.find_pos_invoice(invoice_number="FORK-ASYNC")) is not None


def test_forked_child_can_run_its_own_sandbox(sb: sandbox.Sandbox) -> None:
    hesabe.Client(**sb.hesabe_credentials).terminals()

    def child() -> None:
        with sandbox.Sandbox() as own:
            assert len(hesabe.Client(**own.hesabe_credentials).terminals()) == 5

    assert _in_child(child) == 0


def test_two_generations_of_fork(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    client.terminals()

    def grandchild() -> None:
        assert len(client.terminals()) == 5

    def child() -> None:
        assert len(client.terminals()) == 5
        assert _in_child(grandchild, timeout=15) == 0

    assert _in_child(child) == 0


# -- the GIL is released ------------------------------------------------------------------------


def test_sync_calls_from_threads_run_in_parallel(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    client.login()
    before = hits(sb, "GET", POS_TERMINALS)
    sb.inject_fault("delay", path=POS_TERMINALS, delay=0.5, times=8)
    durations: List[float] = []
    errors: List[BaseException] = []

    def work() -> None:
        started = time.monotonic()
        try:
            assert len(client.terminals()) == 5
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        durations.append(time.monotonic() - started)

    threads = [threading.Thread(target=work) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    wall = time.monotonic() - started
    assert not errors, errors
    assert hits(sb, "GET", POS_TERMINALS) == before + 8
    assert min(durations) >= 0.45  # every call really waited on its delayed reply
    assert wall < 2.5, f"8 x 0.5 s took {wall:.2f} s: the calls ran one after another"


def test_python_threads_keep_running_during_a_blocking_call(sb: sandbox.Sandbox) -> None:
    client = hesabe.Client(**sb.hesabe_credentials)
    client.login()
    sb.inject_fault("delay", path=POS_TERMINALS, delay=0.6)
    ticks = 0
    stop = threading.Event()

    def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        client.terminals()
    finally:
        stop.set()
        t.join()
    assert ticks >= 20, ticks


async def test_async_calls_run_concurrently(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials)
    await client.login()
    before = hits(sb, "GET", POS_TERMINALS)
    sb.inject_fault("delay", path=POS_TERMINALS, delay=0.5, times=8)
    started = time.monotonic()
    results = await asyncio.gather(*(client.terminals() for _ in range(8)))
    wall = time.monotonic() - started
    assert all(len(r) == 5 for r in results)
    assert hits(sb, "GET", POS_TERMINALS) == before + 8
    assert 0.45 <= wall < 2.5, wall


async def test_event_loop_is_not_blocked_while_awaiting(sb: sandbox.Sandbox) -> None:
    client = hesabe.AsyncClient(**sb.hesabe_credentials)
    await client.login()
    sb.inject_fault("delay", path=POS_TERMINALS, delay=0.6)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        await client.terminals()
    finally:
        task.cancel()
    assert ticks >= 20, ticks


# -- importing starts nothing -------------------------------------------------------------------

_PROBE = textwrap.dedent(
    """
    import json, os, sys, threading

    def threads():
        return len(os.listdir("/proc/self/task")), threading.active_count()

    seen = {"start": threads()}
    import posbridge
    seen["import posbridge"] = threads()
    posbridge.__version__
    from posbridge import hesabe, sandbox
    import posbridge.cli
    seen["submodules"] = threads()
    codec = hesabe.Codec("PkW64zMe5NVdrlPVNnjo2Jy9nOb7v1Xg", "5NVdrlPVNnjo2Jy9")
    codec.decrypt(codec.encrypt("x"))
    client = hesabe.Client(**sandbox.HESABE_CREDENTIALS)
    client.wire("terminals")
    seen["objects"] = threads()
    if "--start" in sys.argv:
        with sandbox.Sandbox() as sb:
            hesabe.Client(**sb.hesabe_credentials).terminals()
            seen["used"] = threads()
    print(json.dumps(seen))
    """
)


def _probe(*args: str) -> dict:
    env = dict(os.environ)
    env.pop("POSBRIDGE_THREADS", None)
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_import_and_construction_start_no_thread() -> None:
    seen = _probe()
    assert seen["start"] == [1, 1]
    for step in ("import posbridge", "submodules", "objects"):
        assert seen[step] == [1, 1], (step, seen)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_probe_sees_the_runtime_once_it_is_used() -> None:
    # the same probe detects the runtime's threads as soon as something needs it
    seen = _probe("--start")
    assert seen["objects"][0] == 1
    assert seen["used"][0] > 1

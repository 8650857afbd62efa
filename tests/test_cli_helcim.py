"""``posbridge helcim ...`` as a real subprocess against a ``posbridge sandbox`` in another
process: devices, ping, purchase, the local webhook listener, reconciliation, exit codes."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from decimal import Decimal
from typing import Any, Dict, List

from posbridge import helcim, sandbox

from test_cli import clean_env, control, run, sandbox_process  # noqa: F401  (a fixture)


def test_help_explains_helcim() -> None:
    out = run("helcim", "--help")
    assert out.returncode == 0
    for word in ("devices", "ping", "purchase", "refund", "transaction", "listen", "202", "HELCIM_", "never retried"):
        assert word in out.stdout, word
    assert "helcim" in run("--help").stdout


def test_sandbox_json_line_has_helcim(sandbox_process: Dict[str, Any]) -> None:
    url = sandbox_process["url"]
    assert sandbox_process["helcim"] == {
        "api_token": sandbox.HELCIM_API_TOKEN,
        "base_url": url + "/v2",
        "currency": "CAD",
        "verifier_token": sandbox.HELCIM_VERIFIER_TOKEN,
    }


def test_devices_and_ping(sandbox_process: Dict[str, Any], tmp_path: Path) -> None:
    url = sandbox_process["url"]
    table = run("helcim", "--sandbox", url, "devices", env=clean_env(tmp_path))
    assert table.returncode == 0 and "DY6L" in table.stdout and "JFHP" in table.stdout
    listed = run("helcim", "--sandbox", url, "devices", "--code", "y6", "--json", env=clean_env(tmp_path))
    assert [d["code"] for d in json.loads(listed.stdout)] == ["DY6L"]
    assert "listening" in run("helcim", "--sandbox", url, "ping", "dy6l", env=clean_env(tmp_path)).stdout
    refused = run("helcim", "--sandbox", url, "ping", "JFHP", env=clean_env(tmp_path))
    assert refused.returncode == 1 and "DeviceNotListeningError" in refused.stderr and "Traceback" not in refused.stderr


def _read_lines(proc: subprocess.Popen, count: int, timeout: float = 20) -> List[str]:
    lines: List[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < count and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            lines.append(proc.stdout.readline())
    return lines


def test_listen_purchase_complete(sandbox_process: Dict[str, Any], tmp_path: Path) -> None:
    url = sandbox_process["url"]
    listener = subprocess.Popen(
        [sys.executable, "-m", "posbridge", "helcim", "--sandbox", url, "listen", "--port", "0", "--fetch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    try:
        ready, _, _ = select.select([listener.stderr], [], [], 20)
        assert ready, "posbridge helcim listen printed nothing in 20 s"
        # Both lines come at once; the first readline may buffer the second, so no more select.
        assert "now delivers its webhooks here" in listener.stderr.readline()
        assert "listening for Helcim webhooks" in listener.stderr.readline()
        out = run("helcim", "--sandbox", url, "--json", "purchase", "NBL7", "--amount", "10.99", "--invoice-number", "CLI-SO043", env=clean_env(tmp_path))
        assert out.returncode == 0, out.stderr
        started = json.loads(out.stdout)
        assert started["invoice_number"] == "CLI-SO043" and started["status_code"] == 202 and len(started["idempotency_key"]) == 36
        control(url, "/_sandbox/helcim/devices/NBL7/complete", {"outcome": "approved"})
        (event_line,) = _read_lines(listener, 1)
        event = json.loads(event_line)
        assert event["type"] == "cardTransaction" and event["webhook_id"].startswith("msg_")
        found = run("helcim", "--sandbox", url, "transactions", "--invoice-number", "CLI-SO043", "--amount", "10.99", env=clean_env(tmp_path))
        assert found.returncode == 0 and "APPROVED" in found.stdout and event["body"]["id"] in found.stdout
        one = run("helcim", "--sandbox", url, "transaction", event["body"]["id"], env=clean_env(tmp_path))
        assert one.returncode == 0 and "CLI-SO043" in one.stdout
    finally:
        listener.send_signal(signal.SIGINT)
        assert listener.wait(10) == 0
        listener.stdout.close()
        listener.stderr.close()


def test_purchase_wait_polls_for_the_outcome(sandbox_process: Dict[str, Any], tmp_path: Path) -> None:
    url = sandbox_process["url"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "posbridge", "helcim", "--sandbox", url, "purchase", "XY7Z", "--amount", "5", "--invoice-number", "CLI-WAIT", "--wait", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(tmp_path),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            control(url, "/_sandbox/helcim/devices/XY7Z/complete", {"outcome": "declined", "card_type": "VI"})
            break
        except Exception:
            time.sleep(0.1)  # the purchase has not reached the device yet
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, stderr  # declined: the sale is not paid
    assert "DECLINED" in stdout and "started on device XY7Z" in stdout


def test_bad_input_exit_2_and_nothing_sent(sandbox_process: Dict[str, Any], tmp_path: Path) -> None:
    url = sandbox_process["url"]
    before = control(url, "/_sandbox/stats")["requests"]
    for args in (["purchase", "DY6", "--amount", "1"], ["purchase", "DY6L", "--amount", "1.001"], ["purchase", "DY6L", "--amount", "1", "--currency", "USD"]):
        out = run("helcim", "--sandbox", url, *args, env=clean_env(tmp_path))
        assert out.returncode == 2 and "error:" in out.stderr, args
    assert control(url, "/_sandbox/stats")["requests"] == before


def test_missing_token_exit_2(tmp_path: Path) -> None:
    out = run("helcim", "devices", env=clean_env(tmp_path))
    assert out.returncode == 2 and "HELCIM_API_TOKEN" in out.stderr


def test_token_from_environment(sandbox_process: Dict[str, Any], tmp_path: Path) -> None:
    env = dict(clean_env(tmp_path), HELCIM_API_TOKEN=sandbox.HELCIM_READ_ONLY_TOKEN, HELCIM_BASE_URL=sandbox_process["url"] + "/v2", HELCIM_CURRENCY="CAD")
    assert run("helcim", "devices", env=env).returncode == 0
    refused = run("helcim", "purchase", "DY6L", "--amount", "1", env=env)
    assert refused.returncode == 1 and "AuthError" in refused.stderr


def test_outcome_unknown_exit_3_with_the_key(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        sb.inject_fault("http500", path="/v2/devices/DY6L/payment/purchase")
        out = run("helcim", "--sandbox", sb.url, "purchase", "DY6L", "--amount", "3", "--invoice-number", "CLI-500", env=clean_env(tmp_path))
        assert sb.stats()["purchases_started"] == 0
    assert out.returncode == 3, out.stderr
    assert "invoice_number=CLI-500" in out.stderr and "idempotency_key=" in out.stderr


def test_help_explains_both_refunds() -> None:
    out = run("helcim", "--help").stdout
    for words in ("refund-payment", "credit-card", "Interac/debit", "Payment API", "closed batch", "idempotency"):
        assert words in out, words
    sub = run("helcim", "refund-payment", "--help")
    assert sub.returncode == 0 and "--ip-address" in sub.stdout and "--ecommerce" in sub.stdout
    sandbox_help = run("sandbox", "--help").stdout
    assert "--host" in sandbox_help and "--port" in sandbox_help


def test_refund_payment(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        client = helcim.Client(**sb.helcim_credentials)
        client.purchase("DY6L", Decimal("12.00"), invoice_number="CLI-RP")
        original = sb.helcim_complete("DY6L", "approved", "VI")["transactionId"]
        sb.helcim_close_batch()
        cli = ("helcim", "--sandbox", sb.url, "refund-payment", str(original), "--ip-address", "203.0.113.7")
        out = run(*cli, "--amount", "2.50", env=clean_env(tmp_path))
        assert out.returncode == 0, out.stderr
        assert "APPROVED" in out.stdout and "refund" in out.stdout and "2.50" in out.stdout and "CLI-RP" in out.stdout
        as_json = run(*cli, "--amount", "9.50", "--json", env=clean_env(tmp_path))
        assert as_json.returncode == 0 and json.loads(as_json.stdout)["type"] == "refund"
        over = run(*cli, "--amount", "0.01", env=clean_env(tmp_path))
        assert over.returncode == 1 and "0.00" in over.stderr and "Traceback" not in over.stderr
        bad = run("helcim", "--sandbox", sb.url, "refund-payment", str(original), "--amount", "1", "--ip-address", "nowhere", env=clean_env(tmp_path))
        assert bad.returncode == 2 and "ip_address" in bad.stderr
        assert sb.stats()["payment_refunds"] == 2


def test_reverse_payment(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        client = helcim.Client(**sb.helcim_credentials)
        client.purchase("DY6L", Decimal("7.00"), invoice_number="CLI-RV")
        original = sb.helcim_complete("DY6L", "approved", "MC")["transactionId"]
        cli = ("helcim", "--sandbox", sb.url, "reverse-payment", str(original), "--ip-address", "203.0.113.7")
        out = run(*cli, env=clean_env(tmp_path))
        assert out.returncode == 0, out.stderr
        assert "APPROVED" in out.stdout and "reverse" in out.stdout and "7.00" in out.stdout and "CLI-RV" in out.stdout
        again = run(*cli, env=clean_env(tmp_path))
        assert again.returncode == 1 and "already" in again.stderr and "Traceback" not in again.stderr
        assert sb.stats()["payment_reversals"] == 1
        assert "batch settles" in run("helcim", "reverse-payment", "--help").stdout


def test_sandbox_refuses_a_webhook_url_naming_helcim(tmp_path: Path) -> None:
    out = run("sandbox", "--helcim-webhook-url", "http://127.0.0.1:8069/helcim/hook", env=clean_env(tmp_path), timeout=30)
    assert out.returncode == 2 and '"helcim"' in out.stderr and "Traceback" not in out.stderr

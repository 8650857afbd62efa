"""The ``posbridge`` command, run as a real subprocess: help, the demo, a sandbox in another
process driven over HTTP, and the exit codes of its errors."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest

import posbridge
from posbridge import sandbox

from helpers import sandbox_in_another_process

PUBLIC_CREDENTIALS = dict(sandbox.HESABE_CREDENTIALS)


def clean_env(home: Optional[Path] = None) -> Dict[str, str]:
    """The environment without any Hesabe or Helcim setting or config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HESABE_", "HELCIM_")) and k != "POSBRIDGE_CONFIG"}
    if home is not None:
        env["HOME"] = str(home)
        env["XDG_CONFIG_HOME"] = str(home / ".config")
    return env


def run(*args: str, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posbridge", *args], capture_output=True, text=True, timeout=timeout, env=env)


# -- help and the demo ---------------------------------------------------------------------------


def test_help_explains_itself() -> None:
    out = run("--help")
    assert out.returncode == 0
    for word in ("demo", "sandbox", "hesabe"):
        assert word in out.stdout
    hesabe_help = run("hesabe", "--help")
    assert hesabe_help.returncode == 0
    for word in ("terminals", "create", "show", "--sandbox", "HESABE_"):
        assert word in hesabe_help.stdout


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0 and posbridge.__version__ in out.stdout


def test_no_command_prints_usage_and_fails() -> None:
    out = run()
    assert out.returncode == 2
    assert "usage" in (out.stdout + out.stderr).lower()


def test_demo_pays_so042_on_hesabe_and_so043_on_helcim() -> None:
    out = run("demo", env=clean_env())
    assert out.returncode == 0, out.stderr
    assert "SO042 is paid" in out.stdout
    assert "29708454" in out.stdout and "A99" in out.stdout
    assert "SO043 is paid: 10.99 CAD on device DY6L" in out.stdout
    assert "signature and timestamp verified" in out.stdout and "APPROVED" in out.stdout


# -- a sandbox in another process ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[Dict[str, Any]]:
    with sandbox_in_another_process() as info:
        yield info


def control(url: str, path: str, body: Optional[dict] = None) -> Any:
    data = json.dumps(body or {}).encode() if body is not None or path.endswith(("/pay", "/decline")) else None
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as reply:
        return json.loads(reply.read())


def test_sandbox_json_line(sandbox_process: Dict[str, Any]) -> None:
    url = sandbox_process["url"]
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
    assert sandbox_process["hesabe"] == dict(PUBLIC_CREDENTIALS, base_url=url)
    assert sandbox_process["controls"].startswith(url)
    stats = control(url, "/_sandbox/stats")  # the controls answer over HTTP
    assert {"requests", "pos_invoices_created", "logins"} <= set(stats)


def test_cli_against_sandbox_process_json_after_action(sandbox_process: Dict[str, Any]) -> None:
    url = sandbox_process["url"]
    out = run("hesabe", "--sandbox", url, "terminals", "--json")
    assert out.returncode == 0, out.stderr
    terminals = json.loads(out.stdout)
    assert [t["TerminalID"] for t in terminals] == ["48515", "yutre34567", "2011687", "29706431", "29708454"]


def test_cli_create_show_pay_find(sandbox_process: Dict[str, Any]) -> None:
    url = sandbox_process["url"]
    listed = run("hesabe", "--sandbox", url, "--json", "terminals")
    assert listed.returncode == 0, listed.stderr
    assert {t["TerminalID"]: t["TerminalName"] for t in json.loads(listed.stdout)}["29708454"] == "A99"
    table = run("hesabe", "--sandbox", url, "terminals")
    assert table.returncode == 0 and "A99" in table.stdout and "29708454" in table.stdout

    created_before = control(url, "/_sandbox/stats")["pos_invoices_created"]
    out = run("hesabe", "--sandbox", url, "--json", "create", "--terminal", "29708454", "--amount", "1.250", "--customer", "Sara", "--invoice-number", "CLI-SO042")
    assert out.returncode == 0, out.stderr
    invoice = json.loads(out.stdout)
    assert invoice["invoice_number"] == "CLI-SO042" and invoice["status"] == 0
    assert Decimal(str(invoice["amount"])) == Decimal("1.250")
    assert control(url, "/_sandbox/stats")["pos_invoices_created"] == created_before + 1

    shown = run("hesabe", "--sandbox", url, "--json", "show", str(invoice["id"]))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == 0

    control(url, f"/_sandbox/hesabe/pos/{invoice['transaction_id']}/pay")
    paid = run("hesabe", "--sandbox", url, "--json", "show", str(invoice["id"]))
    assert json.loads(paid.stdout)["status"] == 1
    human = run("hesabe", "--sandbox", url, "show", str(invoice["id"]))
    assert human.returncode == 0 and "paid" in human.stdout and "CLI-SO042" in human.stdout

    found = run("hesabe", "--sandbox", url, "find", "CLI-SO042")
    assert found.returncode == 0 and str(invoice["id"]) in found.stdout
    missing = run("hesabe", "--sandbox", url, "find", "CLI-NOPE")
    assert missing.returncode == 1 and "CLI-NOPE" in missing.stderr


def test_sandbox_process_stops_on_sigint() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "posbridge", "sandbox", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready
        url = json.loads(proc.stdout.readline())["url"]
        assert control(url, "/_sandbox/stats")["requests"] == 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) in (0, 130)  # Ctrl-C is the way to stop it: a clean exit, no traceback
        assert "Traceback" not in proc.stderr.read()
        with pytest.raises(OSError):
            control(url, "/_sandbox/stats")
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


# -- credentials from flags, environment, config file --------------------------------------------


def test_credentials_from_environment(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        env = clean_env(tmp_path)
        env.update({var: sb.hesabe_credentials[name] for name, var in posbridge.hesabe.ENV.items()})
        out = run("hesabe", "--json", "terminals", env=env)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) == 5


def test_credentials_from_config_file(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        ini = tmp_path / "posbridge.ini"
        ini.write_text("[hesabe]\n" + "".join(f"{k} = {v}\n" for k, v in sb.hesabe_credentials.items()), encoding="utf-8")
        out = run("hesabe", "--config", str(ini), "--json", "terminals", env=clean_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) == 5


# -- exit codes ----------------------------------------------------------------------------------


def test_missing_credentials_exit_2(tmp_path: Path) -> None:
    out = run("hesabe", "terminals", env=clean_env(tmp_path))
    assert out.returncode == 2
    assert "missing Hesabe credentials" in out.stderr
    assert "--password" in out.stderr and "--secret-key" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_config_file_exit_2(tmp_path: Path) -> None:
    out = run("hesabe", "--config", str(tmp_path / "absent.ini"), "terminals", env=clean_env(tmp_path))
    assert out.returncode == 2 and "absent.ini" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("amount", ["abc", "1.2345", "0", "-1", "NaN", "1e400"])
def test_bad_amount_exit_2_nothing_sent(amount: str, tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        out = run("hesabe", "--sandbox", sb.url, "create", "--terminal", "29708454", "--amount", amount, "--customer", "Sara", env=clean_env(tmp_path))
        stats = sb.stats()
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.startswith("error:") or "error" in out.stderr
    assert "Traceback" not in out.stderr
    assert stats["requests"] == 0 and stats["pos_invoices_created"] == 0


def test_vendor_refusal_exit_1(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        out = run("hesabe", "--sandbox", sb.url, "show", "99999", env=clean_env(tmp_path))
    assert out.returncode == 1 and "NotFoundError" in out.stderr and "Traceback" not in out.stderr


def test_connect_error_exit_1(tmp_path: Path) -> None:
    from helpers import closed_port

    out = run("hesabe", "--sandbox", f"http://127.0.0.1:{closed_port()}", "terminals", env=clean_env(tmp_path))
    assert out.returncode == 1 and "ConnectError" in out.stderr and "Traceback" not in out.stderr


def test_outcome_unknown_exit_3_with_reconcile_hint(tmp_path: Path) -> None:
    with sandbox.Sandbox() as sb:
        sb.inject_fault("drop_reply", path="/api/v1/merchant/smartpos-transaction")
        out = run("hesabe", "--sandbox", sb.url, "create", "--terminal", "29708454", "--amount", "2.000", "--customer", "Sara", "--invoice-number", "CLI-DROP", env=clean_env(tmp_path))
        created = sb.stats()["pos_invoices_created"]
    assert out.returncode == 3, out.stderr
    assert "reconcile" in out.stderr and "invoice_number=CLI-DROP" in out.stderr
    assert created == 1

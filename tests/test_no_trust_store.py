"""A machine without CA certificates (a slim container, or `SSL_CERT_FILE` pointing at nothing):
the sandbox and clients of plain-HTTP URLs still work, a client of an `https://` vendor is
refused at once with a clear, typed error, never sent unverified. Each case runs in its own
interpreter, because the trust store is read once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

NO_STORE = {"SSL_CERT_FILE": "/nonexistent/posbridge-ca.pem", "SSL_CERT_DIR": "/nonexistent/posbridge-certs"}


def python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **NO_STORE}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, env=env)


def test_the_demo_runs_without_a_trust_store() -> None:
    out = subprocess.run([sys.executable, "-m", "posbridge", "demo"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **NO_STORE})
    assert out.returncode == 0, out.stderr
    assert "could not" not in out.stderr


def test_sandbox_clients_and_webhooks_without_a_trust_store() -> None:
    out = python("""
        from decimal import Decimal
        from posbridge import helcim, hesabe, sandbox
        with sandbox.Sandbox() as sb, helcim.WebhookReceiver(sb.helcim_verifier_token) as receiver:
            sb.helcim_webhook_url = receiver.url
            client = helcim.Client(**sb.helcim_credentials)
            client.purchase("DY6L", Decimal("1.00"), invoice_number="NO-CA-1")
            sb.helcim_complete("DY6L", "approved", "VI")
            [event] = receiver.wait_for(1, timeout=10)
            print(client.event_transaction(event).status)
            print(hesabe.Client(**sb.hesabe_credentials).create_pos_invoice(
                amount=Decimal("1.500"), terminal_id="29708454", customer_name="No CA", invoice_number="NO-CA-2").state)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["APPROVED", "pending"]


def test_an_https_vendor_is_refused_clearly() -> None:
    out = python("""
        import posbridge
        from posbridge import helcim, hesabe, sandbox
        for make in (lambda: helcim.Client(api_token="t" * 20, base_url="https://api.helcim.test/v2"),
                     lambda: hesabe.Client(**{**sandbox.HESABE_CREDENTIALS, "base_url": "https://hesabe.test"})):
            try:
                make()
            except posbridge.ConfigError as error:
                print("ConfigError", "TLS" in str(error))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ConfigError", "True", "ConfigError", "True"]

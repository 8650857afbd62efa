"""Secrets never leak: not the secret key, the IV, the password, the access code or a bearer /
refresh token, in any repr, exception (message, args, traceback), log record or CLI output."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import traceback
from decimal import Decimal
from typing import Any, Callable, Dict, Iterable, List, Tuple

import pytest

import posbridge
from helpers import LOGIN, POS_TERMINALS, POS_TRANSACTION, FakeHesabe, closed_port
from posbridge import hesabe, sandbox
from seeds import ACCESS_CODE, IV, PASSWORD, SECRET_KEY, SECRETS

WRONG_PASSWORD = "Wr0ng-Pa55word-7731"
WRONG_KEY = "QQwrongwrongwrongwrongwrongkey32"  # 32 bytes: the sandbox answers 506
SHORT_KEY = "ShortSecretKey-31bytes-xxxxxxxx"  # 31 bytes: ConfigError


def _texts(exc: BaseException) -> str:
    """Everything an exception can show: message, repr, args, attributes, full traceback."""
    parts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    parts += [repr(v) for v in vars(exc).values()]
    return "\n".join(parts)


def _assert_clean(text: str, secrets: Iterable[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"secret {secret[:4]}… leaked in: {text[:500]}"


def _raised(fn: Callable[[], Any], kind: type) -> BaseException:
    with pytest.raises(kind) as info:
        fn()
    return info.value


def _create(client: hesabe.Client, number: str) -> Any:
    return client.create_pos_invoice(terminal_id="29708454", amount=Decimal("1.250"), customer_name="Sara", invoice_number=number)


def _sandbox_errors(sb: sandbox.Sandbox) -> List[BaseException]:
    creds = sb.hesabe_credentials
    client = hesabe.Client(**creds)
    client.login()
    slow = hesabe.Client(**creds, timeout=0.4)
    slow.login()
    errors: List[BaseException] = []
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, password=WRONG_PASSWORD)).terminals(), posbridge.AuthError))
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, password=WRONG_PASSWORD)).login(), posbridge.AuthError))
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, secret_key=WRONG_KEY)).terminals(), posbridge.ApiError))
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, secret_key=WRONG_KEY)).create_pos_invoice(
        terminal_id="29708454", amount=Decimal("1"), customer_name="x"), posbridge.ApiError))
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, secret_key=SHORT_KEY)), posbridge.ConfigError))
    errors.append(_raised(lambda: hesabe.Codec(SHORT_KEY, IV), posbridge.ConfigError))
    errors.append(_raised(lambda: hesabe.Codec(SECRET_KEY, SECRET_KEY), posbridge.ConfigError))
    errors.append(_raised(lambda: client.pos_invoice(424242), posbridge.NotFoundError))
    errors.append(_raised(lambda: client.create_pos_invoice(terminal_id="29708454", amount=1.5, customer_name="x"), posbridge.ValidationError))
    errors.append(_raised(lambda: hesabe.Client(**dict(creds, base_url=f"http://127.0.0.1:{closed_port()}")).terminals(), posbridge.ConnectError))
    sb.inject_fault("http500", path=POS_TRANSACTION)
    errors.append(_raised(lambda: _create(client, "SEC-500"), posbridge.OutcomeUnknownError))
    sb.inject_fault("http500", path=POS_TERMINALS)
    errors.append(_raised(client.terminals, posbridge.ApiError))
    sb.inject_fault("drop_reply", path=POS_TRANSACTION)
    errors.append(_raised(lambda: _create(client, "SEC-DROP"), posbridge.OutcomeUnknownError))
    sb.inject_fault("drop_reply", path=POS_TERMINALS)
    errors.append(_raised(client.terminals, posbridge.TransportError))
    for fault in ("malformed_hex", "wrong_key"):
        sb.inject_fault(fault, path=POS_TERMINALS)
        errors.append(_raised(client.terminals, posbridge.DecryptionError))
        sb.inject_fault(fault, path=POS_TRANSACTION)
        errors.append(_raised(lambda: _create(client, "SEC-" + fault), posbridge.OutcomeUnknownError))
    sb.inject_fault("delay", path=POS_TERMINALS, delay=1.0)
    errors.append(_raised(slow.terminals, posbridge.TimeoutError))
    sb.inject_fault("delay", path=POS_TRANSACTION, delay=1.0)
    errors.append(_raised(lambda: _create(slow, "SEC-SLOW"), posbridge.OutcomeUnknownError))
    codec = hesabe.Codec(SECRET_KEY, IV)
    errors.append(_raised(lambda: codec.decrypt("00" * 16), posbridge.DecryptionError))
    errors.append(_raised(lambda: hesabe.Codec(WRONG_KEY, IV).decrypt(codec.encrypt("hello")), posbridge.DecryptionError))
    time.sleep(0.7)  # let the held-back replies finish
    return errors


SANDBOX_SECRETS = (*SECRETS, WRONG_PASSWORD, WRONG_KEY, SHORT_KEY)


def test_no_secret_in_any_exception_from_the_sandbox_scenarios(sb: sandbox.Sandbox) -> None:
    errors = _sandbox_errors(sb)
    assert len(errors) >= 20
    kinds = {type(e) for e in errors}
    assert {posbridge.AuthError, posbridge.ApiError, posbridge.ConfigError, posbridge.OutcomeUnknownError, posbridge.DecryptionError} <= kinds
    for exc in errors:
        _assert_clean(_texts(exc), SANDBOX_SECRETS)


# -- bearer and refresh tokens: a fake Hesabe that issues known ones ------------------------------


def _fake_routes() -> Dict[Tuple[str, str], Callable[[Any], Tuple[int, Any]]]:
    return {
        ("POST", POS_TRANSACTION): lambda rec: (500, {"message": "Internal server error occurred"}),
        ("GET", POS_TERMINALS): lambda rec: (401, {"message": "Unauthenticated."}),
        ("GET", "/api/v1/profile"): lambda rec: (200, {"response": "zz-not-hex"}),
        ("GET", "/api/v1/merchant/smartpos-invoices/1"): lambda rec: (404, {"message": "Not Found"}),
        ("GET", "/api/v1/merchant/smartpos-invoices/2"): lambda rec: (200, "<html>gateway error</html>"),
        ("GET", "/api/v1/merchant/smartpos-invoices/3"): lambda rec: (200, {"status": False, "code": 506, "message": "Invalid Request Data", "response": None}),
    }


def test_no_token_in_exceptions_or_reprs() -> None:
    with FakeHesabe(_fake_routes()) as fake:
        tokens = (fake.access_token, fake.refresh_token)
        client = hesabe.Client(**dict(sandbox.HESABE_CREDENTIALS, base_url=fake.url))
        errors = [
            _raised(lambda: _create(client, "TOK-500"), posbridge.OutcomeUnknownError),
            _raised(client.terminals, posbridge.AuthError),  # 401 even after a fresh login
            _raised(client.profile, posbridge.DecryptionError),
            _raised(lambda: client.pos_invoice(1), posbridge.NotFoundError),
            _raised(lambda: client.pos_invoice(2), posbridge.Error),
            _raised(lambda: client.pos_invoice(3), posbridge.ApiError),
        ]
        assert len(fake.to("POST", LOGIN)) == 2  # the 401 made the client log in once more
        assert all(r.header("Authorization") == f"Bearer {fake.access_token}" for r in fake.to("GET", POS_TERMINALS))
        shown = repr(client) + repr(getattr(client, "_native", ""))
    for exc in errors:
        _assert_clean(_texts(exc), (*tokens, *SECRETS))
    _assert_clean(shown, (*tokens, *SECRETS))


def test_login_failure_body_carrying_tokens_is_redacted() -> None:
    fake = FakeHesabe()
    good_login = fake.routes[("POST", LOGIN)]
    fake.routes[("POST", LOGIN)] = lambda rec: (500, good_login(rec)[1])  # a 500 that still carries tokens
    with fake:
        client = hesabe.Client(**dict(sandbox.HESABE_CREDENTIALS, base_url=fake.url))
        exc = _raised(client.terminals, posbridge.ApiError)
    _assert_clean(_texts(exc), (fake.access_token, fake.refresh_token, *SECRETS))


def test_refresh_tokens_stay_out_of_errors() -> None:
    fake = FakeHesabe(expires_in=1)  # renew on every call: the refresh token travels
    fake.routes[("POST", "/api/v1/token-refresh")] = lambda rec: (500, {"message": "Internal server error occurred"})
    fake.routes[("GET", POS_TERMINALS)] = lambda rec: (500, {"message": "Internal server error occurred"})
    with fake:
        client = hesabe.Client(**dict(sandbox.HESABE_CREDENTIALS, base_url=fake.url))
        first = _raised(client.terminals, posbridge.ApiError)
        time.sleep(1.1)
        second = _raised(client.terminals, posbridge.ApiError)
        refreshes = fake.to("POST", "/api/v1/token-refresh")
    assert refreshes and fake.refresh_token.encode() in refreshes[0].body  # the refresh path really ran
    for exc in (first, second):
        _assert_clean(_texts(exc), (fake.access_token, fake.refresh_token, *SECRETS))


# -- reprs ---------------------------------------------------------------------------------------


def test_reprs_show_no_secrets(sb: sandbox.Sandbox) -> None:
    objects = [
        hesabe.Client(**sb.hesabe_credentials),
        hesabe.AsyncClient(**sb.hesabe_credentials),
        hesabe.Codec(SECRET_KEY, IV),
        hesabe.Codec(SECRET_KEY.encode(), IV.encode()),
        sb,
    ]
    text = " ".join(repr(o) + str(o) for o in objects)
    text += " ".join(repr(getattr(o, "_native", "")) for o in objects)
    _assert_clean(text, SECRETS)


# -- logging and stray output --------------------------------------------------------------------


def test_no_secret_in_logs_or_stray_output(sb: sandbox.Sandbox, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("posbridge", "posbridge.hesabe", "posbridge.sandbox", "urllib3", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    client = hesabe.Client(**sb.hesabe_credentials)
    invoice = _create(client, "SEC-LOG")
    client.terminals()
    client.pos_invoice(invoice.id)
    sb.hesabe_pay(invoice.transaction_id)
    client.find_pos_invoice(invoice_number="SEC-LOG")
    sb.hesabe_expire_tokens()
    client.profile()
    errors = _sandbox_errors(sb)
    logging.getLogger("posbridge").debug("marker: logging capture works")
    out, err = capfd.readouterr()
    assert "marker: logging capture works" in caplog.text
    _assert_clean(caplog.text, SANDBOX_SECRETS)
    _assert_clean(" ".join(repr(r.args) + repr(r.__dict__) for r in caplog.records), SANDBOX_SECRETS)
    _assert_clean(out + err, SANDBOX_SECRETS)
    assert errors


# -- the CLI -------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "posbridge", *args], capture_output=True, text=True, timeout=60)


def test_cli_output_has_no_secrets(sb: sandbox.Sandbox) -> None:
    runs = [
        _cli("hesabe", "--sandbox", sb.url, "terminals"),
        _cli("hesabe", "--sandbox", sb.url, "--json", "terminals"),
        _cli("hesabe", "--sandbox", sb.url, "login"),
        _cli("hesabe", "--sandbox", sb.url, "--json", "create", "--terminal", "29708454", "--amount", "1.250", "--customer", "Sara", "--invoice-number", "CLI-SEC"),
        _cli("hesabe", "--sandbox", sb.url, "list"),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        _assert_clean(run.stdout + run.stderr, SECRETS)
    assert "29708454" in runs[0].stdout and "A99" in runs[0].stdout


def test_cli_errors_have_no_secrets(sb: sandbox.Sandbox) -> None:
    bad = _cli("hesabe", "--sandbox", sb.url, "--password", WRONG_PASSWORD, "terminals")
    assert bad.returncode != 0
    _assert_clean(bad.stdout + bad.stderr, (*SECRETS, WRONG_PASSWORD))
    wrong_key = _cli("hesabe", "--sandbox", sb.url, "--secret-key", WRONG_KEY, "terminals")
    assert wrong_key.returncode != 0
    _assert_clean(wrong_key.stdout + wrong_key.stderr, (*SECRETS, WRONG_KEY))
    short_key = _cli("hesabe", "--sandbox", sb.url, "--secret-key", SHORT_KEY, "terminals")
    assert short_key.returncode == 2
    _assert_clean(short_key.stdout + short_key.stderr, (*SECRETS, SHORT_KEY))
    sb.inject_fault("http500", path=POS_TRANSACTION)
    unknown = _cli("hesabe", "--sandbox", sb.url, "create", "--terminal", "29708454", "--amount", "1.000", "--customer", "Sara", "--invoice-number", "CLI-500")
    assert unknown.returncode == 3 and "CLI-500" in unknown.stderr
    _assert_clean(unknown.stdout + unknown.stderr, SECRETS)

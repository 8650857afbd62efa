"""The typed stub of the Hesabe clients is generated from the operations' single definition;
it must be regenerated (`python scripts/gen_stubs.py`) whenever an operation changes."""

import importlib.util
import inspect
from pathlib import Path

from posbridge import hesabe

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_stubs", ROOT / "scripts" / "gen_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stub_is_current():
    stub = ROOT / "python" / "posbridge" / "hesabe" / "_client.pyi"
    assert stub.read_text(encoding="utf-8") == _generator().render(), "run: python scripts/gen_stubs.py"


def test_sync_and_async_clients_have_the_same_operations():
    def public(cls):
        return {n for n, _ in inspect.getmembers(cls, callable) if not n.startswith("_")}

    assert public(hesabe.Client) == public(hesabe.AsyncClient)
    for name in public(hesabe.AsyncClient) - {"from_env", "wire"}:
        assert inspect.iscoroutinefunction(getattr(hesabe.AsyncClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(hesabe.Client, name)), name

"""The typed stubs of the vendor clients are generated from the operations' single definition;
it must be regenerated (`python scripts/gen_stubs.py`) whenever an operation changes."""

import importlib.util
import inspect
from pathlib import Path

import pytest

from posbridge import helcim, hesabe

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_stubs", ROOT / "scripts" / "gen_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("vendor", ["hesabe", "helcim"])
def test_stub_is_current(vendor):
    stub = ROOT / "python" / "posbridge" / vendor / "_client.pyi"
    assert stub.read_text(encoding="utf-8") == _generator().render(vendor), "run: python scripts/gen_stubs.py"


@pytest.mark.parametrize("module", [hesabe, helcim], ids=["hesabe", "helcim"])
def test_sync_and_async_clients_have_the_same_operations(module):
    def public(cls):
        return {n for n, _ in inspect.getmembers(cls, callable) if not n.startswith("_")}

    assert public(module.Client) == public(module.AsyncClient)
    for name in public(module.AsyncClient) - {"from_env", "wire"}:
        assert inspect.iscoroutinefunction(getattr(module.AsyncClient, name)), name
        assert not inspect.iscoroutinefunction(getattr(module.Client, name)), name

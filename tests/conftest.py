"""Shared fixtures: every test talks real HTTP to the embedded sandbox on 127.0.0.1.

``sb`` is one sandbox per test module (it starts in milliseconds); tests that need exact
counters compare ``sb.stats()`` before and after, or start their own ``Sandbox()``. Faults a
test injects are cleared after it, whatever happened.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from posbridge import hesabe, sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.Sandbox() as server:
        yield server


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sb" in request.fixturenames:
        request.getfixturevalue("sb").clear_faults()


@pytest.fixture
def client(sb: sandbox.Sandbox) -> hesabe.Client:
    return hesabe.Client(**sb.hesabe_credentials)


@pytest.fixture
def aclient(sb: sandbox.Sandbox) -> hesabe.AsyncClient:
    return hesabe.AsyncClient(**sb.hesabe_credentials)

"""The ``shiptrack_sandbox`` pytest fixture, installed with the package (entry point ``pytest11``).

Use it in your own tests::

    def test_my_sync(shiptrack_sandbox):
        client = shiptrack_sandbox.shiplemon_client()
        shiptrack_sandbox.fault("/shiplemon/*", status=503)   # your code must cope
        ...

One server runs per test session; each test gets it with faults, recorded calls and seeded data
reset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import Sandbox


@pytest.fixture(scope="session")
def _shiptrack_sandbox_server() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def shiptrack_sandbox(_shiptrack_sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """A running :class:`~shiptrack_sdk.sandbox.Sandbox`, reset for this test."""
    sandbox = _shiptrack_sandbox_server
    sandbox.reset()
    sandbox.latency = 0.0
    yield sandbox
    sandbox.reset()
    sandbox.latency = 0.0

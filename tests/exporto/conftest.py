"""Fixtures of the exporto tests: provider samples, a mocked API and a sandbox client.

``sb`` (the reset sandbox) and the clean environment come from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from shiptrack_sdk.exporto import ExportoClient
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import load_fixture

BASE = "https://api.exporto.de/v1/"
SECRET = "s3cr3t-exporto-value"


@pytest.fixture
def load() -> Callable[[str], Any]:
    """Read a provider sample from ``tests/fixtures/exporto``."""
    return lambda name: load_fixture("exporto", name)


@pytest.fixture
def mocked(load: Callable[[str], Any]) -> Iterator[responses.RequestsMock]:
    """exporto's production URLs mocked; the token endpoint answers the sample token."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(BASE + "auth/token", json=load("token.json"))
        yield rsps


@pytest.fixture
def client() -> Iterator[ExportoClient]:
    """A production client (mocked by ``mocked``), without retries."""
    with ExportoClient(client_id="cid", client_secret=SECRET, max_retries=0) as c:
        yield c


@pytest.fixture
def exporto(sb: Sandbox) -> Iterator[ExportoClient]:
    """A client of the sandbox's exporto, retrying fast."""
    with sb.exporto_client(backoff_factor=0.001) as c:
        yield c

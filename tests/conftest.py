"""Shared test fixtures.

The ``shiptrack_sandbox`` fixture (a running, reset sandbox) comes from the package's own
pytest plugin, as it does for users. Tests never reach the internet: every client points at
the sandbox or at ``responses``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk.errors import ShiptrackError
from shiptrack_sdk.sandbox import Sandbox

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(provider: str, name: str) -> Any:
    """A provider sample from ``tests/fixtures/<provider>/<name>`` (strict JSON)."""
    return json.loads((FIXTURES / provider / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``SHIPTRACK_*`` setting of the machine leaks into a test, and no proxy is used for
    the loopback sandbox."""
    for name in list(os.environ):
        if name.startswith("SHIPTRACK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost,::1")


class SleepRecorder:
    """Stands in for ``time.sleep`` in a transport: records the delays, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A :class:`SleepRecorder`; install it with ``client._transport.sleep = sleeps``."""
    return SleepRecorder()


@pytest.fixture
def sb(shiptrack_sandbox: Sandbox) -> Sandbox:
    """The session's sandbox, reset (a short name for the plugin's fixture)."""
    return shiptrack_sandbox


class Seen:
    """Everything a user could read of calls (returned objects, raised errors), for the
    secrets tests to search for sentinels."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors = 0

    def add(self, obj: Any) -> None:
        self.texts.append(repr(obj))
        self.texts.append(str(obj))
        if isinstance(obj, BaseException):
            self.errors += 1
            self.texts.append(repr(vars(obj)))
            self.texts.append(repr(obj.args))
            for linked in (obj.__cause__, obj.__context__):
                if linked is not None:
                    self.texts.append(repr(linked))
                    self.texts.append(str(linked))

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except ShiptrackError as exc:
            self.add(exc)
            return None
        if hasattr(result, "__next__"):
            result = list(result)
        self.add(result)
        if isinstance(result, list):
            for item in result:
                self.add(item)
        errors = getattr(result, "errors", ())
        for error in errors if isinstance(errors, tuple) else ():
            self.add(error)
        return result

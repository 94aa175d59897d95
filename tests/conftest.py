"""Shared test fixtures.

The ``shiptrack_sandbox`` fixture (a running, reset sandbox) comes from the package's own
pytest plugin, as it does for users. Tests never reach the internet: every client points at
the sandbox or at ``responses``.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import logging
import os
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk._core.secret import Secret
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
    secrets tests to search for sentinels.

    Of a returned object: its ``repr`` and ``str``. Of an error, what an error reporter or a
    curious user gets at: every exception of its ``__cause__``/``__context__`` chain
    (suppressed contexts included), each one's ``repr``, ``str``, ``args`` and every
    attribute reachable from it (``request``, ``response``, ``request.headers``,
    ``request.body``, closures and bound methods included; strings and bytes as their plain
    contents, so a masked ``str`` subclass does not hide what ``.encode()`` would send), and
    each one's traceback formatted with ``capture_locals=True``. Frames of the tests
    themselves (the catching frame, a lambda) are left out: their locals are the test's.

    ``texts`` holds what was read; ``where`` says, for each, where it was read from.

    Args:
        capture_locals: Whether tracebacks are read with their frames' locals.
    """

    def __init__(self, *, capture_locals: bool = True) -> None:
        self.texts: list[str] = []
        self.where: list[str] = []
        self.errors = 0
        self.capture_locals = capture_locals

    def record(self, text: str, where: str) -> None:
        self.texts.append(text)
        self.where.append(where)

    def find(self, secret: str) -> list[str]:
        """Where ``secret`` was read (empty when nowhere), each with a glimpse of the text."""
        found = []
        for index, text in enumerate(self.texts):
            # Texts appended to ``texts`` directly have no place recorded.
            where = self.where[index] if index < len(self.where) else "texts"
            at = text.find(secret)
            for _ in range(5):  # each place a long text (a traceback) shows it, up to five
                if at < 0:
                    break
                found.append(f"{where}: ...{text[max(0, at - 120) : at + len(secret) + 40]!r}")
                at = text.find(secret, at + len(secret))
        return found

    def add(self, obj: Any) -> None:
        name = type(obj).__name__
        self.record(_safe(lambda: repr(obj)), f"repr({name})")
        self.record(_safe(lambda: str(obj)), f"str({name})")
        if isinstance(obj, BaseException):
            self.errors += 1
            self.add_error(obj)

    def add_error(self, error: BaseException, where: str = "exc") -> None:
        """Everything readable from ``error`` and the exceptions linked to it."""
        _ErrorWalk(self).run(error, where)

    def add_logged(self, records: Iterable[logging.LogRecord]) -> None:
        """The exceptions attached to log records (what a logging integration reports)."""
        for record in records:
            if record.exc_info and record.exc_info[1] is not None:
                self.add_error(record.exc_info[1], f"log record {record.name!r} exc_info")

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


_TESTS = str(Path(__file__).parent.resolve())
_OPAQUE = (type, types.ModuleType, types.CodeType, types.FrameType, types.TracebackType)


def _safe(render: Callable[[], str]) -> str:
    try:
        return render()
    except Exception as exc:  # a repr that fails is not readable either
        return f"<unrenderable: {type(exc).__name__}>"


class _ErrorWalk:
    """One walk over an exception, its chain and everything reachable from them."""

    MAX_OBJECTS = 50_000
    MAX_DEPTH = 24

    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.visited: set[int] = set()
        self.keep: list[Any] = []  # visited objects stay alive, so their ids stay theirs
        self.pending: list[tuple[BaseException, str]] = []

    def run(self, error: BaseException, where: str) -> None:
        self.pending.append((error, where))
        while self.pending:
            exc, at = self.pending.pop()
            if id(exc) in self.visited:
                continue
            self.visited.add(id(exc))
            self.keep.append(exc)
            self.exception(exc, at)

    def exception(self, exc: BaseException, at: str) -> None:
        record = self.seen.record
        record(_safe(lambda: repr(exc)), f"repr({at})")
        record(_safe(lambda: str(exc)), f"str({at})")
        record(_safe(lambda: repr(exc.args)), f"repr({at}.args)")
        record(_safe(lambda: repr(vars(exc))), f"repr(vars({at}))")
        with_locals = self.seen.capture_locals
        record(
            _safe(lambda: self.captured(exc, with_locals)),
            f"TracebackException({at}, capture_locals={with_locals})",
        )
        for link, linked in (("__cause__", exc.__cause__), ("__context__", exc.__context__)):
            if linked is not None:
                self.pending.append((linked, f"{at}.{link}"))
        for index, value in enumerate(exc.args):
            self.walk(value, f"{at}.args[{index}]", 1)
        for name, value in vars(exc).items():
            self.walk(value, f"{at}.{name}", 1)
        for index, member in enumerate(getattr(exc, "exceptions", None) or ()):
            if isinstance(member, BaseException):
                self.pending.append((member, f"{at}.exceptions[{index}]"))

    @staticmethod
    def captured(exc: BaseException, with_locals: bool) -> str:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_TESTS):
            tb = tb.tb_next
        summary = traceback.TracebackException(type(exc), exc, tb, capture_locals=with_locals)
        return "".join(summary.format())

    def walk(self, obj: Any, at: str, depth: int) -> None:
        if obj is None or isinstance(obj, (bool, int, float, complex)):
            return
        if isinstance(obj, BaseException):
            self.pending.append((obj, at))
            return
        if id(obj) in self.visited or depth > self.MAX_DEPTH:
            return
        if len(self.visited) >= self.MAX_OBJECTS or isinstance(obj, _OPAQUE):
            return
        self.visited.add(id(obj))
        self.keep.append(obj)
        if isinstance(obj, str):
            # The plain contents: str() of a masked subclass would hide them.
            self.seen.record(str.__str__(obj), at)
            return
        if isinstance(obj, (bytes, bytearray, memoryview)):
            self.seen.record(bytes(obj).decode("latin-1"), at)
            return
        self.seen.record(_safe(lambda: repr(obj)), f"repr({at})")
        if isinstance(obj, Secret):
            return  # a vault: its value is there to be revealed on purpose only
        depth += 1
        if isinstance(obj, Mapping):
            # Some mappings refuse iteration (urllib3's pool container): their state is read
            # through their attributes below instead.
            with contextlib.suppress(Exception):
                for key, value in list(obj.items()):
                    self.walk(key, f"{at} key", depth)
                    self.walk(value, f"{at}[{key!r}]", depth)
        elif isinstance(obj, (list, tuple, set, frozenset, collections.deque)):
            for index, item in enumerate(list(obj)):
                self.walk(item, f"{at}[{index}]", depth)
        if isinstance(obj, types.MethodType):
            self.walk(obj.__self__, f"{at}.__self__", depth)
            self.walk(obj.__func__, f"{at}.__func__", depth)
            return
        if isinstance(obj, types.FunctionType):
            for index, cell in enumerate(obj.__closure__ or ()):
                with contextlib.suppress(ValueError):  # an empty cell
                    self.walk(cell.cell_contents, f"{at}.__closure__[{index}]", depth)
            return
        if isinstance(obj, functools.partial):
            self.walk(obj.func, f"{at}.func", depth)
            self.walk(obj.args, f"{at}.args", depth)
            self.walk(obj.keywords, f"{at}.keywords", depth)
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            for name, value in list(attributes.items()):
                self.walk(value, f"{at}.{name}", depth)
        for cls in type(obj).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if name not in ("__dict__", "__weakref__"):
                    self.walk(getattr(obj, name, None), f"{at}.{name}", depth)


@contextlib.contextmanager
def dask_cluster(env: dict[str, str] | None = None) -> Iterator[Any]:
    """A dask client of a ``LocalCluster`` of two worker processes, two threads each, whose
    workers run with ``env`` added to their environment."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=2,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            **({"env": env} if env else {}),
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client

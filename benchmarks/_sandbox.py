"""The sandbox in a child process, driven from the benchmark process.

The benchmarks measure the client; a sandbox in the same process would share the client's
interpreter lock and add its own work to every figure. In a child process it is what a
provider is to a real client: a server on the other end of a loopback socket.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
from typing import Any

from shiptrack_sdk._providers import spec
from shiptrack_sdk.exporto import ExportoClient
from shiptrack_sdk.lex import LexClient
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import ShiplemonClient


def _add_tour(sb: Sandbox, count: int) -> str:
    exporto: Any = sb.apps["exporto"]
    return str(exporto.add_tour(count))


def _seed_orders(sb: Sandbox, count: int, **options: Any) -> int:
    lex: Any = sb.apps["lex"]
    return len(lex.orders.seed(count, **options))


def _set_latency(sb: Sandbox, seconds: float) -> None:
    sb.latency = seconds


def _lex_accepted(sb: Sandbox) -> int:
    lex: Any = sb.apps["lex"]
    return int(lex.tracking.accepted_count)


_COMMANDS: dict[str, Any] = {
    "add_tour": _add_tour,
    "seed_orders": _seed_orders,
    "set_latency": _set_latency,
    "tokens_issued": lambda sb: sb.tokens.issued,
    "lex_accepted": _lex_accepted,
    "reset": lambda sb: sb.reset(),
    "clear_calls": lambda sb: sb.clear_calls(),
    "route_stats": lambda sb, name: sb.route_stats(name),
}


def _client_options(sb: Sandbox) -> dict[str, dict[str, Any]]:
    """Each provider's client keywords for this sandbox (its URLs and test credentials)."""
    found: dict[str, dict[str, Any]] = {}
    for name in sb.providers:
        make = spec(name).sandbox_client
        if make is not None:
            found[name] = make(sb)
    return found


def _serve(conn: multiprocessing.connection.Connection) -> None:
    with Sandbox() as sb:
        conn.send((sb.url, _client_options(sb), sb.environment()))
        while True:
            try:
                name, args, kwargs = conn.recv()
            except EOFError:
                return
            if name == "stop":
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", _COMMANDS[name](sb, *args, **kwargs)))
            except Exception as exc:  # reported to the caller, who raises it
                conn.send(("error", f"{type(exc).__name__}: {exc}"))


class RemoteSandbox:
    """A :class:`~shiptrack_sdk.sandbox.Sandbox` served by a child process.

    It offers the part of the sandbox's interface the benchmarks use: ``url``,
    ``provider_url()``, ``client()`` and the ``*_client()`` factories, ``client_options()``,
    ``environment()``, and a few controls.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child,), name="shiptrack-benchmark-sandbox", daemon=True
        )
        self._process.start()
        child.close()
        self.url: str
        self._options: dict[str, dict[str, Any]]
        self._environment: dict[str, str]
        self.url, self._options, self._environment = self._conn.recv()

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the child process."""
        if self._process.is_alive():
            with contextlib.suppress(EOFError, OSError):
                self._call("stop")
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=5)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((name, args, kwargs))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox command {name} failed: {value}")
        return value

    def provider_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def client_options(self, provider: str) -> dict[str, Any]:
        """The keywords of a ``provider`` client pointed here, as the sandbox's own
        :meth:`~shiptrack_sdk.sandbox.Sandbox.client` passes them (read in the child)."""
        return dict(self._options[provider])

    def client(self, provider: str, **overrides: Any) -> Any:
        """A ``provider`` client pointed here, built as ``Sandbox.client`` builds it."""
        return spec(provider).client_class()(**{**self._options[provider], **overrides})

    def shiplemon_client(self, **overrides: Any) -> ShiplemonClient:
        client: ShiplemonClient = self.client("shiplemon", **overrides)
        return client

    def exporto_client(self, **overrides: Any) -> ExportoClient:
        client: ExportoClient = self.client("exporto", **overrides)
        return client

    def lex_client(self, **overrides: Any) -> LexClient:
        client: LexClient = self.client("lex", **overrides)
        return client

    @property
    def latency(self) -> float:
        raise AttributeError("write-only here: set it")

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._call("set_latency", seconds)

    def tokens_issued(self) -> int:
        """How many tokens the sandbox has issued (``sb.tokens.issued``)."""
        return int(self._call("tokens_issued"))

    def add_tour(self, count: int) -> str:
        """A new exporto tour of ``count`` shipments; its id."""
        return str(self._call("add_tour", count))

    def seed_orders(self, count: int, **options: Any) -> int:
        """Serve ``count`` generated LEX order messages."""
        return int(self._call("seed_orders", count, **options))

    def lex_accepted(self) -> int:
        """How many LEX tracking messages the sandbox has accepted."""
        return int(self._call("lex_accepted"))

    def reset(self) -> None:
        self._call("reset")

    def clear_calls(self) -> None:
        """Forget recorded calls and route statistics (the seeded data stays)."""
        self._call("clear_calls")

    def environment(self) -> dict[str, str]:
        """``SHIPTRACK_*`` variables pointing every client here (the sandbox's own)."""
        return dict(self._environment)

    def route_stats(self, route: str) -> tuple[int, int]:
        calls, in_flight = self._call("route_stats", route)
        return int(calls), int(in_flight)

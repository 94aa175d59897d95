"""The push receiver served by waitress, a production WSGI server, with settings that match
the receiver's limits (``pip install "shiptrack-sdk[push]"``)."""

from __future__ import annotations

import contextlib
import importlib
import math
import threading
from typing import Any

from ..._core import validate
from ...errors import ValidationError
from .body import DEFAULT_BODY_DEADLINE
from .errors import MissingDependencyError
from .receiver import DEFAULT_MAX_BODY_BYTES
from .wsgi import PushWSGIApp

__all__ = ["PushServer"]


class PushServer:
    """Serves a WSGI application (a :class:`PushWSGIApp`, or an application mounting one) with
    waitress.

    Waitress reads each request's body itself, on its event loop, before a worker thread
    calls the application: a client that sends its body slowly, or not at all, never holds a
    thread, and the other deliveries are answered meanwhile. What it holds is a connection:
    waitress closes one that stays silent ``channel_timeout`` seconds, here the app's
    ``body_deadline`` (rounded up; looked for every second), and accepts ``connection_limit``
    at once. A client that
    keeps dripping bytes is not cut off by waitress: in front of the Internet, put a reverse
    proxy with a body timeout before it (nginx's ``client_body_timeout``).

    Waitress refuses a ``Content-Length`` over the receiver's ``max_body_bytes`` itself (413)
    before reading the body (``max_request_body_size``).

    Args:
        app: The application; for a :class:`PushWSGIApp`, the limits are read from it.
        host: The address to listen on (``"0.0.0.0"``: every interface).
        port: The port (``0``: a free one, see :attr:`port`).
        threads: Worker threads calling the application (each handles one delivery at a
            time; the handler's time is what they spend).
        connection_limit: Connections open at once; more wait in the listen backlog.
        max_body_bytes: For another application than a :class:`PushWSGIApp`: the largest
            body accepted (default the receiver's default, 10 MiB).
        **options: Further waitress settings (``url_prefix``, ``trusted_proxy``...).

    Raises:
        MissingDependencyError: waitress is not installed.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        threads: int = 8,
        connection_limit: int = 200,
        max_body_bytes: int | None = None,
        **options: Any,
    ) -> None:
        if not callable(app):
            raise ValidationError("app", "must be a WSGI application")
        if not isinstance(host, str) or not host:
            raise ValidationError("host", "must be an address to listen on")
        validate.int_in_range("port", port, 0, 65_535)
        validate.int_in_range("threads", threads, 1, 1_000)
        validate.int_in_range("connection_limit", connection_limit, 1, None)
        if isinstance(app, PushWSGIApp):
            limit = app.receiver.max_body_bytes
            deadline = app.body_deadline
        else:
            limit = DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
            deadline = DEFAULT_BODY_DEADLINE
        validate.int_in_range("max_body_bytes", limit, 1, None)
        try:
            waitress = importlib.import_module("waitress")
        except ImportError:
            raise MissingDependencyError(
                'serving the push receiver needs waitress: pip install "shiptrack-sdk[push]"'
            ) from None
        settings: dict[str, Any] = {
            "threads": threads,
            "connection_limit": connection_limit,
            "max_request_body_size": limit,
            "channel_timeout": max(1, math.ceil(deadline)),
            # How often silent connections are looked for (waitress's default is 30 s).
            "cleanup_interval": 1,
            **options,
        }
        # waitress polls this map: owning it lets stop() close every connection at once.
        self._map: dict[int, Any] = {}
        self._server = waitress.create_server(app, map=self._map, host=host, port=port, **settings)
        self._thread: threading.Thread | None = None
        #: The address it listens on.
        self.host: str = str(self._server.effective_host)
        #: The port it listens on (the one chosen, when ``port=0``).
        self.port: int = int(self._server.effective_port)

    def __repr__(self) -> str:
        return f"PushServer(host={self.host!r}, port={self.port})"

    @property
    def url(self) -> str:
        """``http://host:port``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve until :meth:`stop` is called (or Ctrl-C)."""
        self._server.run()

    def start(self) -> PushServer:
        """Serve from a background thread; returns the server."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="lex-push-server", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: close every connection, and wait up to ``timeout`` seconds for the
        deliveries being handled."""
        validate.seconds("timeout", timeout, zero=True)
        self._server.task_dispatcher.shutdown(timeout=timeout)
        thread = self._thread
        if thread is not None and thread.is_alive():
            # Closed from the serving thread itself, between two polls of the event loop.
            self._server.trigger.pull_trigger(self._close_all)
            thread.join(timeout)
        else:
            self._close_all()
        self._thread = None

    def _close_all(self) -> None:
        for channel in list(self._map.values()):
            with contextlib.suppress(OSError):
                channel.close()
        self._map.clear()

    def __enter__(self) -> PushServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

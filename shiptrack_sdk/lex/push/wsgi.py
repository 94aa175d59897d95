"""The WSGI application receiving LEX's pushes, around a :class:`PushReceiver`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._core import validate
from ...errors import ValidationError
from .body import DEFAULT_BODY_DEADLINE, DEFAULT_MIN_BODY_RATE, drain, read_body
from .errors import LengthRequiredError, MalformedDeliveryError, PayloadTooLargeError, PushError
from .receiver import (
    Handler,
    PushReceiver,
    PushResponse,
    _internal_error,
    _log_failure,
    _refusal,
)

__all__ = ["PushWSGIApp"]

StartResponse = Callable[..., Any]


class PushWSGIApp:
    """A WSGI application receiving LEX's pushes.

    Serve it with a production WSGI server: :class:`PushServer` serves it with waitress,
    with settings matching the receiver's; gunicorn, uWSGI or mod_wsgi serve it too. Or mount
    it beside a Flask or Django application (see the guide). Every request on it is taken as
    a delivery: mount it at the URL agreed with LEX.

    The body is read only when its ``Content-Length`` is within the receiver's
    ``max_body_bytes``, and never beyond it; a larger one is answered 413 at once (what is
    already arriving of it, up to ``drain_bytes``, is read and discarded for at most a
    second, so the sender sees the answer rather than a reset connection).

    The body must arrive within ``body_deadline`` seconds, and, after its first second, at
    ``min_body_rate`` bytes per second at least; otherwise the answer is 408
    (:class:`BodyTimeoutError`) and the handler is not called. When the server hands over
    its socket's file (the standard library's wsgiref, Werkzeug's server), a stalled read is
    cut off at that instant. A server that reads the body itself before calling the
    application (waitress) has it all by then: there its own settings bound a slow client,
    and no worker thread waits for one. With other servers, the limits are checked between
    reads, and a read that stalls is the server's to time out (gunicorn's ``--timeout``).

    Args:
        receiver: Checks and parses the deliveries.
        handler: Called with the list of messages of each authenticated, well-formed delivery;
            the answer is 200 once it returns, 500 if it raises. Anything else that fails
            unexpectedly is answered 500 with a JSON body too (see :meth:`PushReceiver.handle`).
        body_deadline: Seconds the whole body may take to arrive (default 10).
        min_body_rate: Bytes per second the body must arrive at, after its first second
            (default 1024; 0: no minimum).
        drain_bytes: Bytes of a refused body read and discarded at most.
    """

    def __init__(
        self,
        receiver: PushReceiver,
        handler: Handler,
        *,
        body_deadline: float = DEFAULT_BODY_DEADLINE,
        min_body_rate: int = DEFAULT_MIN_BODY_RATE,
        drain_bytes: int = 1024 * 1024,
    ) -> None:
        if not isinstance(receiver, PushReceiver):
            raise ValidationError("receiver", "must be a PushReceiver")
        if not callable(handler):
            raise ValidationError("handler", "must be callable with the list of messages")
        validate.int_in_range("drain_bytes", drain_bytes, 0, None)
        self.receiver = receiver
        self.handler = handler
        self.body_deadline = validate.seconds("body_deadline", body_deadline)
        self.min_body_rate = validate.int_in_range("min_body_rate", min_body_rate, 0, None)
        self.drain_bytes = drain_bytes

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        """Answer one request (the WSGI protocol): always a JSON body, 500 included."""
        if not isinstance(environ, Mapping):
            raise ValidationError("environ", "must be the WSGI environ mapping")
        if not callable(start_response):
            raise ValidationError("start_response", "must be callable")
        try:
            response = self._respond(environ)
        except Exception as exc:
            # Whatever failed (reading the body, a server handing over something odd), the
            # answer is still a JSON 500: never the server's bare error page.
            _log_failure("answering a delivery", exc)
            response = _internal_error()
        content = response.content()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            *response.headers.items(),
        ]
        start_response(response.status_line, headers)
        return [content]

    def _respond(self, environ: Mapping[str, Any]) -> PushResponse:
        if str(environ.get("REQUEST_METHOD", "GET")).upper() != "POST":
            return PushResponse(
                405,
                {"status": "rejected", "error": "method_not_allowed", "message": "use POST"},
                {"Allow": "POST"},
            )
        try:
            body = self._read_body(environ)
        except PushError as exc:
            return _refusal(exc)
        return self.receiver.handle(_wsgi_headers(environ), body, self.handler)

    def _read_body(self, environ: Mapping[str, Any]) -> bytes:
        limit = self.receiver.max_body_bytes
        stream = environ.get("wsgi.input")
        length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
        if length_text:
            if not (length_text.isascii() and length_text.isdigit()):
                raise MalformedDeliveryError("Content-Length is not a number")
            length = int(length_text)
            if length > limit:
                drain(stream, min(length, self.drain_bytes))
                raise PayloadTooLargeError(
                    f"the body of {length} bytes is over the limit of {limit}"
                )
            return self._read(stream, length)
        if environ.get("wsgi.input_terminated"):
            # The server delimits the body (chunked encoding): read one byte past the limit
            # at most, to tell "at the limit" from "over it".
            body = self._read(stream, limit + 1)
            if len(body) > limit:
                raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
            return body
        raise LengthRequiredError("a Content-Length header is required")

    def _read(self, stream: Any, count: int) -> bytes:
        return read_body(stream, count, deadline=self.body_deadline, min_rate=self.min_body_rate)


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.replace("_", "-").lower()] = str(value)
    return headers

"""The WSGI application receiving LEX's pushes, around a :class:`PushReceiver`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._core import validate
from ...errors import ValidationError
from .errors import LengthRequiredError, MalformedDeliveryError, PayloadTooLargeError, PushError
from .receiver import Handler, PushReceiver, PushResponse, _internal_error, _log_failure

__all__ = ["PushWSGIApp"]

StartResponse = Callable[..., Any]


class PushWSGIApp:
    """A WSGI application receiving LEX's pushes.

    Serve it with any WSGI server (gunicorn, uWSGI, waitress, mod_wsgi), or mount it beside a
    Flask or Django application (see the guide). Every request on it is taken as a delivery:
    mount it at the URL agreed with LEX.

    The body is read only when its ``Content-Length`` is within the receiver's
    ``max_body_bytes``, and never beyond it; a larger one is answered 413 at once (up to
    ``drain_bytes`` of it are read and discarded, so the sender sees the answer rather than a
    reset connection).

    Args:
        receiver: Checks and parses the deliveries.
        handler: Called with the list of messages of each authenticated, well-formed delivery;
            the answer is 200 once it returns, 500 if it raises. Anything else that fails
            unexpectedly is answered 500 with a JSON body too (see :meth:`PushReceiver.handle`).
        drain_bytes: Bytes of a refused body read and discarded at most.
    """

    def __init__(
        self, receiver: PushReceiver, handler: Handler, *, drain_bytes: int = 1024 * 1024
    ) -> None:
        if not isinstance(receiver, PushReceiver):
            raise ValidationError("receiver", "must be a PushReceiver")
        if not callable(handler):
            raise ValidationError("handler", "must be callable with the list of messages")
        validate.int_in_range("drain_bytes", drain_bytes, 0, None)
        self.receiver = receiver
        self.handler = handler
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
            response = PushResponse(
                405,
                {"status": "rejected", "error": "method_not_allowed", "message": "use POST"},
                {"Allow": "POST"},
            )
        else:
            try:
                body = self._read_body(environ)
            except PushError as exc:
                response = PushResponse(
                    exc.status, {"status": "rejected", "error": exc.code, "message": str(exc)}
                )
            else:
                response = self.receiver.handle(_wsgi_headers(environ), body, self.handler)
        return response

    def _read_body(self, environ: Mapping[str, Any]) -> bytes:
        limit = self.receiver.max_body_bytes
        stream = environ.get("wsgi.input")
        length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
        if length_text:
            if not (length_text.isascii() and length_text.isdigit()):
                raise MalformedDeliveryError("Content-Length is not a number")
            length = int(length_text)
            if length > limit:
                self._drain(stream, min(length, self.drain_bytes))
                raise PayloadTooLargeError(
                    f"the body of {length} bytes is over the limit of {limit}"
                )
            return _read(stream, length)
        if environ.get("wsgi.input_terminated"):
            # The server delimits the body (chunked encoding): read one byte past the limit
            # at most, to tell "at the limit" from "over it".
            body = _read(stream, limit + 1)
            if len(body) > limit:
                raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
            return body
        raise LengthRequiredError("a Content-Length header is required")

    @staticmethod
    def _drain(stream: Any, count: int) -> None:
        if stream is None:
            return
        while count > 0:
            chunk = stream.read(min(count, 64 * 1024))
            if not chunk:
                return
            count -= len(chunk)


def _read(stream: Any, count: int) -> bytes:
    if stream is None or count <= 0:
        return b""
    chunks: list[bytes] = []
    remaining = count
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.replace("_", "-").lower()] = str(value)
    return headers

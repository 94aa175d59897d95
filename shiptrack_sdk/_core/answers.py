"""Errors from answers and failures: the one place a request's error is built.

An :class:`Exchange` is one call as its errors name it: provider, method, URL (secrets masked),
how many attempts it made and since when. Every :class:`~shiptrack_sdk.errors.APIError`,
:class:`~shiptrack_sdk.errors.ResponseError` and :class:`~shiptrack_sdk.errors.TransportError`
the SDK raises about a request is built by one of its methods, so redaction, request ids and
the "after N attempts over T s" suffix are written once.

The ``requests`` exception behind a transport error is never chained as it is: it holds the
prepared request (credential headers, a token request's body) and urllib3's text, which
repeats the URL with its query. :func:`scrubbed` makes the copy that is chained instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import attrs
import requests
import urllib3.exceptions

from ..errors import (
    APIError,
    RateLimitError,
    ResponseError,
    ShiptrackError,
    TokenRefusedError,
    TokenResponseError,
    TokenServerError,
    TokenTransportError,
    TransportError,
    error_class_for_status,
)
from .spec import ErrorDetails, ErrorParser, default_error_parser
from .urls import redact_text, redact_url

__all__ = [
    "REQUEST_ID_HEADERS",
    "Exchange",
    "decode_json",
    "parse_retry_after",
    "read_body",
    "scrubbed",
    "unexpected",
    "unmatched",
]

#: Response headers that carry a provider's request id, in order of preference.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id")


def parse_retry_after(value: str | None, *, now: Any = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date
    (``now``, an aware datetime, is the time it is read at: the current time by default)."""
    import email.utils
    from datetime import datetime, timezone

    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN, or a wait that never ends
        return None
    return max(0.0, seconds)


def _never_reached_server(exc: BaseException) -> bool:
    """Whether ``exc`` proves the request never left: the connection could not be opened."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _failure_kind(exc: BaseException) -> str:
    if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        connect = isinstance(exc, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
        return "connect timeout" if connect else "read timeout"
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused" if _never_reached_server(exc) else "connection error"
    if isinstance(
        exc,
        (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            OSError,
        ),
    ):
        return "connection broken while reading the answer"
    if isinstance(exc, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
        return "answer could not be decoded"
    return type(exc).__name__


def scrubbed(exc: BaseException) -> BaseException:
    """A copy of ``exc`` fit to chain to an SDK error: the same class where it can be built
    from a message alone (else :class:`requests.RequestException`), its text redacted, and no
    request, response, arguments, cause or context."""
    text = redact_text(str(exc))
    copy: BaseException
    try:
        copy = type(exc)(text)
    except Exception:  # a class whose constructor wants more than a message
        copy = requests.RequestException(text)
    for attribute in ("request", "response"):
        if hasattr(copy, attribute):
            setattr(copy, attribute, None)
    return copy


def unexpected(provider: str, what: str, exc: BaseException) -> ShiptrackError:
    """A failure that is no :class:`~shiptrack_sdk.errors.ShiptrackError` (a bug, in the SDK or
    in a caller's hook), met where every item must yield a result or an error naming it (a
    fan-out): an error that names ``what`` failed, with the original as its ``__cause__``."""
    error = ShiptrackError(
        f"[{provider}] {what}: unexpected {type(exc).__name__} (the original is the __cause__)"
    )
    error.__cause__ = exc
    return error


def unmatched(provider: str, what: str, why: str) -> ShiptrackError:
    """An item of a fan-out that the provider's answers leave without a result (a tracking id
    no shipment has): an error that names it and says why, for that item alone."""
    return ShiptrackError(f"[{provider}] {what}: {why}")


def decode_json(content: bytes) -> Any:
    """``content`` decoded as JSON.

    Raises:
        ValueError: not JSON (a nesting too deep for the decoder included).
    """
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def read_body(content: bytes) -> Any:
    """A body as it can be read: decoded JSON, else its start as text, ``None`` when empty."""
    if not content:
        return None
    try:
        return decode_json(content)
    except ValueError:
        return content[:2000].decode("utf-8", "replace")


@attrs.define
class Exchange:
    """One call, as its errors name it.

    Args:
        provider: The provider's name.
        method: The HTTP method.
        target: The request's URL, as sent (:attr:`url` is its redacted form).
        token: The call is a token request: its failures are :class:`TokenError` s.
    """

    provider: str
    method: str
    target: str = attrs.field(repr=redact_url)
    token: bool = False
    attempts: int = 0
    started: float = attrs.field(factory=time.monotonic)
    #: Whether a request of this call may have reached the server (it was sent, or its
    #: sending failed past the point where the server could have read it).
    may_have_reached_server: bool = False

    @property
    def url(self) -> str:
        """The URL, secrets masked: worked out when an error or a log line names it, not for
        every call."""
        return redact_url(self.target)

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.started

    def _context(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "method": self.method,
            "url": self.url,
            "attempts": max(self.attempts, 1),
            "elapsed": round(self.elapsed(), 3),
        }

    def json(self, response: requests.Response) -> Any:
        """The answer's body decoded as JSON.

        Raises:
            ResponseError: the body is empty or not JSON.
        """
        content = response.content
        failure: ResponseError | None = None
        if not content:
            failure = self.response_error(
                "empty body where JSON was expected", status=response.status_code
            )
        else:
            try:
                return decode_json(content)
            except ValueError:
                failure = self.response_error(
                    "body is not JSON", status=response.status_code, body=content
                )
        raise failure

    def response_error(
        self,
        message: str,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        location: str | None = None,
    ) -> ResponseError:
        """The answer came, but cannot be taken."""
        if isinstance(body, bytes):
            body = body[:400].decode("utf-8", "replace")
        cls = TokenResponseError if self.token else ResponseError
        return cls(
            message,
            status=status,
            body=body,
            location=redact_url(location) if location is not None else None,
            **self._context(),
        )

    def transport_error(self, exc: BaseException, *, never_sent: bool = False) -> TransportError:
        """The request did not complete. The message names the failure's kind, not
        ``str(exc)``: urllib3's text repeats the URL with its query string."""
        never = never_sent or _never_reached_server(exc)
        if not never:
            self.may_have_reached_server = True
        cls = TokenTransportError if self.token else TransportError
        error = cls(
            _failure_kind(exc),
            may_have_reached_server=self.may_have_reached_server,
            **self._context(),
        )
        # As ``raise error from scrubbed(exc)`` would, without the live exception as context.
        error.__cause__ = scrubbed(exc)
        error.__suppress_context__ = True
        return error

    def deadline_error(self, total: float) -> TransportError:
        """The call's total deadline passed."""
        from ..errors import DeadlineExceededError

        waited = self.elapsed()
        error = DeadlineExceededError(
            f"no complete answer within the total deadline of {total:g} s "
            f"(waited {waited:.1f} s over {max(self.attempts, 1)} attempt"
            f"{'s' if self.attempts > 1 else ''})",
            provider=self.provider,
            method=self.method,
            url=self.url,
            may_have_reached_server=self.may_have_reached_server,
        )
        error.attempts = max(self.attempts, 1)
        error.elapsed = round(waited, 3)
        return error

    def api_error(
        self,
        response: requests.Response,
        error_parser: ErrorParser | None = None,
        *,
        refused: bool = False,
    ) -> APIError:
        """The provider answered with an error status (``refused``: a token endpoint refused
        the credentials, whatever its status said)."""
        status = response.status_code
        body = read_body(response.content)
        try:
            details = (error_parser or default_error_parser)(body)
        except Exception:  # a provider's error parser must never hide the error itself
            details = ErrorDetails()
        request_id = details.request_id or next(
            (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
        )
        message = details.message
        if message is None and isinstance(body, str) and body:
            message = body[:200]
        kwargs: dict[str, Any] = {
            "status": status,
            "code": details.code,
            "request_id": request_id,
            "body": body,
            "headers": dict(response.headers),
            "metadata": details.metadata,
            **self._context(),
        }
        if self.token:
            if refused or status in (400, 401, 403):
                kwargs["code"] = details.code or _text(body, "error")
                description = _text(body, "error_description") or message
                return TokenRefusedError(
                    description or "the token endpoint refused the client credentials", **kwargs
                )
            return TokenServerError(message, **kwargs)
        cls = error_class_for_status(status)
        if cls is RateLimitError:
            return RateLimitError(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        return cls(message, **kwargs)


def _text(body: Any, key: str) -> str | None:
    value = body.get(key) if isinstance(body, Mapping) else None
    return value if isinstance(value, str) and value else None

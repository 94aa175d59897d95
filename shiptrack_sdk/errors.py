"""The one error tree of shiptrack-sdk.

Every failure the SDK reports is a :class:`ShiptrackError`::

    ShiptrackError
    ├── ValidationError          bad input from the caller, refused before any request
    │                            (also a ValueError)
    ├── ClientClosedError        a client used after close() (or after its with block)
    ├── TransportError           connection refused or reset, timeout, TLS
    │   └── DeadlineExceededError   the call's total deadline passed
    ├── ResponseError            the provider answered, but not with JSON of the documented shape,
    │                            or with a redirect the SDK does not follow
    └── APIError                 the provider answered with an error status
        ├── BadRequestError      400, 422
        ├── AuthenticationError  401, 403, and the token endpoint refusing the credentials
        ├── NotFoundError        404
        ├── RateLimitError       429 (carries ``retry_after``)
        └── ServerError          5xx

    TokenError                   mixed into the errors met at a token endpoint:
                                 TokenRefusedError (an AuthenticationError), TokenServerError
                                 (a ServerError), TokenTransportError (a TransportError),
                                 TokenResponseError (a ResponseError)

The token endpoint of an OAuth2 provider is an endpoint like the others, with one difference:
its refusal of the client credentials (400, 401 or 403, or an OAuth2 ``error`` in a 200 answer)
is a :class:`TokenRefusedError`, an :class:`AuthenticationError` whose ``code`` is the OAuth2
``error`` and whose ``error_message`` is its ``error_description``. A transient failure there
is no refusal: it is retried like any other, and once the retries are spent it surfaces as what
it is, a :class:`ServerError` (5xx, 429) or a :class:`TransportError`, each also a
:class:`TokenError`, so a caller can tell "no token could be had, nothing was sent" from the
request's own failure by type. An answer that holds no usable token is a
:class:`TokenResponseError`.

Errors are built in one place (:mod:`shiptrack_sdk._core.answers`) and chained with ``from`` to
a copy of the ``requests`` exception that caused them, a copy that holds no request, no
response and no URL query. Their messages name the provider, method, URL (secrets masked),
HTTP status, request id and, for a call that was retried, how many attempts it made over how
long; they never carry a credential or a token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "DeadlineExceededError",
    "NotFoundError",
    "RateLimitError",
    "ResponseError",
    "ServerError",
    "ShiptrackError",
    "TokenError",
    "TokenRefusedError",
    "TokenResponseError",
    "TokenServerError",
    "TokenTransportError",
    "TransportError",
    "ValidationError",
]

#: How many problems a ValidationError's message lists (``.problems`` has them all).
_LISTED_PROBLEMS = 10

#: How much of a response body an error message quotes.
BODY_EXCERPT = 200


def _excerpt(text: str | None, limit: int = BODY_EXCERPT) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


class ShiptrackError(Exception):
    """Base class of every error raised by shiptrack-sdk.

    Errors pickle (a task that fails in a worker process reaches the caller whole): they are
    rebuilt from their message and attributes, not by calling ``__init__`` again, whose
    keyword-only arguments the default pickling of exceptions would not pass.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    cls: type[ShiptrackError], args: tuple[Any, ...], state: dict[str, Any]
) -> ShiptrackError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ValidationError(ShiptrackError, ValueError):
    """Bad input from the caller, refused before any request is sent.

    Attributes:
        argument: The name of the offending argument (``"shipment_id"``,
            ``"messages[3].event.code"``...).
        problems: Every problem found, as ``(argument, message)`` pairs, when several
            were found at once (for example when validating a batch of messages).
    """

    def __init__(
        self,
        argument: str,
        message: str,
        *,
        problems: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        self.argument = argument
        self.problems: tuple[tuple[str, str], ...] = tuple(problems or ((argument, message),))
        if len(self.problems) > 1:
            shown = self.problems[:_LISTED_PROBLEMS]
            listing = "; ".join(f"{arg}: {msg}" for arg, msg in shown)
            more = len(self.problems) - len(shown)
            text = f"{len(self.problems)} problems: {listing}"
            if more:
                text += f"; and {more} more (see .problems)"
        else:
            text = f"{argument}: {message}"
        super().__init__(text)

    @classmethod
    def from_problems(cls, problems: Sequence[tuple[str, str]]) -> ValidationError:
        """One error reporting every problem in ``problems`` (which must not be empty)."""
        first_arg, first_msg = problems[0]
        return cls(first_arg, first_msg, problems=problems)


class ClientClosedError(ShiptrackError):
    """A client used after its ``close()`` (or after the ``with`` block that closed it):
    nothing is sent, and no connection is opened again; make a new client instead. A copy of
    a client (pickled, as a worker receives it) is a client of its own, open until it is
    closed.

    Attributes:
        provider: The provider of the closed client.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(
            f"[{provider}] the client is closed (by close() or the end of its with block): "
            "make a new one"
        )


class _RequestContext(ShiptrackError):
    """Shared fields of errors that happened while talking to a provider.

    Attributes:
        provider: The provider's name.
        method: The HTTP method.
        url: The URL, secrets masked.
        attempts: How many times the request was sent (or tried) before giving up.
        elapsed: Seconds from the call's start to the error.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
        attempts: int = 1,
        elapsed: float | None = None,
    ) -> None:
        self.provider = provider
        self.method = method
        self.url = url
        self.attempts = attempts
        self.elapsed = elapsed
        where = " ".join(p for p in (method, url) if p)
        prefix = f"[{provider}] " if provider else ""
        text = f"{prefix}{message}" + (f" ({where})" if where else "")
        if attempts > 1:
            text += f" after {attempts} attempts"
            if elapsed is not None:
                text += f" over {elapsed:.1f} s"
        super().__init__(text)


class TransportError(_RequestContext):
    """The request did not complete: connection refused or reset, timeout, TLS failure.

    Attributes:
        may_have_reached_server: ``False`` only when the request surely never reached the
            server (the connection could not be opened), so it is safe to send again even
            when it is not idempotent.
    """

    def __init__(
        self, message: str, *, may_have_reached_server: bool = True, **context: Any
    ) -> None:
        self.may_have_reached_server = may_have_reached_server
        super().__init__(message, **context)


class DeadlineExceededError(TransportError):
    """The call's total deadline (:attr:`Timeout.total <shiptrack_sdk.Timeout.total>`) passed
    before it completed: attempts, waits between them, token requests and reading the answer
    all count. ``elapsed`` and ``attempts`` say how long it waited and how often it tried."""


class ResponseError(_RequestContext):
    """The provider answered, but the body is not JSON or not of the documented shape, or the
    answer redirects to another origin (another host or port, or plain HTTP), which the SDK
    does not follow.

    A write (POST, PUT, PATCH, DELETE) answered with a redirect is a ResponseError too: the SDK
    follows no redirect of a write, since ``requests`` would resend it as a GET without its body
    and report the landing page as the write's success.

    Attributes:
        status: The HTTP status of the answer.
        location: Where a redirect pointed (secrets masked), for a redirect not followed.
        body_excerpt: The start of the body, for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        location: str | None = None,
        **context: Any,
    ) -> None:
        self.status = status
        self.location = location
        self.body_excerpt = _excerpt(body)
        detail = message
        if status is not None:
            detail += f"; HTTP {status}"
        if location is not None:
            detail += f"; Location {location}"
        if self.body_excerpt:
            detail += f"; body starts {self.body_excerpt!r}"
        super().__init__(detail, **context)

    @property
    def status_code(self) -> int | None:
        """The HTTP status (an alias of :attr:`status`, as ``requests`` names it)."""
        return self.status


class APIError(_RequestContext):
    """The provider answered with an error status.

    Attributes:
        status: HTTP status code.
        code: The provider's error code, when its body has one.
        error_message: The provider's error message, when its body has one.
        request_id: The provider's request id, from the body or a response header.
        body: The decoded JSON body (or the text when it is not JSON).
        headers: The response headers.
        metadata: Any further detail the provider's error body carries.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        metadata: Any = None,
        **context: Any,
    ) -> None:
        self.status = status
        self.code = code
        self.error_message = message
        self.request_id = request_id
        self.body = body
        self.headers: Mapping[str, str] = dict(headers or {})
        self.metadata = metadata
        text = f"HTTP {status}"
        if code:
            text += f" {code}"
        if message:
            text += f": {message}"
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text, **context)

    @property
    def status_code(self) -> int:
        """The HTTP status (an alias of :attr:`status`, as ``requests`` names it)."""
        return self.status


class BadRequestError(APIError):
    """400 or 422: the provider refused the request's content."""


class AuthenticationError(APIError):
    """401 or 403 from the API, or the token endpoint refusing the client credentials (400, 401,
    403, or an OAuth2 ``error`` in its answer): ``code`` is then the OAuth2 ``error`` and
    ``error_message`` its ``error_description``.

    A transient failure of the token endpoint is not an AuthenticationError: it is retried,
    then raised as :class:`TokenServerError` or :class:`TokenTransportError`.
    """


class NotFoundError(APIError):
    """404: no such shipment, tour or resource."""


class RateLimitError(APIError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the provider asked to wait, when it said so.
    """

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(APIError):
    """5xx: the provider failed."""


class TokenError(ShiptrackError):
    """Mixed into every error met at a token endpoint: no token could be had, so the request it
    was for was not sent. Catch it to tell that case from the request's own failure."""


class TokenRefusedError(AuthenticationError, TokenError):
    """The token endpoint refused the client credentials (400, 401, 403, or an OAuth2
    ``error``); ``code`` is the OAuth2 ``error``, ``error_message`` its description."""


class TokenServerError(ServerError, TokenError):
    """The token endpoint failed (5xx, or 429), after retries."""


class TokenTransportError(TransportError, TokenError):
    """The token endpoint could not be reached, after retries."""


class TokenResponseError(ResponseError, TokenError):
    """The token endpoint's answer holds no usable token."""


def error_class_for_status(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP error status."""
    if status in (400, 422):
        return BadRequestError
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return APIError

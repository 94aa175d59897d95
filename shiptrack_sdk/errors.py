"""The one error tree of shiptrack-sdk.

Every failure the SDK reports is a :class:`ShiptrackError`::

    ShiptrackError
    ├── ValidationError          bad input from the caller, refused before any request
    │                            (also a ValueError)
    ├── TransportError           connection refused or reset, timeout, TLS
    ├── ResponseError            the provider answered, but not with JSON of the documented shape
    │                            (or redirected to another origin, which is not followed)
    └── APIError                 the provider answered with an error status
        ├── BadRequestError      400, 422
        ├── AuthenticationError  401, 403, and the token endpoint refusing the credentials
        ├── NotFoundError        404
        ├── RateLimitError       429 (carries ``retry_after``)
        └── ServerError          5xx

The token endpoint of an OAuth2 provider is an endpoint like the others, with one difference:
its refusal of the client credentials (400, 401 or 403, or an OAuth2 ``error`` in a 200 answer)
is an :class:`AuthenticationError` whose ``code`` is the OAuth2 ``error`` and whose
``error_message`` is its ``error_description``. A transient failure there is no refusal: it is
retried like any other, and once the retries are spent it surfaces as what it is, a
:class:`ServerError` (5xx), a :class:`RateLimitError` (429) or a :class:`TransportError`. An
answer that holds no usable token is a :class:`ResponseError`.

Errors are raised from one place (:mod:`shiptrack_sdk._http`), chained with ``from`` to the
``requests`` exception that caused them. Their messages name the provider, method, URL (query
secrets masked), HTTP status and request id; they never carry a credential or a token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "NotFoundError",
    "RateLimitError",
    "ResponseError",
    "ServerError",
    "ShiptrackError",
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


class _RequestContext(ShiptrackError):
    """Shared fields of errors that happened while talking to a provider."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.provider = provider
        self.method = method
        self.url = url
        where = " ".join(p for p in (method, url) if p)
        prefix = f"[{provider}] " if provider else ""
        super().__init__(f"{prefix}{message}" + (f" ({where})" if where else ""))


class TransportError(_RequestContext):
    """The request did not complete: connection refused or reset, timeout, TLS failure.

    Attributes:
        may_have_reached_server: ``False`` only when the request surely never reached the
            server (the connection could not be opened), so it is safe to send again even
            when it is not idempotent.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
        may_have_reached_server: bool = True,
    ) -> None:
        self.may_have_reached_server = may_have_reached_server
        super().__init__(message, provider=provider, method=method, url=url)


class ResponseError(_RequestContext):
    """The provider answered, but the body is not JSON or not of the documented shape, or the
    answer redirects to another origin (another host or port, or plain HTTP), which the SDK
    does not follow.

    Attributes:
        status: The HTTP status of the answer.
        body_excerpt: The start of the body, for diagnosis.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body: str | None = None,
    ) -> None:
        self.status = status
        self.body_excerpt = _excerpt(body)
        detail = message
        if status is not None:
            detail += f"; HTTP {status}"
        if self.body_excerpt:
            detail += f"; body starts {self.body_excerpt!r}"
        super().__init__(detail, provider=provider, method=method, url=url)


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
        provider: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        metadata: Any = None,
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
        super().__init__(text, provider=provider, method=method, url=url)


class BadRequestError(APIError):
    """400 or 422: the provider refused the request's content."""


class AuthenticationError(APIError):
    """401 or 403 from the API, or the token endpoint refusing the client credentials (400, 401,
    403, or an OAuth2 ``error`` in its answer): ``code`` is then the OAuth2 ``error`` and
    ``error_message`` its ``error_description``.

    A transient failure of the token endpoint is not an AuthenticationError: it is retried,
    then raised as :class:`ServerError`, :class:`RateLimitError` or :class:`TransportError`.
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

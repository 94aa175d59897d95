"""The options every client takes: timeouts, retries, rate limit, TLS, the session, the
User-Agent.

:class:`ClientOptions` types them for ``**options`` (PEP 692), so a type checker or an IDE
refuses ``ShiplemonClient(api_key="...", timout=5)``; at run time the client refuses it too.
Each setting resolves per call > constructor keyword > ``SHIPTRACK_*`` variable > default.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from ..errors import ValidationError
from . import validate
from .ratelimit import RateLimitLike

if TYPE_CHECKING:
    import requests

# ``**options: Unpack[ClientOptions]`` (PEP 692), importable at run time so that tools which
# read annotations (Sphinx) resolve the signatures; typing_extensions comes with cattrs.
if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_TOTAL",
    "ApiKeySettings",
    "ClientOptions",
    "Deadline",
    "OAuth2Settings",
    "RetryPolicy",
    "Timeout",
    "TimeoutLike",
    "Unpack",
    "VerifyLike",
    "check_verify",
    "env_max_retries",
    "env_timeout",
]

#: The default total deadline of one call, in seconds: long enough for retries with their
#: backoffs and a large answer, short enough that a drip-fed answer cannot hold a call for
#: minutes.
DEFAULT_TOTAL = 60.0


def _connect(value: Any) -> float:
    return validate.seconds("timeout.connect", value)


def _read(value: Any) -> float:
    return validate.seconds("timeout.read", value)


def _total(value: Any) -> float:
    return validate.seconds("timeout.total", value)


def _max_retries(value: Any) -> int:
    return validate.int_in_range("max_retries", value, 0, None)


def _backoff_factor(value: Any) -> float:
    return validate.seconds("backoff_factor", value, zero=True)


def _backoff_max(value: Any) -> float:
    return validate.seconds("backoff_max", value, zero=True, infinite=True)


def _retry_after_max(value: Any) -> float:
    return validate.seconds("retry_after_max", value, zero=True, infinite=True)


@attrs.frozen
class Timeout:
    """How long a call may wait.

    Args:
        connect: Seconds to open a connection (default 5).
        read: Seconds to wait for each read of the answer (default 30).
        total: Seconds the whole call may take — every attempt, the waits between them
            (``Retry-After`` included), token requests and reading the answer — checked while
            the answer streams in (default 60). Past it the call raises
            :class:`~shiptrack_sdk.errors.DeadlineExceededError`.
    """

    connect: float = attrs.field(default=5.0, converter=_connect)
    read: float = attrs.field(default=30.0, converter=_read)
    total: float = attrs.field(default=DEFAULT_TOTAL, converter=_total)

    @classmethod
    def of(cls, value: TimeoutLike, *, argument: str = "timeout") -> Timeout:
        """A :class:`Timeout` from seconds (connect and read; total stays the default), a
        ``(connect, read)`` or ``(connect, read, total)`` tuple, or a Timeout.

        Raises:
            ValidationError: anything else, or a part that is not a finite positive number.
        """
        if isinstance(value, Timeout):
            return value
        if isinstance(value, tuple) and len(value) in (2, 3):
            parts = [validate.seconds(argument, part) for part in value]
            return cls(*parts)
        if isinstance(value, tuple):
            raise ValidationError(argument, "expected (connect, read) or (connect, read, total)")
        seconds = validate.seconds(argument, value)
        return cls(seconds, seconds)

    def as_tuple(self) -> tuple[float, float]:
        """``(connect, read)``, as requests takes it."""
        return (self.connect, self.read)


TimeoutLike = float | int | tuple[float, float] | tuple[float, float, float] | Timeout


class Deadline:
    """When a call must be over (monotonic clock)."""

    __slots__ = ("at", "total")

    def __init__(self, total: float) -> None:
        self.total = total
        self.at = time.monotonic() + total

    def remaining(self) -> float:
        """Seconds left; ``0`` or less once passed."""
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0

    def bound(self, timeout: Timeout) -> tuple[float, float]:
        """``(connect, read)`` of ``timeout``, each cut to the time left (at least 1 ms)."""
        left = max(self.remaining(), 0.001)
        return (min(timeout.connect, left), min(timeout.read, left))


def _statuses(value: Any) -> frozenset[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("statuses", "must be a set of HTTP status codes")
    try:
        statuses = frozenset(value)
    except TypeError:
        raise ValidationError("statuses", "must be a set of HTTP status codes") from None
    return frozenset(validate.int_in_range("statuses", status, 100, 599) for status in statuses)


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Idempotent methods (GET, PUT, DELETE, HEAD) are retried on connection errors, timeouts and
    the ``statuses`` below. Other methods (POST) are retried only when the request surely
    never reached the server: the connection could not be opened. A token endpoint's outage
    is retried whatever the method, as no request was sent without a token.

    Args:
        max_retries: Retries after the first attempt; ``0`` disables retrying.
        backoff_factor: The first backoff in seconds; each retry doubles it.
        backoff_max: The longest backoff between two attempts.
        retry_after_max: The longest ``Retry-After`` honoured; a longer one (or one past the
            call's total deadline) is not waited for, the error is raised with ``retry_after``
            set instead.
        statuses: HTTP statuses worth retrying.
    """

    max_retries: int = attrs.field(default=3, converter=_max_retries)
    backoff_factor: float = attrs.field(default=0.5, converter=_backoff_factor)
    backoff_max: float = attrs.field(default=30.0, converter=_backoff_max)
    retry_after_max: float = attrs.field(default=120.0, converter=_retry_after_max)
    statuses: frozenset[int] = attrs.field(
        default=frozenset({429, 502, 503, 504}), converter=_statuses
    )

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): exponential, jittered.

        Half of the delay is fixed and half random ("equal jitter"), so clients that failed
        together do not come back together, yet each waits longer than the last.
        """
        delay = min(self.backoff_max, self.backoff_factor * math.ldexp(1.0, min(retry, 64) - 1))
        return delay / 2 + random.uniform(0, delay / 2)


VerifyLike = bool | str | os.PathLike[str]


def check_verify(verify: Any) -> bool | str:
    """``verify`` as requests takes it: ``True``, ``False``, or the path of a CA bundle file or
    directory that exists.

    Only the booleans themselves are taken: ``0``, ``""`` or ``None`` would turn certificate
    checks off (or on) by accident, and requests reads any other truthy value as a path.

    Raises:
        ValidationError: anything else, or a path that does not exist.
    """
    if verify is True or verify is False:
        return bool(verify)
    if isinstance(verify, os.PathLike):
        verify = os.fspath(verify)
    if not isinstance(verify, str) or not verify:
        raise ValidationError(
            "verify",
            f"must be True, False or the path of a CA bundle, got {type(verify).__name__}",
        )
    if not os.path.exists(verify):
        raise ValidationError("verify", f"no CA bundle file or directory at {verify!r}")
    return verify


def env_timeout() -> Timeout | None:
    """``SHIPTRACK_TIMEOUT``: seconds, ``connect,read`` or ``connect,read,total``."""
    raw = os.environ.get("SHIPTRACK_TIMEOUT")
    if not raw:
        return None
    parts = raw.split(",")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        numbers = ()
    if len(numbers) == 1:
        return Timeout.of(numbers[0], argument="SHIPTRACK_TIMEOUT")
    if len(numbers) in (2, 3):
        return Timeout.of(numbers, argument="SHIPTRACK_TIMEOUT")  # type: ignore[arg-type]
    raise ValidationError(
        "SHIPTRACK_TIMEOUT", "must be seconds, 'connect,read' or 'connect,read,total'"
    )


def env_max_retries() -> int | None:
    """``SHIPTRACK_MAX_RETRIES``: an integer >= 0."""
    raw = os.environ.get("SHIPTRACK_MAX_RETRIES")
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError("SHIPTRACK_MAX_RETRIES", "must be an integer >= 0")
    return int(raw)


class ClientOptions(TypedDict, total=False):
    """The options every client takes, as keywords.

    Attributes:
        session: A :class:`requests.Session` of the caller's (proxies, certificates,
            adapters); one is made otherwise. It is left open by ``close()``.
        timeout: Seconds, ``(connect, read)``, ``(connect, read, total)`` or a
            :class:`Timeout` (env ``SHIPTRACK_TIMEOUT``; default connect 5 s, read 30 s,
            total 60 s).
        max_retries: Retries after the first attempt, ``0`` disables
            (env ``SHIPTRACK_MAX_RETRIES``; default 3).
        backoff_factor: First backoff in seconds, doubled at each retry (default 0.5).
        retry: A whole :class:`RetryPolicy`, instead of ``max_retries``/``backoff_factor``.
        verify: ``True`` (the default), the path of a CA bundle file or directory that
            exists, or ``False`` (which logs a warning); anything else is refused.
        user_agent: Replaces the ``shiptrack-sdk/<version>`` User-Agent.
        max_response_bytes: Answers larger than this are refused (default 32 MiB).
        rate_limit: At most this many requests a second from the client, all threads
            together: a number, ``(rate, burst)`` or a :class:`~shiptrack_sdk.RateLimit`;
            ``False`` for none (env ``<PREFIX>_RATE_LIMIT``: ``10``, ``10,5`` or ``off``;
            default: the provider's documented limit, none for a provider that documents
            none). A ``429`` with ``Retry-After`` pauses the whole client either way.
    """

    session: requests.Session
    timeout: TimeoutLike
    max_retries: int
    backoff_factor: float
    retry: RetryPolicy
    verify: VerifyLike
    user_agent: str
    max_response_bytes: int
    rate_limit: RateLimitLike | Literal[False]


#: The names :class:`ClientOptions` knows, for the run-time check of ``**options``.
OPTION_NAMES = frozenset(ClientOptions.__annotations__)


class ApiKeySettings(ClientOptions, total=False):
    """What a client of a provider that authenticates with an API key takes: the
    :class:`ClientOptions`, and these (each also read from the provider's environment
    variables).

    Attributes:
        api_key: The API key.
        environment: A named environment of the provider's.
        base_url: Overrides the environment's URL.
    """

    api_key: str | None
    environment: str | None
    base_url: str | None


class OAuth2Settings(ClientOptions, total=False):
    """What a client of a provider that uses OAuth2 client credentials takes: the
    :class:`ClientOptions`, and these (each also read from the provider's environment
    variables).

    Attributes:
        client_id: The OAuth2 client id.
        client_secret: The OAuth2 client secret.
        token_url: The token endpoint.
        scope: Scopes to ask for: a space-separated string or a list of names.
        environment: A named environment of the provider's.
        base_url: Overrides the environment's URL.
    """

    client_id: str | None
    client_secret: str | None
    token_url: str | None
    scope: str | Iterable[str] | None
    environment: str | None
    base_url: str | None

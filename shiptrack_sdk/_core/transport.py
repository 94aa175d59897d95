"""The transport every client shares: one pooled session, timeouts, retries, error mapping.

This is the only module that sends HTTP requests for the resource modules and the only place
that turns ``requests`` exceptions and error responses into :mod:`shiptrack_sdk.errors`.

Redirects are followed within the request's origin (scheme, host and port) only, credentials
included. A redirect to another origin, or from HTTPS to plain HTTP, is not followed: nothing is
sent there, and the request fails with :class:`~shiptrack_sdk.errors.ResponseError`. Token
requests go through a transport too, and follow the same rule.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import requests
import urllib3.exceptions
from requests.auth import AuthBase

from .._version import __version__
from ..auth import origin, redirect_target
from ..errors import (
    APIError,
    RateLimitError,
    ResponseError,
    ShiptrackError,
    TransportError,
    ValidationError,
    error_class_for_status,
)

__all__ = [
    "USER_AGENT",
    "EncodedJSON",
    "ErrorDetails",
    "RetryPolicy",
    "Timeout",
    "Transport",
    "encode_json",
]

logger = logging.getLogger("shiptrack_sdk")

USER_AGENT = f"shiptrack-sdk/{__version__}"

#: Response headers that carry a provider's request id, in order of preference.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id")

#: Query parameter names whose values never appear in logs or errors.
_SECRET_PARAMS = ("secret", "token", "key", "password", "signature", "assertion", "code")


@attrs.frozen
class Timeout:
    """Seconds to wait for a connection and for each read of the answer.

    Args:
        connect: Seconds to open the connection (default 5).
        read: Seconds to wait between bytes of the answer (default 30).
    """

    connect: float = 5.0
    read: float = 30.0

    @classmethod
    def of(cls, value: TimeoutLike, *, argument: str = "timeout") -> Timeout:
        """A :class:`Timeout` from a number (both), a ``(connect, read)`` pair or a Timeout."""
        if isinstance(value, Timeout):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value <= 0:
                raise ValidationError(argument, "must be a positive number of seconds")
            return cls(float(value), float(value))
        if isinstance(value, tuple) and len(value) == 2:
            connect, read = value
            for part in (connect, read):
                if not isinstance(part, (int, float)) or isinstance(part, bool) or part <= 0:
                    raise ValidationError(argument, "(connect, read) must be positive numbers")
            return cls(float(connect), float(read))
        raise ValidationError(argument, f"expected seconds or (connect, read), got {value!r}")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


TimeoutLike = float | int | tuple[float, float] | Timeout


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Idempotent methods (GET, PUT, DELETE, HEAD) are retried on connection errors, timeouts and
    the ``statuses`` below. Other methods (POST) are retried only when the request surely
    never reached the server: the connection could not be opened.

    Args:
        max_retries: Retries after the first attempt; ``0`` disables retrying.
        backoff_factor: The first backoff in seconds; each retry doubles it.
        backoff_max: The longest backoff between two attempts.
        retry_after_max: The longest ``Retry-After`` honoured; a longer one is not waited
            for, the error is raised with ``retry_after`` set instead.
        statuses: HTTP statuses worth retrying.
    """

    max_retries: int = 3
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def __attrs_post_init__(self) -> None:
        if (
            not isinstance(self.max_retries, int)
            or isinstance(self.max_retries, bool)
            or self.max_retries < 0
        ):
            raise ValidationError("max_retries", "must be an integer >= 0")
        for argument in ("backoff_factor", "backoff_max", "retry_after_max"):
            value = getattr(self, argument)
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or math.isnan(value)
                or value < 0
                or (argument == "backoff_factor" and math.isinf(value))
            ):
                raise ValidationError(argument, f"must be a number of seconds >= 0, got {value!r}")
        statuses: Any = self.statuses
        if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
            raise ValidationError("statuses", "must be a set of HTTP status codes")
        try:
            statuses = frozenset(statuses)
        except TypeError:
            raise ValidationError("statuses", "must be a set of HTTP status codes") from None
        for status in statuses:
            if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
                raise ValidationError("statuses", f"{status!r} is not an HTTP status code")
        object.__setattr__(self, "statuses", statuses)  # a list given is kept as a frozenset

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): exponential, jittered.

        Half of the delay is fixed and half random ("equal jitter"), so clients that failed
        together do not come back together, yet each waits longer than the last.
        """
        delay = min(self.backoff_max, self.backoff_factor * float(2 ** (retry - 1)))
        return delay / 2 + random.uniform(0, delay / 2)


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class EncodedJSON:
    """A JSON body encoded ahead of sending, by :func:`encode_json`.

    Passed as ``json_body``, it is sent as it is: a caller that must know a body can be
    encoded before sending anything encodes it once, not once to check and again to send.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        #: The UTF-8 JSON text.
        self.data = data

    def __repr__(self) -> str:
        return f"<EncodedJSON of {len(self.data)} bytes>"


def encode_json(value: Any) -> EncodedJSON:
    """``value`` encoded the way the transport sends JSON: compact, UTF-8.

    Raises:
        TypeError: ``value`` holds something JSON cannot represent.
        ValueError: ``value`` holds a circular reference.
    """
    return EncodedJSON(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


@attrs.frozen
class ErrorDetails:
    """What a provider's error body says, as parsed by the provider's error parser."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    metadata: Any = None


ErrorParser = Callable[[Any], ErrorDetails]


def _default_error_parser(body: Any) -> ErrorDetails:
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error_description") or body.get("detail")
        code = body.get("code") or body.get("error")
        return ErrorDetails(
            code=str(code) if isinstance(code, (str, int)) else None,
            message=str(message) if isinstance(message, (str, int)) else None,
            request_id=_str_or_none(body.get("requestId") or body.get("request_id")),
        )
    return ErrorDetails()


def _str_or_none(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and value != "" else None


def redact_url(url: str) -> str:
    """``url`` with user info and secret-looking query values masked, for logs and errors."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(any(s in k.lower() for s in _SECRET_PARAMS) for k, _ in pairs):
            query = urlencode(
                [(k, "***" if any(s in k.lower() for s in _SECRET_PARAMS) else v) for k, v in pairs]
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
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
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _never_reached_server(exc: requests.RequestException) -> bool:
    """Whether ``exc`` proves the request never left: the connection could not be opened."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


class _BodyTooLarge(Exception):
    pass


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


class _ForeignRedirect(Exception):
    """Raised by the redirect hook: the answer redirects to another origin (not followed)."""

    def __init__(self, status: int, target: str, downgrade: bool) -> None:
        super().__init__(status, target)
        self.status = status
        self.target = target
        self.downgrade = downgrade


def _refuse_foreign_redirects(response: requests.Response, **kwargs: Any) -> None:
    # A response hook: requests runs it on every answer, before following any redirect, so a
    # redirect elsewhere is refused before a byte goes there.
    target = redirect_target(response)
    if target is None:
        return
    here = origin(response.url or "")
    there = origin(target)
    if here is not None and there == here:
        return
    response.close()
    downgrade = here is not None and here[0] == "https" and urlsplit(target).scheme == "http"
    raise _ForeignRedirect(response.status_code, target, downgrade)


class Transport:
    """Sends requests for one client over one pooled :class:`requests.Session`.

    Args:
        provider: The provider's name, used in log lines and errors.
        base_url: Prefix of every relative path.
        auth: A :class:`requests.auth.AuthBase` applied to every request.
        session: A session of the caller's (proxies, certificates, adapters); one is made
            lazily otherwise.
        timeout: Default timeout of every request.
        retry: When to retry.
        verify: TLS verification: ``True``, the path of a CA bundle file or directory that
            exists, or ``False`` (warned about). Anything else is refused.
        error_parser: Reads the provider's error body into :class:`ErrorDetails`.
        max_response_bytes: Bodies larger than this are refused with :class:`ResponseError`.
        user_agent: The ``User-Agent`` header.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        auth: AuthBase | None = None,
        session: requests.Session | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        verify: VerifyLike = True,
        error_parser: ErrorParser | None = None,
        max_response_bytes: int = 32 * 1024 * 1024,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (
            not isinstance(user_agent, str)
            or not user_agent.strip()
            or user_agent != user_agent.strip()
            or any(ord(c) < 32 or ord(c) == 127 for c in user_agent)
        ):
            # It goes into a header: CR/LF would inject headers, and requests would refuse
            # it only when sending, with its own exception.
            raise ValidationError(
                "user_agent", "must be a non-empty string without control characters"
            )
        verify = check_verify(verify)
        if verify is False:
            # Said once per transport, loudly: a silent verify=False is how MITMs go unseen.
            logger.warning(
                "%s: TLS certificate verification is disabled; use only against a test server",
                provider,
            )
        self.provider = provider
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.timeout = timeout or Timeout()
        self.retry = retry or RetryPolicy()
        self.verify = verify
        self.error_parser = error_parser or _default_error_parser
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent
        self.sleep = sleep
        self._own_session = session is None
        self._session = session
        self._session_lock = threading.Lock()

    # Pickling carries configuration; a session the transport made itself is rebuilt lazily
    # in the process that unpickles it, with a fresh connection pool.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_session_lock"]
        if self._own_session:
            state["_session"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._session_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Transport {self.provider} {redact_url(self.base_url)}>"

    @property
    def session(self) -> requests.Session:
        """The pooled session (made on first use when the caller gave none)."""
        session = self._session
        if session is None:
            with self._session_lock:
                session = self._session
                if session is None:
                    session = requests.Session()
                    # Pool size above the default 10 so a fan-out of N workers keeps N
                    # connections alive instead of opening and dropping them.
                    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    self._session = session
        return session

    def close(self) -> None:
        """Close the session's connections (only a session the transport made)."""
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (absolute URLs pass unchanged)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path.lstrip("/")

    def answered(self, error: ResponseError, path: str) -> bool:
        """Whether ``error`` is about the answer to a request to ``path`` itself, rather than
        about a token endpoint's answer met on the way (a token fetched, or renewed after a
        401, for that request)."""
        return error.url == redact_url(self.url(path))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: bytes | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutLike | None = None,
        idempotent: bool | None = None,
        allow_statuses: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """Send one request, retrying as the policy allows, and return the answer.

        The response body is read in full (up to ``max_response_bytes``) before returning.

        Raises:
            APIError: an error status, after retries (a status in ``allow_statuses`` is
                returned instead).
            TransportError: the request did not complete, after retries.
            ResponseError: the body is larger than the limit.
        """
        method = method.upper()
        url = self.url(path)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        tmo = (Timeout.of(timeout) if timeout is not None else self.timeout).as_tuple()
        send_headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if json_body is not None:
            if not isinstance(json_body, EncodedJSON):
                json_body = encode_json(json_body)
            data = json_body.data
            send_headers["Content-Type"] = "application/json"
        if headers:
            send_headers.update(headers)
        session = self.session
        request = requests.Request(
            method,
            url,
            params=params,
            data=data,
            headers=send_headers,
            auth=self.auth,
            hooks={"response": [_refuse_foreign_redirects]},
        )
        retry = self.retry
        safe_url = redact_url(url)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                # Auth runs in prepare (a token may be fetched there): the request has not
                # left yet, so a failure here is retried whatever the method.
                prepared = session.prepare_request(request)
            except (TransportError, APIError) as exc:
                delay = self._auth_retry_delay(exc, attempt)
                if delay is not None:
                    self._log_attempt(method, safe_url, None, started, attempt, exc)
                    self.sleep(delay)
                    continue
                raise
            try:
                response = session.send(
                    prepared,
                    timeout=tmo,
                    verify=self.verify,
                    stream=True,
                    allow_redirects=True,
                    **self._environment(session, prepared.url or url),
                )
                self._read_body(response, method, safe_url)
            except _ForeignRedirect as refused:
                self._log_attempt(method, safe_url, refused.status, started, attempt, None)
                where = "plain HTTP" if refused.downgrade else "another origin"
                raise ResponseError(
                    f"redirect to {where} ({redact_url(refused.target)}) not followed: "
                    "requests and their credentials go only to the origin they were made for",
                    provider=self.provider,
                    method=method,
                    url=safe_url,
                    status=refused.status,
                ) from None
            except ShiptrackError as exc:
                # A body over the limit, or the auth failing to renew its token after a 401.
                self._log_attempt(method, safe_url, None, started, attempt, exc)
                raise
            except requests.RequestException as exc:
                error = self._transport_error(exc, method, safe_url)
                self._log_attempt(method, safe_url, None, started, attempt, error)
                if attempt <= retry.max_retries and (
                    idempotent or not error.may_have_reached_server
                ):
                    self.sleep(retry.backoff(attempt))
                    continue
                raise error from exc
            status = response.status_code
            self._log_exchange(method, safe_url, response, started, attempt)
            if status < 400 or status in allow_statuses:
                return response
            if idempotent and status in retry.statuses and attempt <= retry.max_retries:
                delay = parse_retry_after(response.headers.get("Retry-After"))
                if delay is None:
                    delay = retry.backoff(attempt)
                if delay <= retry.retry_after_max:
                    self.sleep(delay)
                    continue
            raise self._api_error(response, method, safe_url)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the body decoded as JSON.

        Raises:
            ResponseError: the body is empty or not JSON.
        """
        response = self.request(method, path, **kwargs)
        return self.decode_json(response, method)

    def decode_json(self, response: requests.Response, method: str) -> Any:
        """The JSON body of ``response``, or :class:`ResponseError`."""
        content = response.content
        if not content:
            raise ResponseError(
                "empty body where JSON was expected",
                provider=self.provider,
                method=method,
                url=redact_url(response.url),
                status=response.status_code,
            )
        try:
            return json.loads(content)
        except (ValueError, RecursionError) as exc:
            raise ResponseError(
                "body is not JSON",
                provider=self.provider,
                method=method,
                url=redact_url(response.url),
                status=response.status_code,
                body=content[:400].decode("utf-8", "replace"),
            ) from exc

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _environment(session: requests.Session, url: str) -> dict[str, Any]:
        # What Session.request would add: proxies and CA bundle from the environment.
        settings = session.merge_environment_settings(url, {}, None, None, None)
        return {"proxies": settings["proxies"], "cert": settings["cert"]}

    def _read_body(self, response: requests.Response, method: str, url: str) -> None:
        limit = self.max_response_bytes
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            response.close()
            raise ResponseError(
                f"body of {int(length)} bytes exceeds the limit of {limit} bytes",
                provider=self.provider,
                method=method,
                url=url,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > limit:
                response.close()
                raise ResponseError(
                    f"body exceeds the limit of {limit} bytes",
                    provider=self.provider,
                    method=method,
                    url=url,
                    status=response.status_code,
                )
            chunks.append(chunk)
        # requests reads the body into _content itself when not streaming; streaming lets
        # the size limit apply first, then the same attribute is filled the same way.
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]

    def authenticate(self) -> None:
        """Obtain the auth's credential now (an OAuth2 token) without sending a request,
        retried as the authentication step of :meth:`request` is.

        Raises:
            TransportError: the token endpoint could not be reached, after retries.
            APIError: the token endpoint refused (credentials) or failed, after retries.
            ResponseError: the token endpoint's answer holds no usable token.
        """
        fetch = getattr(self.auth, "access_token", None)
        if not callable(fetch):
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                fetch()
            except (TransportError, APIError) as exc:
                delay = self._auth_retry_delay(exc, attempt)
                if delay is None:
                    raise
                self.sleep(delay)
                continue
            return

    def _auth_retry_delay(self, exc: ShiptrackError, attempt: int) -> float | None:
        """Seconds to wait before authenticating again after ``exc``, or ``None`` to raise.

        A token request is sent before the request it authenticates, so trying again is safe
        whatever the request's method.
        """
        retry = self.retry
        if attempt > retry.max_retries:
            return None
        if isinstance(exc, TransportError):
            # A token request that never left was retried already by the token's own
            # transport (same policy); retrying it here too would multiply the attempts.
            return retry.backoff(attempt) if exc.may_have_reached_server else None
        if isinstance(exc, APIError) and (exc.status >= 500 or exc.status == 429):
            # The token endpoint's Retry-After is honoured as any other endpoint's.
            hint = next((v for k, v in exc.headers.items() if k.lower() == "retry-after"), None)
            delay = parse_retry_after(hint)
            if delay is None:
                return retry.backoff(attempt)
            return delay if delay <= retry.retry_after_max else None
        return None

    def _transport_error(
        self, exc: requests.RequestException, method: str, url: str
    ) -> TransportError:
        never = _never_reached_server(exc)
        if isinstance(exc, requests.Timeout):
            kind = "connect timeout" if isinstance(exc, requests.ConnectTimeout) else "read timeout"
        elif isinstance(exc, requests.exceptions.SSLError):
            kind = "TLS error"
        elif isinstance(exc, requests.ConnectionError):
            kind = "connection refused" if never else "connection error"
        elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
            kind = "connection broken while reading the answer"
        elif isinstance(exc, requests.exceptions.ContentDecodingError):
            kind = "answer could not be decoded"
        else:
            kind = type(exc).__name__
        # The message names the failure class, not str(exc): urllib3's text repeats the URL
        # with its query string, which may carry a secret.
        return TransportError(
            kind, provider=self.provider, method=method, url=url, may_have_reached_server=not never
        )

    def _api_error(self, response: requests.Response, method: str, url: str) -> APIError:
        status = response.status_code
        body: Any
        try:
            body = json.loads(response.content) if response.content else None
        except (ValueError, RecursionError):
            body = response.text[:2000]
        try:
            details = self.error_parser(body)
        except Exception:  # a provider's error parser must never hide the error itself
            details = ErrorDetails()
        request_id = details.request_id or next(
            (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
        )
        message = details.message
        if message is None and isinstance(body, str) and body:
            message = body[:200]
        cls = error_class_for_status(status)
        kwargs: dict[str, Any] = {
            "provider": self.provider,
            "method": method,
            "url": url,
            "status": status,
            "code": details.code,
            "request_id": request_id,
            "body": body,
            "headers": dict(response.headers),
            "metadata": details.metadata,
        }
        if cls is RateLimitError:
            return RateLimitError(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                **kwargs,
            )
        return cls(message, **kwargs)

    def _log_exchange(
        self, method: str, url: str, response: requests.Response, started: float, attempt: int
    ) -> None:
        """The attempt's line; when the auth answered a 401 by renewing its token and replaying
        the request (the 401 is then in the history), a line for the 401 first."""
        if not logger.isEnabledFor(logging.DEBUG):
            return
        refused = [r for r in response.history if r.status_code == 401]
        if not refused:
            self._log_attempt(method, url, response.status_code, started, attempt, None)
            return
        first_ms = 0.0
        for answer in refused:
            ms = answer.elapsed.total_seconds() * 1000
            first_ms += ms
            self._log_line(method, url, "401 (token renewed, request replayed)", ms, attempt)
        total_ms = (time.perf_counter() - started) * 1000
        self._log_line(
            method, url, f"{response.status_code} (replay)", max(0.0, total_ms - first_ms), attempt
        )

    def _log_attempt(
        self,
        method: str,
        url: str,
        status: int | None,
        started: float,
        attempt: int,
        error: Exception | None,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        elapsed = (time.perf_counter() - started) * 1000
        outcome = str(status) if status is not None else f"failed ({error})"
        self._log_line(method, url, outcome, elapsed, attempt)

    def _log_line(self, method: str, url: str, outcome: str, elapsed: float, attempt: int) -> None:
        logger.debug(
            "%s %s %s -> %s in %.1f ms (attempt %d/%d)",
            self.provider,
            method,
            url,
            outcome,
            elapsed,
            attempt,
            self.retry.max_retries + 1,
        )

"""The transport every client shares: one pooled session and one retry loop under one deadline.

This is the only module that sends HTTP requests. A call goes::

    attempt:  credentials.apply()  →  send  →  redirects?  →  read the body  →  status?
                 (token fetch, one       (same origin, GET       (size limit,     (401: renew
                  exchange)               only; writes never)     deadline)        once, replay)
    failure:  retry as the policy allows (backoff, Retry-After), inside Timeout.total
    before each attempt: the client's rate limit and pause (a 429's Retry-After), ratelimit

The token endpoint is met inside the attempt, so its outage is retried by the same loop, on
the first fetch and on a renewal after a 401 alike, and its refusal is raised at once. Errors
are built by :class:`~.answers.Exchange` and raised outside ``except`` blocks: no exception of
``requests`` (which holds the prepared request, credentials included) is ever in an SDK error's
``__cause__`` or ``__context__``.

Redirects: a GET follows a redirect within its origin (scheme, host and port), credentials
included; a redirect to another origin is not followed (nothing is sent there) and fails with
:class:`~shiptrack_sdk.errors.ResponseError`. A write (POST, PUT, PATCH, DELETE) follows no
redirect at all: a 3xx is a :class:`~shiptrack_sdk.errors.ResponseError` naming the status and
the ``Location``, since ``requests`` would resend the write as a GET without its body and report
the landing page as the write's success.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

import attrs
import requests
import urllib3.exceptions

from .._version import __version__
from ..errors import APIError, ClientClosedError, ShiptrackError, TokenError, TransportError
from . import validate
from .answers import Exchange, parse_retry_after
from .encoding import EncodedJSON, encode_json
from .options import Deadline, RetryPolicy, Timeout, TimeoutLike, VerifyLike, check_verify
from .ratelimit import Limiter
from .sessions import Environment, environment_settings, new_session, prepare
from .spec import ErrorParser
from .tokens import Basic, Credentials, TokenRequest
from .urls import install_log_redaction, origin, redact_url, redirect_target, split_userinfo

__all__ = ["USER_AGENT", "Transport"]

logger = logging.getLogger("shiptrack_sdk")

USER_AGENT = f"shiptrack-sdk/{__version__}"

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Methods that may follow a redirect: those a redirect does not turn into another request.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_REDIRECTS = 10

R = TypeVar("R")
_CHUNK = 64 * 1024


@attrs.define
class _Failure:
    """An attempt that failed: the error to raise if it is the last, whether another attempt is
    worth it, and the server's hint of when."""

    error: ShiptrackError
    retry: bool
    hint: float | None = None
    #: Sent again at once, outside the retry budget: the replay after a token renewal.
    replay: bool = False


@attrs.define
class _Call:
    """What one call's attempts share."""

    method: str
    url: str = attrs.field(repr=redact_url)
    params: Mapping[str, Any] | None
    data: bytes | None
    headers: dict[str, str]
    timeout: Timeout
    idempotent: bool
    exchange: Exchange
    deadline: Deadline
    renewed: bool = False


class Transport:
    """Sends requests for one client over one pooled :class:`requests.Session`.

    Args:
        provider: The provider's name, used in log lines and errors.
        base_url: Prefix of every relative path.
        credentials: What each request carries (an API key, OAuth2 tokens), or ``None``.
        session: A session of the caller's (proxies, certificates, adapters); one is made
            lazily otherwise.
        timeout: Default timeout of every call.
        retry: When to retry.
        verify: TLS verification: ``True``, the path of a CA bundle file or directory that
            exists, or ``False`` (warned about). Anything else is refused.
        error_parser: Reads the provider's error body.
        max_response_bytes: Bodies larger than this are refused with ``ResponseError``.
        user_agent: The ``User-Agent`` header.
        sleep: Waits between attempts (tests pass their own).
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        credentials: Credentials | None = None,
        session: requests.Session | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        verify: VerifyLike = True,
        error_parser: ErrorParser | None = None,
        max_response_bytes: int = 32 * 1024 * 1024,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.user_agent = validate.header_value("user_agent", user_agent)
        if user_agent != user_agent.strip():
            raise validate.ValidationError("user_agent", "must not end with whitespace")
        verify = check_verify(verify)
        if verify is False:
            # Said once per transport, loudly: a silent verify=False is how MITMs go unseen.
            logger.warning(
                "%s: TLS certificate verification is disabled; use only against a test server",
                provider,
            )
        if session is not None and not isinstance(session, requests.Session):
            raise validate.ValidationError("session", "must be a requests.Session")
        self.provider = provider
        base_url, userinfo = split_userinfo(base_url)
        self.base_url = base_url.rstrip("/") + "/"
        if credentials is None and userinfo is not None:
            # As requests reads user info in a URL: HTTP Basic, here held as a secret and kept
            # out of every URL the transport shows or sends.
            credentials = Basic(*userinfo)
        self.credentials = credentials
        self.timeout = timeout or Timeout()
        self.retry = retry or RetryPolicy()
        self.verify = verify
        self.error_parser = error_parser
        self.max_response_bytes = validate.int_in_range(
            "max_response_bytes", max_response_bytes, 1, None
        )
        self.sleep = sleep
        self._own_session = session is None
        self._session = session
        self._session_lock = threading.Lock()
        self._closed = False
        self.limiter = Limiter()  # the client sets its rate limit
        self._environment: Environment = {}
        install_log_redaction()

    # Pickling carries configuration; a session the transport made itself is rebuilt lazily
    # in the process that unpickles it, with a fresh connection pool; the copy is open.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_session_lock"]
        state["_environment"] = {}  # another process, another environment
        if self._own_session:
            state["_session"] = None
        state["_closed"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._session_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Transport {self.provider} {redact_url(self.base_url)}>"

    @property
    def session(self) -> requests.Session:
        """The pooled session (made on first use when the caller gave none); once closed,
        ClientClosedError, unless the session is the caller's (still theirs, returned)."""
        session = self._session
        if session is None:
            with self._session_lock:
                if self._closed and self._own_session:
                    # Made again, it would reopen connections that close() released.
                    raise ClientClosedError(self.provider)
                session = self._session
                if session is None:
                    session = self._session = new_session()
        return session

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: every request then raises ClientClosedError."""
        return self._closed

    def close(self) -> None:
        """Close the transport: its session's connections are released (only a session the
        transport made; a caller's is left open) and every later request raises
        :class:`~shiptrack_sdk.errors.ClientClosedError`. Closing again does nothing."""
        with self._session_lock:
            self._closed = True
            session = self._session
            if self._own_session:
                self._session = None
        if self._own_session and session is not None:
            session.close()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (absolute URLs pass unchanged)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path.lstrip("/")

    # -- the call ----------------------------------------------------------------------------

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
    ) -> requests.Response:
        """Send one request, retrying as the policy allows, and return the answer, its body
        read in full (up to ``max_response_bytes``).

        Raises:
            APIError: an error status, after retries.
            TransportError: the request did not complete, after retries;
                ``DeadlineExceededError`` when the total deadline passed.
            ResponseError: the body is over the limit, or a redirect that is not followed.
            TokenError: no token could be had (a subclass of one of the above).
            ClientClosedError: the transport is closed; nothing is sent.
        """
        if self._closed:
            raise ClientClosedError(self.provider)
        method = method.upper()
        url = self.url(path)
        tmo = Timeout.of(timeout) if timeout is not None else self.timeout
        send_headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        body: bytes | None = None
        if json_body is not None:
            if not isinstance(json_body, EncodedJSON):
                json_body = encode_json(json_body)
            body = json_body.data
            send_headers["Content-Type"] = "application/json"
        elif isinstance(data, Mapping):
            body = urlencode(list(data.items()), doseq=True).encode()
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = data
        if headers:
            send_headers.update(headers)
        call = _Call(
            method=method,
            url=url,
            params=params,
            data=body,
            headers=send_headers,
            timeout=tmo,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
            exchange=Exchange(self.provider, method, url),
            deadline=Deadline(tmo.total),
        )
        return self._retrying(call, self._attempt)

    def authenticate(
        self, *, credentials: Credentials | None = None, timeout: TimeoutLike | None = None
    ) -> object | None:
        """Obtain the credential now (an OAuth2 token) without sending a request, retried as
        the first step of every call is; returns what :meth:`Credentials.apply` returned.

        Args:
            credentials: The credentials to obtain, instead of the transport's own.
            timeout: Overrides the transport's timeout.

        Raises:
            TokenError: the token endpoint refused, failed or could not be reached.
            ClientClosedError: the transport is closed; nothing is sent.
        """
        if self._closed:
            raise ClientClosedError(self.provider)
        credentials = credentials or self.credentials
        if credentials is None:
            return None
        tmo = Timeout.of(timeout) if timeout is not None else self.timeout
        call = _Call(
            method="POST",
            url=self.base_url,
            params=None,
            data=None,
            headers={},
            timeout=tmo,
            idempotent=True,
            exchange=Exchange(self.provider, "POST", self.base_url, token=True),
            deadline=Deadline(tmo.total),
        )
        chosen = credentials
        return self._retrying(call, lambda c: self._apply_credentials(c, {}, chosen))

    def _retrying(self, call: _Call, attempt: Callable[[_Call], R | _Failure]) -> R:
        retry = self.retry
        exchange = call.exchange
        retries = 0
        while True:
            exchange.attempts += 1
            if call.deadline.passed() or not self.limiter.wait(call, call.deadline, self.sleep):
                raise exchange.deadline_error(call.deadline.total)
            outcome = attempt(call)
            if not isinstance(outcome, _Failure):
                return outcome
            error = outcome.error
            if outcome.replay:
                exchange.attempts -= 1  # the replay is part of the same attempt
                continue
            if not outcome.retry or retries >= retry.max_retries:
                raise error
            retries += 1
            delay = retry.backoff(retries) if outcome.hint is None else outcome.hint
            if outcome.hint is not None and delay > retry.retry_after_max:
                raise error  # the server asks for longer than the policy waits
            if delay >= call.deadline.remaining():
                # Waiting would end past the deadline: say so, rather than sleep and fail.
                if outcome.hint is not None:
                    raise error
                raise exchange.deadline_error(call.deadline.total)
            self.sleep(delay)

    def _attempt(self, call: _Call) -> requests.Response | _Failure:
        headers = dict(call.headers)
        used = self._apply_credentials(call, headers)
        if isinstance(used, _Failure):
            return used
        started = time.perf_counter()
        outcome = self._exchange(call, call.method, call.url, call.params, call.data, headers)
        if isinstance(outcome, _Failure):
            # A refused redirect or an unreadable answer still had a status: the line says it.
            self._log(call, getattr(outcome.error, "status", None), started, outcome.error)
            return outcome
        response = outcome
        status = response.status_code
        credentials = self.credentials
        if status == 401 and credentials is not None and credentials.renewable and not call.renewed:
            # A cached token the server no longer takes: renewed once and replayed once, by
            # this same loop, so the renewal's own failures are retried as any other.
            call.renewed = True
            # The 401 proves the request was not acted on: until the replay is sent, nothing
            # of this call may have reached the server.
            call.exchange.may_have_reached_server = False
            credentials.invalidate(used)
            self._log(call, status, started, None, "401 (token renewed, request replayed)")
            return _Failure(call.exchange.api_error(response, self.error_parser), True, replay=True)
        self._log(call, status, started, None)
        if status < 400:
            return response
        error = call.exchange.api_error(response, self.error_parser)
        hint = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 and hint is not None and hint <= self.retry.retry_after_max:
            self.limiter.pause(hint, call)  # every thread's next attempt waits, not only this
        if call.idempotent and status in self.retry.statuses:
            return _Failure(error, True, hint)
        return _Failure(error, False)

    def _apply_credentials(
        self, call: _Call, headers: dict[str, str], credentials: Credentials | None = None
    ) -> object | _Failure:
        credentials = credentials or self.credentials
        if credentials is None:
            return None
        try:
            return credentials.apply(headers, call.url, self._token_sender(call), self.provider)
        except TokenError as exc:
            failure = exc
        # Outside the except block: the failure is returned, not raised with a context.
        return _Failure(failure, *_token_retry(failure, self.retry))

    def _token_sender(self, call: _Call) -> Callable[[TokenRequest, Exchange], requests.Response]:
        def send(request: TokenRequest, exchange: Exchange) -> requests.Response:
            exchange.attempts = call.exchange.attempts
            headers = {"User-Agent": self.user_agent, **request.headers}
            outcome = self._exchange(
                call, "POST", request.url, request.params, request.body, headers, exchange
            )
            if isinstance(outcome, _Failure):
                raise outcome.error
            return outcome

        return send

    def _exchange(
        self,
        call: _Call,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: bytes | None,
        headers: dict[str, str],
        exchange: Exchange | None = None,
    ) -> requests.Response | _Failure:
        """One request and the redirects it may follow, its body read; no retries."""
        exchange = exchange or call.exchange
        token = exchange is not call.exchange
        session = self.session
        for _hop in range(_MAX_REDIRECTS + 1):
            if call.deadline.passed():
                return _Failure(exchange.deadline_error(call.deadline.total), False)
            prepared = prepare(session, method, url, params, data, headers)
            settings = environment_settings(session, prepared.url or url, self._environment)
            error: TransportError | None = None
            try:
                response = session.send(
                    prepared,
                    timeout=call.deadline.bound(call.timeout),
                    verify=self.verify,
                    stream=True,
                    allow_redirects=False,
                    proxies=settings["proxies"],
                    cert=settings["cert"],
                )
            except requests.RequestException as exc:
                error = exchange.transport_error(exc)
            if error is not None:
                # Retried when it is safe: a token request always is, the request itself when
                # idempotent or surely never sent.
                safe = token or call.idempotent or not error.may_have_reached_server
                return _Failure(error, safe)
            if not token:
                exchange.may_have_reached_server = True
            target = redirect_target(response)
            if target is not None:
                refused = self._refuse_redirect(response, method, target, exchange)
                if refused is not None:
                    return refused
                response.close()
                url, params, data = target, None, None
                continue
            read = self._read_body(response, call, exchange)
            if isinstance(read, _Failure):
                return read
            return response
        return _Failure(exchange.response_error(f"more than {_MAX_REDIRECTS} redirects"), False)

    def _refuse_redirect(
        self, response: requests.Response, method: str, target: str, exchange: Exchange
    ) -> _Failure | None:
        status = response.status_code
        response.close()
        if method not in _READ_METHODS:
            return _Failure(
                exchange.response_error(
                    f"{method} answered with a redirect, not followed: a write is never "
                    "resent elsewhere, and nothing was stored",
                    status=status,
                    location=target,
                ),
                False,
            )
        here = origin(response.url or "")
        if here is not None and origin(target) == here:
            return None
        downgrade = here is not None and here[0] == "https" and target.startswith("http:")
        where = "plain HTTP" if downgrade else "another origin"
        return _Failure(
            exchange.response_error(
                f"redirect to {where} not followed: requests and their credentials go only "
                "to the origin they were made for",
                status=status,
                location=target,
            ),
            False,
        )

    def _read_body(
        self, response: requests.Response, call: _Call, exchange: Exchange
    ) -> _Failure | None:
        limit = self.max_response_bytes
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            response.close()
            return _Failure(
                exchange.response_error(
                    f"body of {int(length)} bytes exceeds the limit of {limit} bytes",
                    status=response.status_code,
                ),
                False,
            )
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read
        chunks: list[bytes] = []
        size = 0
        error: TransportError | None = None
        try:
            while True:
                # Each read returns what has arrived (at most _CHUNK), so a drip-fed answer
                # is measured against the deadline between reads.
                if call.deadline.passed():
                    response.close()
                    return _Failure(exchange.deadline_error(call.deadline.total), False)
                chunk = read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    response.close()
                    return _Failure(
                        exchange.response_error(
                            f"body exceeds the limit of {limit} bytes", status=response.status_code
                        ),
                        False,
                    )
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            error = exchange.transport_error(exc)
        if error is not None:
            response.close()
            return _Failure(error, call.idempotent or exchange.token)
        # requests reads the body into _content itself when not streaming; streaming lets
        # the limit and the deadline apply first, then the same attribute is filled.
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]
        return None

    def _log(
        self,
        call: _Call,
        status: int | None,
        started: float,
        error: ShiptrackError | None,
        outcome: str | None = None,
    ) -> None:
        if not logger.isEnabledFor(logging.DEBUG):
            return
        elapsed = (time.perf_counter() - started) * 1000
        if outcome is None:
            outcome = str(status) if status is not None else f"failed ({error})"
            if call.renewed and status is not None:
                outcome += " (replay)"
        logger.debug(
            "%s %s %s -> %s in %.1f ms (attempt %d/%d)",
            self.provider,
            call.method,
            call.exchange.url,
            outcome,
            elapsed,
            call.exchange.attempts,
            self.retry.max_retries + 1,
        )


def _token_retry(error: TokenError, retry: RetryPolicy) -> tuple[bool, float | None]:
    """Whether a token endpoint's failure is worth another attempt, and its server's hint."""
    if isinstance(error, TransportError):
        return True, None
    if isinstance(error, APIError) and (error.status >= 500 or error.status in retry.statuses):
        hint = next((v for k, v in error.headers.items() if k.lower() == "retry-after"), None)
        return True, parse_retry_after(hint)
    return False, None

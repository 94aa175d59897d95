"""Authentication shared by every provider, as :class:`requests.auth.AuthBase` classes.

Both classes work on any :class:`requests.Session`, not only inside the SDK's clients::

    session = requests.Session()
    session.auth = OAuth2ClientCredentials(token_url, client_id, client_secret)

:class:`OAuth2ClientCredentials` builds and reads token requests with oauthlib's
``BackendApplicationClient`` and accepts requests-oauthlib's compliance hooks
(``access_token_request``, ``access_token_response``) with their signatures, so a hook
written for :class:`requests_oauthlib.OAuth2Session` works unchanged. It sends the token
request itself, through the SDK's transport, for two reasons: requests-oauthlib's
``fetch_token`` logs request bodies and tokens at DEBUG, and only allows plain HTTP through the
process-wide ``OAUTHLIB_INSECURE_TRANSPORT`` variable, where the SDK allows it for loopback
addresses only and changes no process-wide state.

Credentials go only to the origin (scheme, host and port) of the request they were attached to:
when an answer redirects elsewhere, both classes take their header off the request before
``requests`` follows it, and :class:`OAuth2ClientCredentials` renews and replays only a 401 of
the origin it attached its token for. The SDK's own transport goes further and follows no
redirect to another origin at all (:mod:`shiptrack_sdk._http`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .errors import APIError, AuthenticationError, ResponseError, ValidationError

if TYPE_CHECKING:
    from ._http import Transport

__all__ = ["ApiKeyAuth", "OAuth2ClientCredentials", "is_loopback_url"]

logger = logging.getLogger("shiptrack_sdk")

_MASK = "***"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_header_value(argument: str, value: str) -> str:
    """``value`` if it can go into an HTTP header, else :class:`ValidationError`.

    The message never quotes the value: it is often a credential.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(argument, "must be a non-empty string")
    if any(c in value for c in "\r\n\0"):
        raise ValidationError(argument, "must not contain CR, LF or NUL characters")
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        raise ValidationError(argument, "must not contain control characters")
    # http.client encodes header values as Latin-1; anything else fails at the first request
    # with a UnicodeEncodeError that quotes the whole value. Checked without encoding, so no
    # such exception (and no value) is ever chained to the error.
    if any(ord(c) > 255 for c in value):
        raise ValidationError(
            argument, "must contain only Latin-1 characters (an HTTP header cannot carry others)"
        )
    return value


def _check_url_characters(argument: str, url: str) -> None:
    # http.client refuses such a URL while sending, with the whole URL (and any secret in its
    # query) in the message; refused here instead, before anything is sent.
    if not isinstance(url, str) or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise ValidationError(argument, "must be a URL without spaces or control characters")


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is a loopback address (127.0.0.0/8, ::1 or localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of ``url``, lower-cased, the scheme's default port made explicit;
    ``None`` when ``url`` has no scheme or host, or a port that is not a number."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    return (scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme))


def redirect_target(response: requests.Response) -> str | None:
    """The absolute URL ``response`` redirects to, or ``None`` when it is no redirect."""
    if not response.is_redirect:
        return None
    location = response.headers["location"]
    # As requests reads it: http.client decodes headers as Latin-1, servers send UTF-8.
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    return urljoin(response.url or "", location)


def _leaves_origin(response: requests.Response) -> bool:
    """Whether ``response`` redirects to another origin than its request's (or an unreadable
    one): where credentials must not follow."""
    target = redirect_target(response)
    if target is None:
        return False
    here = origin(response.url or "")
    return here is None or origin(target) != here


def _check_transport_security(argument: str, url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https":
        return
    if scheme == "http" and is_loopback_url(url):
        return
    raise ValidationError(
        argument,
        "OAuth2 requires HTTPS; plain HTTP is allowed only to loopback addresses (the sandbox)",
    )


class ApiKeyAuth(AuthBase):
    """Sends a fixed API key in a header.

    The key goes only to the origin of the request it was attached to: when the answer
    redirects to another origin (another host or port, or from HTTPS to HTTP), the header is
    taken off before ``requests`` follows the redirect.

    Args:
        header: The header's name (``"x-api-key"`` for Shiplemon).
        key: The key (Latin-1 text, as every header value). It never appears in a ``repr``, a
            log line or an error.
    """

    def __init__(self, header: str, key: str) -> None:
        self.header = check_header_value("header", header)
        self._key = check_header_value("key", key)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self.header] = self._key
        r.register_hook("response", self._on_response)  # type: ignore[no-untyped-call]
        return r

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        # requests follows a redirect with a copy of this very request, made after the hooks
        # ran, and strips only Authorization when the host changes: the key is taken off here.
        if _leaves_origin(response):
            response.request.headers.pop(self.header, None)
        return response

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self.header!r}, key={_MASK!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ApiKeyAuth)
            and other.header == self.header
            and other._key == self._key
        )

    __hash__ = None  # type: ignore[assignment]


class _Token:
    """An access token and when to renew it; its ``repr`` hides the value."""

    __slots__ = ("renew_at", "scope", "value")

    def __init__(self, value: str, renew_at: float, scope: str | None) -> None:
        self.value = value
        self.renew_at = renew_at
        self.scope = scope

    def fresh(self) -> bool:
        return time.monotonic() < self.renew_at

    def __repr__(self) -> str:
        return f"<token {_MASK} scope={self.scope!r}>"


ComplianceHook = Callable[..., Any]
_HOOK_TYPES = ("access_token_request", "access_token_response")


def check_scope(value: Any, argument: str = "scope") -> str | None:
    """``value`` as the space-separated scope string of a token request; ``None`` when no scope
    is asked (``None``, ``""`` or an empty list).

    Takes a string (``"a b"``) or an iterable of scope names (``["a", "b"]``).

    Raises:
        ValidationError: anything else, a name that is not a non-empty string without
            spaces, or control characters.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray, Mapping)):
        names: list[str] = []
        for index, name in enumerate(value):
            if (
                not isinstance(name, str)
                or not name
                or len(name.split()) != 1
                or name.strip() != name
            ):
                raise ValidationError(
                    f"{argument}[{index}]", "must be a scope name: a non-empty string, no spaces"
                )
            names.append(name)
        text = " ".join(names)
    else:
        raise ValidationError(
            argument, f"must be a string or a list of strings, got {type(value).__name__}"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(argument, "must not contain control characters")
    return text or None


class OAuth2ClientCredentials(AuthBase):
    """OAuth2 client-credentials grant (RFC 6749 §4.4) with a cached bearer token.

    The token is fetched on first use, reused until shortly before it expires, fetched once
    when several threads need it at the same moment, and, when a request carrying it is
    answered 401, renewed once and the request replayed once.

    Args:
        token_url: The token endpoint. HTTPS, or HTTP to a loopback address.
        client_id: The client id.
        client_secret: The client secret; never logged, never in a ``repr`` or an error.
            The id and the secret must be Latin-1 text without control characters, as every
            HTTP header value (with ``client_auth="basic"`` they travel in one).
        scope: Scopes to ask for: a space-separated string or a list of names, or ``None``.
        client_auth: ``"body"`` sends the credentials as form fields (RFC 6749
            ``client_secret_post``), ``"basic"`` as HTTP Basic (``client_secret_basic``).
        extra_params: Further fields for the token request body.
        timeout: Timeout of the token request (default: connect 5 s, read 30 s).
        leeway: Renew this many seconds before expiry (at most half the token's lifetime).
        default_expires_in: Lifetime assumed when the endpoint does not say.
        compliance_hooks: requests-oauthlib compliance hooks by type.
        provider: Name used in log lines and errors.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | Iterable[str] | None = None,
        client_auth: Literal["body", "basic"] = "body",
        extra_params: Mapping[str, str] | None = None,
        timeout: Any = None,
        leeway: float = 30.0,
        default_expires_in: float = 300.0,
        compliance_hooks: Mapping[str, list[ComplianceHook]] | None = None,
        provider: str = "oauth2",
    ) -> None:
        _check_url_characters("token_url", token_url)
        _check_transport_security("token_url", token_url)
        if client_auth not in ("body", "basic"):
            raise ValidationError("client_auth", "must be 'body' or 'basic'")
        self.token_url = token_url
        self.client_id = check_header_value("client_id", client_id)
        self._client_secret = check_header_value("client_secret", client_secret)
        self.scope = check_scope(scope)
        self.client_auth = client_auth
        self.extra_params = dict(extra_params or {})
        self.timeout = timeout
        self.leeway = leeway
        self.default_expires_in = default_expires_in
        self.provider = provider
        self.compliance_hook: dict[str, list[ComplianceHook]] = {t: [] for t in _HOOK_TYPES}
        for hook_type, hooks in (compliance_hooks or {}).items():
            for hook in hooks:
                self.register_compliance_hook(hook_type, hook)
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self._source: Transport | None = None
        self._token_transport: Transport | None = None
        # (scheme, host, port) of the API URLs found fit for the token: HTTPS, or loopback HTTP.
        self._checked_origins: set[tuple[str, str, int | None]] = set()
        #: How many token requests this instance has sent (useful in tests and benchmarks).
        self.token_requests = 0

    def register_compliance_hook(self, hook_type: str, hook: ComplianceHook) -> None:
        """Add a requests-oauthlib style compliance hook.

        ``access_token_request`` hooks take and return ``(token_url, headers, request_kwargs)``
        where ``request_kwargs`` holds ``data`` (form fields), ``json`` or ``params``;
        ``access_token_response`` hooks take and return the :class:`requests.Response`.
        """
        if hook_type not in self.compliance_hook:
            raise ValidationError("hook_type", f"must be one of {', '.join(_HOOK_TYPES)}")
        self.compliance_hook[hook_type].append(hook)

    def bind(self, transport: Transport) -> None:
        """Send token requests over ``transport``'s session (one pool per client)."""
        self._source = transport
        self._token_transport = None

    # -- pickling: configuration travels, the token and pools are rebuilt where unpickled --

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_lock", "_token", "_token_transport"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._token = None
        self._token_transport = None

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret={_MASK!r}, scope={self.scope!r}, client_auth={self.client_auth!r})"
        )

    # -- the AuthBase protocol ----------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = r.url or ""
        self._check_destination(url)
        token = self.access_token()
        r.headers["Authorization"] = f"Bearer {token}"
        # The hook is copied onto any request requests makes to follow a redirect: it knows
        # which origin the token was attached for, and acts for that origin only.
        attached_for = origin(url)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            return self._on_response(response, attached_for, **kwargs)

        r.register_hook("response", on_response)  # type: ignore[no-untyped-call]
        return r

    def access_token(self) -> str:
        """A valid access token, fetched when none is cached or the cached one is expiring."""
        token = self._token
        if token is not None and token.fresh():
            return token.value
        with self._lock:
            # Another thread may have fetched while this one waited for the lock.
            token = self._token
            if token is None or not token.fresh():
                token = self._fetch()
                self._token = token
            return token.value

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, when given)."""
        with self._lock:
            if self._token is not None and (token is None or self._token.value == token):
                self._token = None

    def _check_destination(self, url: str) -> None:
        # Cached by origin, scheme included: HTTPS to a host says nothing of HTTP to it.
        key = origin(url)
        if key is not None and key in self._checked_origins:
            return
        _check_transport_security("base_url", url)
        if key is not None:
            self._checked_origins.add(key)

    def _on_response(
        self,
        response: requests.Response,
        attached_for: tuple[str, str, int | None] | None,
        **kwargs: Any,
    ) -> requests.Response:
        request = response.request
        if _leaves_origin(response):
            # requests itself strips Authorization on most such redirects, yet keeps it from
            # http:// to https:// of the same host: the token goes to its own origin only.
            request.headers.pop("Authorization", None)
            return response
        if response.status_code != 401 or getattr(request, "_shiptrack_replayed", False):
            return response
        sent = request.headers.get("Authorization") or ""
        if (
            attached_for is None
            or origin(request.url or "") != attached_for
            or not sent.startswith("Bearer ")
        ):
            # A 401 from where a redirect led, not from where the token was attached: the
            # token is not that server's to have, and it is not renewed on its word either.
            return response
        self.invalidate(sent.removeprefix("Bearer "))
        token = self.access_token()
        # Drain and release the first answer's connection before replaying, as requests'
        # own HTTPDigestAuth does.
        _ = response.content
        response.close()
        replay = request.copy()
        replay.headers["Authorization"] = f"Bearer {token}"
        replay._shiptrack_replayed = True  # type: ignore[attr-defined]
        logger.debug("%s: 401 with a cached token; renewed it, replaying once", self.provider)
        assert response.connection is not None
        new_response: requests.Response = response.connection.send(replay, **kwargs)
        new_response.history.append(response)
        new_response.request = replay
        return new_response

    # -- the token request ------------------------------------------------------------------

    def _transport(self) -> Transport:
        transport = self._token_transport
        if transport is None:
            from ._http import RetryPolicy, Timeout, Transport

            transport = Transport(
                provider=self.provider,
                base_url=self.token_url,
                session=self._source.session if self._source is not None else None,
                timeout=Timeout.of(self.timeout)
                if self.timeout is not None
                else (self._source.timeout if self._source is not None else None),
                # Token requests are POSTs: retried only when they never left.
                retry=self._source.retry if self._source is not None else RetryPolicy(),
                verify=self._source.verify if self._source is not None else True,
                sleep=self._source.sleep if self._source is not None else time.sleep,
            )
            self._token_transport = transport
        return transport

    def _fetch(self) -> _Token:
        # oauthlib is imported with the first token, not with the module: a client that
        # authenticates with an API key never needs it (it is a tenth of the import time).
        from oauthlib.common import urldecode
        from oauthlib.oauth2 import BackendApplicationClient, MissingTokenError, OAuth2Error

        client = BackendApplicationClient(client_id=self.client_id)
        include_client_id = self.client_auth == "body"
        secret_kwargs = {"client_secret": self._client_secret} if include_client_id else {}
        body = client.prepare_request_body(
            scope=self.scope,
            include_client_id=include_client_id,
            **secret_kwargs,
            **self.extra_params,
        )
        url = self.token_url
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        request_kwargs: dict[str, Any] = {"data": dict(urldecode(body))}
        for hook in self.compliance_hook["access_token_request"]:
            url, headers, request_kwargs = hook(url, headers, request_kwargs)
        _check_transport_security("token_url", url)
        basic = (
            HTTPBasicAuth(self.client_id, self._client_secret)
            if self.client_auth == "basic"
            else None
        )
        if basic is not None:
            prepared = requests.PreparedRequest()
            prepared.prepare_headers({})
            basic(prepared)
            headers = {**headers, "Authorization": prepared.headers["Authorization"]}
        transport = self._transport()
        self.token_requests += 1
        response = transport.request(
            "POST",
            url,
            data=request_kwargs.get("data"),
            json_body=request_kwargs.get("json"),
            params=request_kwargs.get("params"),
            headers=headers,
            allow_statuses=frozenset({400, 401, 403}),
        )
        for hook in self.compliance_hook["access_token_response"]:
            response = hook(response)
        if response.status_code in (400, 401, 403):
            raise self._token_error(response)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params = client.parse_request_body_response(response.text)
        except Warning as changed:
            # The server granted other scopes than asked: its grant is what holds.
            params = changed.token  # type: ignore[attr-defined]
        except MissingTokenError:
            # oauthlib reads a body that is not JSON as a form and then misses the token: an
            # HTML page or a wrong shape is a bad answer, not refused credentials.
            raise self._bad_token_answer(response, transport.url(url)) from None
        except OAuth2Error as exc:
            raise AuthenticationError(
                exc.description or exc.error,
                provider=self.provider,
                method="POST",
                url=transport.url(url),
                status=response.status_code,
                code=exc.error,
            ) from None
        except ValueError:
            raise ResponseError(
                "token endpoint answer is not JSON",
                provider=self.provider,
                method="POST",
                url=transport.url(url),
                status=response.status_code,
            ) from None
        except (TypeError, AttributeError, OverflowError, RecursionError):
            # oauthlib reads any JSON it is given: a number, a list, a non-string scope or a
            # huge expires_in break it with errors that are the answer's fault, not the caller's.
            raise ResponseError(
                "token endpoint answer is not a token object",
                provider=self.provider,
                method="POST",
                url=transport.url(url),
                status=response.status_code,
            ) from None
        access_token = params.get("access_token")
        if (
            not isinstance(access_token, str)
            or not access_token
            or any(ord(c) < 32 or ord(c) == 127 for c in access_token)
        ):
            # A token with CR/LF would be refused by http.client with the token in its message.
            raise ResponseError(
                "token endpoint answer has no access_token",
                provider=self.provider,
                method="POST",
                url=transport.url(url),
                status=response.status_code,
            )
        try:
            expires_in = float(params.get("expires_in") or self.default_expires_in)
        except (TypeError, ValueError):
            expires_in = self.default_expires_in
        renew_in = expires_in - min(self.leeway, expires_in / 2)
        scope = params.get("scope")
        if isinstance(scope, list):
            scope = " ".join(scope)
        logger.debug("%s: token obtained, renewed in %.0f s", self.provider, renew_in)
        return _Token(access_token, time.monotonic() + renew_in, scope)

    def _bad_token_answer(self, response: requests.Response, url: str) -> ResponseError:
        from ._http import redact_url

        text = response.text
        body: str | None
        try:
            json.loads(text)
        except ValueError:
            problem, body = "token endpoint answer is not JSON", text[:400]
        else:
            # The body is not quoted: a token endpoint's answer is no place to copy from.
            problem, body = "token endpoint answer has no access_token", None
        return ResponseError(
            problem,
            provider=self.provider,
            method="POST",
            url=redact_url(url),
            status=response.status_code,
            body=body,
        )

    def _token_error(self, response: requests.Response) -> APIError:
        from ._http import redact_url

        code: str | None = None
        description: str | None = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, Mapping):
            code = body.get("error") if isinstance(body.get("error"), str) else None
            description = body.get("error_description") or body.get("message")
            if not isinstance(description, str):
                description = None
        return AuthenticationError(
            description or "the token endpoint refused the client credentials",
            provider=self.provider,
            method="POST",
            url=redact_url(response.url),
            status=response.status_code,
            code=code,
            body=body,
            headers=dict(response.headers),
        )

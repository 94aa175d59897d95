"""Authentication shared by every provider.

Each client carries one of these as ``client.auth``; its transport asks it for a credential
before every attempt (:mod:`shiptrack_sdk._core.tokens`), inside its retry loop and under the
call's deadline. Both classes are also :class:`requests.auth.AuthBase`, so they work on a
:class:`requests.Session` of your own::

    session = requests.Session()
    session.auth = OAuth2ClientCredentials(token_url, client_id, client_secret)

:class:`OAuth2ClientCredentials` builds and reads token requests with oauthlib's
``BackendApplicationClient`` and accepts requests-oauthlib's compliance hooks
(``access_token_request``, ``access_token_response``) with their signatures, so a hook
written for :class:`requests_oauthlib.OAuth2Session` works unchanged. It sends the token
request itself, for two reasons: requests-oauthlib's ``fetch_token`` logs request bodies and
tokens at DEBUG, and only allows plain HTTP through the process-wide
``OAUTHLIB_INSECURE_TRANSPORT`` variable, where the SDK allows it for loopback addresses only
and changes no process-wide state.

On a session of your own, credentials go only to the origin (scheme, host and port) of the
request they were attached to: when an answer redirects elsewhere, both classes take their
header off the request before ``requests`` follows it, and :class:`OAuth2ClientCredentials`
renews and replays only a 401 of the origin it attached its token for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import requests
from requests.auth import AuthBase

from ._core import validate
from ._core.secret import MaskedStr, Secret
from ._core.tokens import ApiKey, ComplianceHook, OAuth2Tokens, TokenSender
from ._core.urls import is_loopback_url, leaves_origin, origin

if TYPE_CHECKING:
    from ._core.options import Timeout, TimeoutLike
    from ._core.transport import Transport

__all__ = ["ApiKeyAuth", "OAuth2ClientCredentials", "is_loopback_url"]


class ApiKeyAuth(AuthBase):
    """Sends a fixed API key in a header.

    On a session of your own, the key goes only to the origin of the request it was attached
    to: when the answer redirects to another origin (another host or port, or from HTTPS to
    HTTP), the header is taken off before ``requests`` follows the redirect.

    Args:
        header: The header's name (``"x-api-key"`` for Shiplemon).
        key: The key (Latin-1 text, as every header value). It never appears in a ``repr``, a
            log line or an error.
    """

    renewable = False

    def __init__(self, header: str, key: str) -> None:
        self._credentials = ApiKey(header, key)
        self.header = self._credentials.header

    # -- what the SDK's transport calls ------------------------------------------------------

    def apply(self, headers: dict[str, str], url: str, send: TokenSender, provider: str) -> None:
        """Put the key into ``headers``."""
        self._credentials.apply(headers, url, send, provider)

    def invalidate(self, used: object | None) -> None:
        """A key cannot be renewed: nothing to forget."""

    # -- AuthBase, for a session of your own -------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        headers: dict[str, str] = {}
        self.apply(headers, r.url or "", _no_tokens, "")
        r.headers.update(headers)
        r.register_hook("response", self._on_response)  # type: ignore[no-untyped-call]
        return r

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        # requests follows a redirect with a copy of this very request, made after the hooks
        # ran, and strips only Authorization when the host changes: the key is taken off here.
        if leaves_origin(response):
            response.request.headers.pop(self.header, None)
        return response

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self.header!r}, key='***')"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ApiKeyAuth)
            and other.header == self.header
            and other._credentials._key == self._credentials._key
        )

    __hash__ = None  # type: ignore[assignment]


def _no_tokens(*args: Any) -> requests.Response:  # pragma: no cover - an API key asks for none
    raise AssertionError("an API key fetches no token")


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
        body: ``"form"`` (RFC 6749) or ``"json"``: how the token request's fields travel.
        grant_type_in_query: ``token_url``'s query holds ``grant_type`` already; it is not
            repeated in the body (RFC 6749 §3.2 forbids a repeated parameter).
        extra_params: Further fields for the token request body.
        timeout: Timeout of a token request on a session of your own (default: the
            client's, or connect 5 s, read 30 s, total 60 s).
        leeway: Renew this many seconds before expiry (at most half the token's lifetime).
        default_expires_in: Lifetime assumed when the endpoint does not say.
        compliance_hooks: requests-oauthlib compliance hooks by type.
        provider: Name used in log lines and errors.
    """

    renewable = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | Iterable[str] | None = None,
        client_auth: Literal["body", "basic"] = "body",
        body: Literal["form", "json"] = "form",
        grant_type_in_query: bool = False,
        extra_params: Mapping[str, str] | None = None,
        timeout: TimeoutLike | None = None,
        leeway: float = 30.0,
        default_expires_in: float = 300.0,
        compliance_hooks: Mapping[str, list[ComplianceHook]] | None = None,
        provider: str = "oauth2",
    ) -> None:
        from ._core.options import Timeout

        self.tokens = OAuth2Tokens(
            token_url,
            client_id,
            Secret(validate.header_value("client_secret", client_secret)),
            scope=scope,
            client_auth=client_auth,
            body=body,
            grant_type_in_query=grant_type_in_query,
            extra_params=extra_params,
            leeway=leeway,
            default_expires_in=default_expires_in,
            compliance_hooks=compliance_hooks,
        )
        self.timeout: Timeout | None = Timeout.of(timeout) if timeout is not None else None
        self.provider = provider
        self._source: Transport | None = None
        self._token_transport: Transport | None = None

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.tokens.token_url

    @property
    def client_id(self) -> str:
        """The client id."""
        return self.tokens.client_id

    @property
    def scope(self) -> str | None:
        """The scopes asked for, space-separated."""
        return self.tokens.scope

    @property
    def client_auth(self) -> str:
        """How the client authenticates to the token endpoint: ``"body"`` or ``"basic"``."""
        return self.tokens.client_auth

    @property
    def token_requests(self) -> int:
        """How many token requests were sent (useful in tests and benchmarks)."""
        return self.tokens.token_requests

    @property
    def compliance_hook(self) -> dict[str, list[ComplianceHook]]:
        """The compliance hooks by type, as requests-oauthlib's ``OAuth2Session`` holds them."""
        return self.tokens.compliance_hook

    def register_compliance_hook(self, hook_type: str, hook: ComplianceHook) -> None:
        """Add a requests-oauthlib style compliance hook.

        ``access_token_request`` hooks take and return ``(token_url, headers, request_kwargs)``
        where ``request_kwargs`` holds ``data`` (form fields), ``json`` or ``params``;
        ``access_token_response`` hooks take and return the :class:`requests.Response`.
        """
        self.tokens.register_compliance_hook(hook_type, hook)

    def bind(self, transport: Transport) -> None:
        """On a session of your own: send token requests with ``transport``'s session,
        timeout and retry policy (one pool per client)."""
        self._source = transport
        self._token_transport = None

    def __getstate__(self) -> dict[str, Any]:
        # Configuration travels (the token does not: see OAuth2Tokens); the pool of a session
        # of your own is made anew where unpickled.
        return {**self.__dict__, "_token_transport": None}

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret='***', scope={self.scope!r}, client_auth={self.client_auth!r})"
        )

    # -- what the SDK's transport calls ------------------------------------------------------

    def apply(self, headers: dict[str, str], url: str, send: TokenSender, provider: str) -> object:
        """Put a valid bearer token for ``url`` into ``headers`` (fetched with ``send`` when
        needed)."""
        return self.tokens.apply(headers, url, send, provider)

    def invalidate(self, used: object | None = None) -> None:
        """Forget the cached token (only if it is still ``used``, when given)."""
        self.tokens.invalidate(used)

    def access_token(self) -> str:
        """A valid access token, fetched (and retried as any request) when none is cached or
        the cached one is expiring."""
        token: Any = self._transport().authenticate(credentials=self.tokens)
        return str(token.value.reveal())

    # -- AuthBase, for a session of your own -------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = r.url or ""
        self.tokens.check_destination(url)
        token = self.access_token()
        r.headers["Authorization"] = MaskedStr(f"Bearer {token}")
        # The hook is copied onto any request requests makes to follow a redirect: it knows
        # which origin the token was attached for, and acts for that origin only.
        attached_for = origin(url)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            return self._on_response(response, attached_for, **kwargs)

        r.register_hook("response", on_response)  # type: ignore[no-untyped-call]
        return r

    def _on_response(
        self,
        response: requests.Response,
        attached_for: tuple[str, str, int | None] | None,
        **kwargs: Any,
    ) -> requests.Response:
        request = response.request
        if leaves_origin(response):
            # requests itself strips Authorization on most such redirects, yet keeps it from
            # http:// to https:// of the same host: the token goes to its own origin only.
            request.headers.pop("Authorization", None)
            return response
        if response.status_code != 401 or getattr(request, "_shiptrack_replayed", False):
            return response
        sent = request.headers.get("Authorization") or ""
        if attached_for is None or origin(request.url or "") != attached_for:
            # A 401 from where a redirect led, not from where the token was attached: the
            # token is not that server's to have, and it is not renewed on its word either.
            return response
        if not sent.startswith("Bearer "):
            return response
        self.invalidate()
        token = self.access_token()
        # Drain and release the first answer's connection before replaying, as requests'
        # own HTTPDigestAuth does.
        _ = response.content
        response.close()
        replay = request.copy()
        replay.headers["Authorization"] = MaskedStr(f"Bearer {token}")
        replay._shiptrack_replayed = True  # type: ignore[attr-defined]
        assert response.connection is not None
        new_response: requests.Response = response.connection.send(replay, **kwargs)
        new_response.history.append(response)
        new_response.request = replay
        return new_response

    def _transport(self) -> Transport:
        transport = self._token_transport
        if transport is None:
            from ._core.transport import Transport

            # Two threads may both make one; the second replaces the first, which is harmless.
            source = self._source
            transport = Transport(
                provider=self.provider,
                base_url=self.token_url,
                session=source.session if source is not None else None,
                timeout=self.timeout or (source.timeout if source is not None else None),
                retry=source.retry if source is not None else None,
                verify=source.verify if source is not None else True,
            )
            if source is not None:
                transport.sleep = source.sleep
            self._token_transport = transport
        return transport

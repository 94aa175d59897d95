"""Credentials the transport asks for before it sends: an API key, or OAuth2 tokens.

The transport calls :meth:`Credentials.apply` at the start of every attempt, inside its one
retry loop and under the call's deadline; an OAuth2 provider fetches its token there, through a
*sender* the transport gives it (one HTTP exchange, no retries of its own). A token endpoint's
failure is a :class:`~shiptrack_sdk.errors.TokenError`, so the transport retries an outage
like any other failure, on the first fetch and on a renewal alike, and raises a refusal at once.

Secrets are held as :class:`~shiptrack_sdk._core.secret.Secret` and revealed only while a header
or a body is encoded, into :class:`~shiptrack_sdk._core.secret.MaskedStr` /
:class:`~shiptrack_sdk._core.secret.MaskedBytes` whose ``repr`` is masked: a traceback that
records the locals of its frames shows no credential.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import requests

from ..errors import ValidationError
from . import validate
from .answers import Exchange
from .secret import MaskedBytes, MaskedStr, Secret
from .urls import is_loopback_url, origin

__all__ = [
    "ApiKey",
    "Basic",
    "ComplianceHook",
    "Credentials",
    "OAuth2Tokens",
    "TokenRequest",
    "TokenSender",
    "WithApiKey",
    "check_scope",
    "check_token_transport",
]

logger = logging.getLogger("shiptrack_sdk")

ComplianceHook = Callable[..., Any]
HOOK_TYPES = ("access_token_request", "access_token_response")


@attrs.frozen
class TokenRequest:
    """One token request, encoded: what the sender puts on the wire."""

    url: str
    headers: Mapping[str, str]
    body: MaskedBytes | None
    params: Mapping[str, str] | None = None


#: Sends one token request (no retries) and returns the answer, whatever its status; raises
#: :class:`~shiptrack_sdk.errors.TokenError` s for what is not an answer.
TokenSender = Callable[[TokenRequest, Exchange], requests.Response]


class Credentials(Protocol):
    """What the transport asks for before each attempt."""

    #: Whether a 401 answer to a request carrying these credentials is worth one renewal.
    renewable: bool

    def apply(
        self, headers: dict[str, str], url: str, send: TokenSender, provider: str
    ) -> object | None:
        """Put the credential for a request to ``url`` into ``headers``; returns what was
        used, for :meth:`invalidate`."""

    def invalidate(self, used: object | None) -> None:
        """Forget ``used`` (a token answered 401), if it is still the one held."""


def check_token_transport(argument: str, url: str) -> None:
    """OAuth2 over HTTPS, or plain HTTP to a loopback address (the sandbox) only.

    Raises:
        ValidationError: anything else.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and is_loopback_url(url)):
        return
    raise ValidationError(
        argument,
        "OAuth2 requires HTTPS; plain HTTP is allowed only to loopback addresses (the sandbox)",
    )


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
        return validate.text(argument, value, empty=True, single_line=True) or None
    if not isinstance(value, Iterable) or isinstance(value, (bytes, bytearray, Mapping)):
        raise ValidationError(
            argument, f"must be a string or a list of strings, got {type(value).__name__}"
        )
    names: list[str] = []
    for index, name in enumerate(value):
        where = f"{argument}[{index}]"
        if not isinstance(name, str) or not name or name.split() != [name]:
            raise ValidationError(where, "must be a scope name: a non-empty string, no spaces")
        names.append(validate.text(where, name, single_line=True))
    return " ".join(names) or None


class ApiKey:
    """A fixed key sent in a header on every request."""

    renewable = False

    def __init__(self, header: str, key: str | Secret) -> None:
        self.header = validate.header_value("header", header)
        self._key = key if isinstance(key, Secret) else Secret(validate.header_value("key", key))

    def apply(self, headers: dict[str, str], url: str, send: TokenSender, provider: str) -> None:
        headers[self.header] = MaskedStr(self._key.reveal())

    def invalidate(self, used: object | None) -> None:
        """A key cannot be renewed: nothing to forget."""

    def __repr__(self) -> str:
        return f"ApiKey(header={self.header!r}, key={self._key!r})"


class Basic:
    """HTTP Basic credentials (RFC 7617) sent on every request: a client authenticating to an
    authorization server's endpoint (token introspection)."""

    renewable = False

    def __init__(self, user: str, password: str | Secret) -> None:
        self.user = validate.header_value("client_id", user)
        self._password = (
            password
            if isinstance(password, Secret)
            else Secret(validate.header_value("client_secret", password))
        )

    def apply(self, headers: dict[str, str], url: str, send: TokenSender, provider: str) -> None:
        headers["Authorization"] = _basic(self.user, self._password)

    def invalidate(self, used: object | None) -> None:
        """Basic credentials cannot be renewed: nothing to forget."""

    def __repr__(self) -> str:
        return f"Basic(user={self.user!r}, password='***')"


class WithApiKey:
    """Credentials and an API key header beside them, on every request and every token
    request: the key a provider's gateway may ask for beside its OAuth2 token.

    Args:
        credentials: The credentials proper (OAuth2 tokens).
        header: The key's header (``"apikey"``).
        key: The key.
    """

    def __init__(self, credentials: Credentials, header: str, key: Secret) -> None:
        self.credentials = credentials
        self.renewable = credentials.renewable
        self._key = ApiKey(header, key)

    def apply(
        self, headers: dict[str, str], url: str, send: TokenSender, provider: str
    ) -> object | None:
        key = self._key

        def send_with_key(request: TokenRequest, exchange: Exchange) -> requests.Response:
            with_key = dict(request.headers)
            key.apply(with_key, request.url, send, provider)
            return send(attrs.evolve(request, headers=with_key), exchange)

        key.apply(headers, url, send, provider)
        return self.credentials.apply(headers, url, send_with_key, provider)

    def invalidate(self, used: object | None) -> None:
        self.credentials.invalidate(used)

    def __repr__(self) -> str:
        return f"WithApiKey({self.credentials!r}, {self._key!r})"


def _basic(user: str, password: Secret) -> MaskedStr:
    pair = f"{user}:{password.reveal()}".encode("latin-1")
    return MaskedStr("Basic " + base64.b64encode(pair).decode())


class _Token:
    """An access token and when to renew it; its ``repr`` hides the value."""

    __slots__ = ("renew_at", "scope", "value")

    def __init__(self, value: Secret, renew_at: float, scope: str | None) -> None:
        self.value = value
        self.renew_at = renew_at
        self.scope = scope

    def fresh(self) -> bool:
        return time.monotonic() < self.renew_at

    def __repr__(self) -> str:
        return f"<token *** scope={self.scope!r}>"


def _access_token(params: Mapping[str, Any]) -> tuple[Secret | None, str]:
    """The answer's token as a :class:`Secret`, or ``None`` and what is wrong with it."""
    value = params.get("access_token")
    if not isinstance(value, str) or not value:
        return None, "token endpoint answer has no access_token"
    try:
        validate.header_value("access_token", value)
    except ValidationError:
        # A token with CR/LF would be refused by http.client with the token in its message.
        return None, "token endpoint answer has no access_token that can go into a header"
    return Secret(value), ""


class OAuth2Tokens:
    """OAuth2 client-credentials grant (RFC 6749 §4.4) with a cached bearer token.

    The token is fetched on first use, reused until shortly before it expires, and fetched
    once when several threads need it at the same moment. Token requests are built and read
    with oauthlib's ``BackendApplicationClient``; requests-oauthlib's compliance hooks
    (``access_token_request``, ``access_token_response``) apply with their signatures.

    Args:
        token_url: The token endpoint: HTTPS, or HTTP to a loopback address.
        client_id: The client id.
        client_secret: The client secret.
        scope: Scopes to ask for (a space-separated string or a list), or ``None``.
        client_auth: ``"body"`` (``client_secret_post``) or ``"basic"`` (HTTP Basic).
        body: ``"form"`` (RFC 6749) or ``"json"`` for the token request's fields.
        grant_type_in_query: ``grant_type`` travels in ``token_url``'s query (added there when
            the URL has none), not in the body (RFC 6749 §3.2 forbids a repeated parameter).
        extra_params: Further fields for the token request.
        leeway: Renew this many seconds before expiry (at most half the token's lifetime).
        default_expires_in: Lifetime assumed when the endpoint does not say.
        compliance_hooks: requests-oauthlib compliance hooks by type.
    """

    renewable = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | Secret,
        *,
        scope: str | Iterable[str] | None = None,
        client_auth: Literal["body", "basic"] = "body",
        body: Literal["form", "json"] = "form",
        grant_type_in_query: bool = False,
        extra_params: Mapping[str, str] | None = None,
        leeway: float = 30.0,
        default_expires_in: float = 300.0,
        compliance_hooks: Mapping[str, list[ComplianceHook]] | None = None,
    ) -> None:
        validate.http_url("token_url", token_url)
        check_token_transport("token_url", token_url)
        if client_auth not in ("body", "basic"):
            raise ValidationError("client_auth", "must be 'body' or 'basic'")
        if body not in ("form", "json"):
            raise ValidationError("body", "must be 'form' or 'json'")
        self.token_url = token_url
        self.client_id = validate.header_value("client_id", client_id)
        self._client_secret = (
            client_secret
            if isinstance(client_secret, Secret)
            else Secret(validate.header_value("client_secret", client_secret))
        )
        self.scope = check_scope(scope)
        self.client_auth = client_auth
        self.body = body
        self.grant_type_in_query = grant_type_in_query
        self.extra_params = dict(extra_params or {})
        self.leeway = validate.seconds("leeway", leeway, zero=True)
        self.default_expires_in = validate.seconds("default_expires_in", default_expires_in)
        self.compliance_hook: dict[str, list[ComplianceHook]] = {t: [] for t in HOOK_TYPES}
        for hook_type, hooks in (compliance_hooks or {}).items():
            for hook in hooks:
                self.register_compliance_hook(hook_type, hook)
        self._token: _Token | None = None
        self._lock = threading.Lock()
        # (scheme, host, port) of the API URLs found fit for the token: HTTPS, or loopback HTTP.
        self._checked_origins: set[tuple[str, str, int | None]] = set()
        #: How many token requests were sent (useful in tests and benchmarks).
        self.token_requests = 0

    def register_compliance_hook(self, hook_type: str, hook: ComplianceHook) -> None:
        """Add a requests-oauthlib style compliance hook.

        ``access_token_request`` hooks take and return ``(token_url, headers, request_kwargs)``
        where ``request_kwargs`` holds ``data`` (form fields), ``json`` or ``params``;
        ``access_token_response`` hooks take and return the :class:`requests.Response`.
        """
        if hook_type not in self.compliance_hook:
            raise ValidationError("hook_type", f"must be one of {', '.join(HOOK_TYPES)}")
        self.compliance_hook[hook_type].append(hook)

    def __getstate__(self) -> dict[str, Any]:
        # Configuration travels; the token and the lock are made anew where unpickled.
        state = self.__dict__.copy()
        state.pop("_lock")
        state["_token"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"OAuth2Tokens(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret='***', scope={self.scope!r})"
        )

    # -- what the transport calls ------------------------------------------------------------

    def apply(self, headers: dict[str, str], url: str, send: TokenSender, provider: str) -> _Token:
        self.check_destination(url)
        token = self.token(send, provider)
        headers["Authorization"] = MaskedStr("Bearer " + token.value.reveal())
        return token

    def check_destination(self, url: str) -> None:
        """A bearer token goes over HTTPS, or plain HTTP to a loopback address, only.

        Raises:
            ValidationError: ``url`` is neither (checked once per origin).
        """
        key = origin(url)
        if key is not None and key in self._checked_origins:
            return
        check_token_transport("base_url", url)
        if key is not None:
            self._checked_origins.add(key)

    def invalidate(self, used: object | None) -> None:
        """Forget the cached token (only if it is still ``used``, when given)."""
        with self._lock:
            if self._token is not None and (used is None or self._token is used):
                self._token = None

    def token(self, send: TokenSender, provider: str) -> _Token:
        """A valid token, fetched when none is cached or the cached one is expiring."""
        token = self._token
        if token is not None and token.fresh():
            return token
        with self._lock:
            # Another thread may have fetched while this one waited for the lock.
            token = self._token
            if token is None or not token.fresh():
                token = self._fetch(send, provider)
                self._token = token
            return token

    # -- the token request ---------------------------------------------------------------------

    def _request(self) -> TokenRequest:
        # The only frame where the secret is plain text; it returns masked values, and an
        # error raised after it cannot show the secret among a traceback's locals.
        from oauthlib.common import urldecode
        from oauthlib.oauth2 import BackendApplicationClient

        client = BackendApplicationClient(client_id=self.client_id)
        in_body = self.client_auth == "body"
        fields = dict(
            urldecode(
                client.prepare_request_body(
                    scope=self.scope,
                    include_client_id=in_body,
                    **({"client_secret": self._client_secret.reveal()} if in_body else {}),
                    **self.extra_params,
                )
            )
        )
        url = self.token_url
        if self.grant_type_in_query:
            grant = urlencode({"grant_type": fields.pop("grant_type")})
            parts = urlsplit(url)
            if "grant_type" not in dict(parse_qsl(parts.query)):
                url = parts._replace(query="&".join(filter(None, (parts.query, grant)))).geturl()
        headers: dict[str, str] = {"Accept": "application/json"}
        kwargs: dict[str, Any] = {"data": fields}
        if self.body == "json":
            kwargs = {"json": fields}
        for hook in self.compliance_hook["access_token_request"]:
            url, headers, kwargs = hook(url, headers, kwargs)
        validate.http_url("token_url", url)
        check_token_transport("token_url", url)
        if self.client_auth == "basic":
            headers = {**headers, "Authorization": _basic(self.client_id, self._client_secret)}
        data: MaskedBytes | None = None
        if kwargs.get("json") is not None:
            data = MaskedBytes(json.dumps(kwargs["json"], separators=(",", ":")).encode())
            headers = {**headers, "Content-Type": "application/json"}
        elif kwargs.get("data"):
            data = MaskedBytes(urlencode(list(kwargs["data"].items())).encode())
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        params = kwargs.get("params")
        return TokenRequest(url, headers, data, dict(params) if params else None)

    def _fetch(self, send: TokenSender, provider: str) -> _Token:
        request = self._request()
        exchange = Exchange(provider, "POST", request.url, token=True)
        self.token_requests += 1
        response = send(request, exchange)
        for hook in self.compliance_hook["access_token_response"]:
            response = hook(response)
        status = response.status_code
        if status in (400, 401, 403) or status == 429 or status >= 500:
            raise exchange.api_error(response)  # refused, or failing (retried)
        if status >= 300:
            # A token URL that is wrong (404...) or redirects: no token, and no point retrying.
            raise exchange.response_error(f"token endpoint answered HTTP {status}", status=status)
        params, failure = self._parse(exchange, response)
        if failure is not None:
            # Raised here, outside the except blocks of _parse: oauthlib's exception (which may
            # quote the answer) is neither the cause nor the context of the SDK's error.
            raise failure
        value, problem = _access_token(params)
        if value is None:
            del params  # holds the refused token: not among the locals an error reporter records
            raise exchange.response_error(problem, status=response.status_code)
        try:
            expires_in = float(params.get("expires_in") or self.default_expires_in)
        except (TypeError, ValueError, OverflowError):
            expires_in = self.default_expires_in
        if not 0 < expires_in < float("inf"):
            expires_in = self.default_expires_in
        renew_in = expires_in - min(self.leeway, expires_in / 2)
        scope = params.get("scope")
        if isinstance(scope, list):
            scope = " ".join(str(s) for s in scope)
        logger.debug("%s: token obtained, renewed in %.0f s", provider, renew_in)
        return _Token(value, time.monotonic() + renew_in, scope)

    def _parse(
        self, exchange: Exchange, response: requests.Response
    ) -> tuple[Mapping[str, Any], Exception | None]:
        from oauthlib.oauth2 import BackendApplicationClient, MissingTokenError, OAuth2Error

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client = BackendApplicationClient(self.client_id)
                return client.parse_request_body_response(response.text), None
        except Warning as changed:
            # The server granted other scopes than asked: its grant is what holds.
            return changed.token, None  # type: ignore[attr-defined]
        except MissingTokenError:
            # oauthlib reads a body that is not JSON as a form and then misses the token: an
            # HTML page or a wrong shape is a bad answer, not refused credentials.
            return {}, self._bad_answer(exchange, response)
        except OAuth2Error as exc:
            refused = exchange.api_error(response, refused=True)
            refused.code = exc.error
            refused.error_message = exc.description or exc.error
            return {}, refused
        except (ValueError, TypeError, AttributeError, OverflowError, RecursionError):
            # oauthlib reads any JSON it is given: a number, a list, a non-string scope or a
            # huge expires_in break it with errors that are the answer's fault.
            return {}, exchange.response_error(
                "token endpoint answer is not a token object", status=response.status_code
            )

    @staticmethod
    def _bad_answer(exchange: Exchange, response: requests.Response) -> Exception:
        text = response.text
        try:
            json.loads(text)
        except ValueError:
            return exchange.response_error(
                "token endpoint answer is not JSON", status=response.status_code, body=text
            )
        # The body is not quoted: a token endpoint's answer is no place to copy from.
        return exchange.response_error(
            "token endpoint answer has no access_token", status=response.status_code
        )

"""Bearer token verifiers: tokens agreed out of band, or RFC 7662 token introspection."""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import urlencode

import attrs
import cattrs
import requests

from ..._core import validate
from ..._core.answers import Exchange
from ..._core.convert import converter, register_wire_model
from ..._core.options import RetryPolicy, Timeout, TimeoutLike
from ..._core.secret import MaskedBytes, Secret
from ..._core.tokens import Basic
from ..._core.transport import Transport
from ..._core.urls import is_loopback_url
from ...errors import APIError, ResponseError, TransportError, ValidationError
from .errors import VerifierUnavailableError

__all__ = [
    "BearerVerifier",
    "IntrospectionResult",
    "IntrospectionVerifier",
    "StaticTokenVerifier",
]

logger = logging.getLogger("shiptrack_sdk")

_MASK = "***"


@runtime_checkable
class BearerVerifier(Protocol):
    """Decides whether a bearer token presented by LEX is valid.

    ``verify`` returns ``True`` or ``False``; it raises :class:`VerifierUnavailableError` when
    it cannot decide (the receiver answers 503). It must not log the token.
    """

    def verify(self, token: str) -> bool:
        """Whether ``token`` is valid."""
        ...


class StaticTokenVerifier:
    """Accepts fixed tokens agreed with LEX out of band, compared in constant time.

    Args:
        tokens: The accepted token, or several during a rotation.
    """

    def __init__(self, tokens: str | Sequence[str]) -> None:
        if isinstance(tokens, str):
            values: list[Any] = [tokens]
        elif isinstance(tokens, (bytes, Mapping)) or not isinstance(tokens, Iterable):
            raise ValidationError("tokens", "must be a non-empty token or list of tokens")
        else:
            values = list(tokens)
        if not values or not all(isinstance(t, str) and t for t in values):
            raise ValidationError("tokens", "must be a non-empty token or list of tokens")
        for token in values:
            # A token that cannot travel in an Authorization header can never be presented.
            validate.header_value("tokens", token)
        self._tokens = [t.encode() for t in values]

    def verify(self, token: str) -> bool:
        """Whether ``token`` is one of the accepted tokens."""
        _check_token(token)
        given = token.encode()
        # Every candidate is compared, so the time taken does not say which one matched.
        matched = False
        for candidate in self._tokens:
            matched |= hmac.compare_digest(given, candidate)
        return matched

    def __repr__(self) -> str:
        return f"StaticTokenVerifier(tokens=[{', '.join(_MASK for _ in self._tokens)}])"


@attrs.frozen
class IntrospectionResult:
    """An RFC 7662 introspection answer.

    Attributes:
        active: Whether the token is active; only the JSON ``true`` counts.
        scope: Space-separated scopes of the token.
        client_id: The client the token was issued to.
        token_type: The token's type.
        exp: Expiry, epoch seconds.
        sub: The token's subject.
        aud: The token's audience.
    """

    active: Any = None
    scope: str | None = None
    client_id: str | None = None
    token_type: str | None = None
    exp: float | None = None
    sub: str | None = None
    aud: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


register_wire_model(IntrospectionResult)


class IntrospectionVerifier:
    """Checks bearer tokens at the partner's authorization server (RFC 7662).

    Each unknown token is posted to the introspection endpoint
    (``token=...&token_type_hint=access_token``) with the resource server's client
    credentials; it is valid when the answer says ``"active": true`` (and, when set, has not
    expired and carries ``required_scope``). Valid tokens are cached for ``cache_ttl``
    seconds (never past their ``exp``), so a burst of deliveries costs one introspection.

    The call goes through the SDK's transport: timeouts, retries on 5xx and connection
    errors, and no token in any log line.

    Args:
        introspection_url: The endpoint. HTTPS, or HTTP to a loopback address.
        client_id: The resource server's client id at the authorization server.
        client_secret: Its secret; never logged, never in a ``repr``.
        client_auth: ``"basic"`` (HTTP Basic, the RFC's usual way) or ``"body"`` (form
            fields).
        required_scope: A scope the token must carry, or ``None``.
        cache_ttl: Seconds a valid token is trusted without asking again; ``0`` disables
            the cache (a revoked token is refused at once).
        cache_size: Tokens kept in the cache at most.
        timeout: Timeout of the introspection call (default connect 5 s, read 10 s, total
            15 s: a delivery waits for it).
        retry: Retry policy of the introspection call (default: 2 retries).
        session: A :class:`requests.Session` of the caller's.
        verify: TLS verification, or a CA bundle path.
    """

    def __init__(
        self,
        introspection_url: str,
        client_id: str,
        client_secret: str,
        *,
        client_auth: Literal["basic", "body"] = "basic",
        required_scope: str | None = None,
        cache_ttl: float = 60.0,
        cache_size: int = 10_000,
        timeout: TimeoutLike | None = None,
        retry: RetryPolicy | None = None,
        session: Any = None,
        verify: bool | str = True,
    ) -> None:
        if not isinstance(introspection_url, str) or not introspection_url.startswith(
            ("https://", "http://")
        ):
            raise ValidationError("introspection_url", "must be an http(s) URL")
        if introspection_url.startswith("http://") and not is_loopback_url(introspection_url):
            raise ValidationError(
                "introspection_url",
                "must be HTTPS; plain HTTP is allowed only to loopback addresses",
            )
        if client_auth not in ("basic", "body"):
            raise ValidationError("client_auth", "must be 'basic' or 'body'")
        for argument, value in (("client_id", client_id), ("client_secret", client_secret)):
            validate.header_value(argument, value)  # both travel in an Authorization header
        if required_scope is not None and (
            not isinstance(required_scope, str) or not required_scope
        ):
            raise ValidationError("required_scope", "must be a non-empty string or None")
        validate.seconds("cache_ttl", cache_ttl, zero=True)
        validate.int_in_range("cache_size", cache_size, 1, None)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError("retry", "must be a RetryPolicy or None")
        if session is not None and not isinstance(session, requests.Session):
            raise ValidationError("session", "must be a requests.Session or None")
        self.introspection_url = introspection_url
        self.client_id = client_id
        self._client_secret = Secret(client_secret)
        self.client_auth = client_auth
        self.required_scope = required_scope
        self.cache_ttl = float(cache_ttl)
        self.cache_size = cache_size
        self._transport = Transport(
            provider="lex-push",
            base_url=introspection_url,
            credentials=Basic(client_id, self._client_secret) if client_auth == "basic" else None,
            session=session,
            # A delivery waits for its introspection: 15 s in all, retries included.
            timeout=Timeout.of(timeout) if timeout is not None else Timeout(5.0, 10.0, 15.0),
            retry=retry or RetryPolicy(max_retries=2, backoff_factor=0.2),
            verify=verify,
        )
        self._cache: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._lock = threading.Lock()
        #: Introspection calls sent (useful in tests).
        self.calls = 0

    def __repr__(self) -> str:
        return (
            f"IntrospectionVerifier({self.introspection_url!r}, client_id={self.client_id!r}, "
            f"client_secret={_MASK!r})"
        )

    def close(self) -> None:
        """Release the pooled connections."""
        self._transport.close()

    def verify(self, token: str) -> bool:
        """Whether ``token`` is active (and, when set, carries ``required_scope``).

        Raises:
            VerifierUnavailableError: the endpoint could not tell.
            ValidationError: ``token`` is not a non-empty string.
        """
        _check_token(token)
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            until = self._cache.get(key)
            if until is not None:
                if until > now:
                    return True
                del self._cache[key]
        result = self.introspect(token)
        if result.active is not True:
            return False
        wall = time.time()
        if result.exp is not None and result.exp <= wall:
            return False
        if self.required_scope and self.required_scope not in (result.scope or "").split():
            return False
        if self.cache_ttl > 0:
            lifetime = self.cache_ttl
            if result.exp is not None:
                lifetime = min(lifetime, result.exp - wall)
            with self._lock:
                self._cache[key] = now + lifetime
                self._cache.move_to_end(key)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return True

    def introspect(self, token: str) -> IntrospectionResult:
        """The authorization server's answer about ``token`` (uncached).

        Raises:
            VerifierUnavailableError: the endpoint could not be reached, refused the resource
                server's credentials, or answered something else than an introspection.
            ValidationError: ``token`` is not a non-empty string.
        """
        _check_token(token)
        secret = self._client_secret if self.client_auth == "body" else None
        body = _introspection_form(token, self.client_id, secret)
        del token  # not among the locals an error reporter records
        self.calls += 1
        try:
            data = _post_form(self._transport, self.introspection_url, body)
            return converter.structure(data, IntrospectionResult)
        except (TransportError, APIError, ResponseError) as exc:
            logger.warning("lex push: token introspection failed: %s", exc)
            raise VerifierUnavailableError("the token could not be checked") from exc
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            logger.warning("lex push: token introspection answer unreadable: %s", exc)
            raise VerifierUnavailableError("the token could not be checked") from exc


def _check_token(token: Any) -> None:
    # Never quoted: it is a credential.
    if not isinstance(token, str) or not token:
        raise ValidationError("token", "must be a non-empty string")


def _introspection_form(token: str, client_id: str, secret: Secret | None) -> MaskedBytes:
    """The RFC 7662 request body, masked: the token (and the client secret, sent in the body
    when asked) are plain text only in this frame."""
    form = {"token": token, "token_type_hint": "access_token"}
    if secret is not None:
        form.update(client_id=client_id, client_secret=secret.reveal())
    return MaskedBytes(urlencode(form).encode())


def _post_form(transport: Transport, url: str, body: MaskedBytes) -> Any:
    """``body`` (a form) posted to ``url``, and the answer's JSON body decoded.

    The only place the verifiers talk to the transport. Its errors (``TransportError``,
    ``APIError``, ``ResponseError``) propagate, as do those of decoding the JSON.
    """
    # Introspection changes nothing: safe to retry like a GET.
    response = transport.request(
        "POST",
        url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        idempotent=True,
    )
    return Exchange(transport.provider, "POST", url).json(response)

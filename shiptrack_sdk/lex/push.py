"""Receive the business messages LEX pushes to the partner (push mode).

In push mode LEX calls a URL of the partner's with ``POST``, the body a JSON document of up to
100 business messages (as ``GET`` answers them), authenticated by an OAuth2 bearer token the
partner's authorization server issued to LEX, or by a ciphered payload, as agreed with the
partner.

* :class:`PushReceiver` takes the raw request (headers and body bytes) and returns the parsed
  :class:`~shiptrack_sdk.lex.order_models.BusinessMessage` list, or raises a
  :class:`PushError` that says which HTTP status to answer.
* :class:`PushWSGIApp` wraps a receiver and a handler of the partner's into a WSGI
  application (mount it in Flask, Django or any WSGI server). It answers with a JSON body:

  .. list-table::
     :header-rows: 1

     * - Status
       - When
     * - 200 ``{"status": "accepted", "received": n}``
       - the handler processed the messages
     * - 200 ``{"status": "duplicate", "received": 0}``
       - every message was processed before (with a de-duplication store)
     * - 400 ``{"status": "rejected", "error": ...}``
       - not JSON, not a list of messages, a malformed message, more than 100 messages
     * - 401
       - missing or invalid bearer token, or a payload that does not decrypt
     * - 405, 411
       - not a ``POST``; no ``Content-Length``
     * - 413
       - a body over the size limit, refused before it is read
     * - 415
       - a ``Content-Type`` that is not JSON (plain JSON deliveries)
     * - 500
       - the handler raised, or something else failed unexpectedly: a verifier or cipher
         that raised (or a verifier that answered neither ``True`` nor ``False``), a
         de-duplication store that failed (LEX may deliver again)
     * - 503
       - the token introspection endpoint could not be reached (LEX may deliver again)

A verifier or cipher that fails in an unexpected way never lets a delivery through: the
handler is not called, the answer is 500 (:class:`VerificationFailedError`, so that LEX
delivers again once the fault is fixed, rather than a 401 telling it its credentials are
wrong), and the failure is logged at ERROR with its traceback. The exception's message is
left out of the log and of the error: a verifier's or cipher's exception may quote the token,
a key or the payload it was given.

Bearer tokens are checked by a :class:`BearerVerifier`: :class:`IntrospectionVerifier`
(RFC 7662) or :class:`StaticTokenVerifier`. Payloads are deciphered by a :class:`Cipher`: the
SDK ships :class:`AesGcmCipher` (AES-256-GCM with a shared key, ``pip install
"shiptrack-sdk[crypto]"``); the exact cipher LEX uses is agreed per partner.
"""

from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import attrs
import cattrs
import requests
from requests.auth import HTTPBasicAuth

from .._convert import STRUCTURE_ERRORS, converter, describe_structure_error, register_wire_model
from .._http import RetryPolicy, Timeout, TimeoutLike, Transport
from ..auth import check_header_value, is_loopback_url
from ..errors import APIError, ResponseError, ShiptrackError, TransportError, ValidationError
from .order_models import BusinessMessage, message_key, message_list

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_MESSAGES",
    "AesGcmCipher",
    "BearerVerifier",
    "Cipher",
    "DecryptionError",
    "DedupStore",
    "DuplicateDeliveryError",
    "InMemoryDedupStore",
    "IntrospectionVerifier",
    "InvalidTokenError",
    "LengthRequiredError",
    "MalformedDeliveryError",
    "MissingDependencyError",
    "MissingTokenError",
    "PayloadTooLargeError",
    "PushAuthenticationError",
    "PushError",
    "PushReceiver",
    "PushResponse",
    "PushWSGIApp",
    "StaticTokenVerifier",
    "TooManyMessagesError",
    "UnsupportedMediaTypeError",
    "VerificationFailedError",
    "VerifierUnavailableError",
]

logger = logging.getLogger("shiptrack_sdk")

#: Bodies larger than this are refused (413) unless the receiver says otherwise: 100
#: messages of about 100 KB each.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
#: LEX sends up to 100 messages per delivery.
DEFAULT_MAX_MESSAGES = 100

_MASK = "***"


# -- errors --------------------------------------------------------------------------------------


class PushError(ShiptrackError):
    """A push delivery that is refused (or, for duplicates, not processed again).

    Attributes:
        status: The HTTP status the receiver answers.
        code: A short machine-readable reason, the ``error`` of the JSON answer.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"


class MalformedDeliveryError(PushError):
    """400: the body is not JSON, not a list of business messages, or a message is malformed."""

    code = "malformed_delivery"


class TooManyMessagesError(MalformedDeliveryError):
    """400: more messages than the receiver's ``max_messages`` (LEX sends at most 100)."""

    code = "too_many_messages"


class PushAuthenticationError(PushError):
    """401: the delivery did not prove it comes from LEX."""

    status = 401
    code = "unauthorized"


class MissingTokenError(PushAuthenticationError):
    """401: no ``Authorization: Bearer`` header."""

    code = "missing_token"


class InvalidTokenError(PushAuthenticationError):
    """401: the bearer token is not valid (unknown, expired, inactive, lacking the scope)."""

    code = "invalid_token"


class DecryptionError(PushAuthenticationError):
    """401: the payload does not decrypt with the shared key (tampered, wrong key, garbled):
    for a ciphered delivery, decrypting is the authentication."""

    code = "undecryptable_payload"


class PayloadTooLargeError(PushError):
    """413: the body is larger than the receiver's ``max_body_bytes``."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(PushError):
    """415: a plain delivery whose ``Content-Type`` is not JSON."""

    status = 415
    code = "unsupported_media_type"


class DuplicateDeliveryError(PushError):
    """Every message of the delivery was processed before (seen by the de-duplication store).

    Not a failure of the sender: the WSGI app acknowledges it with 200
    ``{"status": "duplicate"}`` so LEX stops delivering it, and does not call the handler.
    """

    status = 200
    code = "duplicate"


class VerifierUnavailableError(PushError):
    """503: the token could not be checked (the introspection endpoint failed); LEX may try
    again later."""

    status = 503
    code = "verifier_unavailable"


class VerificationFailedError(PushError):
    """500: the verifier or the cipher failed unexpectedly (it raised something other than a
    refusal, or the verifier answered neither True nor False); the handler is not called.

    A refusal is a :class:`PushError` (such as :class:`VerifierUnavailableError`), or, from a
    cipher, a ``ValueError`` (an undecryptable payload, 401).

    The delivery is refused, never let through: its authenticity is unknown. 500 rather than
    401, because the fault is the receiver's, not LEX's credentials: LEX may deliver again.
    The failure is logged at ERROR with its traceback, without the exception's message (it may
    quote the token, a key or the payload).
    """

    status = 500
    code = "verification_failed"


class LengthRequiredError(PushError):
    """411: the request has no ``Content-Length`` (and the server does not delimit the body)."""

    status = 411
    code = "length_required"


class MissingDependencyError(ShiptrackError, ImportError):
    """An optional extra of the SDK is needed and not installed."""


# -- bearer verification -------------------------------------------------------------------------


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
            check_header_value("tokens", token)
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
        timeout: Timeout of the introspection call (default connect 5 s, read 10 s).
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
            check_header_value(argument, value)  # both travel in an Authorization header
        if required_scope is not None and (
            not isinstance(required_scope, str) or not required_scope
        ):
            raise ValidationError("required_scope", "must be a non-empty string or None")
        if (
            isinstance(cache_ttl, bool)
            or not isinstance(cache_ttl, (int, float))
            or not cache_ttl >= 0  # NaN too
        ):
            raise ValidationError("cache_ttl", "must be a number of seconds >= 0")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValidationError("cache_size", "must be an integer >= 1")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError("retry", "must be a RetryPolicy or None")
        if session is not None and not isinstance(session, requests.Session):
            raise ValidationError("session", "must be a requests.Session or None")
        self.introspection_url = introspection_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.client_auth = client_auth
        self.required_scope = required_scope
        self.cache_ttl = float(cache_ttl)
        self.cache_size = cache_size
        self._transport = Transport(
            provider="lex-push",
            base_url=introspection_url,
            auth=HTTPBasicAuth(client_id, client_secret) if client_auth == "basic" else None,
            session=session,
            timeout=Timeout.of(timeout) if timeout is not None else Timeout(5.0, 10.0),
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
        form = {"token": token, "token_type_hint": "access_token"}
        if self.client_auth == "body":
            form.update(client_id=self.client_id, client_secret=self._client_secret)
        self.calls += 1
        transport = self._transport
        try:
            # Introspection changes nothing: safe to retry like a GET.
            response = transport.request("POST", self.introspection_url, data=form, idempotent=True)
            data = transport.decode_json(response, "POST")
            return converter.structure(data, IntrospectionResult)
        except (TransportError, APIError, ResponseError) as exc:
            logger.warning("lex push: token introspection failed: %s", exc)
            raise VerifierUnavailableError("the token could not be checked") from exc
        except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
            logger.warning("lex push: token introspection answer unreadable: %s", exc)
            raise VerifierUnavailableError("the token could not be checked") from exc


# -- ciphers -------------------------------------------------------------------------------------


@runtime_checkable
class Cipher(Protocol):
    """Deciphers a push body. ``decrypt`` returns the plain JSON bytes, or raises
    :class:`DecryptionError` (any ``ValueError`` is taken as one).

    A cipher used by the sandbox's push simulator also has ``encrypt(bytes) -> bytes``.
    """

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext of ``data``."""
        ...


class AesGcmCipher:
    """AES-256-GCM with a key shared with LEX.

    The ciphered body is the base64 (standard alphabet, padded) of
    ``nonce (12 bytes) || ciphertext || tag (16 bytes)``; whitespace around it is ignored.
    A changed byte, a wrong key or a truncated body fails the tag check and is refused
    (:class:`DecryptionError`, answered 401).

    Needs the ``cryptography`` package: ``pip install "shiptrack-sdk[crypto]"``.

    Args:
        key: The 32-byte key (:meth:`from_base64` reads one from text,
            :meth:`generate_key` makes one).
        associated_data: Bytes authenticated with every payload but not sent, when the
            partner agreement defines some.
    """

    NONCE_BYTES = 12
    TAG_BYTES = 16

    def __init__(self, key: bytes, *, associated_data: bytes | None = None) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
            raise ValidationError("key", "must be 32 bytes (AES-256)")
        if associated_data is not None and not isinstance(associated_data, (bytes, bytearray)):
            raise ValidationError("associated_data", "must be bytes or None")
        aead = _aesgcm()
        self._aead = aead(bytes(key))
        self.associated_data = None if associated_data is None else bytes(associated_data)

    @classmethod
    def from_base64(cls, key: str, **kwargs: Any) -> AesGcmCipher:
        """A cipher from a base64-encoded 32-byte key."""
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ValidationError("key", "is not base64") from None
        return cls(raw, **kwargs)

    @staticmethod
    def generate_key() -> bytes:
        """A fresh random 32-byte key."""
        return os.urandom(32)

    def __repr__(self) -> str:
        return f"AesGcmCipher(key={_MASK!r})"

    def encrypt(self, data: bytes) -> bytes:
        """``data`` ciphered with a fresh random nonce, in the format :meth:`decrypt` reads."""
        data = _check_bytes(data, "data")
        nonce = os.urandom(self.NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, self.associated_data)
        return base64.b64encode(nonce + sealed)

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext of ``data``; :class:`DecryptionError` when it does not decipher."""
        from cryptography.exceptions import InvalidTag

        data = _check_bytes(data, "data")
        try:
            raw = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError("the payload is not base64") from None
        if len(raw) < self.NONCE_BYTES + self.TAG_BYTES:
            raise DecryptionError("the payload is too short to be ciphered")
        nonce, sealed = raw[: self.NONCE_BYTES], raw[self.NONCE_BYTES :]
        try:
            plain: bytes = self._aead.decrypt(nonce, sealed, self.associated_data)
            return plain
        except InvalidTag:
            raise DecryptionError("the payload does not decrypt with the shared key") from None


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:
        raise MissingDependencyError(
            "AesGcmCipher needs the 'cryptography' package: pip install \"shiptrack-sdk[crypto]\""
        ) from exc
    return AESGCM


# -- de-duplication ------------------------------------------------------------------------------


@runtime_checkable
class DedupStore(Protocol):
    """Remembers which message ids were processed. Share one across workers (a database, Redis)
    to de-duplicate across processes."""

    def seen(self, key: str) -> bool:
        """Whether the message ``key`` was processed."""
        ...

    def add(self, key: str) -> None:
        """Remember that the message ``key`` was processed."""
        ...


class InMemoryDedupStore:
    """The last ``max_entries`` message ids processed, in memory (one process).

    Args:
        max_entries: Ids kept; the oldest are forgotten first.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValidationError("max_entries", "must be an integer >= 1")
        self.max_entries = max_entries
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, key: str) -> bool:
        """Whether the message ``key`` was processed (among the last ``max_entries``)."""
        _check_key(key)
        with self._lock:
            return key in self._keys

    def add(self, key: str) -> None:
        """Remember that the message ``key`` was processed."""
        _check_key(key)
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.max_entries:
                self._keys.popitem(last=False)


# -- the receiver --------------------------------------------------------------------------------


def _http_status(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValidationError("status", "must be an HTTP status, an integer from 100 to 599")


def _json_body(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError("body", "must be a mapping (answered as a JSON object)")


def _header_map(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError("headers", "must be a mapping of header name to value")
    for name, text in value.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise ValidationError("headers", "names and values must be strings")
        check_header_value("headers", text)


@attrs.frozen
class PushResponse:
    """What to answer LEX: a status, a JSON body and headers."""

    status: int = attrs.field(validator=_http_status)
    body: Mapping[str, Any] = attrs.field(validator=_json_body)
    headers: Mapping[str, str] = attrs.field(factory=dict, validator=_header_map)

    @property
    def status_line(self) -> str:
        """``"200 OK"``, as WSGI's ``start_response`` takes it."""
        from http import HTTPStatus

        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Status"
        return f"{self.status} {phrase}"

    def content(self) -> bytes:
        """The body, encoded."""
        return json.dumps(self.body, separators=(",", ":")).encode()


Handler = Callable[[list[BusinessMessage]], Any]


class PushReceiver:
    """Checks and parses push deliveries.

    Checks, in order: the body's size (413), the bearer token when a ``verifier`` is set
    (401; 503 when it cannot be checked), the ``Content-Type`` of plain deliveries (415), the
    cipher when one is set (401), then the JSON (400), the number of messages (400) and each
    message's envelope (400). With a ``dedup_store``, messages processed before are dropped,
    and a delivery made only of them raises :class:`DuplicateDeliveryError`.

    Args:
        verifier: Checks the ``Authorization: Bearer`` token (OAuth2 push).
        cipher: Deciphers the body (ciphered push). Both may be set; at least one must be,
            unless ``allow_unauthenticated``.
        max_body_bytes: Larger bodies are refused (default 10 MiB).
        max_messages: More messages are refused (default 100, LEX's maximum).
        dedup_store: Remembers processed message ids, to detect deliveries made again.
        allow_unauthenticated: Accept deliveries with neither token nor cipher, when
            something in front of the receiver authenticates LEX (mutual TLS...).
    """

    def __init__(
        self,
        *,
        verifier: BearerVerifier | None = None,
        cipher: Cipher | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        dedup_store: DedupStore | None = None,
        allow_unauthenticated: bool = False,
    ) -> None:
        if verifier is not None and not isinstance(verifier, BearerVerifier):
            raise ValidationError("verifier", "must have a verify(token) -> bool method")
        if cipher is not None and not isinstance(cipher, Cipher):
            raise ValidationError("cipher", "must have a decrypt(bytes) -> bytes method")
        if dedup_store is not None and not isinstance(dedup_store, DedupStore):
            raise ValidationError("dedup_store", "must have seen(key) and add(key) methods")
        if not isinstance(allow_unauthenticated, bool):
            raise ValidationError("allow_unauthenticated", "must be True or False")
        if verifier is None and cipher is None and not allow_unauthenticated:
            raise ValidationError(
                "verifier",
                "a verifier or a cipher is required (or allow_unauthenticated=True when "
                "LEX is authenticated in front of the receiver)",
            )
        for argument, value in (("max_body_bytes", max_body_bytes), ("max_messages", max_messages)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(argument, "must be an integer >= 1")
        self.verifier = verifier
        self.cipher = cipher
        self.max_body_bytes = max_body_bytes
        self.max_messages = max_messages
        self.dedup_store = dedup_store

    def __repr__(self) -> str:
        return (
            f"PushReceiver(verifier={self.verifier!r}, cipher={self.cipher!r}, "
            f"max_body_bytes={self.max_body_bytes}, max_messages={self.max_messages})"
        )

    def receive(self, headers: Mapping[str, str], body: bytes) -> list[BusinessMessage]:
        """The messages of one delivery, once it is authenticated and well-formed.

        Args:
            headers: The request's headers (any case): a mapping, or any object with
                ``items()`` giving ``(name, value)`` strings (Werkzeug's ``Headers``).
            body: The request's body, as received (bytes).

        Returns:
            The messages, in delivery order (without those already processed, with a
            de-duplication store).

        Raises:
            PushError: a subclass saying why, with the HTTP status to answer
                (:class:`VerificationFailedError`, 500, when the verifier or the cipher failed
                unexpectedly).
            ValidationError: ``headers`` or ``body`` is not of its type (a bug of the caller,
                not of the delivery).
        """
        lowered, body = _request_parts(headers, body)
        return self._receive(lowered, body)

    def _receive(self, lowered: Mapping[str, str], body: bytes) -> list[BusinessMessage]:
        if len(body) > self.max_body_bytes:
            raise PayloadTooLargeError(
                f"the body of {len(body)} bytes is over the limit of {self.max_body_bytes}"
            )
        if self.verifier is not None:
            self._authenticate(lowered.get("authorization"))
        if self.cipher is None:
            _check_json_content_type(lowered.get("content-type"))
        else:
            body = self._decrypt(body)
        messages = self._parse(body)
        return self._fresh(messages)

    def mark_processed(self, messages: Iterable[BusinessMessage]) -> None:
        """Record ``messages`` as processed in the de-duplication store (if any).

        The WSGI app calls it after the handler returned; a handler that raised leaves them
        unrecorded, so LEX's next delivery of them is processed.
        """
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
            raise ValidationError("messages", "must be a list of BusinessMessage")
        items = list(messages)
        for index, message in enumerate(items):
            if not isinstance(message, BusinessMessage):
                raise ValidationError(
                    "messages", f"item {index} is a {type(message).__name__}, not a BusinessMessage"
                )
        if self.dedup_store is None:
            return
        for message in items:
            self.dedup_store.add(message_key(message))

    def handle(self, headers: Mapping[str, str], body: bytes, handler: Handler) -> PushResponse:
        """Receive one delivery, call ``handler`` with its messages, and say what to answer.

        For a framework view (Flask, Django) that reads the request itself; the WSGI app
        uses it too. ``handler`` is called only for an authenticated, well-formed delivery
        with at least one new message.

        Every outcome is an answer, never an exception: a refusal is answered with its
        :class:`PushError`'s status; anything that fails unexpectedly (the handler, a
        verifier, a cipher, the de-duplication store) is logged at ERROR and answered 500
        with a JSON body, and the messages are not marked processed.

        Raises:
            ValidationError: ``headers``, ``body`` or ``handler`` is not of its type (checked
                before anything else: a bug of the caller, not of the delivery).
        """
        if not callable(handler):
            raise ValidationError("handler", "must be callable with the list of messages")
        lowered, body = _request_parts(headers, body)
        try:
            messages = self._receive(lowered, body)
        except DuplicateDeliveryError:
            return PushResponse(200, {"status": "duplicate", "received": 0})
        except PushError as exc:
            logger.info("lex push: delivery refused (%d %s): %s", exc.status, exc.code, exc)
            extra: dict[str, str] = {}
            if isinstance(exc, MissingTokenError):
                extra["WWW-Authenticate"] = 'Bearer realm="lex-push"'
            elif isinstance(exc, InvalidTokenError):
                extra["WWW-Authenticate"] = 'Bearer realm="lex-push", error="invalid_token"'
            return PushResponse(
                exc.status, {"status": "rejected", "error": exc.code, "message": str(exc)}, extra
            )
        except Exception as exc:
            _log_failure("receiving a delivery", exc)
            return _internal_error()
        if messages:
            try:
                handler(messages)
            except Exception:
                logger.exception("lex push: the handler failed on %d message(s)", len(messages))
                return PushResponse(
                    500,
                    {
                        "status": "error",
                        "error": "handler_failed",
                        "message": "the delivery could not be processed",
                    },
                )
            try:
                self.mark_processed(messages)
            except Exception as exc:
                # Handled, but not recorded: answered 500 so that LEX delivers again, and the
                # handler sees these messages again (at least once, never lost).
                _log_failure("recording the processed messages", exc)
                return _internal_error()
        return PushResponse(200, {"status": "accepted", "received": len(messages)})

    # -- the steps ------------------------------------------------------------------------------

    def _authenticate(self, authorization: str | None) -> None:
        assert self.verifier is not None
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise MissingTokenError("an Authorization: Bearer token is required")
        failure: str
        try:
            valid: Any = self.verifier.verify(token)
        except PushError:
            raise  # VerifierUnavailableError (503), or the verifier's own refusal
        except Exception as exc:
            _log_failure("the verifier", exc)
            failure = f"the verifier failed ({type(exc).__name__})"
        else:
            if valid is True:
                return
            if valid is False:
                raise InvalidTokenError("the bearer token is not valid")
            failure = f"the verifier answered a {type(valid).__name__}, not True or False"
            logger.error("lex push: %s; the delivery is refused", failure)
        # Raised here, outside the except clause: the verifier's exception (whose message
        # may quote the token) is not chained to the error.
        raise VerificationFailedError(f"{failure}; the delivery is refused")

    def _decrypt(self, body: bytes) -> bytes:
        assert self.cipher is not None
        try:
            plain: Any = self.cipher.decrypt(body)
        except PushError:
            raise  # DecryptionError (401), or the cipher's own refusal
        except ValueError as exc:
            raise DecryptionError("the payload could not be deciphered") from exc
        except Exception as exc:
            _log_failure("the cipher", exc)
            failure = f"the cipher failed ({type(exc).__name__})"
        else:
            if isinstance(plain, (bytes, bytearray)):
                return bytes(plain)
            failure = f"the cipher answered a {type(plain).__name__}, not bytes"
            logger.error("lex push: %s; the delivery is refused", failure)
        # Outside the except clause: the cipher's exception is not chained (see above).
        raise VerificationFailedError(f"{failure}; the delivery is refused")

    def _parse(self, body: bytes) -> list[BusinessMessage]:
        if not body.strip():
            raise MalformedDeliveryError("the body is empty")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise MalformedDeliveryError("the body is not JSON") from None
        items = message_list(document)
        if items is None:
            raise MalformedDeliveryError(
                "expected a JSON array of business messages, or an object wrapping one"
            )
        if len(items) > self.max_messages:
            raise TooManyMessagesError(
                f"{len(items)} messages in one delivery; at most {self.max_messages}"
            )
        messages: list[BusinessMessage] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise MalformedDeliveryError(f"messages[{index}] is not a JSON object")
            try:
                messages.append(converter.structure(item, BusinessMessage))
            except STRUCTURE_ERRORS as exc:
                raise MalformedDeliveryError(
                    f"messages[{index}] is not a business message ({describe_structure_error(exc)})"
                ) from None
        return messages

    def _fresh(self, messages: list[BusinessMessage]) -> list[BusinessMessage]:
        store = self.dedup_store
        if store is None or not messages:
            return messages
        fresh: list[BusinessMessage] = []
        keys: set[str] = set()
        for message in messages:
            key = message_key(message)
            if key in keys or store.seen(key):
                continue
            keys.add(key)
            fresh.append(message)
        if not fresh:
            raise DuplicateDeliveryError(
                f"all {len(messages)} message(s) of the delivery were processed before"
            )
        if len(fresh) < len(messages):
            logger.info(
                "lex push: %d of %d message(s) were processed before and are skipped",
                len(messages) - len(fresh),
                len(messages),
            )
        return fresh


def _check_json_content_type(value: str | None) -> None:
    if not value:
        return  # nothing declared: the body is read as JSON
    media = value.split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaTypeError(f"expected application/json, got {media or value!r}")


def _request_parts(headers: Any, body: Any) -> tuple[dict[str, str], bytes]:
    """The headers by lower-cased name, and the body as bytes, or :class:`ValidationError`.

    The messages never quote a header's value: one of them is the bearer token.
    """
    items = getattr(headers, "items", None)
    if isinstance(headers, (str, bytes)) or not callable(items):
        raise ValidationError(
            "headers", f"expected a mapping of header name to value, got {type(headers).__name__}"
        )
    lowered: dict[str, str] = {}
    for pair in items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValidationError("headers", "items() must give (name, value) pairs")
        name, value = pair
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValidationError("headers", "names and values must be strings")
        lowered[name.lower()] = value
    if isinstance(body, bytearray):
        body = bytes(body)
    elif not isinstance(body, bytes):
        raise ValidationError(
            "body", f"expected the body as received (bytes), got {type(body).__name__}"
        )
    return lowered, body


def _check_bytes(data: Any, argument: str) -> bytes:
    if isinstance(data, bytearray):
        return bytes(data)
    if not isinstance(data, bytes):
        raise ValidationError(argument, f"expected bytes, got {type(data).__name__}")
    return data


def _check_token(token: Any) -> None:
    # Never quoted: it is a credential.
    if not isinstance(token, str) or not token:
        raise ValidationError("token", "must be a non-empty string")


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise ValidationError("key", "must be a non-empty string (a message key)")


def _log_failure(what: str, exc: BaseException) -> None:
    """Log an unexpected failure at ERROR, with its traceback but without its message.

    The frames say where it failed; the message is left out because the exceptions raised
    here (by a verifier, a cipher, a store) may quote the token, a key or the payload.
    """
    frames = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    logger.error(
        "lex push: %s failed with %s; the delivery is not accepted (500). The exception's "
        "message is not logged: it may quote credentials or the payload.\n"
        "Traceback (most recent call last):\n%s",
        what,
        type(exc).__qualname__,
        frames,
    )


def _internal_error() -> PushResponse:
    return PushResponse(
        500,
        {
            "status": "error",
            "error": "internal_error",
            "message": "the delivery could not be processed",
        },
    )


# -- WSGI ----------------------------------------------------------------------------------------

StartResponse = Callable[..., Any]


class PushWSGIApp:
    """A WSGI application receiving LEX's pushes.

    Serve it with any WSGI server (gunicorn, uWSGI, waitress, mod_wsgi), or mount it beside a
    Flask or Django application (see the guide). Every request on it is taken as a delivery:
    mount it at the URL agreed with LEX.

    The body is read only when its ``Content-Length`` is within the receiver's
    ``max_body_bytes``, and never beyond it; a larger one is answered 413 at once (up to
    ``drain_bytes`` of it are read and discarded, so the sender sees the answer rather than a
    reset connection).

    Args:
        receiver: Checks and parses the deliveries.
        handler: Called with the list of messages of each authenticated, well-formed delivery;
            the answer is 200 once it returns, 500 if it raises. Anything else that fails
            unexpectedly is answered 500 with a JSON body too (see :meth:`PushReceiver.handle`).
        drain_bytes: Bytes of a refused body read and discarded at most.
    """

    def __init__(
        self, receiver: PushReceiver, handler: Handler, *, drain_bytes: int = 1024 * 1024
    ) -> None:
        if not isinstance(receiver, PushReceiver):
            raise ValidationError("receiver", "must be a PushReceiver")
        if not callable(handler):
            raise ValidationError("handler", "must be callable with the list of messages")
        if isinstance(drain_bytes, bool) or not isinstance(drain_bytes, int) or drain_bytes < 0:
            raise ValidationError("drain_bytes", "must be an integer >= 0")
        self.receiver = receiver
        self.handler = handler
        self.drain_bytes = drain_bytes

    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        """Answer one request (the WSGI protocol): always a JSON body, 500 included."""
        if not isinstance(environ, Mapping):
            raise ValidationError("environ", "must be the WSGI environ mapping")
        if not callable(start_response):
            raise ValidationError("start_response", "must be callable")
        try:
            response = self._respond(environ)
        except Exception as exc:
            # Whatever failed (reading the body, a server handing over something odd), the
            # answer is still a JSON 500: never the server's bare error page.
            _log_failure("answering a delivery", exc)
            response = _internal_error()
        content = response.content()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            *response.headers.items(),
        ]
        start_response(response.status_line, headers)
        return [content]

    def _respond(self, environ: Mapping[str, Any]) -> PushResponse:
        if str(environ.get("REQUEST_METHOD", "GET")).upper() != "POST":
            response = PushResponse(
                405,
                {"status": "rejected", "error": "method_not_allowed", "message": "use POST"},
                {"Allow": "POST"},
            )
        else:
            try:
                body = self._read_body(environ)
            except PushError as exc:
                response = PushResponse(
                    exc.status, {"status": "rejected", "error": exc.code, "message": str(exc)}
                )
            else:
                response = self.receiver.handle(_wsgi_headers(environ), body, self.handler)
        return response

    def _read_body(self, environ: Mapping[str, Any]) -> bytes:
        limit = self.receiver.max_body_bytes
        stream = environ.get("wsgi.input")
        length_text = str(environ.get("CONTENT_LENGTH") or "").strip()
        if length_text:
            if not (length_text.isascii() and length_text.isdigit()):
                raise MalformedDeliveryError("Content-Length is not a number")
            length = int(length_text)
            if length > limit:
                self._drain(stream, min(length, self.drain_bytes))
                raise PayloadTooLargeError(
                    f"the body of {length} bytes is over the limit of {limit}"
                )
            return _read(stream, length)
        if environ.get("wsgi.input_terminated"):
            # The server delimits the body (chunked encoding): read one byte past the limit
            # at most, to tell "at the limit" from "over it".
            body = _read(stream, limit + 1)
            if len(body) > limit:
                raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
            return body
        raise LengthRequiredError("a Content-Length header is required")

    @staticmethod
    def _drain(stream: Any, count: int) -> None:
        if stream is None:
            return
        while count > 0:
            chunk = stream.read(min(count, 64 * 1024))
            if not chunk:
                return
            count -= len(chunk)


def _read(stream: Any, count: int) -> bytes:
    if stream is None or count <= 0:
        return b""
    chunks: list[bytes] = []
    remaining = count
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.replace("_", "-").lower()] = str(value)
    return headers

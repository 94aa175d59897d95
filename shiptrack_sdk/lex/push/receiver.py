"""The push receiver: checks one delivery (size, token, cipher, JSON, envelopes, duplicates)
and says what to answer."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ..._core import validate
from ...errors import ValidationError
from ..order_models import BusinessMessage, message_key
from .ciphers import Cipher
from .dedup import Claim, DedupStore, claim_of
from .errors import (
    DecryptionError,
    DeliveryInFlightError,
    DuplicateDeliveryError,
    InvalidTokenError,
    MissingTokenError,
    PayloadTooLargeError,
    PushError,
    UnsupportedMediaTypeError,
    VerificationFailedError,
)
from .parse import parse_delivery
from .verify import BearerVerifier

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_MESSAGES",
    "Handler",
    "PushReceiver",
    "PushResponse",
]

logger = logging.getLogger("shiptrack_sdk")

#: Bodies larger than this are refused (413) unless the receiver says otherwise: 100
#: messages of about 100 KB each.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
#: LEX sends up to 100 messages per delivery.
DEFAULT_MAX_MESSAGES = 100
#: Seconds a copy of a delivery whose messages are in flight is told to wait
#: (``Retry-After``) before LEX delivers it again.
DEFAULT_IN_FLIGHT_RETRY_AFTER = 10


def _http_status(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    validate.int_in_range("status", value, 100, 599)


def _json_body(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError("body", "must be a mapping (answered as a JSON object)")


def _header_map(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError("headers", "must be a mapping of header name to value")
    for name, text in value.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise ValidationError("headers", "names and values must be strings")
        validate.header_value("headers", text)


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
    cipher when one is set (401), then the JSON, strictly (400: no ``NaN``, ``Infinity`` or
    number too large for a float, no key twice in one object, no lone surrogate), the number
    of messages (400) and each message's envelope (400; a ``messageId`` must be a string).

    With a ``dedup_store``, each message is claimed before it is handled. Messages handled
    before are dropped, and a delivery made only of them raises
    :class:`DuplicateDeliveryError` (answered 200); a delivery with a message that another
    copy is handling right now raises :class:`DeliveryInFlightError` (answered 503 with
    ``Retry-After``), and nothing of it is handled.

    Args:
        verifier: Checks the ``Authorization: Bearer`` token (OAuth2 push).
        cipher: Deciphers the body (ciphered push). Both may be set; at least one must be,
            unless ``allow_unauthenticated``.
        max_body_bytes: Larger bodies are refused (default 10 MiB).
        max_messages: More messages are refused (default 100, LEX's maximum).
        dedup_store: Claims message keys, so that each message reaches the handler once,
            even when copies of a delivery arrive together (see :class:`DedupStore`).
        allow_unauthenticated: Accept deliveries with neither token nor cipher, when
            something in front of the receiver authenticates LEX (mutual TLS...).
        in_flight_retry_after: The ``Retry-After`` (seconds) answered with a 503 to a copy
            whose messages are in flight (default 10).
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
        in_flight_retry_after: int = DEFAULT_IN_FLIGHT_RETRY_AFTER,
    ) -> None:
        if verifier is not None and not isinstance(verifier, BearerVerifier):
            raise ValidationError("verifier", "must have a verify(token) -> bool method")
        if cipher is not None and not isinstance(cipher, Cipher):
            raise ValidationError("cipher", "must have a decrypt(bytes) -> bytes method")
        if dedup_store is not None and not isinstance(dedup_store, DedupStore):
            raise ValidationError(
                "dedup_store", "must have claim(key), complete(key) and release(key) methods"
            )
        if not isinstance(allow_unauthenticated, bool):
            raise ValidationError("allow_unauthenticated", "must be True or False")
        if verifier is None and cipher is None and not allow_unauthenticated:
            raise ValidationError(
                "verifier",
                "a verifier or a cipher is required (or allow_unauthenticated=True when "
                "LEX is authenticated in front of the receiver)",
            )
        for argument, value in (("max_body_bytes", max_body_bytes), ("max_messages", max_messages)):
            validate.int_in_range(argument, value, 1, None)
        validate.int_in_range("in_flight_retry_after", in_flight_retry_after, 0, 86_400)
        self.verifier = verifier
        self.cipher = cipher
        self.max_body_bytes = max_body_bytes
        self.max_messages = max_messages
        self.dedup_store = dedup_store
        self.in_flight_retry_after = in_flight_retry_after

    def __repr__(self) -> str:
        return (
            f"PushReceiver(verifier={self.verifier!r}, cipher={self.cipher!r}, "
            f"max_body_bytes={self.max_body_bytes}, max_messages={self.max_messages}, "
            f"dedup_store={self.dedup_store!r})"
        )

    def receive(self, headers: Mapping[str, str], body: bytes) -> list[BusinessMessage]:
        """The messages of one delivery, once it is authenticated and well-formed.

        With a de-duplication store, the messages returned are *claimed*: call
        :meth:`mark_processed` once they are handled, or :meth:`release` if handling them
        failed; until then, other copies of them are answered "in flight" (until the store's
        lease ends). :meth:`handle` does all of that.

        Args:
            headers: The request's headers (any case): a mapping, or any object with
                ``items()`` giving ``(name, value)`` strings (Werkzeug's ``Headers``).
            body: The request's body, as received (bytes).

        Returns:
            The messages, in delivery order (without those handled before, with a
            de-duplication store; a message repeated in the delivery comes once).

        Raises:
            PushError: a subclass saying why, with the HTTP status to answer
                (:class:`DuplicateDeliveryError`: nothing new; :class:`DeliveryInFlightError`:
                another copy is being handled; :class:`VerificationFailedError`, 500, when
                the verifier or the cipher failed unexpectedly).
            ValidationError: ``headers`` or ``body`` is not of its type (a bug of the caller,
                not of the delivery).
        """
        lowered, body = _request_parts(headers, body)
        return self._claim(self._receive(lowered, body))

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
        return parse_delivery(body, self.max_messages)

    def mark_processed(self, messages: Iterable[BusinessMessage]) -> None:
        """Complete the claims of ``messages``: they were handled (no-op without a store).

        :meth:`handle` calls it after the handler returned.
        """
        self._settle("complete", messages)

    def release(self, messages: Iterable[BusinessMessage]) -> None:
        """Release the claims of ``messages``: they were not handled, and LEX's next delivery
        of them is (no-op without a store).

        :meth:`handle` calls it when the handler raised.
        """
        self._settle("release", messages)

    def handle(self, headers: Mapping[str, str], body: bytes, handler: Handler) -> PushResponse:
        """Receive one delivery, call ``handler`` with its messages, and say what to answer.

        For a framework view (Flask, Django) that reads the request itself; the WSGI app
        uses it too. ``handler`` is called only for an authenticated, well-formed delivery
        with at least one new message, none of them in flight for another copy.

        Every outcome is an answer, never an exception: a refusal is answered with its
        :class:`PushError`'s status; anything that fails unexpectedly (the handler, a
        verifier, a cipher, the de-duplication store) is logged at ERROR and answered 500
        with a JSON body. When the handler raises, the messages' claims are released, so
        LEX's next delivery of them is handled.

        Raises:
            ValidationError: ``headers``, ``body`` or ``handler`` is not of its type (checked
                before anything else: a bug of the caller, not of the delivery).
        """
        if not callable(handler):
            raise ValidationError("handler", "must be callable with the list of messages")
        lowered, body = _request_parts(headers, body)
        try:
            messages = self._claim(self._receive(lowered, body))
        except DuplicateDeliveryError:
            return PushResponse(200, {"status": "duplicate", "received": 0})
        except PushError as exc:
            return _refusal(exc)
        except Exception as exc:
            _log_failure("receiving a delivery", exc)
            return _internal_error()
        if messages:
            try:
                handler(messages)
            except Exception:
                logger.exception("lex push: the handler failed on %d message(s)", len(messages))
                try:
                    self.release(messages)
                except Exception as exc:
                    # Not released: the claims end with their lease, and LEX's deliveries
                    # meanwhile are answered 503 (in flight), never lost.
                    _log_failure("releasing the claims", exc)
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
                # Handled, but not recorded: answered 500 so that LEX delivers again; once
                # the lease ends, the handler sees these messages again (at least once,
                # never lost).
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

    def _claim(self, messages: list[BusinessMessage]) -> list[BusinessMessage]:
        """The messages of the delivery this copy now holds, claimed in the store.

        Keys are claimed in sorted order, and all of this copy's claims are released as soon
        as one key is in flight elsewhere: of two overlapping deliveries arriving together,
        the one that claims their first common key goes ahead, and the other waits, so
        neither blocks the other for good.
        """
        store = self.dedup_store
        if store is None or not messages:
            return messages
        by_key: dict[str, BusinessMessage] = {}
        for message in messages:
            by_key.setdefault(message_key(message), message)
        claimed: list[str] = []
        busy: str | None = None
        try:
            for key in sorted(by_key):
                state = claim_of(store.claim(key))
                if state is Claim.NEW:
                    claimed.append(key)
                elif state is Claim.IN_FLIGHT:
                    busy = key
                    break
        except Exception:
            self._release_keys(claimed)
            raise
        if busy is not None:
            self._release_keys(claimed)
            raise DeliveryInFlightError(
                f"message {busy!r} is being handled for another copy of the delivery; "
                f"deliver again in {self.in_flight_retry_after} s",
                self.in_flight_retry_after,
            )
        if not claimed:
            raise DuplicateDeliveryError(
                f"all {len(messages)} message(s) of the delivery were processed before"
            )
        held = set(claimed)
        fresh = [message for key, message in by_key.items() if key in held]
        if len(fresh) < len(messages):
            logger.info(
                "lex push: %d of %d message(s) were processed before (or repeated) and are skipped",
                len(messages) - len(fresh),
                len(messages),
            )
        return fresh

    def _release_keys(self, keys: Iterable[str]) -> None:
        assert self.dedup_store is not None
        for key in keys:
            try:
                self.dedup_store.release(key)
            except Exception as exc:
                _log_failure("releasing a claim", exc)  # it ends with its lease

    def _settle(self, how: str, messages: Iterable[BusinessMessage]) -> None:
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
            raise ValidationError("messages", "must be a list of BusinessMessage")
        items = list(messages)
        for index, message in enumerate(items):
            if not isinstance(message, BusinessMessage):
                raise ValidationError(
                    "messages", f"item {index} is a {type(message).__name__}, not a BusinessMessage"
                )
        store = self.dedup_store
        if store is None:
            return
        settle = store.complete if how == "complete" else store.release
        for key in dict.fromkeys(message_key(message) for message in items):
            settle(key)


def _refusal(exc: PushError) -> PushResponse:
    """The answer to a refused delivery: its status, a JSON body, and the headers it needs."""
    logger.info("lex push: delivery refused (%d %s): %s", exc.status, exc.code, exc)
    extra: dict[str, str] = {}
    if isinstance(exc, MissingTokenError):
        extra["WWW-Authenticate"] = 'Bearer realm="lex-push"'
    elif isinstance(exc, InvalidTokenError):
        extra["WWW-Authenticate"] = 'Bearer realm="lex-push", error="invalid_token"'
    elif isinstance(exc, DeliveryInFlightError):
        extra["Retry-After"] = str(exc.retry_after)
    return PushResponse(
        exc.status, {"status": "rejected", "error": exc.code, "message": str(exc)}, extra
    )


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

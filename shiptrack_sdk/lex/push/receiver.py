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
from ..._core.convert import STRUCTURE_ERRORS, converter, describe_structure_error
from ...errors import ValidationError
from ..order_models import BusinessMessage, message_key, message_list
from .ciphers import Cipher
from .dedup import DedupStore
from .errors import (
    DecryptionError,
    DuplicateDeliveryError,
    InvalidTokenError,
    MalformedDeliveryError,
    MissingTokenError,
    PayloadTooLargeError,
    PushError,
    TooManyMessagesError,
    UnsupportedMediaTypeError,
    VerificationFailedError,
)
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
            validate.int_in_range(argument, value, 1, None)
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

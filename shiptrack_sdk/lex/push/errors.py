"""The refusals of a push delivery, each with the HTTP status and the code answered to LEX."""

from __future__ import annotations

from typing import ClassVar

from ...errors import ShiptrackError


class PushError(ShiptrackError):
    """A push delivery that is refused (or, for duplicates, not processed again).

    Attributes:
        status: The HTTP status the receiver answers.
        code: A short machine-readable reason, the ``error`` of the JSON answer.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"


class MalformedDeliveryError(PushError):
    """400: the body is not strict JSON (``NaN``, ``1e999``, a key twice, a lone surrogate), not
    a list of business messages, or a message is malformed (a ``messageId`` not a string)."""

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


class DeliveryInFlightError(PushError):
    """503: a message of the delivery is being handled right now, for another copy of it; the
    handler is not called, and ``Retry-After`` says when to deliver again.

    Not 200: the copy in flight may still fail, and if LEX gave up on it (its timeout
    expired before the answer), only this copy's answer tells LEX whether to deliver again.
    Not 409: a sender may take a 4xx as final and drop the delivery; a 503 with
    ``Retry-After`` is the HTTP way to say "not now, later" (RFC 9110, 15.6.4).

    Attributes:
        retry_after: Seconds after which LEX should deliver again.
    """

    status = 503
    code = "in_flight"

    def __init__(self, message: str, retry_after: int = 10) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BodyTimeoutError(PushError):
    """408: the body did not arrive in time (the WSGI app's ``body_deadline``), or came slower
    than its ``min_body_rate``; the handler is not called."""

    status = 408
    code = "body_timeout"


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


#: Every refusal defined here (the package root lists them among its own names).
__all__ = sorted(
    name
    for name, value in list(globals().items())
    if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == __name__
)

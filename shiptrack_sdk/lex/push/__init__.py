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

from . import receiver as _receiver
from .ciphers import AesGcmCipher, Cipher
from .dedup import DedupStore, InMemoryDedupStore
from .errors import (
    DecryptionError,
    DuplicateDeliveryError,
    InvalidTokenError,
    LengthRequiredError,
    MalformedDeliveryError,
    MissingDependencyError,
    MissingTokenError,
    PayloadTooLargeError,
    PushAuthenticationError,
    PushError,
    TooManyMessagesError,
    UnsupportedMediaTypeError,
    VerificationFailedError,
    VerifierUnavailableError,
)
from .receiver import PushReceiver, PushResponse
from .verify import BearerVerifier, IntrospectionVerifier, StaticTokenVerifier

# Importable (the answer of IntrospectionVerifier.introspect), though not in __all__.
from .verify import IntrospectionResult as IntrospectionResult
from .wsgi import PushWSGIApp

# Assigned here rather than imported, so that the API reference, which reads this module's
# comments, documents them.
#: Bodies larger than this are refused (413) unless the receiver says otherwise: 100
#: messages of about 100 KB each.
DEFAULT_MAX_BODY_BYTES = _receiver.DEFAULT_MAX_BODY_BYTES
#: LEX sends up to 100 messages per delivery.
DEFAULT_MAX_MESSAGES = _receiver.DEFAULT_MAX_MESSAGES

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

"""Receive the business messages LEX pushes to the partner (push mode).

In push mode LEX calls a URL of the partner's with ``POST``, the body a JSON document of up to
100 business messages (as ``GET`` answers them), authenticated by an OAuth2 bearer token the
partner's authorization server issued to LEX, or by a ciphered payload, as agreed with the
partner.

* :class:`PushReceiver` takes the raw request (headers and body bytes) and returns the parsed
  :class:`~shiptrack_sdk.lex.order_models.BusinessMessage` list, or raises a
  :class:`PushError` that says which HTTP status to answer.
* :class:`PushWSGIApp` wraps a receiver and a handler of the partner's into a WSGI
  application (mount it in Flask, Django or any WSGI server; :class:`PushServer` serves it
  with waitress). It answers with a JSON body:

  .. list-table::
     :header-rows: 1

     * - Status
       - When
     * - 200 ``{"status": "accepted", "received": n}``
       - the handler processed the messages
     * - 200 ``{"status": "duplicate", "received": 0}``
       - every message was processed before (with a de-duplication store)
     * - 400 ``{"status": "rejected", "error": ...}``
       - not JSON, or not strict JSON (``NaN``, ``1e999``, a key twice, a lone surrogate),
         not a list of messages, a malformed message (a ``messageId`` that is not a
         string), more than 100 messages
     * - 401
       - missing or invalid bearer token, or a payload that does not decrypt
     * - 405, 411
       - not a ``POST``; no ``Content-Length``
     * - 408
       - the body did not arrive within the deadline, or came too slowly
     * - 413
       - a body over the size limit, refused before it is read
     * - 415
       - a ``Content-Type`` that is not JSON (plain JSON deliveries)
     * - 500
       - the handler raised, or something else failed unexpectedly: a verifier or cipher
         that raised (or a verifier that answered neither ``True`` nor ``False``), a
         de-duplication store that failed (LEX may deliver again)
     * - 503
       - another copy of the delivery is being handled right now (``Retry-After``); or the
         token introspection endpoint could not be reached (LEX may deliver again)

With a de-duplication store (:class:`InMemoryDedupStore` for one process,
:class:`SQLiteDedupStore` for the processes of one host, or any :class:`DedupStore`), each
message is claimed before the handler runs: a copy arriving while the first is handled is
answered 503 and handled by nobody, a handler that raises releases its claims so that the
next delivery is handled, and a crashed worker's claims end with their lease.

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

from . import body as _body
from . import dedup as _dedup
from . import receiver as _receiver
from .ciphers import AesGcmCipher, Cipher
from .dedup import Claim, DedupStore, InMemoryDedupStore
from .dedup_sqlite import SQLiteDedupStore
from .errors import (
    BodyTimeoutError,
    DecryptionError,
    DeliveryInFlightError,
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
from .serving import PushServer
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
#: Seconds a whole body may take to arrive (:class:`PushWSGIApp`'s ``body_deadline``).
DEFAULT_BODY_DEADLINE = _body.DEFAULT_BODY_DEADLINE
#: Bytes per second a body must arrive at once its first second has passed
#: (:class:`PushWSGIApp`'s ``min_body_rate``).
DEFAULT_MIN_BODY_RATE = _body.DEFAULT_MIN_BODY_RATE
#: Seconds a claim holds a message for the copy handling it (5 minutes), unless the store
#: says otherwise; a crashed worker's claims end with it.
DEFAULT_LEASE = _dedup.DEFAULT_LEASE
#: The ``Retry-After`` (seconds) of a 503 answered to a copy whose messages are in flight.
DEFAULT_IN_FLIGHT_RETRY_AFTER = _receiver.DEFAULT_IN_FLIGHT_RETRY_AFTER

__all__ = [
    "DEFAULT_BODY_DEADLINE",
    "DEFAULT_IN_FLIGHT_RETRY_AFTER",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_MESSAGES",
    "DEFAULT_MIN_BODY_RATE",
    "AesGcmCipher",
    "BearerVerifier",
    "BodyTimeoutError",
    "Cipher",
    "Claim",
    "DecryptionError",
    "DedupStore",
    "DeliveryInFlightError",
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
    "PushServer",
    "PushWSGIApp",
    "SQLiteDedupStore",
    "StaticTokenVerifier",
    "TooManyMessagesError",
    "UnsupportedMediaTypeError",
    "VerificationFailedError",
    "VerifierUnavailableError",
]

"""LEX Shipment Tracking: send shipment events to Michelin, in batches.

``POST /lex-shipmenttracking-v1/shipment-tracking`` takes a JSON array of tracking messages,
one event per message, several messages per call. :meth:`TrackingResource.send` checks every
message first, splits them into batches, sends each batch once, and returns a
:class:`SendReport` of what was accepted, what failed and what is in doubt.

The messages and their validation are in :mod:`shiptrack_sdk.lex.tracking_models` (re-exported
here); building them from normalized tracking is :mod:`shiptrack_sdk.lex.forward`.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._core import validate
from .._core.convert import converter
from .._core.options import Timeout, TimeoutLike
from .._core.progress import Progress, ProgressLike
from .._core.resource import Endpoint, Resource
from .._core.transport import EncodedJSON, encode_json
from ..errors import (
    APIError,
    AuthenticationError,
    ResponseError,
    ServerError,
    ShiptrackError,
    TokenError,
    TransportError,
    ValidationError,
)
from .tracking_models import (
    DEFAULT_DOCUMENT_REQUIRED_CODES,
    DEFAULT_LIMITS,
    DEFAULT_REQUIRED_PARTS,
    Anomaly,
    Attribute,
    Carrier,
    DeliveryNote,
    Location,
    Party,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
    TrackingValidator,
    validate_messages,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_DOCUMENT_REQUIRED_CODES",
    "DEFAULT_LIMITS",
    "DEFAULT_REQUIRED_PARTS",
    "MAX_BATCH_SIZE",
    "TRACKING_PATH",
    "Anomaly",
    "Attribute",
    "BatchResult",
    "Carrier",
    "DeliveryNote",
    "Location",
    "MessageResult",
    "Party",
    "SendOutcome",
    "SendReport",
    "ShipmentEvent",
    "TrackingAddress",
    "TrackingMessage",
    "TrackingResource",
    "TrackingValidator",
    "validate_messages",
]

logger = logging.getLogger("shiptrack_sdk")

#: The endpoint, relative to the client's base URL.
TRACKING_PATH = "lex-shipmenttracking-v1/shipment-tracking"
#: Messages per call unless told otherwise.
DEFAULT_BATCH_SIZE = 100
#: The largest batch :meth:`TrackingResource.send` accepts. Michelin publishes no limit; this
#: bound keeps a call's body around a megabyte and its failure small.
MAX_BATCH_SIZE = 1000


class SendOutcome(str, enum.Enum):
    """What became of a batch, and of each message in it."""

    #: Michelin answered with a success status: the messages are delivered.
    ACCEPTED = "accepted"
    #: Michelin refused the batch (a 4xx answer), answered it with a redirect (not followed),
    #: or it never left (no connection, or no token could be had): none of its messages were
    #: stored, so they can be sent again (after fixing what was refused).
    FAILED = "failed"
    #: The batch reached Michelin or may have, and nothing says it was refused as a whole:
    #: no answer came (read timeout, connection reset after sending), or a 5xx one (a
    #: server error or a gateway's may come after some or all of it was stored). Its
    #: messages may or may not be stored; the SDK never resends them, the caller decides.
    IN_DOUBT = "in_doubt"
    #: The batch was not sent, because the send stopped before it (``stop_on_error``, or
    #: credentials refused).
    NOT_SENT = "not_sent"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class BatchResult:
    """The outcome of one batch.

    Attributes:
        index: The batch's position (0-based).
        start: Index of its first message in the list sent.
        stop: One past the index of its last message.
        outcome: What became of it.
        status: The HTTP status of the answer, when there was one.
        error: The error, when not accepted (``None`` for accepted and not-sent batches).
        response: The decoded answer of an accepted batch (its JSON, or text), if any.
    """

    index: int
    start: int
    stop: int
    outcome: SendOutcome
    status: int | None = None
    error: ShiptrackError | None = attrs.field(default=None, eq=False)
    response: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def size(self) -> int:
        """How many messages the batch holds."""
        return self.stop - self.start

    @property
    def indexes(self) -> range:
        """The indexes of its messages in the list sent."""
        return range(self.start, self.stop)


@attrs.frozen
class MessageResult:
    """What became of one message.

    Attributes:
        index: Its index in the list sent.
        message: The message.
        batch: The index of the batch it was in.
        outcome: Its batch's outcome.
        error: Its batch's error, when not accepted.
    """

    index: int
    message: TrackingMessage = attrs.field(repr=False)
    batch: int
    outcome: SendOutcome
    error: ShiptrackError | None = attrs.field(default=None, eq=False)


@attrs.frozen(repr=False)
class SendReport:
    """What :meth:`TrackingResource.send` did with each message.

    Every message is in exactly one of :attr:`accepted`, :attr:`failed`, :attr:`in_doubt`
    and :attr:`not_sent`.

    Attributes:
        messages: The messages, in the order given.
        batches: One result per batch, in order.
    """

    messages: tuple[TrackingMessage, ...]
    batches: tuple[BatchResult, ...]

    def _results(self, outcome: SendOutcome) -> tuple[MessageResult, ...]:
        return tuple(
            MessageResult(i, self.messages[i], batch.index, batch.outcome, batch.error)
            for batch in self.batches
            if batch.outcome is outcome
            for i in batch.indexes
        )

    @property
    def accepted(self) -> tuple[MessageResult, ...]:
        """Messages Michelin accepted."""
        return self._results(SendOutcome.ACCEPTED)

    @property
    def failed(self) -> tuple[MessageResult, ...]:
        """Messages surely not stored, each with its batch's error."""
        return self._results(SendOutcome.FAILED)

    @property
    def in_doubt(self) -> tuple[MessageResult, ...]:
        """Messages that may or may not be stored, each with its batch's error."""
        return self._results(SendOutcome.IN_DOUBT)

    @property
    def not_sent(self) -> tuple[MessageResult, ...]:
        """Messages of batches the send stopped before."""
        return self._results(SendOutcome.NOT_SENT)

    @property
    def counts(self) -> dict[str, int]:
        """Number of messages per outcome: ``{"accepted": 100, "failed": 0, ...}``."""
        counts = {outcome.value: 0 for outcome in SendOutcome}
        for batch in self.batches:
            counts[batch.outcome.value] += batch.size
        return counts

    @property
    def ok(self) -> bool:
        """Whether every message was accepted."""
        return all(batch.outcome is SendOutcome.ACCEPTED for batch in self.batches)

    @property
    def errors(self) -> tuple[ShiptrackError, ...]:
        """The error of each batch not accepted, in order."""
        return tuple(b.error for b in self.batches if b.error is not None)

    def safe_to_resend(self) -> list[TrackingMessage]:
        """The messages surely not stored (failed or not sent), which can be sent again
        without a risk of duplicates. In-doubt messages are not among them."""
        return [
            self.messages[i]
            for batch in self.batches
            if batch.outcome in (SendOutcome.FAILED, SendOutcome.NOT_SENT)
            for i in batch.indexes
        ]

    def __len__(self) -> int:
        return len(self.messages)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        return f"SendReport({counts}, batches={len(self.batches)})"


def _check_batch_size(batch_size: Any) -> int:
    return validate.int_in_range("batch_size", batch_size, 1, MAX_BATCH_SIZE)


def _materialize(messages: Iterable[TrackingMessage]) -> tuple[TrackingMessage, ...]:
    if isinstance(messages, (str, bytes, Mapping, TrackingMessage)) or not isinstance(
        messages, Iterable
    ):
        raise ValidationError("messages", "must be a list of TrackingMessage")
    return tuple(messages)


def _classify(error: ShiptrackError) -> SendOutcome:
    """What became of a batch whose POST raised ``error``."""
    if isinstance(error, TokenError):
        # No token could be had (on the first fetch, or renewing after a 401 that proved the
        # batch was not stored): the batch was not sent.
        return SendOutcome.FAILED
    if isinstance(error, TransportError):
        return SendOutcome.IN_DOUBT if error.may_have_reached_server else SendOutcome.FAILED
    if isinstance(error, ServerError):
        # A 5xx can come after the backend stored some or all of the batch.
        return SendOutcome.IN_DOUBT
    if isinstance(error, APIError):
        # A 4xx: the server refused the request, nothing was stored.
        return SendOutcome.FAILED
    if isinstance(error, ResponseError) and error.status is not None:
        # A redirect (not followed: a write never is) or a refusal stored nothing; a 5xx
        # whose body could not be read may follow a stored batch.
        return SendOutcome.FAILED if error.status < 500 else SendOutcome.IN_DOUBT
    return SendOutcome.IN_DOUBT


def _interrupted(
    items: tuple[TrackingMessage, ...], size: int, results: list[BatchResult], *, sending: bool
) -> SendReport:
    """The report of a send interrupted after ``results``: the batch being sent when it
    happened, if one was (``sending``), may have reached Michelin (in doubt); those after it
    were not sent."""
    batches = list(results)
    for number, start in enumerate(range(len(results) * size, len(items), size), len(results)):
        in_flight = sending and number == len(results)
        outcome = SendOutcome.IN_DOUBT if in_flight else SendOutcome.NOT_SENT
        batches.append(BatchResult(number, start, min(start + size, len(items)), outcome))
    return SendReport(items, tuple(batches))


#: A batch of tracking messages (the path is the resource's ``path``); the answer only
#: confirms it.
SEND: Endpoint[None] = Endpoint("POST", TRACKING_PATH, None)


class TrackingResource(Resource):
    """``client.tracking``: LEX Shipment Tracking.

    Attributes:
        path: The endpoint, relative to the client's base URL (or absolute). Default
            ``lex-shipmenttracking-v1/shipment-tracking``; set it if your contract names
            another.
        validator: The checks run before sending; replace it to change the document-required
            event codes, the required parts or the length limits.
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.path: str = TRACKING_PATH
        self.validator: TrackingValidator = TrackingValidator()

    def validate(self, messages: Iterable[TrackingMessage]) -> None:
        """Check ``messages`` with :attr:`validator`, without sending anything.

        Raises:
            ValidationError: every problem at once.
        """
        self.validator.validate(_materialize(messages))

    def send(
        self,
        messages: Iterable[TrackingMessage],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        stop_on_error: bool = False,
        validator: TrackingValidator | None = None,
        timeout: TimeoutLike | None = None,
        progress: ProgressLike = None,
    ) -> SendReport:
        """Send tracking messages, ``batch_size`` per call.
        ``POST /lex-shipmenttracking-v1/shipment-tracking``.

        Every message is checked before the first batch is sent; one problem anywhere means
        nothing is sent. Each batch is then sent once, as a JSON array:

        * a batch Michelin answers with a success status is **accepted**;
        * one it refuses (4xx), or that could not be sent at all, has **failed**: none of its
          messages are stored;
        * one that reached Michelin, or may have, without being refused as a whole (no answer:
          read timeout, connection reset after sending; or a 5xx answer, which may come after
          some or all of it was stored) is **in doubt**.

        A POST that may have reached the server is never retried, so no message is stored
        twice by the SDK; in-doubt messages are reported for the caller to decide. After a
        failed or in-doubt batch the later batches are still sent (they hold other messages),
        unless ``stop_on_error``; after credentials are refused (401, 403, or the token
        endpoint refusing them) the rest is not sent, as it would be refused the same way.

        Args:
            messages: The messages, in the order to send them.
            batch_size: Messages per call, 1 to :data:`MAX_BATCH_SIZE` (default 100).
            stop_on_error: Send no further batch after one failed or is in doubt.
            validator: Checks to run instead of :attr:`validator`.
            timeout: Overrides the client's timeout for each call.
            progress: A ``(done, total)`` callable, called after each batch with the number
                of messages handled, or ``True`` for a progress bar when tqdm is installed.

        Returns:
            What became of each message.

        Raises:
            ValidationError: ``batch_size`` or a message is invalid (every problem listed,
                as ``messages[3].event.code``...); nothing was sent.

        If the send is interrupted (``KeyboardInterrupt``, an exception raised by
        ``progress``...), the exception propagates carrying the report so far as its
        ``shiptrack_report`` attribute: the batches done as above, the one being sent at that
        moment in doubt, the rest not sent. Nothing already sent needs to be sent again.
        """
        size = _check_batch_size(batch_size)
        if timeout is not None:
            Timeout.of(timeout)  # refused here, not reported as a batch in doubt
        items = _materialize(messages)
        (validator or self.validator).validate(items)
        body = [converter.unstructure(message) for message in items]
        starts = range(0, len(items), size)
        try:
            # Every batch is encoded before the first is sent (nothing is sent if one cannot
            # be), and encoded once: the transport sends these bytes as they are.
            payloads = [encode_json(body[start : start + size]) for start in starts]
        except (TypeError, ValueError) as exc:  # the validator checks extra; this is a net
            raise ValidationError("messages", f"cannot be written as JSON ({exc})") from None
        del body
        results: list[BatchResult] = []
        stopped = sending = False
        try:
            with Progress(progress, len(items), description="LEX tracking") as bar:
                for number, start in enumerate(starts):
                    stop = min(start + size, len(items))
                    if stopped:
                        results.append(BatchResult(number, start, stop, SendOutcome.NOT_SENT))
                        continue
                    sending = True
                    result = self._send_batch(number, start, stop, payloads[number], timeout)
                    results.append(result)
                    sending = False
                    if result.outcome is not SendOutcome.ACCEPTED:
                        logger.warning(
                            "%s: tracking batch %d of %d (messages %d to %d) %s: %s",
                            self._client.provider,
                            number + 1,
                            len(starts),
                            start,
                            stop - 1,
                            "in doubt" if result.outcome is SendOutcome.IN_DOUBT else "failed",
                            result.error,
                        )
                        stopped = stop_on_error or isinstance(result.error, AuthenticationError)
                    bar.advance(stop - start)
        except BaseException as exc:
            # Interrupted (Ctrl-C, an exception from ``progress``...): what was sent must not
            # be forgotten, or the caller would send it again.
            report = _interrupted(items, size, results, sending=sending)
            with contextlib.suppress(AttributeError):  # an exception class without __dict__
                exc.shiptrack_report = report  # type: ignore[attr-defined]
            logger.warning(
                "%s: tracking send interrupted (%s): %s; the exception's shiptrack_report "
                "says what became of each message",
                self._client.provider,
                type(exc).__name__,
                ", ".join(f"{k}={v}" for k, v in report.counts.items()),
            )
            raise
        return SendReport(items, tuple(results))

    def _send_batch(
        self,
        number: int,
        start: int,
        stop: int,
        batch: EncodedJSON,
        timeout: TimeoutLike | None,
    ) -> BatchResult:
        try:
            answer = self._call(SEND, route=self.path, json_body=batch, timeout=timeout)
        except ShiptrackError as exc:
            failure = exc
        else:
            return BatchResult(
                number,
                start,
                stop,
                SendOutcome.ACCEPTED,
                status=answer.status,
                response=answer.body,
            )
        outcome = _classify(failure)
        return BatchResult(
            number, start, stop, outcome, status=getattr(failure, "status", None), error=failure
        )

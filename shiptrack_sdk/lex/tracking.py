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
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core import validate
from .._core.encoding import EncodedJSON, encode_json
from .._core.options import Timeout, TimeoutLike
from .._core.progress import Progress, ProgressLike
from .._core.resource import Endpoint, Resource
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
from .journal import SendJournal
from .tracking_models import (
    Anomaly,
    Attribute,
    Carrier,
    DeliveryNote,
    Location,
    Party,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
)
from .tracking_validation import (
    DEFAULT_DOCUMENT_REQUIRED_CODES,
    DEFAULT_LIMITS,
    DEFAULT_REQUIRED_PARTS,
    TrackingValidator,
    validate_messages,
)

if TYPE_CHECKING:
    from .profile import WireProfile

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
        positions: With a journal, the indexes of its messages in the list sent (those the
            journal skipped are not among them, so they may not follow each other); without
            one, ``None``: the batch holds ``start`` to ``stop``.
        skipped: ``True`` for the messages a journal kept from being sent, which made no
            call: already accepted through it (outcome accepted), in doubt in it (outcome in
            doubt), or a second copy of a message in the same list (the first copy's outcome).
        journal_batch: The batch's id in the journal, when sent through one.
    """

    index: int
    start: int
    stop: int
    outcome: SendOutcome
    status: int | None = None
    error: ShiptrackError | None = attrs.field(default=None, eq=False)
    response: Any = attrs.field(default=None, eq=False, repr=False)
    positions: tuple[int, ...] | None = attrs.field(default=None, repr=False)
    skipped: bool = False
    journal_batch: int | None = None

    @property
    def size(self) -> int:
        """How many messages the batch holds."""
        return len(self.indexes)

    @property
    def indexes(self) -> Sequence[int]:
        """The indexes of its messages in the list sent."""
        return range(self.start, self.stop) if self.positions is None else self.positions


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
    def skipped(self) -> tuple[MessageResult, ...]:
        """Messages a journal kept from being sent (each also under its outcome)."""
        return tuple(
            MessageResult(i, self.messages[i], batch.index, batch.outcome, batch.error)
            for batch in self.batches
            if batch.skipped
            for i in batch.indexes
        )

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
        sent = sum(1 for batch in self.batches if not batch.skipped)
        skipped = sum(batch.size for batch in self.batches if batch.skipped)
        return f"SendReport({counts}, batches={sent}{f', skipped={skipped}' if skipped else ''})"


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


def _batch(
    number: int, positions: Sequence[int], outcome: SendOutcome, journaled: bool
) -> BatchResult:
    """The result of a batch of ``positions`` (without a journal, a run of indexes)."""
    kept = tuple(positions) if journaled else None
    return BatchResult(number, positions[0], positions[-1] + 1, outcome, positions=kept)


@attrs.define
class _Sending:
    """Where a send stands: the batches planned, those done, the one in flight, and the
    messages a journal skipped (index -> outcome) or that copy an earlier one."""

    items: tuple[TrackingMessage, ...]
    groups: list[Sequence[int]]
    journaled: bool
    skipped: dict[int, SendOutcome]
    copies: dict[int, int]
    results: list[BatchResult] = attrs.field(factory=list)
    next_group: int = 0
    in_flight: Sequence[int] | None = None
    in_flight_batch: int | None = None

    def batch(self, positions: Sequence[int], outcome: SendOutcome) -> BatchResult:
        """The next batch's result, not sent or interrupted."""
        number = len(self.results)
        return _batch(number, positions, outcome, self.journaled)

    def report(self) -> SendReport:
        """The report so far: if interrupted, the batch being sent in doubt and the batches
        after it not sent."""
        batches = list(self.results)
        if self.in_flight is not None:
            batch = self.batch(self.in_flight, SendOutcome.IN_DOUBT)
            batches.append(attrs.evolve(batch, journal_batch=self.in_flight_batch))
        for group in self.groups[self.next_group :]:
            batches.append(_batch(len(batches), group, SendOutcome.NOT_SENT, self.journaled))
        outcomes = {i: batch.outcome for batch in batches for i in batch.indexes}
        outcomes.update(self.skipped)
        skipped = dict(self.skipped)
        for copy, original in self.copies.items():
            skipped[copy] = outcomes.get(original, SendOutcome.NOT_SENT)
        for outcome in SendOutcome:
            positions = sorted(i for i, o in skipped.items() if o is outcome)
            if positions:
                batch = _batch(len(batches), positions, outcome, True)
                batches.append(attrs.evolve(batch, skipped=True))
        return SendReport(self.items, tuple(batches))


#: A batch of tracking messages (the path is the resource's ``path``); the answer only
#: confirms it.
SEND: Endpoint[None] = Endpoint("POST", TRACKING_PATH, None)


class TrackingResource(Resource):
    """``client.tracking``: LEX Shipment Tracking.

    Attributes:
        path: The endpoint, relative to the client's base URL (or absolute). Default the
            client's profile's, else ``lex-shipmenttracking-v1/shipment-tracking``; set it if
            your contract names another.
        validator: The checks run before sending (by default the client's profile's); replace
            it to change the document-required event codes, the required parts or the length
            limits.
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        #: The client's contract profile: its wire names, paths and checks.
        self.profile: WireProfile = client.profile
        self.path: str = self.profile.tracking_path or TRACKING_PATH
        self.validator: TrackingValidator = self.profile.validator()

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
        journal: SendJournal | None = None,
        resend_in_doubt: bool = False,
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

        With a ``journal`` (:class:`~shiptrack_sdk.lex.journal.SendJournal`), each batch is
        recorded pending, durably, before it is sent, and its outcome after; messages the
        journal has accepted are not sent again, nor those it has in doubt unless
        ``resend_in_doubt``, nor a second copy of a message in ``messages``. They are
        reported under their outcome in batches marked ``skipped`` (see
        :attr:`SendReport.skipped`), and the other messages go in full batches.

        Args:
            messages: The messages, in the order to send them.
            batch_size: Messages per call, 1 to :data:`MAX_BATCH_SIZE` (default 100).
            stop_on_error: Send no further batch after one failed or is in doubt.
            validator: Checks to run instead of :attr:`validator`.
            timeout: Overrides the client's timeout for each call.
            progress: A ``(done, total)`` callable, called after each batch with the number
                of messages handled, or ``True`` for a progress bar when tqdm is installed.
            journal: Record every batch and its outcome there, and skip what it already has.
            resend_in_doubt: With a journal, send again the messages it has in doubt (only
                once you know Michelin did not store them).

        Returns:
            What became of each message.

        Raises:
            ValidationError: ``batch_size`` or a message is invalid (every problem listed,
                as ``messages[3].event.code``...), or does not match the JSON Schema of the
                client's profile; nothing was sent.
            JournalError: the journal cannot be read or written (a batch whose pending record
                could not be written was not sent).

        If the send is interrupted (``KeyboardInterrupt``, an exception raised by
        ``progress``...), the exception propagates carrying the report so far as its
        ``shiptrack_report`` attribute: the batches done as above, the one being sent at that
        moment in doubt (in the journal too), the rest not sent. Nothing already sent needs
        to be sent again.
        """
        size = validate.int_in_range("batch_size", batch_size, 1, MAX_BATCH_SIZE)
        if timeout is not None:
            Timeout.of(timeout)  # refused here, not reported as a batch in doubt
        if not isinstance(journal, SendJournal) and (journal is not None or resend_in_doubt):
            raise ValidationError("journal", "must be a SendJournal (resend_in_doubt needs one)")
        items = _materialize(messages)
        (validator or self.validator).validate(items)
        # The profile's names (the SDK's by default). With a journal or a JSON Schema, the
        # whole list's wire form first: the journal keys messages by it, the schema checks it.
        wire = self.profile.converter.unstructure
        body: list[Any] | None = None
        if journal is not None or self.profile.tracking_schema is not None:
            body = [wire(message) for message in items]
            self.profile.check_tracking(body)
        plan = None
        if journal is not None and body is not None:
            plan = journal._plan("tracking", body, resend_in_doubt=resend_in_doubt)
        order: Sequence[int] = range(len(items)) if plan is None else plan.send
        groups = [order[start : start + size] for start in range(0, len(order), size)]
        # Every batch encoded before the first is sent (nothing is sent if one cannot be); a
        # wire form made here lives only while encoded: a long send holds its payloads' bytes.
        payloads = [
            encode_json(
                [wire(items[i]) if body is None else body[i] for i in group], argument="messages"
            )
            for group in groups
        ]
        if journal is None:
            body = None  # what is sent is in the payloads now
        state = _Sending(
            items,
            groups,
            journal is not None,
            {i: SendOutcome(reason) for i, reason in plan.skipped.items()} if plan else {},
            dict(plan.copies) if plan else {},
        )
        stopped = False
        try:
            with Progress(progress, len(items), description="LEX tracking") as bar:
                if state.skipped or state.copies:
                    self._log_skipped(state)
                    bar.advance(len(state.skipped) + len(state.copies))
                for number, group in enumerate(groups):
                    state.next_group = number + 1
                    if stopped:
                        state.results.append(state.batch(group, SendOutcome.NOT_SENT))
                        continue
                    positions, batch_id = group, None
                    if journal is not None and plan is not None:
                        batch_id, positions, left = journal._claim(
                            "tracking", plan, group, resend_in_doubt=resend_in_doubt
                        )
                        if left:  # claimed meanwhile by another sender
                            state.skipped.update({i: SendOutcome(r) for i, r in left.items()})
                            bar.advance(len(left))
                        if batch_id is None:
                            continue
                    state.in_flight, state.in_flight_batch = positions, batch_id
                    payload = payloads[number]
                    if len(positions) != len(group) and body is not None:
                        # another sender claimed some meanwhile (a journal's send: body is kept)
                        payload = encode_json([body[i] for i in positions])
                    result = self._send_batch(len(state.results), positions, payload, timeout)
                    if state.journaled:
                        result = attrs.evolve(
                            result, positions=tuple(positions), journal_batch=batch_id
                        )
                    if journal is not None and batch_id is not None:
                        journal._finish(
                            batch_id,
                            result.outcome,
                            status=result.status,
                            error=result.error,
                            answer=result.response,
                        )
                    state.results.append(result)
                    state.in_flight = state.in_flight_batch = None
                    if result.outcome is not SendOutcome.ACCEPTED:
                        logger.warning(
                            "%s: tracking batch %d of %d (messages %d to %d) %s: %s",
                            self._client.provider,
                            number + 1,
                            len(groups),
                            result.start,
                            result.stop - 1,
                            "in doubt" if result.outcome is SendOutcome.IN_DOUBT else "failed",
                            result.error,
                        )
                        stopped = stop_on_error or isinstance(result.error, AuthenticationError)
                    bar.advance(len(positions))
        except BaseException as exc:
            # Interrupted (Ctrl-C, an exception from ``progress``...): what was sent must not
            # be forgotten, or the caller would send it again.
            if journal is not None and state.in_flight_batch is not None:
                with contextlib.suppress(Exception):
                    journal._finish(
                        state.in_flight_batch,
                        SendOutcome.IN_DOUBT,
                        error=f"interrupted ({type(exc).__name__})",
                    )
            report = state.report()
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
        return state.report()

    def _log_skipped(self, state: _Sending) -> None:
        doubtful = sum(1 for o in state.skipped.values() if o is SendOutcome.IN_DOUBT)
        logger.log(
            logging.WARNING if doubtful else logging.INFO,
            "%s: not sent again: %d tracking message(s) accepted through the send journal, "
            "%d in doubt in it (resend_in_doubt=False), %d repeated in the list",
            self._client.provider,
            len(state.skipped) - doubtful,
            doubtful,
            len(state.copies),
        )

    def _send_batch(
        self, number: int, positions: Sequence[int], batch: EncodedJSON, timeout: TimeoutLike | None
    ) -> BatchResult:
        start, stop = positions[0], positions[-1] + 1
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
            number,
            start,
            stop,
            outcome,
            # A batch whose token could not be had was never sent: no status of its own.
            status=None if isinstance(failure, TokenError) else getattr(failure, "status", None),
            error=failure,
        )

"""Forwarding what a watcher saw to Michelin LEX Shipment Tracking:
:meth:`Watcher.forward_to_lex <shiptrack_sdk.watch.Watcher.forward_to_lex>`.

Each event the store holds is forwarded once, as one LEX tracking message
(:func:`~shiptrack_sdk.lex.forward.messages_from_tracking`, coded through the partner's
:class:`~shiptrack_sdk.lex.forward.EventCodeTable`), sent through LEX's send journal
(:class:`~shiptrack_sdk.lex.journal.SendJournal`, ``POST
/lex-shipmenttracking-v1/shipment-tracking``). An event's message is built from the tracking
of the change it came in, so it is the same message, with the same fingerprint, whenever it is
built again; its fingerprint is stored beside the event before the message is sent.

Each event's forwarding state, in the store:

* ``new``: not sent, or surely not stored by LEX (refused, or never sent): the next call
  sends it;
* ``pending``: being sent; a call finding one (the process stopped mid-send) reads its
  outcome from the journal: accepted, in doubt, or not sent (then sent now);
* ``accepted``: LEX accepted it; never sent again;
* ``in_doubt``: sent without a verdict (no answer, a 5xx): listed by every call, never sent
  again unless ``resend_in_doubt=True`` (once you know LEX did not store it), or once
  :meth:`SendJournal.resolve <shiptrack_sdk.lex.journal.SendJournal.resolve>` settles it;
* ``skipped``: its code in the table is ``None``: deliberately not forwarded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core import validate
from ..errors import ShiptrackError, ValidationError
from ..lex.forward import EventCodeTable, messages_from_tracking
from ..lex.journal import SendJournal, fingerprint
from ..models import Tracking, TrackingEvent
from .model import event_from_data, tracking_from_data

if TYPE_CHECKING:
    from ..lex.tracking import SendReport
    from ..lex.tracking_models import TrackingMessage
    from .watcher import Watcher

__all__ = ["ForwardReport", "ForwardedEvent", "forward_to_lex", "journal_path"]

#: The states of an event still to forward, or to settle.
_OPEN = ("new", "pending", "in_doubt")


@attrs.frozen
class ForwardedEvent:
    """One event as :func:`forward_to_lex` left it.

    Attributes:
        provider: The shipment's provider.
        shipment_id: The shipment.
        event: The event.
        state: ``"accepted"``, ``"in_doubt"`` or ``"new"`` (refused or not sent: sent again
            by the next call).
        fingerprint: Its message's fingerprint in the send journal.
        error: Why it was not accepted, when it was not.
    """

    provider: str
    shipment_id: str
    event: TrackingEvent
    state: str
    fingerprint: str | None = None
    error: ShiptrackError | None = attrs.field(default=None, eq=False)


@attrs.frozen
class ForwardReport:
    """What :func:`forward_to_lex` did.

    Attributes:
        accepted: The events LEX accepted now (or had accepted before a crash, found in the
            journal).
        in_doubt: Every event in doubt: sent, with no verdict from LEX. Settle them with the
            journal's ``resolve()``, or send them with ``resend_in_doubt=True``.
        failed: Events refused by LEX, or not sent: the next call sends them again.
        skipped: How many events the code table leaves out (their code is ``None``).
        journal: The send journal's file.
        report: What ``lex_client.tracking.send`` returned, when anything was to be sent.
    """

    accepted: tuple[ForwardedEvent, ...] = ()
    in_doubt: tuple[ForwardedEvent, ...] = ()
    failed: tuple[ForwardedEvent, ...] = ()
    skipped: int = 0
    journal: str | None = None
    report: SendReport | None = attrs.field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether every event was accepted (none in doubt, none failed)."""
        return not self.in_doubt and not self.failed


def journal_path(store_path: str) -> str:
    """The send journal kept beside a store: ``watch.sqlite`` → ``watch.lex-journal.sqlite``.

    Raises:
        ValidationError: the store is in memory (it has no file to be beside).
    """
    if store_path == ":memory:":
        raise ValidationError(
            "journal", "a store in memory has no file to keep the journal beside: pass journal="
        )
    root, ext = os.path.splitext(store_path)
    return f"{root}.lex-journal{ext or '.sqlite'}"


@attrs.frozen
class _Open:
    """An event to forward, as read from the store."""

    id: int
    provider: str
    shipment_id: str
    event: TrackingEvent
    tracking: Tracking
    state: str
    fingerprint: str | None


def _open_events(watcher: Watcher, limit: int | None) -> list[_Open]:
    sql = (
        "SELECT e.id, e.provider, e.shipment_id, e.data, e.forward_state, e.fingerprint,"
        " c.tracking FROM events e JOIN changes c ON c.id = e.change_id"
        " WHERE e.forward_state IN (?, ?, ?) ORDER BY e.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [
        _Open(
            row_id,
            provider,
            sid,
            event_from_data(json.loads(data)),
            tracking_from_data(json.loads(tracking)),
            state,
            print_,
        )
        for row_id, provider, sid, data, state, print_, tracking in watcher.store.read(sql, _OPEN)
    ]


def _set_states(watcher: Watcher, updates: Sequence[tuple[str, str | None, int]]) -> None:
    if updates:
        with watcher.store.transaction() as tx:
            tx.executemany(
                "UPDATE events SET forward_state = ?, fingerprint = coalesce(?, fingerprint)"
                " WHERE id = ?",
                updates,
            )


def _relabelled(error: ValidationError, built: Sequence[_Open]) -> ValidationError:
    """The problems of :func:`messages_from_tracking` (``trackings[3].events[0]...``) named
    by their shipment and event instead."""
    problems = []
    for where, problem in error.problems:
        if where.startswith("trackings["):
            index, _, rest = where.removeprefix("trackings[").partition("]")
            rest = rest.removeprefix(".events[0]")
            item = built[int(index)]
            where = (
                f"{item.provider}:{item.shipment_id} event of "
                f"{item.event.occurred_at.isoformat()}{rest}"
            )
        problems.append((where, problem))
    return ValidationError.from_problems(problems)


def forward_to_lex(
    watcher: Watcher,
    lex_client: Any,
    *,
    codes: EventCodeTable | Mapping[Any, Any],
    sender: Any = None,
    journal: SendJournal | str | os.PathLike[str] | None = None,
    carrier: Any = None,
    ship_from: Any = None,
    ship_to: Any = None,
    business_reference: Callable[[Tracking], str] | None = None,
    document_url: Callable[[Tracking, TrackingEvent], str | None] | None = None,
    customize: Callable[..., TrackingMessage] | None = None,
    batch_size: int = 100,
    resend_in_doubt: bool = False,
    limit: int | None = None,
) -> ForwardReport:
    """Send every event the watcher stored and has not forwarded to LEX, each once.

    The messages are built as :func:`~shiptrack_sdk.lex.forward.messages_from_tracking`
    builds them (the options here are its own), one per event, from the tracking of the
    change the event came in; then sent with ``lex_client.tracking.send(messages,
    journal=journal)``.

    Args:
        watcher: The watcher whose events are forwarded.
        lex_client: A :class:`~shiptrack_sdk.lex.LexClient`.
        codes: Status → LEX event code (an :class:`~shiptrack_sdk.lex.forward.EventCodeTable`
            or a mapping it is built from); events coded ``None`` are not forwarded.
        sender: Who sends the messages (a ``Party``, or a callable ``tracking -> Party``).
        journal: The send journal (a :class:`~shiptrack_sdk.lex.journal.SendJournal` or its
            file); by default the file beside the store (:func:`journal_path`).
        carrier: The carrier, or a callable ``tracking -> Carrier``; by default the
            tracking's carrier, tracking number and URL.
        ship_from: The ship-from party, or a callable ``tracking -> Party``.
        ship_to: The ship-to party, or a callable ``tracking -> Party``.
        business_reference: ``tracking -> reference`` (default: the shipment id).
        document_url: ``(tracking, event) -> URL or None``: the proof of delivery that
            delivered events need.
        customize: ``(message, tracking, event) -> message``.
        batch_size: Messages per call (1 to 1,000).
        resend_in_doubt: Send again the events in doubt (only once you know LEX did not
            store them).
        limit: Forward at most this many events (the oldest first).

    Returns:
        What became of the events.

    Raises:
        ValidationError: an argument is refused, or a message could not be built (every
            problem named by its shipment and event); nothing was sent.
        JournalError: the journal cannot be opened or written.
    """
    table = codes if isinstance(codes, EventCodeTable) else EventCodeTable(codes)
    if limit is not None:
        validate.int_in_range("limit", limit, 1, None)
    if not isinstance(resend_in_doubt, bool):
        raise ValidationError("resend_in_doubt", "must be True or False")
    validate.int_in_range("batch_size", batch_size, 1, 1000)
    options: dict[str, Any] = {
        "sender": sender,
        "ship_from": ship_from,
        "ship_to": ship_to,
        "business_reference": business_reference,
        "document_url": document_url,
        "customize": customize,
    }
    if carrier is not None:
        options["carrier"] = carrier
    opened = None
    if isinstance(journal, SendJournal):
        sent_through = journal
    else:
        path = journal_path(watcher.path) if journal is None else os.fspath(journal)
        sent_through = opened = SendJournal(path)
    try:
        return _forward(
            watcher, lex_client, table, options, sent_through, batch_size, resend_in_doubt, limit
        )
    finally:
        if opened is not None:
            opened.close()


def _forward(
    watcher: Watcher,
    lex_client: Any,
    table: EventCodeTable,
    options: dict[str, Any],
    journal: SendJournal,
    batch_size: int,
    resend_in_doubt: bool,
    limit: int | None,
) -> ForwardReport:
    items = _open_events(watcher, limit)
    updates: list[tuple[str, str | None, int]] = []
    accepted: list[ForwardedEvent] = []
    in_doubt: list[ForwardedEvent] = []
    to_build: list[_Open] = []
    resent: list[tuple[_Open, TrackingMessage]] = []
    skipped = 0
    for item in items:
        entry = journal.entry(item.fingerprint) if item.fingerprint else None
        state = entry.state if entry is not None else None
        shown = ForwardedEvent(item.provider, item.shipment_id, item.event, "", item.fingerprint)
        if state == "accepted":
            updates.append(("accepted", None, item.id))
            accepted.append(attrs.evolve(shown, state="accepted"))
        elif state in ("pending", "in_doubt") and not resend_in_doubt:
            updates.append(("in_doubt", None, item.id))
            in_doubt.append(attrs.evolve(shown, state="in_doubt"))
        elif state in ("pending", "in_doubt") and entry is not None:
            message: TrackingMessage = entry.message()  # type: ignore[assignment]
            resent.append((item, message))
        else:
            try:
                unsent = table.lookup(item.event, item.provider) is None
            except KeyError:
                unsent = False  # unmapped: messages_from_tracking names it below
            if unsent:
                skipped += 1
                updates.append(("skipped", None, item.id))
            else:
                to_build.append(item)
    messages: list[TrackingMessage] = []
    if to_build:
        try:
            messages = messages_from_tracking(
                [attrs.evolve(i.tracking, events=(i.event,)) for i in to_build],
                codes=table,
                **options,
            )
        except ValidationError as exc:
            raise _relabelled(exc, to_build) from None
    sending = [*resent, *zip(to_build, messages, strict=True)]
    prints = [fingerprint(message) for _, message in sending]
    # Known before the first batch leaves: a crash mid-send finds the outcome in the journal.
    updates += [("pending", p, item.id) for (item, _), p in zip(sending, prints, strict=True)]
    _set_states(watcher, updates)
    if not sending:
        return ForwardReport(tuple(accepted), tuple(in_doubt), (), skipped, journal.path)
    report = lex_client.tracking.send(
        [message for _, message in sending],
        batch_size=batch_size,
        journal=journal,
        resend_in_doubt=resend_in_doubt,
    )
    outcomes: dict[int, tuple[str, ShiptrackError | None]] = {}
    for result in report.accepted:
        outcomes[result.index] = ("accepted", None)
    for result in report.in_doubt:
        outcomes[result.index] = ("in_doubt", result.error)
    for result in (*report.failed, *report.not_sent):
        outcomes[result.index] = ("new", result.error)
    failed: list[ForwardedEvent] = []
    final = []
    for index, ((item, _), print_) in enumerate(zip(sending, prints, strict=True)):
        state, error = outcomes.get(index, ("new", None))
        final.append((state, print_, item.id))
        shown = ForwardedEvent(item.provider, item.shipment_id, item.event, state, print_, error)
        {"accepted": accepted, "in_doubt": in_doubt}.get(state, failed).append(shown)
    _set_states(watcher, final)
    return ForwardReport(
        tuple(accepted), tuple(in_doubt), tuple(failed), skipped, journal.path, report
    )

"""A durable record of what was sent to LEX: :class:`SendJournal`.

``client.tracking.send(messages, journal=journal)`` and ``client.orders.send(message,
journal=journal)`` write each batch (for Order Execution, each message) to the journal as
**pending** before its ``POST`` leaves — committed, and on disk (SQLite in write-ahead-log
mode, ``synchronous=FULL``) — and its outcome once answered: **accepted**, **failed** (refused,
or never sent: nothing stored) or **in doubt** (no answer, or a 5xx). A batch still pending
when the journal is read again is in doubt: the process stopped between the two records (or,
when another process shares the file, is sending it right now).

So after a crash the journal knows, for every message it was given:

* accepted: stored by Michelin, once; a send through the journal skips it;
* failed, or never given to the journal: surely not stored; a send through the journal sends it;
* in doubt (:meth:`SendJournal.in_doubt`): perhaps stored; a send through the journal skips it
  unless told ``resend_in_doubt=True``, and :meth:`SendJournal.resolve` settles it once you
  have checked with Michelin.

**The fingerprint.** A message is known by its :func:`fingerprint`: the SHA-256, in hex, of
its wire form (the JSON object sent) written canonically — keys sorted, no whitespace
(``separators=(",", ":")``), UTF-8 without ASCII escapes. The same message built again, in any
process, has the same fingerprint; a message that differs in anything sent is another message.
A tracking message is identified by its fingerprint. An Order Execution message is identified
by its ``messageId``, as LEX identifies it: a message whose id was accepted is not sent again,
even with other content (send a change as a new message, with a new id).

**Processes and threads.** The journal is one SQLite file (beside which SQLite keeps its
``-wal`` and ``-shm`` files while it is open). Threads may share one :class:`SendJournal`. It is
meant for one sending process at a time; should two processes on one host share the file, each
batch is still claimed in one write transaction, so a message is sent by one of them only —
the other finds it pending, in doubt, and skips it. Not for network file systems, where
SQLite's locks do not hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from .._core.convert import converter
from .._core.resource import Answer
from ..errors import ShiptrackError, ValidationError
from ._journal_store import Item, JournalError, Kind, Store, canonical, item, skip
from .order_models import BusinessMessage, read_message
from .tracking_models import TrackingMessage

__all__ = [
    "JournalEntry",
    "JournalError",
    "JournalSummary",
    "MessageInDoubtError",
    "SendJournal",
    "fingerprint",
]

logger = logging.getLogger("shiptrack_sdk")

#: A message as the journal's lookups take it: a model, or a mapping in LEX's JSON.
MessageLike = TrackingMessage | BusinessMessage | Mapping[str, Any]


def _wire(message: Any) -> Any:
    if isinstance(message, TrackingMessage):
        return converter.unstructure(message)
    if isinstance(message, BusinessMessage):
        return message.to_wire()
    if isinstance(message, Mapping):
        # Through JSON, as orders.send sends a mapping: what is hashed is what is sent.
        return json.loads(json.dumps(message, allow_nan=False))
    raise ValidationError(
        "message",
        "expected a TrackingMessage, a BusinessMessage or a mapping in LEX's JSON, got "
        f"{type(message).__name__}",
    )


def fingerprint(message: MessageLike) -> str:
    """The fingerprint a journal knows ``message`` by: the SHA-256 (hex) of the canonical JSON
    of its wire form (keys sorted, compact, UTF-8).

    Args:
        message: A tracking message, a business message, or a mapping in LEX's JSON.

    Raises:
        ValidationError: ``message`` is none of those, or not JSON data.
    """
    try:
        text = canonical(_wire(message))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    except ValidationError:
        raise
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise ValidationError("message", f"is not JSON data ({type(exc).__name__})") from None


@attrs.frozen
class JournalEntry:
    """A journal's record of one message.

    Attributes:
        fingerprint: Its :func:`fingerprint`.
        kind: ``"tracking"`` or ``"orders"``.
        state: ``"pending"`` (sent or about to be, no outcome recorded: in doubt),
            ``"in_doubt"``, ``"accepted"`` or ``"failed"``.
        wire: The message as sent, LEX's JSON.
        message_id: Its ``messageId`` (Order Execution), else ``None``.
        batch: The journal's id of the batch of its latest attempt.
        position: Its place in that batch (0-based).
        attempts: How many times it was sent.
        error: The error of its latest attempt, as text without secrets, if it had one.
        updated: When its record last changed (UTC).
    """

    fingerprint: str
    kind: str
    state: str
    wire: Mapping[str, Any] = attrs.field(repr=False)
    message_id: str | None
    batch: int
    position: int
    attempts: int
    error: str | None
    updated: datetime

    def message(self) -> TrackingMessage | BusinessMessage:
        """The message rebuilt from :attr:`wire`, with the same fingerprint, ready to be sent
        again: a :class:`~shiptrack_sdk.lex.tracking_models.TrackingMessage` or a
        :class:`~shiptrack_sdk.lex.order_models.BusinessMessage`."""
        if self.kind == "orders":
            return read_message(self.wire)
        try:
            message: TrackingMessage = converter.structure(self.wire, TrackingMessage)
        except Exception as exc:  # a record this version cannot read back
            raise JournalError(f"journal entry {self.fingerprint} cannot be read: {exc}") from None
        return message

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON data (what ``shiptrack lex journal --json`` prints)."""
        data = attrs.asdict(self)
        data["updated"] = self.updated.isoformat()
        return data


@attrs.frozen
class JournalSummary:
    """What a journal holds (:meth:`SendJournal.summary`).

    Attributes:
        path: The journal's file.
        accepted: Messages accepted.
        failed: Messages surely not stored (refused, or never sent): a send resends them.
        in_doubt: Messages in doubt, pending ones included.
        pending: Of those, the ones whose batch has no outcome recorded (interrupted, or
            being sent right now).
        batches: Batches by state: ``{"accepted": 12, "failed": 0, "in_doubt": 1,
            "pending": 0}``.
    """

    path: str
    accepted: int
    failed: int
    in_doubt: int
    pending: int
    batches: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON data."""
        return {**attrs.asdict(self), "batches": dict(self.batches)}


def _entry(row: Sequence[Any]) -> JournalEntry:
    print_, kind, state, wire, message_id, batch, position, attempts, error, updated = row
    return JournalEntry(
        fingerprint=print_,
        kind=kind,
        state=state,
        wire=json.loads(wire),
        message_id=message_id,
        batch=batch,
        position=position,
        attempts=attempts,
        error=error,
        updated=datetime.fromisoformat(updated),
    )


class MessageInDoubtError(ShiptrackError):
    """``orders.send(message, journal=...)`` did not send ``message``: the journal has it in
    doubt (an earlier send got no answer, or a 5xx). Check with Michelin, then settle it with
    :meth:`SendJournal.resolve`, or send it with ``resend_in_doubt=True``.

    Attributes:
        entry: The journal's record of the message.
    """

    def __init__(self, entry: JournalEntry) -> None:
        self.entry = entry
        super().__init__(
            f"message {entry.message_id or entry.fingerprint!r} is in doubt in the send journal "
            f"(batch {entry.batch}, {entry.state}): not sent again; resolve it or send it with "
            "resend_in_doubt=True"
        )


@attrs.frozen
class _Plan:
    """Which messages of one tracking send go out: ``send`` (indexes, in order), ``skipped``
    (index -> ``"accepted"`` or ``"in_doubt"``, as the journal has them) and ``copies`` (index
    -> the index of the same message earlier in the list)."""

    items: tuple[Item, ...]
    send: tuple[int, ...]
    skipped: dict[int, str]
    copies: dict[int, int]


class SendJournal:
    """A durable journal of LEX sends, in one SQLite file (created if missing).

    Pass it to ``client.tracking.send(..., journal=journal)`` or ``client.orders.send(...,
    journal=journal)``; read it with :meth:`in_doubt`, :meth:`accepted`, :meth:`entry` and
    :meth:`summary`; settle in-doubt messages with :meth:`resolve`. Use it as a context
    manager, or :meth:`close` it.

    Args:
        path: The journal's file.
        create: Create the file when missing (default); with ``False`` a missing file raises.
        timeout: Seconds to wait for another process or thread holding the file's write lock.

    Raises:
        JournalError: the file cannot be opened, is not a send journal, or was written by a
            newer version of the SDK.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, timeout: float = 30.0
    ) -> None:
        self.path = os.fspath(path)
        if not self.path or self.path == ":memory:" or self.path.startswith("file:"):
            raise ValidationError("path", "must be the path of a file")
        self._store = Store(self.path, create=create, timeout=timeout)
        summary = self.summary()
        if summary.in_doubt:
            logger.warning(
                "lex: send journal %s holds %d message(s) in doubt (%d pending: interrupted, or "
                "being sent); see in_doubt()",
                self.path,
                summary.in_doubt,
                summary.pending,
            )

    def __repr__(self) -> str:
        return f"<SendJournal {self.path}{' (closed)' if self._store.closed else ''}>"

    def __enter__(self) -> SendJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (again: nothing happens). Everything recorded is already on disk."""
        self._store.close()

    # -- reading ------------------------------------------------------------------------------

    def in_doubt(self) -> list[JournalEntry]:
        """Every message in doubt, in the order sent: those of batches answered without a
        verdict (no answer, a 5xx) and of batches still pending (the process stopped between
        the two records). Each entry's :meth:`JournalEntry.message` rebuilds the message, to
        send again with ``resend_in_doubt=True`` once you know it was not stored; or settle
        them with :meth:`resolve`."""
        rows = self._store.entries(
            "m.state IN ('pending', 'in_doubt')", order="ORDER BY m.batch_id, m.position"
        )
        return [_entry(row) for row in rows]

    def entry(self, message: str | MessageLike) -> JournalEntry | None:
        """The record of a message (or of a fingerprint), or ``None`` when the journal never
        had it. An Order Execution message is looked up by its id."""
        if isinstance(message, str):
            rows = self._store.entries("m.fingerprint = ?", [message])
        elif isinstance(message, TrackingMessage):
            rows = self._store.entries("m.kind = 'tracking' AND m.key = ?", [fingerprint(message)])
        else:
            wire = _wire(message)
            identity = wire.get("messageId") if isinstance(wire, Mapping) else None
            if isinstance(identity, str):
                rows = self._store.entries("m.kind = 'orders' AND m.key = ?", [identity])
            else:
                rows = self._store.entries("m.fingerprint = ?", [fingerprint(message)])
        return _entry(rows[0]) if rows else None

    def accepted(self, message: str | MessageLike) -> bool:
        """Whether a message (or a fingerprint) was accepted through this journal: a send
        through it will not send that message again."""
        found = self.entry(message)
        return found is not None and found.state == "accepted"

    def summary(self) -> JournalSummary:
        """How many messages are accepted, failed and in doubt; batches by state."""
        messages, batches = self._store.counts()
        return JournalSummary(
            path=self.path,
            accepted=messages.get("accepted", 0),
            failed=messages.get("failed", 0),
            in_doubt=messages.get("in_doubt", 0) + messages.get("pending", 0),
            pending=messages.get("pending", 0),
            batches={s: batches.get(s, 0) for s in ("accepted", "failed", "in_doubt", "pending")},
        )

    # -- settling -----------------------------------------------------------------------------

    def resolve(
        self, messages: str | JournalEntry | Iterable[str | JournalEntry], *, accepted: bool
    ) -> int:
        """Settle in-doubt messages once you know what Michelin stored.

        Args:
            messages: Fingerprints or :class:`JournalEntry` objects (one, or an iterable).
            accepted: ``True``: they were stored, and are never sent again through the
                journal. ``False``: they were not, and the next send through the journal
                sends them.

        Returns:
            How many messages were settled; those not in doubt are left as they are.
        """
        if not isinstance(accepted, bool):
            raise ValidationError("accepted", "must be True or False")
        if isinstance(messages, (str, JournalEntry)):
            messages = [messages]
        prints = []
        for value in messages:
            found = value.fingerprint if isinstance(value, JournalEntry) else value
            if not isinstance(found, str):
                raise ValidationError("messages", "must be fingerprints or journal entries")
            prints.append(found)
        return self._store.resolve(prints, "accepted" if accepted else "failed")

    # -- what the resources use ---------------------------------------------------------------

    def _plan(self, kind: Kind, wires: Sequence[Any], *, resend_in_doubt: bool) -> _Plan:
        """What of ``wires`` to send, as the journal has them before the first batch."""
        items = tuple(item(kind, wire) for wire in wires)
        states = self._store.states(kind, [i.key for i in items])
        first: dict[str, int] = {}
        send: list[int] = []
        skipped: dict[int, str] = {}
        copies: dict[int, int] = {}
        for index, entry in enumerate(items):
            if entry.key in first:
                copies[index] = first[entry.key]
                continue
            first[entry.key] = index
            reason = skip(states.get(entry.key), resend_in_doubt)
            if reason is None:
                send.append(index)
            else:
                skipped[index] = reason
        return _Plan(items, tuple(send), skipped, copies)

    def _claim(
        self, kind: Kind, plan: _Plan, indexes: Sequence[int], *, resend_in_doubt: bool
    ) -> tuple[int | None, tuple[int, ...], dict[int, str]]:
        """Record the batch of ``indexes`` pending, durably, before it is sent (see
        :meth:`Store.claim <shiptrack_sdk.lex._journal_store.Store.claim>`)."""
        batch = [(i, plan.items[i]) for i in indexes]
        return self._store.claim(kind, batch, resend_in_doubt=resend_in_doubt)

    def _finish(self, batch_id: int, outcome: str, **details: Any) -> None:
        """Record a batch's outcome (``"accepted"``, ``"failed"`` or ``"in_doubt"``), with
        the details :meth:`Store.finish <shiptrack_sdk.lex._journal_store.Store.finish>`
        takes."""
        self._store.finish(batch_id, outcome, **details)

    def _send_one(
        self,
        kind: Kind,
        wire: Any,
        post: Callable[[], Answer],
        classify: Callable[[ShiptrackError], str],
        *,
        resend_in_doubt: bool,
    ) -> Answer:
        """Send one message through the journal: ``post()`` once it is recorded pending, its
        outcome (``classify`` of a failure) after. One already accepted is not sent: the
        answer it got then is returned. One in doubt raises :class:`MessageInDoubtError`."""
        entry = item(kind, wire)
        batch_id, _, left = self._store.claim(kind, [(0, entry)], resend_in_doubt=resend_in_doubt)
        if batch_id is None:
            rows = self._store.entries("m.kind = ? AND m.key = ?", [kind, entry.key])
            record = _entry(rows[0])
            if left[0] != "accepted":
                raise MessageInDoubtError(record)
            logger.info(
                "lex: message %s was accepted through the send journal (batch %d): not sent again",
                entry.message_id or entry.fingerprint,
                record.batch,
            )
            status, kept = self._store.answer(kind, entry.key)
            kept = kept if isinstance(kept, Mapping) else {}  # none kept: settled by resolve()
            status = status if isinstance(status, int) and 200 <= status < 300 else 200
            return Answer(status, kept.get("body"), unread=kept.get("unread"))
        try:
            answer = post()
        except ValidationError as exc:  # refused before anything was sent
            self._finish(batch_id, "failed", error=exc)
            raise
        except ShiptrackError as exc:
            self._finish(batch_id, classify(exc), status=getattr(exc, "status", None), error=exc)
            raise
        except BaseException as exc:  # interrupted: the POST may have left
            with contextlib.suppress(Exception):
                self._finish(batch_id, "in_doubt", error=f"interrupted ({type(exc).__name__})")
            raise
        kept = {"body": answer.body, "unread": answer.unread}
        self._finish(batch_id, "accepted", status=answer.status, answer=kept)
        return answer

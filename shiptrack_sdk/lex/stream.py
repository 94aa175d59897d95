"""The polling loop of LEX Order Execution: :class:`MessageStream`, which
:meth:`OrdersResource.iter_messages <shiptrack_sdk.lex.orders.OrdersResource.iter_messages>`
returns.

LEX pages only by timestamp (``minTimestamp``), so the loop keeps a cursor
(:class:`~shiptrack_sdk.lex.checkpoint.Cursor`): the newest timestamp consumed and the ids
consumed at it. Only a timestamp within [floor, horizon] moves it; a message dated outside,
or without a readable timestamp, is delivered all the same, once per run, and recognised
across runs by its key (:func:`~shiptrack_sdk.lex.order_models.message_key`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import attrs

from .._core import validate
from .._core.progress import Progress, ProgressLike
from ..errors import ValidationError
from .checkpoint import Checkpoint, CheckpointError, Cursor
from .order_models import BusinessMessage, message_key

__all__ = [
    "DEFAULT_FLOOR",
    "DEFAULT_HORIZON",
    "MAX_FETCH_SIZE",
    "MAX_UNPLACED_IDS",
    "MessageStream",
    "StreamNotice",
]

logger = logging.getLogger("shiptrack_sdk")

#: The largest ``fetchSize`` LEX accepts.
MAX_FETCH_SIZE = 100
#: The earliest timestamp that moves the cursor unless ``floor=`` says otherwise.
DEFAULT_FLOOR = datetime(2000, 1, 1, tzinfo=timezone.utc)
#: How far past the current time a timestamp still moves the cursor unless ``horizon=`` says
#: otherwise.
DEFAULT_HORIZON = timedelta(days=1)
#: How many keys of messages the cursor could not place a checkpoint keeps.
MAX_UNPLACED_IDS = 1000

#: One page: ``(fetch_size, min_timestamp) -> messages``.
Fetch = Callable[[int, "datetime | None"], "list[BusinessMessage]"]
NoticeKind = Literal["crowded", "undated", "before_floor", "past_horizon"]

# How far a cursor jumps past a timestamp it cannot page through.
_SKIP_STEP = timedelta(microseconds=1)
# How far below the cursor's timestamp a page is asked from: whether LEX's bound includes
# minTimestamp is not documented, and one that excludes it would otherwise skip the messages
# at that timestamp a full page could not hold. Those already delivered are dropped by id.
_OVERLAP = timedelta(microseconds=1)
# When the server answers a full page with nothing after the bound (it rounds the bound
# down), the bound moves to the next whole millisecond, then second; after that the server is
# taken not to honour minTimestamp at all.
_ESCALATION_STEP = timedelta(milliseconds=1)
_MAX_ESCALATIONS = 2
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
_LATEST = datetime.max.replace(tzinfo=timezone.utc)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# A day of room at both ends of datetime's range: no step of the loop can overflow.
_LOWEST_FLOOR = _EARLIEST + timedelta(days=1)
_HIGHEST_HORIZON = _LATEST - timedelta(days=1)


@attrs.frozen
class StreamNotice:
    """Something a :class:`MessageStream` could not do the usual way
    (:attr:`MessageStream.notices`).

    Attributes:
        kind: ``"crowded"``: at least 100 messages share ``timestamp``, and LEX's paging cannot
            return those beyond the hundredth at that instant: they may be missed (only
            Michelin can resend them); the stream went on after it. The other kinds name a
            message that *was* delivered but could not move the cursor: ``"undated"`` (its
            timestamp is null or unreadable), ``"before_floor"``, ``"past_horizon"``.
        timestamp: The crowded instant, or the message's timestamp (``None`` when undated).
        key: The message's key (:func:`~shiptrack_sdk.lex.order_models.message_key`: its id,
            or a digest of its content when it has none); ``None`` for ``"crowded"``.
    """

    kind: NoticeKind
    timestamp: datetime | None
    key: str | None = None


def check_floor(value: Any) -> datetime:
    """``floor=`` checked: an aware datetime, in UTC, with a day of room below it."""
    floor = validate.aware_utc("floor", value)
    if floor < _LOWEST_FLOOR:
        raise ValidationError("floor", "must be 0001-01-02 or later")
    return floor


def check_horizon(value: Any, floor: datetime) -> datetime | timedelta:
    """``horizon=`` checked: a timedelta (after the current time) or an aware datetime, after
    ``floor`` and with a day of room above it."""
    horizon: datetime | timedelta
    if isinstance(value, timedelta):
        validate.seconds("horizon", value.total_seconds(), zero=True)
        horizon = value
    elif isinstance(value, datetime):
        horizon = validate.aware_utc("horizon", value)
    else:
        raise ValidationError(
            "horizon",
            f"expected a timedelta (after now) or an aware datetime, got {type(value).__name__}",
        )
    limit = horizon_at(horizon)
    if limit > _HIGHEST_HORIZON:
        raise ValidationError("horizon", "must be 9999-12-30 or earlier")
    if limit <= floor:
        raise ValidationError("horizon", f"must be after the floor ({floor.isoformat()})")
    return horizon


def horizon_at(horizon: datetime | timedelta) -> datetime:
    """The latest timestamp that moves the cursor, now."""
    if isinstance(horizon, datetime):
        return horizon
    return _shift(datetime.now(timezone.utc), horizon)


def starting_cursor(
    saved: Cursor | None, since: datetime | None, floor: datetime, limit: datetime
) -> Cursor:
    """Where a loop starts: the saved cursor, or ``since`` (raised to the floor).

    Raises:
        CheckpointError: the saved cursor is past the horizon (``limit``).
    """
    if saved is None:
        return Cursor(None if since is None else max(since, floor))
    stamp = saved.timestamp
    if stamp is not None and stamp > limit:
        # Resuming there would skip every message until then; where the loop really stood is
        # lost, so it is not guessed.
        raise CheckpointError(
            f"the saved cursor ({stamp.isoformat()}) is past the horizon ({limit.isoformat()}): "
            "a message dated in the future moved it there, and resuming would skip every "
            "message until then. Save a cursor you trust (checkpoint.save(Cursor(...))), "
            "clear the checkpoint, or pass a later horizon="
        )
    if stamp is not None and stamp < floor:
        # Nothing at or after the floor was consumed: starting there loses nothing.
        logger.warning(
            "lex: the saved cursor (%s) is before the floor (%s); resuming from the floor",
            stamp.isoformat(),
            floor.isoformat(),
        )
        return Cursor(floor, unplaced_ids=saved.unplaced_ids)
    return saved


def _shift(value: datetime, step: timedelta) -> datetime:
    try:
        return value + step
    except OverflowError:
        return _LATEST if step > timedelta(0) else _EARLIEST


def _next_boundary(value: datetime, step: timedelta) -> datetime:
    """The first multiple of ``step`` (since the epoch) after ``value``."""
    since_epoch = value - _EPOCH
    try:
        return _EPOCH + (since_epoch // step + 1) * step
    except OverflowError:
        return _LATEST


def _sort_key(current: datetime | None) -> Callable[[BusinessMessage], datetime]:
    default = current if current is not None else _EARLIEST

    def key(message: BusinessMessage) -> datetime:
        return message.timestamp if message.timestamp is not None else default

    return key


class MessageStream(Iterator[BusinessMessage]):
    """The iterator :meth:`OrdersResource.iter_messages
    <shiptrack_sdk.lex.orders.OrdersResource.iter_messages>` returns.

    Iterate it (``for message in stream``); it fetches a page when the previous one is
    consumed and ends when LEX has nothing newer.

    **Timestamps it cannot trust.** Only a timestamp from :attr:`floor` to :attr:`horizon`
    moves the cursor. A message dated outside, or whose timestamp is null or unreadable, is
    delivered all the same (it is data), once per run, logged at WARNING and recorded in
    :attr:`notices`; it never moves the cursor, so one bad timestamp neither stops the drain
    (2099) nor wedges it (year 1). Such messages are recognised by their key
    (:func:`~shiptrack_sdk.lex.order_models.message_key`: the id, or a digest of the content
    when there is none): within a run every key is kept, and the cursor keeps the last
    :data:`MAX_UNPLACED_IDS`, so a later run drops one served again. Past the horizon, the
    stream still pages on (so that a page of them does not hide the next), in memory only.

    **Messages sharing one timestamp**: LEX pages only by timestamp, so when more of them than
    ``fetch_size`` share one, the stream asks again with ``fetchSize=100``; when 100 or more
    share one, a bound below that timestamp can never reach past the first hundred: the stream
    logs a warning, records a ``"crowded"`` notice (messages after the hundredth at that
    timestamp may be missed: LEX's paging cannot return them) and asks from the timestamp
    itself, then, if LEX's bound includes it (the same page comes back), from one microsecond
    after it, so nothing after the timestamp is missed either way. The cursor (and so the
    checkpoint) keeps which of these bounds is next, so a loop resumed there does not fall
    back on that timestamp. If LEX answers a full page with nothing after the bound (it rounds
    the bound down), the bound moves to the next whole millisecond after the newest timestamp
    answered, then the next whole second; if even that does not help, or a full page of
    messages without a usable timestamp comes back whatever the bound,
    :class:`~shiptrack_sdk.errors.ResponseError` is raised rather than loop forever.

    Attributes:
        pages: Pages fetched so far.
        delivered: Messages handed to the caller so far.
        notices: What the stream could not do the usual way (:class:`StreamNotice`), in
            order; normally empty.
        floor: The earliest timestamp that moves the cursor.
    """

    def __init__(
        self,
        fetch: Fetch,
        cursor: Cursor,
        *,
        checkpoint: Checkpoint | None,
        fetch_size: int,
        progress: ProgressLike,
        error: Callable[[str], Exception],
        floor: datetime = DEFAULT_FLOOR,
        horizon: datetime | timedelta = DEFAULT_HORIZON,
    ) -> None:
        self._fetch = fetch
        self._checkpoint = checkpoint
        self._fetch_size = fetch_size
        self._progress = progress
        self._error = error
        self.floor = floor
        self._horizon = horizon
        self._limit = horizon_at(horizon)
        # The scan: where the next page is asked from. It follows every timestamp from the
        # floor on, past the horizon too; the cursor is the scan while it is within bounds.
        self._timestamp = cursor.timestamp
        self._seen: set[str] = set(cursor.seen_ids)
        # Where the next bound sits relative to the scan's timestamp (Cursor.bound).
        self._bound = cursor.bound
        # The cursor as it stood when the scan last left [floor, horizon].
        self._placed: tuple[datetime | None, frozenset[str], str] = (
            cursor.timestamp,
            cursor.seen_ids,
            cursor.bound,
        )
        # Keys of the messages delivered without moving the cursor, oldest first.
        self._unplaced: dict[str, None] = dict.fromkeys(cursor.unplaced_ids)
        self._saved = cursor
        self.pages = 0
        self.delivered = 0
        self.notices: list[StreamNotice] = []
        self._generator = self._run()

    def __repr__(self) -> str:
        return f"<MessageStream at {self.cursor.timestamp} delivered={self.delivered}>"

    def __iter__(self) -> MessageStream:
        return self

    def __next__(self) -> BusinessMessage:
        return next(self._generator)

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop: no further request; the checkpoint keeps the last consumed page."""
        self._generator.close()

    @property
    def horizon(self) -> datetime:
        """The latest timestamp that moves the cursor (for a ``timedelta`` horizon, as of the
        last page asked for)."""
        return self._limit

    @property
    def gaps(self) -> list[datetime]:
        """The instants of the ``"crowded"`` notices: where messages may have been missed."""
        return [n.timestamp for n in self.notices if n.kind == "crowded" and n.timestamp]

    @property
    def cursor(self) -> Cursor:
        """Where the stream is: through the last message it handed out, within [floor,
        horizon]."""
        if self._placeable(self._timestamp):
            placed = (self._timestamp, frozenset(self._seen), self._bound)
        else:
            placed = self._placed
        kept = list(itertools.islice(reversed(self._unplaced), MAX_UNPLACED_IDS))
        return Cursor(*placed, unplaced_ids=kept[::-1])

    def commit(self) -> Cursor:
        """Save the cursor through the last message handed out, mid-page.

        Call it after leaving the loop early (``break``) once every message received is
        processed; without it, the next loop starts again at the page in progress.
        """
        cursor = self.cursor
        self._save(cursor)
        return cursor

    def _save(self, cursor: Cursor) -> None:
        if self._checkpoint is not None and cursor != self._saved:
            self._checkpoint.save(cursor)
        self._saved = cursor

    def _placeable(self, stamp: datetime | None) -> bool:
        return stamp is None or self.floor <= stamp <= self._limit

    def _run(self) -> Generator[BusinessMessage, None, None]:
        reporter = Progress(self._progress, None, description="LEX messages")
        try:
            yield from self._pages(reporter)
        finally:
            reporter.close()

    def _pages(self, reporter: Progress) -> Generator[BusinessMessage, None, None]:
        size = self._fetch_size
        escalation = 0
        while True:
            # A clock stepped back never lowers the horizon under the cursor.
            self._limit = max(self._limit, horizon_at(self._horizon))
            before = self._timestamp
            requested = self._next_bound()
            page = self._fetch(size, requested)
            self.pages += 1
            # Sorted by timestamp (stable: LEX's order within one timestamp is kept), so the
            # cursor moves forward only and can be saved after any message.
            page.sort(key=_sort_key(before))
            keys = [message_key(message) for message in page]
            fresh: set[str] = set()  # keys first delivered, unplaced, in this page
            delivered = 0
            older = 0
            for message, key in zip(page, keys, strict=True):
                stamp = message.timestamp
                if stamp is None or stamp < self.floor:
                    if self._known(key):
                        continue
                    self._unplace(key, stamp)
                    fresh.add(key)
                else:
                    current = self._timestamp
                    if current is not None and stamp < current:
                        older += 1
                        continue
                    if stamp == current:
                        if key in self._seen:
                            continue
                        self._seen.add(key)
                    else:
                        self._move(stamp, {key}, "below")
                    if stamp > self._limit:
                        if self._known(key):
                            continue
                        self._unplace(key, stamp)
                    elif key in self._unplaced:
                        # Delivered before, when it could not move the cursor; now it does.
                        del self._unplaced[key]
                        continue
                delivered += 1
                self.delivered += 1
                yield message
            # The caller asked for the next message: this page is consumed.
            if delivered:
                reporter.advance(delivered)
            if older:
                logger.debug("lex: %d message(s) older than the bound were dropped", older)
            if len(page) < size:
                self._save(self.cursor)
                return
            size, escalation = self._after_full_page(
                page, keys, fresh, before, requested, size, escalation
            )
            self._save(self.cursor)

    def _known(self, key: str) -> bool:
        """Whether ``key`` was delivered unplaced already; if so, it is kept the longest."""
        if key not in self._unplaced:
            return False
        del self._unplaced[key]
        self._unplaced[key] = None
        return True

    def _unplace(self, key: str, stamp: datetime | None) -> None:
        self._unplaced[key] = None
        if stamp is None:
            kind: NoticeKind = "undated"
            why = "has no readable timestamp"
        elif stamp < self.floor:
            kind = "before_floor"
            why = f"is dated {stamp.isoformat()}, before the floor ({self.floor.isoformat()})"
        else:
            kind = "past_horizon"
            why = f"is dated {stamp.isoformat()}, past the horizon ({self._limit.isoformat()})"
        self.notices.append(StreamNotice(kind, stamp, key))
        logger.warning("lex: message %r %s: delivered; the cursor does not move", key, why)

    def _move(self, stamp: datetime, seen: set[str], bound: str) -> None:
        """The scan to ``stamp``; the cursor stays where it was if ``stamp`` is past the
        horizon."""
        if stamp > self._limit and self._placeable(self._timestamp):
            self._placed = (self._timestamp, frozenset(self._seen), self._bound)
        self._timestamp, self._seen, self._bound = stamp, seen, bound

    def _next_bound(self) -> datetime | None:
        current = self._timestamp
        if current is None:
            return None
        if self._bound == "at":
            return current
        if self._bound == "after":
            return _shift(current, _SKIP_STEP)
        return _shift(current, -_OVERLAP)

    def _after_full_page(
        self,
        page: list[BusinessMessage],
        keys: list[str],
        fresh: set[str],
        before: datetime | None,
        requested: datetime | None,
        size: int,
        escalation: int,
    ) -> tuple[int, int]:
        """The next page's size and the escalation count, after a full page; moves the bound
        past a timestamp that paging cannot get through."""
        current = self._timestamp
        stamps = [message.timestamp for message in page]
        # Whether the next bound would bring this very page back. A dated message says; an
        # undated one is known to come back only once it has (delivered before this page).
        following = self._next_bound()
        saturated = following is None or all(
            key not in fresh if stamp is None else stamp >= following
            for stamp, key in zip(stamps, keys, strict=True)
        )
        if saturated:
            if size < MAX_FETCH_SIZE:
                logger.debug(
                    "lex: more than %d messages at %s; asking for %d", size, current, MAX_FETCH_SIZE
                )
                return MAX_FETCH_SIZE, escalation
            if current is None or all(stamp is None for stamp in stamps):
                raise self._error(
                    f"{len(page)} messages without a timestamp the cursor can use (null, "
                    "unreadable, or before the floor) fill the page whatever minTimestamp is: "
                    "the stream cannot page past them (start from since=)"
                )
            if self._bound == "below":
                # A full page at one timestamp: no bound below it reaches further. Ask from
                # the timestamp itself: a server whose bound excludes minTimestamp answers
                # what comes after it.
                logger.warning(
                    "lex: at least %d messages share the timestamp %s; minTimestamp cannot "
                    "page past them, so the stream continues after it (messages beyond the "
                    "first %d at that instant may be missed)",
                    MAX_FETCH_SIZE,
                    current.isoformat(),
                    MAX_FETCH_SIZE,
                )
                self.notices.append(StreamNotice("crowded", current))
                self._bound = "at"
                return size, escalation
            if self._bound == "at":
                # The bound includes minTimestamp: the same page came back. Ask from one
                # microsecond after it.
                if current not in self.gaps[-1:]:
                    self.notices.append(StreamNotice("crowded", current))
                self._bound = "after"
                return size, escalation
        if current == before:
            below = requested is not None and any(
                stamp is not None and stamp < requested for stamp in stamps
            )
            if not below and fresh:
                # Only messages the cursor cannot place kept it from moving, and they were
                # new: the server honours the bound. Ask again, as much as LEX allows.
                return MAX_FETCH_SIZE, escalation
            # A full page and not one message past the bound: the server does not seem to
            # honour the bound's precision. Jump further each time, then give up loudly.
            if escalation >= _MAX_ESCALATIONS or current is None:
                raise self._error(
                    "the server answers the same messages whatever minTimestamp is: "
                    "it does not honour the bound"
                )
            # The server rounds the bound down: move it to the next whole millisecond (then
            # second) after the newest timestamp answered, which rounding keeps.
            step = _ESCALATION_STEP * (1000**escalation)
            newest = max((stamp for stamp in stamps if stamp is not None), default=current)
            target = _next_boundary(newest, step)
            if target <= current:
                target = _next_boundary(current, step)
            if target <= current:  # the end of time: nowhere further to go
                raise self._error("the server answers the same messages whatever minTimestamp is")
            logger.warning(
                "lex: a full page with nothing after %s (the server seems to round "
                "minTimestamp); asking from %s",
                current.isoformat(),
                target.isoformat(),
            )
            # Nothing was consumed at the target: ask from it exactly.
            self._move(target, set(), "at")
            return size, escalation + 1
        return self._fetch_size, 0

"""LEX Order Execution: poll and post business messages (``client.orders``).

* ``GET /lex-orderexecution-v1/business-messages?fetchSize=&minTimestamp=``: up to 100
  messages from a timestamp on (:meth:`OrdersResource.fetch`), or every message from a
  timestamp on, page after page, resumable (:meth:`OrdersResource.iter_messages`).
* ``POST /lex-orderexecution-v1/business-messages``: one message per call
  (:meth:`OrdersResource.send`).

Michelin does not publish the path; the SDK's default is overridable (``path=``, or the
``SHIPTRACK_LEX_ORDERS_PATH`` environment variable). Messages LEX pushes to the partner are
received with :mod:`shiptrack_sdk.lex.push`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .._core import validate
from .._core.answers import Exchange
from .._core.client import env_setting
from .._core.convert import STRUCTURE_ERRORS, converter, parse_datetime
from .._core.options import Timeout, TimeoutLike
from .._core.progress import Progress, ProgressLike
from .._core.resource import Endpoint, Resource
from .._core.spec import EnvelopeError
from ..errors import ValidationError
from .checkpoint import Checkpoint, Cursor
from .order_models import (
    BusinessMessage,
    SendResult,
    message_body,
    message_key,
    message_list,
    read_message,
)

if TYPE_CHECKING:
    from .client import LexClient

__all__ = [
    "DEFAULT_FETCH_SIZE",
    "DEFAULT_PATH",
    "MAX_FETCH_SIZE",
    "MessageStream",
    "OrdersResource",
    "format_min_timestamp",
]

logger = logging.getLogger("shiptrack_sdk")

#: The SDK's default path of Order Execution, for ``GET`` and ``POST`` (not published by
#: Michelin; override with ``path=`` or ``SHIPTRACK_LEX_ORDERS_PATH``).
DEFAULT_PATH = "/lex-orderexecution-v1/business-messages"
#: ``fetchSize`` when not given (LEX's documented default).
DEFAULT_FETCH_SIZE = 50
#: The largest ``fetchSize`` LEX accepts.
MAX_FETCH_SIZE = 100

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
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _message_page(payload: Any) -> list[Any]:
    messages = message_list(payload)
    if messages is None:
        raise EnvelopeError(
            "answer is neither a list of business messages nor an object wrapping one"
        )
    return messages


#: One page of business messages (the path is the resource's ``path``).
FETCH = Endpoint("GET", DEFAULT_PATH, list[Any], _message_page)
#: One business message posted; LEX's answer only confirms it (the path is ``send_path``).
SEND: Endpoint[None] = Endpoint("POST", DEFAULT_PATH, None)


def _check_fetch_size(value: Any, argument: str = "fetch_size") -> int:
    return validate.int_in_range(argument, value, 1, MAX_FETCH_SIZE)


def _check_timestamp(value: Any, argument: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return validate.aware_utc(argument, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return parse_datetime(value)
        except ValueError:
            raise ValidationError(argument, f"{value!r} is not an epoch timestamp") from None
    raise ValidationError(
        argument,
        f"expected an aware datetime or epoch seconds/milliseconds, got {type(value).__name__}",
    )


def format_min_timestamp(value: datetime) -> str:
    """``value`` as ISO_OFFSET_DATE_TIME in UTC, the way ``minTimestamp`` is sent:
    ``2024-09-01T08:00:00Z``, ``2024-09-01T08:00:00.250Z`` or ``2024-09-01T08:00:00.000001Z``
    (no precision is lost)."""
    utc = value.astimezone(timezone.utc)
    if utc.microsecond == 0:
        spec = "seconds"
    elif utc.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


class OrdersResource(Resource):
    """``client.orders``: LEX Order Execution, poll and post.

    Args:
        client: The :class:`~shiptrack_sdk.lex.LexClient` to send through.
        path: Path of the business messages endpoint, for ``GET`` and ``POST`` (env
            ``SHIPTRACK_LEX_ORDERS_PATH``; default :data:`DEFAULT_PATH`). An absolute URL
            works too.
        send_path: Path for ``POST`` when it differs from ``path``.

    To use another path on an existing client::

        client.orders = OrdersResource(client, path="/my-lex-gateway/messages")
    """

    def __init__(
        self, client: LexClient, *, path: str | None = None, send_path: str | None = None
    ) -> None:
        super().__init__(client)
        self.path = _check_path(env_setting(path, "SHIPTRACK_LEX_ORDERS_PATH") or DEFAULT_PATH)
        self.send_path = _check_path(send_path, "send_path") if send_path else self.path

    def fetch(
        self,
        fetch_size: int = DEFAULT_FETCH_SIZE,
        min_timestamp: datetime | float | None = None,
        *,
        timeout: TimeoutLike | None = None,
    ) -> list[BusinessMessage]:
        """One page of business messages. ``GET /lex-orderexecution-v1/business-messages``.

        Args:
            fetch_size: How many messages at most, 1 to 100 (``fetchSize``; LEX's default 50).
            min_timestamp: Only messages from this time on (``minTimestamp``): an aware
                datetime, or epoch seconds (milliseconds when above 10\\ :sup:`11`); sent as
                ISO_OFFSET_DATE_TIME in UTC. ``None`` leaves the bound to LEX.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The messages, in the order LEX sent them.

        Raises:
            ValidationError: ``fetch_size`` is not 1..100 or ``min_timestamp`` is naive or
                not a time; nothing is sent.
            ResponseError: the answer holds no list of messages.
        """
        size = _check_fetch_size(fetch_size)
        bound = _check_timestamp(min_timestamp, "min_timestamp")
        return self._fetch(size, bound, timeout)

    def _fetch(
        self, size: int, bound: datetime | None, timeout: TimeoutLike | None
    ) -> list[BusinessMessage]:
        params: dict[str, Any] = {"fetchSize": size}
        if bound is not None:
            params["minTimestamp"] = format_min_timestamp(bound)
        items = self._call(FETCH, route=self.path, params=params, timeout=timeout)
        # Read message by message: one the SDK cannot read still arrives (read_message).
        return [read_message(item) for item in items]

    def iter_messages(
        self,
        *,
        since: datetime | float | None = None,
        checkpoint: Checkpoint | None = None,
        fetch_size: int = MAX_FETCH_SIZE,
        progress: ProgressLike = None,
        timeout: TimeoutLike | None = None,
    ) -> MessageStream:
        """Every message from ``since`` on, each once, page after page.
        ``GET /lex-orderexecution-v1/business-messages``, repeated.

        Each page asks from just below the newest timestamp consumed so far (``minTimestamp``
        one microsecond earlier), so the messages at that very timestamp come back whether
        LEX's bound includes ``minTimestamp`` or not (it is not documented); those already
        delivered are recognised by id and dropped, so either way nothing is lost and nothing
        repeated. When more
        messages share one timestamp than a page holds, the next page is asked at the largest
        size LEX allows (100); see :class:`MessageStream` for what happens past that.

        With a ``checkpoint``, the cursor is saved each time a page has been consumed (the
        loop asked for the message after the page's last one), and a new loop with the same
        checkpoint resumes from it: nothing is lost, and after a crash at most the messages of
        the page in progress come again (at-least-once).

        Args:
            since: Where to start when the checkpoint has nothing saved (or without one): an
                aware datetime or epoch seconds. ``None``: from whatever LEX answers without
                ``minTimestamp``.
            checkpoint: Loads the cursor to resume from and saves it after each consumed page
                (:class:`~shiptrack_sdk.lex.checkpoint.FileCheckpoint`...). A saved cursor
                wins over ``since``.
            fetch_size: Messages per page, 1 to 100.
            progress: Reports messages consumed: a callable ``(done, None)``, or ``True`` for
                a bar (tqdm).
            timeout: Overrides the client's timeout for each call.

        Returns:
            An iterator of :class:`~shiptrack_sdk.lex.order_models.BusinessMessage`, which
            ends when LEX has no newer message. It holds one page at a time, so memory stays
            flat however many messages go by.

        Raises:
            ValidationError: a bad argument, before any request.
            CheckpointError: the checkpoint cannot be read (raised here) or written (raised
                by the iteration).
        """
        size = _check_fetch_size(fetch_size)
        start = _check_timestamp(since, "since")
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise ValidationError("checkpoint", "must have load() and save(cursor) methods")
        if timeout is not None:
            Timeout.of(timeout)  # refused by this call, not at the first page
        saved = checkpoint.load() if checkpoint is not None else None
        cursor = saved if saved is not None else Cursor(start)
        return MessageStream(
            self, cursor, checkpoint=checkpoint, fetch_size=size, progress=progress, timeout=timeout
        )

    def send(
        self, message: BusinessMessage | Mapping[str, Any], *, timeout: TimeoutLike | None = None
    ) -> SendResult:
        """Post one business message. ``POST /lex-orderexecution-v1/business-messages``.

        LEX takes exactly one message per call: a list is refused before anything is sent.
        The message's id is its identity: a ``POST`` is retried only when it surely never
        reached LEX, so sending it again after an unclear failure is up to the caller.

        Args:
            message: A :class:`~shiptrack_sdk.lex.order_models.BusinessMessage` (see
                :meth:`BusinessMessage.create
                <shiptrack_sdk.lex.order_models.BusinessMessage.create>`), or a mapping already
                in LEX's wire format (sent unchanged once checked).
            timeout: Overrides the client's timeout for this call.

        Returns:
            LEX's answer: empty when it answered without a body; an answer that is not a JSON
            object (text, or a body beyond the client's size limit) is kept in
            ``extra["answer"]``. A success status means the message was accepted, whatever
            the body says, so it is never reported as a failure.

        Raises:
            ValidationError: a list, or a message without id, type, aware timestamp or
                payload; every problem is listed.
        """
        body = message_body(message)
        answer = self._call(SEND, route=self.send_path, json_body=body, timeout=timeout)
        if answer.unread is not None:
            # Accepted, but the answer was not read (beyond the size limit): raising would
            # invite sending the message again.
            logger.warning(
                "lex: message accepted (HTTP %d); its answer was not read: %s",
                answer.status,
                answer.unread,
            )
            return SendResult(extra={"answer": answer.unread})
        data = answer.body
        if data is None or (isinstance(data, str) and not data.strip()):
            return SendResult()
        if isinstance(data, str):
            return SendResult(extra={"answer": data}, raw={"answer": data})
        if not isinstance(data, Mapping):
            data = {"answer": data}
        try:
            return converter.structure(data, SendResult)
        except STRUCTURE_ERRORS:
            return SendResult(extra=dict(data), raw=data)


def _check_path(value: Any, argument: str = "path") -> str:
    return validate.route(argument, value)


def _next_boundary(value: datetime, step: timedelta) -> datetime:
    """The first multiple of ``step`` (since the epoch) after ``value``."""
    since_epoch = value - _EPOCH
    return _EPOCH + (since_epoch // step + 1) * step


def _sort_key(floor: datetime | None) -> Callable[[BusinessMessage], datetime]:
    default = floor if floor is not None else _EARLIEST

    def key(message: BusinessMessage) -> datetime:
        return message.timestamp if message.timestamp is not None else default

    return key


class MessageStream(Iterator[BusinessMessage]):
    """The iterator :meth:`OrdersResource.iter_messages` returns.

    Iterate it (``for message in stream``); it fetches a page when the previous one is
    consumed and ends when LEX has nothing newer.

    Messages sharing one timestamp: LEX pages only by timestamp, so when more of them than
    ``fetch_size`` share one, the stream asks again with ``fetchSize=100``; when 100 or more
    share one, a bound below that timestamp can never reach past the first hundred: the stream
    logs a warning, records the timestamp in :attr:`gaps` (messages after the hundredth at
    that timestamp may be missed: LEX's paging cannot return them) and asks from the
    timestamp itself, then, if LEX's bound includes it (the same page comes back), from one
    microsecond after it, so nothing after the timestamp is missed either way. The cursor
    (and so the checkpoint) keeps which of these bounds is next, so a loop resumed there does
    not fall back on that timestamp. If LEX answers a full page with nothing after the bound (it
    rounds the bound down), the bound moves to the next whole millisecond after the newest
    timestamp answered, then the next whole second; if even that does not help,
    :class:`~shiptrack_sdk.errors.ResponseError` is raised rather than loop forever.

    Attributes:
        pages: Pages fetched so far.
        delivered: Messages handed to the caller so far.
        gaps: Timestamps the stream had to jump past (see above); normally empty.
    """

    def __init__(
        self,
        resource: OrdersResource,
        cursor: Cursor,
        *,
        checkpoint: Checkpoint | None,
        fetch_size: int,
        progress: ProgressLike,
        timeout: TimeoutLike | None,
    ) -> None:
        self._resource = resource
        self._checkpoint = checkpoint
        self._fetch_size = fetch_size
        self._timeout = timeout
        self._progress = progress
        self._timestamp = cursor.timestamp
        self._seen: set[str] = set(cursor.seen_ids)
        self._saved = cursor
        # Where the next bound sits relative to the cursor's timestamp (Cursor.bound).
        self._bound = cursor.bound
        self.pages = 0
        self.delivered = 0
        self.gaps: list[datetime] = []
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
    def cursor(self) -> Cursor:
        """Where the stream is: through the last message it handed out."""
        return Cursor(self._timestamp, frozenset(self._seen), self._bound)

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
            before = self._timestamp
            page = self._resource._fetch(size, self._next_bound(), self._timeout)
            self.pages += 1
            # Sorted by timestamp (stable: LEX's order within one timestamp is kept), so the
            # cursor moves forward only and can be saved after any message.
            page.sort(key=_sort_key(before))
            delivered = 0
            older = 0
            for message in page:
                stamp = message.timestamp if message.timestamp is not None else self._timestamp
                key = message_key(message)
                current = self._timestamp
                if current is not None and stamp is not None and stamp < current:
                    older += 1
                    continue
                if stamp == current:
                    if key in self._seen:
                        continue
                    self._seen.add(key)
                else:
                    self._timestamp = stamp
                    self._seen = {key}
                    self._bound = "below"
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
            size, escalation = self._after_full_page(page, before, size, escalation)
            self._save(self.cursor)

    def _next_bound(self) -> datetime | None:
        current = self._timestamp
        if current is None:
            return None
        if self._bound == "at":
            return current
        if self._bound == "after":
            return current + _SKIP_STEP
        return current - _OVERLAP

    def _after_full_page(
        self, page: list[BusinessMessage], before: datetime | None, size: int, escalation: int
    ) -> tuple[int, int]:
        """The next page's size and the escalation count, after a full page; moves the bound
        past a timestamp that paging cannot get through."""
        current = self._timestamp
        # When the whole page sits at or above the bound it was asked from, and the cursor
        # did not move past that bound's timestamp, the same bound would bring it back.
        saturated = True
        if current is not None:
            floor = self._next_bound()
            assert floor is not None
            saturated = all(
                (m.timestamp if m.timestamp is not None else current) >= floor for m in page
            )
        if saturated:
            if size < MAX_FETCH_SIZE:
                logger.debug(
                    "lex: more than %d messages at %s; asking for %d", size, current, MAX_FETCH_SIZE
                )
                return MAX_FETCH_SIZE, escalation
            if current is None:
                raise self._exchange().response_error(
                    f"{len(page)} messages without a timestamp: cannot page past them"
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
                self.gaps.append(current)
                self._bound = "at"
                return size, escalation
            if self._bound == "at":
                # The bound includes minTimestamp: the same page came back. Ask from one
                # microsecond after it.
                if not self.gaps or self.gaps[-1] != current:
                    self.gaps.append(current)
                self._bound = "after"
                return size, escalation
        if current == before:
            # A full page and not one message past the bound: the server does not seem to
            # honour the bound's precision. Jump further each time, then give up loudly.
            if escalation >= _MAX_ESCALATIONS or current is None:
                raise self._exchange().response_error(
                    "the server answers the same messages whatever minTimestamp is: "
                    "it does not honour the bound"
                )
            # The server rounds the bound down: move it to the next whole millisecond (then
            # second) after the newest timestamp answered, which rounding keeps.
            step = _ESCALATION_STEP * (1000**escalation)
            newest = max((m.timestamp for m in page if m.timestamp is not None), default=current)
            target = _next_boundary(newest, step)
            if target <= current:
                target = _next_boundary(current, step)
            logger.warning(
                "lex: a full page with nothing after %s (the server seems to round "
                "minTimestamp); asking from %s",
                current.isoformat(),
                target.isoformat(),
            )
            self._jump(target)
            return size, escalation + 1
        return self._fetch_size, 0

    def _exchange(self) -> Exchange:
        """The stream's GET, as an error about its answers names it."""
        return self._resource._exchange(FETCH, self._resource.path)

    def _jump(self, timestamp: datetime) -> None:
        # Nothing was consumed at ``timestamp``: ask from it exactly.
        self._timestamp = timestamp
        self._seen = set()
        self._bound = "at"

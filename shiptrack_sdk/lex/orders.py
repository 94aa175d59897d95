"""LEX Order Execution: poll and post business messages (``client.orders``).

* ``GET /lex-orderexecution-v1/business-messages?fetchSize=&minTimestamp=``: up to 100
  messages from a timestamp on (:meth:`OrdersResource.fetch`), or every message from a
  timestamp on, page after page, resumable (:meth:`OrdersResource.iter_messages`).
* ``POST /lex-orderexecution-v1/business-messages``: one message per call
  (:meth:`OrdersResource.send`).

Michelin does not publish the path; the SDK's default is overridable (``path=``, the client's
:class:`~shiptrack_sdk.lex.WireProfile`, or the ``SHIPTRACK_LEX_ORDERS_PATH`` environment
variable), and so are the wire names (the profile's). Messages LEX pushes to the partner are
received with :mod:`shiptrack_sdk.lex.push`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .._core import validate
from .._core.client import env_setting
from .._core.convert import STRUCTURE_ERRORS, parse_datetime
from .._core.options import Timeout, TimeoutLike
from .._core.progress import ProgressLike
from .._core.resource import Answer, Endpoint, Resource
from .._core.spec import EnvelopeError
from ..errors import ValidationError
from .checkpoint import Checkpoint
from .journal import SendJournal
from .order_models import (
    BusinessMessage,
    SendResult,
    message_body,
    message_list,
    read_message,
)
from .stream import (
    DEFAULT_FLOOR,
    DEFAULT_HORIZON,
    MAX_FETCH_SIZE,
    MessageStream,
    StreamNotice,
    check_floor,
    check_horizon,
    horizon_at,
    starting_cursor,
)
from .tracking import _classify

if TYPE_CHECKING:
    from .client import LexClient

__all__ = [
    "DEFAULT_FETCH_SIZE",
    "DEFAULT_FLOOR",
    "DEFAULT_HORIZON",
    "DEFAULT_PATH",
    "MAX_FETCH_SIZE",
    "MessageStream",
    "OrdersResource",
    "StreamNotice",
    "format_min_timestamp",
]

logger = logging.getLogger("shiptrack_sdk")

#: The SDK's default path of Order Execution, for ``GET`` and ``POST`` (not published by
#: Michelin; override with ``path=`` or ``SHIPTRACK_LEX_ORDERS_PATH``).
DEFAULT_PATH = "/lex-orderexecution-v1/business-messages"
#: ``fetchSize`` when not given (LEX's documented default).
DEFAULT_FETCH_SIZE = 50


def _message_page(payload: Any, *, profile: Any = None) -> list[Any]:
    messages = message_list(payload, profile=profile)
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
        client: The :class:`~shiptrack_sdk.lex.LexClient` to send through; its
            :attr:`~shiptrack_sdk.lex.LexClient.profile` gives the messages' wire names.
        path: Path of the business messages endpoint, for ``GET`` and ``POST`` (default the
            client's profile's, else env ``SHIPTRACK_LEX_ORDERS_PATH``, else
            :data:`DEFAULT_PATH`). An absolute URL works too.
        send_path: Path for ``POST`` when it differs from ``path``.

    To use another path on an existing client::

        client.orders = OrdersResource(client, path="/my-lex-gateway/messages")
    """

    def __init__(
        self, client: LexClient, *, path: str | None = None, send_path: str | None = None
    ) -> None:
        super().__init__(client)
        self.profile = client.profile
        chosen = path or self.profile.orders_path
        self.path = _check_path(env_setting(chosen, "SHIPTRACK_LEX_ORDERS_PATH") or DEFAULT_PATH)
        self.send_path = _check_path(send_path, "send_path") if send_path else self.path
        page = functools.partial(_message_page, profile=self.profile)
        # One page of business messages, read with the profile's names.
        self._page = Endpoint("GET", DEFAULT_PATH, list[Any], page)

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
        items = self._call(self._page, route=self.path, params=params, timeout=timeout)
        # Read message by message: one the SDK cannot read still arrives (read_message).
        return [read_message(item, profile=self.profile) for item in items]

    def iter_messages(
        self,
        *,
        since: datetime | float | None = None,
        checkpoint: Checkpoint | None = None,
        fetch_size: int = MAX_FETCH_SIZE,
        progress: ProgressLike = None,
        timeout: TimeoutLike | None = None,
        floor: datetime = DEFAULT_FLOOR,
        horizon: datetime | timedelta = DEFAULT_HORIZON,
    ) -> MessageStream:
        """Every message from ``since`` on, each once per run, page after page.
        ``GET /lex-orderexecution-v1/business-messages``, repeated.

        Each page asks from just below the newest timestamp consumed so far (``minTimestamp``
        one microsecond earlier), so the messages at that very timestamp come back whether
        LEX's bound includes ``minTimestamp`` or not (it is not documented); those already
        delivered are recognised by id and dropped, so either way nothing is lost and nothing
        repeated. When more messages share one timestamp than a page holds, the next page is
        asked at the largest size LEX allows (100); see :class:`MessageStream` for what
        happens past that.

        Only a timestamp from ``floor`` to ``horizon`` moves the cursor. A message dated
        outside, or whose timestamp is null or unreadable, is still delivered, once per run,
        logged at WARNING and recorded in :attr:`MessageStream.notices`; the checkpoint keeps
        its key (the last :data:`~shiptrack_sdk.lex.stream.MAX_UNPLACED_IDS` of them), so a
        later run does not deliver it again.

        With a ``checkpoint``, the cursor is saved each time a page has been consumed (the
        loop asked for the message after the page's last one), and a new loop with the same
        checkpoint resumes from it: nothing is lost, and after a crash at most the messages of
        the page in progress come again (at-least-once, at most 100 messages).

        Args:
            since: Where to start when the checkpoint has nothing saved (or without one): an
                aware datetime or epoch seconds; one before ``floor`` starts at ``floor``.
                ``None``: from whatever LEX answers without ``minTimestamp``.
            checkpoint: Loads the cursor to resume from and saves it after each consumed page
                (:class:`~shiptrack_sdk.lex.checkpoint.FileCheckpoint`...). A saved cursor
                wins over ``since``; one before ``floor`` resumes at ``floor``.
            fetch_size: Messages per page, 1 to 100.
            progress: Reports messages consumed: a callable ``(done, None)``, or ``True`` for
                a bar (tqdm).
            timeout: Overrides the client's timeout for each call.
            floor: The earliest timestamp that moves the cursor (aware; default
                2000-01-01 UTC).
            horizon: The latest: a ``timedelta`` after the current time, read again at each
                page (default one day), or an aware datetime.

        Returns:
            An iterator of :class:`~shiptrack_sdk.lex.order_models.BusinessMessage`, which
            ends when LEX has no newer message. It holds one page at a time, and the keys of
            the messages it could not place, so memory stays flat however many messages go
            by.

        Raises:
            ValidationError: a bad argument (``since`` past the horizon, a horizon not after
                the floor...), before any request.
            CheckpointError: the checkpoint cannot be read, or its cursor is past the horizon
                (raised here), or it cannot be written (raised by the iteration).
        """
        size = _check_fetch_size(fetch_size)
        start = _check_timestamp(since, "since")
        low = check_floor(floor)
        high = check_horizon(horizon, low)
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise ValidationError("checkpoint", "must have load() and save(cursor) methods")
        if timeout is not None:
            Timeout.of(timeout)  # refused by this call, not at the first page
        limit = horizon_at(high)
        if start is not None and start > limit:
            raise ValidationError(
                "since", f"{start.isoformat()} is past the horizon ({limit.isoformat()})"
            )
        saved = checkpoint.load() if checkpoint is not None else None
        return MessageStream(
            lambda count, bound: self._fetch(count, bound, timeout),
            starting_cursor(saved, start, low, limit),
            checkpoint=checkpoint,
            fetch_size=size,
            progress=progress,
            error=lambda text: self._exchange(FETCH, self.path).response_error(text),
            floor=low,
            horizon=high,
        )

    def send(
        self,
        message: BusinessMessage | Mapping[str, Any],
        *,
        timeout: TimeoutLike | None = None,
        journal: SendJournal | None = None,
        resend_in_doubt: bool = False,
    ) -> SendResult:
        """Post one business message. ``POST /lex-orderexecution-v1/business-messages``.

        LEX takes exactly one message per call: a list is refused before anything is sent.
        The message's id is its identity: a ``POST`` is retried only when it surely never
        reached LEX, so sending it again after an unclear failure is up to the caller.

        With a ``journal`` (:class:`~shiptrack_sdk.lex.journal.SendJournal`), the message is
        recorded pending, durably, before it is posted, and its outcome after (a 4xx or a
        token failure: failed; no answer or a 5xx: in doubt). A message whose id the journal
        has accepted is not posted again: LEX's answer of then is returned. One it has in
        doubt is not posted unless ``resend_in_doubt``:
        :class:`~shiptrack_sdk.lex.journal.MessageInDoubtError` is raised.

        Args:
            message: A :class:`~shiptrack_sdk.lex.order_models.BusinessMessage` (see
                :meth:`BusinessMessage.create
                <shiptrack_sdk.lex.order_models.BusinessMessage.create>`), or a mapping already
                in LEX's wire format (sent unchanged once checked).
            timeout: Overrides the client's timeout for this call.
            journal: Record the send there, and skip a message it has accepted.
            resend_in_doubt: With a journal, post a message it has in doubt (only once you
                know LEX did not store it).

        Returns:
            LEX's answer: empty when it answered without a body; an answer that is not a JSON
            object (text, or a body beyond the client's size limit) is kept in
            ``extra["answer"]``. A success status means the message was accepted, whatever
            the body says, so it is never reported as a failure.

        Raises:
            ValidationError: a list, or a message without id, type, aware timestamp or
                payload, or one that does not match the JSON Schema of the client's profile;
                every problem is listed.
            MessageInDoubtError: the journal has the message in doubt; it was not sent.
            JournalError: the journal cannot be read or written (nothing was sent if the
                pending record could not be written).
        """
        body = message_body(message, profile=self.profile)
        self.profile.check_order(body)
        if journal is None and not resend_in_doubt:
            answer = self._call(SEND, route=self.send_path, json_body=body, timeout=timeout)
        else:
            answer = self._send_journaled(body, journal, timeout, resend_in_doubt)
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
            return self.profile.converter.structure(data, SendResult)
        except STRUCTURE_ERRORS:
            return SendResult(extra=dict(data), raw=data)

    def _send_journaled(
        self, body: Any, journal: SendJournal | None, timeout: TimeoutLike | None, resend: bool
    ) -> Answer:
        if not isinstance(journal, SendJournal):
            raise ValidationError("journal", "must be a SendJournal (resend_in_doubt needs one)")
        if timeout is not None:
            Timeout.of(timeout)  # refused here, not recorded as a send that failed
        return journal._send_one(
            "orders",
            body,
            lambda: self._call(SEND, route=self.send_path, json_body=body, timeout=timeout),
            _classify,
            resend_in_doubt=resend,
        )


def _check_path(value: Any, argument: str = "path") -> str:
    return validate.route(argument, value)

"""exporto tours: the recommended way to follow many shipments.

A tour is one of exporto's daily closings. The chain is: list the tours, list the shipment ids
of each tour, get each shipment. :meth:`ToursResource.track` runs the whole chain with bounded
concurrency over the client's one pooled session.

* ``GET tour``: the tours, with their ids and closing dates.
* ``GET tour/{tourId}``: one tour's shipment ids.

exporto does not publish these two paths; they are constructor settings of
:class:`~shiptrack_sdk.exporto.ExportoClient` (``tour_list_path``, ``tour_path``).
"""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._core import validate
from .._core.answers import unexpected
from .._core.options import Timeout, TimeoutLike
from .._core.progress import Progress, ProgressLike
from .._core.resource import Endpoint, Resource
from ..errors import ShiptrackError, ValidationError
from ..models import Tracking
from ._envelope import list_under, shipment_ids_payload
from .models import Shipment, Tour, TourDetail
from .status import PROVIDER

if TYPE_CHECKING:
    from .client import ExportoClient

__all__ = ["DEFAULT_TOUR_LIST_PATH", "DEFAULT_TOUR_PATH", "ToursResource", "TrackResult"]

#: ``GET`` this path for the list of tours.
DEFAULT_TOUR_LIST_PATH = "tour"
#: ``GET`` this path for one tour's shipment ids; ``{tourId}`` is replaced by the quoted id.
DEFAULT_TOUR_PATH = "tour/{tourId}"

#: The tour list (the path is the resource's ``list_path``).
LIST_TOURS = Endpoint("GET", DEFAULT_TOUR_LIST_PATH, builtins.list[Tour], list_under("tours"))
#: One tour and its shipment ids (the path is the resource's ``path``).
GET_TOUR = Endpoint("GET", DEFAULT_TOUR_PATH, TourDetail, shipment_ids_payload)


@attrs.frozen
class TrackResult:
    """The outcome for one shipment of :meth:`ToursResource.track`: a tracking or an error.

    Attributes:
        shipment_id: The shipment's id; ``None`` only when a whole tour could not be listed.
        tour_id: The tour the shipment was found in.
        tracking: The normalized tracking, when the shipment was read.
        shipment: exporto's full answer for the shipment, when it was read.
        error: What went wrong for this shipment (or tour), when something did.
    """

    shipment_id: str | None
    tour_id: str | None = None
    tracking: Tracking | None = None
    shipment: Shipment | None = attrs.field(default=None, repr=False)
    error: ShiptrackError | None = None

    @property
    def ok(self) -> bool:
        """Whether the shipment was read (``tracking`` is set, ``error`` is not)."""
        return self.error is None and self.tracking is not None

    def unwrap(self) -> Tracking:
        """The tracking, or the error raised."""
        if self.error is not None:
            raise self.error
        assert self.tracking is not None
        return self.tracking


def _since_date(value: Any) -> date:
    if isinstance(value, datetime):
        return validate.aware_utc("since", value).date()
    if isinstance(value, date):
        return value
    raise ValidationError("since", f"expected a date or an aware datetime, got {value!r}")


def _check_path(path: Any, argument: str, placeholder: str | None = None) -> str:
    checked = validate.route(argument, path)
    if placeholder is not None and placeholder not in checked:
        raise ValidationError(argument, f"must contain {placeholder}")
    return checked


class ToursResource(Resource):
    """``client.tours``: exporto's tours (daily closings) and the tour-based tracking chain.

    Args:
        client: The client the requests go through.
        list_path: The path of the tour list (default ``tour``).
        path: The path of one tour, with ``{tourId}`` (default ``tour/{tourId}``).
    """

    def __init__(
        self,
        client: ExportoClient,
        *,
        list_path: str = DEFAULT_TOUR_LIST_PATH,
        path: str = DEFAULT_TOUR_PATH,
    ) -> None:
        super().__init__(client)
        self._shipments = client.shipments
        #: The path of the tour list.
        self.list_path = _check_path(list_path, "tour_list_path")
        #: The path of one tour; ``{tourId}`` is replaced by the quoted id.
        self.path = _check_path(path, "tour_path", "{tourId}")

    def list(
        self, since: date | datetime | None = None, *, timeout: TimeoutLike | None = None
    ) -> builtins.list[Tour]:
        """The tours, oldest closing first. ``GET tour``.

        Args:
            since: Only tours closed on this day or later (a datetime counts by its UTC
                day). The filter is applied by the SDK, so it works whatever the server
                supports; a tour without a closing date is always kept.
            timeout: Overrides the client's timeout for this call.

        Raises:
            ValidationError: ``since`` is not a date or an aware datetime.
        """
        since_day = _since_date(since) if since is not None else None
        tours = self._call(LIST_TOURS, route=self.list_path, timeout=timeout)
        if since_day is not None:
            tours = [t for t in tours if t.closing_date is None or t.closing_date >= since_day]
        return sorted(tours, key=lambda t: t.closing_date or date.min)

    def get(self, tour_id: str, *, timeout: TimeoutLike | None = None) -> TourDetail:
        """One tour and its shipment ids. ``GET tour/{tourId}``.

        Args:
            tour_id: The tour's id, from :meth:`list`.
            timeout: Overrides the client's timeout for this call.

        Raises:
            ValidationError: ``tour_id`` is empty or not a string.
            NotFoundError: exporto knows no such tour.
        """
        detail = self._call(GET_TOUR, route=self.path, path={"tourId": tour_id}, timeout=timeout)
        if not detail.tour_id:
            detail = attrs.evolve(detail, tour_id=str(tour_id))
        return detail

    def shipment_ids(
        self, tour_id: str, *, timeout: TimeoutLike | None = None
    ) -> builtins.list[str]:
        """The ids of a tour's shipments. ``GET tour/{tourId}``.

        Raises:
            ValidationError: ``tour_id`` is empty or not a string.
            NotFoundError: exporto knows no such tour.
        """
        return builtins.list(self.get(tour_id, timeout=timeout).shipment_ids)

    def track(
        self,
        tour_ids: Iterable[str] | None = None,
        *,
        since: date | datetime | None = None,
        max_workers: int = 8,
        progress: ProgressLike = None,
        timeout: TimeoutLike | None = None,
    ) -> Generator[TrackResult, None, None]:
        """Track every shipment of some tours, yielding each result as it completes.

        The chain ``GET tour`` (with ``since``) → ``GET tour/{tourId}`` →
        ``GET shipment/{shipmentId}`` runs on at most ``max_workers`` threads sharing the
        client's pooled session and token. A shipment that fails yields a
        :class:`TrackResult` with its ``error``, and the others carry on; a tour that cannot
        be listed yields one result with ``shipment_id`` ``None``. A shipment listed twice is
        tracked once.

        Work is handed to the threads as results are consumed, so a consumer that stops
        early leaves at most a few requests in flight; closing the iterator (``close()``,
        ``contextlib.closing``, or letting it be collected) cancels what was queued and waits
        for the threads to end.

        Args:
            tour_ids: The tours to follow. Give these, or ``since``.
            since: Follow every tour closed on this day or later (see :meth:`list`).
            max_workers: Requests in flight at most (the session keeps up to 32
                connections alive).
            progress: A callable ``(done, total)`` called after each shipment, or ``True``
                for a progress bar when tqdm is installed; ``total`` grows as tours are
                listed.
            timeout: Overrides the client's timeout for every request.

        Every shipment found yields one result, whatever goes wrong for it: an error that is
        no :class:`~shiptrack_sdk.errors.ShiptrackError` (raised while reading or normalizing
        the shipment) arrives as the result's ``error``, a ``ShiptrackError`` naming the
        shipment, with the original as its ``__cause__``.

        Raises:
            ValidationError: neither or both of ``tour_ids`` and ``since`` are given, an id is
                empty, ``max_workers`` is not a positive integer, or ``progress`` is neither
                a callable, a boolean nor ``None`` (raised by this call, before any request).
        """
        if (tour_ids is None) == (since is None):
            raise ValidationError("tour_ids", "give either tour_ids or since=")
        ids: builtins.list[str] | None = None
        if tour_ids is not None:
            if isinstance(tour_ids, (str, bytes)) or not isinstance(tour_ids, Iterable):
                raise ValidationError("tour_ids", "must be a list of tour ids")
            ids = builtins.list(dict.fromkeys(tour_ids))
            for index, tour_id in enumerate(ids):
                validate.path_segment(f"tour_ids[{index}]", tour_id)
        since_day = _since_date(since) if since is not None else None
        validate.int_in_range("max_workers", max_workers, 1, None)
        if timeout is not None:
            Timeout.of(timeout)  # refused by this call, not by the first request
        given: Any = progress  # typed callers cannot pass anything else; untyped ones can
        if given is not None and not isinstance(given, bool) and not callable(given):
            raise ValidationError(
                "progress", f"expected a callable (done, total), True or None, got {given!r}"
            )
        return self._track(ids, since_day, max_workers, progress, timeout)

    # -- the chain ------------------------------------------------------------------------

    def _tour_task(self, tour_id: str, timeout: TimeoutLike | None) -> tuple[str, ...]:
        return self.get(tour_id, timeout=timeout).shipment_ids

    def _shipment_task(self, shipment_id: str, timeout: TimeoutLike | None) -> Shipment:
        return self._shipments.get(shipment_id, timeout=timeout)

    @staticmethod
    def _result(shipment_id: str, tour_id: str | None, future: Future[Any]) -> TrackResult:
        """The result of one shipment: its tracking, or what went wrong (never raised: one
        shipment's failure must not end the others' results)."""
        try:
            shipment: Shipment = future.result()
            tracking = shipment.to_tracking()
        except ShiptrackError as exc:
            return TrackResult(shipment_id, tour_id=tour_id, error=exc)
        except Exception as exc:  # reported in the result, not raised
            error = unexpected(PROVIDER, f"shipment {shipment_id}", exc)
            return TrackResult(shipment_id, tour_id=tour_id, error=error)
        return TrackResult(shipment_id, tour_id=tour_id, tracking=tracking, shipment=shipment)

    def _track(
        self,
        tour_ids: builtins.list[str] | None,
        since: date | None,
        max_workers: int,
        progress: ProgressLike,
        timeout: TimeoutLike | None,
    ) -> Generator[TrackResult, None, None]:
        with Progress(progress, None, description="exporto shipments") as bar:
            if tour_ids is None:
                tour_ids = [t.id for t in self.list(since, timeout=timeout)]
            # (kind, id, tour id): tours are listed first, their shipments queue behind.
            work: deque[tuple[str, str, str | None]] = deque(
                ("tour", tour_id, None) for tour_id in tour_ids
            )
            pending: dict[Future[Any], tuple[str, str, str | None]] = {}
            seen: set[str] = set()
            # Twice the workers queued keeps every thread busy, yet a consumer that stops
            # reading stops the fan-out: nothing more is handed out until it reads again.
            window = 2 * max_workers
            executor = ThreadPoolExecutor(max_workers, thread_name_prefix="shiptrack-exporto")
            try:
                while work or pending:
                    while work and len(pending) < window:
                        item = work.popleft()
                        task = self._tour_task if item[0] == "tour" else self._shipment_task
                        pending[executor.submit(task, item[1], timeout)] = item
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        kind, key, tour = pending.pop(future)
                        if kind == "tour":
                            try:
                                shipment_ids = future.result()
                            except ShiptrackError as exc:
                                yield TrackResult(None, tour_id=key, error=exc)
                                continue
                            except Exception as exc:  # reported in a result, not raised
                                error = unexpected(PROVIDER, f"tour {key}", exc)
                                yield TrackResult(None, tour_id=key, error=error)
                                continue
                            fresh = [sid for sid in dict.fromkeys(shipment_ids) if sid not in seen]
                            seen.update(fresh)
                            work.extend(("shipment", sid, key) for sid in fresh)
                            bar.set_total(len(seen))
                            continue
                        result = self._result(key, tour, future)
                        bar.advance()
                        yield result
            finally:
                for future in pending:
                    future.cancel()
                executor.shutdown(wait=True, cancel_futures=True)

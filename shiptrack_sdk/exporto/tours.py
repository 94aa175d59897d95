"""exporto tours: the recommended way to follow many shipments.

A tour is one of exporto's daily closings. The chain is: list the tours, list the shipments
of each tour, get each shipment. :meth:`ToursResource.track` runs the whole chain with bounded
concurrency over the client's one pooled session.

* ``GET tour``: the tours ("a list of available tourIDs", in exporto's help center): tour
  objects with their ids and closing dates, or the bare ids.
* ``GET tour/{tourId}``: one tour's shipments, "a comprehensive list of shipmentIds or
  foreignOutboundTrackingIds". A tracking id is resolved to its shipment through
  ``GET shipment/search?foreignOutboundTrackingId=...``.

exporto does not publish these two paths; they are constructor settings of
:class:`~shiptrack_sdk.exporto.ExportoClient` (``tour_list_path``, ``tour_path``).
"""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._core import validate
from .._core.answers import unexpected, unmatched
from .._core.options import Timeout, TimeoutLike
from .._core.progress import Progress, ProgressLike
from .._core.resource import Endpoint, Resource
from ..errors import ShiptrackError, ValidationError
from ..models import Tracking, TrackingOutcome
from ._envelope import tour_list_payload, tour_payload
from .models import Shipment, Tour, TourDetail
from .status import PROVIDER

if TYPE_CHECKING:
    from .client import ExportoClient

__all__ = [
    "DEFAULT_TOUR_LIST_PATH",
    "DEFAULT_TOUR_PATH",
    "RESOLVE_PAGE_SIZE",
    "ToursResource",
    "TrackResult",
]

#: ``GET`` this path for the list of tours.
DEFAULT_TOUR_LIST_PATH = "tour"
#: ``GET`` this path for one tour's shipment ids; ``{tourId}`` is replaced by the quoted id.
DEFAULT_TOUR_PATH = "tour/{tourId}"

#: Shipments read at most for one tracking id: the one search page asked for. One tracking
#: number names one parcel; the bound keeps a server that ignored the filter from sending more.
RESOLVE_PAGE_SIZE = 10

#: The tour list (the path is the resource's ``list_path``).
LIST_TOURS = Endpoint("GET", DEFAULT_TOUR_LIST_PATH, builtins.list[Tour], tour_list_payload)
#: One tour and its shipments (the path is the resource's ``path``).
GET_TOUR = Endpoint("GET", DEFAULT_TOUR_PATH, TourDetail, tour_payload)

#: A unit of the fan-out: (kind, key, tour id). Kinds: "tour" (key: a tour id), "shipment"
#: (a shipment id) and "ref" (a foreignOutboundTrackingId to resolve).
_Item = tuple[str, str, str | None]


@attrs.frozen
class TrackResult(TrackingOutcome):
    """The outcome for one shipment of :meth:`ToursResource.track`: a tracking or an error.

    Attributes:
        shipment_id: The shipment's id; ``None`` when a whole tour could not be listed, or
            when a tracking id the tour listed could not be resolved to a shipment
            (``tracking_id`` says which).
        tour_id: The tour the shipment was found in.
        tracking: The normalized tracking, when the shipment was read.
        shipment: exporto's full answer for the shipment, when it was read.
        error: What went wrong for this shipment (or tour), when something did.
        tracking_id: The ``foreignOutboundTrackingId`` the tour listed the shipment by, when it
            listed it so (``None`` for a shipment listed by its id).
    """

    shipment_id: str | None
    tour_id: str | None = None
    tracking: Tracking | None = None
    shipment: Shipment | None = attrs.field(default=None, repr=False)
    error: ShiptrackError | None = None
    tracking_id: str | None = None


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
        """One tour and its shipments. ``GET tour/{tourId}``.

        A tour lists its shipments by id (:attr:`TourDetail.shipment_ids`), by last-mile
        tracking number (:attr:`TourDetail.foreign_outbound_tracking_ids`), or both.

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
        """The ids of the shipments a tour lists by id. ``GET tour/{tourId}``.

        A tour that lists shipments by tracking number gives those in :meth:`get`'s
        :attr:`TourDetail.foreign_outbound_tracking_ids`, not here (naming their shipments
        takes a search each; :meth:`track` does it).

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
        order: Literal["completed", "tour"] = "completed",
    ) -> Generator[TrackResult, None, None]:
        """Track every shipment of some tours, yielding each result as it completes (or in
        the tours' order, with ``order="tour"``).

        The chain ``GET tour`` (with ``since``) → ``GET tour/{tourId}`` →
        ``GET shipment/{shipmentId}`` runs on at most ``max_workers`` threads sharing the
        client's pooled session and token. A shipment a tour lists by its
        ``foreignOutboundTrackingId`` instead is read with
        ``GET shipment/search?foreignOutboundTrackingId=...`` (one request, whose answer is
        the shipment), on the same threads. A shipment that fails yields a
        :class:`TrackResult` with its ``error``, and the others carry on; a tour that cannot
        be listed yields one result with ``shipment_id`` ``None``; a tracking id no shipment
        answers to yields one with ``shipment_id`` ``None``, its ``tracking_id`` and an error
        naming it. A shipment listed twice (by id or by tracking id) is tracked once.

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
            order: ``"completed"`` (the default) yields each result as soon as it is read;
                ``"tour"`` yields them in the tours' order (``tour_ids`` as given, or by
                closing date with ``since``), each tour's shipments as the tour lists them,
                a tour that cannot be listed at its place. The requests run as
                concurrently either way; a result read early waits, in memory, for those
                before it. A shipment listed in two tours comes once, with the first of
                them to be listed.

        Every shipment or tracking id found yields a result, whatever goes wrong for it: an
        error that is no :class:`~shiptrack_sdk.errors.ShiptrackError` (raised while reading
        or normalizing the shipment) arrives as the result's ``error``, a ``ShiptrackError``
        naming the shipment (or tracking id), with the original as its ``__cause__``.

        Raises:
            ValidationError: neither or both of ``tour_ids`` and ``since`` are given, an id is
                empty, ``max_workers`` is not a positive integer, or ``progress`` is neither
                a callable, a boolean nor ``None``, or ``order`` is neither ``"completed"``
                nor ``"tour"`` (raised by this call, before any request).
            ClientClosedError: the client is closed.
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
        if not isinstance(order, str) or order not in ("completed", "tour"):
            raise ValidationError("order", f"must be 'completed' or 'tour', got {order!r}")
        # Said once, here, rather than as the error of every tour.
        self._check_open()
        if order == "completed":
            return self._track(ids, since_day, max_workers, progress, timeout)
        ordering = _TourOrder()
        return ordering.reorder(
            self._track(ids, since_day, max_workers, progress, timeout, ordering)
        )

    # -- the chain ------------------------------------------------------------------------

    def _tour_task(self, tour_id: str, timeout: TimeoutLike | None) -> TourDetail:
        return self.get(tour_id, timeout=timeout)

    def _shipment_task(self, shipment_id: str, timeout: TimeoutLike | None) -> Shipment:
        return self._shipments.get(shipment_id, timeout=timeout)

    def _resolve_task(
        self, tracking_id: str, timeout: TimeoutLike | None
    ) -> builtins.list[Shipment]:
        page = self._shipments.search_page(
            0,
            page_size=RESOLVE_PAGE_SIZE,
            foreign_outbound_tracking_id=tracking_id,
            timeout=timeout,
        )
        # Kept only if it carries the number asked for: a server that ignored the filter
        # would otherwise attach unrelated shipments to this tracking id.
        return [s for s in page if s.foreign_outbound_tracking_id == tracking_id]

    @staticmethod
    def _tracked(
        shipment_id: str, tour_id: str | None, shipment: Shipment, tracking_id: str | None = None
    ) -> TrackResult:
        """The result of one shipment read: its tracking, or what normalizing it raised."""
        try:
            tracking = shipment.to_tracking()
        except Exception as exc:  # reported in the result, not raised
            error = unexpected(PROVIDER, f"shipment {shipment_id}", exc)
            return TrackResult(shipment_id, tour_id=tour_id, error=error, tracking_id=tracking_id)
        return TrackResult(
            shipment_id,
            tour_id=tour_id,
            tracking=tracking,
            shipment=shipment,
            tracking_id=tracking_id,
        )

    @classmethod
    def _result(cls, shipment_id: str, tour_id: str | None, future: Future[Any]) -> TrackResult:
        """The result of one shipment: its tracking, or what went wrong (never raised: one
        shipment's failure must not end the others' results)."""
        try:
            shipment: Shipment = future.result()
        except ShiptrackError as exc:
            return TrackResult(shipment_id, tour_id=tour_id, error=exc)
        except Exception as exc:  # reported in the result, not raised
            error = unexpected(PROVIDER, f"shipment {shipment_id}", exc)
            return TrackResult(shipment_id, tour_id=tour_id, error=error)
        return cls._tracked(shipment_id, tour_id, shipment)

    @classmethod
    def _resolved(
        cls, tracking_id: str, tour_id: str | None, future: Future[Any], seen: set[str]
    ) -> Iterator[TrackResult]:
        """The results of one tracking id: a tracking per shipment it names that no other
        result has, or one error naming the tracking id."""
        what = f"foreignOutboundTrackingId {tracking_id}"
        try:
            shipments: builtins.list[Shipment] = future.result()
        except ShiptrackError as exc:
            yield TrackResult(None, tour_id=tour_id, error=exc, tracking_id=tracking_id)
            return
        except Exception as exc:  # reported in the result, not raised
            error = unexpected(PROVIDER, what, exc)
            yield TrackResult(None, tour_id=tour_id, error=error, tracking_id=tracking_id)
            return
        if not shipments:
            error = unmatched(
                PROVIDER,
                f"{what} (tour {tour_id})",
                "no shipment has it (GET shipment/search answered none)",
            )
            yield TrackResult(None, tour_id=tour_id, error=error, tracking_id=tracking_id)
            return
        for shipment in shipments:
            shipment_id = shipment.shipment_id
            if shipment_id in seen:
                continue  # the tour (or another) lists it by id too: tracked once
            if shipment_id:
                seen.add(shipment_id)
            yield cls._tracked(shipment_id or "", tour_id, shipment, tracking_id)

    def _track(
        self,
        tour_ids: builtins.list[str] | None,
        since: date | None,
        max_workers: int,
        progress: ProgressLike,
        timeout: TimeoutLike | None,
        ordering: _TourOrder | None = None,
    ) -> Generator[TrackResult, None, None]:
        tasks = {
            "tour": self._tour_task,
            "shipment": self._shipment_task,
            "ref": self._resolve_task,
        }
        with Progress(progress, None, description="exporto shipments") as bar:
            if tour_ids is None:
                tour_ids = [t.id for t in self.list(since, timeout=timeout)]
            if ordering is not None:
                ordering.tours = tour_ids
            # Tours are listed first; their shipments and tracking ids queue behind.
            work: deque[_Item] = deque(("tour", tour_id, None) for tour_id in tour_ids)
            pending: dict[Future[Any], _Item] = {}
            # Shipment ids queued or tracked, and tracking ids queued: each once. Both are
            # updated on this thread only, so no lock is needed.
            seen: set[str] = set()
            refs: set[str] = set()
            queued = 0
            # Twice the workers queued keeps every thread busy, yet a consumer that stops
            # reading stops the fan-out: nothing more is handed out until it reads again.
            window = 2 * max_workers
            executor = ThreadPoolExecutor(max_workers, thread_name_prefix="shiptrack-exporto")
            try:
                while work or pending:
                    while work and len(pending) < window:
                        item = work.popleft()
                        pending[executor.submit(tasks[item[0]], item[1], timeout)] = item
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        kind, key, tour = pending.pop(future)
                        if kind == "tour":
                            try:
                                detail: TourDetail = future.result()
                            except ShiptrackError as exc:
                                yield TrackResult(None, tour_id=key, error=exc)
                                continue
                            except Exception as exc:  # reported in a result, not raised
                                error = unexpected(PROVIDER, f"tour {key}", exc)
                                yield TrackResult(None, tour_id=key, error=error)
                                continue
                            fresh = [s for s in dict.fromkeys(detail.shipment_ids) if s not in seen]
                            new_refs = [
                                r
                                for r in dict.fromkeys(detail.foreign_outbound_tracking_ids)
                                if r not in refs
                            ]
                            seen.update(fresh)
                            refs.update(new_refs)
                            if ordering is not None:
                                ordering.listed[key] = [
                                    *(("shipment", sid) for sid in fresh),
                                    *(("ref", ref) for ref in new_refs),
                                ]
                            work.extend(("shipment", sid, key) for sid in fresh)
                            work.extend(("ref", ref, key) for ref in new_refs)
                            queued += len(fresh) + len(new_refs)
                            bar.set_total(queued)
                            continue
                        if kind == "ref":
                            results = builtins.list(self._resolved(key, tour, future, seen))
                        else:
                            results = [self._result(key, tour, future)]
                        if ordering is not None:
                            ordering.counts[kind, key] = len(results)
                        bar.advance()
                        yield from results
            finally:
                for future in pending:
                    future.cancel()
                executor.shutdown(wait=True, cancel_futures=True)


class _TourOrder:
    """Puts the results of :meth:`ToursResource._track` back in the tours' order.

    The chain tells it the tours it follows (``tours``), the items each tour brings as it is
    listed (``listed``: ``("shipment", id)`` and ``("ref", tracking id)``, in the order they
    are queued) and how many results each item gave once done (``counts``: a tracking id
    may give none, when its shipments were listed already). Results are held until every
    one before them has been yielded; one it cannot place (there should be none) is yielded
    at the end, so that none is ever lost.
    """

    def __init__(self) -> None:
        self.tours: builtins.list[str] = []
        self.listed: dict[str, builtins.list[tuple[str, str]]] = {}
        self.counts: dict[tuple[str, str], int] = {}

    def reorder(
        self, results: Generator[TrackResult, None, None]
    ) -> Generator[TrackResult, None, None]:
        held: dict[tuple[str, str], builtins.list[TrackResult]] = {}
        failed_tours: dict[str, TrackResult] = {}
        tour, position = 0, 0

        def ready() -> Generator[TrackResult, None, None]:
            nonlocal tour, position
            while tour < len(self.tours):
                tour_id = self.tours[tour]
                if tour_id in failed_tours:
                    yield failed_tours.pop(tour_id)
                elif tour_id in self.listed:
                    items = self.listed[tour_id]
                    while position < len(items):
                        item = items[position]
                        got = held.get(item, [])
                        if item not in self.counts or len(got) < self.counts[item]:
                            return
                        yield from held.pop(item, [])
                        position += 1
                else:
                    return
                tour, position = tour + 1, 0

        try:
            for result in results:
                if result.tracking_id is not None:
                    held.setdefault(("ref", result.tracking_id), []).append(result)
                elif result.shipment_id is not None:
                    held.setdefault(("shipment", result.shipment_id), []).append(result)
                else:
                    failed_tours[result.tour_id or ""] = result
                yield from ready()
            yield from ready()
            yield from failed_tours.values()
            for rest in held.values():
                yield from rest
        finally:
            results.close()

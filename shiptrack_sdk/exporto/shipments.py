"""exporto shipments: one shipment by id, or a search walked page by page.

* ``GET shipment/{shipmentId}``: the shipment's processing chain and carrier state.
* ``GET shipment/search``: shipments matching filters, ``page`` (0-based) and ``pageSize``.

exporto's documentation gives no bound for ``pageSize`` or ``page``. The SDK refuses, before
any request, a ``page_size`` outside 1 to :data:`MAX_PAGE_SIZE` (500, what the embedded
sandbox serves at most) and a page above :data:`MAX_PAGE` (the largest 32-bit signed integer,
what servers commonly read a page number into): a value beyond them is a mistake, not a page.
A resource's ``max_page_size`` can be raised if exporto confirms a larger page for an account.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from .._core import validate
from .._core.convert import format_datetime
from .._core.options import Timeout, TimeoutLike, Unpack
from .._core.resource import Endpoint, Resource
from ..errors import ValidationError
from ..models import Tracking
from ._envelope import list_under
from .models import Shipment

if TYPE_CHECKING:
    from .client import ExportoClient

__all__ = [
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "SHIPMENT_TYPES",
    "SearchFilters",
    "ShipmentsResource",
    "track_one",
]

logger = logging.getLogger("shiptrack_sdk")

#: The values of a shipment's ``type``.
SHIPMENT_TYPES = frozenset({"inbound", "outbound"})

#: The largest ``page_size`` a search asks for (exporto documents none; see the module's notes).
MAX_PAGE_SIZE = 500
#: The largest (0-based) ``page`` a search asks for: ``2**31 - 1``.
MAX_PAGE = 2**31 - 1

#: Search keyword → exporto's query parameter.
_TEXT_FILTERS = {
    "foreign_outbound_tracking_id": "foreignOutboundTrackingId",
    "foreign_inbound_tracking_id": "foreignInboundTrackingId",
}
_TIME_FILTERS = {
    "processed_at": "processedAt",
    "carrier_received_at_updated_at": "carrierReceivedAtUpdatedAt",
    "carrier_delivered_at_updated_at": "carrierDeliveredAtUpdatedAt",
}


class SearchFilters(TypedDict, total=False):
    """The filters of a shipment search, as keywords (each optional; ``None`` sends none).

    Datetimes must be time-zone aware and are sent in UTC as ``YYYY-MM-DDTHH:MM:SS.sssZ``; a
    :class:`~datetime.date` is sent as ``YYYY-MM-DD``.

    Attributes:
        foreign_outbound_tracking_id: The last-mile carrier's tracking number.
        foreign_inbound_tracking_id: The tracking number of a return's foreign leg.
        processed_at: Sent as ``processedAt``.
        carrier_received_at_updated_at: Sent as ``carrierReceivedAtUpdatedAt``.
        carrier_delivered_at_updated_at: Sent as ``carrierDeliveredAtUpdatedAt``.
        type: ``"outbound"`` or ``"inbound"``.
    """

    foreign_outbound_tracking_id: str | None
    foreign_inbound_tracking_id: str | None
    processed_at: datetime | date | None
    carrier_received_at_updated_at: datetime | date | None
    carrier_delivered_at_updated_at: datetime | date | None
    type: str | None


#: One shipment (the path is the resource's ``path``, with ``{shipmentId}``).
GET_SHIPMENT = Endpoint("GET", "shipment/{shipmentId}", Shipment)
#: One page of a shipment search.
SEARCH = Endpoint("GET", "shipment/search", builtins.list[Shipment], list_under("shipments"))


def _time(value: Any, argument: str) -> str:
    if isinstance(value, datetime):
        return format_datetime(validate.aware_utc(argument, value))
    if isinstance(value, date):
        return value.isoformat()
    raise ValidationError(
        argument, f"expected an aware datetime or a date, got {type(value).__name__}"
    )


class ShipmentsResource(Resource):
    """``client.shipments``: exporto's shipment endpoints.

    The paths are class attributes, so a subclass (or an instance) can point them elsewhere.
    """

    #: The path of one shipment; ``{shipmentId}`` is replaced by the quoted id.
    path = "shipment/{shipmentId}"
    #: The path of the shipment search.
    search_path = "shipment/search"
    #: The largest ``page_size`` accepted (:data:`MAX_PAGE_SIZE` unless set otherwise).
    max_page_size: int = MAX_PAGE_SIZE

    def get(self, shipment_id: str, *, timeout: TimeoutLike | None = None) -> Shipment:
        """One shipment. ``GET shipment/{shipmentId}``.

        Args:
            shipment_id: exporto's shipment id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            Every field exporto sent; ``.to_tracking()`` gives the normalized model.

        Raises:
            ValidationError: ``shipment_id`` is empty or not a string.
            NotFoundError: exporto knows no such shipment.
        """
        shipment = self._call(
            GET_SHIPMENT, route=self.path, path={"shipmentId": shipment_id}, timeout=timeout
        )
        if not shipment.shipment_id:
            shipment = attrs.evolve(shipment, shipment_id=str(shipment_id))
        return shipment

    def search_page(
        self,
        page: int = 0,
        *,
        page_size: int = 50,
        timeout: TimeoutLike | None = None,
        **filters: Unpack[SearchFilters],
    ) -> builtins.list[Shipment]:
        """One page of a shipment search. ``GET shipment/search``.

        Takes the filters of :meth:`search`, and ``page`` (0-based, at most :data:`MAX_PAGE`).

        Returns:
            The shipments of that page (an empty list past the last page).

        Raises:
            ValidationError: a filter, ``page``, ``page_size`` or ``timeout`` is refused
                (before any request).
        """
        params = _search_params(page_size, self.max_page_size, filters)
        params["page"] = validate.int_in_range("page", page, 0, MAX_PAGE)
        if timeout is not None:
            Timeout.of(timeout)  # refused before any request, the token's included
        return self._page(params, timeout)

    def search(
        self,
        *,
        page_size: int = 50,
        start_page: int = 0,
        timeout: TimeoutLike | None = None,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[Shipment]:
        """Every shipment matching the filters, walking the pages. ``GET shipment/search``.

        The arguments are checked at once; the pages are requested as the iterator is
        consumed, one at a time, until a page holds fewer than ``page_size`` shipments.

        Args:
            page_size: Shipments per page (``pageSize``), 1 to ``max_page_size`` (500).
            start_page: The first page to ask for (0-based, at most :data:`MAX_PAGE`).
            timeout: Overrides the client's timeout for each page.
            **filters: The :class:`SearchFilters`.

        Raises:
            ValidationError: a filter, ``page_size`` or ``start_page`` is refused (raised by
                this call, before any request).
        """
        params = _search_params(page_size, self.max_page_size, filters)
        first = validate.int_in_range("start_page", start_page, 0, MAX_PAGE)
        if timeout is not None:
            Timeout.of(timeout)  # refused by this call, not at the first page
        return self._walk(params, first, timeout)

    def _page(self, params: dict[str, Any], timeout: TimeoutLike | None) -> builtins.list[Shipment]:
        return self._call(SEARCH, route=self.search_path, params=params, timeout=timeout)

    def _walk(
        self, params: dict[str, Any], first: int, timeout: TimeoutLike | None
    ) -> Iterator[Shipment]:
        page_size: int = params["pageSize"]
        seen: set[str] = set()
        page = first
        while True:
            shipments = self._page({**params, "page": page}, timeout)
            ids = [s.shipment_id for s in shipments if s.shipment_id]
            if len(shipments) >= page_size and ids and seen.issuperset(ids):
                # A server that ignores ``page`` would answer the same page forever.
                logger.warning(
                    "exporto: search page %d repeats shipments already seen; stopping", page
                )
                return
            seen.update(ids)
            yield from shipments
            if len(shipments) < page_size or page >= MAX_PAGE:
                return
            page += 1


def _search_params(
    page_size: Any, max_page_size: int, filters: Mapping[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(SearchFilters.__annotations__))
    if unknown:
        known = ", ".join(sorted(SearchFilters.__annotations__))
        raise ValidationError(unknown[0], f"is not a search filter (filters: {known})")
    params: dict[str, Any] = {}
    for argument, wire in _TEXT_FILTERS.items():
        if filters.get(argument) is not None:
            params[wire] = validate.text(argument, filters[argument], single_line=True)
    for argument, wire in _TIME_FILTERS.items():
        if filters.get(argument) is not None:
            params[wire] = _time(filters[argument], argument)
    kind = filters.get("type")
    if kind is not None:
        if not isinstance(kind, str) or kind not in SHIPMENT_TYPES:
            raise ValidationError("type", f"must be one of {', '.join(sorted(SHIPMENT_TYPES))}")
        params["type"] = kind
    params["pageSize"] = validate.int_in_range("page_size", page_size, 1, max_page_size)
    return params


def track_one(
    client: ExportoClient, shipment_id: str, *, timeout: TimeoutLike | None = None
) -> Tracking:
    """One shipment's normalized tracking, ``GET shipment/{shipmentId}``: what
    ``client.track_many`` and :func:`shiptrack_sdk.track_many` run for each exporto id."""
    return client.shipments.get(shipment_id, timeout=timeout).to_tracking()

"""Shiplemon tracking: pull a shipment's tracking, or put a carrier's tracking history.

* ``GET /public/v1/shipments/{id}/tracking``: shippers pull (Shiplemon suggests every hour at
  :05 and :35).
* ``PUT /v1/shipments/{id}/tracking`` (no ``/public``): carriers put the *entire* history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._core import validate
from .._core.convert import format_datetime
from .._core.options import TimeoutLike
from .._core.resource import Endpoint, Resource
from ..errors import ValidationError
from ..models import Tracking, TrackingEvent
from .models import Shipment, ShipmentTracking
from .status import STATUSES

if TYPE_CHECKING:
    from .client import ShiplemonClient

__all__ = ["HistoryUpdate", "TrackingResource", "track_one"]

#: Pull one shipment's tracking.
GET_TRACKING = Endpoint("GET", "public/v1/shipments/{shipment_id}/tracking", ShipmentTracking)
#: Put a shipment's entire tracking history (no ``/public``).
PUT_TRACKING = Endpoint("PUT", "v1/shipments/{shipment_id}/tracking", Shipment)


@attrs.frozen
class HistoryUpdate:
    """One entry of the history a carrier puts.

    An entry is a plain record: :meth:`TrackingResource.update` checks every entry of the
    history it is given, and names each problem with its place (``history[2].status``).

    Args:
        status: ``DELIVERED``, ``TRANSIT``, ``PRE_TRANSIT`` or ``EXCEPTION`` (case-sensitive).
        status_date: When it happened; time-zone aware (sent as ``YYYY-MM-DDTHH:MM:SS.sssZ``).
        status_details: The carrier's text.
        status_exact: A finer status, or ``None``.
    """

    status: str
    status_date: datetime
    status_details: str = ""
    status_exact: str | None = None

    @classmethod
    def from_event(cls, event: TrackingEvent) -> HistoryUpdate:
        """The entry for a normalized event (its status must not be ``UNKNOWN``).

        Raises:
            ValidationError: ``event`` is not a :class:`~shiptrack_sdk.TrackingEvent`.
        """
        if not isinstance(event, TrackingEvent):
            raise ValidationError("event", f"expected a TrackingEvent, got {type(event).__name__}")
        return cls(
            status=event.status.value,
            status_date=event.occurred_at,
            status_details=event.description or "",
            status_exact=event.provider_status_detail,
        )


HistoryLike = HistoryUpdate | TrackingEvent | Mapping[str, Any]


_STATUS_LIST = ", ".join(sorted(STATUSES))


def _shown(value: Any) -> str:
    """``value`` for an error message: a string quoted, anything else by its type."""
    return repr(value[:40]) if isinstance(value, str) else f"a {type(value).__name__}"


def _history_body(history: Iterable[HistoryLike]) -> list[dict[str, Any]]:
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable):
        raise ValidationError("history", "must be a list of history entries")
    entries: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    item: Any
    for index, item in enumerate(history):
        where = f"history[{index}]"
        if isinstance(item, TrackingEvent):
            item = HistoryUpdate.from_event(item)
        elif isinstance(item, Mapping):
            try:
                item = HistoryUpdate(**item)
            except TypeError as exc:
                problems.append((where, f"not a history entry ({exc})"))
                continue
        elif not isinstance(item, HistoryUpdate):
            problems.append((where, f"expected HistoryUpdate, got {type(item).__name__}"))
            continue
        if not isinstance(item.status, str) or item.status not in STATUSES:
            problems.append(
                (
                    f"{where}.status",
                    f"{_shown(item.status)} is not one of {_STATUS_LIST} (case-sensitive)",
                )
            )
        try:
            when = validate.aware_utc(f"{where}.status_date", item.status_date)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        for name, value, optional in (
            ("status_details", item.status_details, False),
            ("status_exact", item.status_exact, True),
        ):
            if optional and value is None:
                continue
            try:
                validate.text(f"{where}.{name}", value, empty=True)
            except ValidationError as exc:
                problems.extend(exc.problems)
        entries.append(
            {
                "status": item.status,
                "status_date": format_datetime(when),
                "status_details": item.status_details,
                "status_exact": item.status_exact,
            }
        )
    if problems:
        raise ValidationError.from_problems(problems)
    if not entries:
        raise ValidationError("history", "must hold at least one entry (the entire history)")
    return entries


class TrackingResource(Resource):
    """``client.tracking``: Shiplemon's tracking endpoints."""

    def get(self, shipment_id: str, *, timeout: TimeoutLike | None = None) -> ShipmentTracking:
        """The tracking of one shipment. ``GET /public/v1/shipments/{id}/tracking``.

        Args:
            shipment_id: Shiplemon's shipment id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            Every documented field; ``.to_tracking()`` gives the normalized model.

        Raises:
            ValidationError: ``shipment_id`` is empty.
            NotFoundError: Shiplemon knows no such shipment.
        """
        tracking = self._call(GET_TRACKING, path={"shipment_id": shipment_id}, timeout=timeout)
        # The id as asked (an int id is asked as its digits): the model holds a string.
        asked = str(shipment_id)
        if tracking.shipment_id == asked:
            return tracking
        return attrs.evolve(tracking, shipment_id=asked)

    def update(
        self,
        shipment_id: str,
        history: Sequence[HistoryLike],
        *,
        timeout: TimeoutLike | None = None,
    ) -> Shipment:
        """Replace a shipment's tracking history. ``PUT /v1/shipments/{id}/tracking``.

        Shiplemon expects the *entire* history on every call, in the body as
        ``{"tracking_history": [...]}``. Every entry is checked before anything is sent.

        Args:
            shipment_id: Shiplemon's shipment id.
            history: Every entry, as :class:`HistoryUpdate`, normalized
                :class:`~shiptrack_sdk.TrackingEvent` or mappings of the same fields.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated shipment.

        Raises:
            ValidationError: an id, status or date is refused; every problem is listed.
        """
        validate.path_segment("shipment_id", shipment_id)  # before the history is checked
        body = {"tracking_history": _history_body(history)}
        return self._call(
            PUT_TRACKING, path={"shipment_id": shipment_id}, json_body=body, timeout=timeout
        )


def track_one(
    client: ShiplemonClient, shipment_id: str, *, timeout: TimeoutLike | None = None
) -> Tracking:
    """One shipment's normalized tracking, ``GET /public/v1/shipments/{id}/tracking``: what
    ``client.track_many`` and :func:`shiptrack_sdk.track_many` run for each Shiplemon id."""
    return client.tracking.get(shipment_id, timeout=timeout).to_tracking()

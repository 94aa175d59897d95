"""The normalized tracking model shared by every provider.

Each provider's wire model converts to :class:`Tracking` (``.to_tracking()``), so code that
reads tracking does not care where it came from. A provider value that no status mapping knows
becomes :attr:`TrackingStatus.UNKNOWN`, with the raw value kept in ``provider_status``: the
SDK never raises on a status it has not seen.

Every model exports itself as plain data, ``to_dict()`` and ``to_json()`` (see
:mod:`shiptrack_sdk.export`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from ._core import validate
from ._render import Exportable, tracking_html
from .errors import ShiptrackError, ValidationError

__all__ = ["Tracking", "TrackingEvent", "TrackingOutcome", "TrackingStatus"]


class TrackingStatus(str, enum.Enum):
    """Where a shipment is, in the five words every provider maps to."""

    #: Known to the carrier (label created, order processed), not yet moving.
    PRE_TRANSIT = "PRE_TRANSIT"
    #: Moving: picked up, in a hub, out for delivery.
    TRANSIT = "TRANSIT"
    #: Delivered to the recipient (or a pick-up point it chose).
    DELIVERED = "DELIVERED"
    #: Something went wrong: failed delivery, damage, return, cancellation.
    EXCEPTION = "EXCEPTION"
    #: A provider value that no mapping knows; the raw value is kept beside it.
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        """Whether no further movement is expected (delivered)."""
        return self is TrackingStatus.DELIVERED


def _utc(value: Any, argument: str) -> datetime:
    if type(value) is datetime and value.tzinfo is timezone.utc:
        return value  # what the converter gives, on every event: nothing to check
    return validate.aware_utc(argument, value)


def _occurred_at(value: datetime) -> datetime:
    return _utc(value, "occurred_at")


def _estimated_delivery(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value, "estimated_delivery")


def _optional_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            attribute.name, f"expected a string or None, got {type(value).__name__}"
        )


def _text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str):
        raise ValidationError(attribute.name, f"expected a string, got {type(value).__name__}")


def _non_empty_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    validate.text(attribute.name, value)


def _mapping(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError(attribute.name, f"expected a mapping, got {type(value).__name__}")


def _status(value: TrackingStatus | str) -> TrackingStatus:
    if isinstance(value, TrackingStatus):
        return value
    try:
        return TrackingStatus(value)
    except ValueError:
        raise ValidationError(
            "status", f"{value!r} is not one of {', '.join(s.value for s in TrackingStatus)}"
        ) from None


def _event_sort_key(event: TrackingEvent) -> datetime:
    return event.occurred_at


def _sorted_events(events: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    if isinstance(events, (str, bytes, Mapping)) or not isinstance(events, Iterable):
        raise ValidationError(
            "events", f"expected a list of TrackingEvent, got {type(events).__name__}"
        )
    items = tuple(events)
    for index, item in enumerate(items):
        if not isinstance(item, TrackingEvent):
            raise ValidationError(
                "events", f"item {index} is a {type(item).__name__}, not a TrackingEvent"
            )
    # Providers send history newest first, oldest first or unordered; the model promises
    # oldest first, so it sorts once here (stable, so same-time events keep their order).
    return tuple(sorted(items, key=_event_sort_key))


def _short_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen(repr=False)
class TrackingEvent(Exportable):
    """One step of a shipment's journey.

    Attributes:
        status: The normalized status this event puts the shipment in.
        occurred_at: When it happened, as an aware UTC datetime.
        description: Human-readable text, as the provider wrote it.
        provider_status: The provider's own status value for this event.
        provider_status_detail: The provider's finer status, when it has one.
        location: Where it happened, when the provider says.
    """

    status: TrackingStatus = attrs.field(converter=_status)
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    description: str | None = attrs.field(default=None, validator=_optional_text)
    provider_status: str | None = attrs.field(default=None, validator=_optional_text)
    provider_status_detail: str | None = attrs.field(default=None, validator=_optional_text)
    location: str | None = attrs.field(default=None, validator=_optional_text)

    def __repr__(self) -> str:
        text = f"TrackingEvent({self.status.value} at {_short_time(self.occurred_at)}"
        if self.description:
            text += f", {self.description[:40]!r}"
        return text + ")"


@attrs.frozen(repr=False)
class Tracking(Exportable):
    """A shipment's tracking, normalized.

    Attributes:
        provider: ``"shiplemon"``, ``"exporto"``...
        shipment_id: The provider's id for the shipment.
        status: The shipment's current normalized status.
        events: Every event, oldest first.
        provider_status: The provider's own current status value (kept verbatim, so an
            :attr:`TrackingStatus.UNKNOWN` status can still be read).
        carrier: The carrier's name or code.
        tracking_ref: The carrier's tracking number.
        tracking_url: A page where a person can follow the shipment.
        estimated_delivery: When delivery is expected, if the provider says.
        raw: The provider payload this was built from (excluded from ``==``, ``repr`` and
            :meth:`to_dict`).
    """

    provider: str = attrs.field(validator=_non_empty_text)
    shipment_id: str = attrs.field(validator=_text)
    status: TrackingStatus = attrs.field(converter=_status)
    events: tuple[TrackingEvent, ...] = attrs.field(default=(), converter=_sorted_events)
    provider_status: str | None = attrs.field(default=None, validator=_optional_text)
    carrier: str | None = attrs.field(default=None, validator=_optional_text)
    tracking_ref: str | None = attrs.field(default=None, validator=_optional_text)
    tracking_url: str | None = attrs.field(default=None, validator=_optional_text)
    estimated_delivery: datetime | None = attrs.field(default=None, converter=_estimated_delivery)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False, validator=_mapping)

    @property
    def last_event(self) -> TrackingEvent | None:
        """The newest event, or ``None`` when there is none."""
        return self.events[-1] if self.events else None

    @property
    def is_delivered(self) -> bool:
        """Whether the shipment's status is :attr:`TrackingStatus.DELIVERED`."""
        return self.status is TrackingStatus.DELIVERED

    def __repr__(self) -> str:
        # Compact on purpose: a notebook cell or a log line shows one shipment in one line.
        status = self.status.value
        if self.status is TrackingStatus.UNKNOWN and self.provider_status:
            status += f" ({self.provider_status!r})"
        last = self.last_event
        text = f"Tracking({self.provider}:{self.shipment_id} {status}, {len(self.events)} events"
        if last is not None:
            text += f", last {_short_time(last.occurred_at)}"
        return text + ")"

    def _repr_html_(self) -> str:
        return tracking_html(self)


class TrackingOutcome:
    """What one shipment of a fan-out came to: its ``tracking``, or the ``error`` met reading
    it. The results of :func:`shiptrack_sdk.track_many` and of exporto's tours are ones."""

    tracking: Tracking | None
    error: ShiptrackError | None

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

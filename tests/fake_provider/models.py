"""Fake Parcels' wire models: a parcel and its events (wire names in :mod:`._hooks`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from shiptrack_sdk.models import Tracking, TrackingEvent

from .status import PROVIDER, STATUS_MAP

__all__ = ["Parcel", "ParcelEvent"]


def _raw() -> Any:
    """The ``raw`` field: the payload a model came from, outside ``==`` and ``repr``."""
    return attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(slots=False)
class ParcelEvent:
    """One scan of a parcel (``events[]``; its time is ``at`` on the wire)."""

    state: str
    occurred_at: datetime
    note: str | None = None
    raw: Mapping[str, Any] = _raw()

    def to_event(self) -> TrackingEvent:
        """This scan as a normalized :class:`~shiptrack_sdk.TrackingEvent`."""
        return TrackingEvent(
            status=STATUS_MAP.normalize(self.state),
            occurred_at=self.occurred_at,
            description=self.note,
            provider_status=self.state,
        )


@attrs.frozen(slots=False)
class Parcel:
    """A parcel: ``GET v1/parcels/{parcelId}`` (``result``)."""

    parcel_id: str
    state: str | None = None
    courier: str | None = None
    events: tuple[ParcelEvent, ...] = ()
    raw: Mapping[str, Any] = _raw()

    def to_tracking(self) -> Tracking:
        """The normalized :class:`~shiptrack_sdk.Tracking` of this parcel."""
        return Tracking(
            provider=PROVIDER,
            shipment_id=self.parcel_id,
            status=STATUS_MAP.normalize(self.state),
            provider_status=self.state,
            carrier=self.courier,
            events=[event.to_event() for event in self.events],
            raw=self.raw,
        )


def _register() -> None:
    # The converter's hooks for every model above, in one function (see _hooks).
    from shiptrack_sdk._core.convert import converter

    from ._hooks import register_hooks

    register_hooks(converter)


_register()

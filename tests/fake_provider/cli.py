"""Fake Parcels on the command line: ``shiptrack track fake ID...``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shiptrack_sdk.cli import track_each
from shiptrack_sdk.errors import ShiptrackError
from shiptrack_sdk.models import Tracking

if TYPE_CHECKING:
    from .client import FakeClient

__all__ = ["track"]


def track(client: FakeClient, ids: Sequence[str]) -> list[Tracking | ShiptrackError]:
    """Each parcel's normalized tracking (``GET /v1/parcels/{parcelId}``), or its error."""
    return track_each(ids, lambda parcel_id: client.parcels.get(parcel_id).to_tracking())

"""Fake Parcels' tracking by id: what ``shiptrack track fake ID...`` and ``track_many`` run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shiptrack_sdk._core.options import TimeoutLike
from shiptrack_sdk.models import Tracking

if TYPE_CHECKING:
    from .client import FakeClient

__all__ = ["track_one"]


def track_one(
    client: FakeClient, parcel_id: str, *, timeout: TimeoutLike | None = None
) -> Tracking:
    """One parcel's normalized tracking (``GET /v1/parcels/{parcelId}``)."""
    return client.parcels.get(parcel_id, timeout=timeout).to_tracking()

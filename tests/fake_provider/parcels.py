"""Fake Parcels' one endpoint: a parcel by id."""

from __future__ import annotations

from shiptrack_sdk._core.options import TimeoutLike
from shiptrack_sdk._core.resource import Endpoint, Resource

from .models import Parcel

__all__ = ["ParcelsResource"]

#: One parcel, with its events.
GET_PARCEL = Endpoint("GET", "v1/parcels/{parcel_id}", Parcel)


class ParcelsResource(Resource):
    """Parcels: ``get``."""

    def get(self, parcel_id: str, *, timeout: TimeoutLike | None = None) -> Parcel:
        """One parcel and its events. ``GET /v1/parcels/{parcelId}``.

        Raises:
            ValidationError: ``parcel_id`` cannot be a path segment.
            NotFoundError: no parcel has this id.
        """
        return self._call(GET_PARCEL, path={"parcel_id": parcel_id}, timeout=timeout)

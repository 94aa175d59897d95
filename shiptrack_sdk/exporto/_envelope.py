"""How exporto's list answers are read.

The shipment search answers a bare JSON array (as public client code reads it). exporto's
help center describes the tour answers in words only ("a list of available tourIDs"; a tour
as "a comprehensive list of shipmentIds or foreignOutboundTrackingIds"), so each shape those
words allow is read. List answers are taken either as an array or as an object holding the
array under one of a few usual keys; anything else raises
:class:`~shiptrack_sdk._core.spec.EnvelopeError`, which the core reports as a
:class:`~shiptrack_sdk.errors.ResponseError` naming the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._core.spec import EnvelopeError

__all__ = ["list_under", "tour_list_payload", "tour_payload"]

#: Keys under which an object answer may hold its list.
LIST_KEYS = ("content", "items", "results", "data")


def list_under(*keys: str) -> Callable[[Any], list[Any]]:
    """An envelope: the list in an answer, the answer itself or the first list under ``keys``
    or :data:`LIST_KEYS`."""
    searched: Sequence[str] = (*keys, *LIST_KEYS)

    def envelope(payload: Any) -> list[Any]:
        if isinstance(payload, list):
            return payload
        if isinstance(payload, Mapping):
            for key in searched:
                value = payload.get(key)
                if isinstance(value, list):
                    return value
        raise EnvelopeError("answer is not a JSON array")

    return envelope


def _id(entry: Any) -> str | None:
    """An id as exporto may write it: a non-empty string, or an integer."""
    if isinstance(entry, int) and not isinstance(entry, bool):
        return str(entry)
    return entry if isinstance(entry, str) and entry else None


_tours = list_under("tours")
#: The id lists a tour answer may carry, shipment ids first.
_ID_LISTS = ("shipmentIds", "foreignOutboundTrackingIds")


def tour_list_payload(payload: Any) -> list[Any]:
    """The tour list as the entries :class:`~shiptrack_sdk.exporto.Tour` reads.

    exporto's help center speaks of "a list of available tourIDs": an entry may be a tour
    object (``{"tourId", "closingDate", "shipmentCount"}``) or the bare id, read as
    ``{"tourId": id}``. The list may stand alone or under ``tours`` (or :data:`LIST_KEYS`).

    Raises:
        EnvelopeError: the answer holds no list.
    """
    entries = _tours(payload)
    return [{"tourId": tour_id} if (tour_id := _id(e)) is not None else e for e in entries]


def tour_payload(payload: Any) -> dict[str, Any]:
    """A tour answer as the object :class:`~shiptrack_sdk.exporto.TourDetail` reads.

    A tour is, in exporto's words, "a comprehensive list of shipmentIds or
    foreignOutboundTrackingIds". Accepted: ``{"tourId", "closingDate", "shipmentIds": [...]}``,
    ``{..., "foreignOutboundTrackingIds": [...]}`` or both; a ``shipments`` array; or a bare
    array. Entries of ``shipments`` and of a bare array may be shipment ids or objects carrying
    ``shipmentId`` or, failing that, ``foreignOutboundTrackingId``; an entry of one of the id
    lists may be the object carrying its id (``{"shipmentId": ...}`` in ``shipmentIds``).

    Raises:
        EnvelopeError: no list of shipments is found, or an entry names none.
    """
    if isinstance(payload, list):
        body: dict[str, Any] = {}
        mixed: list[Any] = payload
    elif isinstance(payload, Mapping):
        body = dict(payload)
        if any(isinstance(payload.get(key), list) for key in _ID_LISTS):
            mixed = []
        elif isinstance(payload.get("shipments"), list):
            mixed = payload["shipments"]
        else:
            raise EnvelopeError("answer is not a tour with its shipments")
    else:
        raise EnvelopeError("answer is not a tour with its shipments")
    shipment_ids: list[str] = []
    tracking_ids: list[str] = []
    for key, into in zip(_ID_LISTS, (shipment_ids, tracking_ids), strict=True):
        entries = body.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, Mapping):  # {"shipmentId": ...} in shipmentIds, and so on
                entry = entry.get(key[:-1])
            if (value := _id(entry)) is None:
                raise EnvelopeError(
                    f"answer is not a tour with its shipments ({key}[] holds no id)"
                )
            into.append(value)
    for entry in mixed:
        if isinstance(entry, Mapping):
            if (value := _id(entry.get("shipmentId"))) is not None:
                shipment_ids.append(value)
                continue
            if (value := _id(entry.get("foreignOutboundTrackingId"))) is not None:
                tracking_ids.append(value)
                continue
        elif (value := _id(entry)) is not None:
            shipment_ids.append(value)
            continue
        raise EnvelopeError("answer is not a tour with its shipments (one entry has no id)")
    body["shipmentIds"] = shipment_ids
    body["foreignOutboundTrackingIds"] = tracking_ids
    return body

"""How exporto's list answers are read.

The shipment search answers a bare JSON array (as public client code reads it); the tour
routes are not public. So list answers are taken either as an array or as an object holding
the array under one of a few usual keys; anything else raises
:class:`~shiptrack_sdk._core.spec.EnvelopeError`, which the core reports as a
:class:`~shiptrack_sdk.errors.ResponseError` naming the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._core.spec import EnvelopeError

__all__ = ["list_under", "shipment_ids_payload"]

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


def shipment_ids_payload(payload: Any) -> dict[str, Any]:
    """A tour answer as the object :class:`~shiptrack_sdk.exporto.TourDetail` reads.

    Accepted: ``{"tourId", "closingDate", "shipmentIds": [...]}``; the same with the list
    under ``shipments``; or a bare array. Array entries may be ids or shipment objects
    carrying ``shipmentId``.

    Raises:
        EnvelopeError: no list of shipment ids is found.
    """
    if isinstance(payload, Mapping) and isinstance(payload.get("shipmentIds"), list):
        entries: list[Any] = payload["shipmentIds"]
        body = dict(payload)
    elif isinstance(payload, Mapping) and isinstance(payload.get("shipments"), list):
        entries = payload["shipments"]
        body = dict(payload)
    elif isinstance(payload, list):
        entries, body = payload, {}
    else:
        raise EnvelopeError("answer is not a tour with its shipment ids")
    ids = []
    for entry in entries:
        if isinstance(entry, Mapping):
            entry = entry.get("shipmentId")
        if isinstance(entry, int) and not isinstance(entry, bool):
            entry = str(entry)
        if not isinstance(entry, str) or not entry:
            raise EnvelopeError("answer is not a tour with its shipment ids (one entry has no id)")
        ids.append(entry)
    body["shipmentIds"] = ids
    return body

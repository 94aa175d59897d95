"""How exporto's list answers are read.

The shipment search answers a bare JSON array (as public client code reads it); the tour
routes are not public. So list answers are taken either as an array or as an object holding
the array under one of a few usual keys, and anything else is a :class:`ResponseError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests

from .._http import redact_url
from ..errors import ResponseError
from .status import PROVIDER

__all__ = ["list_payload", "shipment_ids_payload"]

#: Keys under which an object answer may hold its list.
LIST_KEYS = ("content", "items", "results", "data")


def _shape_error(response: requests.Response, what: str) -> ResponseError:
    return ResponseError(
        f"answer is not {what}",
        provider=PROVIDER,
        method=response.request.method,
        url=redact_url(response.url),
        status=response.status_code,
        body=response.text[:400],
    )


def list_payload(
    payload: Any, response: requests.Response, *, keys: Sequence[str] = ()
) -> list[Any]:
    """The list in ``payload``: the payload itself, or the first list under ``keys`` or
    :data:`LIST_KEYS`.

    Raises:
        ResponseError: no list is found.
    """
    if isinstance(payload, list):
        return payload
    if isinstance(payload, Mapping):
        for key in (*keys, *LIST_KEYS):
            value = payload.get(key)
            if isinstance(value, list):
                return value
    raise _shape_error(response, "a JSON array")


def shipment_ids_payload(payload: Any, response: requests.Response) -> dict[str, Any]:
    """A tour answer as the object :class:`~shiptrack_sdk.exporto.TourDetail` reads.

    Accepted: ``{"tourId", "closingDate", "shipmentIds": [...]}``; the same with the list
    under ``shipments``; or a bare array. Array entries may be ids or shipment objects
    carrying ``shipmentId``.

    Raises:
        ResponseError: no list of shipment ids is found.
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
        raise _shape_error(response, "a tour with its shipment ids")
    ids = []
    for entry in entries:
        if isinstance(entry, Mapping):
            entry = entry.get("shipmentId")
        if isinstance(entry, int) and not isinstance(entry, bool):
            entry = str(entry)
        if not isinstance(entry, str) or not entry:
            raise _shape_error(response, "a tour with its shipment ids (one entry has no id)")
        ids.append(entry)
    body["shipmentIds"] = ids
    return body

"""Fake Parcels' converter hooks, all registered in one function: its wire names appear only
here. :func:`register_hooks` imports the models when it runs (``models`` calls it on its last
line, once its classes exist), so this module imports no model at the top."""

from __future__ import annotations

import cattrs

from shiptrack_sdk._core.convert import register_wire_model

__all__ = ["register_hooks"]


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every Fake Parcels model on ``converter``: camelCase names on the wire, and an
    event's time as ``at``."""
    from .models import Parcel, ParcelEvent

    register_wire_model(ParcelEvent, rename={"occurred_at": "at"}, converter=converter)
    register_wire_model(Parcel, camel_case=True, converter=converter)

"""Shiplemon's converter hooks, all registered in one function.

Shiplemon's wire names are snake_case already, so the models need no rename but one
(``Address.id`` is ``_id`` on the wire).

:func:`register_hooks` imports the models when it runs, not at import: the models module
calls it on its last line, once every class exists, so each model is registered before it
can be used, whichever module is imported first, and this module imports no model at the top
(that would be a cycle).
"""

from __future__ import annotations

import cattrs

from .._core.convert import register_wire_model

__all__ = ["register_hooks"]


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every Shiplemon wire model on ``converter``."""
    from .models import (
        Address,
        Carrier,
        ChildVoucher,
        HistoryEntry,
        Item,
        Pickup,
        Rate,
        RateMetadata,
        RateProvider,
        Service,
        Shipment,
        ShipmentTracking,
    )

    for cls in (
        Carrier,
        Service,
        HistoryEntry,
        ShipmentTracking,
        ChildVoucher,
        Item,
        Pickup,
        RateProvider,
        RateMetadata,
        Rate,
        Shipment,
    ):
        register_wire_model(cls, converter=converter)
    register_wire_model(Address, rename={"id": "_id"}, converter=converter)

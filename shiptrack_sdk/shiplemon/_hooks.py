"""Shiplemon's converter hooks, all registered in one function.

Shiplemon's wire names are snake_case already, so the models need no rename but one
(``Address.id`` is ``_id`` on the wire).

The models do not know this module: the package's ``__init__`` calls :func:`register_hooks`
once, after importing the models, so every model is registered before anything outside the
package can use it (importing any of its modules runs the package's ``__init__`` first), and
no import goes both ways between models and hooks.
"""

from __future__ import annotations

import cattrs

from .._core.convert import register_wire_model
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

__all__ = ["register_hooks"]


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every Shiplemon wire model on ``converter``."""
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

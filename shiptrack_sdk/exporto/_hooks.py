"""exporto's converter hooks, all registered in one function: exporto's camelCase wire names
appear only here.

The models do not know this module: the package's ``__init__`` calls :func:`register_hooks`
once, after importing the models, so every model is registered before anything outside the
package can use it (importing any of its modules runs the package's ``__init__`` first), and
no import goes both ways between models and hooks.
"""

from __future__ import annotations

import cattrs

from .._core.convert import register_wire_model
from .models import LineItem, Shipment, Tour, TourDetail

__all__ = ["register_hooks"]


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every exporto wire model on ``converter``."""
    register_wire_model(LineItem, camel_case=True, converter=converter)
    register_wire_model(Shipment, camel_case=True, converter=converter)
    register_wire_model(Tour, rename={"id": "tourId"}, camel_case=True, converter=converter)
    register_wire_model(TourDetail, camel_case=True, converter=converter)

"""exporto's converter hooks, all registered in one function: exporto's camelCase wire names
appear only here.

:func:`register_hooks` imports the models when it runs, not at import: the models module
calls it on its last line, once every class exists, so each model is registered before it
can be used, and this module imports no model at the top (that would be a cycle).
"""

from __future__ import annotations

import cattrs

from .._core.convert import register_wire_model

__all__ = ["register_hooks"]


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every exporto wire model on ``converter``."""
    from .models import LineItem, Shipment, Tour, TourDetail

    register_wire_model(LineItem, camel_case=True, converter=converter)
    register_wire_model(Shipment, camel_case=True, converter=converter)
    register_wire_model(Tour, rename={"id": "tourId"}, camel_case=True, converter=converter)
    register_wire_model(TourDetail, camel_case=True, converter=converter)

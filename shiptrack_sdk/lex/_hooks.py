"""LEX's converter hooks, all registered in one function: LEX's camelCase wire names and its
renames appear only here.

The tracking messages the SDK sends (:mod:`.tracking_models`) leave empty fields out; the
order messages it reads (:mod:`.order_models`) keep what LEX sends. A business message's
payload arrives as it is, and the envelope's hook reads it by message type.

:func:`register_hooks` imports the models when it runs, not at import: each of the two models
modules calls it on its last line, once its classes exist. The first call imports the other
module, whose own call then returns at once (the converter is marked first), so every LEX
model is registered before either module can be used, whichever is imported first, and this
module imports no model at the top (that would be a cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cattrs

from .._core.convert import register_wire_model

__all__ = ["register_hooks"]

# The converters registered already (cattrs converters can be neither hashed into a weak set
# nor given attributes; there is one, and tests may add their own).
_registered: list[cattrs.Converter] = []


def register_hooks(converter: cattrs.Converter) -> None:
    """Register every LEX wire model on ``converter`` (once; later calls return at once)."""
    if any(done is converter for done in _registered):
        return
    _registered.append(converter)

    from .order_models import (
        BusinessMessage,
        ItemMaster,
        OrderAddress,
        OrderLine,
        OrderStatus,
        Payload,
        ReceivingOrder,
        SendResult,
        ShipmentOrder,
        _typed_payload,
    )
    from .tracking_models import (
        Anomaly,
        Attribute,
        Carrier,
        DeliveryNote,
        Location,
        Party,
        ShipmentEvent,
        TrackingAddress,
        TrackingMessage,
    )

    # Tracking messages: None fields and empty lists are left out, absent being clearer than
    # null to a strict server that types its fields. Keys from extra are sent as given, None
    # included.
    for cls in (
        TrackingAddress,
        Party,
        Carrier,
        Location,
        ShipmentEvent,
        Anomaly,
        DeliveryNote,
        Attribute,
        TrackingMessage,
    ):
        register_wire_model(cls, camel_case=True, omit_empty=True, converter=converter)

    # Order messages.
    register_wire_model(
        OrderAddress,
        camel_case=True,
        rename={"line1": "addressLine1", "line2": "addressLine2", "country": "countryCode"},
        converter=converter,
    )
    register_wire_model(
        OrderLine,
        camel_case=True,
        rename={"item": "itemCode", "batch": "batchNumber"},
        converter=converter,
    )
    for model in (ShipmentOrder, ReceivingOrder):
        register_wire_model(model, camel_case=True, converter=converter)
    register_wire_model(
        ItemMaster, camel_case=True, rename={"item": "itemCode"}, converter=converter
    )
    register_wire_model(
        OrderStatus,
        camel_case=True,
        rename={"status": "statusCode", "reason": "reasonCode"},
        converter=converter,
    )
    register_wire_model(
        SendResult, camel_case=True, rename={"id": "messageId"}, converter=converter
    )

    def unstructure_payload(value: Any) -> Any:
        if value is None or isinstance(value, Mapping):
            return value
        return converter.unstructure(value)

    converter.register_structure_hook(Payload, lambda value, _: value)
    converter.register_unstructure_hook(Payload, unstructure_payload)
    register_wire_model(
        BusinessMessage,
        camel_case=True,
        rename={"id": "messageId", "type": "messageType"},
        converter=converter,
    )
    envelope = converter.get_structure_hook(BusinessMessage)

    def structure_message(data: Mapping[str, Any], type_: Any) -> Any:
        return _typed_payload(envelope(data, type_))

    converter.register_structure_hook(BusinessMessage, structure_message)

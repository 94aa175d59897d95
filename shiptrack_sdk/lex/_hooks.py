"""LEX's converter hooks, all registered in one function: LEX's camelCase wire names and its
renames appear only here.

The tracking messages the SDK sends (:mod:`.tracking_models`) leave empty fields out; the
order messages it reads (:mod:`.order_models`) keep what LEX sends. A business message's
payload arrives as it is, and the envelope's hook reads it by message type.

:func:`register_hooks` is called by the package's ``__init__``, once, after it has imported the
models; the models do not know this module. Every LEX model is so registered before anything
outside the package can use it (importing any module of the package runs its ``__init__``
first), and no import goes both ways between models and hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import cattrs

from .._core.convert import STRUCTURE_ERRORS, describe_structure_error, register_wire_model
from . import tracking_models as tracking
from .order_models import (
    _TYPE_KEYS,
    BusinessMessage,
    ItemMaster,
    OrderAddress,
    OrderLine,
    OrderStatus,
    Payload,
    ReceivingOrder,
    SendResult,
    ShipmentOrder,
    _type_key,
)

__all__ = ["RENAMES", "register_hooks"]

logger = logging.getLogger("shiptrack_sdk")

#: The SDK's own wire names that are not the camelCase of the field's name, by model: the
#: default profile (:class:`~shiptrack_sdk.lex.profile.WireProfile` names others).
RENAMES: Mapping[str, Mapping[str, str]] = {
    "OrderAddress": {"line1": "addressLine1", "line2": "addressLine2", "country": "countryCode"},
    "OrderLine": {"item": "itemCode", "batch": "batchNumber"},
    "ItemMaster": {"item": "itemCode"},
    "OrderStatus": {"status": "statusCode", "reason": "reasonCode"},
    "SendResult": {"id": "messageId"},
    "BusinessMessage": {"id": "messageId", "type": "messageType"},
}

# The converters registered already (cattrs converters can be neither hashed into a weak set
# nor given attributes; there is one, and tests may add their own).
_registered: list[cattrs.Converter] = []


def register_hooks(
    converter: cattrs.Converter, renames: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    """Register every LEX wire model on ``converter`` (once; later calls return at once).

    Args:
        converter: The converter to register on.
        renames: A contract profile's wire names, by model name then field name; they win
            over the SDK's own (on a converter of the profile's, never the SDK's).
    """
    if any(done is converter for done in _registered):
        return
    _registered.append(converter)
    wanted = renames or {}

    def names(cls: type[Any]) -> dict[str, str]:
        return {**RENAMES.get(cls.__name__, {}), **wanted.get(cls.__name__, {})}

    # Tracking messages: None fields and empty lists are left out, absent being clearer than
    # null to a strict server that types its fields. Keys from extra are sent as given, None
    # included.
    for cls in (
        tracking.TrackingAddress,
        tracking.Party,
        tracking.Carrier,
        tracking.Location,
        tracking.ShipmentEvent,
        tracking.Anomaly,
        tracking.DeliveryNote,
        tracking.Attribute,
        tracking.TrackingMessage,
    ):
        register_wire_model(
            cls, rename=names(cls), camel_case=True, omit_empty=True, converter=converter
        )

    # Order messages.
    for model in (
        OrderAddress,
        OrderLine,
        ShipmentOrder,
        ReceivingOrder,
        ItemMaster,
        OrderStatus,
        SendResult,
    ):
        register_wire_model(model, rename=names(model), camel_case=True, converter=converter)

    def unstructure_payload(value: Any) -> Any:
        if value is None or isinstance(value, Mapping):
            return value
        return converter.unstructure(value)

    converter.register_structure_hook(Payload, lambda value, _: value)
    converter.register_unstructure_hook(Payload, unstructure_payload)
    register_wire_model(
        BusinessMessage, rename=names(BusinessMessage), camel_case=True, converter=converter
    )
    envelope = converter.get_structure_hook(BusinessMessage)

    def structure_message(data: Mapping[str, Any], type_: Any) -> Any:
        return _typed_payload(envelope(data, type_), converter)

    converter.register_structure_hook(BusinessMessage, structure_message)


def _typed_payload(message: BusinessMessage, using: cattrs.Converter) -> BusinessMessage:
    payload = message.payload
    if not isinstance(payload, Mapping) or not message.type:
        return message
    model = _TYPE_KEYS.get(_type_key(message.type))
    if model is None:
        return message
    try:
        typed = using.structure(payload, model)
    except STRUCTURE_ERRORS as exc:
        # A message is never lost for a payload the SDK cannot read: it stays a mapping.
        logger.warning(
            "lex: payload of message %s (type %s) could not be read as %s, kept as a mapping: %s",
            message.id,
            message.type,
            model.__name__,
            describe_structure_error(exc),
        )
        return message
    object.__setattr__(message, "payload", typed)
    return message

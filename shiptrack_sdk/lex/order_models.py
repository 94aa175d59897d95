"""LEX Order Execution business messages: the envelope and the typed payloads.

Every message exchanged with LEX, polled (``GET``), posted (``POST``) or pushed, is a
:class:`BusinessMessage` envelope: an id, a message type, a timestamp, the partner and warehouse
it concerns, and a payload. The payload is typed by the message type:

.. list-table::
   :header-rows: 1

   * - ``type``
     - ``payload``
   * - ``SHIPMENT_ORDER``
     - :class:`ShipmentOrder`: goods to ship out of the warehouse
   * - ``RECEIVING_ORDER``
     - :class:`ReceivingOrder`: goods expected into the warehouse
   * - ``ITEM_MASTER``
     - :class:`ItemMaster`: an item's reference data
   * - ``ORDER_STATUS``
     - :class:`OrderStatus`: progress of a shipment or receiving order
   * - anything else
     - the payload as it came, a plain mapping (never an error)

Field names are the SDK's (snake_case); their camelCase wire names live only in
:func:`_register` at the bottom of this module. Unknown fields are kept in ``extra`` and sent
back unchanged, and every model keeps the mapping it was read from in ``raw``.
The models are frozen and dict-backed (``slots=False``), which lets the converter build one in
a single step: draining thousands of messages is mostly that.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs
import cattrs

from .._core import validate
from .._core.convert import (
    STRUCTURE_ERRORS,
    converter,
    describe_structure_error,
)
from ..errors import ValidationError
from ..export import Exportable

if TYPE_CHECKING:
    from .profile import WireProfile

__all__ = [
    "PAYLOAD_TYPES",
    "BusinessMessage",
    "ItemMaster",
    "MessageType",
    "OrderAddress",
    "OrderLine",
    "OrderStatus",
    "Payload",
    "ReceivingOrder",
    "SendResult",
    "ShipmentOrder",
    "message_key",
    "read_message",
    "register_payload_type",
]

logger = logging.getLogger("shiptrack_sdk")


def _raw() -> Any:
    return attrs.field(factory=dict, eq=False, repr=False)


def _extra() -> Any:
    return attrs.field(factory=dict)


class MessageType(str, enum.Enum):
    """The message types the SDK reads into typed payloads.

    :attr:`BusinessMessage.type` is a plain string, so a type this enumeration does not know
    still arrives; these members compare equal to their values
    (``message.type == MessageType.SHIPMENT_ORDER``).
    """

    #: Goods to ship out of the warehouse (outbound).
    SHIPMENT_ORDER = "SHIPMENT_ORDER"
    #: Goods expected into the warehouse (inbound).
    RECEIVING_ORDER = "RECEIVING_ORDER"
    #: An item's reference data.
    ITEM_MASTER = "ITEM_MASTER"
    #: Progress of a shipment or receiving order.
    ORDER_STATUS = "ORDER_STATUS"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(slots=False)
class OrderAddress(Exportable):
    """A postal address with its contact, in an order (Order Execution).

    Not the address of a tracking party: that is
    :class:`~shiptrack_sdk.lex.tracking_models.TrackingAddress`.

    Attributes:
        name: Company or person.
        line1: First address line.
        line2: Second address line.
        city: City.
        postal_code: Postal code.
        region: State, province or region.
        country: ISO 3166 country code.
        contact_name: Who to contact there.
        phone: Phone number.
        email: E-mail address.
    """

    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class OrderLine(Exportable):
    """One line of an order: an item, a quantity and its unit.

    Attributes:
        line_number: The line's number in the order (kept as text: ``"0010"`` stays so).
        item: The item code.
        description: The item's description.
        quantity: How many, in ``unit``.
        unit: Unit of measure (``"EA"``, ``"PCE"``, ``"KG"``...).
        batch: Batch or lot number.
    """

    line_number: str | None = None
    item: str | None = None
    description: str | None = None
    quantity: float | None = None
    unit: str | None = None
    batch: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class ShipmentOrder(Exportable):
    """Payload of ``SHIPMENT_ORDER``: goods the warehouse is to ship out.

    Attributes:
        order_number: Michelin's order number.
        order_type: The kind of order (``"SALES"``, ``"TRANSFER"``...).
        customer_reference: The customer's own reference (purchase order...).
        ship_from: Where the goods leave from (the warehouse).
        ship_to: Where the goods go.
        requested_ship_date: When to ship.
        requested_delivery_date: When the customer expects the goods.
        carrier: The carrier to hand the goods to.
        service_level: The carrier's service.
        lines: What to ship.
        notes: Free text for the warehouse.
    """

    order_number: str | None = None
    order_type: str | None = None
    customer_reference: str | None = None
    ship_from: OrderAddress | None = None
    ship_to: OrderAddress | None = None
    requested_ship_date: date | None = None
    requested_delivery_date: date | None = None
    carrier: str | None = None
    service_level: str | None = None
    lines: tuple[OrderLine, ...] = ()
    notes: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class ReceivingOrder(Exportable):
    """Payload of ``RECEIVING_ORDER``: goods the warehouse is to receive.

    Attributes:
        order_number: Michelin's order number.
        order_type: The kind of order (``"PURCHASE"``, ``"RETURN"``, ``"TRANSFER"``...).
        supplier_reference: The supplier's reference (delivery note, ASN...).
        ship_from: Where the goods come from.
        expected_arrival_date: When they are expected.
        carrier: Who brings them.
        container_number: Container or trailer number.
        lines: What to receive.
        notes: Free text for the warehouse.
    """

    order_number: str | None = None
    order_type: str | None = None
    supplier_reference: str | None = None
    ship_from: OrderAddress | None = None
    expected_arrival_date: date | None = None
    carrier: str | None = None
    container_number: str | None = None
    lines: tuple[OrderLine, ...] = ()
    notes: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class ItemMaster(Exportable):
    """Payload of ``ITEM_MASTER``: one item's reference data.

    Attributes:
        item: The item code.
        description: The item's description.
        unit: Base unit of measure.
        gtin: GTIN / EAN barcode.
        gross_weight: Gross weight, in ``weight_unit``.
        net_weight: Net weight, in ``weight_unit``.
        weight_unit: ``"KG"``, ``"LB"``...
        length: Length, in ``dimension_unit``.
        width: Width, in ``dimension_unit``.
        height: Height, in ``dimension_unit``.
        dimension_unit: ``"CM"``, ``"MM"``, ``"IN"``...
        category: Product category.
        units_per_pallet: How many units make a pallet.
        dangerous_goods: Whether the item is classified as dangerous goods.
        status: The item's status (``"ACTIVE"``, ``"BLOCKED"``...).
    """

    item: str | None = None
    description: str | None = None
    unit: str | None = None
    gtin: str | None = None
    gross_weight: float | None = None
    net_weight: float | None = None
    weight_unit: str | None = None
    length: float | None = None
    width: float | None = None
    height: float | None = None
    dimension_unit: str | None = None
    category: str | None = None
    units_per_pallet: int | None = None
    dangerous_goods: bool | None = None
    status: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class OrderStatus(Exportable):
    """Payload of ``ORDER_STATUS``: where a shipment or receiving order stands.

    Attributes:
        order_number: The order it is about.
        order_type: ``"SHIPMENT"`` or ``"RECEIVING"`` (or the partner's own word).
        status: The status code (``"RECEIVED"``, ``"PICKED"``, ``"SHIPPED"``...). Kept as
            sent: status codes are agreed per partner.
        reason: A reason code, for a cancellation or a discrepancy.
        status_date: When the order reached the status (aware UTC).
        carrier: The carrier that took the goods.
        tracking_number: The carrier's tracking number.
        lines: The quantities the status confirms, line by line.
        notes: Free text.
    """

    order_number: str | None = None
    order_type: str | None = None
    status: str | None = None
    reason: str | None = None
    status_date: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    lines: tuple[OrderLine, ...] = ()
    notes: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


#: What :attr:`BusinessMessage.payload` holds: a typed payload, or the payload as it came (a
#: mapping) for a type the SDK does not know or a payload it could not read.
Payload = ShipmentOrder | ReceivingOrder | ItemMaster | OrderStatus | Mapping[str, Any] | None

#: Message type → payload model (an attrs class). Extend it with :func:`register_payload_type`.
PAYLOAD_TYPES: dict[str, Any] = {}


@functools.lru_cache(maxsize=1024)
def _type_key(message_type: str) -> str:
    # "SHIPMENT_ORDER", "ShipmentOrder", "shipment-order" are one type: the contract's
    # spelling is not published.
    return re.sub(r"[^0-9A-Za-z]", "", message_type).upper()


_TYPE_KEYS: dict[str, Any] = {}


def register_payload_type(message_type: str, model: Any) -> None:
    """Read the payload of messages of ``message_type`` into ``model``.

    ``model`` is a frozen attrs class registered with the SDK's converter
    (:func:`shiptrack_sdk._core.convert.register_wire_model`). Types are matched ignoring case and
    punctuation: ``"SHIPMENT_ORDER"``, ``"ShipmentOrder"`` and ``"shipment-order"`` are one.
    """
    PAYLOAD_TYPES[message_type] = model
    _TYPE_KEYS[_type_key(message_type)] = model


def _type_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


@attrs.frozen(slots=False)
class BusinessMessage(Exportable):
    """One LEX business message: the envelope and its payload.

    Attributes:
        id: The message's unique id.
        type: The message type, as sent (see :class:`MessageType`).
        timestamp: When LEX recorded the message (aware UTC); what ``GET`` pages by.
        partner_id: The 3PL partner the message is for or from.
        warehouse_id: The warehouse it concerns.
        payload: A :class:`ShipmentOrder`, :class:`ReceivingOrder`, :class:`ItemMaster` or
            :class:`OrderStatus` for those types; for any other type, or a payload that could
            not be read as its type (a warning is logged), the payload as it came, a mapping.
        extra: Envelope fields the SDK does not know, kept and sent back unchanged.
        raw: The message as it came.
    """

    id: str | None = None
    type: str | None = attrs.field(default=None, converter=_type_value)
    timestamp: datetime | None = None
    partner_id: str | None = None
    warehouse_id: str | None = None
    payload: Payload = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()

    @classmethod
    def create(
        cls,
        type: str | MessageType,
        payload: Payload,
        *,
        id: str | None = None,
        timestamp: datetime | None = None,
        partner_id: str | None = None,
        warehouse_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> BusinessMessage:
        """A new message to send: ``id`` defaults to a fresh UUID, ``timestamp`` to now (UTC)."""
        return cls(
            id=id or str(uuid.uuid4()),
            type=type,
            timestamp=timestamp or datetime.now(timezone.utc),
            partner_id=partner_id,
            warehouse_id=warehouse_id,
            payload=payload,
            extra=dict(extra or {}),
        )

    @property
    def is_typed(self) -> bool:
        """Whether :attr:`payload` was read into a typed model (not left as a mapping)."""
        return self.payload is not None and not isinstance(self.payload, Mapping)

    def to_wire(self, profile: WireProfile | None = None) -> dict[str, Any]:
        """The message as LEX's JSON: wire names (the SDK's, or ``profile``'s), ``extra``
        fields merged back, fields that are ``None`` left out."""
        wire: dict[str, Any] = _without_none(_converter(profile).unstructure(self))
        return wire


def _converter(profile: WireProfile | None) -> cattrs.Converter:
    return converter if profile is None else profile.converter


def _without_none(value: Any) -> Any:
    # Absent rather than null: the contract's view of nulls is not published, and an absent
    # optional field is what every JSON reader accepts. Whole quantities are written as
    # integers (8, not 8.0), which integer fields of any JSON reader accept.
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def read_message(item: Any, *, profile: WireProfile | None = None) -> BusinessMessage:
    """One message of a ``GET`` page (wire names the SDK's, or ``profile``'s), read without
    ever failing: a message is never lost.

    An envelope field that cannot be read (a ``timestamp`` that is not a date-time...) is left
    ``None`` and its value kept, under its wire name, in ``extra`` (and the whole message in
    ``raw``); an item that is not even a JSON object arrives as a message whose ``extra`` and
    ``raw`` hold it under ``"value"``. A warning names what could not be read. A message
    without a readable timestamp is taken to be at the polling loop's current one.
    """
    if not isinstance(item, Mapping):
        logger.warning(
            "lex: a message of the page is not a JSON object (%s); kept as it came",
            type(item).__name__,
        )
        return BusinessMessage(extra={"value": item}, raw={"value": item})
    using = _converter(profile)
    try:
        return using.structure(item, BusinessMessage)
    except STRUCTURE_ERRORS as exc:
        problem = describe_structure_error(exc)
    readable: dict[str, Any] = {}
    unreadable: dict[str, Any] = {}
    for key, value in item.items():
        try:
            using.structure({key: value}, BusinessMessage)
        except STRUCTURE_ERRORS:
            unreadable[key] = value
        else:
            readable[key] = value
    try:
        message = using.structure(readable, BusinessMessage)
    except STRUCTURE_ERRORS:  # the fields readable alone are not together: keep none
        message, unreadable = BusinessMessage(), dict(item)
    logger.warning(
        "lex: message %r: %s could not be read (%s); kept in extra",
        item.get("messageId"),
        ", ".join(sorted(map(str, unreadable))),
        problem,
    )
    return attrs.evolve(message, extra={**message.extra, **unreadable}, raw=item)


def message_body(
    message: Any, *, argument: str = "message", profile: WireProfile | None = None
) -> Any:
    """The JSON body that posts ``message`` to LEX, checked before anything is sent.

    Args:
        message: A :class:`BusinessMessage`, or a mapping already in LEX's wire form (sent
            as given, once it has passed the same checks).
        argument: The name errors give ``message``.
        profile: The contract profile whose wire names the body has (the SDK's if ``None``).

    Raises:
        ValidationError: ``message`` is a list (LEX takes one message per call), neither a
            message nor a mapping, not JSON data, or not a business message; its id, type,
            timestamp or payload is missing or bad (every such problem listed at once); or a
            text in it holds a lone surrogate.
    """
    if isinstance(message, (list, tuple, set, frozenset)) or (
        isinstance(message, Iterator) and not isinstance(message, Mapping)
    ):
        raise ValidationError(
            argument, "LEX takes one business message per call: call send() once per message"
        )
    body: Any = None
    if isinstance(message, BusinessMessage):
        envelope = message
    elif isinstance(message, Mapping):
        try:
            # NaN and infinity are no JSON: refused here rather than while sending.
            body = json.loads(json.dumps(message, allow_nan=False))
        except (TypeError, ValueError, RecursionError) as exc:
            raise ValidationError(argument, f"is not JSON data ({exc})") from None
        validate.no_surrogates(argument, body)
        try:
            envelope = _converter(profile).structure(body, BusinessMessage)
        except Exception as exc:  # any converter failure is the caller's malformed input
            raise ValidationError(argument, f"is not a business message ({exc})") from None
    else:
        raise ValidationError(
            argument, f"expected a BusinessMessage or a mapping, got {type(message).__name__}"
        )
    problems = _envelope_problems(envelope, argument)
    if problems:
        raise ValidationError.from_problems(problems)
    if body is None:
        try:
            body = envelope.to_wire(profile)
        except (TypeError, ValueError, OverflowError) as exc:  # e.g. a payload datetime
            raise ValidationError(argument, f"cannot be written as JSON ({exc})") from None
        validate.no_surrogates(argument, body)
    return body


def _envelope_problems(envelope: BusinessMessage, argument: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    texts = (
        ("id", envelope.id, "is required (BusinessMessage.create() makes one)"),
        ("type", envelope.type, "is required"),
    )
    for name, value, missing in texts:
        if value is None:
            problems.append((f"{argument}.{name}", missing))
            continue
        try:
            validate.text(f"{argument}.{name}", value, single_line=True)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if envelope.timestamp is None:
        problems.append((f"{argument}.timestamp", "is required"))
    else:
        try:
            validate.aware_utc(f"{argument}.timestamp", envelope.timestamp)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if envelope.payload is None:
        problems.append((f"{argument}.payload", "is required"))
    return problems


def message_key(message: BusinessMessage) -> str:
    """What identifies ``message`` for de-duplication: its id, or a digest of its content when
    it has none."""
    if message.id:
        return message.id
    content = json.dumps(message.raw, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


@attrs.frozen(slots=False)
class SendResult(Exportable):
    """What LEX answered to a posted message.

    Attributes:
        id: The message id LEX acknowledged, when it says.
        status: LEX's word for the outcome (``"ACCEPTED"``...), when it says.
        extra: Further fields of the answer.
        raw: The answer as it came (empty when LEX answered without a body).
    """

    id: str | None = None
    status: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


# -- reading pages -------------------------------------------------------------------------------

#: Keys under which an answer object may wrap its list of messages.
_WRAPPER_KEYS = ("messages", "businessMessages", "items", "data", "content", "results", "records")


def message_list(document: Any, *, profile: WireProfile | None = None) -> list[Any] | None:
    """The list of messages in a ``GET`` answer or a push delivery, or ``None`` when the
    document has none of the accepted shapes.

    Accepted: a JSON array of messages; an object wrapping the array under one of
    ``messages``, ``businessMessages``, ``items``, ``data``, ``content``, ``results`` or
    ``records`` (one level of nesting under ``data`` too); an empty object (no messages); one
    message object on its own.
    """
    if isinstance(document, list):
        return document
    if not isinstance(document, Mapping):
        return None
    if not document:
        return []
    for key in _WRAPPER_KEYS:
        value = document.get(key)
        if isinstance(value, list):
            return value
        if key == "data" and isinstance(value, Mapping):
            inner = message_list(value, profile=profile)
            if inner is not None:
                return inner
    try:
        single = _converter(profile).structure(document, BusinessMessage)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return [document] if single.id or single.type else None


def _register() -> None:
    register_payload_type(MessageType.SHIPMENT_ORDER.value, ShipmentOrder)
    register_payload_type(MessageType.RECEIVING_ORDER.value, ReceivingOrder)
    register_payload_type(MessageType.ITEM_MASTER.value, ItemMaster)
    register_payload_type(MessageType.ORDER_STATUS.value, OrderStatus)


_register()

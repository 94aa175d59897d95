"""The messages a carrier or TMS sends to LEX Shipment Tracking.

Michelin's portal describes what a tracking message holds — one event (a code, a type and a
business reference number), anomaly information, a document URL (required for some events,
for legal reasons), free-text attributes, ship-from and ship-to, the carrier, a list of
delivery notes and the sender — but not its field names, which are in the interface contract
each partner receives. The names below are therefore **the SDK's**: snake_case here, camelCase
on the wire (``document_url`` → ``documentUrl``), listed in the LEX tracking guide. Whatever a
partner's contract adds goes into ``extra`` (on the message and on each part) and is sent
unchanged, so the SDK never blocks a specification that has more.

Models are not checked when they are built:
:class:`~shiptrack_sdk.lex.tracking_validation.TrackingValidator` checks a whole list and
reports every problem at once, each with the message's index and the field's path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from .._core.convert import converter
from ..export import Exportable

if TYPE_CHECKING:
    from .profile import WireProfile

__all__ = [
    "Anomaly",
    "Attribute",
    "Carrier",
    "DeliveryNote",
    "Location",
    "Party",
    "ShipmentEvent",
    "TrackingAddress",
    "TrackingMessage",
]


def _extra() -> Any:
    # Part of equality (it is content that is sent), but not of the hash: a dict cannot be.
    return attrs.field(factory=dict, hash=False)


def _tuple(value: Any) -> Any:
    # A lone model or a string passed where a list is expected is kept as it is, so the
    # validator names it instead of the SDK splitting a string into characters.
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        return value
    return tuple(value)


@attrs.frozen
class TrackingAddress(Exportable):
    """A postal address, of a tracking message's party (Shipment Tracking).

    Not the address of an order: that is
    :class:`~shiptrack_sdk.lex.order_models.OrderAddress`.

    Attributes:
        street: Street and number, one line (further lines go into ``extra``).
        city: City.
        postal_code: Postal code, as written in the country.
        region: State, province or region, when the country uses one.
        country_code: ISO 3166-1 alpha-2 code (``"FR"``, ``"ES"``).
        extra: Further fields of the partner's contract, sent unchanged.
    """

    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country_code: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Party(Exportable):
    """A ship-from, ship-to or sender party.

    Attributes:
        id: The party's code (a Michelin site or customer code, the partner's id...).
        name: The party's name. One of ``id`` and ``name`` is required.
        address: Its postal address.
        contact_name: A person to contact.
        phone: A phone number.
        email: An e-mail address.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    id: str | None = None
    name: str | None = None
    address: TrackingAddress | None = None
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Carrier(Exportable):
    """The carrier moving the shipment.

    Attributes:
        id: The carrier's code (in Michelin's carrier list, or a SCAC). One of ``id`` and
            ``name`` is required.
        name: The carrier's name.
        tracking_number: The carrier's own tracking number of the shipment.
        tracking_url: A page where a person can follow the shipment.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    id: str | None = None
    name: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Location(Exportable):
    """Where an event happened.

    Attributes:
        name: The place as a person would say it (a depot, a hub, "Madrid").
        city: City.
        postal_code: Postal code.
        country_code: ISO 3166-1 alpha-2 code.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    name: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ShipmentEvent(Exportable):
    """The one event a tracking message reports.

    Attributes:
        code: The event code, from the INOVERT code list of the partner's contract
            (``"LIV"`` delivered, ``"MLV"`` out for delivery...). Required.
        business_reference: The business reference number the event is about (the shipment
            or delivery number Michelin knows). Required.
        occurred_at: When it happened; time-zone aware (sent in UTC, ISO 8601). Required.
        type: The event type of the partner's contract, when it has one (for INOVERT, the
            justification that qualifies the code, such as ``"CFM"``, conform).
        description: Free text, as the carrier wrote it.
        location: Where it happened.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    code: str
    business_reference: str
    occurred_at: datetime
    type: str | None = None
    description: str | None = None
    location: Location | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Anomaly(Exportable):
    """What went wrong, when the event reports a problem (refused, damaged, absent...).

    Attributes:
        code: The anomaly (reason) code of the partner's contract. Required.
        description: Free text.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    code: str
    description: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class DeliveryNote(Exportable):
    """A delivery note the shipment carries.

    Attributes:
        number: The delivery note's number. Required.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    number: str
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Attribute(Exportable):
    """A free-text attribute, for whatever the situation makes relevant.

    Attributes:
        name: The attribute's name. Required.
        value: Its value, as text.
        extra: Further fields of the partner's contract, sent unchanged.
    """

    name: str
    value: str
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class TrackingMessage(Exportable):
    """One shipment tracking message: one event, and what enriches it.

    Attributes:
        event: The event. Required.
        anomaly: What went wrong, when the event reports a problem.
        document_url: A document proving the event (proof of delivery...); required for
            the event codes configured in :class:`TrackingValidator` (``LIV`` by default).
        attributes: Free-text name/value attributes.
        ship_from: Where the shipment leaves from.
        ship_to: Where it goes.
        carrier: The carrier moving it (required by default).
        delivery_notes: The delivery notes it carries.
        sender: Who sends the message: the carrier, or its TMS (required by default).
        extra: Further top-level fields of the partner's contract, sent unchanged. A key
            that is also one of the fields above is refused by the validator.
    """

    event: ShipmentEvent
    anomaly: Anomaly | None = None
    document_url: str | None = None
    attributes: tuple[Attribute, ...] = attrs.field(default=(), converter=_tuple)
    ship_from: Party | None = None
    ship_to: Party | None = None
    carrier: Carrier | None = None
    delivery_notes: tuple[DeliveryNote, ...] = attrs.field(default=(), converter=_tuple)
    sender: Party | None = None
    extra: Mapping[str, Any] = _extra()

    def to_wire(self, profile: WireProfile | None = None) -> dict[str, Any]:
        """This message as the JSON sent to LEX (``profile``'s wire names, if given)."""
        result: dict[str, Any] = (profile.converter if profile else converter).unstructure(self)
        return result

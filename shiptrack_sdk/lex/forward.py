"""Forward normalized tracking to LEX: tracking messages from :class:`~shiptrack_sdk.Tracking`.

Any provider's tracking converts to the normalized model (``.to_tracking()``), so Shiplemon
or exporto tracking — or your own — is forwarded the same way::

    from shiptrack_sdk.lex.forward import EventCodeTable, messages_from_tracking

    codes = EventCodeTable({"TRANSIT": "AAR", "DELIVERED": ("LIV", "CFM")},
                           provider_codes={"OUT_FOR_DELIVERY": "MLV"})
    messages = messages_from_tracking(trackings, codes=codes, sender=me)
    report = lex.tracking.send(messages)

The event code of each event comes from a table the partner supplies: LEX expects the codes
of its contract (INOVERT), which no normalized status can stand for on its own. A status the
table does not map is an error naming it — never a silent default. Mapping a status to
``None`` says, explicitly, that its events are not forwarded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from .._core import validate
from ..errors import ValidationError
from ..models import Tracking, TrackingEvent, TrackingStatus
from .tracking_models import Carrier, Location, Party, ShipmentEvent, TrackingMessage

__all__ = [
    "SUGGESTED_INOVERT_CODES",
    "EventCode",
    "EventCodeTable",
    "message_from_event",
    "messages_from_tracking",
]


def _code_text(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None and attribute.name == "type":
        return
    if not isinstance(value, str) or not value.strip():
        allowed = "a non-empty string or None" if attribute.name == "type" else "a non-empty string"
        raise ValidationError(attribute.name, f"must be {allowed}")


@attrs.frozen
class EventCode:
    """The LEX event code (and type) an event is sent with.

    Attributes:
        code: The event code (``"LIV"``).
        type: The event type, when the contract uses one (``"CFM"``).
    """

    code: str = attrs.field(validator=_code_text)
    type: str | None = attrs.field(default=None, validator=_code_text)


#: What a table entry may be: ``"LIV"``, ``("LIV", "CFM")``, an :class:`EventCode`, or
#: ``None`` (events with this status are deliberately not forwarded).
EventCodeLike = str | tuple[str, str | None] | EventCode | None


def _event_code(value: Any, argument: str) -> EventCode | None:
    if value is None or isinstance(value, EventCode):
        return value
    if isinstance(value, str):
        parts: tuple[Any, Any] = (value, None)
    elif isinstance(value, tuple) and len(value) == 2:
        parts = value
    else:
        raise ValidationError(
            argument,
            f"expected 'CODE', ('CODE', 'TYPE'), EventCode or None, got {type(value).__name__}",
        )
    code = validate.text(argument, parts[0], single_line=True)
    kind = None if parts[1] is None else validate.text(argument, parts[1], single_line=True)
    return EventCode(code, kind)


def _status_key(key: Any) -> TrackingStatus:
    try:
        return key if isinstance(key, TrackingStatus) else TrackingStatus(key)
    except ValueError:
        raise ValidationError(
            "statuses", f"{key!r} is not one of {', '.join(s.value for s in TrackingStatus)}"
        ) from None


@attrs.frozen(init=False)
class EventCodeTable:
    """Which LEX event code each tracking event is sent with.

    An event's code is looked up, first match wins:

    1. in ``provider_codes``, by the event's ``provider_status_detail`` then its
       ``provider_status``, each first as ``"provider:value"`` then as ``"value"``
       (``"shiplemon:OUT_FOR_DELIVERY"``, ``"OUT_FOR_DELIVERY"``);
    2. in ``statuses``, by the event's normalized status.

    No match is an error; a ``None`` entry means "do not forward these events".

    Args:
        statuses: Normalized status (``TrackingStatus`` or its name) → code.
        provider_codes: Provider value → code, for finer codes than the five statuses allow
            (out for delivery, picked up...).
    """

    statuses: Mapping[TrackingStatus, EventCode | None]
    provider_codes: Mapping[str, EventCode | None]

    def __init__(
        self,
        statuses: Mapping[TrackingStatus | str, EventCodeLike],
        *,
        provider_codes: Mapping[str, EventCodeLike] | None = None,
    ) -> None:
        if not isinstance(statuses, Mapping):
            raise ValidationError("statuses", "must be a mapping of status to event code")
        if provider_codes is not None and not isinstance(provider_codes, Mapping):
            raise ValidationError("provider_codes", "must be a mapping of provider value to code")
        table = {
            _status_key(key): _event_code(value, f"statuses[{key!r}]")
            for key, value in statuses.items()
        }
        details: dict[str, EventCode | None] = {}
        for key, value in (provider_codes or {}).items():
            if not isinstance(key, str) or not key:
                raise ValidationError("provider_codes", f"keys must be non-empty strings: {key!r}")
            details[key] = _event_code(value, f"provider_codes[{key!r}]")
        self.__attrs_init__(table, details)

    def with_overrides(
        self,
        statuses: Mapping[TrackingStatus | str, EventCodeLike] | None = None,
        *,
        provider_codes: Mapping[str, EventCodeLike] | None = None,
    ) -> EventCodeTable:
        """A copy of this table with some entries added or replaced.

        Raises:
            ValidationError: an argument is not a mapping, or an entry is refused.
        """
        if statuses is not None and not isinstance(statuses, Mapping):
            raise ValidationError("statuses", "must be a mapping of status to event code")
        if provider_codes is not None and not isinstance(provider_codes, Mapping):
            raise ValidationError("provider_codes", "must be a mapping of provider value to code")
        merged: dict[TrackingStatus | str, EventCodeLike] = {}
        for status, code in self.statuses.items():
            merged[status] = code
        merged.update(statuses or {})
        details: dict[str, EventCodeLike] = {}
        details.update(self.provider_codes)
        details.update(provider_codes or {})
        return EventCodeTable(merged, provider_codes=details)

    def lookup(self, event: TrackingEvent, provider: str | None = None) -> EventCode | None:
        """The code of ``event`` (``None``: not forwarded).

        Args:
            event: A normalized event.
            provider: The provider the event comes from (``Tracking.provider``), for the
                ``"provider:value"`` entries of ``provider_codes``.

        Raises:
            KeyError: nothing in the table matches the event.
            ValidationError: ``event`` is not a TrackingEvent, or ``provider`` not a string.
        """
        if not isinstance(event, TrackingEvent):
            raise ValidationError("event", f"expected a TrackingEvent, got {type(event).__name__}")
        if provider is not None and not isinstance(provider, str):
            raise ValidationError("provider", "must be a string or None")
        for value in (event.provider_status_detail, event.provider_status):
            if not value:
                continue
            for key in ((f"{provider}:{value}",) if provider else ()) + (value,):
                if key in self.provider_codes:
                    return self.provider_codes[key]
        if event.status in self.statuses:
            return self.statuses[event.status]
        raise KeyError(event.status)


#: A starting point in INOVERT style, to check against the code list of your contract
#: before use: INOVERT's code lists are published to GTF members, and Michelin's
#: specification says which codes it expects. ``PRE_TRANSIT`` events are not forwarded (the
#: goods are not with the carrier yet); ``EXCEPTION`` and ``UNKNOWN`` are deliberately left
#: out, because the right code depends on what went wrong: add them with
#: :meth:`EventCodeTable.with_overrides`.
SUGGESTED_INOVERT_CODES = EventCodeTable(
    {
        TrackingStatus.PRE_TRANSIT: None,
        TrackingStatus.TRANSIT: "AAR",  # arrivée: in the carrier's network
        TrackingStatus.DELIVERED: "LIV",  # livraison: delivered (proof of delivery required)
    },
    provider_codes={
        "PICKED_UP": "ENL",  # enlèvement: collected from the shipper
        "OUT_FOR_DELIVERY": "MLV",  # mise en livraison: out for delivery
        "WITH_COURIER": "MLV",
    },
)

PartyLike = Party | Callable[[Tracking], Party | None] | None
CarrierLike = Carrier | Callable[[Tracking], Carrier | None] | None
DocumentUrl = Callable[[Tracking, TrackingEvent], str | None]
Customize = Callable[[TrackingMessage, Tracking, TrackingEvent], TrackingMessage]


def _per_tracking(value: Any, tracking: Tracking) -> Any:
    return value(tracking) if callable(value) else value


def _default_carrier(tracking: Tracking) -> Carrier | None:
    if not (tracking.carrier or tracking.tracking_ref):
        return None
    return Carrier(
        name=tracking.carrier,
        tracking_number=tracking.tracking_ref,
        tracking_url=tracking.tracking_url,
    )


def message_from_event(
    tracking: Tracking,
    event: TrackingEvent,
    code: EventCode,
    *,
    sender: Party | None,
    carrier: Carrier | None = None,
    ship_from: Party | None = None,
    ship_to: Party | None = None,
    business_reference: str | None = None,
    document_url: str | None = None,
) -> TrackingMessage:
    """The tracking message of one event of ``tracking``, sent with ``code``.

    ``business_reference`` defaults to the tracking's ``shipment_id``; the event's
    description and location are carried over.

    Raises:
        ValidationError: an argument is not of its type (``code`` may also be given as
            ``"CODE"`` or ``("CODE", "TYPE")``).
    """
    if not isinstance(tracking, Tracking):
        raise ValidationError("tracking", f"expected a Tracking, got {type(tracking).__name__}")
    if not isinstance(event, TrackingEvent):
        raise ValidationError("event", f"expected a TrackingEvent, got {type(event).__name__}")
    if code is None:
        raise ValidationError("code", "expected an EventCode, got None")
    checked = _event_code(code, "code")
    assert checked is not None
    code = checked
    _check_optional("sender", sender, Party)
    _check_optional("carrier", carrier, Carrier)
    _check_optional("ship_from", ship_from, Party)
    _check_optional("ship_to", ship_to, Party)
    _check_optional("business_reference", business_reference, str)
    _check_optional("document_url", document_url, str)
    return TrackingMessage(
        event=ShipmentEvent(
            code=code.code,
            type=code.type,
            business_reference=business_reference or tracking.shipment_id,
            occurred_at=event.occurred_at,
            description=event.description,
            location=Location(name=event.location) if event.location else None,
        ),
        document_url=document_url,
        carrier=carrier,
        ship_from=ship_from,
        ship_to=ship_to,
        sender=sender,
    )


def messages_from_tracking(
    trackings: Tracking | Iterable[Tracking],
    *,
    codes: EventCodeTable | Mapping[TrackingStatus | str, EventCodeLike],
    sender: PartyLike,
    carrier: CarrierLike = _default_carrier,
    ship_from: PartyLike = None,
    ship_to: PartyLike = None,
    business_reference: Callable[[Tracking], str] | None = None,
    document_url: DocumentUrl | None = None,
    customize: Customize | None = None,
    since: datetime | None = None,
    last_only: bool = False,
) -> list[TrackingMessage]:
    """LEX tracking messages for the events of one or more trackings, oldest first.

    Every event becomes one message (LEX takes one event per message), coded through
    ``codes``. Events whose code is ``None`` in the table are left out, as the table says.

    Args:
        trackings: A :class:`~shiptrack_sdk.Tracking` or several, from any provider.
        codes: Status → event code (:class:`EventCodeTable`, or a mapping it is built from).
        sender: Who sends the messages (you), or a callable ``tracking -> Party``.
        carrier: The carrier, or a callable ``tracking -> Carrier``; by default built from
            the tracking's ``carrier``, ``tracking_ref`` and ``tracking_url``.
        ship_from: The ship-from party, or a callable ``tracking -> Party``.
        ship_to: The ship-to party, or a callable ``tracking -> Party``.
        business_reference: ``tracking -> reference`` (default: the ``shipment_id``).
        document_url: ``(tracking, event) -> URL or None``, for the proof of delivery that
            delivered events need.
        customize: ``(message, tracking, event) -> message``, to add an anomaly,
            attributes, delivery notes or ``extra`` fields (with :func:`attrs.evolve`).
        since: Only events that occurred after this aware datetime (incremental forwarding).
        last_only: Only the newest event of each tracking.

    Raises:
        ValidationError: a status or provider value that ``codes`` does not map (every one
            listed, as ``trackings[0].events[2]``), or bad arguments.
    """
    if not isinstance(codes, (EventCodeTable, Mapping)):
        raise ValidationError("codes", "must be an EventCodeTable or a mapping of status to code")
    _check_party("sender", sender, Party)
    _check_party("carrier", carrier, Carrier)
    _check_party("ship_from", ship_from, Party)
    _check_party("ship_to", ship_to, Party)
    for argument, value in (
        ("business_reference", business_reference),
        ("document_url", document_url),
        ("customize", customize),
    ):
        if value is not None and not callable(value):
            raise ValidationError(argument, "must be callable or None")
    if not isinstance(last_only, bool):
        raise ValidationError("last_only", "must be True or False")
    table = codes if isinstance(codes, EventCodeTable) else EventCodeTable(codes)
    if isinstance(trackings, Tracking):
        trackings = [trackings]
    if isinstance(trackings, (str, bytes, Mapping)) or not isinstance(trackings, Iterable):
        raise ValidationError("trackings", "must be a Tracking or a list of Tracking")
    if since is not None:
        since = validate.aware_utc("since", since)
    messages: list[TrackingMessage] = []
    problems: list[tuple[str, str]] = []
    items: Iterable[Any] = trackings
    for t_index, tracking in enumerate(items):
        if not isinstance(tracking, Tracking):
            got = type(tracking).__name__
            problems.append((f"trackings[{t_index}]", f"expected Tracking, got {got}"))
            continue
        events = list(enumerate(tracking.events))
        if last_only:
            events = events[-1:]
        if since is not None:
            events = [(i, e) for i, e in events if e.occurred_at > since]
        if not events:
            continue
        parties = {
            "sender": _per_tracking(sender, tracking),
            "carrier": _per_tracking(carrier, tracking),
            "ship_from": _per_tracking(ship_from, tracking),
            "ship_to": _per_tracking(ship_to, tracking),
        }
        reference = business_reference(tracking) if business_reference else None
        for e_index, event in events:
            try:
                code = table.lookup(event, tracking.provider)
            except KeyError:
                problems.append(
                    (f"trackings[{t_index}].events[{e_index}]", _unmapped(tracking, event))
                )
                continue
            if code is None:
                continue
            message = message_from_event(
                tracking,
                event,
                code,
                business_reference=reference,
                document_url=document_url(tracking, event) if document_url else None,
                **parties,
            )
            if customize is not None:
                message = customize(message, tracking, event)
                if not isinstance(message, TrackingMessage):
                    raise ValidationError(
                        "customize",
                        f"must return a TrackingMessage, returned {type(message).__name__}",
                    )
            messages.append(message)
    if problems:
        raise ValidationError.from_problems(problems)
    return messages


def _check_optional(argument: str, value: Any, kind: type[Any]) -> None:
    if value is not None and not isinstance(value, kind):
        shown = "a string" if kind is str else f"a {kind.__name__}"
        raise ValidationError(argument, f"expected {shown} or None, got {type(value).__name__}")


def _check_party(argument: str, value: Any, kind: type[Any]) -> None:
    if value is not None and not isinstance(value, kind) and not callable(value):
        raise ValidationError(
            argument,
            f"expected a {kind.__name__}, a callable tracking -> {kind.__name__}, or None; "
            f"got {type(value).__name__}",
        )


def _unmapped(tracking: Tracking, event: TrackingEvent) -> str:
    seen = [f"status {event.status.value}"]
    if event.provider_status:
        seen.append(f"{tracking.provider} status {event.provider_status!r}")
    if event.provider_status_detail:
        seen.append(f"detail {event.provider_status_detail!r}")
    return (
        f"no LEX event code for {', '.join(seen)}; map it in the EventCodeTable "
        "(or map it to None to leave such events out)"
    )

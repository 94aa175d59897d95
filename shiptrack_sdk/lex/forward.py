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

The messages are checked as they are built, by the validator that
:meth:`~shiptrack_sdk.lex.tracking.TrackingResource.send` runs: a message ``send()`` would
refuse is refused here, each problem naming the argument that sets the field (``carrier=``,
``document_url=``...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from .._core import validate
from ..errors import ValidationError
from ..models import Tracking, TrackingEvent, TrackingStatus
from .tracking_models import (
    Carrier,
    Location,
    Party,
    ShipmentEvent,
    TrackingMessage,
)
from .tracking_validation import TrackingValidator

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
#: goods are not with the carrier yet), nor are exporto's own processing steps (processed,
#: declared to customs: the parcel is not with a carrier yet either); exporto's hand-over to
#: the last-mile carrier is the carrier's pick-up. ``EXCEPTION`` and ``UNKNOWN`` are
#: deliberately left out, because the right code depends on what went wrong: add them with
#: :meth:`EventCodeTable.with_overrides`.
SUGGESTED_INOVERT_CODES = EventCodeTable(
    {
        TrackingStatus.PRE_TRANSIT: None,
        TrackingStatus.TRANSIT: "AAR",  # arrivée: in the carrier's network
        TrackingStatus.DELIVERED: "LIV",  # livraison: delivered (proof of delivery required)
    },
    provider_codes={
        "PICKED_UP": "ENL",  # enlèvement: collected from the shipper
        "exporto:carrierReceivedAt": "ENL",
        "OUT_FOR_DELIVERY": "MLV",  # mise en livraison: out for delivery
        "WITH_COURIER": "MLV",
        "exporto:processedAt": None,
        "exporto:declaredAt": None,
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
    validator: TrackingValidator | None = None,
) -> list[TrackingMessage]:
    """LEX tracking messages for the events of one or more trackings, oldest first.

    Every event becomes one message (LEX takes one event per message), coded through
    ``codes``. Events whose code is ``None`` in the table are left out, as the table says.
    The messages are checked as :meth:`~shiptrack_sdk.lex.tracking.TrackingResource.send`
    checks them, so that what is returned is what ``send()`` accepts: a carrier with an id
    or a name, a ``document_url`` for the events that need one (``LIV``)...

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
        validator: The checks the messages must pass: by default those ``send()`` runs by
            default; pass the one you send with, if you replaced it.

    Raises:
        ValidationError: a status or provider value that ``codes`` does not map (every one
            listed, as ``trackings[0].events[2]``); or, once every event is mapped, every
            problem of the messages, each at its event and field and naming the argument
            that sets the field (``trackings[0].events[2].document_url``: "... pass
            document_url=..."); or bad arguments.
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
    if validator is not None and not isinstance(validator, TrackingValidator):
        raise ValidationError(
            "validator", f"expected a TrackingValidator or None, got {type(validator).__name__}"
        )
    table = codes if isinstance(codes, EventCodeTable) else EventCodeTable(codes)
    if isinstance(trackings, Tracking):
        trackings = [trackings]
    if isinstance(trackings, (str, bytes, Mapping)) or not isinstance(trackings, Iterable):
        raise ValidationError("trackings", "must be a Tracking or a list of Tracking")
    if since is not None:
        since = validate.aware_utc("since", since)
    messages: list[TrackingMessage] = []
    built_from: list[str] = []  # each message's event, as "trackings[0].events[2]"
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
            built_from.append(f"trackings[{t_index}].events[{e_index}]")
    if problems:
        raise ValidationError.from_problems(problems)
    given = {
        "sender": sender,
        "carrier": None if carrier is _default_carrier else carrier,
        "ship_from": ship_from,
        "ship_to": ship_to,
        "business_reference": business_reference,
        "document_url": document_url,
        "customize": customize,
    }
    found = (validator or TrackingValidator()).problems(messages)
    if found:
        raise ValidationError.from_problems(
            [_at_event(path, problem, built_from, given) for path, problem in found]
        )
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


_PARTY = "a Party with an id or a name, or a callable tracking -> Party"

#: The arguments of :func:`messages_from_tracking` that set a part of a message, and what
#: each takes.
_PART_ARGUMENTS = {
    "carrier": "a Carrier with an id or a name, or a callable tracking -> Carrier",
    "document_url": "a callable (tracking, event) -> URL",
    "sender": _PARTY,
    "ship_from": _PARTY,
    "ship_to": _PARTY,
}
_CUSTOMIZE = "a callable (message, tracking, event) -> message"


def _set_by(field: str) -> tuple[str, str]:
    """The argument of :func:`messages_from_tracking` that sets ``field`` of a message
    (``""``: the tracking's own event), and what it takes."""
    part, _, rest = field.partition(".")
    part = part.partition("[")[0]
    if part == "event":
        detail = rest.partition(".")[0]
        if detail == "business_reference":
            return "business_reference", "a callable tracking -> reference"
        if detail in ("code", "type"):
            return "codes", ""
        if detail in ("occurred_at", "description", "location"):
            return "", ""
    elif part in _PART_ARGUMENTS:
        return part, _PART_ARGUMENTS[part]
    # An anomaly, attributes, delivery notes, extra fields: only customize= adds them.
    return "customize", _CUSTOMIZE


def _at_event(
    path: str, problem: str, built_from: list[str], given: Mapping[str, Any]
) -> tuple[str, str]:
    """A validator's ``("messages[3].carrier", problem)`` as
    ``("trackings[0].events[2].carrier", problem and the argument that fixes it)``."""
    index, _, field = path.removeprefix("messages[").partition("]")
    field = field.removeprefix(".")
    where = built_from[int(index)] + (f".{field}" if field else "")
    argument, what = _set_by(field)
    if not argument:
        hint = " (from the tracking's event: change it with customize=)"
    elif argument == "codes":
        hint = " (set by codes=)"
    elif given[argument] is None:
        hint = _missing_hint(argument, field, what)
    elif argument == "document_url" and problem.startswith("is required"):
        hint = " (document_url= gave no URL for this event)"
    else:
        hint = f" (set by {argument}=)"
    return where, problem + hint


def _missing_hint(argument: str, field: str, what: str) -> str:
    """What to pass, for a problem of a field whose argument was not given."""
    if argument == "carrier" and field == "carrier":
        return f"; the tracking names no carrier: pass carrier= ({what})"
    if argument == "carrier":
        return f" (from the tracking: pass carrier= to set it, {what})"
    if argument == "business_reference":
        return f" (the tracking's shipment_id: pass business_reference=, {what})"
    if argument == "customize":
        return f": add it with customize= ({what})"
    return f": pass {argument}= ({what})"

"""Checks of LEX tracking messages before anything is sent: :class:`TrackingValidator`.

It checks a whole list and reports every problem at once, each with the message's index and
the field's path (``messages[3].event.code``). The messages themselves are in
:mod:`shiptrack_sdk.lex.tracking_models`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._core import validate
from .._core.convert import _camel
from ..errors import ValidationError
from . import tracking_models as models

__all__ = [
    "DEFAULT_DOCUMENT_REQUIRED_CODES",
    "DEFAULT_LIMITS",
    "DEFAULT_REQUIRED_PARTS",
    "OPTIONAL_PARTS",
    "TrackingValidator",
    "validate_messages",
]


#: Event codes whose messages must carry a ``document_url``: INOVERT's ``LIV`` (delivered),
#: whose proof of delivery Michelin requires for legal reasons.
DEFAULT_DOCUMENT_REQUIRED_CODES: frozenset[str] = frozenset({"LIV"})

#: The parts that must be present on every message, by default.
DEFAULT_REQUIRED_PARTS: frozenset[str] = frozenset({"event", "carrier", "sender"})

#: The parts that may be made required (``required_parts=``).
OPTIONAL_PARTS: frozenset[str] = frozenset(
    {"anomaly", "document_url", "ship_from", "ship_to", "carrier", "sender", "delivery_notes"}
)

#: Longest text accepted, by kind of field: codes follow EDIFACT's an..35; references,
#: names and free text are generous bounds that only catch mistakes (a whole file in a
#: field), not a partner's real data.
DEFAULT_LIMITS: Mapping[str, int] = {
    "code": 35,
    "reference": 70,
    "name": 256,
    "text": 2048,
    "url": 2048,
}

# Each part's text fields and their kinds; a ``!`` marks a required one.
_EVENT_FIELDS = {
    "code": "code!",
    "business_reference": "reference!",
    "type": "code",
    "description": "text",
}
_ANOMALY_FIELDS = {"code": "code!", "description": "text"}
_PARTY_FIELDS = {
    "id": "reference",
    "name": "name",
    "contact_name": "name",
    "phone": "name",
    "email": "name",
}
_ADDRESS_FIELDS = {
    "street": "name",
    "city": "name",
    "postal_code": "code",
    "region": "name",
    "country_code": "country",
}
_LOCATION_FIELDS = {
    "name": "name",
    "city": "name",
    "postal_code": "code",
    "country_code": "country",
}
_CARRIER_FIELDS = {
    "id": "reference",
    "name": "name",
    "tracking_number": "reference",
    "tracking_url": "url",
}


_PARTS = {
    "event": _EVENT_FIELDS,
    "anomaly": _ANOMALY_FIELDS,
    "party": _PARTY_FIELDS,
    "address": _ADDRESS_FIELDS,
    "location": _LOCATION_FIELDS,
    "carrier": _CARRIER_FIELDS,
}

#: A part's text fields as ``(name, kind, limit, required)``: ``limit`` is ``None`` for a
#: kind whose check is more than the text rule (a URL, a country code).
_Plan = tuple[tuple[str, str, "int | None", bool], ...]


def _plan(fields: Mapping[str, str], text_limits: Mapping[str, int]) -> _Plan:
    return tuple(
        (name, kind.rstrip("!"), text_limits.get(kind.rstrip("!")), kind.endswith("!"))
        for name, kind in fields.items()
    )


def _str_set(values: Iterable[str]) -> frozenset[str]:
    if isinstance(values, str):  # one code, not its characters
        return frozenset({values})
    return frozenset(values)


def _is_country(value: str) -> bool:
    """Whether ``value`` has the shape of an ISO 3166-1 alpha-2 code (two ASCII letters)."""
    return len(value) == 2 and value.isascii() and value.isalpha()


def _wire_names(cls: type[Any], renames: Mapping[str, Mapping[str, str]]) -> frozenset[str]:
    own = renames.get(cls.__name__, {})
    key = (cls, tuple(sorted(own.items())))
    # Worked out once per model and contract: it is asked for every part of every message.
    names = _WIRE_NAMES.get(key)
    if names is None:
        fields = attrs.fields_dict(cls)
        names = _WIRE_NAMES[key] = frozenset(
            own.get(n) or _camel(n) for n in fields if n != "extra"
        )
    return names


#: Each model's wire names under each contract's renames (a few models, a few contracts).
_WIRE_NAMES: dict[tuple[type[Any], tuple[tuple[str, str], ...]], frozenset[str]] = {}


@attrs.frozen
class TrackingValidator:
    """Checks tracking messages before anything is sent; reports every problem at once.

    Args:
        document_required_codes: Event codes whose messages need a ``document_url``
            (default: ``{"LIV"}``). Pass the codes of your contract; an empty set checks none.
        required_parts: Parts every message must have, among ``event`` (always required),
            ``carrier``, ``sender``, ``ship_from``, ``ship_to``, ``anomaly``,
            ``document_url`` and ``delivery_notes`` (default: event, carrier, sender).
        limits: Longest text by kind (``code``, ``reference``, ``name``, ``text``, ``url``);
            given keys replace :data:`DEFAULT_LIMITS`' ones.
        renames: A contract profile's wire names, by model then field: ``extra`` shadows none.

    Checks: required parts present; event code, business reference and anomaly code
    non-empty; ``occurred_at`` a time-zone aware datetime; ``document_url`` an absolute
    http(s) URL, present for the configured codes; every text a string of sane length, never
    empty (use ``None``); country codes of two letters; ``extra`` JSON-serializable, with
    string keys that do not shadow a field.
    """

    document_required_codes: frozenset[str] = attrs.field(
        default=DEFAULT_DOCUMENT_REQUIRED_CODES, converter=_str_set
    )
    required_parts: frozenset[str] = attrs.field(default=DEFAULT_REQUIRED_PARTS, converter=_str_set)
    limits: Mapping[str, int] = attrs.field(factory=dict, hash=False)
    renames: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict, hash=False, repr=False)
    text_limits: Mapping[str, int] = attrs.field(init=False, hash=False, repr=False, eq=False)
    plans: Mapping[str, _Plan] = attrs.field(init=False, hash=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        unknown = self.required_parts - OPTIONAL_PARTS - {"event"}
        if unknown:
            raise ValidationError(
                "required_parts",
                f"unknown part(s) {', '.join(sorted(unknown))}; choose among "
                + ", ".join(sorted(OPTIONAL_PARTS | {"event"})),
            )
        for code in self.document_required_codes:
            if not isinstance(code, str) or not code:
                raise ValidationError("document_required_codes", "must hold non-empty strings")
        for kind, limit in self.limits.items():
            if kind not in DEFAULT_LIMITS:
                raise ValidationError(
                    "limits", f"unknown kind {kind!r}; choose among {', '.join(DEFAULT_LIMITS)}"
                )
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValidationError(f"limits[{kind!r}]", "must be a positive integer")
        object.__setattr__(self, "limits", {**DEFAULT_LIMITS, **self.limits})
        # The kinds whose only check is the text rule (a URL's is more), and their limits.
        text_limits = {kind: limit for kind, limit in self.limits.items() if kind != "url"}
        object.__setattr__(self, "text_limits", text_limits)
        plans = {part: _plan(fields, text_limits) for part, fields in _PARTS.items()}
        object.__setattr__(self, "plans", plans)

    def problems(
        self, messages: Iterable[Any], *, argument: str = "messages"
    ) -> list[tuple[str, str]]:
        """Every problem of ``messages``, as ``(path, problem)`` pairs (empty when valid)."""
        if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
            return [(argument, "must be a list of TrackingMessage")]
        found: list[tuple[str, str]] = []
        check = _MessageCheck(self, argument, found)
        for check.index, message in enumerate(messages):
            check.message(message)
        return found

    def validate(self, messages: Iterable[Any], *, argument: str = "messages") -> None:
        """Raise :class:`~shiptrack_sdk.ValidationError` listing every problem, if any."""
        found = self.problems(messages, argument=argument)
        if found:
            raise ValidationError.from_problems(found)


def validate_messages(
    messages: Iterable[Any],
    *,
    document_required_codes: Collection[str] = DEFAULT_DOCUMENT_REQUIRED_CODES,
    required_parts: Collection[str] = DEFAULT_REQUIRED_PARTS,
    limits: Mapping[str, int] | None = None,
) -> None:
    """Check ``messages`` as :meth:`TrackingValidator.validate` does, with these settings.

    Raises:
        ValidationError: every problem at once, in ``problems`` as
            ``("messages[3].event.code", "must not be empty")`` pairs.
    """
    validator = TrackingValidator(document_required_codes, required_parts, dict(limits or {}))
    validator.validate(messages)


class _MessageCheck:
    """Checks messages, one at a time (``index``), appending ``(path, problem)`` pairs.

    Paths are written out only for a problem: most values have none.
    """

    def __init__(
        self, validator: TrackingValidator, argument: str, found: list[tuple[str, str]]
    ) -> None:
        self.v = validator
        self.argument = argument
        self.index = 0
        self.found = found

    def add(self, where: str, problem: str) -> None:
        path = f"{self.argument}[{self.index}]"
        self.found.append((f"{path}.{where}" if where else path, problem))

    # -- values ---------------------------------------------------------------------------

    def text(
        self, where: str, value: Any, kind: str, *, required: bool = False, name: str = ""
    ) -> None:
        """Check one text value at ``where`` (``.name`` appended when given): the path is
        written out only for a problem, not for each of the many values that have none."""
        limit = self.v.text_limits.get(kind)
        if limit is not None and validate.is_text(value, limit):
            return  # the usual case: a text of its kind, on one line
        if kind == "country" and validate.is_text(value, 2) and _is_country(value):
            return
        if value is None:
            if required:
                self.add(f"{where}.{name}" if name else where, "is required")
            return
        try:
            if kind == "country":
                validate.text(kind, value)
                if not _is_country(value):
                    problem = f"{value!r} is not an ISO 3166-1 alpha-2 country code"
                    self.add(f"{where}.{name}" if name else where, problem)
            elif kind == "url":
                validate.text(kind, value, max_length=self.v.limits["url"])
                validate.http_url(kind, value)
            else:
                # A code or a reference is one token: a line break in it is a mistake.
                single_line = kind in ("code", "reference")
                limit = self.v.limits[kind]
                validate.text(kind, value, max_length=limit, single_line=single_line)
        except ValidationError as exc:
            problem = exc.problems[0][1]
            if not required and isinstance(value, str) and not value.strip():
                problem += " (use None)"
            self.add(f"{where}.{name}" if name else where, problem)

    def check_extra(self, where: str, obj: Any) -> None:
        extra = obj.extra
        if type(extra) is dict and not extra:
            return  # the usual case, checked on every part of every message: nothing to do
        here = f"{where}.extra" if where else "extra"
        if not isinstance(extra, Mapping):
            self.add(here, f"expected a mapping, got {type(extra).__name__}")
            return
        if not extra:
            return
        known = _wire_names(type(obj), self.v.renames)
        for key in extra:
            if not isinstance(key, str):
                self.add(here, f"keys must be strings, got {key!r}")
            elif key in known:
                self.add(
                    f"{here}.{key}",
                    "is a field of the model; set the field instead of passing it in extra",
                )
        try:
            # allow_nan=False: NaN and infinity are no JSON, and the send would refuse them.
            json.dumps(extra, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            self.add(here, f"is not JSON-serializable ({exc})")
            return
        try:
            validate.no_surrogates(here, extra)
        except ValidationError as exc:
            self.add(exc.argument, exc.problems[0][1])

    def model(self, where: str, value: Any, cls: type[Any], *, required: bool) -> bool:
        """Whether ``value`` is a ``cls`` to check further (problems added otherwise)."""
        if value is None:
            if required:
                self.add(where, "is required")
            return False
        if not isinstance(value, cls):
            self.add(where, f"expected {cls.__name__}, got {type(value).__name__}")
            return False
        return True

    def fields(self, where: str, obj: Any, part: str, *, extra: bool = True) -> None:
        """Check the text fields of ``obj``, a ``part`` (``"event"``...), and (unless told
        otherwise) its extra."""
        is_text = validate.is_text
        for name, kind, limit, required in self.v.plans[part]:
            value = getattr(obj, name)
            if value is None:
                if required:
                    self.add(f"{where}.{name}", "is required")
            elif limit is None or not is_text(value, limit):  # the usual text needs no call
                self.text(where, value, kind, required=required, name=name)
        if extra:
            self.check_extra(where, obj)

    # -- parts ----------------------------------------------------------------------------

    def message(self, message: Any) -> None:
        if not isinstance(message, models.TrackingMessage):
            self.add("", f"expected TrackingMessage, got {type(message).__name__}")
            return
        required = self.v.required_parts
        self.event(message.event)
        # Absent optional parts and empty lists, the usual case, are passed over without a call.
        anomaly = message.anomaly
        if (anomaly is not None or "anomaly" in required) and self.model(
            "anomaly", anomaly, models.Anomaly, required="anomaly" in required
        ):
            self.anomaly(anomaly)
        code = message.event.code if isinstance(message.event, models.ShipmentEvent) else None
        needs_document = "document_url" in required or (
            isinstance(code, str) and code in self.v.document_required_codes
        )
        if message.document_url is None and needs_document:
            reason = f" for event code {code!r}" if "document_url" not in required else ""
            self.add("document_url", f"is required{reason} (proof of the event)")
        elif message.document_url is not None:
            self.text("document_url", message.document_url, "url")
        for name in ("ship_from", "ship_to", "sender"):
            party = getattr(message, name)
            if (party is not None or name in required) and self.model(
                name, party, models.Party, required=name in required
            ):
                self.party(name, party)
        if self.model("carrier", message.carrier, models.Carrier, required="carrier" in required):
            self.fields("carrier", message.carrier, "carrier")
            self.one_of("carrier", message.carrier)
        attributes, notes = message.attributes, message.delivery_notes
        if attributes.__class__ is not tuple or attributes:
            self.attributes(attributes)
        if notes.__class__ is not tuple or notes or "delivery_notes" in required:
            self.delivery_notes(notes, required="delivery_notes" in required)
        self.check_extra("", message)

    def event(self, event: Any) -> None:
        if not self.model("event", event, models.ShipmentEvent, required=True):
            return
        self.fields("event", event, "event", extra=False)  # its extra last, as it always was
        when = event.occurred_at
        if when is None:
            self.add("event.occurred_at", "is required")
        else:
            try:
                # Converted, not only checked: the wire form is UTC, so a time that has no
                # UTC form (9999-12-31T23:00-05:00) is refused here, not while encoding.
                validate.aware_utc("event.occurred_at", when)
            except ValidationError as exc:
                self.add("event.occurred_at", exc.problems[0][1])
        location = event.location
        if location is not None and self.model(
            "event.location", location, models.Location, required=False
        ):
            self.fields("event.location", location, "location")
        self.check_extra("event", event)

    def anomaly(self, anomaly: Any) -> None:
        self.fields("anomaly", anomaly, "anomaly")

    def party(self, where: str, party: models.Party) -> None:
        self.fields(where, party, "party")
        self.one_of(where, party)
        address = party.address
        if address is not None and self.model(
            f"{where}.address", address, models.TrackingAddress, required=False
        ):
            self.fields(f"{where}.address", party.address, "address")

    def one_of(self, where: str, obj: Any) -> None:
        if obj.id is None and obj.name is None:
            self.add(where, "needs an id or a name")

    def attributes(self, attributes: Sequence[Any]) -> None:
        if not isinstance(attributes, tuple):
            self.add("attributes", "must be a list of Attribute")
            return
        for i, attribute in enumerate(attributes):
            where = f"attributes[{i}]"
            if self.model(where, attribute, models.Attribute, required=True):
                self.text(f"{where}.name", attribute.name, "name", required=True)
                if not isinstance(attribute.value, str):
                    self.add(
                        f"{where}.value",
                        f"expected a string, got {type(attribute.value).__name__}",
                    )
                else:
                    self.text(f"{where}.value", attribute.value or None, "text")
                self.check_extra(where, attribute)

    def delivery_notes(self, notes: Sequence[Any], *, required: bool) -> None:
        if not isinstance(notes, tuple):
            self.add("delivery_notes", "must be a list of DeliveryNote")
            return
        if required and not notes:
            self.add("delivery_notes", "is required (at least one)")
        for i, note in enumerate(notes):
            where = f"delivery_notes[{i}]"
            if self.model(where, note, models.DeliveryNote, required=True):
                self.text(f"{where}.number", note.number, "reference", required=True)
                self.check_extra(where, note)

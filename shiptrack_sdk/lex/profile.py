"""A LEX contract profile: what a partner's Specification says that the SDK's defaults do not.

Every LEX field name the SDK uses — of the tracking messages and their parts, of the Order
Execution envelope and its payloads — is the SDK's own choice: the real names are in the
*Specification* each partner receives from Michelin, which is not published. ``extra`` can add
fields, never rename the SDK's. A :class:`WireProfile` holds what a contract says differently:

* a wire name for any field of any LEX model (``renames``);
* the parts every tracking message must have, and the event codes that need a document;
* the Shipment Tracking and Order Execution paths;
* a JSON Schema of each kind of message, if the partner has one: messages are checked against
  it before anything is sent (this needs ``jsonschema``: ``pip install
  "shiptrack-sdk[schema]"``).

The converter applies the renames both ways: messages are written with the profile's names and
read with them. The SDK's own names are the default profile, :data:`DEFAULT_PROFILE`, which uses
the SDK's converter itself; a profile that renames a field gets a converter of its own, a copy
of the SDK's with the LEX models registered under its names, made once and shared by every
equal profile.

A profile is written as a JSON or TOML file and loaded with :meth:`WireProfile.load` (TOML
is read with the standard library's ``tomllib`` on Python 3.11+; on 3.10 with ``tomli``, which
``pip install "shiptrack-sdk[profile]"`` brings)::

    tracking_path = "partner/v2/shipment-tracking"
    required_parts = ["event", "carrier", "sender", "ship_to"]
    document_required_codes = ["LIV", "RES"]
    tracking_schema = "tracking.schema.json"       # relative to the profile's file

    [renames.TrackingMessage]
    document_url = "podUrl"

    [renames.ShipmentEvent]
    code = "eventCode"
    business_reference = "shipmentNumber"
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from .._core import validate
from .._core.convert import _camel
from .._core.convert import converter as sdk_converter
from ..errors import ValidationError
from . import order_models, tracking_models, tracking_validation
from ._hooks import RENAMES, register_hooks

__all__ = ["DEFAULT_PROFILE", "MODELS", "WireProfile"]

#: Every LEX model whose fields a profile can rename, by name: the tracking message and its
#: parts, and the Order Execution envelope, its payloads, their parts and the send answer.
#:
#: :meta hide-value:
MODELS: Mapping[str, Any] = {
    cls.__name__: cls
    for cls in (
        tracking_models.TrackingMessage,
        tracking_models.ShipmentEvent,
        tracking_models.Location,
        tracking_models.Anomaly,
        tracking_models.Attribute,
        tracking_models.Party,
        tracking_models.TrackingAddress,
        tracking_models.Carrier,
        tracking_models.DeliveryNote,
        order_models.BusinessMessage,
        order_models.ShipmentOrder,
        order_models.ReceivingOrder,
        order_models.ItemMaster,
        order_models.OrderStatus,
        order_models.OrderLine,
        order_models.OrderAddress,
        order_models.SendResult,
    )
}

#: What a profile's file may hold.
_KEYS = (
    "renames",
    "required_parts",
    "document_required_codes",
    "tracking_path",
    "orders_path",
    "tracking_schema",
    "orders_schema",
)


def _fields(cls: type[Any]) -> list[str]:
    return [a.name for a in attrs.fields(cls) if a.name not in ("extra", "raw")]


def _sdk_names(model: str) -> dict[str, str]:
    """The SDK's wire name of each field of ``model``."""
    own = RENAMES.get(model, {})
    return {name: own.get(name) or _camel(name) for name in _fields(MODELS[model])}


def _renames(value: Any) -> dict[str, dict[str, str]]:
    """``value`` checked: known models and fields, wire names that are text and do not collide;
    names equal to the SDK's are left out (they rename nothing)."""
    if not isinstance(value, Mapping):
        raise ValidationError("renames", "must map model names to {field: wire name} tables")
    found: dict[str, dict[str, str]] = {}
    for model, table in value.items():
        where = f"renames.{model}"
        if model not in MODELS:
            raise ValidationError(
                "renames", f"unknown model {model!r}; choose among {', '.join(sorted(MODELS))}"
            )
        if not isinstance(table, Mapping):
            raise ValidationError(where, "must map field names to wire names")
        names = _sdk_names(model)
        for field, wire in table.items():
            if field not in names:
                raise ValidationError(
                    where, f"{field!r} is not a field of {model} (fields: {', '.join(names)})"
                )
            if not isinstance(wire, str) or not wire:
                raise ValidationError(f"{where}.{field}", "must be a non-empty string")
            validate.text(f"{where}.{field}", wire, single_line=True)
        wanted = {**names, **table}
        by_wire: dict[str, str] = {}
        for field, wire in wanted.items():
            if wire in by_wire:
                raise ValidationError(
                    where, f"{by_wire[wire]!r} and {field!r} would both be {wire!r} on the wire"
                )
            by_wire[wire] = field
        changed = {field: wire for field, wire in table.items() if names[field] != wire}
        if changed:
            found[model] = changed
    return found


def _names(argument: str, value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})  # one name, not its characters
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ValidationError(argument, "must be a list of strings")
    names = frozenset(value)
    if not all(isinstance(name, str) for name in names):
        raise ValidationError(argument, "must be a list of strings")
    return names


def _required_parts(value: Any) -> frozenset[str]:
    return _names("required_parts", value)


def _document_required_codes(value: Any) -> frozenset[str]:
    return _names("document_required_codes", value)


def _tracking_path(value: Any) -> str | None:
    return None if value is None else validate.route("tracking_path", value)


def _orders_path(value: Any) -> str | None:
    return None if value is None else validate.route("orders_path", value)


def _schema(argument: str, value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        value = _read_json(Path(value), argument)
    if not isinstance(value, Mapping):
        raise ValidationError(argument, "must be a JSON Schema (an object) or its file")
    _schema_class(value, argument)  # checks it
    return value


def _tracking_schema(value: Any) -> Mapping[str, Any] | None:
    return _schema("tracking_schema", value)


def _orders_schema(value: Any) -> Mapping[str, Any] | None:
    return _schema("orders_schema", value)


def _schema_class(schema: Mapping[str, Any], argument: str) -> Any:
    try:
        # Imported by name: an optional dependency, typed here as what it is to this module.
        jsonschema: Any = importlib.import_module("jsonschema")
    except ImportError:
        raise ValidationError(
            argument,
            'needs the jsonschema package: pip install "shiptrack-sdk[schema]"',
        ) from None
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationError(argument, f"is not a valid JSON Schema ({exc.message})") from None
    return cls


def _read_json(file: Path, argument: str) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(argument, f"cannot read {file} ({exc.strerror})") from None
    except ValueError as exc:
        raise ValidationError(argument, f"{file} is not JSON ({exc})") from None


def _toml() -> Any:
    """The TOML reader: the standard library's (3.11+), else tomli; ``None`` without both."""
    for name in ("tomllib", "tomli"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


# Converters made for profiles, by their renames: equal profiles share one.
_converters: dict[tuple[tuple[str, tuple[tuple[str, str], ...]], ...], cattrs.Converter] = {}
_converters_lock = threading.Lock()


@attrs.frozen
class WireProfile:
    """A partner's LEX contract, as far as it differs from the SDK's defaults.

    Pass it as ``LexClient(..., profile=profile)`` (or a file's path, or set
    ``SHIPTRACK_LEX_PROFILE``): the client's tracking and order messages are then written and
    read with its names, checked with its required parts and codes (and its JSON Schemas), and
    sent to its paths. ``WireProfile()`` is the SDK's own contract, :data:`DEFAULT_PROFILE`.

    Args:
        renames: Wire names by model, then by field: ``{"TrackingMessage": {"document_url":
            "podUrl"}}``. Models are named as in :data:`MODELS` (the tracking message and its
            parts, the business message envelope, its payloads and their parts); fields by
            their Python names. A field left out keeps the SDK's wire name
            (:meth:`wire_names` lists them all).
        required_parts: The parts every tracking message must have
            (:class:`~shiptrack_sdk.lex.tracking_validation.TrackingValidator`'s
            ``required_parts``; default event, carrier, sender).
        document_required_codes: The event codes whose messages need a ``document_url``
            (default ``LIV``).
        tracking_path: The Shipment Tracking path, relative to the base URL or absolute
            (default ``lex-shipmenttracking-v1/shipment-tracking``).
        orders_path: The Order Execution path, for GET and POST (default the SDK's, or
            ``SHIPTRACK_LEX_ORDERS_PATH``).
        tracking_schema: A JSON Schema (or its file) of the contract's tracking messages,
            with the profile's wire names: each message must match it before a batch is sent
            (the whole body, when the schema is of an array).
        orders_schema: A JSON Schema (or its file) of a posted business message.

    Raises:
        ValidationError: a model, field, part or wire name that is not one, two fields named
            alike on the wire, a bad path, or a schema that is not one (or ``jsonschema``
            missing).
    """

    renames: Mapping[str, Mapping[str, str]] = attrs.field(
        factory=dict, converter=_renames, hash=False
    )
    required_parts: frozenset[str] = attrs.field(
        default=tracking_validation.DEFAULT_REQUIRED_PARTS, converter=_required_parts
    )
    document_required_codes: frozenset[str] = attrs.field(
        default=tracking_validation.DEFAULT_DOCUMENT_REQUIRED_CODES,
        converter=_document_required_codes,
    )
    tracking_path: str | None = attrs.field(default=None, converter=_tracking_path)
    orders_path: str | None = attrs.field(default=None, converter=_orders_path)
    tracking_schema: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_tracking_schema, hash=False, repr=False
    )
    orders_schema: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_orders_schema, hash=False, repr=False
    )
    _checkers: dict[str, Any] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self.validator()  # the parts and codes are checked as the validator checks them

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WireProfile:
        """The profile a JSON (``.json``) or TOML (``.toml``) file describes.

        The file holds any of ``renames`` (a table per model), ``required_parts``,
        ``document_required_codes``, ``tracking_path``, ``orders_path``, ``tracking_schema``
        and ``orders_schema`` (a schema's file, relative to the profile's, or the schema
        itself).

        Raises:
            ValidationError: the file cannot be read, is neither JSON nor TOML (TOML on
                Python 3.10 needs ``tomli``), holds another key, or a value is refused (the
                message names the file).
        """
        file = Path(path)
        if file.suffix.lower() == ".json":
            data = _read_json(file, "path")
        elif file.suffix.lower() == ".toml":
            toml = _toml()
            if toml is None:
                raise ValidationError(
                    "path",
                    f"{file}: reading TOML on Python 3.10 needs tomli "
                    '(pip install "shiptrack-sdk[profile]"); or write the profile as JSON',
                )
            try:
                data = toml.loads(file.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ValidationError("path", f"cannot read {file} ({exc.strerror})") from None
            except toml.TOMLDecodeError as exc:
                raise ValidationError("path", f"{file} is not TOML ({exc})") from None
        else:
            raise ValidationError("path", f"{file}: a profile is a .json or a .toml file")
        if not isinstance(data, Mapping):
            raise ValidationError("path", f"{file}: a profile is a JSON object")
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ValidationError(
                unknown[0], f"is not a profile setting (in {file}; settings: {', '.join(_KEYS)})"
            )
        settings = dict(data)
        for key in ("tracking_schema", "orders_schema"):
            if isinstance(settings.get(key), str):
                settings[key] = file.parent / settings[key]
        try:
            return cls(**settings)
        except ValidationError as exc:
            raise ValidationError(exc.argument, f"{exc.problems[0][1]} (in {file})") from None

    # -- what the client applies ------------------------------------------------------------

    @property
    def converter(self) -> cattrs.Converter:
        """The converter that writes and reads LEX models with this profile's names: the
        SDK's own when the profile renames nothing."""
        if not self.renames:
            return sdk_converter
        key = tuple(sorted((m, tuple(sorted(t.items()))) for m, t in self.renames.items()))
        with _converters_lock:
            made = _converters.get(key)
            if made is None:
                # A copy keeps every hook of the SDK's converter; the LEX models are then
                # registered again on it, under this profile's names.
                made = sdk_converter.copy()
                register_hooks(made, self.renames)
                _converters[key] = made
            return made

    def validator(self) -> tracking_validation.TrackingValidator:
        """The checks of a tracking message under this profile."""
        return tracking_validation.TrackingValidator(
            document_required_codes=self.document_required_codes,
            required_parts=self.required_parts,
            renames=self.renames,
        )

    def wire_names(self) -> dict[str, dict[str, str]]:
        """The wire name of every field of every model (:data:`MODELS`), under this profile."""
        return {model: {**_sdk_names(model), **self.renames.get(model, {})} for model in MODELS}

    def check_tracking(self, body: list[Any], *, argument: str = "messages") -> None:
        """Check a batch's messages (wire form) against :attr:`tracking_schema`, if any.

        Raises:
            ValidationError: every place a message does not match, as
                ``messages[3].eventCode`` (wire names).
        """
        schema = self.tracking_schema
        if schema is None:
            return
        if schema.get("type") == "array":
            self._check("tracking", schema, body, argument)
        else:
            problems: list[tuple[str, str]] = []
            for index, message in enumerate(body):
                problems += self._problems("tracking", schema, message, f"{argument}[{index}]")
            if problems:
                raise ValidationError.from_problems(problems)

    def check_order(self, body: Any, *, argument: str = "message") -> None:
        """Check a business message (wire form) against :attr:`orders_schema`, if any.

        Raises:
            ValidationError: every place it does not match.
        """
        if self.orders_schema is not None:
            self._check("orders", self.orders_schema, body, argument)

    def _check(self, kind: str, schema: Mapping[str, Any], body: Any, argument: str) -> None:
        problems = self._problems(kind, schema, body, argument)
        if problems:
            raise ValidationError.from_problems(problems)

    def _problems(
        self, kind: str, schema: Mapping[str, Any], instance: Any, argument: str
    ) -> list[tuple[str, str]]:
        checker = self._checkers.get(kind)
        if checker is None:
            cls = _schema_class(schema, f"{kind}_schema")
            checker = self._checkers[kind] = cls(schema, format_checker=cls.FORMAT_CHECKER)
        found = []
        for error in sorted(checker.iter_errors(instance), key=lambda e: list(map(str, e.path))):
            where = argument + "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path
            )
            text = error.message
            if len(text) > 200:  # it quotes the value: its head, and what is wrong with it
                text = f"{text[:80]} ... {text[-100:]}"
            found.append((where, f"does not match the contract's schema: {text}"))
        return found


#: The SDK's own contract: its names, parts, codes and paths.
DEFAULT_PROFILE = WireProfile()

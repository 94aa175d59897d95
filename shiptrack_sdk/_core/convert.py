"""The one cattrs converter every model goes through.

Datetimes are parsed only here, and every wire model keeps the payload it was built from in
``raw``. Wire names appear only in each provider's ``_hooks.register_hooks``, which registers
all of that provider's models in one function through :func:`register_wire_model`; its
``rename`` and ``camel_case`` become cattrs' ``override(rename=...)``.

Structuring runs cattrs' generated code in its fast mode (``detailed_validation=False``),
which knows only *that* a payload does not fit. When it fails, the payload is structured again
by cattrs' code generated with detailed validation, which raises the error saying *what* is
wrong and where (:func:`describe_structure_error`), so a valid payload pays for the fast mode
alone. Each model's hooks are generated on first use, not at import.
"""

from __future__ import annotations

import itertools
import threading
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

__all__ = [
    "STRUCTURE_ERRORS",
    "converter",
    "describe_structure_error",
    "format_datetime",
    "parse_datetime",
    "register_wire_model",
    "structure",
    "unstructure",
]

T = TypeVar("T")
StructureHook = Callable[[Any, Any], Any]
UnstructureHook = Callable[[Any], Any]


def parse_datetime(value: Any) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or epoch seconds.

    A provider value without an offset is taken as UTC (every provider here documents UTC).

    Raises:
        ValueError: ``value`` is not a date-time.
    """
    # Strings first: they are what providers send.
    if isinstance(value, str):
        try:
            # Fast path: C-implemented, and on 3.11+ it reads the "Z" suffix.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            # What fromisoformat does not read (before 3.11: "Z", reduced precision) is
            # rare, so dateutil's parser is imported only then.
            from dateutil.parser import isoparse

            try:
                parsed = isoparse(value)
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool):
        raise ValueError(f"not a date-time: {value!r}")
    elif isinstance(value, (int, float)):
        # Epoch milliseconds are far beyond year 5000 when read as seconds.
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        try:
            parsed = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError) as exc:
            raise ValueError(f"not a date-time: {value!r}") from exc
    else:
        raise ValueError(f"not a date-time: {value!r}")
    if parsed.tzinfo is timezone.utc:
        return parsed  # already UTC ("...Z"), the usual case: nothing to convert
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59-05:00 is past datetime.max in UTC
        raise ValueError(f"date-time out of range in UTC: {value!r}") from exc


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (millisecond precision)."""
    # Already UTC is the usual case (models hold UTC): nothing to convert.
    utc = value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)
    # Not strftime: its %Y does not pad years before 1000 on every platform, and the
    # result would not read back. The date and the time apart: no naive copy to make, and
    # less than half the cost of ``replace(tzinfo=None).isoformat(...)``.
    return f"{utc.date().isoformat()}T{utc.time().isoformat('milliseconds')}Z"


def _structure_datetime(value: Any, _: type) -> datetime:
    if type(value) is str:
        # The usual value, "...Z", read here rather than through parse_datetime's checks.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is timezone.utc:
                return parsed
    return parse_datetime(value)


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return date.fromisoformat(value[:10])


_NoneType = type(None)


def _is_optional(type_: Any) -> bool:
    """Whether ``type_`` is ``X | None`` with exactly one ``X``."""
    args = getattr(type_, "__args__", ())
    return (
        typing.get_origin(type_) in (typing.Union, types.UnionType)
        and len(args) == 2
        and _NoneType in args
    )


def _inner(type_: Any) -> Any:
    """``X`` of ``X | None``."""
    args = type_.__args__
    return args[1] if args[0] is _NoneType else args[0]


def _optional_hook(type_: Any, converter: cattrs.Converter) -> StructureHook:
    # cattrs' own Optional handling looks the inner hook up again on every value; wire
    # models are mostly optional fields, so that lookup was most of a model's structuring
    # time. Here it is looked up once, when the hook is made.
    inner = _inner(type_)
    handler = converter.get_structure_hook(inner)
    or_none: StructureHook | None = getattr(handler, "or_none", None)
    if or_none is not None:
        return or_none  # a wire model's own hook that also takes null: one call less
    if handler is cattrs.Converter._structure_call:
        # str, int, float...: cattrs structures these by calling the type, which a value
        # that already is one does not need.
        def call(value: Any, _: Any) -> Any:
            return value if value is None or type(value) is inner else inner(value)

        return call

    def hook(value: Any, _: Any) -> Any:
        return None if value is None else handler(value, inner)

    return hook


def _optional_unstructure_hook(type_: Any, converter: cattrs.Converter) -> UnstructureHook:
    # An optional str, int, float or bool unstructures as it is (None included); saying so
    # lets cattrs' generated code read the attribute inline instead of calling a hook.
    handler = converter.get_unstructure_hook(_inner(type_))
    if handler is identity:
        return identity
    or_none: UnstructureHook | None = getattr(handler, "or_none", None)
    if or_none is not None:
        return or_none  # a wire model's own hook that also takes None: one call less
    return converter.gen_unstructure_optional(type_)


def _is_homogeneous_tuple(type_: Any) -> bool:
    """Whether ``type_`` is ``tuple[X, ...]``."""
    args: tuple[Any, ...] = getattr(type_, "__args__", ())
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(type_: Any, converter: cattrs.Converter) -> StructureHook:
    # The item hook is looked up once rather than on every tuple, and null reads as empty.
    item = type_.__args__[0]
    if item is Any:
        return lambda value, _: () if value is None else tuple(value)
    handler = converter.get_structure_hook(item)

    def hook(value: Any, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()  # providers send null for an empty list as often as []
        try:
            return tuple(map(handler, value, itertools.repeat(item)))
        except Exception:  # noqa: S110 - the detailed pass below says what is wrong
            pass
        return _tuple_in_detail(value, type_, item, handler)

    return hook


def _tuple_in_detail(value: Any, type_: Any, item: Any, handler: StructureHook) -> tuple[Any, ...]:
    """``value`` structured item by item, every failing item noted with its index (as cattrs'
    detailed validation does)."""
    result: list[Any] = []
    errors: list[Exception] = []
    for index, element in enumerate(value):
        try:
            result.append(handler(element, item))
        except Exception as exc:
            note = IterableValidationNote(f"Structuring {type_} @ index {index}", index, item)
            exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
            errors.append(exc)
    if errors:
        raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
    return tuple(result)


def _new_converter(*, detailed_validation: bool = False) -> cattrs.Converter:
    """A converter with the SDK's hooks for dates, optional fields and tuples.

    The SDK's own runs cattrs' fast mode; the tests make one with detailed validation
    throughout and compare the two (each provider's ``register_hooks`` takes either).
    """
    new = cattrs.Converter(detailed_validation=detailed_validation, forbid_extra_keys=False)
    new.register_structure_hook(datetime, _structure_datetime)
    new.register_unstructure_hook(datetime, format_datetime)
    new.register_structure_hook(date, _structure_date)
    new.register_unstructure_hook(date, lambda value: value.isoformat())
    new.register_structure_hook_factory(_is_optional, _optional_hook)
    new.register_unstructure_hook_factory(_is_optional, _optional_unstructure_hook)
    new.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook)
    return new


#: The SDK's single converter.
converter = _new_converter()


def register_wire_model(
    cls: type[Any],
    *,
    rename: Mapping[str, str] | None = None,
    camel_case: bool = False,
    keep_raw: bool = True,
    omit_empty: bool = False,
    converter: cattrs.Converter = converter,
) -> None:
    """Register structure and unstructure hooks for one wire model.

    Args:
        cls: An attrs class with snake_case field names.
        rename: Field name → wire name, for names that differ.
        camel_case: Derive every wire name as camelCase of the field name
            (``rename`` still wins).
        keep_raw: Set the model's ``raw`` field to the mapping it was built from.
        omit_empty: Leave fields that are ``None`` or empty lists out when unstructuring;
            keys that come from ``extra`` are written as given, ``None`` included.
        converter: The converter to register on: the SDK's own unless a test says otherwise.

    A model with an ``extra`` field collects the keys it does not know there when structured,
    and writes them back unchanged when unstructured, so a payload survives a round trip.
    """
    names = dict(rename or {})
    wire_names = {
        a.name: names.get(a.name) or (_camel(a.name) if camel_case else a.name)
        for a in attrs.fields(cls)
        if a.name not in _KEPT
    }
    model = _WireModel(cls, converter, wire_names, keep_raw=keep_raw, omit_empty=omit_empty)
    converter.register_structure_hook(cls, model.lazy_structure)
    converter.register_unstructure_hook(cls, model.lazy_unstructure)


#: Fields the converter fills itself: the payload, and the keys no field reads.
_KEPT = ("raw", "extra")
# Hooks are generated by one thread at a time; a model's own build may build the models it
# holds first (the lock is re-entrant for that).
_build_lock = threading.RLock()


class _WireModel:
    """One registered wire model and its hooks, generated on first use.

    Generating cattrs' code for every model of every provider at import would add tens of
    milliseconds to ``import shiptrack_sdk``; a model's hooks are generated the first time it
    is structured or unstructured, the models it holds first, so that its code calls their
    hooks directly rather than through the lazy ones.
    """

    def __init__(
        self,
        cls: type[Any],
        converter: cattrs.Converter,
        wire_names: Mapping[str, str],
        *,
        keep_raw: bool,
        omit_empty: bool,
    ) -> None:
        self.cls = cls
        self.converter = converter
        self.wire_names = wire_names
        self.keep_raw = keep_raw
        self.omit_empty = omit_empty
        self.hooks: tuple[StructureHook, UnstructureHook] | None = None
        self._building = False
        self._detailed: StructureHook | None = None

    def lazy_structure(self, data: Any, type_: Any) -> Any:
        return (self.hooks or self.build())[0](data, type_)

    def lazy_unstructure(self, obj: Any) -> Any:
        return (self.hooks or self.build())[1](obj)

    def build(self) -> tuple[StructureHook, UnstructureHook]:
        with _build_lock:
            if self.hooks is not None:
                return self.hooks
            self._building = True
            try:
                attrs.resolve_types(self.cls)
                for nested in _nested_types(self.cls):
                    owner = getattr(self.converter.get_structure_hook(nested), "__self__", None)
                    if isinstance(owner, _WireModel) and not owner._building:
                        owner.build()
                hooks = (self._make_structure(), self._make_unstructure())
            finally:
                self._building = False
            # From now on the generated hooks are called directly, unless a provider has
            # since registered its own hook around the lazy one (it keeps it).
            if self.converter.get_structure_hook(self.cls) == self.lazy_structure:
                self.converter.register_structure_hook(self.cls, hooks[0])
            if self.converter.get_unstructure_hook(self.cls) == self.lazy_unstructure:
                self.converter.register_unstructure_hook(self.cls, hooks[1])
            self.hooks = hooks
            return hooks

    def overrides(self, *, unstructuring: bool = False) -> dict[str, Any]:
        """cattrs' overrides: the wire names, the kept fields left out, and (unstructuring with
        ``omit_empty``) the fields that are empty exactly when at their default."""
        found: dict[str, Any] = {name: override(omit=True) for name in self.kept_fields}
        for a in attrs.fields(self.cls):
            if a.name in _KEPT:
                continue
            wire = self.wire_names[a.name]
            omit_default = unstructuring and self.omit_empty and _empty_exactly_by_default(a)
            if wire != a.name or omit_default:
                found[a.name] = override(
                    rename=wire if wire != a.name else None, omit_if_default=omit_default or None
                )
        return found

    @property
    def kept_fields(self) -> tuple[str, ...]:
        """Which of ``raw`` and ``extra`` the model has."""
        return tuple(a.name for a in attrs.fields(self.cls) if a.name in _KEPT)

    def detailed(self) -> StructureHook:
        """cattrs' structure function with detailed validation: what describes a failure."""
        if self._detailed is None:
            self._detailed = make_dict_structure_fn(
                self.cls, self.converter, _cattrs_detailed_validation=True, **self.overrides()
            )
        return self._detailed

    def _make_structure(self) -> StructureHook:
        cls, name = self.cls, self.cls.__name__
        # Fast unless the converter is one that validates in detail throughout.
        fast = make_dict_structure_fn(cls, self.converter, **self.overrides())
        set_raw = self.keep_raw and "raw" in self.kept_fields
        set_extra = "extra" in self.kept_fields
        known = frozenset(self.wire_names.values())
        detailed = self.detailed
        # Frozen attrs classes are set the way attrs itself sets them in __init__.
        set_field = object.__setattr__

        def make(or_none: bool) -> StructureHook:
            def structure(data: Any, type_: Any) -> Any:
                if data is None and or_none:
                    return None
                if type(data) is not dict and not isinstance(data, Mapping):
                    raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
                try:
                    instance = fast(data, type_)
                    failed = False
                except Exception:
                    failed = True
                if failed:
                    # Outside the except block, so that the error does not chain the fast one.
                    instance = detailed()(data, type_)
                if set_raw:
                    set_field(instance, "raw", data)
                if set_extra:
                    extra = (
                        {}
                        if data.keys() <= known
                        else {k: v for k, v in data.items() if k not in known}
                    )
                    set_field(instance, "extra", extra)
                return instance

            return structure

        structure = make(or_none=False)
        # The hook of ``cls | None`` (see _optional_hook).
        structure.or_none = make(or_none=True)  # type: ignore[attr-defined]
        return structure

    def _make_unstructure(self) -> UnstructureHook:
        base = make_dict_unstructure_fn(
            self.cls, self.converter, **self.overrides(unstructuring=True)
        )
        set_extra = "extra" in self.kept_fields
        omit_empty = self.omit_empty
        fields = [a for a in attrs.fields(self.cls) if a.name not in _KEPT]
        ordered_keys = tuple(self.wire_names[a.name] for a in fields)
        field_keys = frozenset(ordered_keys)
        # Fields whose emptiness their default does not tell: checked after unstructuring.
        checked = tuple(
            self.wire_names[a.name]
            for a in fields
            if omit_empty and a.init and not _empty_exactly_by_default(a)
        )

        def make(or_none: bool) -> UnstructureHook:
            def unstructure(obj: Any) -> dict[str, Any] | None:
                if obj is None and or_none:
                    return None
                out: dict[str, Any] = base(obj)
                for key in checked:
                    if _empty(out[key]):
                        del out[key]
                extra: Mapping[str, Any] = obj.extra if set_extra else {}
                if not extra:
                    return out
                if omit_empty and not field_keys.isdisjoint(extra):
                    # Rare (a caller's own extra naming a field): an empty field's place is
                    # taken by extra's value.
                    return _merged_in_order(out, extra, ordered_keys)
                for key, value in extra.items():
                    if key not in out:  # extra never displaces a field's value
                        out[key] = value
                return out

            return unstructure

        unstructure = make(or_none=False)
        # The hook of ``cls | None`` (see _optional_unstructure_hook).
        unstructure.or_none = make(or_none=True)  # type: ignore[attr-defined]
        return unstructure


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, tuple)) and not value)


def _merged_in_order(
    out: Mapping[str, Any], extra: Mapping[str, Any], ordered_keys: tuple[str, ...]
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in ordered_keys:
        if key in out:
            merged[key] = out[key]
        elif key in extra:
            merged[key] = extra[key]
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
    return merged


def _empty_exactly_by_default(a: attrs.Attribute[Any]) -> bool:
    """Whether a field's value is empty (``None``, an empty list) exactly when it equals its
    default, so that cattrs' ``omit_if_default`` leaves out what ``omit_empty`` means.

    True of a field defaulting to ``None`` that cannot hold a list, and of a tuple field
    defaulting to ``()`` (its values are tuples: the type says so). Other fields are checked
    after unstructuring.
    """
    default: Any = a.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = () if default.factory is tuple else attrs.NOTHING
    if type(default) is tuple:
        return default == () and typing.get_origin(a.type) is tuple
    if default is not None:
        return False
    type_ = _inner(a.type) if _is_optional(a.type) else a.type
    return not (
        type_ is Any or type_ in (tuple, list, object) or typing.get_origin(type_) in (tuple, list)
    )


def _nested_types(cls: type[Any]) -> list[Any]:
    """Every attrs class named in ``cls``'s field annotations, at any depth (``X | None``,
    tuples)."""
    found: list[Any] = []
    seen: set[Any] = set()
    pending = [a.type for a in attrs.fields(cls)]
    while pending:
        type_ = pending.pop()
        if type_ is None or type_ in seen:
            continue
        seen.add(type_)
        if isinstance(type_, type) and attrs.has(type_):
            found.append(type_)
        pending.extend(getattr(type_, "__args__", ()))
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


#: What structuring a payload of the wrong shape can raise: cattrs' validation errors, and what
#: a hook raises on a value it cannot read. Callers turn these into the SDK's own errors.
STRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    cattrs.BaseValidationError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RecursionError,
)


def describe_structure_error(exc: BaseException) -> str:
    """The first problem of a structuring error, in one short line (for an error message)."""
    if isinstance(exc, cattrs.BaseValidationError):
        notes = cattrs.transform_error(exc)
        if notes:
            return str(notes[0])
    return f"{type(exc).__name__}: {exc}"[:200]


def structure(data: Any, cls: type[T]) -> T:
    """Structure ``data`` into ``cls`` with the SDK's converter."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Unstructure a model into plain JSON-ready data, with wire names."""
    return converter.unstructure(obj)

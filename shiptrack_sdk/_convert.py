"""The one cattrs converter every model goes through.

Wire names appear only here (through :func:`register_wire_model`'s ``rename``), datetimes are
parsed only here, and every wire model keeps the payload it was built from in ``raw``. Each
provider package registers its models in one function, called once at import.
"""

from __future__ import annotations

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

__all__ = ["converter", "parse_datetime", "register_wire_model", "structure", "unstructure"]

T = TypeVar("T")

#: The SDK's single converter.
converter = cattrs.Converter()


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
    # result would not read back.
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return date.fromisoformat(value[:10])


converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook(date, _structure_date)
converter.register_unstructure_hook(date, lambda value: value.isoformat())

_NoneType = type(None)


def _is_optional(type_: Any) -> bool:
    """Whether ``type_`` is ``X | None`` with exactly one ``X``."""
    args = getattr(type_, "__args__", ())
    return (
        typing.get_origin(type_) in (typing.Union, types.UnionType)
        and len(args) == 2
        and _NoneType in args
    )


def _optional_hook(type_: Any) -> Callable[[Any, Any], Any]:
    # cattrs' own Optional handling looks the inner hook up again on every value; wire
    # models are mostly optional fields, so that lookup was most of a model's structuring
    # time. Here it is looked up once, when the hook is made (hooks are made lazily, after
    # every model is registered).
    args = type_.__args__
    inner = args[1] if args[0] is _NoneType else args[0]
    handler = converter.get_structure_hook(inner)
    if handler is cattrs.Converter._structure_call:
        # str, int, float...: cattrs structures these by calling the type.
        def call(value: Any, _: Any) -> Any:
            return None if value is None else inner(value)

        return call

    def hook(value: Any, _: Any) -> Any:
        return None if value is None else handler(value, inner)

    return hook


converter.register_structure_hook_factory(_is_optional, _optional_hook)


def _optional_unstructure_hook(type_: Any) -> Callable[[Any], Any]:
    # An optional str, int, float or bool unstructures as it is (None included); saying so
    # lets the generated code read the attribute inline instead of calling a hook per field.
    args = type_.__args__
    inner = args[1] if args[0] is _NoneType else args[0]
    if converter.get_unstructure_hook(inner) is identity:
        return identity
    return converter.gen_unstructure_optional(type_)


converter.register_unstructure_hook_factory(_is_optional, _optional_unstructure_hook)


def _is_homogeneous_tuple(type_: Any) -> bool:
    """Whether ``type_`` is ``tuple[X, ...]``."""
    args: tuple[Any, ...] = getattr(type_, "__args__", ())
    return typing.get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _tuple_hook(type_: Any) -> Callable[[Any, Any], Any]:
    # As cattrs' own tuple[X, ...] handling (same errors, with the failing index noted), with
    # the item hook looked up once rather than on every tuple.
    item = type_.__args__[0]
    if item is Any:
        return lambda value, _: tuple(value)
    handler = converter.get_structure_hook(item)

    def hook(value: Any, _: Any) -> tuple[Any, ...]:
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

    return hook


converter.register_structure_hook_factory(_is_homogeneous_tuple, _tuple_hook)


def _has_field(cls: type, name: str) -> bool:
    return any(a.name == name for a in attrs.fields(cls))


def register_wire_model(
    cls: type[Any],
    *,
    rename: Mapping[str, str] | None = None,
    camel_case: bool = False,
    keep_raw: bool = True,
    omit_empty: bool = False,
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

    A model with an ``extra`` field collects the keys it does not know there when structured,
    and writes them back unchanged when unstructured, so a payload survives a round trip.
    """
    names = dict(rename or {})
    built: list[Callable[..., Any]] = []

    def build() -> list[Callable[..., Any]]:
        # Hooks are generated on first use, not at import: generating code for every model
        # of every provider would add tens of milliseconds to `import shiptrack_sdk`.
        if built:
            return built
        with _build_lock:
            if not built:
                built.extend(
                    _make_hooks(
                        cls, names, camel_case=camel_case, keep_raw=keep_raw, omit_empty=omit_empty
                    )
                )
        return built

    def structure_hook(data: Mapping[str, Any], type_: Any) -> Any:
        return (built or build())[0](data, type_)

    def unstructure_hook(obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = (built or build())[1](obj)
        return result

    converter.register_structure_hook(cls, structure_hook)
    converter.register_unstructure_hook(cls, unstructure_hook)


_build_lock = threading.RLock()


def _make_hooks(
    cls: type[Any],
    names: Mapping[str, str],
    *,
    camel_case: bool,
    keep_raw: bool,
    omit_empty: bool = False,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    fields = attrs.fields(cls)
    overrides: dict[str, Any] = {}
    for a in fields:
        if a.name in ("raw", "extra"):
            overrides[a.name] = override(omit=True)
            continue
        wire = names.get(a.name) or (_camel(a.name) if camel_case else a.name)
        if wire != a.name:
            overrides[a.name] = override(rename=wire)
    known = frozenset(
        (names.get(a.name) or (_camel(a.name) if camel_case else a.name))
        for a in fields
        if a.name not in ("raw", "extra")
    )
    base_structure: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn(
        cls, converter, **overrides
    )
    base_unstructure: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
        cls, converter, **overrides
    )
    set_raw = keep_raw and _has_field(cls, "raw")
    set_extra = _has_field(cls, "extra")
    name = cls.__name__

    def structure_hook(data: Mapping[str, Any], type_: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
        instance = base_structure(data, type_)
        # Frozen attrs classes are set the way attrs itself sets them in __init__.
        if set_raw:
            object.__setattr__(instance, "raw", data)
        if set_extra:
            object.__setattr__(instance, "extra", {k: v for k, v in data.items() if k not in known})
        return instance

    if not set_extra and not omit_empty:
        return structure_hook, base_unstructure

    def unstructure_hook(obj: Any) -> dict[str, Any]:
        out = base_unstructure(obj)
        extra: Mapping[str, Any] = obj.extra if set_extra else {}
        for key, value in extra.items():
            out.setdefault(key, value)
        if omit_empty:
            empty = [
                k for k, v in out.items() if v is None or (isinstance(v, (list, tuple)) and not v)
            ]
            for key in empty:
                if key in extra:
                    out[key] = extra[key]
                else:
                    del out[key]
        return out

    return structure_hook, unstructure_hook


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def structure(data: Any, cls: type[T]) -> T:
    """Structure ``data`` into ``cls`` with the SDK's converter."""
    return converter.structure(data, cls)


def unstructure(obj: Any) -> Any:
    """Unstructure a model into plain JSON-ready data, with wire names."""
    return converter.unstructure(obj)

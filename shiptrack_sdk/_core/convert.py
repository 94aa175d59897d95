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

__all__ = [
    "STRUCTURE_ERRORS",
    "converter",
    "describe_structure_error",
    "parse_datetime",
    "register_wire_model",
    "structure",
    "unstructure",
]

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
        # str, int, float...: cattrs structures these by calling the type, which a value
        # that already is one does not need.
        def call(value: Any, _: Any) -> Any:
            return value if value is None or type(value) is inner else inner(value)

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
    # the item hook looked up once rather than on every tuple, and null read as empty.
    item = type_.__args__[0]
    if item is Any:
        return lambda value, _: () if value is None else tuple(value)
    handler = converter.get_structure_hook(item)

    def hook(value: Any, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()  # providers send null for an empty list as often as []
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

    Structuring runs code generated for the model that reads each key once and builds the
    instance in one step; a dict-backed model (``@attrs.frozen(slots=False)``) without
    converters or validators is built fastest, by filling its ``__dict__``. A payload that
    code cannot take is structured again by cattrs' generated code, which reports every
    problem with its field.
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
                # The models this one holds first, so that its generated code calls their
                # hooks directly rather than through the lazy ones below.
                _builders.pop(cls, None)
                for nested in _nested_types(cls):
                    nested_build = _builders.get(nested)
                    if nested_build is not None:
                        nested_build()
                hooks = _make_hooks(
                    cls, names, camel_case=camel_case, keep_raw=keep_raw, omit_empty=omit_empty
                )
                # From now on the generated hooks are called directly, unless a provider
                # has since registered its own hook around the lazy one (it keeps it).
                if converter.get_structure_hook(cls) is structure_hook:
                    converter.register_structure_hook(cls, hooks[0])
                if converter.get_unstructure_hook(cls) is unstructure_hook:
                    converter.register_unstructure_hook(cls, hooks[1])
                built.extend(hooks)
        return built

    def structure_hook(data: Mapping[str, Any], type_: Any) -> Any:
        return (built or build())[0](data, type_)

    def unstructure_hook(obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = (built or build())[1](obj)
        return result

    _builders[cls] = build
    converter.register_structure_hook(cls, structure_hook)
    converter.register_unstructure_hook(cls, unstructure_hook)


_build_lock = threading.RLock()
# Wire models registered but whose hooks are not generated yet.
_builders: dict[type[Any], Callable[[], list[Callable[..., Any]]]] = {}


def _nested_types(cls: type[Any]) -> set[Any]:
    """Every type named in ``cls``'s field annotations, at any depth (``X | None``, tuples)."""
    found: set[Any] = set()
    pending = [a.type for a in attrs.fields(cls)]
    while pending:
        type_ = pending.pop()
        if type_ is None or type_ in found:
            continue
        found.add(type_)
        pending.extend(getattr(type_, "__args__", ()))
    return found


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

    def cattrs_structure(data: Mapping[str, Any], type_: Any) -> Any:
        instance = base_structure(data, type_)
        # Frozen attrs classes are set the way attrs itself sets them in __init__.
        if set_raw:
            object.__setattr__(instance, "raw", data)
        if set_extra:
            extra = {k: v for k, v in data.items() if k not in known}
            object.__setattr__(instance, "extra", extra)
        return instance

    fast = _make_fast_structure(
        cls, names, camel_case=camel_case, set_raw=set_raw, set_extra=set_extra, known=known
    )
    _reference_hooks[cls] = cattrs_structure

    def structure_hook(data: Mapping[str, Any], type_: Any) -> Any:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
        try:
            return fast(data)
        except Exception:  # noqa: S110 - cattrs' code below says what is wrong
            # The fast path only knows that something is wrong; cattrs' generated code says
            # what (every problem, with its field), so the payload is structured again by it.
            pass
        return cattrs_structure(data, type_)

    def cattrs_unstructure(obj: Any) -> dict[str, Any]:
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

    _reference_unstructure_hooks[cls] = cattrs_unstructure
    fast_unstructure = _make_fast_unstructure(
        cls, names, camel_case=camel_case, set_extra=set_extra, omit_empty=omit_empty
    )
    return structure_hook, fast_unstructure


_SCALARS = (str, int, float, bool)


def _make_fast_structure(
    cls: type[Any],
    names: Mapping[str, str],
    *,
    camel_case: bool,
    set_raw: bool,
    set_extra: bool,
    known: frozenset[str],
) -> Callable[[Mapping[str, Any]], Any]:
    """The structure function of a wire model, for well-formed payloads.

    Wire models are mostly optional scalars: the generated code reads each key once, calls a
    hook only for values that need converting, and builds the instance with one call. Any
    error makes the caller fall back to cattrs' generated code, which reports every problem
    with its field, so the two must (and, by the tests, do) agree on every valid payload.
    """
    lines = ["def structure(o):", "  g = o.get"]
    namespace: dict[str, Any] = {"__cl": cls, "__missing": _MISSING, "__known": known}
    arguments: list[str] = []
    for index, a in enumerate(attrs.fields(cls)):
        var = f"v{index}"
        if a.name == "raw" and set_raw:
            arguments.append(f"{a.alias}=o")
            continue
        if a.name == "extra" and set_extra:
            lines.append(
                f"  {var} = {{}} if o.keys() <= __known"
                " else {k: v for k, v in o.items() if k not in __known}"
            )
            arguments.append(f"{a.alias}={var}")
            continue
        if a.name in ("raw", "extra") or not a.init:
            continue  # left to its default
        key = names.get(a.name) or (_camel(a.name) if camel_case else a.name)
        type_ = a.type
        namespace[f"t{index}"] = type_
        default = a.default
        if _is_optional(type_) and default is None:
            inner = type_.__args__[1] if type_.__args__[0] is _NoneType else type_.__args__[0]
            if inner in _SCALARS:
                # The usual field: read as is when it already has its type.
                namespace[f"s{index}"] = inner
                lines.append(f"  {var} = g({key!r})")
                lines.append(
                    f"  if {var} is not None and type({var}) is not s{index}:"
                    f" {var} = s{index}({var})"
                )
                arguments.append(f"{a.alias}={var}")
                continue
        handler = converter.get_structure_hook(type_)
        if handler is cattrs.Converter._structure_call:
            call = f"t{index}({var})"
        else:
            namespace[f"h{index}"] = handler
            call = f"h{index}({var}, t{index})"
        if default is attrs.NOTHING:
            lines.append(f"  {var} = o[{key!r}]")
            lines.append(f"  {var} = {call}")
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if default.takes_self:
                return _never  # not used by wire models; cattrs handles it
            namespace[f"d{index}"] = default.factory
            lines.append(f"  {var} = g({key!r}, __missing)")
            lines.append(f"  {var} = d{index}() if {var} is __missing else {call}")
        else:
            namespace[f"d{index}"] = default
            lines.append(f"  {var} = g({key!r}, __missing)")
            lines.append(f"  {var} = d{index} if {var} is __missing else {call}")
        arguments.append(f"{a.alias}={var}")
    if _fills_dict(cls):
        # A dict-backed model with nothing to run at init: its __dict__ is filled in one step
        # (what a frozen attrs __init__ does field by field, each through object.__setattr__).
        namespace["__new"] = object.__new__
        namespace["__set"] = object.__setattr__
        values = ", ".join(f"{arg.split('=', 1)[0]!r}: {arg.split('=', 1)[1]}" for arg in arguments)
        lines.append("  i = __new(__cl)")
        lines.append(f"  __set(i, '__dict__', {{{values}}})")
        lines.append("  return i")
    else:
        lines.append(f"  return __cl({', '.join(arguments)})")
    exec(compile("\n".join(lines), f"<shiptrack structure {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    function: Callable[[Mapping[str, Any]], Any] = namespace["structure"]
    return function


def _make_fast_unstructure(
    cls: type[Any],
    names: Mapping[str, str],
    *,
    camel_case: bool,
    set_extra: bool,
    omit_empty: bool,
) -> Callable[[Any], dict[str, Any]]:
    """The unstructure function of a wire model: what cattrs' generated code and the
    ``extra``/``omit_empty`` handling do, in one generated function.

    Each field is read once; a hook is called only for values that are not plain JSON
    already. ``extra`` keys never displace a field's value, except an empty one when empty
    fields are omitted; the tests compare the two on every kind of model.
    """
    lines = ["def unstructure(obj):", "  out = {}"]
    namespace: dict[str, Any] = {"__lt": (list, tuple)}
    if set_extra:
        lines.append("  x = obj.extra")
    for index, a in enumerate(attrs.fields(cls)):
        if a.name in ("raw", "extra"):
            continue
        key = names.get(a.name) or (_camel(a.name) if camel_case else a.name)
        type_ = a.type
        inner = type_
        optional = _is_optional(type_)
        if optional:
            inner = type_.__args__[1] if type_.__args__[0] is _NoneType else type_.__args__[0]
        handler = converter.get_unstructure_hook(inner if optional else type_)
        lines.append(f"  v = obj.{a.name}")
        if handler is not identity:
            namespace[f"h{index}"] = handler
            call = f"h{index}(v)"
            lines.append(f"  if v is not None: v = {call}" if optional else f"  v = {call}")
        if not omit_empty:
            lines.append(f"  out[{key!r}] = v")
            continue
        lines.append("  if v is not None and not (isinstance(v, __lt) and not v):")
        lines.append(f"    out[{key!r}] = v")
        if set_extra:
            lines.append(f"  elif {key!r} in x:")
            lines.append(f"    out[{key!r}] = x[{key!r}]")
    if set_extra:
        lines.append("  for k in x:")
        lines.append("    if k not in out: out[k] = x[k]")
    lines.append("  return out")
    source = "\n".join(lines)
    exec(compile(source, f"<shiptrack unstructure {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    function: Callable[[Any], dict[str, Any]] = namespace["unstructure"]
    return function


_MISSING = object()
_reference_unstructure_hooks: dict[type[Any], Callable[[Any], dict[str, Any]]] = {}
# Each wire model's structuring by cattrs' generated code alone: what the fast path falls back
# to, and what the tests compare it with.
_reference_hooks: dict[type[Any], Callable[[Mapping[str, Any], Any], Any]] = {}


def _fills_dict(cls: type[Any]) -> bool:
    """Whether instances of ``cls`` can be made by filling their ``__dict__``.

    True for a dict-backed (not slotted) attrs class whose fields are all set by ``__init__``
    as given: no converter, no validator, no alias, no ``__attrs_post_init__``.
    """
    if "__slots__" in vars(cls) or hasattr(cls, "__attrs_post_init__"):
        return False
    return all(
        a.init and a.converter is None and a.validator is None and a.alias == a.name
        for a in attrs.fields(cls)
    )


def _never(data: Mapping[str, Any]) -> Any:
    raise NotImplementedError  # the fallback (cattrs' generated code) structures it


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

"""Renderings of the models: plain data and JSON for every model, text for the command line
and ``print``, HTML for notebooks. They read the models and never import them, so a model can
render itself; :mod:`shiptrack_sdk.export` is the public face of what is here."""

from __future__ import annotations

import enum
import functools
import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    import cattrs

    from .models import Tracking, TrackingStatus

__all__ = [
    "STATUS_COLORS",
    "Exportable",
    "dumps",
    "format_timeline",
    "format_timelines",
    "format_when",
    "plain",
    "tracking_html",
    "trackings_html",
]


class Exportable:
    """A model that exports itself as plain data: :meth:`to_dict` and :meth:`to_json`.

    :class:`~shiptrack_sdk.Tracking`, :class:`~shiptrack_sdk.TrackingEvent` and every
    provider's wire model inherit it. The export is the model in its own field names
    (snake_case), for a person or another system to read: datetimes as ISO 8601 text in UTC
    (``"2024-07-15T10:02:00.000Z"``), enum members as their values, nested models as dicts,
    lists as lists, every field present (``None`` included); ``raw``, the payload a wire model
    was built from, is left out, and ``extra``, the fields the model does not name, is kept
    as it came. It is not the wire form, what the SDK sends and receives in the provider's
    own names: that is ``raw`` for an answer, and ``to_wire()`` for a LEX message.
    """

    # No instance dict of its own, so that a slotted model stays slotted.
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """This model as plain data: a dict of ``str``, ``int``, ``float``, ``bool``,
        ``None``, lists and dicts, which :func:`json.dumps` writes as it is."""
        data: dict[str, Any] = plain(self)
        return data

    def to_json(self, **json_kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text.

        Args:
            **json_kwargs: Passed to :func:`json.dumps` (``indent=2``, ``ensure_ascii=False``,
                ``default=str``...).

        Raises:
            ValidationError: a keyword that :func:`json.dumps` does not take, or a value in
                ``extra`` that JSON cannot hold (and no ``default=`` says how).
        """
        return dumps(self, **json_kwargs)


# The methods are documented, and the class is reached, where users import it.
Exportable.__module__ = "shiptrack_sdk.export"


def plain(value: Any) -> Any:
    """``value`` as plain data: models (attrs classes) as dicts in their field names, ``raw``
    left out, datetimes and dates as ISO 8601 text, enum members as their values, tuples and
    other sequences as lists, mappings as dicts; anything else as it is."""
    return _converter().unstructure(value)


#: What :func:`json.dumps` takes besides the value (``cls=`` may take more).
_JSON_ARGUMENTS = frozenset(
    {
        "allow_nan",
        "check_circular",
        "cls",
        "default",
        "ensure_ascii",
        "indent",
        "separators",
        "skipkeys",
        "sort_keys",
    }
)


def dumps(value: Any, **json_kwargs: Any) -> str:
    """:func:`plain` ``value`` as JSON text; ``json_kwargs`` go to :func:`json.dumps`.

    Raises:
        ValidationError: a keyword that :func:`json.dumps` does not take, or a value JSON
            cannot hold (and no ``default=`` says how), named ``value``.
    """
    if "cls" not in json_kwargs:
        for name in json_kwargs:
            if name not in _JSON_ARGUMENTS:
                raise ValidationError(
                    name, f"is not an argument of json.dumps ({', '.join(sorted(_JSON_ARGUMENTS))})"
                )
    import json  # not at import: ``import shiptrack_sdk`` needs no JSON

    data = plain(value)
    try:
        return json.dumps(data, **json_kwargs)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError("value", f"cannot be written as JSON: {exc}") from None


def _is_sequence_value(type_: Any) -> bool:
    # A tuple, list or other sequence met by its class (a field typed Any, a list given to
    # dumps); ``tuple[X, ...]`` fields are matched by their annotation below.
    return (
        isinstance(type_, type)
        and issubclass(type_, Sequence)
        and not issubclass(type_, (str, bytes, bytearray))
    )


def _is_mapping_value(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, Mapping) and type_ is not dict


def _is_enum(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, enum.Enum)


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


@functools.cache
def _converter() -> cattrs.Converter:
    """The export's converter: the SDK's converter's rules for values (datetimes and dates,
    optional fields), without any provider's wire names.

    Made on first use, so that ``import shiptrack_sdk`` does not import cattrs.
    """
    import attrs
    from cattrs.gen import make_dict_unstructure_fn, override

    from ._core.convert import _is_homogeneous_tuple, _new_converter

    new = _new_converter()

    def sequence_hook(type_: Any) -> Any:
        return lambda value: [new.unstructure(item) for item in value]

    def mapping_hook(type_: Any) -> Any:
        return lambda value: {new.unstructure(k): new.unstructure(v) for k, v in value.items()}

    def tuple_hook(type_: Any) -> Any:
        return new.gen_unstructure_iterable(type_, unstructure_to=list)

    def model_hook(cls: Any) -> Any:
        left_out: dict[str, Any] = {
            a.name: override(omit=True) for a in attrs.fields(cls) if a.name == "raw"
        }
        return make_dict_unstructure_fn(cls, new, **left_out)

    new.register_unstructure_hook_factory(_is_sequence_value, sequence_hook)
    new.register_unstructure_hook_factory(_is_mapping_value, mapping_hook)
    new.register_unstructure_hook_factory(_is_homogeneous_tuple, tuple_hook)
    new.register_unstructure_hook_factory(_is_enum, lambda type_: _enum_value)
    # A str- or int-valued enum (TrackingStatus) is looked up as a str or an int first.
    new.register_unstructure_hook(str, _enum_value)
    new.register_unstructure_hook(int, _enum_value)
    new.register_unstructure_hook_factory(attrs.has, model_hook)
    return new


def format_when(value: datetime | None) -> str:
    """``2024-07-15 10:02 UTC``."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def format_timeline(tracking: Tracking) -> str:
    """A shipment's header line and its events, oldest first, one per line.

    ``tracking`` is taken as it is (checked by the public
    :func:`shiptrack_sdk.export.format_timeline`).
    """
    head = [tracking.provider, tracking.shipment_id, tracking.status.value]
    if tracking.status.value == "UNKNOWN" and tracking.provider_status:
        head[-1] += f" ({tracking.provider_status})"
    if tracking.carrier:
        head.append(tracking.carrier)
    if tracking.tracking_ref:
        head.append(f"ref {tracking.tracking_ref}")
    lines = ["  ".join(head)]
    for event in tracking.events:
        detail = event.description or ""
        if event.provider_status_detail:
            detail += f" [{event.provider_status_detail}]"
        lines.append(
            f"  {format_when(event.occurred_at)}  {event.status.value:<11}  {detail}".rstrip()
        )
    if not tracking.events:
        lines.append("  (no events yet)")
    return "\n".join(lines)


def format_timelines(trackings: Iterable[Tracking]) -> str:
    """Several timelines, separated by blank lines."""
    return "\n\n".join(format_timeline(t) for t in trackings)


#: Badge colour of each status value, in HTML views and plots (a status looks its colour up
#: by itself: :class:`~shiptrack_sdk.TrackingStatus` members are strings).
STATUS_COLORS: dict[str, str] = {
    "PRE_TRANSIT": "#6b7280",
    "TRANSIT": "#2563eb",
    "DELIVERED": "#15803d",
    "EXCEPTION": "#dc2626",
    "UNKNOWN": "#a16207",
}


def _badge(status: TrackingStatus, raw: str | None = None) -> str:
    label = status.value if status.value != "UNKNOWN" or not raw else f"UNKNOWN ({raw})"
    return (
        f'<span style="background:{STATUS_COLORS[status]};color:#fff;border-radius:4px;'
        f'padding:1px 6px;font-size:0.85em;font-weight:600">{html.escape(label)}</span>'
    )


def _link(url: str | None, text: str) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{html.escape(url, quote=True)}" target="_blank">{html.escape(text)}</a>'
    return html.escape(text)


def tracking_html(tracking: Tracking) -> str:
    """One shipment as HTML: header with a status badge, then its events oldest first.

    Every provider text is escaped. ``tracking`` is taken as it is (checked by the public
    :func:`shiptrack_sdk.notebook.tracking_html`).
    """
    e = html.escape
    head = [
        f"<strong>{e(tracking.provider)}</strong>",
        f"<code>{e(tracking.shipment_id)}</code>",
        _badge(tracking.status, tracking.provider_status),
    ]
    if tracking.carrier:
        head.append(e(tracking.carrier))
    if tracking.tracking_ref:
        head.append("ref " + _link(tracking.tracking_url, tracking.tracking_ref))
    rows = []
    for event in tracking.events:
        color = STATUS_COLORS[event.status]
        detail = e(event.description or "")
        if event.provider_status_detail:
            detail += f' <span style="opacity:0.7">[{e(event.provider_status_detail)}]</span>'
        if event.location:
            detail += f' <span style="opacity:0.7">@ {e(event.location)}</span>'
        rows.append(
            f'<li style="border-left:3px solid {color};padding:2px 0 2px 10px;margin:0;'
            f'list-style:none"><span style="font-family:monospace">'
            f"{e(format_when(event.occurred_at))}</span> {_badge(event.status)} {detail}</li>"
        )
    if not rows:
        rows.append('<li style="list-style:none;opacity:0.7">(no events yet)</li>')
    return (
        '<div class="shiptrack-tracking" style="margin:4px 0">'
        f"<div>{' &middot; '.join(head)}</div>"
        f'<ol style="margin:6px 0 0 4px;padding:0">{"".join(rows)}</ol></div>'
    )


def trackings_html(items: Iterable[Tracking]) -> str:
    """Several shipments as one HTML table: status badge, last event, number of events."""
    e = html.escape
    body = []
    for t in items:
        last = t.last_event
        body.append(
            "<tr>"
            f"<td>{e(t.provider)}</td><td><code>{e(t.shipment_id)}</code></td>"
            f"<td>{_badge(t.status, t.provider_status)}</td>"
            f"<td>{e(t.carrier or '')}</td>"
            f"<td>{_link(t.tracking_url, t.tracking_ref or '')}</td>"
            f"<td>{e(format_when(last.occurred_at) if last else '-')}</td>"
            f"<td>{e(last.description or '' if last else '')}</td>"
            f"<td style='text-align:right'>{len(t.events)}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("provider", "shipment", "status", "carrier", "ref", "last event", "", "events")
    )
    return (
        '<table class="shiptrack-trackings"><thead><tr>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )

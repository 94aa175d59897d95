"""Renderings of the normalized model: text for the command line and ``print``, HTML for
notebooks. They read the model and never import it, so the model can render itself."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Tracking, TrackingStatus

__all__ = ["STATUS_COLORS", "format_timeline", "format_when", "tracking_html", "trackings_html"]


def format_when(value: datetime | None) -> str:
    """``2024-07-15 10:02 UTC``."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def format_timeline(tracking: Tracking) -> str:
    """A shipment's header line and its events, oldest first, one per line."""
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

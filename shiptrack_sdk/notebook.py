"""Notebook helpers: HTML views, data frames and timeline plots of normalized tracking.

:class:`~shiptrack_sdk.Tracking` renders itself as HTML in Jupyter (a status badge and a
timeline of events); :class:`Trackings` does the same for several. :func:`to_dataframe` needs
pandas and :func:`plot_timeline` needs matplotlib — optional extras::

    pip install "shiptrack-sdk[pandas,plot]"
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from ._render import format_when
from .models import Tracking, TrackingStatus

if TYPE_CHECKING:
    import pandas

__all__ = ["Trackings", "plot_timeline", "to_dataframe", "tracking_html", "trackings_html"]

#: Badge colour of each status, in HTML views and plots.
STATUS_COLORS: dict[TrackingStatus, str] = {
    TrackingStatus.PRE_TRANSIT: "#6b7280",
    TrackingStatus.TRANSIT: "#2563eb",
    TrackingStatus.DELIVERED: "#15803d",
    TrackingStatus.EXCEPTION: "#dc2626",
    TrackingStatus.UNKNOWN: "#a16207",
}

_STATUS_ORDER = [s.value for s in TrackingStatus]


def _badge(status: TrackingStatus, raw: str | None = None) -> str:
    label = status.value if status is not TrackingStatus.UNKNOWN or not raw else f"UNKNOWN ({raw})"
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

    Every provider text is escaped.
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


def trackings_html(trackings: Iterable[Tracking]) -> str:
    """Several shipments as one HTML table: status badge, last event, number of events."""
    e = html.escape
    body = []
    for t in trackings:
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


def _as_tracking(item: Any) -> Tracking | None:
    if isinstance(item, Tracking):
        return item
    to_tracking = getattr(item, "to_tracking", None)
    if callable(to_tracking):
        result = to_tracking()
        return result if isinstance(result, Tracking) else None
    nested = getattr(item, "tracking", None)
    return nested if isinstance(nested, Tracking) else None


class Trackings(Sequence[Tracking]):
    """A sequence of trackings that shows as a table in Jupyter.

    Accepts :class:`~shiptrack_sdk.Tracking` objects, wire models with ``to_tracking()``, and
    results that hold a ``tracking`` (those without one, such as failed lookups, are skipped).
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._items: tuple[Tracking, ...] = tuple(
            t for t in (_as_tracking(i) for i in items) if t is not None
        )

    @overload
    def __getitem__(self, index: int) -> Tracking: ...
    @overload
    def __getitem__(self, index: slice) -> Trackings: ...
    def __getitem__(self, index: int | slice) -> Tracking | Trackings:
        if isinstance(index, slice):
            return Trackings(self._items[index])
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Tracking]:
        return iter(self._items)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for t in self._items:
            counts[t.status.value] = counts.get(t.status.value, 0) + 1
        summary = ", ".join(f"{k}={v}" for k, v in counts.items())
        return f"Trackings({len(self._items)} shipments{': ' + summary if summary else ''})"

    def _repr_html_(self) -> str:
        return trackings_html(self._items)

    def to_dataframe(self, *, per: Literal["event", "shipment"] = "event") -> pandas.DataFrame:
        """See :func:`to_dataframe`."""
        return to_dataframe(self._items, per=per)

    def plot_timeline(self, ax: Any = None) -> Any:
        """See :func:`plot_timeline`."""
        return plot_timeline(self._items, ax=ax)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError(
            'to_dataframe needs pandas: pip install "shiptrack-sdk[pandas]"'
        ) from None
    return pandas


def to_dataframe(
    trackings: Iterable[Any], *, per: Literal["event", "shipment"] = "event"
) -> pandas.DataFrame:
    """A pandas data frame of trackings: one row per event (default) or per shipment.

    Datetimes are time-zone aware (UTC) and ``status`` is an ordered categorical of
    :class:`~shiptrack_sdk.TrackingStatus` values. A shipment without events still has a row
    per event (``occurred_at`` missing) so no shipment disappears.

    Args:
        trackings: :class:`~shiptrack_sdk.Tracking` objects (or anything :class:`Trackings`
            accepts).
        per: ``"event"`` or ``"shipment"``.
    """
    if per not in ("event", "shipment"):
        from .errors import ValidationError

        raise ValidationError("per", "must be 'event' or 'shipment'")
    pd = _pandas()
    items = Trackings(trackings)
    rows: list[dict[str, Any]] = []
    if per == "event":
        for t in items:
            base = {
                "provider": t.provider,
                "shipment_id": t.shipment_id,
                "shipment_status": t.status.value,
                "carrier": t.carrier,
                "tracking_ref": t.tracking_ref,
            }
            for ev in t.events or (None,):
                rows.append(
                    {
                        **base,
                        "occurred_at": ev.occurred_at if ev else None,
                        "status": ev.status.value if ev else None,
                        "description": ev.description if ev else None,
                        "provider_status": ev.provider_status if ev else None,
                        "provider_status_detail": ev.provider_status_detail if ev else None,
                        "location": ev.location if ev else None,
                    }
                )
        columns = [
            "provider",
            "shipment_id",
            "occurred_at",
            "status",
            "description",
            "provider_status",
            "provider_status_detail",
            "location",
            "shipment_status",
            "carrier",
            "tracking_ref",
        ]
    else:
        for t in items:
            first, last = (t.events[0], t.events[-1]) if t.events else (None, None)
            rows.append(
                {
                    "provider": t.provider,
                    "shipment_id": t.shipment_id,
                    "status": t.status.value,
                    "provider_status": t.provider_status,
                    "carrier": t.carrier,
                    "tracking_ref": t.tracking_ref,
                    "tracking_url": t.tracking_url,
                    "estimated_delivery": t.estimated_delivery,
                    "events": len(t.events),
                    "first_event_at": first.occurred_at if first else None,
                    "last_event_at": last.occurred_at if last else None,
                    "last_description": last.description if last else None,
                }
            )
        columns = [
            "provider",
            "shipment_id",
            "status",
            "provider_status",
            "carrier",
            "tracking_ref",
            "tracking_url",
            "estimated_delivery",
            "events",
            "first_event_at",
            "last_event_at",
            "last_description",
        ]
    frame = pd.DataFrame(rows, columns=columns)
    status_type = pd.CategoricalDtype(_STATUS_ORDER, ordered=True)
    for col in ("status", "shipment_status"):
        if col in frame:
            frame[col] = frame[col].astype(status_type)
    for col in ("occurred_at", "estimated_delivery", "first_event_at", "last_event_at"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def plot_timeline(trackings: Iterable[Any], *, ax: Any = None) -> Any:
    """Plot shipments' events on a time axis: one row per shipment, coloured by status.

    Needs matplotlib (``pip install "shiptrack-sdk[plot]"``). Returns the matplotlib Axes.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            'plot_timeline needs matplotlib: pip install "shiptrack-sdk[plot]"'
        ) from None
    items = list(Trackings(trackings))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.6 * max(len(items), 2) + 1.2))
    for row, t in enumerate(items):
        times = [ev.occurred_at for ev in t.events]
        if times:
            ax.plot(times, [row] * len(times), color="#d1d5db", zorder=1, linewidth=2)
        for ev in t.events:
            ax.scatter(ev.occurred_at, row, color=STATUS_COLORS[ev.status], zorder=2, s=40)
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([f"{t.provider}:{t.shipment_id[:14]}" for t in items])
    ax.invert_yaxis()
    ax.set_xlabel("time (UTC)")
    handles = [
        ax.scatter([], [], color=color, label=status.value)
        for status, color in STATUS_COLORS.items()
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.figure.autofmt_xdate()
    ax.figure.tight_layout()
    return ax

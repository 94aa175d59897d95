"""A watcher's history in a notebook: a data frame, and how many shipments were in each status
over time.

:meth:`Watcher.history <shiptrack_sdk.watch.Watcher.history>` needs pandas and
:meth:`Watcher.plot_status <shiptrack_sdk.watch.Watcher.plot_status>` also matplotlib,
optional extras::

    pip install "shiptrack-sdk[pandas,plot]"

Datetimes are time-zone aware (UTC) and statuses are ordered categoricals of
:class:`~shiptrack_sdk.TrackingStatus` values, as in :func:`shiptrack_sdk.to_dataframe`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import notebook
from ..errors import ValidationError
from ..models import TrackingStatus
from ..notebook import STATUS_COLORS, pandas_module, plot_axes

if TYPE_CHECKING:
    import pandas

    from .store import WatchStore

__all__ = ["CHANGE_COLUMNS", "EVENT_COLUMNS", "history_frame", "plot_status", "status_over_time"]

_STATUSES = [s.value for s in TrackingStatus]

#: The columns of ``history(per="event")``: one row per event the watcher stored.
EVENT_COLUMNS = [*notebook.EVENT_COLUMNS, "seen_at", "change_id"]
#: The columns of ``history(per="change")``: one row per change found.
CHANGE_COLUMNS = [
    "change_id",
    "provider",
    "shipment_id",
    "detected_at",
    "status_before",
    "status_after",
    "new_events",
    "delivered_at",
]


def history_frame(
    store: WatchStore, *, per: str = "event", provider: str | None = None
) -> pandas.DataFrame:
    """The store's history as a data frame.

    Args:
        store: The watcher's store.
        per: ``"event"``: one row per event stored, oldest first by when it occurred (with
            ``seen_at``, when the watcher first read it, and the change it came in);
            ``"change"``: one row per change, in the order found (``new_events`` counts its
            events; ``delivered_at`` is missing while it is pending).
        provider: Only this provider's shipments.

    Raises:
        ValidationError: ``per`` is neither ``"event"`` nor ``"change"``.
        ImportError: pandas is not installed (naming the extra).
    """
    if not isinstance(per, str) or per not in ("event", "change"):
        raise ValidationError("per", f"must be 'event' or 'change', got {per!r}")
    pd = pandas_module("Watcher.history")
    where = " WHERE provider = ?" if provider is not None else ""
    parameters = (provider,) if provider is not None else ()
    if per == "event":
        rows = []
        for sid_provider, sid, data, seen, change in store.read(
            "SELECT provider, shipment_id, data, seen_at, change_id FROM events"  # noqa: S608 - fixed SQL
            f"{where} ORDER BY occurred_at, id",
            parameters,
        ):
            event = json.loads(data)
            rows.append(
                {
                    "provider": sid_provider,
                    "shipment_id": sid,
                    "occurred_at": datetime.fromisoformat(event["occurred_at"]),
                    "status": event["status"],
                    "description": event.get("description"),
                    "provider_status": event.get("provider_status"),
                    "provider_status_detail": event.get("provider_status_detail"),
                    "location": event.get("location"),
                    "seen_at": pd.Timestamp(seen, unit="s", tz="UTC"),
                    "change_id": change,
                }
            )
        frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        frame["seen_at"] = pd.to_datetime(frame["seen_at"], utc=True)
        categorical = ["status"]
    else:
        rows = [
            {
                "change_id": change,
                "provider": sid_provider,
                "shipment_id": sid,
                "detected_at": pd.Timestamp(detected, unit="s", tz="UTC"),
                "status_before": before,
                "status_after": after,
                "new_events": len(json.loads(events)),
                "delivered_at": (
                    pd.Timestamp(delivered, unit="s", tz="UTC") if delivered is not None else None
                ),
            }
            for change, sid_provider, sid, detected, before, after, events, delivered in store.read(
                "SELECT id, provider, shipment_id, detected_at, status_before, status_after,"  # noqa: S608 - fixed SQL
                f" events, delivered_at FROM changes{where} ORDER BY id",
                parameters,
            )
        ]
        frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
        for column in ("detected_at", "delivered_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        categorical = ["status_before", "status_after"]
    status_type = pd.CategoricalDtype(_STATUSES, ordered=True)
    for column in categorical:
        frame[column] = frame[column].astype(status_type)
    return frame


def status_over_time(events: pandas.DataFrame) -> pandas.DataFrame:
    """How many shipments were in each status over time, from ``history(per="event")``.

    A shipment is in the status of its latest event from that event's time on (and counts
    from its first event). Returns a frame indexed by time (each time an event occurred),
    with one column per :class:`~shiptrack_sdk.TrackingStatus` value.

    Raises:
        ValidationError: ``events`` lacks the columns of ``history(per="event")``.
        ImportError: pandas is not installed (naming the extra).
    """
    pd = pandas_module("status_over_time")
    if not isinstance(events, pd.DataFrame) or not {
        "provider",
        "shipment_id",
        "occurred_at",
        "status",
    } <= set(events.columns):
        raise ValidationError("events", 'must be a frame of Watcher.history(per="event")')
    ordered = events.sort_values("occurred_at", kind="stable")
    current: dict[tuple[str, str], str] = {}
    counts = dict.fromkeys(_STATUSES, 0)
    times = []
    rows = []
    for provider, sid, when, status in ordered[
        ["provider", "shipment_id", "occurred_at", "status"]
    ].itertuples(index=False):
        key = (provider, sid)
        before = current.get(key)
        if before is not None:
            counts[before] -= 1
        counts[str(status)] += 1
        current[key] = str(status)
        times.append(when)
        rows.append(dict(counts))
    frame = pd.DataFrame(rows, columns=_STATUSES, index=pd.DatetimeIndex(times, name="time"))
    # Events at one instant count once, as they stand after the last of them.
    return frame[~frame.index.duplicated(keep="last")].astype("int64")


def plot_status(events: pandas.DataFrame, *, ax: Any = None) -> Any:
    """Plot :func:`status_over_time` of ``events`` (``history(per="event")``): one step line
    per status that any shipment was in, coloured as the notebook views colour statuses.
    Returns the matplotlib Axes.

    Args:
        events: ``Watcher.history(per="event")``.
        ax: The matplotlib ``Axes`` to draw on; by default a new figure's.

    Raises:
        ValidationError: ``events`` is not such a frame, or ``ax`` is not an ``Axes``.
        ImportError: pandas or matplotlib is not installed (naming the extra).
    """
    counts = status_over_time(events)
    ax = plot_axes(ax, "Watcher.plot_status", (10, 4))
    for status in TrackingStatus:
        series = counts[status.value]
        if series.any():
            ax.step(
                counts.index,
                series,
                where="post",
                color=STATUS_COLORS[status],
                label=status.value,
                linewidth=2,
            )
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("shipments")
    ax.set_title("shipments by status over time")
    if len(counts):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.figure.autofmt_xdate()
    ax.figure.tight_layout()
    return ax

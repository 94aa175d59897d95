"""Notebook helpers: HTML views, data frames and timeline plots of normalized tracking.

:class:`~shiptrack_sdk.Tracking` renders itself as HTML in Jupyter (a status badge and a
timeline of events); :class:`Trackings` does the same for several. :func:`to_dataframe` needs
pandas and :func:`plot_timeline` needs matplotlib — optional extras::

    pip install "shiptrack-sdk[pandas,plot]"

A failed lookup among the items (a result whose ``tracking`` is ``None``, such as a
:class:`~shiptrack_sdk.exporto.TrackResult` with its error, or the error itself) is shown, not
dropped: :attr:`Trackings.failed` holds them, the HTML views list them under the table, and
:func:`to_dataframe` gives each a row with its ``error``.

Bad arguments (something that is not a list of trackings, an item that holds no tracking, an
unknown option) are refused with a :class:`~shiptrack_sdk.ValidationError` naming them,
before anything is rendered or computed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _render
from .errors import ShiptrackError, ValidationError
from .models import Tracking, TrackingStatus

if TYPE_CHECKING:
    import pandas

__all__ = ["Trackings", "plot_timeline", "to_dataframe", "tracking_html", "trackings_html"]

#: The columns that say one event, first in every frame of events (``to_dataframe``'s, a
#: watcher's history).
EVENT_COLUMNS = (
    "provider",
    "shipment_id",
    "occurred_at",
    "status",
    "description",
    "provider_status",
    "provider_status_detail",
    "location",
)

#: Badge colour of each status, in HTML views and plots.
STATUS_COLORS: dict[TrackingStatus, str] = {
    TrackingStatus(value): color for value, color in _render.STATUS_COLORS.items()
}

_STATUS_ORDER = [s.value for s in TrackingStatus]


def tracking_html(tracking: Tracking) -> str:
    """One shipment as HTML: header with a status badge, then its events oldest first.

    Every provider text is escaped.

    Raises:
        ValidationError: ``tracking`` is not a :class:`~shiptrack_sdk.Tracking`.
    """
    if not isinstance(tracking, Tracking):
        raise ValidationError("tracking", f"expected a Tracking, got {type(tracking).__name__}")
    return _render.tracking_html(tracking)


def trackings_html(trackings: Iterable[Any]) -> str:
    """Several shipments as one HTML table: status badge, last event, number of events.

    Args:
        trackings: :class:`~shiptrack_sdk.Tracking` objects (or anything :class:`Trackings`
            accepts).

    Raises:
        ValidationError: ``trackings`` is not an iterable of trackings.
    """
    entries = _entries(trackings, "trackings")
    found = [e for e in entries if isinstance(e, Tracking)]
    return _render.trackings_html(found) + _failed_html(
        [e for e in entries if not isinstance(e, Tracking)]
    )


#: What an item of a list of trackings may be, for error messages.
_ACCEPTED = "a Tracking, a model with to_tracking(), a result with a tracking attribute or an error"

#: How many failed lookups an HTML view lists by name (the rest are counted).
_LISTED_FAILURES = 20


def _trackings(items: Any, argument: str) -> tuple[Tracking, ...]:
    """The trackings of ``items`` (its failed lookups left out); see :func:`_entries`."""
    return tuple(e for e in _entries(items, argument) if isinstance(e, Tracking))


def _failure(item: Any) -> tuple[str | None, str | None, str | None]:
    """A failed lookup's provider, shipment id and error (``"NotFoundError: ..."``)."""
    error = item if isinstance(item, BaseException) else getattr(item, "error", None)
    shipment_id = None if isinstance(item, BaseException) else getattr(item, "shipment_id", None)
    text = f"{type(error).__name__}: {error}" if error is not None else None
    return getattr(error, "provider", None), shipment_id, text


def _failed_html(failed: Sequence[Any]) -> str:
    """The failed lookups under a table: how many, and the first few with their errors."""
    if not failed:
        return ""
    e = html.escape
    lines = []
    for item in failed[:_LISTED_FAILURES]:
        _, shipment_id, error = _failure(item)
        tour = getattr(item, "tour_id", None)
        who = f"<code>{e(shipment_id)}</code>" if shipment_id else "a lookup"
        if tour:
            who += f" (tour <code>{e(str(tour))}</code>)"
        lines.append(f"<li>{who}: {e(error or 'no tracking')}</li>")
    more = len(failed) - _LISTED_FAILURES
    if more > 0:
        lines.append(f"<li>and {more} more (see <code>.failed</code>)</li>")
    count = f"{len(failed)} lookup{'s' if len(failed) != 1 else ''} failed"
    return f'<div class="shiptrack-failed"><p>{count}:</p><ul>{"".join(lines)}</ul></div>'


def _entries(items: Any, argument: str) -> tuple[Any, ...]:
    """The trackings of ``items`` and its failed lookups, in order; every item that holds
    neither is refused, all at once.

    An item is a :class:`~shiptrack_sdk.Tracking`, a wire model with ``to_tracking()``, or a
    result with a ``tracking`` attribute, kept as it is (a failed lookup) when that is
    ``None``; a :class:`~shiptrack_sdk.ShiptrackError` (what a lookup that failed returned)
    is a failed lookup too. A :class:`Trackings` gives its own, failed lookups included.
    """
    if isinstance(items, Trackings):
        return items._entries
    if isinstance(items, Tracking):
        raise ValidationError(
            argument, "expected an iterable of Tracking, got one: pass [tracking]"
        )
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError(
            argument, f"expected an iterable of Tracking, got {type(items).__name__}"
        )
    found: list[Any] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        where = f"{argument}[{index}]"
        if isinstance(item, (Tracking, ShiptrackError)):
            found.append(item)
        elif callable(getattr(item, "to_tracking", None)):
            result = item.to_tracking()
            if isinstance(result, Tracking):
                found.append(result)
            else:
                got = type(result).__name__
                problems.append((where, f"to_tracking() returned {got}, not a Tracking"))
        elif hasattr(item, "tracking"):
            if isinstance(item.tracking, Tracking):
                found.append(item.tracking)
            elif item.tracking is None:
                found.append(item)  # a failed lookup, kept with its error
            else:
                got = type(item.tracking).__name__
                problems.append((where, f"its tracking is a {got}, not a Tracking"))
        else:
            problems.append((where, f"expected {_ACCEPTED}, got {type(item).__name__}"))
    if problems:
        raise ValidationError.from_problems(problems)
    return tuple(found)


class Trackings(Sequence[Tracking]):
    """A sequence of trackings that shows as a table in Jupyter, and exports as a list
    (:meth:`to_dict`, :meth:`to_json`).

    Accepts :class:`~shiptrack_sdk.Tracking` objects, wire models with ``to_tracking()``, and
    results with a ``tracking`` attribute, such as
    :class:`~shiptrack_sdk.exporto.TrackResult`. A result whose ``tracking`` is ``None``, or
    a :class:`~shiptrack_sdk.ShiptrackError` in the list, is a failed lookup: it is not one
    of the sequence's trackings but is kept in :attr:`failed`, counted in the ``repr``,
    listed under the HTML table and given a row (with its ``error``) by
    :meth:`to_dataframe`.

    Raises:
        ValidationError: ``items`` is not iterable, or some of its items hold no tracking
            (every one named, as ``items[3]``).
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        entries = _entries(items, "items")
        self._entries = entries
        self._items: tuple[Tracking, ...] = tuple(e for e in entries if isinstance(e, Tracking))
        self._failed = tuple(e for e in entries if not isinstance(e, Tracking))

    @property
    def failed(self) -> tuple[Any, ...]:
        """The failed lookups among the items, as given (a result with its ``error``, or the
        error itself), in order."""
        return self._failed

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
        failed = f"; {len(self._failed)} failed" if self._failed else ""
        return f"Trackings({len(self._items)} shipments{': ' + summary if summary else ''}{failed})"

    def _repr_html_(self) -> str:
        return trackings_html(self._entries)

    def to_dict(self) -> list[dict[str, Any]]:
        """Every tracking's :meth:`~shiptrack_sdk.Tracking.to_dict`, in order: a list (the
        failed lookups, in :attr:`failed`, are no trackings and are not in it)."""
        return [t.to_dict() for t in self._items]

    def to_json(self, **json_kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON array; keywords go to :func:`json.dumps`
        (``indent=2``...).

        Raises:
            ValidationError: a keyword that :func:`json.dumps` does not take.
        """
        return _render.dumps(self._items, **json_kwargs)

    def to_dataframe(self, *, per: Literal["event", "shipment"] = "event") -> pandas.DataFrame:
        """See :func:`to_dataframe` (failed lookups included, in the order given)."""
        return to_dataframe(self._entries, per=per)

    def plot_timeline(self, ax: Any = None) -> Any:
        """See :func:`plot_timeline`."""
        return plot_timeline(self._items, ax=ax)


def pandas_module(what: str) -> Any:
    """pandas, imported now; ``ImportError`` naming the extra (``pandas``) when it is missing.

    Args:
        what: The function that needs it, as the error names it.
    """
    try:
        import pandas
    except ImportError:
        raise ImportError(f'{what} needs pandas: pip install "shiptrack-sdk[pandas]"') from None
    return pandas


def plot_axes(ax: Any, what: str, figsize: tuple[float, float]) -> Any:
    """``ax`` if it is a matplotlib ``Axes``, or a new figure's of ``figsize`` when it is
    ``None``; ``ImportError`` naming the extra (``plot``) when matplotlib is missing.

    Raises:
        ValidationError: ``ax`` is neither.
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes
    except ImportError:
        raise ImportError(f'{what} needs matplotlib: pip install "shiptrack-sdk[plot]"') from None
    if ax is not None and not isinstance(ax, Axes):
        raise ValidationError("ax", f"expected a matplotlib Axes or None, got {type(ax).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def to_dataframe(
    trackings: Iterable[Any], *, per: Literal["event", "shipment"] = "event"
) -> pandas.DataFrame:
    """A pandas data frame of trackings: one row per event (default) or per shipment.

    Datetimes are time-zone aware (UTC) and ``status`` is an ordered categorical of
    :class:`~shiptrack_sdk.TrackingStatus` values. A shipment without events still has a row
    per event (``occurred_at`` missing) so no shipment disappears. A failed lookup has one
    row too: its ``shipment_id`` and ``provider`` when known, and the last column, ``error``
    (``"NotFoundError: ..."``, missing on the rows of trackings), says what went wrong;
    ``frame[frame.error.notna()]`` selects them.

    Args:
        trackings: :class:`~shiptrack_sdk.Tracking` objects (or anything :class:`Trackings`
            accepts).
        per: ``"event"`` or ``"shipment"``.

    Raises:
        ValidationError: ``trackings`` is not an iterable of trackings, or ``per`` is neither
            ``"event"`` nor ``"shipment"``.
    """
    entries = _entries(trackings, "trackings")
    if not isinstance(per, str) or per not in ("event", "shipment"):
        raise ValidationError("per", f"must be 'event' or 'shipment', got {per!r}")
    pd = pandas_module("to_dataframe")
    rows: list[dict[str, Any]] = []
    if per == "event":
        for t in entries:
            if not isinstance(t, Tracking):
                rows.append(_failed_row(t))
                continue
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
        columns = [*EVENT_COLUMNS, "shipment_status", "carrier", "tracking_ref", "error"]
    else:
        for t in entries:
            if not isinstance(t, Tracking):
                rows.append({**_failed_row(t), "events": 0})
                continue
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
            "error",
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


def _failed_row(item: Any) -> dict[str, Any]:
    """The row of a failed lookup: what is known of it, and its error."""
    provider, shipment_id, error = _failure(item)
    return {"provider": provider, "shipment_id": shipment_id, "error": error}


def plot_timeline(trackings: Iterable[Any], *, ax: Any = None) -> Any:
    """Plot shipments' events on a time axis: one row per shipment, coloured by status.

    Needs matplotlib (``pip install "shiptrack-sdk[plot]"``). Returns the matplotlib Axes.

    Args:
        trackings: :class:`~shiptrack_sdk.Tracking` objects (or anything :class:`Trackings`
            accepts).
        ax: The matplotlib ``Axes`` to draw on; by default a new figure's.

    Raises:
        ValidationError: ``trackings`` is not an iterable of trackings, or ``ax`` is not a
            matplotlib ``Axes``.
    """
    items = _trackings(trackings, "trackings")
    ax = plot_axes(ax, "plot_timeline", (10, 0.6 * max(len(items), 2) + 1.2))
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

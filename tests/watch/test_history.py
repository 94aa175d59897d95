"""A watcher's history in a notebook: the data frames and the status-over-time plot."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from shiptrack_sdk.errors import ValidationError
from shiptrack_sdk.watch import Watcher
from shiptrack_sdk.watch.history import CHANGE_COLUMNS, EVENT_COLUMNS, status_over_time

from .conftest import Clock, gain_event

pd = pytest.importorskip("pandas")

IN_TRANSIT = "6650a1f2c3d4e5f601234567"
DELIVERED = "S-240906-1000"


@pytest.fixture
def watched(watcher: Watcher, clients: dict[str, Any], clock: Clock) -> Watcher:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.add("exporto", DELIVERED)
    watcher.acknowledge(watcher.poll())
    gain_event(
        clients,
        IN_TRANSIT,
        "DELIVERED",
        datetime(2024, 9, 7, 8, 1, tzinfo=timezone.utc),
        "Delivered",
    )
    clock.advance(minutes=5)
    watcher.poll()
    return watcher


def test_the_history_of_events(watched: Watcher) -> None:
    frame = watched.history()
    assert list(frame.columns) == EVENT_COLUMNS
    assert len(frame) == 9
    assert str(frame["occurred_at"].dt.tz) == "UTC"
    assert list(frame["status"].cat.categories)[:4] == [
        "PRE_TRANSIT",
        "TRANSIT",
        "DELIVERED",
        "EXCEPTION",
    ]
    assert frame["occurred_at"].is_monotonic_increasing
    mine = watched.history(provider="shiplemon")
    assert set(mine["shipment_id"]) == {IN_TRANSIT}
    assert len(mine) == 5
    assert mine.iloc[-1]["description"] == "Delivered"
    assert mine.iloc[-1]["change_id"] != mine.iloc[0]["change_id"]


def test_the_history_of_changes(watched: Watcher) -> None:
    frame = watched.history(per="change")
    assert list(frame.columns) == CHANGE_COLUMNS
    assert list(frame["new_events"]) == [4, 4, 1]
    last = frame.iloc[-1]
    assert (last["status_before"], last["status_after"]) == ("TRANSIT", "DELIVERED")
    assert pd.isna(last["delivered_at"])  # pending
    assert frame["delivered_at"].notna().sum() == 2


def test_status_over_time_counts_each_shipment_in_its_latest_status(watched: Watcher) -> None:
    counts = status_over_time(watched.history())
    assert list(counts.columns) == ["PRE_TRANSIT", "TRANSIT", "DELIVERED", "EXCEPTION", "UNKNOWN"]
    assert (counts.sum(axis=1) <= 2).all()
    assert counts.iloc[-1].to_dict() == {
        "PRE_TRANSIT": 0,
        "TRANSIT": 0,
        "DELIVERED": 2,
        "EXCEPTION": 0,
        "UNKNOWN": 0,
    }
    assert counts.index.is_monotonic_increasing
    assert counts.index.is_unique
    with pytest.raises(ValidationError):
        status_over_time(pd.DataFrame({"x": [1]}))


def test_the_status_plot(watched: Watcher) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = watched.plot_status()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["PRE_TRANSIT", "TRANSIT", "DELIVERED"]
    assert ax.get_ylabel() == "shipments"
    with pytest.raises(ValidationError):
        watched.plot_status(ax="not an axes")
    plt.close("all")


def test_without_pandas_the_error_names_the_extra(
    watched: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r'pip install "shiptrack-sdk\[pandas\]"'):
        watched.history()
    with pytest.raises(ValidationError):
        watched.history(per="day")


def test_without_matplotlib_the_error_names_the_extra(
    watched: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "shiptrack-sdk\[plot\]"'):
        watched.plot_status()

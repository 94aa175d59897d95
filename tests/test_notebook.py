"""The notebook helpers: HTML views, data frames, timeline plots, and the example notebook."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shiptrack_sdk import Tracking, TrackingEvent, TrackingStatus, ValidationError
from shiptrack_sdk.notebook import Trackings, to_dataframe, tracking_html, trackings_html

ROOT = Path(__file__).resolve().parents[1]


def _tracking(
    sid: str = "S1", *, status: str = "TRANSIT", description: str = "Hub scan"
) -> Tracking:
    return Tracking(
        provider="demo",
        shipment_id=sid,
        status=status,
        provider_status=status.lower(),
        carrier="ACME",
        tracking_ref="REF1",
        tracking_url="https://track.example.com/REF1",
        events=[
            TrackingEvent("TRANSIT", datetime(2024, 9, 2, 12, tzinfo=timezone.utc), description),
            TrackingEvent("PRE_TRANSIT", datetime(2024, 9, 1, 8, tzinfo=timezone.utc), "Created"),
        ],
    )


def test_repr_is_one_compact_line() -> None:
    text = repr(_tracking())
    assert text == "Tracking(demo:S1 TRANSIT, 2 events, last 2024-09-02T12:00:00Z)"
    assert "\n" not in repr(_tracking().events[0])


def test_unknown_status_repr_keeps_the_raw_value() -> None:
    t = Tracking(
        provider="demo", shipment_id="S", status="UNKNOWN", provider_status="lost-in-space"
    )
    assert "UNKNOWN ('lost-in-space')" in repr(t)


def test_html_view_has_badge_timeline_and_escapes_provider_text() -> None:
    page = _tracking(description="<script>alert(1)</script>")._repr_html_()
    assert "TRANSIT" in page
    assert "PRE_TRANSIT" in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    # oldest first
    assert page.index("Created") < page.index("alert")
    assert 'href="https://track.example.com/REF1"' in page


def test_html_view_refuses_script_links() -> None:
    t = Tracking(
        provider="p",
        shipment_id="s",
        status="TRANSIT",
        tracking_ref="R",
        tracking_url="javascript:alert(1)",
    )
    assert "javascript:" not in tracking_html(t)


def test_trackings_table_and_sequence_behaviour() -> None:
    items = Trackings([_tracking("A"), _tracking("B", status="DELIVERED"), object()])
    assert len(items) == 2  # objects without a tracking are skipped
    assert items[1].shipment_id == "B"
    assert isinstance(items[:1], Trackings)
    assert repr(items) == "Trackings(2 shipments: TRANSIT=1, DELIVERED=1)"
    html = items._repr_html_()
    assert html == trackings_html(items)
    assert html.count("<tr>") == 3  # header + two rows


def test_to_dataframe_per_event_and_per_shipment() -> None:
    pd = pytest.importorskip("pandas")
    shipments = [
        _tracking("A"),
        Tracking(provider="demo", shipment_id="EMPTY", status="PRE_TRANSIT"),
    ]
    events = to_dataframe(shipments)
    assert list(events["shipment_id"]) == ["A", "A", "EMPTY"]  # no shipment disappears
    assert str(events["occurred_at"].dt.tz) == "UTC"
    assert events["occurred_at"].iloc[0] < events["occurred_at"].iloc[1]
    assert isinstance(events["status"].dtype, pd.CategoricalDtype)
    assert events["status"].cat.ordered
    assert list(events["status"].cat.categories) == [s.value for s in TrackingStatus]
    per_shipment = to_dataframe(shipments, per="shipment")
    assert list(per_shipment["events"]) == [2, 0]
    assert per_shipment.loc[0, "last_description"] == "Hub scan"


def test_to_dataframe_refuses_a_bad_per() -> None:
    with pytest.raises(ValidationError) as info:
        to_dataframe([], per="day")  # type: ignore[arg-type]
    assert info.value.argument == "per"


def test_plot_timeline_draws_one_row_per_shipment() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = Trackings([_tracking("A"), _tracking("B")]).plot_timeline()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["demo:A", "demo:B"]


def test_the_example_notebook_runs_top_to_bottom_against_the_sandbox() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = ROOT / "docs" / "examples" / "tracking.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("shiptrack-tracking" in h for h in html)
    assert any("shiptrack-trackings" in h for h in html)
    assert any("image/png" in o.get("data", {}) for o in outputs)

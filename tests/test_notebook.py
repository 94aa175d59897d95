"""The notebook helpers: HTML views, data frames, timeline plots, and the example notebook."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk import Tracking, TrackingEvent, TrackingStatus, ValidationError
from shiptrack_sdk.errors import NotFoundError
from shiptrack_sdk.exporto import TrackResult
from shiptrack_sdk.notebook import (
    Trackings,
    plot_timeline,
    to_dataframe,
    tracking_html,
    trackings_html,
)

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
    failed = TrackResult("C", tour_id="T", error=NotFoundError("no such shipment", status=404))
    items = Trackings([_tracking("A"), _tracking("B", status="DELIVERED"), failed])
    assert len(items) == 2  # the sequence is of trackings; failed lookups are in .failed
    assert items[1].shipment_id == "B"
    assert isinstance(items[:1], Trackings)
    assert repr(items) == "Trackings(2 shipments: TRANSIT=1, DELIVERED=1; 1 failed)"
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


class _Model:
    """A wire model: converts with ``to_tracking()``."""

    def __init__(self, result: object) -> None:
        self.result = result

    def to_tracking(self) -> object:
        return self.result


def test_trackings_accepts_models_and_results_holding_a_tracking() -> None:
    held = TrackResult("B", tracking=_tracking("B"))
    items = Trackings(iter([_tracking("A"), _Model(_tracking("M")), held]))
    assert [t.shipment_id for t in items] == ["A", "M", "B"]


#: Every public function that takes several trackings, called with ``trackings``.
SEVERAL = {
    "Trackings": lambda trackings: Trackings(trackings),
    "trackings_html": trackings_html,
    "to_dataframe": to_dataframe,
    "plot_timeline": plot_timeline,
}
ARGUMENT = {"Trackings": "items"}


@pytest.mark.parametrize("value", [5, None, 1.5, "S1", b"S1", {"S1": "x"}, _tracking()], ids=repr)
@pytest.mark.parametrize("function", sorted(SEVERAL))
def test_something_that_is_not_a_list_of_trackings_is_refused(function: str, value: object) -> None:
    argument = ARGUMENT.get(function, "trackings")
    with pytest.raises(ValidationError) as info:
        SEVERAL[function](value)
    assert info.value.argument == argument
    assert len(info.value.problems) == 1


@pytest.mark.parametrize("function", sorted(SEVERAL))
def test_items_that_hold_no_tracking_are_refused_every_one_named(function: str) -> None:
    argument = ARGUMENT.get(function, "trackings")
    bad = [
        _tracking("A"),
        object(),
        "S1",
        5,
        _Model({"shipment_id": "X"}),
        TrackResult("C", tracking="S1"),  # type: ignore[arg-type]
        _tracking("B"),
    ]
    with pytest.raises(ValidationError) as info:
        SEVERAL[function](bad)
    assert [path for path, _ in info.value.problems] == [
        f"{argument}[{i}]" for i in (1, 2, 3, 4, 5)
    ]
    assert "got object" in info.value.problems[0][1]
    assert "to_tracking() returned dict" in info.value.problems[3][1]


@pytest.mark.parametrize("value", [None, "S1", 5, _tracking().events[0], [_tracking()]], ids=repr)
def test_tracking_html_refuses_what_is_not_a_tracking(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        tracking_html(value)  # type: ignore[arg-type]
    assert info.value.argument == "tracking"


@pytest.mark.parametrize("per", ["day", "", "EVENT", None, 1, ["event"]], ids=repr)
def test_to_dataframe_refuses_every_bad_per_before_needing_pandas(
    per: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    with pytest.raises(ValidationError) as info:
        to_dataframe([_tracking()], per=per)  # type: ignore[arg-type]
    assert info.value.argument == "per"
    with pytest.raises(ValidationError) as info:
        Trackings([_tracking()]).to_dataframe(per=per)  # type: ignore[arg-type]
    assert info.value.argument == "per"


def test_bad_trackings_are_refused_before_needing_matplotlib(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ValidationError) as info:
        plot_timeline(5)  # type: ignore[arg-type]
    assert info.value.argument == "trackings"
    with pytest.raises(ImportError, match=r"shiptrack-sdk\[plot\]"):
        plot_timeline([_tracking()])


@pytest.mark.parametrize("ax", ["axes", 5, object()], ids=repr)
def test_plot_timeline_refuses_an_ax_that_is_not_an_axes(ax: object) -> None:
    pytest.importorskip("matplotlib")
    with pytest.raises(ValidationError) as info:
        plot_timeline([_tracking()], ax=ax)
    assert info.value.argument == "ax"
    with pytest.raises(ValidationError) as info:
        Trackings([_tracking()]).plot_timeline(ax=ax)
    assert info.value.argument == "ax"


def test_plot_timeline_draws_one_row_per_shipment() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = Trackings([_tracking("A"), _tracking("B")]).plot_timeline()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["demo:A", "demo:B"]
    assert plot_timeline([_tracking("C")], ax=ax) is ax  # draws on the given Axes


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


# -- failed lookups are shown, not dropped --------------------------------------------------


def _failed(sid: str = "C") -> TrackResult:
    error = NotFoundError("no such shipment", status=404, provider="exporto")
    return TrackResult(sid, tour_id="T-1", error=error)


def test_trackings_keep_their_failed_lookups() -> None:
    failed = _failed()
    items = Trackings([_tracking("A"), failed, _tracking("B", status="DELIVERED")])
    assert [t.shipment_id for t in items] == ["A", "B"]  # the sequence is of trackings
    assert items.failed == (failed,)
    assert repr(items) == "Trackings(2 shipments: TRANSIT=1, DELIVERED=1; 1 failed)"
    only_failures = Trackings([failed, _failed("D")])
    assert len(only_failures) == 0
    assert repr(only_failures) == "Trackings(0 shipments; 2 failed)"
    assert Trackings([_tracking("A")]).failed == ()


def test_the_html_table_says_which_lookups_failed_and_why() -> None:
    failed = TrackResult(
        "<b>C</b>", tour_id="T-1", error=NotFoundError("<script>no</script>", status=404)
    )
    html = Trackings([_tracking("A"), failed])._repr_html_()
    assert html.count("<tr>") == 2  # header + the one tracking
    assert "1 lookup failed" in html
    assert "&lt;b&gt;C&lt;/b&gt;" in html
    assert "NotFoundError" in html
    assert "&lt;script&gt;no&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "<b>C</b>" not in html
    assert "failed" not in Trackings([_tracking("A")])._repr_html_()


def test_the_html_summary_lists_a_few_failures_and_counts_the_rest() -> None:
    many = [_failed(f"S{i}") for i in range(30)]
    html = trackings_html(many)
    assert "30 lookups failed" in html
    assert "S19" in html
    assert "S20" not in html
    assert "and 10 more" in html


def test_errors_in_a_list_of_results_count_as_failed_lookups() -> None:
    # What a provider's ``track`` returns: a tracking or the error, per id.
    error = NotFoundError("no such shipment", status=404, provider="shiplemon")
    items = Trackings([_tracking("A"), error])
    assert items.failed == (error,)
    assert "1 failed" in repr(items)


def test_to_dataframe_has_a_row_and_an_error_for_each_failed_lookup() -> None:
    pytest.importorskip("pandas")
    items = [_tracking("A"), _failed("C")]
    events = to_dataframe(items)
    assert list(events["shipment_id"]) == ["A", "A", "C"]
    assert list(events.columns)[-1] == "error"
    assert events["error"].iloc[:2].isna().all()
    assert events["error"].iloc[2].startswith("NotFoundError: ")
    assert events["provider"].iloc[2] == "exporto"
    assert events["occurred_at"].isna().iloc[2]
    per_shipment = to_dataframe(items, per="shipment")
    assert list(per_shipment["shipment_id"]) == ["A", "C"]
    assert per_shipment["status"].isna().tolist() == [False, True]
    assert per_shipment["error"].notna().tolist() == [False, True]
    assert list(per_shipment["events"]) == [2, 0]
    # The same through Trackings, in the order given.
    frame = Trackings([_failed("C"), _tracking("A")]).to_dataframe(per="shipment")
    assert list(frame["shipment_id"]) == ["C", "A"]
    failed_rows = frame[frame["error"].notna()]
    assert list(failed_rows["shipment_id"]) == ["C"]


def test_to_dataframe_of_trackings_only_has_an_empty_error_column() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([_tracking("A")], per="shipment")
    assert frame["error"].isna().all()


def test_a_tour_with_a_failing_shipment_shows_it_in_the_table_and_the_frame(sb: Any) -> None:
    pd = pytest.importorskip("pandas")
    sandbox = sb  # the reset sandbox, over real HTTP
    sandbox.fault("/exporto/v1/shipment/S-240902-0003", status=500, times=None)
    with sandbox.exporto_client(max_retries=0) as exporto:
        results = list(exporto.tours.track(["T-20240902"], order="tour"))
    items = Trackings(results)
    assert [r.shipment_id for r in items.failed] == ["S-240902-0003"]
    assert repr(items).endswith("; 1 failed)")
    assert "S-240902-0003" in items._repr_html_()
    frame = items.to_dataframe(per="shipment")
    assert len(frame) == len(results)
    failed = frame[frame["error"].notna()]
    assert list(failed["shipment_id"]) == ["S-240902-0003"]
    assert failed["error"].iloc[0].startswith("ServerError: [exporto] HTTP 500")
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)

"""client.tours: the tour list, a tour's shipment ids, and the concurrent tour chain."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from shiptrack_sdk import (
    NotFoundError,
    ResponseError,
    ServerError,
    ShiptrackError,
    TrackingStatus,
    ValidationError,
)
from shiptrack_sdk.exporto import ExportoClient, Shipment, Tour, TrackResult
from shiptrack_sdk.exporto._sandbox import ExportoApp
from shiptrack_sdk.sandbox import Sandbox
from tests.exporto.conftest import BASE


def _app(sb: Sandbox) -> ExportoApp:
    app = sb.apps["exporto"]
    assert isinstance(app, ExportoApp)
    return app


def _fanout_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("shiptrack-exporto")]


# -- request shapes (responses) -----------------------------------------------------------------


def test_list_sends_get_tour_and_sorts_by_closing_date(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "tour", json=load("tour_list.json"))
    tours = client.tours.list()
    assert [t.id for t in tours] == ["T-20240902", "T-20240903", "T-20240904"]
    assert tours[0] == Tour(id="T-20240902", closing_date=date(2024, 9, 2), shipment_count=24)
    assert mocked.calls[1].request.url == BASE + "tour"


def test_list_since_filters_by_closing_day(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "tour", json=load("tour_list.json"))
    assert [t.id for t in client.tours.list(date(2024, 9, 3))] == ["T-20240903", "T-20240904"]
    # A datetime counts by its UTC day: 01:00 at +02:00 is the previous day in UTC.
    since = datetime(2024, 9, 4, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert [t.id for t in client.tours.list(since)] == ["T-20240903", "T-20240904"]
    with pytest.raises(ValidationError) as info:
        client.tours.list(datetime(2024, 9, 3))
    assert info.value.argument == "since"


def test_list_accepts_an_object_envelope(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "tour", json={"tours": [{"tourId": "T-1", "closingDate": "2024-09-02"}]})
    assert [t.id for t in client.tours.list()] == ["T-1"]


def test_get_and_shipment_ids(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "tour/T-20240902", json=load("tour_detail.json"))
    assert client.tours.shipment_ids("T-20240902") == [
        "S-240902-0001",
        "S-240902-0002",
        "S-240902-0003",
    ]
    assert mocked.calls[1].request.url == BASE + "tour/T-20240902"


@pytest.mark.parametrize(
    "payload",
    [
        ["S-1", "S-2"],
        {"shipments": [{"shipmentId": "S-1"}, {"shipmentId": "S-2"}]},
        {"tourId": "T/1", "shipmentIds": ["S-1", 2]},
    ],
)
def test_tour_answer_shapes(
    mocked: responses.RequestsMock, client: ExportoClient, payload: Any
) -> None:
    mocked.get(BASE + "tour/T%2F1", json=payload)
    detail = client.tours.get("T/1")
    assert detail.tour_id == "T/1"
    assert detail.shipment_ids[0] == "S-1"
    assert len(detail.shipment_ids) == 2


def test_tour_answer_without_ids_is_a_response_error(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "tour/T-1", json={"shipmentIds": [{"orderId": "x"}]})
    with pytest.raises(ResponseError):
        client.tours.get("T-1")
    mocked.get(BASE + "tour/T-2", json={"tourId": "T-2"})
    with pytest.raises(ResponseError):
        client.tours.get("T-2")


def test_tour_paths_from_constructor(mocked: responses.RequestsMock) -> None:
    mocked.get(BASE + "closings", json=[{"tourId": "T-1"}])
    mocked.get(BASE + "closings/T-1/shipments", json=["S-1"])
    with ExportoClient(
        client_id="i",
        client_secret="s",
        tour_list_path="closings",
        tour_path="closings/{tourId}/shipments",
    ) as client:
        assert [t.id for t in client.tours.list()] == ["T-1"]
        assert client.tours.shipment_ids("T-1") == ["S-1"]


def test_tour_paths_from_environment(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPTRACK_EXPORTO_TOUR_LIST_PATH", "tours")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_TOUR_PATH", "tours/{tourId}")
    mocked.get(BASE + "tours/T-1", json=["S-1"])
    with ExportoClient(client_id="i", client_secret="s") as client:
        assert client.tours.list_path == "tours"
        assert client.tours.shipment_ids("T-1") == ["S-1"]


def test_tour_path_needs_its_placeholder() -> None:
    with pytest.raises(ValidationError) as info:
        ExportoClient(client_id="i", client_secret="s", tour_path="tour/")
    assert info.value.argument == "tour_path"


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((), {}, "tour_ids"),
        ((["T-1"],), {"since": date(2024, 9, 2)}, "tour_ids"),
        (("T-1",), {}, "tour_ids"),
        ((["T-1", ""],), {}, "tour_ids[1]"),
        ((), {"since": "2024-09-02"}, "since"),
        ((["T-1"],), {"max_workers": 0}, "max_workers"),
        ((["T-1"],), {"max_workers": 2.5}, "max_workers"),
        ((["T-1"],), {"progress": "x"}, "progress"),
        ((["T-1"],), {"progress": 5}, "progress"),
    ],
)
def test_track_refuses_bad_input_at_the_call(
    mocked: responses.RequestsMock,
    client: ExportoClient,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    argument: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        client.tours.track(*args, **kwargs)
    assert info.value.argument == argument
    assert not mocked.calls


def test_track_result() -> None:
    ok = TrackResult("S-1", tracking=None)
    assert not ok.ok
    error = NotFoundError("gone", status=404)
    failed = TrackResult("S-1", error=error)
    assert not failed.ok
    with pytest.raises(NotFoundError):
        failed.unwrap()


# -- the chain over real HTTP (sandbox) ----------------------------------------------------------


def test_track_since_returns_every_shipment_of_the_tours_once(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    expected = {
        sid: tour["tourId"]
        for tour in app.tours.values()
        if tour["closingDate"] >= "2024-09-04"
        for sid in tour["shipmentIds"]
    }
    results = list(exporto.tours.track(since=date(2024, 9, 4), max_workers=4))
    assert all(r.ok for r in results)
    ids = [r.shipment_id for r in results]
    assert len(ids) == len(set(ids)) == len(expected)
    assert {r.shipment_id: r.tour_id for r in results} == expected
    for r in results:
        assert r.tracking is not None
        assert r.shipment is not None
        assert r.tracking.shipment_id == r.shipment_id == r.shipment.shipment_id
    # The chain: one tour list, one call per tour, one per shipment.
    assert len(sb.calls("/exporto/v1/tour", "GET")) == 1
    assert len(sb.calls("/exporto/v1/tour/*", "GET")) == 3
    assert len(sb.calls("/exporto/v1/shipment/*", "GET")) == len(expected)


def test_a_failing_shipment_in_the_middle_loses_no_other(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    ids = app.tours["T-20240903"]["shipmentIds"]
    broken, missing = ids[len(ids) // 2], "S-240903-9999"
    app.tours["T-20240903"]["shipmentIds"] = [*ids[:5], missing, *ids[5:]]
    sb.fault(f"/exporto/v1/shipment/{broken}", status=500, times=None)
    results = list(exporto.tours.track(["T-20240903"], max_workers=4))
    by_id = {r.shipment_id: r for r in results}
    assert len(results) == len(by_id) == len(ids) + 1
    assert isinstance(by_id[broken].error, ServerError)
    assert isinstance(by_id[missing].error, NotFoundError)
    assert by_id[missing].tour_id == "T-20240903"
    assert by_id[missing].tracking is None
    others = [r for sid, r in by_id.items() if sid not in (broken, missing)]
    assert len(others) == len(ids) - 1
    assert all(r.ok for r in others)


def test_retried_shipments_still_succeed(sb: Sandbox, exporto: ExportoClient) -> None:
    sb.fault("/exporto/v1/shipment/S-240902-0003", status=503, times=2)
    results = list(exporto.tours.track(["T-20240902"]))
    assert all(r.ok for r in results)
    assert len(sb.calls("/exporto/v1/shipment/S-240902-0003")) == 3


def test_a_tour_that_cannot_be_listed_yields_one_error(sb: Sandbox, exporto: ExportoClient) -> None:
    results = list(exporto.tours.track(["T-20240902", "T-19990101"]))
    tour_errors = [r for r in results if r.shipment_id is None]
    assert len(tour_errors) == 1
    assert tour_errors[0].tour_id == "T-19990101"
    assert isinstance(tour_errors[0].error, NotFoundError)
    assert len([r for r in results if r.ok]) == len(_app(sb).tours["T-20240902"]["shipmentIds"])


def test_duplicates_are_tracked_once(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    app.tours["T-20240903"]["shipmentIds"].append("S-240902-0001")
    app.tours["T-20240902"]["shipmentIds"].append("S-240902-0001")
    results = list(exporto.tours.track(["T-20240902", "T-20240903", "T-20240902"]))
    counts = Counter(r.shipment_id for r in results)
    assert counts.most_common(1)[0][1] == 1
    expected = set(app.tours["T-20240902"]["shipmentIds"]) | set(
        app.tours["T-20240903"]["shipmentIds"]
    )
    assert set(counts) == expected
    assert len(sb.calls("/exporto/v1/shipment/S-240902-0001")) == 1


def test_concurrency_is_bounded_by_max_workers_server_side(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    tour = app.add_tour(120)
    # Time spent inside the route is what the sandbox counts as in flight.
    app.handling_time = 0.01
    results = list(exporto.tours.track([tour], max_workers=5))
    calls, in_flight = sb.route_stats("exporto.shipment.get")
    assert calls == len(results) == 120
    assert 1 < in_flight <= 5


def test_one_worker_means_one_request_at_a_time(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    app.handling_time = 0.002
    results = list(exporto.tours.track(["T-20240902"], max_workers=1))
    assert all(r.ok for r in results)
    assert sb.route_stats("exporto.shipment.get")[1] == 1


def test_a_tour_of_a_thousand_shipments(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    tour = app.add_tour(1000)
    assert len(exporto.tours.shipment_ids(tour)) == 1000
    results = list(exporto.tours.track([tour], max_workers=8))
    assert len(results) == 1000
    assert {r.shipment_id for r in results} == set(app.tours[tour]["shipmentIds"])
    assert all(r.ok for r in results)
    statuses = Counter(r.tracking.status for r in results if r.tracking)
    assert set(statuses) == {
        TrackingStatus.DELIVERED,
        TrackingStatus.TRANSIT,
        TrackingStatus.EXCEPTION,
    }
    # One token for the whole fan-out, fetched once although eight threads needed it.
    assert exporto.auth.token_requests == 1
    assert not _fanout_threads()


def test_progress_callable_counts_every_shipment(sb: Sandbox, exporto: ExportoClient) -> None:
    seen: list[tuple[int, int | None]] = []
    results = list(
        exporto.tours.track(since=date(2024, 9, 5), progress=lambda d, t: seen.append((d, t)))
    )
    total = len(results)
    assert [d for d, _ in seen] == list(range(1, total + 1))
    assert seen[-1] == (total, total)
    assert all(t is not None and d <= t for d, t in seen)


def test_progress_true_shows_a_tqdm_bar(
    sb: Sandbox, exporto: ExportoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tqdm.auto

    bars: list[Any] = []

    class FakeBar:
        def __init__(self, **kwargs: Any) -> None:
            self.total = kwargs.get("total")
            self.n = 0
            self.closed = False
            bars.append(self)

        def update(self, count: int) -> None:
            self.n += count

        def refresh(self) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    results = list(exporto.tours.track(["T-20240902"], progress=True))
    (bar,) = bars
    assert bar.n == bar.total == len(results)
    assert bar.closed


def test_stopping_early_cancels_the_rest_and_ends_the_threads(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    tour = app.add_tour(300)
    results = exporto.tours.track([tour], max_workers=4)
    first = [next(results) for _ in range(5)]
    assert all(r.ok for r in first)
    assert _fanout_threads()
    results.close()
    assert not _fanout_threads()
    # Only what was handed out before the consumer stopped was sent: at most 2x the workers
    # beyond what was read.
    assert len(sb.calls("/exporto/v1/shipment/*")) <= 5 + 2 * 4


def test_breaking_out_of_a_for_loop_ends_the_threads(sb: Sandbox, exporto: ExportoClient) -> None:
    tour = _app(sb).add_tour(100)
    for n, _ in enumerate(exporto.tours.track([tour], max_workers=3)):
        if n == 2:
            break
    assert not _fanout_threads()
    assert len(sb.calls("/exporto/v1/shipment/*")) < 100


def test_the_tour_list_failing_raises(sb: Sandbox, exporto: ExportoClient) -> None:
    sb.fault("/exporto/v1/tour", status=500)
    results = exporto.tours.track(since=date(2024, 9, 2))
    with pytest.raises(ServerError):
        next(results)
    assert not _fanout_threads()


# -- whatever goes wrong, every shipment gets its result -------------------------------------------


def test_an_unexpected_error_of_one_shipment_loses_no_other(
    sb: Sandbox, exporto: ExportoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = list(_app(sb).tours["T-20240903"]["shipmentIds"])
    in_worker, in_normalizing = ids[1], ids[len(ids) // 2]
    fetch = exporto.tours._shipment_task
    normalize = Shipment.to_tracking

    def flaky_fetch(shipment_id: str, timeout: Any) -> Shipment:
        if shipment_id == in_worker:
            raise RuntimeError("bug in a worker")
        return fetch(shipment_id, timeout)

    def flaky_normalize(shipment: Shipment) -> Any:
        if shipment.shipment_id == in_normalizing:
            raise KeyError("bug in normalization")
        return normalize(shipment)

    monkeypatch.setattr(exporto.tours, "_shipment_task", flaky_fetch)
    monkeypatch.setattr(Shipment, "to_tracking", flaky_normalize)
    results = list(exporto.tours.track(["T-20240903"], max_workers=3))
    by_id = {r.shipment_id: r for r in results}
    assert len(results) == len(by_id) == len(ids)
    for sid, cause in ((in_worker, RuntimeError), (in_normalizing, KeyError)):
        failed = by_id[sid]
        assert not failed.ok
        assert failed.tour_id == "T-20240903"
        assert isinstance(failed.error, ShiptrackError)
        assert isinstance(failed.error.__cause__, cause)
        assert f"shipment {sid}" in str(failed.error)
        assert cause.__name__ in str(failed.error)
        with pytest.raises(ShiptrackError):
            failed.unwrap()
    assert all(r.ok for sid, r in by_id.items() if sid not in (in_worker, in_normalizing))
    assert not _fanout_threads()


def test_an_unexpected_error_listing_a_tour_is_that_tours_result(
    sb: Sandbox, exporto: ExportoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    list_tour = exporto.tours._tour_task

    def flaky(tour_id: str, timeout: Any) -> tuple[str, ...]:
        if tour_id == "T-20240903":
            raise TypeError("bug")
        return list_tour(tour_id, timeout)

    monkeypatch.setattr(exporto.tours, "_tour_task", flaky)
    results = list(exporto.tours.track(["T-20240902", "T-20240903"]))
    (tour_error,) = [r for r in results if r.shipment_id is None]
    assert tour_error.tour_id == "T-20240903"
    assert isinstance(tour_error.error, ShiptrackError)
    assert isinstance(tour_error.error.__cause__, TypeError)
    assert len([r for r in results if r.ok]) == len(_app(sb).tours["T-20240902"]["shipmentIds"])


def test_keyboard_interrupt_in_a_worker_is_not_swallowed(
    sb: Sandbox, exporto: ExportoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(shipment_id: str, timeout: Any) -> Shipment:
        raise KeyboardInterrupt

    monkeypatch.setattr(exporto.tours, "_shipment_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(exporto.tours.track(["T-20240902"]))
    assert not _fanout_threads()

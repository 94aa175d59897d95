"""Tours in the other shapes exporto's help center describes: a tour list as a bare array of
tour ids, and a tour listing its shipments by ``foreignOutboundTrackingIds``, which
``tours.track`` resolves through ``GET shipment/search``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import responses

from shiptrack_sdk import BadRequestError, ShiptrackError, ValidationError
from shiptrack_sdk.exporto import ExportoClient, Tour
from shiptrack_sdk.exporto._sandbox import ExportoApp
from shiptrack_sdk.sandbox import Sandbox
from tests.exporto.conftest import BASE


def _app(sb: Sandbox) -> ExportoApp:
    app = sb.apps["exporto"]
    assert isinstance(app, ExportoApp)
    return app


def _refs(app: ExportoApp, tour_id: str) -> list[str]:
    refs: list[str] = app.tours[tour_id]["foreignOutboundTrackingIds"]
    return refs


def _by_ref(app: ExportoApp) -> dict[str, str]:
    return {
        s["foreignOutboundTrackingId"]: sid
        for sid, s in app.shipments.items()
        if s["foreignOutboundTrackingId"]
    }


# -- a tour list of bare ids (real HTTP) ---------------------------------------------------------


def test_a_tour_list_of_bare_ids_is_read(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    app.tour_list_format = "ids"
    tours = exporto.tours.list()
    assert tours == [Tour(id=tour_id) for tour_id in sorted(app.tours)]
    assert all(t.closing_date is None and t.shipment_count is None for t in tours)
    # ``since`` keeps a tour without a closing date: none is lost.
    assert [t.id for t in exporto.tours.list(since=date(2024, 9, 6))] == sorted(app.tours)


def test_tracking_by_since_over_a_bare_id_tour_list(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    app.tour_list_format = "ids"
    results = list(exporto.tours.track(since=date(2024, 9, 6), max_workers=4))
    expected = {sid for tour in app.tours.values() for sid in tour["shipmentIds"]}
    assert {r.shipment_id for r in results} == expected
    assert len(results) == len(expected)
    assert all(r.ok for r in results)


# -- a tour of foreignOutboundTrackingIds (real HTTP) -------------------------------------------


def test_a_tour_of_tracking_ids_is_read(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    tour = app.add_tour(12, listed_by="foreignOutboundTrackingIds")
    detail = exporto.tours.get(tour)
    assert detail.shipment_ids == ()
    assert detail.foreign_outbound_tracking_ids == tuple(_refs(app, tour))
    assert len(detail.foreign_outbound_tracking_ids) == 12


def test_tracking_ids_are_resolved_through_the_search_with_bounded_concurrency(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    tour = app.add_tour(40, listed_by="foreignOutboundTrackingIds")
    refs, by_ref = _refs(app, tour), _by_ref(app)
    app.handling_time = 0.01
    results = list(exporto.tours.track([tour], max_workers=3))
    assert len(results) == 40
    assert all(r.ok for r in results)
    assert {r.tracking_id for r in results} == set(refs)
    for r in results:
        assert r.tour_id == tour
        assert r.shipment_id == by_ref[r.tracking_id]
        assert r.tracking is not None
        assert r.tracking.tracking_ref == r.tracking_id
        assert r.shipment is not None
        assert r.shipment.shipment_id == r.shipment_id
    searches = sb.calls("/exporto/v1/shipment/search", "GET")
    assert sorted(c.query["foreignOutboundTrackingId"][0] for c in searches) == sorted(refs)
    calls, in_flight = sb.route_stats("exporto.shipment.search")
    assert calls == 40
    assert 1 < in_flight <= 3
    # The search answers the shipment itself: no second request per shipment.
    assert sb.route_stats("exporto.shipment.get")[0] == 0


def test_every_tracking_id_yields_a_tracking_or_an_error_naming_it(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    tour = app.add_tour(10, listed_by="foreignOutboundTrackingIds")
    _refs(app, tour).insert(3, "CH-NO-SUCH-PARCEL")
    # One search refused (a 400 is not retried): that one item fails, no other.
    sb.fault("/exporto/v1/shipment/search", status=400, times=1)
    results = list(exporto.tours.track([tour], max_workers=2))
    assert len(results) == 11
    assert {r.tracking_id for r in results} == set(_refs(app, tour))
    (unknown,) = [r for r in results if r.tracking_id == "CH-NO-SUCH-PARCEL"]
    assert unknown.shipment_id is None
    assert unknown.tracking is None
    assert unknown.tour_id == tour
    assert isinstance(unknown.error, ShiptrackError)
    assert "CH-NO-SUCH-PARCEL" in str(unknown.error)
    with pytest.raises(ShiptrackError):
        unknown.unwrap()
    refused = [r for r in results if isinstance(r.error, BadRequestError)]
    assert len(refused) == 1
    assert refused[0].tracking_id is not None
    assert sum(r.ok for r in results) == 9


def test_a_shipment_listed_by_id_and_by_tracking_id_is_tracked_once(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    app = _app(sb)
    by_ids = app.tours["T-20240902"]["shipmentIds"]
    tour = app.add_tour(5, listed_by="foreignOutboundTrackingIds")
    # CH0012345678 is S-240902-0001, which T-20240902 lists by its shipment id.
    _refs(app, tour).append("CH0012345678")
    results = list(exporto.tours.track(["T-20240902", tour], max_workers=2))
    ids = [r.shipment_id for r in results]
    assert len(ids) == len(set(ids)) == len(by_ids) + 5
    assert all(r.ok for r in results)


def test_a_tour_of_shipment_objects_with_tracking_ids_only(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(
        BASE + "tour/T-1",
        json={
            "tourId": "T-1",
            "shipments": [{"shipmentId": "S-1"}, {"foreignOutboundTrackingId": "CH-2"}],
        },
    )
    detail = client.tours.get("T-1")
    assert detail.shipment_ids == ("S-1",)
    assert detail.foreign_outbound_tracking_ids == ("CH-2",)


@pytest.mark.parametrize(
    ("payload", "shipment_ids", "tracking_ids"),
    [
        ({"foreignOutboundTrackingIds": ["CH-1", 2]}, (), ("CH-1", "2")),
        ({"shipmentIds": ["S-1"], "foreignOutboundTrackingIds": ["CH-2"]}, ("S-1",), ("CH-2",)),
        ({"shipmentIds": [{"shipmentId": "S-1"}]}, ("S-1",), ()),
        ({"foreignOutboundTrackingIds": [{"foreignOutboundTrackingId": "CH-1"}]}, (), ("CH-1",)),
        ([{"foreignOutboundTrackingId": "CH-1"}, "S-2"], ("S-2",), ("CH-1",)),
    ],
)
def test_tour_answer_shapes_with_tracking_ids(
    mocked: responses.RequestsMock,
    client: ExportoClient,
    payload: Any,
    shipment_ids: tuple[str, ...],
    tracking_ids: tuple[str, ...],
) -> None:
    mocked.get(BASE + "tour/T-1", json=payload)
    detail = client.tours.get("T-1")
    assert detail.tour_id == "T-1"
    assert detail.shipment_ids == shipment_ids
    assert detail.foreign_outbound_tracking_ids == tracking_ids


@pytest.mark.parametrize("payload", [["T-1", 2], {"tours": ["T-1", 2]}])
def test_tour_list_shapes_of_bare_ids(
    mocked: responses.RequestsMock, client: ExportoClient, payload: Any
) -> None:
    mocked.get(BASE + "tour", json=payload)
    assert client.tours.list() == [Tour(id="T-1"), Tour(id="2")]


def test_a_search_that_ignores_its_filter_resolves_nothing(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "tour/T-1", json={"foreignOutboundTrackingIds": ["CH-1"]})
    # A server ignoring foreignOutboundTrackingId answers some other shipment.
    mocked.get(
        BASE + "shipment/search",
        json=[{"shipmentId": "S-9", "foreignOutboundTrackingId": "CH-9", "status": "processed"}],
    )
    (result,) = list(client.tours.track(["T-1"]))
    assert result.tracking_id == "CH-1"
    assert result.shipment_id is None
    assert result.error is not None
    assert "CH-1" in str(result.error)


def test_a_tracking_id_matching_two_shipments_yields_both(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "tour/T-1", json={"foreignOutboundTrackingIds": ["CH-1"]})
    shipment: dict[str, Any] = {"foreignOutboundTrackingId": "CH-1", "status": "processed"}
    mocked.get(
        BASE + "shipment/search",
        json=[{**shipment, "shipmentId": "S-1"}, {**shipment, "shipmentId": "S-2"}],
    )
    results = list(client.tours.track(["T-1"]))
    assert sorted((r.shipment_id, r.tracking_id, r.ok) for r in results) == [
        ("S-1", "CH-1", True),
        ("S-2", "CH-1", True),
    ]


def test_a_tour_answer_with_no_list_is_still_refused(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    from shiptrack_sdk import ResponseError

    mocked.get(BASE + "tour/T-1", json={"foreignOutboundTrackingIds": [{"x": 1}]})
    with pytest.raises(ResponseError):
        client.tours.get("T-1")


# -- the sandbox's options ------------------------------------------------------------------------


def test_the_sandbox_options_are_checked_and_reset(sb: Sandbox) -> None:
    app = _app(sb)
    with pytest.raises(ValidationError) as info:
        app.tour_list_format = "csv"
    assert info.value.argument == "tour_list_format"
    with pytest.raises(ValidationError) as info:
        app.add_tour(3, listed_by="orderIds")
    assert info.value.argument == "listed_by"
    app.tour_list_format = "ids"
    sb.reset()
    assert app.tour_list_format == "objects"

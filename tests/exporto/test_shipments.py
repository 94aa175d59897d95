"""client.shipments: one shipment by id, and the paginated search."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from shiptrack_sdk import NotFoundError, ResponseError, ServerError, TrackingStatus, ValidationError
from shiptrack_sdk.exporto import ExportoClient, Shipment
from shiptrack_sdk.exporto._sandbox import ExportoApp
from shiptrack_sdk.exporto.shipments import MAX_PAGE, MAX_PAGE_SIZE
from shiptrack_sdk.sandbox import Sandbox
from tests.exporto.conftest import BASE

SEARCH = BASE + "shipment/search"


def _query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def _page(start: int, count: int) -> list[dict[str, Any]]:
    return [{"shipmentId": f"S-{n}", "type": "outbound"} for n in range(start, start + count)]


# -- get: request shapes ------------------------------------------------------------------------


def test_get_sends_the_documented_route(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "shipment/S-240902-0001", json=load("shipment_delivered.json"))
    shipment = client.shipments.get("S-240902-0001")
    assert isinstance(shipment, Shipment)
    assert shipment.to_tracking().status is TrackingStatus.DELIVERED
    assert mocked.calls[1].request.url == BASE + "shipment/S-240902-0001"
    assert mocked.calls[1].request.method == "GET"


def test_get_quotes_the_id(mocked: responses.RequestsMock, client: ExportoClient) -> None:
    mocked.get(BASE + "shipment/..%2Fadmin%3Fx", json={"shipmentId": "../admin?x"})
    assert client.shipments.get("../admin?x").shipment_id == "../admin?x"


def test_get_sets_the_id_when_the_answer_does_not_repeat_it(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "shipment/S-9", json={"status": "processed"})
    assert client.shipments.get("S-9").shipment_id == "S-9"


@pytest.mark.parametrize("bad", ["", "  ", None, "..", "a\nb", 1.5])
def test_get_refuses_bad_ids_before_any_request(
    mocked: responses.RequestsMock, client: ExportoClient, bad: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.shipments.get(bad)
    assert info.value.argument == "shipment_id"
    assert not mocked.calls


def test_get_answer_of_the_wrong_shape(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "shipment/S-1", json=["S-1"])
    with pytest.raises(ResponseError) as info:
        client.shipments.get("S-1")
    assert "Shipment" in str(info.value)
    mocked.get(BASE + "shipment/S-2", json={"processedAt": "yesterday"})
    with pytest.raises(ResponseError):
        client.shipments.get("S-2")


# -- search: request shapes and pagination -------------------------------------------------------


def test_search_sends_every_filter_with_exportos_names(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(SEARCH, json=load("search_page.json"))
    cest = timezone(timedelta(hours=2))
    found = list(
        client.shipments.search(
            foreign_outbound_tracking_id="CH0012345678",
            foreign_inbound_tracking_id="99.00.1",
            processed_at=datetime(2024, 9, 2, 11, 0, tzinfo=cest),
            carrier_received_at_updated_at=date(2024, 9, 3),
            carrier_delivered_at_updated_at=datetime(2024, 9, 5, tzinfo=timezone.utc),
            type="outbound",
            page_size=10,
        )
    )
    assert [s.shipment_id for s in found] == ["S-240902-0001", "S-240902-0002"]
    (call,) = mocked.calls[1:]
    assert call.request.url.startswith(SEARCH + "?")
    assert _query(call) == {
        "foreignOutboundTrackingId": ["CH0012345678"],
        "foreignInboundTrackingId": ["99.00.1"],
        "processedAt": ["2024-09-02T09:00:00.000Z"],
        "carrierReceivedAtUpdatedAt": ["2024-09-03"],
        "carrierDeliveredAtUpdatedAt": ["2024-09-05T00:00:00.000Z"],
        "type": ["outbound"],
        "pageSize": ["10"],
        "page": ["0"],
    }


def test_search_walks_pages_until_a_short_one(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    for page, items in enumerate([_page(0, 3), _page(3, 3), _page(6, 1)]):
        mocked.get(
            SEARCH,
            json=items,
            match=[
                responses.matchers.query_param_matcher(
                    {"type": "outbound", "page": str(page), "pageSize": "3"}
                )
            ],
        )
    found = client.shipments.search(type="outbound", page_size=3)
    assert not mocked.calls  # lazy: nothing is sent before the iterator is read
    ids = [s.shipment_id for s in found]
    assert ids == [f"S-{n}" for n in range(7)]
    assert [_query(c)["page"] for c in mocked.calls[1:]] == [["0"], ["1"], ["2"]]


def test_search_asks_once_more_after_a_full_last_page(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    for page, items in enumerate([_page(0, 2), _page(2, 2), []]):
        mocked.get(
            SEARCH,
            json=items,
            match=[responses.matchers.query_param_matcher({"page": str(page), "pageSize": "2"})],
        )
    assert len(list(client.shipments.search(page_size=2))) == 4
    assert len(mocked.calls) == 1 + 3


def test_search_start_page_and_single_page(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(SEARCH, json=_page(10, 1))
    assert [s.shipment_id for s in client.shipments.search(start_page=5)] == ["S-10"]
    assert _query(mocked.calls[1])["page"] == ["5"]
    page = client.shipments.search_page(2, page_size=7, type="inbound")
    assert [s.shipment_id for s in page] == ["S-10"]
    assert _query(mocked.calls[2]) == {"page": ["2"], "pageSize": ["7"], "type": ["inbound"]}


def test_search_stops_when_the_server_ignores_page(
    mocked: responses.RequestsMock, client: ExportoClient, caplog: pytest.LogCaptureFixture
) -> None:
    mocked.get(SEARCH, json=_page(0, 2))
    caplog.set_level(logging.WARNING, logger="shiptrack_sdk")
    assert [s.shipment_id for s in client.shipments.search(page_size=2)] == ["S-0", "S-1"]
    assert len(mocked.calls) == 1 + 2
    assert "repeats" in caplog.text


def test_search_reads_an_object_envelope(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(SEARCH, json={"content": _page(0, 1), "totalElements": 1})
    assert [s.shipment_id for s in client.shipments.search()] == ["S-0"]


def test_search_answer_without_a_list_is_a_response_error(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(SEARCH, json={"shipmentId": "S-1"})
    with pytest.raises(ResponseError, match="JSON array"):
        list(client.shipments.search())


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"type": "return"}, "type"),
        ({"processed_at": datetime(2024, 9, 2)}, "processed_at"),
        ({"processed_at": "2024-09-02"}, "processed_at"),
        ({"foreign_outbound_tracking_id": ""}, "foreign_outbound_tracking_id"),
        ({"foreign_inbound_tracking_id": 12}, "foreign_inbound_tracking_id"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"start_page": -1}, "start_page"),
    ],
)
def test_search_refuses_bad_input_at_the_call(
    mocked: responses.RequestsMock, client: ExportoClient, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.shipments.search(**kwargs)  # raised by the call, not by the first next()
    assert info.value.argument == argument
    assert not mocked.calls


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"page_size": 10**9}, "page_size"),
        ({"page_size": MAX_PAGE_SIZE + 1}, "page_size"),
        ({"page_size": -5}, "page_size"),
        ({"page_size": "50"}, "page_size"),
        ({"page_size": None}, "page_size"),
        ({"page_size": 50.0}, "page_size"),
        ({"start_page": MAX_PAGE + 1}, "start_page"),
        ({"start_page": "0"}, "start_page"),
        ({"type": ["outbound"]}, "type"),
        ({"type": {"outbound": 1}}, "type"),
        ({"type": 5}, "type"),
        ({"carrier_received_at_updated_at": "yesterday"}, "carrier_received_at_updated_at"),
        ({"timeout": "5"}, "timeout"),
    ],
)
def test_search_refuses_out_of_range_and_wrong_types_before_any_request(
    mocked: responses.RequestsMock, client: ExportoClient, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.shipments.search(**kwargs)
    assert info.value.argument == argument
    assert not mocked.calls


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((MAX_PAGE + 1,), {}, "page"),
        ((None,), {}, "page"),
        (("1",), {}, "page"),
        ((0,), {"page_size": 10**9}, "page_size"),
        ((0,), {"page_size": 0}, "page_size"),
        ((0,), {"type": ["inbound"]}, "type"),
        ((0,), {"timeout": -1}, "timeout"),
        ((0,), {"timeout": "slow"}, "timeout"),
    ],
)
def test_search_page_refuses_bad_arguments_before_any_request(
    mocked: responses.RequestsMock,
    client: ExportoClient,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    argument: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        client.shipments.search_page(*args, **kwargs)
    assert info.value.argument == argument
    assert not mocked.calls  # not even a token request


def test_the_largest_page_size_is_accepted_and_can_be_raised(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(SEARCH, json=[])
    assert client.shipments.search_page(0, page_size=MAX_PAGE_SIZE) == []
    assert _query(mocked.calls[-1])["pageSize"] == ["500"]
    client.shipments.max_page_size = 1000  # exporto confirmed a larger page for the account
    assert client.shipments.search_page(0, page_size=1000) == []
    assert _query(mocked.calls[-1])["pageSize"] == ["1000"]


def test_the_sandbox_accepts_the_largest_page_size(exporto: ExportoClient) -> None:
    assert len(list(exporto.shipments.search(page_size=MAX_PAGE_SIZE))) > 0


def test_search_page_refuses_a_negative_page(client: ExportoClient) -> None:
    with pytest.raises(ValidationError) as info:
        client.shipments.search_page(-1)
    assert info.value.argument == "page"


def test_resource_paths_are_overridable(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    client.shipments.path = "v2/shipments/{shipmentId}"
    mocked.get(BASE + "v2/shipments/S-1", json={"shipmentId": "S-1"})
    assert client.shipments.get("S-1").shipment_id == "S-1"


# -- over real HTTP (sandbox) --------------------------------------------------------------------


def test_sandbox_get(exporto: ExportoClient) -> None:
    shipment = exporto.shipments.get("S-240902-0001")
    assert shipment.order_id == "ORD-100231"
    assert [li.article_id for li in shipment.line_items] == ["ART-4711", "ART-4712"]
    tracking = shipment.to_tracking()
    assert tracking.status is TrackingStatus.DELIVERED
    assert tracking.tracking_ref == "CH0012345678"
    assert len(tracking.events) == 4


def test_sandbox_not_found_carries_message_and_request_id(exporto: ExportoClient) -> None:
    with pytest.raises(NotFoundError) as info:
        exporto.shipments.get("S-000000-0000")
    assert info.value.error_message == "Shipment S-000000-0000 not found"
    assert info.value.request_id
    assert info.value.request_id in str(info.value)


def test_sandbox_search_walks_every_page_exactly_once(sb: Sandbox, exporto: ExportoClient) -> None:
    app = sb.apps["exporto"]
    assert isinstance(app, ExportoApp)
    expected = sorted(sid for sid, s in app.shipments.items() if s["type"] == "outbound")
    found = [s.shipment_id for s in exporto.shipments.search(type="outbound", page_size=25)]
    assert sorted(found) == expected
    assert len(found) == len(set(found))
    pages = [c.query["page"] for c in sb.calls("/exporto/v1/shipment/search")]
    assert pages == [[str(n)] for n in range(len(expected) // 25 + 1)]


def test_sandbox_search_filters(exporto: ExportoClient) -> None:
    (hit,) = exporto.shipments.search(foreign_outbound_tracking_id="CH0012345679")
    assert hit.shipment_id == "S-240902-0002"
    (ret,) = exporto.shipments.search(type="inbound")
    assert ret.tracking_ref == "99.00.123456.78901234"
    recent = list(exporto.shipments.search(processed_at=datetime(2024, 9, 6, tzinfo=timezone.utc)))
    assert recent
    assert all(
        s.processed_at and s.processed_at >= datetime(2024, 9, 6, tzinfo=timezone.utc)
        for s in recent
    )


def test_sandbox_search_retries_a_503_page(sb: Sandbox, exporto: ExportoClient) -> None:
    sb.fault("/exporto/v1/shipment/search", status=503, times=1)
    assert len(list(exporto.shipments.search(type="inbound"))) == 1


def test_sandbox_server_error_on_a_page(sb: Sandbox, exporto: ExportoClient) -> None:
    sb.fault("/exporto/v1/shipment/search", status=500, times=1)
    with pytest.raises(ServerError):
        list(exporto.shipments.search(type="inbound"))

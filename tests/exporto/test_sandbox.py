"""exporto in the embedded sandbox: the contract it holds, spoken to over raw HTTP."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from shiptrack_sdk.exporto._sandbox import SEED_TOURS, ExportoApp, tour_id_for
from shiptrack_sdk.sandbox import Sandbox


@pytest.fixture
def api(sb: Sandbox) -> str:
    return f"{sb.provider_url('exporto')}/v1"


@pytest.fixture
def bearer(sb: Sandbox, api: str) -> dict[str, str]:
    creds = sb.apps["exporto"].credentials
    answer = requests.post(
        f"{api}/auth/token",
        json={"grant_type": "client_credentials", "scope": "shipment:read"},
        auth=(creds.client_id, creds.client_secret),
        timeout=5,
    )
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 1800
    assert token["scope"] == "shipment:read"
    return {"Authorization": f"Bearer {token['access_token']}"}


def _app(sb: Sandbox) -> ExportoApp:
    app = sb.apps["exporto"]
    assert isinstance(app, ExportoApp)
    return app


def test_named_routes(sb: Sandbox) -> None:
    assert {
        "exporto.token",
        "exporto.shipment.get",
        "exporto.shipment.search",
        "exporto.tour.list",
        "exporto.tour.get",
    } <= set(sb.route_names)


def test_token_endpoint_wants_basic_auth_and_json(sb: Sandbox, api: str) -> None:
    creds = sb.apps["exporto"].credentials
    form = requests.post(
        f"{api}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
        timeout=5,
    )
    assert form.status_code == 400
    in_body = requests.post(
        f"{api}/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        },
        timeout=5,
    )
    assert in_body.status_code == 401
    wrong = requests.post(
        f"{api}/auth/token",
        json={"grant_type": "client_credentials"},
        auth=(creds.client_id, "nope"),
        timeout=5,
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["shipment/S-240902-0001", "shipment/search", "tour", "tour/x"])
def test_every_route_needs_an_exporto_token(sb: Sandbox, api: str, path: str) -> None:
    answer = requests.get(f"{api}/{path}", timeout=5)
    assert answer.status_code == 401
    body = answer.json()
    assert set(body) == {"message", "requestId"}
    # A token of another sandbox client is refused too.
    other = sb.oauth2_auth().access_token()
    assert (
        requests.get(
            f"{api}/{path}", headers={"Authorization": f"Bearer {other}"}, timeout=5
        ).status_code
        == 401
    )


def test_errors_have_exportos_body(api: str, bearer: dict[str, str]) -> None:
    answer = requests.get(f"{api}/shipment/nope", headers=bearer, timeout=5)
    assert answer.status_code == 404
    assert answer.json()["message"] == "Shipment nope not found"
    assert answer.json()["requestId"]


def test_search_is_not_taken_for_a_shipment_id(api: str, bearer: dict[str, str]) -> None:
    answer = requests.get(
        f"{api}/shipment/search", params={"type": "inbound"}, headers=bearer, timeout=5
    )
    assert answer.status_code == 200
    assert [s["shipmentId"] for s in answer.json()] == ["S-240904-0101"]


@pytest.mark.parametrize(
    "params",
    [{"pageSize": "0"}, {"pageSize": "501"}, {"page": "-1"}, {"page": "x"}, {"type": "other"}],
)
def test_search_refuses_bad_parameters(
    api: str, bearer: dict[str, str], params: dict[str, str]
) -> None:
    answer = requests.get(f"{api}/shipment/search", params=params, headers=bearer, timeout=5)
    assert answer.status_code == 400
    assert "requestId" in answer.json()


def test_search_pages_are_zero_based(api: str, bearer: dict[str, str]) -> None:
    def page(n: int) -> list[str]:
        answer = requests.get(
            f"{api}/shipment/search",
            params={"page": str(n), "pageSize": "3"},
            headers=bearer,
            timeout=5,
        )
        return [s["shipmentId"] for s in answer.json()]

    first, second = page(0), page(1)
    assert len(first) == len(second) == 3
    assert not set(first) & set(second)


def test_tours_are_daily_closings_of_processed_shipments(
    sb: Sandbox, api: str, bearer: dict[str, str]
) -> None:
    tours = requests.get(f"{api}/tour", headers=bearer, timeout=5).json()
    assert [t["closingDate"] for t in tours] == [d.isoformat() for d, _ in SEED_TOURS]
    app = _app(sb)
    for tour in tours:
        detail = requests.get(f"{api}/tour/{tour['tourId']}", headers=bearer, timeout=5).json()
        assert len(detail["shipmentIds"]) == tour["shipmentCount"]
        for sid in detail["shipmentIds"]:
            assert app.shipments[sid]["processedAt"]
    # The announced, unprocessed shipment is in no tour.
    in_tours = {sid for t in app.tours.values() for sid in t["shipmentIds"]}
    assert "S-240907-0001" not in in_tours


def test_add_tour_and_reset(sb: Sandbox) -> None:
    app = _app(sb)
    first = app.add_tour(3)
    second = app.add_tour(2, closing_date=date(2024, 9, 7))
    assert first == "T-20240907"
    assert second == "T-20240907-2"
    ids = app.tours[first]["shipmentIds"] + app.tours[second]["shipmentIds"]
    assert len(set(ids)) == 5
    assert all(sid in app.shipments for sid in ids)
    app.handling_time = 1.0
    sb.reset()
    assert first not in app.tours
    assert app.handling_time == 0.0
    assert len(app.tours) == len(SEED_TOURS)


def test_tour_list_as_bare_ids(sb: Sandbox, api: str, bearer: dict[str, str]) -> None:
    _app(sb).tour_list_format = "ids"
    tours = requests.get(f"{api}/tour", headers=bearer, timeout=5).json()
    assert tours == [tour_id_for(day) for day, _ in SEED_TOURS]
    sb.reset()
    assert isinstance(requests.get(f"{api}/tour", headers=bearer, timeout=5).json()[0], dict)


def test_a_tour_listed_by_tracking_ids(sb: Sandbox, api: str, bearer: dict[str, str]) -> None:
    app = _app(sb)
    tour = app.add_tour(25, listed_by="foreignOutboundTrackingIds")
    detail = requests.get(f"{api}/tour/{tour}", headers=bearer, timeout=5).json()
    assert set(detail) == {"tourId", "closingDate", "foreignOutboundTrackingIds"}
    refs = detail["foreignOutboundTrackingIds"]
    assert len(refs) == len(set(refs)) == 25
    listed = {t["tourId"]: t for t in requests.get(f"{api}/tour", headers=bearer, timeout=5).json()}
    assert listed[tour]["shipmentCount"] == 25
    # Every number names exactly one shipment through the search, each one processed.
    for ref in refs:
        found = requests.get(
            f"{api}/shipment/search",
            params={"foreignOutboundTrackingId": ref},
            headers=bearer,
            timeout=5,
        ).json()
        assert len(found) == 1
        assert found[0]["foreignOutboundTrackingId"] == ref
        assert found[0]["processedAt"]

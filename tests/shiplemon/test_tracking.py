"""Shiplemon tracking: request shapes with ``responses``; behaviour against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import responses

from shiptrack_sdk import ShiplemonClient, TrackingEvent, TrackingStatus, __version__
from shiptrack_sdk.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    ValidationError,
)
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import ENVIRONMENTS, HistoryUpdate, Shipment, ShipmentTracking
from shiptrack_sdk.shiplemon.spec import parse_error
from tests.conftest import load_fixture

PROD = "https://api.shiplemon.com"
SID = "60476d7500e47cb69693a202"
UTC = timezone.utc
ATHENS = timezone(timedelta(hours=3))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    # Nothing registered answers: a request the test did not expect fails loudly.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def client() -> ShiplemonClient:
    return ShiplemonClient(api_key="test-key", max_retries=0)


# -- request shapes ---------------------------------------------------------------------------


def test_get_request_shape(mocked: responses.RequestsMock, client: ShiplemonClient) -> None:
    mocked.get(
        f"{PROD}/public/v1/shipments/{SID}/tracking",
        json=load_fixture("shiplemon", "get_tracking_200.json"),
    )
    st = client.tracking.get(SID)
    assert isinstance(st, ShipmentTracking)
    assert st.shipment_id == SID
    assert st.to_tracking().shipment_id == SID
    (call,) = mocked.calls
    assert call.request.method == "GET"
    assert call.request.url == f"{PROD}/public/v1/shipments/{SID}/tracking"
    assert call.request.headers["x-api-key"] == "test-key"
    assert call.request.headers["User-Agent"] == f"shiptrack-sdk/{__version__}"
    assert call.request.headers["Accept"] == "application/json"
    assert call.request.body is None


def test_put_request_shape(mocked: responses.RequestsMock, client: ShiplemonClient) -> None:
    mocked.put(
        f"{PROD}/v1/shipments/{SID}/tracking",
        json=load_fixture("shiplemon", "put_tracking_200.json"),
    )
    shipment = client.tracking.update(
        SID,
        [
            HistoryUpdate(
                "PRE_TRANSIT",
                datetime(2023, 11, 20, 3, 0, 2, 64999, tzinfo=ATHENS),
                "ΔΗΜΙΟΥΡΓΙΑ ΣΥ.ΔΕ.ΤΑ. ΑΠΟ ΠΕΛΑΤΗ",
            ),
            {
                "status": "TRANSIT",
                "status_date": datetime(2023, 11, 20, 0, 0, 2, 75000, tzinfo=UTC),
                "status_details": "ΕΚΦΟΡΤΩΣΗ",
                "status_exact": "AT_HUB",
            },
        ],
    )
    assert isinstance(shipment, Shipment)
    assert shipment.id == SID
    (call,) = mocked.calls
    assert call.request.method == "PUT"
    # No /public on the PUT route.
    assert call.request.url == f"{PROD}/v1/shipments/{SID}/tracking"
    assert call.request.headers["x-api-key"] == "test-key"
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["User-Agent"] == f"shiptrack-sdk/{__version__}"
    assert (
        call.request.body
        == (
            '{"tracking_history":['
            '{"status":"PRE_TRANSIT","status_date":"2023-11-20T00:00:02.064Z",'
            '"status_details":"ΔΗΜΙΟΥΡΓΙΑ ΣΥ.ΔΕ.ΤΑ. ΑΠΟ ΠΕΛΑΤΗ","status_exact":null},'
            '{"status":"TRANSIT","status_date":"2023-11-20T00:00:02.075Z",'
            '"status_details":"ΕΚΦΟΡΤΩΣΗ","status_exact":"AT_HUB"}]}'
        ).encode()
    )


def test_normalized_events_can_be_put_back(
    mocked: responses.RequestsMock, client: ShiplemonClient
) -> None:
    mocked.put(
        f"{PROD}/v1/shipments/{SID}/tracking",
        json=load_fixture("shiplemon", "put_tracking_200.json"),
    )
    event = TrackingEvent(
        status=TrackingStatus.DELIVERED,
        occurred_at=datetime(2024, 7, 15, 10, 2, tzinfo=UTC),
        description="Delivered",
        provider_status_detail="SIGNED",
    )
    client.tracking.update(SID, [event])
    import json

    body = json.loads(mocked.calls[0].request.body)
    assert body == {
        "tracking_history": [
            {
                "status": "DELIVERED",
                "status_date": "2024-07-15T10:02:00.000Z",
                "status_details": "Delivered",
                "status_exact": "SIGNED",
            }
        ]
    }


@pytest.mark.parametrize(
    ("shipment_id", "encoded"),
    [
        ("../x", "..%2Fx"),
        ("../../admin", "..%2F..%2Fadmin"),
        ("a b/c?d#e", "a%20b%2Fc%3Fd%23e"),
        ("%2e%2e", "%252e%252e"),
        ("ΑΒΓ", "%CE%91%CE%92%CE%93"),
        (12345, "12345"),
    ],
)
def test_ids_are_url_quoted(
    mocked: responses.RequestsMock, client: ShiplemonClient, shipment_id: Any, encoded: str
) -> None:
    mocked.get(
        f"{PROD}/public/v1/shipments/{encoded}/tracking",
        json=load_fixture("shiplemon", "get_tracking_200.json"),
    )
    mocked.put(
        f"{PROD}/v1/shipments/{encoded}/tracking",
        json=load_fixture("shiplemon", "put_tracking_200.json"),
    )
    client.tracking.get(shipment_id)
    client.tracking.update(
        shipment_id, [HistoryUpdate("TRANSIT", datetime(2024, 1, 1, tzinfo=UTC))]
    )
    assert [c.request.url for c in mocked.calls] == [
        f"{PROD}/public/v1/shipments/{encoded}/tracking",
        f"{PROD}/v1/shipments/{encoded}/tracking",
    ]


@pytest.mark.parametrize("shipment_id", ["", "   ", ".", "..", None, "a\nb", "a\x00b", True])
def test_bad_ids_are_refused_before_any_request(
    mocked: responses.RequestsMock, client: ShiplemonClient, shipment_id: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.tracking.get(shipment_id)
    assert info.value.argument == "shipment_id"
    with pytest.raises(ValidationError):
        client.tracking.update(shipment_id, [HistoryUpdate("TRANSIT", datetime.now(UTC))])
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("history", "arguments"),
    [
        ([HistoryUpdate("TRANSIT", datetime(2024, 1, 1))], ["history[0].status_date"]),
        ([HistoryUpdate("transit", datetime(2024, 1, 1, tzinfo=UTC))], ["history[0].status"]),
        ([HistoryUpdate("Delivered", datetime(2024, 1, 1, tzinfo=UTC))], ["history[0].status"]),
        ([HistoryUpdate("RETURNED", datetime(2024, 1, 1, tzinfo=UTC))], ["history[0].status"]),
        (
            [{"status": "delivered", "status_date": datetime(2024, 1, 1)}],
            ["history[0].status", "history[0].status_date"],
        ),
        (
            [{"status": "TRANSIT", "status_date": "2024-01-01T00:00:00.000Z"}],
            ["history[0].status_date"],
        ),
        ([{"status": "TRANSIT"}], ["history[0]"]),
        ([{"status": "TRANSIT", "status_date": datetime.now(UTC), "color": "red"}], ["history[0]"]),
        (["TRANSIT"], ["history[0]"]),
        (
            [HistoryUpdate("TRANSIT", datetime.now(UTC), status_details=5)],  # type: ignore[arg-type]
            ["history[0].status_details"],
        ),
        (
            [
                HistoryUpdate("TRANSIT", datetime.now(UTC)),
                HistoryUpdate("transit", datetime.now(UTC)),
                HistoryUpdate("DELIVERED", datetime.now()),
            ],
            ["history[1].status", "history[2].status_date"],
        ),
        (
            [TrackingEvent(status=TrackingStatus.UNKNOWN, occurred_at=datetime.now(UTC))],
            ["history[0].status"],
        ),
        ([], ["history"]),
        ({"status": "TRANSIT"}, ["history"]),
        ("TRANSIT", ["history"]),
        (None, ["history"]),
    ],
)
def test_bad_history_is_refused_before_any_request(
    mocked: responses.RequestsMock, client: ShiplemonClient, history: Any, arguments: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        client.tracking.update(SID, history)
    assert [argument for argument, _ in info.value.problems] == arguments
    assert len(mocked.calls) == 0


@pytest.mark.parametrize(
    ("history", "arguments"),
    [
        ([HistoryUpdate(["TRANSIT"], datetime.now(UTC))], ["history[0].status"]),  # type: ignore[arg-type]
        ([HistoryUpdate({"s": 1}, datetime.now(UTC))], ["history[0].status"]),  # type: ignore[arg-type]
        ([HistoryUpdate(None, datetime.now(UTC))], ["history[0].status"]),  # type: ignore[arg-type]
        ([HistoryUpdate("TRANSIT", None)], ["history[0].status_date"]),  # type: ignore[arg-type]
        (
            [HistoryUpdate("TRANSIT", datetime.now(UTC), status_exact=["x"])],  # type: ignore[arg-type]
            ["history[0].status_exact"],
        ),
        ([{1: "TRANSIT"}], ["history[0]"]),
        ([{"status": ["TRANSIT"], "status_date": datetime.now(UTC)}], ["history[0].status"]),
    ],
)
def test_history_entries_of_the_wrong_type_are_refused_by_their_place(
    mocked: responses.RequestsMock, client: ShiplemonClient, history: Any, arguments: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        client.tracking.update(SID, history)
    assert [argument for argument, _ in info.value.problems] == arguments
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("event", ["x", None, {"status": "TRANSIT"}, 5])
def test_from_event_refuses_what_is_not_an_event(event: Any) -> None:
    with pytest.raises(ValidationError) as info:
        HistoryUpdate.from_event(event)
    assert info.value.argument == "event"


def test_an_id_given_as_a_number_comes_back_as_a_string(
    mocked: responses.RequestsMock, client: ShiplemonClient
) -> None:
    mocked.get(
        f"{PROD}/public/v1/shipments/12345/tracking",
        json=load_fixture("shiplemon", "get_tracking_200.json"),
    )
    tracking = client.tracking.get(12345)  # type: ignore[arg-type]
    assert tracking.shipment_id == "12345"
    assert tracking.to_tracking().shipment_id == "12345"


def test_statuses_are_the_four_documented_values() -> None:
    from shiptrack_sdk.shiplemon.status import STATUSES

    assert frozenset({"DELIVERED", "TRANSIT", "PRE_TRANSIT", "EXCEPTION"}) == STATUSES


# -- error bodies -----------------------------------------------------------------------------


def test_documented_error_body_parsed(
    mocked: responses.RequestsMock, client: ShiplemonClient
) -> None:
    mocked.put(
        f"{PROD}/v1/shipments/{SID}/tracking",
        status=400,
        json={
            "error": {
                "code": "VALIDATION_ERROR",
                "message": "1 invalid field(s)",
                "metadata": {"errors": [{"path": "tracking_history[0].status"}]},
            }
        },
        headers={"x-request-id": "req-77"},
    )
    with pytest.raises(BadRequestError) as info:
        client.tracking.update(SID, [HistoryUpdate("TRANSIT", datetime.now(UTC))])
    exc = info.value
    assert (exc.provider, exc.status, exc.code) == ("shiplemon", 400, "VALIDATION_ERROR")
    assert exc.error_message == "1 invalid field(s)"
    assert exc.metadata == {"errors": [{"path": "tracking_history[0].status"}]}
    assert exc.request_id == "req-77"
    assert "VALIDATION_ERROR" in str(exc)
    assert "req-77" in str(exc)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"error": {"code": "NOT_FOUND", "message": "Shipment not found"}}, "NOT_FOUND",
         "Shipment not found"),
        ({"error": "Forbidden"}, None, "Forbidden"),
        ({"message": "Internal server error"}, None, "Internal server error"),
        ({"error": {"code": 404}}, "404", None),
        ([], None, None),
        ("text", None, None),
        (None, None, None),
    ],
)  # fmt: skip
def test_parse_error(body: Any, code: str | None, message: str | None) -> None:
    details = parse_error(body)
    assert (details.code, details.message) == (code, message)


# -- client settings --------------------------------------------------------------------------


def test_environments() -> None:
    assert dict(ENVIRONMENTS) == {
        "production": "https://api.shiplemon.com",
        "sandbox": "https://api-sandbox.shiplemon.com",
    }
    assert ShiplemonClient(api_key="k").base_url == "https://api.shiplemon.com/"
    sandbox = ShiplemonClient(api_key="k", environment="sandbox")
    assert sandbox.base_url == "https://api-sandbox.shiplemon.com/"


def test_sandbox_environment_request_url(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"https://api-sandbox.shiplemon.com/public/v1/shipments/{SID}/tracking",
        json=load_fixture("shiplemon", "get_tracking_200.json"),
    )
    ShiplemonClient(api_key="k", environment="sandbox").tracking.get(SID)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_API_KEY", "env-key")
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_ENVIRONMENT", "sandbox")
    client = ShiplemonClient()
    assert client.base_url == "https://api-sandbox.shiplemon.com/"
    assert (
        client._transport.credentials == ShiplemonClient(api_key="env-key")._transport.credentials
    )
    # Arguments win over the environment.
    assert ShiplemonClient(environment="production").base_url == "https://api.shiplemon.com/"
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_BASE_URL", "http://127.0.0.1:9/shiplemon")
    assert ShiplemonClient().base_url == "http://127.0.0.1:9/shiplemon/"
    assert ShiplemonClient(base_url="https://proxy.example.test/sl").base_url == (
        "https://proxy.example.test/sl/"
    )


def test_missing_api_key_names_the_argument_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError) as info:
        ShiplemonClient()
    assert info.value.argument == "api_key"
    assert "api_key=" in str(info.value)
    assert "SHIPTRACK_SHIPLEMON_API_KEY" in str(info.value)
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_API_KEY", "")  # empty counts as unset
    with pytest.raises(ValidationError):
        ShiplemonClient()


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="k", environment="staging")  # type: ignore[arg-type]
    assert info.value.argument == "environment"
    assert "'production'" in str(info.value)
    assert "'sandbox'" in str(info.value)


def test_client_is_a_context_manager_with_a_repr() -> None:
    with ShiplemonClient(api_key="k") as client:
        assert repr(client) == "<ShiplemonClient https://api.shiplemon.com/>"
        assert repr(client.tracking) == (
            "<TrackingResource of <ShiplemonClient https://api.shiplemon.com/>>"
        )


# -- against the sandbox ----------------------------------------------------------------------

SANDBOX_SID = "6650a1f2c3d4e5f601234567"


def test_get_update_round_trip(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    before = client.tracking.get(SANDBOX_SID)
    assert before.tracking_status == "TRANSIT"
    history = [
        *before.to_tracking().events,
        TrackingEvent(
            status=TrackingStatus.DELIVERED,
            occurred_at=datetime(2024, 9, 3, 12, 30, 0, 123456, tzinfo=ATHENS),
            description="Delivered to the recipient",
        ),
    ]
    shipment = client.tracking.update(SANDBOX_SID, history)
    assert shipment.id == SANDBOX_SID
    assert shipment.tracking_status == "DELIVERED"
    assert len(shipment.tracking_history) == 5
    after = client.tracking.get(SANDBOX_SID)
    tracking = after.to_tracking()
    assert tracking.status is TrackingStatus.DELIVERED
    assert tracking.last_event is not None
    assert tracking.last_event.occurred_at == datetime(2024, 9, 3, 9, 30, 0, 123000, tzinfo=UTC)
    assert tracking.last_event.description == "Delivered to the recipient"
    assert [e.occurred_at for e in tracking.events] == [
        e.occurred_at.replace(microsecond=e.occurred_at.microsecond // 1000 * 1000) for e in history
    ]
    (put,) = sb.calls("/shiplemon/v1/shipments/*", "PUT")
    assert put.json()["tracking_history"][-1]["status_date"] == "2024-09-03T09:30:00.123Z"


def test_404_body_parsed_into_not_found_error(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(NotFoundError) as info:
        client.tracking.get("0000")
    assert (info.value.code, info.value.error_message) == ("NOT_FOUND", "Shipment not found")
    with pytest.raises(NotFoundError) as info:
        client.tracking.update("0000", [HistoryUpdate("TRANSIT", datetime.now(UTC))])
    assert info.value.code == "NOT_FOUND"


def test_a_path_id_cannot_escape_its_segment(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(NotFoundError) as info:
        client.tracking.get("../../v1/shipments/x")
    assert info.value.metadata == {"id": "../../v1/shipments/x"}
    (call,) = sb.calls()
    assert call.path == "/shiplemon/public/v1/shipments/..%2F..%2Fv1%2Fshipments%2Fx/tracking"
    assert call.route == "shiplemon.tracking.get"


def test_a_wrong_api_key_is_an_authentication_error(sb: Sandbox) -> None:
    with pytest.raises(AuthenticationError) as info:
        sb.shiplemon_client(api_key="wrong").tracking.get(SANDBOX_SID)
    assert (info.value.status, info.value.code) == (401, "UNAUTHORIZED")
    assert info.value.error_message == "Missing or invalid x-api-key"


def test_naive_datetime_refused_before_any_request(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(ValidationError) as info:
        client.tracking.update(SANDBOX_SID, [HistoryUpdate("DELIVERED", datetime(2024, 9, 3))])
    assert info.value.argument == "history[0].status_date"
    assert sb.calls() == []


def test_lowercase_status_refused_before_any_request(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(ValidationError):
        client.tracking.update(SANDBOX_SID, [HistoryUpdate("delivered", datetime.now(UTC))])
    assert sb.calls() == []


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"status": "delivered", "status_date": "2024-09-03T09:30:00.000Z"}, "status"),
        ({"status": "DELIVERED", "status_date": "2024-09-03T09:30:00Z"}, "status_date"),
        ({"status": "DELIVERED", "status_date": "2024-09-03T09:30:00.000+03:00"}, "status_date"),
        ({"status": "DELIVERED", "status_date": 1725355800}, "status_date"),
        (
            {"status": "DELIVERED", "status_date": "2024-09-03T09:30:00.000Z", "status_details": 1},
            "status_details",
        ),
    ],
)
def test_sandbox_validates_the_put_as_shiplemon_does(
    sb: Sandbox, entry: dict[str, Any], path: str
) -> None:
    # Past the SDK's own checks, straight at the route.
    client = sb.shiplemon_client()
    with pytest.raises(BadRequestError) as info:
        client._transport.request(
            "PUT", f"v1/shipments/{SANDBOX_SID}/tracking", json_body={"tracking_history": [entry]}
        )
    assert info.value.code == "VALIDATION_ERROR"
    assert info.value.metadata["errors"][0]["path"] == f"tracking_history[0].{path}"
    assert client.tracking.get(SANDBOX_SID).tracking_status == "TRANSIT"  # nothing changed


@pytest.mark.parametrize("body", [{"history": []}, [], {"tracking_history": "x"}])
def test_sandbox_refuses_a_put_without_a_history_array(sb: Sandbox, body: Any) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(BadRequestError) as info:
        client._transport.request("PUT", f"v1/shipments/{SANDBOX_SID}/tracking", json_body=body)
    assert info.value.code == "VALIDATION_ERROR"


def test_base_url_from_the_environment_reaches_the_sandbox(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_BASE_URL", sb.provider_url("shiplemon"))
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_API_KEY", sb.apps["shiplemon"].credentials.api_key)
    assert ShiplemonClient().tracking.get(SANDBOX_SID).tracking_ref == "7204519386"


def test_per_call_timeout_is_passed(
    mocked: responses.RequestsMock, client: ShiplemonClient
) -> None:
    mocked.get(
        f"{PROD}/public/v1/shipments/{SID}/tracking",
        json=load_fixture("shiplemon", "get_tracking_200.json"),
    )
    client.tracking.get(SID, timeout=(2, 9))
    assert mocked.calls[0].request.req_kwargs["timeout"] == (2.0, 9.0)

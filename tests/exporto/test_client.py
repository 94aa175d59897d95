"""ExportoClient: settings, the OAuth2 token flow (HTTP Basic + JSON body), errors."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import responses

from shiptrack_sdk import AuthenticationError, ExportoClient, NotFoundError, ValidationError
from shiptrack_sdk.exporto import ENVIRONMENTS, json_token_request, parse_error
from shiptrack_sdk.sandbox import Sandbox
from tests.exporto.conftest import BASE, SECRET


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- settings -----------------------------------------------------------------------------------


def test_missing_credentials_name_argument_and_variable() -> None:
    with pytest.raises(ValidationError) as info:
        ExportoClient(client_secret="x")
    assert info.value.argument == "client_id"
    assert "SHIPTRACK_EXPORTO_CLIENT_ID" in str(info.value)
    with pytest.raises(ValidationError) as info:
        ExportoClient(client_id="x")
    assert info.value.argument == "client_secret"
    assert "SHIPTRACK_EXPORTO_CLIENT_SECRET" in str(info.value)


def test_credentials_and_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_EXPORTO_CLIENT_ID", "env-id")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_ENVIRONMENT", "staging")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_SCOPE", "shipment:read")
    client = ExportoClient()
    assert client.base_url == "https://staging.api.exporto.de/v1/"
    assert client.auth.client_id == "env-id"
    assert client.auth.scope == "shipment:read"
    assert client.auth.token_url == "https://staging.api.exporto.de/v1/auth/token"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_EXPORTO_CLIENT_ID", "env-id")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_ENVIRONMENT", "staging")
    client = ExportoClient(client_id="arg-id", client_secret="x", environment="production")
    assert client.auth.client_id == "arg-id"
    assert client.base_url == ENVIRONMENTS["production"] == "https://api.exporto.de/v1/"


def test_base_url_and_token_url_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    client = ExportoClient(client_id="i", client_secret="s", base_url="https://proxy.example/exp")
    assert client.base_url == "https://proxy.example/exp/"
    assert client.auth.token_url == "https://proxy.example/exp/auth/token"
    monkeypatch.setenv("SHIPTRACK_EXPORTO_BASE_URL", "https://env.example/v9/")
    monkeypatch.setenv("SHIPTRACK_EXPORTO_TOKEN_URL", "https://idp.example/token")
    client = ExportoClient(client_id="i", client_secret="s")
    assert client.base_url == "https://env.example/v9/"
    assert client.auth.token_url == "https://idp.example/token"


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        ExportoClient(client_id="i", client_secret="s", environment="live")  # type: ignore[arg-type]
    assert info.value.argument == "environment"


def test_oauth_over_plain_http_refused_outside_loopback() -> None:
    with pytest.raises(ValidationError):
        ExportoClient(client_id="i", client_secret="s", base_url="http://api.exporto.de/v1/")


def test_repr_hides_the_secret() -> None:
    client = ExportoClient(client_id="i", client_secret=SECRET)
    assert SECRET not in repr(client)
    assert SECRET not in repr(client.auth)
    assert "exporto" in repr(client.shipments)


# -- the compliance hook and the error parser ---------------------------------------------------


def test_json_token_request_turns_the_form_into_json() -> None:
    url, headers, kwargs = json_token_request(
        "https://x/auth/token",
        {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        {"data": {"grant_type": "client_credentials", "scope": "shipment:read"}},
    )
    assert url == "https://x/auth/token"
    assert headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert kwargs == {"json": {"grant_type": "client_credentials", "scope": "shipment:read"}}


def test_parse_error_reads_message_and_request_id() -> None:
    details = parse_error({"message": "Shipment x not found", "requestId": "req-1"})
    assert (details.message, details.request_id, details.code) == (
        "Shipment x not found",
        "req-1",
        None,
    )
    assert parse_error("not json").message is None
    assert parse_error({"message": 42}).message is None


# -- request shapes (responses) -----------------------------------------------------------------


def test_token_request_is_basic_auth_with_a_json_body(
    mocked: responses.RequestsMock, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "shipment/S-1", json={"shipmentId": "S-1"})
    with ExportoClient(client_id="cid", client_secret=SECRET, scope="shipment:read") as client:
        client.shipments.get("S-1")
    token_call, api_call = mocked.calls
    assert token_call.request.url == "https://api.exporto.de/v1/auth/token"
    assert token_call.request.method == "POST"
    assert token_call.request.headers["Authorization"] == _basic("cid", SECRET)
    assert token_call.request.headers["Content-Type"] == "application/json"
    assert json.loads(token_call.request.body) == {
        "grant_type": "client_credentials",
        "scope": "shipment:read",
    }
    assert api_call.request.url == "https://api.exporto.de/v1/shipment/S-1"
    assert api_call.request.headers["Authorization"] == "Bearer eyJhbGciOiJSUzI1NiJ9.sandbox.token"
    assert api_call.request.headers["Accept"] == "application/json"
    assert api_call.request.headers["User-Agent"].startswith("shiptrack-sdk/")


@pytest.mark.parametrize("scope", ["shipment:read tour:read", ["shipment:read", "tour:read"]])
def test_scope_as_a_string_or_a_list(mocked: responses.RequestsMock, scope: Any) -> None:
    mocked.get(BASE + "shipment/S-1", json={"shipmentId": "S-1"})
    with ExportoClient(client_id="cid", client_secret=SECRET, scope=scope) as client:
        client.shipments.get("S-1")
    assert json.loads(mocked.calls[0].request.body)["scope"] == "shipment:read tour:read"


@pytest.mark.parametrize(
    ("scope", "argument"), [(123, "scope"), (b"shipment:read", "scope"), (["a", 1], "scope[1]")]
)
def test_a_bad_scope_is_refused_at_construction(
    mocked: responses.RequestsMock, scope: Any, argument: str
) -> None:
    # It used to be taken, and the first request failed with oauthlib's ValueError.
    with pytest.raises(ValidationError) as info:
        ExportoClient(client_id="cid", client_secret=SECRET, scope=scope)
    assert info.value.argument == argument
    assert not mocked.calls


def test_token_request_without_scope_sends_grant_type_only(
    mocked: responses.RequestsMock, client: ExportoClient
) -> None:
    mocked.get(BASE + "shipment/S-1", json={"shipmentId": "S-1"})
    client.shipments.get("S-1")
    assert json.loads(mocked.calls[0].request.body) == {"grant_type": "client_credentials"}


def test_error_body_fills_the_error(
    mocked: responses.RequestsMock, client: ExportoClient, load: Callable[[str], Any]
) -> None:
    mocked.get(BASE + "shipment/S-404", status=404, json=load("error_not_found.json"))
    with pytest.raises(NotFoundError) as info:
        client.shipments.get("S-404")
    error = info.value
    assert error.status == 404
    assert error.provider == "exporto"
    assert error.error_message == "Shipment S-404 not found"
    assert error.request_id == "3f0c8f1e-6a4b-4d1e-9a57-0d2f5c1b7e21"
    assert "3f0c8f1e-6a4b-4d1e-9a57-0d2f5c1b7e21" in str(error)


# -- the token flow over real HTTP (sandbox) ----------------------------------------------------


def test_sandbox_token_flow_basic_and_json(sb: Sandbox) -> None:
    with sb.exporto_client(scope="shipment:read") as client:
        client.shipments.get("S-240902-0001")
        client.shipments.get("S-240902-0002")
        assert client.auth.token_requests == 1
    (token_call,) = sb.calls("/exporto/v1/auth/token", "POST")
    creds = sb.apps["exporto"].credentials
    assert token_call.headers["Authorization"] == _basic(creds.client_id, creds.client_secret)
    assert token_call.json() == {"grant_type": "client_credentials", "scope": "shipment:read"}
    assert token_call.status == 200
    for call in sb.calls("/exporto/v1/shipment/*"):
        assert call.headers["Authorization"].startswith("Bearer ")


def test_sandbox_refuses_a_form_token_request(sb: Sandbox) -> None:
    # The sandbox holds exporto's contract: without the JSON hook the token request fails.
    from shiptrack_sdk.auth import OAuth2ClientCredentials

    auth = OAuth2ClientCredentials(
        f"{sb.provider_url('exporto')}/v1/auth/token",
        sb.apps["exporto"].credentials.client_id,
        sb.apps["exporto"].credentials.client_secret,
        client_auth="basic",
    )
    with pytest.raises(AuthenticationError) as info:
        auth.access_token()
    assert info.value.status == 400


def test_token_renewed_and_request_replayed_after_revocation(
    sb: Sandbox, exporto: ExportoClient
) -> None:
    exporto.shipments.get("S-240902-0001")
    sb.tokens.expire_all()
    shipment = exporto.shipments.get("S-240902-0002")
    assert shipment.shipment_id == "S-240902-0002"
    assert exporto.auth.token_requests == 2
    statuses = [c.status for c in sb.calls("/exporto/v1/shipment/S-240902-0002")]
    assert statuses == [401, 200]


def test_token_renewed_before_it_expires(sb: Sandbox, exporto: ExportoClient) -> None:
    exporto.shipments.get("S-240902-0001")
    # The cached token reaches its renewal time: the next call fetches a new one first.
    exporto.auth.tokens._token.renew_at = 0.0  # type: ignore[union-attr]
    exporto.shipments.get("S-240902-0001")
    assert exporto.auth.token_requests == 2
    assert [c.status for c in sb.calls("/exporto/v1/shipment/*")] == [200, 200]


def test_wrong_secret_is_an_authentication_error_without_the_secret(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="shiptrack_sdk")
    with (
        sb.exporto_client(client_secret="wrong-" + SECRET) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.shipments.get("S-240902-0001")
    assert info.value.status == 401
    assert info.value.code == "invalid_client"
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert not sb.calls("/exporto/v1/shipment/*")


def test_no_secret_or_token_in_debug_logs(
    sb: Sandbox, exporto: ExportoClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="shiptrack_sdk")
    exporto.shipments.get("S-240902-0001")
    token = exporto.auth.access_token()
    assert caplog.records
    assert sb.apps["exporto"].credentials.client_secret not in caplog.text
    assert token not in caplog.text

"""The sandbox reads the registry of provider specs: its apps, its clients, its environment and
the test credentials each app accepts come from the specs, and it names no provider itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from shiptrack_sdk import ShiplemonClient, ValidationError
from shiptrack_sdk._providers import all_specs
from shiptrack_sdk.sandbox import Sandbox

SID = "6650a1f2c3d4e5f601234567"


def test_every_registered_provider_with_an_app_is_served(sb: Sandbox) -> None:
    with_apps = [spec.name for spec in all_specs() if spec.sandbox_app]
    assert sb.providers == with_apps
    assert list(sb.apps) == ["oauth", *with_apps]
    for name in with_apps:
        assert sb.apps[name].name == name


def test_client_builds_each_provider_from_its_spec(sb: Sandbox) -> None:
    for spec in all_specs():
        client = sb.client(spec.name, max_retries=0)
        try:
            assert isinstance(client, spec.client_class())
            assert client.base_url.startswith(sb.provider_url(spec.name))
        finally:
            client.close()


def test_the_named_helpers_are_the_same_call(sb: Sandbox) -> None:
    client = sb.shiplemon_client(user_agent="helper/1")
    assert isinstance(client, ShiplemonClient)
    assert client.tracking.get(SID).shipment_id == SID
    assert sb.calls()[-1].headers["User-Agent"] == "helper/1"
    assert sb.exporto_client().shipments.get("S-240902-0001").shipment_id == "S-240902-0001"
    assert {"shiplemon_client", "exporto_client", "lex_client"} <= set(dir(sb))
    assert sb.shiplemon_client.__name__ == "shiplemon_client"


def test_an_unknown_helper_or_provider_is_refused(sb: Sandbox) -> None:
    with pytest.raises(AttributeError):
        sb.nowhere_client()  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        sb.shiplemon  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ValidationError) as info:
        sb.client("nowhere")
    assert info.value.argument == "provider"
    assert "'shiplemon'" in str(info.value)


def test_the_environment_is_each_spec_prefix_and_client_keyword(sb: Sandbox) -> None:
    env = sb.environment()
    expected = {}
    for spec in all_specs():
        assert spec.sandbox_client is not None
        for keyword, value in spec.sandbox_client(sb).items():
            expected[f"{spec.env_prefix}_{keyword.upper()}"] = value
    assert env == expected
    # The names every page and script relies on.
    assert set(env) == {
        "SHIPTRACK_SHIPLEMON_BASE_URL",
        "SHIPTRACK_SHIPLEMON_API_KEY",
        "SHIPTRACK_EXPORTO_BASE_URL",
        "SHIPTRACK_EXPORTO_TOKEN_URL",
        "SHIPTRACK_EXPORTO_CLIENT_ID",
        "SHIPTRACK_EXPORTO_CLIENT_SECRET",
        "SHIPTRACK_LEX_BASE_URL",
        "SHIPTRACK_LEX_TOKEN_URL",
        "SHIPTRACK_LEX_CLIENT_ID",
        "SHIPTRACK_LEX_CLIENT_SECRET",
    }
    assert list(env)[:2] == ["SHIPTRACK_SHIPLEMON_BASE_URL", "SHIPTRACK_SHIPLEMON_API_KEY"]
    assert env["SHIPTRACK_SHIPLEMON_API_KEY"] == sb.apps["shiplemon"].credentials.api_key
    assert urlsplit(env["SHIPTRACK_EXPORTO_TOKEN_URL"]).path == "/exporto/v1/auth/token"


def test_each_app_holds_its_own_test_credentials(sb: Sandbox) -> None:
    assert sb.apps["shiplemon"].credentials.api_key == "sandbox-shiplemon-key"
    assert sb.apps["exporto"].credentials.client_id == "sandbox-exporto-client"
    assert sb.apps["lex"].credentials.client_secret == "sandbox-lex-secret"
    assert sb.credentials.oauth_client_id == "sandbox-client"  # the provider-neutral endpoint


def test_credentials_can_be_replaced_per_app() -> None:
    credentials = {
        "shiplemon": {"api_key": "my-key"},
        "exporto": {"client_secret": "my-secret"},
        "oauth": {"oauth_client_id": "me"},
    }
    with Sandbox(credentials=credentials) as sb:
        assert sb.apps["exporto"].credentials.client_id == "sandbox-exporto-client"
        assert sb.environment()["SHIPTRACK_SHIPLEMON_API_KEY"] == "my-key"
        url = f"{sb.url}/shiplemon/public/v1/shipments/{SID}/tracking"
        assert requests.get(url, headers={"x-api-key": "my-key"}, timeout=5).status_code == 200
        refused = requests.get(url, headers={"x-api-key": "sandbox-shiplemon-key"}, timeout=5)
        assert refused.status_code == 401
        assert sb.client("exporto").shipments.get("S-240902-0001").shipment_id
        token = requests.post(
            f"{sb.url}/exporto/v1/auth/token",
            json={"grant_type": "client_credentials"},
            auth=("sandbox-exporto-client", "sandbox-exporto-secret"),
            timeout=5,
        )
        assert token.status_code == 401
        assert sb.credentials.oauth_client_id == "me"

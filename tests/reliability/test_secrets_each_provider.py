"""No secret of any registered provider ever shows, from its spec alone.

Every provider that tracks by id is given sentinel credentials (each field of its sandbox app's
``credentials``) and driven through its ``track`` (its spec's): successful and failing calls
(unknown id, 401, 500, 503 on every attempt, a dropped connection, a read timeout, its own
credentials refused, an unreachable host and, for OAuth2, an expired token, a failing and a
broken token endpoint), with every logger at DEBUG.

Its secret (the spec's API-key argument, or the OAuth2 client secret), the tokens the sandbox
issued and an HTTP Basic credential made of them must appear in no log record and in no
``repr``/``str`` of anything returned or raised (causes included). The representative calls of
each shipped provider are in ``test_secrets_all_providers.py``; this suite needs nothing but
the registry, and :func:`test_no_secret_of_a_provider_shows` runs any registered provider.
"""

from __future__ import annotations

import base64
import logging
import socket
from typing import Any

import attrs
import pytest

from shiptrack_sdk import Tracking
from shiptrack_sdk._core.spec import ApiKeyAuthSpec, OAuth2AuthSpec, ProviderSpec, load
from shiptrack_sdk._providers import all_specs, spec
from shiptrack_sdk.cli import track_each
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import Seen

#: The registered providers the suite runs on: those that track by id in the sandbox.
TRACKING = [
    s.name for s in all_specs() if s.pullable and s.sandbox_app and s.sandbox_client is not None
]


def no_sleep(seconds: float) -> None:
    """Retries here need not wait."""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def secret_fields(found: ProviderSpec) -> list[str]:
    """The client keywords of ``found`` that hold a secret."""
    if isinstance(found.auth, ApiKeyAuthSpec):
        return [found.auth.argument]
    return ["client_secret"] if isinstance(found.auth, OAuth2AuthSpec) else []


def sentinels(found: ProviderSpec) -> dict[str, str]:
    """A sentinel for each field of the provider's sandbox credentials."""
    assert found.sandbox_app is not None
    credentials = load(found.sandbox_app).credentials
    fields = attrs.fields(type(credentials)) if credentials is not None else ()
    return {a.name: f"SENTINEL-{found.name.upper()}-{a.name.upper()}-3c9e" for a in fields}


@pytest.mark.parametrize("provider", TRACKING)
def test_no_secret_of_a_provider_shows(provider: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    found = spec(provider)
    assert found.track_one is not None
    track_one = load(found.track_one)

    def track(client: Any, ids: list[str]) -> list[Any]:
        return track_each(ids, lambda shipment_id: track_one(client, shipment_id))

    planted = sentinels(found)
    seen = Seen()
    with Sandbox(credentials={provider: planted}) as sb:
        issued: list[str] = []
        issue = sb.tokens.issue

        def recording_issue(client_id: str, scope: str | None = None) -> dict[str, Any]:
            answer = issue(client_id, scope)
            issued.append(answer["access_token"])
            return answer

        sb.tokens.issue = recording_issue  # type: ignore[method-assign]
        sample = sb.apps[provider].sample_ids[0]
        # track sends GETs, and POSTs only for a token: the provider's prefix tells them apart.
        prefix = f"/{provider}/*"

        def client(**overrides: Any) -> Any:
            made = sb.client(provider, **{"backoff_factor": 0.001, **overrides})
            made._transport.sleep = no_sleep
            seen.add(made)
            seen.add(made._transport)
            seen.add(made.session.headers)
            return made

        def call(with_client: Any, ids: tuple[str, ...] = (sample,)) -> Any:
            return seen.call(track, with_client, list(ids))[0]

        usual = client()
        assert isinstance(call(usual), Tracking)  # the sentinel credentials are accepted
        call(usual, ("no-such-shipment",))
        faults: list[dict[str, Any]] = [
            {"status": 500},
            {"status": 503, "times": None},
            {"action": "drop"},
            {"status": 401, "times": None},
        ]
        for fault in faults:
            sb.fault(prefix, method="GET", **fault)
            call(usual)
            sb.clear_faults()
        sb.fault(prefix, method="GET", delay=0.3)
        call(client(timeout=(1, 0.05), max_retries=0))
        for field in secret_fields(found):
            call(client(**{field: planted[field] + "-WRONG"}))  # refused
        call(client(base_url=f"http://127.0.0.1:{closed_port()}/", max_retries=0))
        if isinstance(found.auth, OAuth2AuthSpec):
            sb.tokens.expire_all()  # 401, renewed, replayed
            call(usual)
            for fault in ({"status": 500, "times": None}, {"action": "drop", "times": None}):
                sb.fault(prefix, method="POST", **fault)  # the token endpoint fails
                call(client())
                sb.clear_faults()
        usual.close()
        issued_tokens = list(issued)

    secrets: dict[str, list[str]] = {
        f"{provider} {field}": [planted[field]] for field in secret_fields(found)
    }
    if isinstance(found.auth, OAuth2AuthSpec):
        secrets[f"{provider} access tokens"] = issued_tokens
        assert issued_tokens  # tokens were issued at all
        if "client_id" in planted:
            basic = f"{planted['client_id']}:{planted['client_secret']}".encode()
            secrets[f"{provider} HTTP Basic credentials"] = [base64.b64encode(basic).decode()]
    assert secrets, f"{provider} has no secret to look for"
    assert seen.errors >= 6  # the failing calls failed

    records = caplog.records
    assert any(r.name.startswith("urllib3") for r in records)
    logged = [caplog.text]
    for record in records:
        logged.append(record.getMessage())
        logged.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            logged.append(repr(record.exc_info[1]))
    for name, values in secrets.items():
        for secret in values:
            assert secret, name
            for text in logged:
                assert secret not in text, f"{name} in a log record: {text[:300]!r}"
            for text in seen.texts:
                assert secret not in text, f"{name} in a repr, str or error: {text[:300]!r}"

"""Fake Parcels as the core sees it: one :class:`~shiptrack_sdk._core.spec.ProviderSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shiptrack_sdk._core.spec import (
    ApiKeyAuthSpec,
    EnvelopeError,
    ErrorDetails,
    ProviderSpec,
    text_or_none,
)

__all__ = ["ENVIRONMENTS", "SPEC", "parse_error", "unwrap_result"]

#: Base URL of each environment (the first is the default).
ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.fake-parcels.example/",
    "staging": "https://staging.fake-parcels.example/",
}


def parse_error(body: Any) -> ErrorDetails:
    """Fake Parcels' error body: ``{"fault": {"kind", "reason"}, "trace": ...}``."""
    if not isinstance(body, Mapping):
        return ErrorDetails()
    fault = body.get("fault")
    if not isinstance(fault, Mapping):
        return ErrorDetails(request_id=text_or_none(body.get("trace")))
    return ErrorDetails(
        code=text_or_none(fault.get("kind")),
        message=text_or_none(fault.get("reason")),
        request_id=text_or_none(body.get("trace")),
    )


def unwrap_result(payload: Any) -> Any:
    """Fake Parcels wraps every answer as ``{"ok": true, "result": {...}}``."""
    if isinstance(payload, Mapping) and isinstance(payload.get("result"), Mapping):
        return payload["result"]
    raise EnvelopeError('answer has no "result" object')


def _sandbox_client(sandbox: Any) -> dict[str, Any]:
    return {
        "base_url": sandbox.provider_url("fake") + "/",
        "api_key": sandbox.apps["fake"].credentials.api_key,
    }


SPEC = ProviderSpec(
    name="fake",
    title="Fake Parcels",
    client="tests.fake_provider.client:FakeClient",
    env_prefix="SHIPTRACK_FAKE",
    environments=ENVIRONMENTS,
    auth=ApiKeyAuthSpec(header="x-fake-key"),
    error_parser=parse_error,
    envelope=unwrap_result,
    sandbox_app="tests.fake_provider._sandbox:FakeApp",
    sandbox_client=_sandbox_client,
    track_one="tests.fake_provider.cli:track_one",
    status_map="tests.fake_provider.status:STATUS_MAP",
)

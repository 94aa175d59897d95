"""A fifth provider, added as any provider is: its own package and one line of the registry.

``tests/fake_provider`` is a small provider (an API key, its own envelope and error body, one
endpoint, a status map, a sandbox app and a ``track`` for the command line). Registered here
by appending ``"tests.fake_provider.spec:SPEC"`` to :data:`shiptrack_sdk._providers.SPECS`, it
is served by the sandbox, built by ``sandbox.client("fake")``, tracked by ``shiptrack track
fake``, exported by the package root, and put through the cross-provider suites, whose test
functions run here unchanged: the fault matrix, the secrets suite, hostile input and the
fuzzed parsers. Nothing outside its package names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import shiptrack_sdk
from shiptrack_sdk import Tracking, TrackingStatus, ValidationError, _providers
from shiptrack_sdk._core.spec import ProviderSpec, load
from shiptrack_sdk.cli import main
from shiptrack_sdk.errors import AuthenticationError, NotFoundError
from shiptrack_sdk.sandbox import Sandbox
from tests.fake_provider.spec import SPEC
from tests.reliability import matrix
from tests.reliability import test_fault_matrix as fault_matrix
from tests.reliability import test_fuzz_parsers as fuzz
from tests.reliability import test_hostile_input as hostile
from tests.reliability import test_secrets_each_provider as secrets

#: The one line a provider adds to the registry.
FAKE = "tests.fake_provider.spec:SPEC"
PACKAGE = Path(shiptrack_sdk.__file__).parent


@pytest.fixture(scope="module")
def registered() -> Iterator[ProviderSpec]:
    """The registry with the fake provider's line appended, for this module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_providers, "SPECS", [*_providers.SPECS, FAKE])
        yield _providers.spec("fake")


@pytest.fixture(scope="module")
def _server(registered: ProviderSpec) -> Iterator[Sandbox]:
    with Sandbox() as sandbox:  # built after the registration: it serves the fake too
        yield sandbox


@pytest.fixture
def sb(_server: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with the fake provider, reset for this test."""
    _server.reset()
    yield _server
    _server.reset()


# -- one line of the registry --------------------------------------------------------------------


def test_the_registry_gets_one_line(registered: ProviderSpec) -> None:
    assert _providers.SPECS[-1] == FAKE
    assert registered is SPEC
    assert [s.name for s in _providers.all_specs()][-1] == "fake"


def test_nothing_in_the_sdk_names_the_fake_provider() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert "fake_provider" not in path.read_text(encoding="utf-8"), path


def test_the_sandbox_serves_it(sb: Sandbox) -> None:
    assert sb.providers[-1] == "fake"
    assert "fake.parcel" in sb.route_names
    parcel = sb.client("fake").parcels.get("P-1001")
    assert parcel.to_tracking().status is TrackingStatus.DELIVERED
    tracking = sb.fake_client().parcels.get("P-1002").to_tracking()  # type: ignore[attr-defined]
    assert (tracking.status, tracking.provider) == (TrackingStatus.TRANSIT, "fake")
    assert sb.calls("/fake/*")[-1].headers["x-fake-key"] == "sandbox-fake-key"
    env = sb.environment()
    assert env["SHIPTRACK_FAKE_BASE_URL"] == sb.provider_url("fake") + "/"
    assert env["SHIPTRACK_FAKE_API_KEY"] == sb.apps["fake"].credentials.api_key


def test_its_spec_reads_its_envelope_and_errors(sb: Sandbox) -> None:
    client = sb.client("fake", max_retries=0)
    with pytest.raises(NotFoundError) as missing:
        client.parcels.get("P-404")
    assert missing.value.provider == "fake"
    assert missing.value.code == "not_found"
    assert missing.value.error_message == "no parcel P-404"
    assert (missing.value.request_id or "").startswith("t-")
    with pytest.raises(AuthenticationError) as refused:
        sb.client("fake", api_key="wrong").parcels.get("P-1001")
    assert refused.value.code == "unauthorized"


def test_its_client_reads_its_environment_variables(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_class = SPEC.client_class()
    with pytest.raises(ValidationError) as info:
        client_class()
    assert "SHIPTRACK_FAKE_API_KEY" in str(info.value)
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    with client_class() as client:
        assert client.parcels.get("P-1001").parcel_id == "P-1001"


def test_the_package_root_exports_its_client(
    registered: ProviderSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = vars(shiptrack_sdk)
    # The root caches what it resolves: start and end without the registered fake in it.
    monkeypatch.delitem(namespace, "__all__", raising=False)
    try:
        assert "FakeClient" in shiptrack_sdk.__all__
        assert "FakeClient" in dir(shiptrack_sdk)
        # Public names only: no helper of the module, no stdlib module it imports.
        assert [n for n in dir(shiptrack_sdk) if n.startswith("_")] == ["__version__"]
        assert "logging" not in dir(shiptrack_sdk)
        assert shiptrack_sdk.FakeClient is SPEC.client_class()
    finally:
        namespace.pop("FakeClient", None)
        namespace.pop("__all__", None)


# -- the command line ----------------------------------------------------------------------------


def test_shiptrack_track_fake(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    assert main(["track", "fake", "P-1001", "P-1002"]) == 0
    out = capsys.readouterr().out
    assert "fake  P-1001  DELIVERED  Fake Express" in out
    assert "2024-09-03 10:15 UTC  DELIVERED    Signed for" in out
    assert "fake  P-1002  TRANSIT" in out
    # An id that fails is one line on stderr; the others are still tracked.
    assert main(["track", "fake", "P-404", "P-1001", "--json"]) == 1
    printed = capsys.readouterr()
    assert '"shipment_id": "P-1001"' in printed.out
    (line,) = printed.err.splitlines()
    assert line.startswith("shiptrack: NotFoundError: [fake] HTTP 404")


# -- the cross-provider suites, unchanged --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "endpoint", "outcome"),
    [
        pytest.param(*cell, id=f"{cell[0].id}:{cell[1].id}")
        for cell in matrix.cells(matrix.spec_endpoints(SPEC))
    ],
)
def test_fault_matrix(sb: Sandbox, case: Any, endpoint: Any, outcome: Any) -> None:
    fault_matrix.test_fault(sb, case, endpoint, outcome)


def test_secrets(registered: ProviderSpec, caplog: pytest.LogCaptureFixture) -> None:
    secrets.test_no_secret_of_a_provider_shows("fake", caplog)


@pytest.mark.parametrize("value", hostile.SEGMENT_IDS)
def test_hostile_id_is_one_path_segment(sb: Sandbox, value: str) -> None:
    hostile.test_a_tracked_id_is_one_path_segment(sb, "fake", value)


@pytest.mark.parametrize("value", hostile.REFUSED_IDS, ids=repr)
def test_hostile_id_is_refused(sb: Sandbox, value: Any) -> None:
    hostile.test_a_tracked_id_that_cannot_be_a_segment_is_refused_before_any_request(
        sb, "fake", value
    )


@pytest.mark.parametrize("value", hostile.INJECTIONS, ids=repr)
def test_hostile_settings_cannot_inject_headers(sb: Sandbox, value: str) -> None:
    hostile.test_a_client_setting_cannot_inject_headers(sb, "fake", value)


def test_hostile_client_arguments(sb: Sandbox) -> None:
    hostile.test_a_client_names_what_it_refuses_before_any_request(sb, "fake")


def test_fuzzed_error_bodies() -> None:
    fuzz.test_error_bodies(parser=SPEC.error_parser)


def test_fuzzed_envelope() -> None:
    fuzz.test_envelopes(envelope=SPEC.envelope)


def test_fuzzed_status_map() -> None:
    assert SPEC.status_map is not None
    fuzz.test_status_maps(status_map=load(SPEC.status_map))


def test_a_tracking_of_the_fake_is_a_normalized_tracking(sb: Sandbox) -> None:
    tracking = sb.client("fake").parcels.get("P-1001").to_tracking()
    assert isinstance(tracking, Tracking)
    fuzz.check_tracking(tracking)
    assert [e.status for e in tracking.events] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.TRANSIT,
        TrackingStatus.DELIVERED,
    ]


def test_bulk_tracking_takes_the_fake_beside_the_others(sb: Sandbox) -> None:
    # Its spec's track_one is all shiptrack_sdk.track_many needs of a provider.
    with sb.client("fake") as fake, sb.client("shiplemon") as shiplemon:
        results = list(
            shiptrack_sdk.track_many(
                [
                    ("fake", "P-1001"),
                    ("shiplemon", sb.apps["shiplemon"].sample_ids[0]),
                    ("fake", "P-0000"),
                ],
                clients={"fake": fake, "shiplemon": shiplemon},
            )
        )
    assert [(r.provider, r.index) for r in results] == [("fake", 0), ("shiplemon", 1), ("fake", 2)]
    assert results[0].unwrap().status is TrackingStatus.DELIVERED
    assert results[1].ok
    assert isinstance(results[2].error, NotFoundError)

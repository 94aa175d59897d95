"""The ``shiptrack_sandbox`` fixture, used as a user uses it: from a test file of their own,
with the plugin found through its ``pytest11`` entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

# The example the testing page shows (literalinclude), run here as a user's test module.
DOCS_EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "test_with_sandbox.py"

USER_TESTS = """
import pytest

from shiptrack_sdk import ServerError
from shiptrack_sdk.sandbox import Sandbox

SID = "6650a1f2c3d4e5f601234567"
GET = f"/shiplemon/public/v1/shipments/{SID}/tracking"
seen = {}


def test_tracks_through_the_sandbox(shiptrack_sandbox):
    assert isinstance(shiptrack_sandbox, Sandbox)
    client = shiptrack_sandbox.shiplemon_client()
    assert client.tracking.get(SID).to_tracking().status.value == "TRANSIT"
    seen["url"] = shiptrack_sandbox.url


def test_faults_and_data_changes(shiptrack_sandbox):
    client = shiptrack_sandbox.shiplemon_client(max_retries=0)
    shiptrack_sandbox.fault(GET, status=503, times=None)
    shiptrack_sandbox.latency = 0.01
    with pytest.raises(ServerError):
        client.tracking.get(SID)


def test_each_test_starts_from_a_reset_sandbox(shiptrack_sandbox):
    # The same server for the session, with the previous test's fault and latency gone.
    assert shiptrack_sandbox.url == seen["url"]
    assert shiptrack_sandbox.calls() == []
    assert shiptrack_sandbox.latency == 0.0
    client = shiptrack_sandbox.shiplemon_client(max_retries=0)
    assert client.tracking.get(SID).tracking_status == "TRANSIT"
"""


def test_users_can_test_against_the_sandbox_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_my_integration=USER_TESTS)
    # A fresh interpreter: the fixture comes from the installed entry point, as for a user.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


def test_the_documented_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_with_sandbox=DOCS_EXAMPLE.read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_the_fixture_is_listed_by_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*shiptrack_sandbox*", "*running*Sandbox*reset for this test*"])

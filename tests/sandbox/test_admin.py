"""The sandbox's HTTP admin endpoint (``/_sandbox/``): what a service in another language uses to
set faults, seed shipments, reset and read the recorded calls of ``shiptrack sandbox``.

The command runs in a real subprocess; plain ``requests`` calls drive it."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from shiptrack_sdk.sandbox import Sandbox

SID = "6650a1f2c3d4e5f601234567"
GET_PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"
KEY = {"x-api-key": "sandbox-shiplemon-key"}
TIMEOUT = 60
#: A host beyond loopback (reached here through 127.0.0.1 only).
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 (what is being tested)


@contextlib.contextmanager
def shiptrack_sandbox(*args: str) -> Iterator[tuple[str, list[str]]]:
    """``shiptrack sandbox --port 0 *args`` in a child process: its URL and what it printed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHIPTRACK_")}
    process = subprocess.Popen(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**environment, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("Ctrl-C" in line for line in lines):
            lines.append(process.stdout.readline())
            assert lines[-1], f"the sandbox stopped before it served: {lines}"
            assert len(lines) < 50
        found = re.search(r"http://[0-9.]+:\d+", "".join(lines))
        assert found, lines
        yield found.group(), lines
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """``shiptrack sandbox --port 0``: its URL."""
    with shiptrack_sandbox() as (url, lines):
        assert f"# admin endpoint (no authentication): {url}/_sandbox/\n" in lines
        yield url


@pytest.fixture
def url(served: str) -> Iterator[str]:
    assert requests.post(f"{served}/_sandbox/reset", timeout=TIMEOUT).status_code == 200
    yield served
    requests.post(f"{served}/_sandbox/reset", timeout=TIMEOUT)


def test_routes_are_listed(url: str) -> None:
    answer = requests.get(f"{url}/_sandbox/routes", timeout=TIMEOUT)
    assert answer.status_code == 200
    routes = answer.json()["routes"]
    assert {
        "name": "shiplemon.tracking.get",
        "method": "GET",
        "path": "/shiplemon/public/v1/shipments/{sid}/tracking",
    } in routes
    assert not any(r["path"].startswith("/_sandbox") for r in routes)


def test_a_fault_set_over_http_fires_then_is_cleared(url: str) -> None:
    created = requests.post(
        f"{url}/_sandbox/faults",
        json={"path": "/shiplemon/*", "status": 503, "times": None, "retry_after": 2},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    assert created.json()["fault"]["path"] == "/shiplemon/*"
    answer = requests.get(f"{url}{GET_PATH}", headers=KEY, timeout=TIMEOUT)
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "2")
    listed = requests.get(f"{url}/_sandbox/faults", timeout=TIMEOUT).json()["faults"]
    assert [(f["path"], f["hits"]) for f in listed] == [("/shiplemon/*", 1)]
    assert requests.delete(f"{url}/_sandbox/faults", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{url}{GET_PATH}", headers=KEY, timeout=TIMEOUT).status_code == 200


def test_a_fault_by_route_name_with_a_body(url: str) -> None:
    created = requests.post(
        f"{url}/_sandbox/faults",
        json={"route": "shiplemon.tracking.get", "status": 200, "body": "<html>"},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    answer = requests.get(f"{url}{GET_PATH}", headers=KEY, timeout=TIMEOUT)
    assert answer.text == "<html>"


@pytest.mark.parametrize(
    ("body", "argument"),
    [
        ({"path": "/shiplemn/*", "status": 503}, "path"),
        ({"route": "nowhere", "status": 503}, "route"),
        ({"path": "/shiplemon/*", "status": 99}, "status"),
        ({"path": "/shiplemon/*", "explode": True}, "explode"),
        (["/shiplemon/*"], "body"),
    ],
)
def test_a_refused_fault_is_a_400_naming_the_argument(
    url: str, body: object, argument: str
) -> None:
    answer = requests.post(f"{url}/_sandbox/faults", json=body, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json()["argument"] == argument
    assert requests.get(f"{url}/_sandbox/faults", timeout=TIMEOUT).json()["faults"] == []


def test_a_body_that_is_not_json_is_a_400(url: str) -> None:
    answer = requests.post(f"{url}/_sandbox/faults", data=b"{", timeout=TIMEOUT)
    assert answer.status_code == 400
    assert answer.json()["argument"] == "body"


def test_seeding_over_http_then_reset(url: str) -> None:
    seeded = requests.post(
        f"{url}/_sandbox/seed/shiplemon",
        json={
            "shipment_id": "from-another-service",
            "history": [{"status": "DELIVERED", "at": "2024-10-05T12:00:00Z", "details": "ok"}],
        },
        timeout=TIMEOUT,
    )
    assert seeded.status_code == 201, seeded.text
    assert seeded.json() == {"provider": "shiplemon", "shipment_id": "from-another-service"}
    path = "/shiplemon/public/v1/shipments/from-another-service/tracking"
    answer = requests.get(f"{url}{path}", headers=KEY, timeout=TIMEOUT)
    assert answer.json()["data"]["tracking_status"] == "DELIVERED"
    assert requests.post(f"{url}/_sandbox/reset", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{url}{path}", headers=KEY, timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "argument"),
    [
        ("/_sandbox/seed/nowhere", {"shipment_id": "x"}, 400, "provider"),
        ("/_sandbox/seed/shiplemon", {"history": []}, 400, "shipment_id"),
        ("/_sandbox/seed/shiplemon", {"shipment_id": "x", "carrier": "pigeon"}, 400, "carrier"),
    ],
)
def test_refused_seeding_is_a_400(
    url: str, path: str, body: object, status: int, argument: str
) -> None:
    answer = requests.post(f"{url}{path}", json=body, timeout=TIMEOUT)
    assert answer.status_code == status
    assert answer.json()["argument"] == argument


def test_recorded_calls_as_json_with_secrets_masked(url: str) -> None:
    requests.get(f"{url}{GET_PATH}", headers=KEY, params={"lang": "el"}, timeout=TIMEOUT)
    requests.post(
        f"{url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=TIMEOUT,
    )
    answer = requests.get(f"{url}/_sandbox/calls", timeout=TIMEOUT)
    assert answer.status_code == 200
    assert "sandbox-shiplemon-key" not in answer.text
    assert "sandbox-secret" not in answer.text
    calls = answer.json()["calls"]
    assert [(c["method"], c["path"], c["status"], c["route"]) for c in calls] == [
        ("GET", GET_PATH, 200, "shiplemon.tracking.get"),
        ("POST", "/oauth/token", 200, "oauth.token"),
    ]
    assert calls[0]["query"] == {"lang": ["el"]}
    assert calls[0]["headers"]["x-api-key"] == "***"
    assert "client_secret=***" in calls[1]["body"]
    assert isinstance(calls[0]["at"], float)
    # The admin calls themselves are not recorded, and filters work as sb.calls()'s.
    only = requests.get(
        f"{url}/_sandbox/calls", params={"path": "/oauth/*", "method": "POST"}, timeout=TIMEOUT
    )
    assert [c["path"] for c in only.json()["calls"]] == ["/oauth/token"]


def test_an_unknown_admin_path_is_a_404(url: str) -> None:
    answer = requests.get(f"{url}/_sandbox/nothing", timeout=TIMEOUT)
    assert answer.status_code == 404
    assert requests.get(f"{url}/_sandbox/calls", timeout=TIMEOUT).json()["calls"] == []


# -- who may use it -----------------------------------------------------------------------------


def test_the_admin_endpoint_is_off_on_a_non_loopback_host_unless_enabled() -> None:
    with Sandbox(host=EVERY_ADDRESS, port=0) as sb:
        assert sb.admin is False
        local = sb.url.replace(EVERY_ADDRESS, "127.0.0.1")
        answer = requests.get(f"{local}/_sandbox/routes", timeout=TIMEOUT)
        assert answer.status_code == 403
        assert "admin=True" in answer.json()["message"]
        assert sb.calls() == []
    with Sandbox(host=EVERY_ADDRESS, port=0, admin=True) as sb:
        local = sb.url.replace(EVERY_ADDRESS, "127.0.0.1")
        assert requests.get(f"{local}/_sandbox/routes", timeout=TIMEOUT).status_code == 200


def test_the_admin_endpoint_can_be_turned_off_on_loopback() -> None:
    with Sandbox(admin=False) as sb:
        assert requests.get(f"{sb.url}/_sandbox/routes", timeout=TIMEOUT).status_code == 403
    assert Sandbox().admin is True


def test_the_command_serves_it_beyond_loopback_only_with_admin() -> None:
    with shiptrack_sandbox("--host", EVERY_ADDRESS) as (url, lines):
        assert not any("admin endpoint" in line for line in lines)
        local = url.replace(EVERY_ADDRESS, "127.0.0.1")
        assert requests.get(f"{local}/_sandbox/routes", timeout=TIMEOUT).status_code == 403
    with shiptrack_sandbox("--host", EVERY_ADDRESS, "--admin") as (url, lines):
        assert any("admin endpoint" in line for line in lines)
        local = url.replace(EVERY_ADDRESS, "127.0.0.1")
        assert requests.get(f"{local}/_sandbox/routes", timeout=TIMEOUT).status_code == 200

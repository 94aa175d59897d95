"""The ``shiptrack`` command line, run as a user runs it: a subprocess with this Python."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from shiptrack_sdk import __version__
from shiptrack_sdk._core.convert import parse_datetime
from shiptrack_sdk.cli import main
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon.cli import DEMO_IDS as DEMO_SHIPLEMON_IDS

TIMEOUT = 60


def env(**extra: str) -> dict[str, str]:
    """The test's environment (no SHIPTRACK_* of the machine) plus ``extra``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHIPTRACK_")}
    clean.update(extra)
    return clean


def run(*args: str, cwd: Path | None = None, **env_vars: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=env(PYTHONIOENCODING="utf-8", **env_vars),
        check=False,
        cwd=cwd,
    )


def _interruptible() -> None:
    # A child started from a shell that ignores SIGINT (a background job) inherits that;
    # restored, Python turns Ctrl-C into KeyboardInterrupt as it does in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def serving_sandbox(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``shiptrack sandbox *args`` in a child process, once it says how to stop it: the
    process and the lines it printed."""
    process = subprocess.Popen(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env(PYTHONIOENCODING="utf-8"),
        preexec_fn=_interruptible if sys.platform != "win32" else None,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("# Ctrl-C"):
            lines.append(process.stdout.readline())
            assert lines[-1], f"the sandbox stopped before saying how to stop it: {lines}"
            assert len(lines) < 50
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


@pytest.fixture(scope="module")
def live_sb() -> Iterator[Sandbox]:
    # Its own server: subprocesses reach it while tests in this process keep it running.
    with Sandbox() as sandbox:
        yield sandbox


def sandbox_env(sb: Sandbox) -> dict[str, str]:
    return {
        "SHIPTRACK_SHIPLEMON_BASE_URL": sb.provider_url("shiplemon"),
        "SHIPTRACK_SHIPLEMON_API_KEY": sb.apps["shiplemon"].credentials.api_key,
    }


def test_demo_prints_normalized_timelines() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"shiptrack-sdk {__version__} demo" in out
    for sid in DEMO_SHIPLEMON_IDS:
        assert f"shiplemon  {sid}  " in out
    # The delivered sample, events oldest first with their normalized status.
    header = "shiplemon  be96511d-ba23-4268-bd8b-48c9cf930222  DELIVERED  ELTA Courier"
    assert header in out
    lines = out.split(header)[1].splitlines()[1:4]
    assert re.match(r"^2024-07-12 14:17 UTC  PRE_TRANSIT\s+ΔΗΜΙΟΥΡΓΙΑ", lines[0].strip())
    assert re.match(
        r"^2024-07-15 09:45 UTC  TRANSIT\s+ΠΡΟΣ ΠΑΡΑΔΟΣΗ \[WITH_COURIER\]", lines[1].strip()
    )
    assert re.match(r"^2024-07-15 10:02 UTC  DELIVERED\s+ΠΑΡΑΛΑΒΗ", lines[2].strip())
    assert result.stderr == ""


def test_track_against_a_service_from_the_environment(live_sb: Sandbox) -> None:
    result = run(
        "track", "shiplemon", "6650a1f2c3d4e5f601234567", "60476d7500e47cb69693a202",
        **sandbox_env(live_sb),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "shiplemon  6650a1f2c3d4e5f601234567  TRANSIT  ACS Courier  ref 7204519386" in (
        result.stdout
    )
    assert "Out for delivery [OUT_FOR_DELIVERY]" in result.stdout
    assert "shiplemon  60476d7500e47cb69693a202  EXCEPTION" in result.stdout
    calls = live_sb.calls("/shiplemon/public/v1/shipments/*/tracking", "GET")
    key = live_sb.apps["shiplemon"].credentials.api_key
    assert {c.headers["x-api-key"] for c in calls} == {key}
    assert all(c.headers["User-Agent"] == f"shiptrack-sdk/{__version__}" for c in calls)


def test_track_json_output_parses(live_sb: Sandbox) -> None:
    result = run(
        "track", "shiplemon", "be96511d-ba23-4268-bd8b-48c9cf930222", "--json",
        **sandbox_env(live_sb),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (tracking,) = json.loads(result.stdout)
    assert tracking["shipment_id"] == "be96511d-ba23-4268-bd8b-48c9cf930222"
    assert tracking["status"] == "DELIVERED"
    assert tracking["carrier"] == "ELTA Courier"
    assert [e["status"] for e in tracking["events"]] == ["PRE_TRANSIT", "TRANSIT", "DELIVERED"]
    assert parse_datetime(tracking["events"][0]["occurred_at"]) == datetime(
        2024, 7, 12, 14, 17, tzinfo=timezone.utc
    )


def test_missing_credentials_exit_2_with_one_line(live_sb: Sandbox) -> None:
    result = run(
        "track",
        "shiplemon",
        "x",
        SHIPTRACK_SHIPLEMON_BASE_URL=live_sb.provider_url("shiplemon"),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    # For a shell user: the variable to export, not the Python keyword.
    assert "export SHIPTRACK_SHIPLEMON_API_KEY=" in lines[0]
    assert "api_key=" not in lines[0]
    assert "Traceback" not in result.stderr


def test_api_error_exits_1_with_one_line(live_sb: Sandbox) -> None:
    result = run("track", "shiplemon", "no-such-shipment", **sandbox_env(live_sb))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "NotFoundError" in lines[0]
    assert "404" in lines[0]
    assert "Shipment not found" in lines[0]


def test_debug_logs_requests_without_the_key(live_sb: Sandbox) -> None:
    result = run(
        "--debug", "track", "shiplemon", "6650a1f2c3d4e5f601234567", **sandbox_env(live_sb)
    )
    assert result.returncode == 0
    assert "shiplemon GET http://" in result.stderr
    assert "(attempt 1/4)" in result.stderr
    assert live_sb.apps["shiplemon"].credentials.api_key not in result.stderr + result.stdout


def test_usage_errors_exit_2() -> None:
    result = run("track", "nosuchprovider", "x")
    assert result.returncode == 2
    assert run().returncode == 2


def test_console_script_and_pytest_plugin_are_declared() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="shiptrack")
    assert script.value == "shiptrack_sdk.cli:main"
    (plugin,) = entry_points(group="pytest11", name="shiptrack_sdk")
    assert plugin.value == "shiptrack_sdk.sandbox.pytest_plugin"


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"shiptrack-sdk {__version__}"


def test_main_in_process(live_sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    for name, value in sandbox_env(live_sb).items():
        monkeypatch.setenv(name, value)
    assert main(["track", "shiplemon", "6650a1f2c3d4e5f601234569"]) == 0
    assert "6650a1f2c3d4e5f601234569  PRE_TRANSIT  BOX NOW" in capsys.readouterr().out


def test_sandbox_module_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shiptrack_sdk.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env(),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(
            r"^# shiptrack sandbox serving at (http://127\.0\.0\.1:\d+)$", first.strip()
        )
        assert match, first
        url = match[1]
        lines = []
        while not lines or not lines[-1].startswith("# Ctrl-C"):
            lines.append(process.stdout.readline())
            assert lines[-1], "the sandbox stopped printing before saying how to stop it"
            assert len(lines) < 50
        assert f"export SHIPTRACK_SHIPLEMON_BASE_URL={url}/shiplemon\n" in lines
        # It serves: the documented 404 body for an unknown shipment.
        answer = requests.get(
            f"{url}/shiplemon/public/v1/shipments/nope/tracking",
            headers={"x-api-key": "sandbox-shiplemon-key"},
            timeout=5,
        )
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=TIMEOUT)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def _debug_logger_state() -> tuple[int, list[logging.Handler], bool]:
    sdk_logger = logging.getLogger("shiptrack_sdk")
    return sdk_logger.level, list(sdk_logger.handlers), sdk_logger.propagate


@pytest.mark.parametrize("level", [logging.NOTSET, logging.WARNING])
def test_main_leaves_the_sdk_logger_as_it_found_it(
    live_sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: Any, level: int
) -> None:
    for name, value in sandbox_env(live_sb).items():
        monkeypatch.setenv(name, value)
    sdk_logger = logging.getLogger("shiptrack_sdk")
    saved = sdk_logger.level
    sdk_logger.setLevel(level)
    try:
        before = _debug_logger_state()
        assert main(["--debug", "track", "shiplemon", "6650a1f2c3d4e5f601234569"]) == 0
        assert "shiplemon GET http://" in capsys.readouterr().err  # it did log, at DEBUG
        assert _debug_logger_state() == before
        # on the way out through an error too
        assert main(["--debug", "track", "shiplemon", "no-such-shipment"]) == 1
        assert _debug_logger_state() == before
        assert main(["track", "shiplemon", "6650a1f2c3d4e5f601234569"]) == 0
        assert _debug_logger_state() == before
    finally:
        sdk_logger.setLevel(saved)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is how Ctrl-C reaches a process")
def test_sandbox_command_stops_cleanly_on_ctrl_c() -> None:
    with serving_sandbox("--port", "0") as (process, lines):
        match = re.match(r"^# shiptrack sandbox serving at (http://127\.0\.0\.1:(\d+))$", lines[0])
        assert match, lines
        url = match[1]
        answer = requests.get(
            f"{url}/shiplemon/public/v1/shipments/nope/tracking",
            headers={"x-api-key": "sandbox-shiplemon-key"},
            timeout=5,
        )
        assert answer.status_code == 404
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0  # the documented exit for Ctrl-C here
        assert process.stderr is not None
        assert process.stderr.read() == ""  # no traceback
    with pytest.raises(requests.ConnectionError):  # the server is gone, its port closed
        requests.get(url, timeout=5)


def test_sandbox_command_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("sandbox", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"shiptrack: error: cannot serve the sandbox on 127.0.0.1 port {port}")
    assert "--port 0" in line


def test_sandbox_command_refuses_a_port_out_of_range() -> None:
    result = run("sandbox", "--port", "70000")
    assert result.returncode == 2
    assert "not a port" in result.stderr
    assert "Traceback" not in result.stderr

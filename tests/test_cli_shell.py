"""The ``shiptrack`` command line as a shell user meets it, through real subprocesses: several
ids of which some fail, output piped into ``head``, ``--debug`` anywhere, ``--help``, a
credential not exported, and the sandbox's variables sourced by a shell."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.sandbox import Sandbox
from tests.test_cli import TIMEOUT, env, run, serving_sandbox

SHIPLEMON_ID = "6650a1f2c3d4e5f601234567"
EXPORTO_ID = "S-240902-0001"
PYTHON = shlex.quote(sys.executable)

posix_shell = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell and signals")


@pytest.fixture(scope="module")
def live_sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def shell(
    script: str, *, cwd: Path | None = None, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    """``script`` run by ``sh``, as a user types it; ``shiptrack`` is this Python's."""
    prelude = f'shiptrack() {{ {PYTHON} -m shiptrack_sdk "$@"; }}\n'
    return subprocess.run(  # noqa: S603 (a script of the test's own)
        ["/bin/sh", "-c", prelude + script],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=env(PYTHONIOENCODING="utf-8", PYTHONPATH=os.getcwd(), **env_vars),
        check=False,
        cwd=cwd,
    )


# -- several ids, some failing ----------------------------------------------------------------


def test_track_prints_the_good_one_and_the_error_of_the_bad_one(live_sb: Sandbox) -> None:
    result = run("track", "exporto", EXPORTO_ID, "S-000000-0000", **live_sb.environment())
    assert result.returncode == 1
    assert result.stdout.startswith(f"exporto  {EXPORTO_ID}  DELIVERED")
    (line,) = result.stderr.splitlines()
    assert line.startswith("shiptrack: NotFoundError: [exporto] HTTP 404")
    assert "S-000000-0000" in line
    as_json = run(
        "track", "exporto", "S-000000-0000", EXPORTO_ID, "--json", **live_sb.environment()
    )
    assert as_json.returncode == 1
    assert [t["shipment_id"] for t in json.loads(as_json.stdout)] == [EXPORTO_ID]
    assert as_json.stderr.startswith("shiptrack: NotFoundError: ")


# -- a pipe closed early --------------------------------------------------------------------


@posix_shell
def test_json_into_head_ends_quietly(live_sb: Sandbox) -> None:
    # Far more than a pipe holds, so that writing goes on after head has gone.
    ids = " ".join([SHIPLEMON_ID] * 150)
    result = shell(f"shiptrack track shiplemon {ids} --json | head -2", **live_sb.environment())
    assert result.stdout.splitlines() == ["[", "  {"]
    assert result.stderr == ""


@posix_shell
def test_a_closed_pipe_exits_as_a_shell_expects(live_sb: Sandbox) -> None:
    ids = [SHIPLEMON_ID] * 150
    process = subprocess.Popen(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", "track", "shiplemon", *ids],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(**live_sb.environment()),
    )
    assert process.stdout is not None
    assert process.stderr is not None
    import fcntl

    if hasattr(fcntl, "F_SETPIPE_SZ"):
        # A small pipe, so that the timelines (one write each) outgrow it for certain.
        fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    assert process.stdout.readline().startswith(b"shiplemon  ")
    process.stdout.close()
    assert process.wait(timeout=TIMEOUT) == 141  # 128 + SIGPIPE, as a shell reports it
    assert process.stderr.read() == b""
    process.stderr.close()


# -- --debug after the command ----------------------------------------------------------------


def test_debug_after_the_command(live_sb: Sandbox) -> None:
    result = run("track", "shiplemon", SHIPLEMON_ID, "--debug", **live_sb.environment())
    assert result.returncode == 0, result.stderr
    assert "shiplemon GET http://" in result.stderr
    assert f"shiplemon  {SHIPLEMON_ID}  TRANSIT" in result.stdout
    nested = run("orders", "pull", "--fetch-size", "5", "--debug", **live_sb.environment())
    assert nested.returncode == 0, nested.stderr
    assert "lex GET http://" in nested.stderr
    quiet = run("track", "shiplemon", SHIPLEMON_ID, **live_sb.environment())
    assert quiet.stderr == ""


# -- help ---------------------------------------------------------------------------------


def test_track_help_has_a_description_and_examples() -> None:
    result = run("track", "--help")
    assert result.returncode == 0
    text = result.stdout
    assert "Track shipments by id" in text
    assert "examples:" in text
    examples = [line.strip() for line in text.split("examples:")[1].splitlines() if line.strip()]
    assert any(e.startswith("shiptrack track exporto ") for e in examples)
    assert any(e.startswith("shiptrack track shiplemon ") and "--json" in e for e in examples)
    assert "--debug" in text
    assert "exit code" in text


# -- a credential not exported ------------------------------------------------------------------


def test_a_missing_credential_names_the_variable_to_export(live_sb: Sandbox) -> None:
    result = run(
        "track",
        "shiplemon",
        SHIPLEMON_ID,
        SHIPTRACK_SHIPLEMON_BASE_URL=live_sb.provider_url("shiplemon"),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("shiptrack: error: ")
    assert "export SHIPTRACK_SHIPLEMON_API_KEY=" in line
    assert "api_key=" not in line
    variables = {k: v for k, v in live_sb.environment().items() if "CLIENT_SECRET" not in k}
    oauth2 = run("tours", **variables)
    assert oauth2.returncode == 2
    (line,) = oauth2.stderr.splitlines()
    assert "export SHIPTRACK_EXPORTO_CLIENT_SECRET=" in line
    assert "client_secret=" not in line


def test_python_callers_still_read_the_keyword() -> None:
    from shiptrack_sdk import ShiplemonClient

    with pytest.raises(ValidationError) as info:
        ShiplemonClient()
    assert "pass api_key= or set SHIPTRACK_SHIPLEMON_API_KEY" in str(info.value)


# -- the sandbox's variables, sourced ---------------------------------------------------------


@posix_shell
def test_the_sandbox_prints_lines_a_shell_can_source(tmp_path: Path) -> None:
    with serving_sandbox("--port", "0") as (_, lines):
        exports = [line for line in lines if not line.startswith("#")]
        assert exports
        assert all(line.startswith("export SHIPTRACK_") for line in exports)
        # What it printed, as a file, sourced as it is; then a command finds the server.
        (tmp_path / "printed.sh").write_text("".join(lines), encoding="utf-8")
        result = shell(f". ./printed.sh && shiptrack track shiplemon {SHIPLEMON_ID}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"shiplemon  {SHIPLEMON_ID}  TRANSIT" in result.stdout


@posix_shell
def test_the_env_file_lets_a_script_started_beside_it_find_the_server(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    # The script starts first, and waits for the file: written once the server listens.
    script = subprocess.Popen(  # noqa: S603 (a script of the test's own)
        [
            "/bin/sh",
            "-c",
            f'shiptrack() {{ {PYTHON} -m shiptrack_sdk "$@"; }}\n'
            "i=0\n"
            "until [ -f sandbox.env ]; do i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.1; done\n"
            f". ./sandbox.env && shiptrack track shiplemon {SHIPLEMON_ID} --json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env(PYTHONIOENCODING="utf-8", PYTHONPATH=os.getcwd()),
    )
    try:
        with serving_sandbox("--port", "0", "--env-file", str(env_file)) as (server, lines):
            out, err = script.communicate(timeout=TIMEOUT)
            assert script.returncode == 0, err
            assert json.loads(out)[0]["shipment_id"] == SHIPLEMON_ID
            written = env_file.read_text(encoding="utf-8").splitlines()
            assert [line for line in written if not line.startswith("#")] == [
                line.rstrip("\n") for line in lines if not line.startswith("#")
            ]
            server.send_signal(signal.SIGTERM)  # as a script stops what it started
            assert server.wait(timeout=TIMEOUT) == 0
            assert server.stderr is not None
            assert server.stderr.read() == ""
        assert not env_file.exists()  # removed with the server: no stale address is left
    finally:
        if script.poll() is None:
            script.kill()
            script.communicate(timeout=TIMEOUT)


def test_an_env_file_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    result = run("sandbox", "--port", "0", "--env-file", str(tmp_path / "no-such-dir" / "x.env"))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("shiptrack: error: cannot write --env-file ")
    assert "Traceback" not in result.stderr


@posix_shell
@pytest.mark.parametrize(
    "value", ["plain", "with space", "it's", 'a "quote"', "$HOME `id` \\ ; & | * ?", "", "é ü"]
)
def test_export_lines_quote_every_value_for_the_shell(value: str, tmp_path: Path) -> None:
    from shiptrack_sdk.cli import export_lines

    (line,) = export_lines({"SHIPTRACK_TEST_VALUE": value})
    assert line.startswith("export SHIPTRACK_TEST_VALUE=")
    (tmp_path / "v.sh").write_text(line + "\n", encoding="utf-8")
    result = shell('. ./v.sh && printf %s "$SHIPTRACK_TEST_VALUE"', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == value


def test_waiting_for_the_env_file_does_not_race_a_partial_write(tmp_path: Path) -> None:
    # Written whole then renamed into place: a reader never sees half of it.
    env_file = tmp_path / "sandbox.env"
    with serving_sandbox("--port", "0", "--env-file", str(env_file)):
        deadline = time.monotonic() + TIMEOUT
        while not env_file.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        text = env_file.read_text(encoding="utf-8")
        assert text.endswith("\n")
        assert [p.name for p in tmp_path.iterdir()] == ["sandbox.env"]

"""Every ``shiptrack`` command run as a subprocess against the sandbox: demo (all providers),
track exporto, tours, tours --track, orders pull (with a checkpoint, resumed; from a time), and
the sessions the command-line page shows."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shiptrack_sdk._core.convert import parse_datetime
from shiptrack_sdk.sandbox import Sandbox
from tests.test_cli import env, run, serving_sandbox

CLI_PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.rst"


@pytest.fixture(scope="module")
def live_sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def test_demo_runs_the_main_job_across_every_provider() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "== Shiplemon: pull tracking" in out
    assert "== exporto: track the tour of" in out
    assert "shipments of the tour tracked, 0 failed" in out
    # every forwarded event was accepted by LEX, none in doubt or failed
    forwarded = next(line for line in out.splitlines() if "messages in batches of 100" in line)
    total = int(forwarded.split()[0])
    assert forwarded.endswith(f"accepted {total}")
    assert "messages drained, each once" in out
    # the watcher's section: changes seen, forwarded through the journal once
    assert "== Watching:" in out
    assert "an hour later, the next poll hands over what changed:" in out
    assert "forwarded again: 0 sent (each event once)" in out
    assert "0 changes pending" in out


def test_sandbox_environment_points_every_command_at_it(live_sb: Sandbox) -> None:
    env = live_sb.environment()
    assert {k.split("_")[1] for k in env} == {"SHIPLEMON", "EXPORTO", "LEX"}


def test_track_exporto(live_sb: Sandbox) -> None:
    exporto = live_sb.exporto_client()
    sid = exporto.tours.shipment_ids(exporto.tours.list()[0].id)[0]
    result = run("track", "exporto", sid, "--json", **live_sb.environment())
    assert result.returncode == 0, result.stderr
    [tracking] = json.loads(result.stdout)
    assert tracking["provider"] == "exporto"
    assert tracking["shipment_id"] == sid
    times = [e["occurred_at"] for e in tracking["events"]]
    assert times == sorted(times)


def test_tours_lists_a_table_and_json(live_sb: Sandbox) -> None:
    tours = live_sb.exporto_client().tours.list()
    table = run("tours", **live_sb.environment())
    assert table.returncode == 0, table.stderr
    for tour in tours:
        assert tour.id in table.stdout
    since = str(tours[-1].closing_date)
    as_json = run("tours", "--since", since, "--json", **live_sb.environment())
    assert [t["id"] for t in json.loads(as_json.stdout)] == [tours[-1].id]


def test_tours_track_tracks_every_shipment(live_sb: Sandbox) -> None:
    exporto = live_sb.exporto_client()
    last = exporto.tours.list()[-1]
    expected = set(exporto.tours.shipment_ids(last.id))
    result = run(
        "tours", "--since", str(last.closing_date), "--track", "--json", **live_sb.environment()
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["shipment_id"] for r in rows} == expected
    assert len(rows) == len(expected)
    assert all(r["error"] is None and r["tracking"]["provider"] == "exporto" for r in rows)


def test_tours_track_exits_1_when_a_shipment_fails(live_sb: Sandbox) -> None:
    exporto = live_sb.exporto_client()
    last = exporto.tours.list()[-1]
    victim = exporto.tours.shipment_ids(last.id)[0]
    live_sb.fault(f"/exporto/v1/shipment/{victim}", status=500, times=None)
    try:
        result = run("tours", "--since", str(last.closing_date), "--track", **live_sb.environment())
    finally:
        live_sb.clear_faults()
    assert result.returncode == 1
    assert "1 failed" in result.stdout
    assert "ERROR" in result.stdout


def test_orders_pull_resumes_from_its_checkpoint(live_sb: Sandbox, tmp_path: Path) -> None:
    checkpoint = tmp_path / "orders.json"
    first = run(
        "orders", "pull", "--checkpoint", str(checkpoint), "--json", **live_sb.environment()
    )
    assert first.returncode == 0, first.stderr
    ids = [json.loads(line)["messageId"] for line in first.stdout.splitlines()]
    assert ids
    assert len(ids) == len(set(ids))
    assert checkpoint.exists()
    again = run(
        "orders", "pull", "--checkpoint", str(checkpoint), "--json", **live_sb.environment()
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == ""  # nothing new since the checkpoint


def test_orders_pull_table_and_bad_since(live_sb: Sandbox) -> None:
    table = run("orders", "pull", "--fetch-size", "100", **live_sb.environment())
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["id", "type", "timestamp", "order"]
    assert table.stdout.rstrip().endswith("messages")
    naive = run("orders", "pull", "--since", "2024-09-01T00:00:00", **live_sb.environment())
    assert naive.returncode == 2
    assert "time zone" in naive.stderr


def test_orders_pull_bad_fetch_size_is_a_usage_error(live_sb: Sandbox) -> None:
    result = run("orders", "pull", "--fetch-size", "500", **live_sb.environment())
    assert result.returncode == 2
    assert "fetch_size" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_orders_pull_since_a_time(live_sb: Sandbox) -> None:
    since = "2024-09-02T08:52:00+02:00"  # 06:52 UTC, part way through the sandbox's messages
    result = run("orders", "pull", "--since", since, "--json", **live_sb.environment())
    assert result.returncode == 0, result.stderr
    pulled = [json.loads(line) for line in result.stdout.splitlines()]
    start = datetime(2024, 9, 2, 6, 52, tzinfo=timezone.utc)
    assert pulled
    assert all(parse_datetime(m["timestamp"]) >= start for m in pulled)
    everything = list(live_sb.lex_client().orders.iter_messages())
    expected = [m.id for m in everything if m.timestamp >= start]
    assert [m["messageId"] for m in pulled] == expected
    assert len(expected) < len(everything)


def documented_sessions() -> list[tuple[str, list[str]]]:
    """Each ``$ shiptrack ...`` line of the command-line page's literal blocks, with the
    lines shown under it as its output."""
    sessions: list[tuple[str, list[str]]] = []
    in_session = False
    for line in CLI_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("    $ shiptrack "):
            sessions.append((line.removeprefix("    $ "), []))
            in_session = True
        elif in_session and line.startswith("    "):
            sessions[-1][1].append(line.removeprefix("    "))
        else:
            in_session = False
    return sessions


def test_the_page_shows_sessions_to_check() -> None:
    commands = [command.split()[1] for command, _ in documented_sessions()]
    assert commands == ["sandbox", "track", "tours", "orders"]
    assert any(output for command, output in documented_sessions() if command != "sandbox")


@pytest.mark.parametrize(
    ("command", "shown"),
    [session for session in documented_sessions() if session[0].split()[1] != "sandbox"],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_documented_commands_print_what_the_page_shows(
    live_sb: Sandbox, tmp_path: Path, command: str, shown: list[str]
) -> None:
    words = shlex.split(command)
    redirected = ">" in words  # to a file: what the file gets is checked instead
    if redirected:
        words = words[: words.index(">")]
    result = run(*words[1:], cwd=tmp_path, **live_sb.environment())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    if shown:
        assert result.stdout.rstrip("\n").splitlines() == shown
    if redirected:
        lines = result.stdout.splitlines()
        assert lines
        assert all(isinstance(json.loads(line), dict) for line in lines)


def test_documented_sandbox_session() -> None:
    [(command, shown)] = [s for s in documented_sessions() if s[0].split()[1] == "sandbox"]
    assert command == "shiptrack sandbox"
    # The page shows the default port; the test takes a free one and reads it back.
    with serving_sandbox("--port", "0") as (_, lines):
        port = lines[0].rstrip().rsplit(":", 1)[1]
        printed = [line.rstrip("\n") for line in lines]
    expected = [line.replace(":8765", f":{port}") for line in shown]
    assert expected[-1].strip() == "..."  # the rest of the variables, then how to stop
    assert printed[: len(expected) - 1] == expected[:-1]
    assert printed[-1] == "# Ctrl-C to stop."


def documented_script() -> str:
    """The page's one ``.. code-block:: sh``: a script that starts the sandbox beside it."""
    lines = CLI_PAGE.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == ".. code-block:: sh"]
    assert len(starts) == 1
    block: list[str] = []
    for line in lines[starts[0] + 2 :]:
        if line and not line.startswith("    "):
            break
        block.append(line.removeprefix("    "))
    return "\n".join(block).strip() + "\n"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell")
def test_documented_script_finds_the_sandbox_through_its_env_file(tmp_path: Path) -> None:
    # ``shiptrack`` on the PATH, as installed: this Python's entry point, exec'd, so that
    # ``kill $!`` reaches the sandbox itself.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "shiptrack"
    launcher.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m shiptrack_sdk "$@"\n', encoding="utf-8"
    )
    launcher.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(  # noqa: S603 (the page's own script)
        ["/bin/sh", "-c", documented_script()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
        env=env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=os.getcwd()),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [tracking] = json.loads((work / "tracking.json").read_text(encoding="utf-8"))
    assert tracking["shipment_id"] == "6650a1f2c3d4e5f601234567"
    assert not (work / "sandbox.env").exists()  # removed when the sandbox stopped
    assert sorted(p.name for p in work.iterdir()) == ["tracking.json"]


def test_documented_missing_credential_line_is_what_is_printed(live_sb: Sandbox) -> None:
    text = CLI_PAGE.read_text(encoding="utf-8")
    [shown] = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith("shiptrack: error: the Shiplemon API key")
    ]
    variables = {k: v for k, v in live_sb.environment().items() if not k.endswith("_API_KEY")}
    result = run("track", "shiplemon", "6650a1f2c3d4e5f601234567", **variables)
    assert result.returncode == 2
    assert result.stderr.strip() == shown


# -- what the registry gives the command line -----------------------------------------------------


def test_track_offers_every_provider_that_tracks_by_id() -> None:
    from shiptrack_sdk._providers import all_specs
    from shiptrack_sdk.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands: dict[str, argparse.ArgumentParser] = subparsers.choices
    assert list(commands) == ["demo", "sandbox", "track", "tours", "orders", "lex", "watch"]
    (provider,) = [a for a in commands["track"]._actions if a.dest == "provider"]
    assert list(provider.choices or []) == sorted(s.name for s in all_specs() if s.pullable)


def test_track_reports_each_failed_id_and_tracks_the_others(
    live_sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shiptrack_sdk.cli import main

    for name, value in live_sb.environment().items():
        monkeypatch.setenv(name, value)
    code = main(["track", "shiplemon", "no-such-shipment", "6650a1f2c3d4e5f601234567", ".."])
    printed = capsys.readouterr()
    assert code == 1  # the first failure's: an API error
    assert "shiplemon  6650a1f2c3d4e5f601234567  TRANSIT" in printed.out
    first, second = printed.err.splitlines()
    assert first.startswith("shiptrack: NotFoundError: ")
    assert second.startswith("shiptrack: error: ")  # an id that cannot be a path segment
    assert main(["track", "exporto", "..", "--json"]) == 2  # a usage error, when first
    assert capsys.readouterr().out.strip() == "[]"


def _part_one(demo: Any) -> None:
    demo.out.write("one\n")
    demo.then(lambda d: d.out.write(f"last, after {len(d.trackings)} trackings\n"))


def _part_two(demo: Any) -> None:
    demo.section("two")


def test_the_demo_runs_each_registered_providers_part_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from shiptrack_sdk import cli

    parts = [
        SimpleNamespace(demo=f"{__name__}:_part_one"),
        SimpleNamespace(demo=None),
        SimpleNamespace(demo=f"{__name__}:_part_two"),
    ]
    monkeypatch.setattr(cli, "all_specs", lambda: iter(parts))
    monkeypatch.setattr(cli, "ACROSS_PROVIDERS", ())  # the parts built on every provider
    out = io.StringIO()
    cli.Demo(sandbox=None, out=out).run()
    assert out.getvalue() == "one\n\n== two\n\nlast, after 0 trackings\n"

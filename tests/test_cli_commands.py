"""Every ``shiptrack`` command run as a subprocess against the sandbox: demo (all providers),
track exporto, tours, tours --track, orders pull (with a checkpoint, resumed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiptrack_sdk.sandbox import Sandbox
from tests.test_cli import run


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

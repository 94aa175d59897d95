"""``shiptrack watch add|remove|list|run|status`` against the sandbox: output, ``--json``, exit
codes, credentials from the environment; ``run`` stopped by SIGTERM and Ctrl-C in a real
process; and the demo's watcher section."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiptrack_sdk.cli import main
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.watch import Watcher

IN_TRANSIT = "6650a1f2c3d4e5f601234567"
PROCESSED = "S-240906-1017"


@pytest.fixture
def environment(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The sandbox's ``SHIPTRACK_*`` variables, set for the command line."""
    variables = sb.environment()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "watch.sqlite")


def shiptrack(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_add_list_and_remove(store: str, environment: dict[str, str]) -> None:
    code, text = shiptrack(
        "watch", "add", "shiplemon", IN_TRANSIT, "other", "--label", "order=A-1", "--store", store
    )
    assert (code, text) == (0, "2 added, 0 already watched\n")
    code, text = shiptrack("watch", "add", "shiplemon", IN_TRANSIT, "--store", store, "--json")
    assert code == 0
    assert json.loads(text) == {"added": [], "already_watched": [IN_TRANSIT], "tours": False}
    code, text = shiptrack("watch", "list", "--store", store)
    assert code == 0
    assert text.splitlines()[0].split() == [
        "provider",
        "shipment",
        "status",
        "last",
        "poll",
        "due",
        "errors",
        "labels",
    ]
    assert f"shiplemon  {IN_TRANSIT}  NEW" in text
    assert "order=A-1" in text
    assert text.endswith("2 shipments\n")
    code, text = shiptrack("watch", "list", "--store", store, "--json", "--status", "NEW")
    listed = json.loads(text)
    assert [s["shipment_id"] for s in listed] == [IN_TRANSIT, "other"]
    assert listed[0]["labels"] == {"order": "A-1"}
    code, text = shiptrack("watch", "remove", "shiplemon", "other", "gone", "--store", store)
    assert (code, text) == (0, "1 removed, 1 not watched\n")


def test_run_once_prints_each_change_and_status_sums_up(
    store: str, environment: dict[str, str]
) -> None:
    shiptrack("watch", "add", "shiplemon", IN_TRANSIT, "missing", "--store", store)
    shiptrack("watch", "add", "exporto", PROCESSED, "--store", store)
    code, text = shiptrack("watch", "run", "--once", "--store", store)
    assert code == 0
    lines = sorted(text.splitlines())
    assert lines[0].startswith(f"exporto:{PROCESSED} new -> TRANSIT, 2 new events; latest ")
    assert lines[1].startswith(f"shiplemon:{IN_TRANSIT} new -> TRANSIT, 4 new events; latest ")
    assert lines[1].endswith(": Out for delivery")
    code, text = shiptrack("watch", "status", "--store", store)
    assert code == 0
    assert "3 shipments" in text
    assert "pending changes: 0" in text
    assert "at :05, :35 each hour" in text
    assert "shiplemon:missing  NotFoundError" in text
    code, text = shiptrack("watch", "status", "--store", store, "--json")
    status = json.loads(text)
    assert status["counts"] == {"exporto": {"TRANSIT": 1}, "shiplemon": {"NEW": 1, "TRANSIT": 1}}
    assert status["pending_changes"] == 0
    assert status["recent_errors"][0]["shipment_id"] == "missing"
    # Nothing due now: nothing printed.
    assert shiptrack("watch", "run", "--once", "--store", store, "--json") == (0, "")


def test_run_json_prints_one_change_a_line(store: str, environment: dict[str, str]) -> None:
    shiptrack("watch", "add", "shiplemon", IN_TRANSIT, "--store", store)
    code, text = shiptrack("watch", "run", "--once", "--json", "--store", store)
    assert code == 0
    [line] = text.splitlines()
    change = json.loads(line)
    assert change["shipment_id"] == IN_TRANSIT
    assert change["status_before"] is None
    assert len(change["new_events"]) == 4
    assert change["tracking"]["status"] == "TRANSIT"


def test_tours_are_followed_from_the_command_line(store: str, environment: dict[str, str]) -> None:
    code, text = shiptrack(
        "watch", "add", "exporto", "--tours", "--since", "2024-09-06", "--store", store
    )
    assert code == 0
    assert "following exporto tours closed on 2024-09-06 or later" in text
    code, text = shiptrack("watch", "run", "--once", "--json", "--store", store)
    changes = [json.loads(line) for line in text.splitlines()]
    assert len(changes) > 20
    assert {c["labels"]["tour"] for c in changes} == {"T-20240906"}


def test_usage_errors_exit_2(
    store: str, environment: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert shiptrack("watch", "list", "--store", store)[0] == 2
    assert "no watcher's store at" in capsys.readouterr().err
    assert not Path(store).exists()  # only add makes one
    assert shiptrack("watch", "add", "shiplemon", "--store", store)[0] == 2
    assert "give shipment ids, or --tours" in capsys.readouterr().err
    assert shiptrack("watch", "add", "lex", "X", "--store", store)[0] == 2
    assert "invalid choice" in capsys.readouterr().err
    assert shiptrack("watch", "add", "shiplemon", "X", "--label", "oops", "--store", store)[0] == 2
    assert shiptrack("watch", "run", "--max-wait", "0", "--store", store)[0] == 2
    assert shiptrack("watch", "add", "shiplemon", "X", "--since", "2024-09-01")[0] == 2


def test_missing_credentials_are_named_by_their_variable(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shiptrack("watch", "add", "shiplemon", IN_TRANSIT, "--store", store)[0] == 0
    assert shiptrack("watch", "run", "--once", "--store", store)[0] == 2
    err = capsys.readouterr().err
    assert "the Shiplemon API key is not set: export SHIPTRACK_SHIPLEMON_API_KEY=" in err


def test_the_store_may_come_from_the_environment(
    store: str, environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPTRACK_WATCH_STORE", store)
    assert shiptrack("watch", "add", "shiplemon", IN_TRANSIT)[0] == 0
    assert Path(store).exists()


# -- run, stopped by a signal, in a real process ----------------------------------------------


SHIPMENTS = 80


@pytest.fixture
def watched(sb: Sandbox, store: str) -> Iterator[dict[str, str]]:
    """A store of :data:`SHIPMENTS` shipments, and the environment of a process watching it;
    the sandbox takes 100 ms a call, so that a poll lasts about a second."""
    exporto = sb.apps["exporto"]
    tour = exporto.add_tour(SHIPMENTS)  # type: ignore[attr-defined]
    with Watcher(store) as watcher:
        watcher.add_many([("exporto", sid) for sid in exporto.tours[tour]["shipmentIds"]])  # type: ignore[attr-defined]
    sb.latency = 0.1
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHIPTRACK_")}
    yield {**clean, **sb.environment(), "PYTHONIOENCODING": "utf-8"}
    sb.latency = 0.0


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32", reason="POSIX")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_stops_cleanly_on_a_signal_mid_poll(
    watched: dict[str, str], store: str, sb: Sandbox, signum: signal.Signals
) -> None:
    process = subprocess.Popen(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", "watch", "run", "--json", "--store", store],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=watched,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        # The poll is in flight once the first shipment is asked for.
        while not sb.calls("/exporto/v1/shipment/*", "GET") and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signum)
        started = time.monotonic()
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert time.monotonic() - started < 10
    printed = [json.loads(line)["id"] for line in out.splitlines()]
    with Watcher(store) as watcher:
        # What was read was stored, and every change stored was handed over (acknowledged)
        # before the process left; the shipments not read yet are still due.
        assert watcher.pending() == []
        changes = watcher.store.changes()
        assert sorted(printed) == [c.id for c, _ in changes]
        polled = [s for s in watcher.shipments() if s.polled_at is not None]
        assert len(polled) == len(changes)
        assert 0 < len(polled) < SHIPMENTS
        assert watcher.status().due["exporto"] == SHIPMENTS - len(polled)


def test_run_returns_when_stopped_from_another_thread(tmp_path: Path, sb: Sandbox) -> None:
    import threading

    with Watcher(tmp_path / "w.sqlite", clients={"shiplemon": sb.client("shiplemon")}) as w:
        w.add("shiplemon", IN_TRANSIT)
        seen: list[int] = []

        def handler(change: object) -> None:
            seen.append(1)
            w.stop()

        runner = threading.Thread(target=w.run, args=(handler,), kwargs={"max_wait": 0.1})
        runner.start()
        runner.join(10)
        assert not runner.is_alive()
        assert seen == [1]


def test_the_demo_has_a_watcher_section(sb: Sandbox) -> None:
    code, text = shiptrack("demo")
    assert code == 0
    section = text[text.index("== Watching") :]
    assert "first poll: 3 shipments" in section
    assert f"shiplemon:{IN_TRANSIT} TRANSIT -> DELIVERED, 1 new event" in section
    assert f"exporto:{PROCESSED} still TRANSIT, 1 new event" in section
    assert "forwarded to LEX through the send journal: 8 accepted, 0 in doubt" in section
    assert "forwarded again: 0 sent (each event once)" in section

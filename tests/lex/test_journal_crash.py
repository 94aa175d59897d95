"""The send journal against real crashes: nothing lost, nothing sent twice.

The sandbox is served by one process (``python -m shiptrack_sdk sandbox``, with latency, so
that a kill lands in the middle of a request); a child process (forked from a server that has
the SDK imported already, so that a trial does not wait for an interpreter to start) sends
tracking messages through a journal, in small batches, and is killed with SIGKILL at a random
moment of its send. Then, as a restarted process would, this one opens the journal and sends
the same messages through it again (without ``resend_in_doubt``), and checks against what the
sandbox stored: every message was accepted exactly once, or is listed in doubt (stored once or not
at all); none was lost silently; none was stored twice; and the resume sent nothing in doubt.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from shiptrack_sdk.lex import LexClient, SendJournal
from shiptrack_sdk.lex.journal import fingerprint
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
#: Kills, one per trial.
TRIALS = 24
MESSAGES = 24
BATCH = 3
#: What the sandbox waits before answering each call: a send takes MESSAGES / BATCH of them.
LATENCY = 0.04
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)

#: What each trial found, for the summary test at the end.
OUTCOMES: dict[int, dict[str, int]] = {}


def trial_messages(trial: int) -> list[TrackingMessage]:
    """The messages of one trial: their own references, so trials never share a message."""
    return [
        TrackingMessage(
            event=ShipmentEvent("AAR", f"T{trial:02d}-{i:03d}", T0 + timedelta(seconds=i)),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        )
        for i in range(MESSAGES)
    ]


def child(path: str, trial: int, server: dict[str, str], ready: Any) -> None:
    """The sending process: through the journal, to the sandbox process."""
    journal = SendJournal(path)
    client = lex_client(server)
    client.auth.access_token()  # the token first, so the kill lands among the batches
    ready.set()
    client.tracking.send(trial_messages(trial), batch_size=BATCH, journal=journal)
    time.sleep(60)  # a kill after the send still meets a running process


@pytest.fixture(scope="module")
def forks() -> Any:
    """Where the children come from: a server process that forks them with the SDK and this
    module imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["shiptrack_sdk.lex", __name__])
    return context


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    """The sandbox in its own process; its environment for the clients."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    env = {k: v for k, v in env.items() if not k.startswith("SHIPTRACK_")}
    command = [sys.executable, "-m", "shiptrack_sdk", "sandbox", "--port", "0"]
    process = subprocess.Popen(  # noqa: S603 (this Python, the package's own entry point)
        [*command, "--latency", str(LATENCY)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        settings: dict[str, str] = {}
        while True:
            line = process.stdout.readline()
            assert line, "the sandbox stopped before it was ready"
            if "Ctrl-C" in line:
                break
            if line.startswith("export "):
                # The lines a shell sources: export NAME=value, the value quoted for it.
                name, value = shlex.split(line.removeprefix("export "))[0].split("=", 1)
                settings[name] = value
        yield {**env, **settings}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def stored(server: dict[str, str], trial: int) -> Counter[str]:
    """How many times the sandbox stored each message of the trial, by fingerprint."""
    url = server["SHIPTRACK_LEX_BASE_URL"].rstrip("/") + "/sandbox/shipment-tracking/accepted"
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    prefix = f"T{trial:02d}-"
    return Counter(
        fingerprint(m)
        for m in answer.json()["messages"]
        if m["event"]["businessReference"].startswith(prefix)
    )


def lex_client(server: dict[str, str]) -> LexClient:
    return LexClient(
        base_url=server["SHIPTRACK_LEX_BASE_URL"],
        token_url=server["SHIPTRACK_LEX_TOKEN_URL"],
        client_id=server["SHIPTRACK_LEX_CLIENT_ID"],
        client_secret=server["SHIPTRACK_LEX_CLIENT_SECRET"],
    )


@pytest.mark.parametrize("trial", range(TRIALS))
def test_killed_mid_send_then_resumed(
    forks: Any, server: dict[str, str], tmp_path: Path, trial: int
) -> None:
    rng = random.Random(f"journal-crash-{trial}")
    path = tmp_path / "sent.sqlite"
    ready = forks.Event()
    process = forks.Process(target=child, args=(str(path), trial, server, ready))
    process.start()
    assert ready.wait(60), "the child did not start"
    # Anywhere in the send: its batches take about this long.
    time.sleep(rng.uniform(0.0, (MESSAGES / BATCH) * (LATENCY + 0.01)))
    process.kill()  # SIGKILL
    process.join(10)
    assert process.exitcode == -signal.SIGKILL
    # The request the child was in may still be handled: let the server finish it.
    time.sleep(LATENCY + 0.15)

    items = trial_messages(trial)
    prints = [fingerprint(m) for m in items]
    with SendJournal(path) as journal:
        doubt = {e.fingerprint for e in journal.in_doubt()}
        before = stored(server, trial)
        accepted_before = {p for p in prints if journal.accepted(p)}
        # What the journal says was accepted, the server has, once.
        assert all(before[p] == 1 for p in accepted_before)

        report = lex_client(server).tracking.send(items, batch_size=BATCH, journal=journal)
        after = stored(server, trial)
        assert report.counts["failed"] == report.counts["not_sent"] == 0
        assert {e.fingerprint for e in journal.in_doubt()} == doubt  # the resume left them
        accepted = {p for p in prints if journal.accepted(p)}

    assert max(after.values(), default=0) <= 1, "a message was stored twice"
    for p in prints:
        if p in accepted:
            assert after[p] == 1, "accepted in the journal, not stored once"
        else:
            assert p in doubt, "lost: neither accepted nor in doubt"
            assert after[p] == before[p] <= 1, "an in-doubt message was sent again"
    assert accepted | doubt == set(prints)
    assert not accepted & doubt
    OUTCOMES[trial] = {
        "mid_send": int(accepted_before != set(prints)),
        "accepted_once": len(accepted),
        "in_doubt": len(doubt),
        "in_doubt_stored": sum(after[p] for p in doubt),
        "sent_on_resume": len(accepted - accepted_before),
        "lost": 0,
        "duplicates": 0,
    }


def sender(path: str, trial: int, server: dict[str, str], start: Any) -> None:
    """A process sending one trial's messages through a journal it shares with another."""
    journal = SendJournal(path)
    client = lex_client(server)
    client.auth.access_token()
    start.wait(30)
    client.tracking.send(trial_messages(trial), batch_size=BATCH, journal=journal)


def test_two_processes_sharing_a_journal_send_each_message_once(
    forks: Any, server: dict[str, str], tmp_path: Path
) -> None:
    trial = TRIALS  # messages of their own
    path = str(tmp_path / "shared.sqlite")
    SendJournal(path).close()
    start = forks.Event()
    processes = [forks.Process(target=sender, args=(path, trial, server, start)) for _ in range(2)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    counts = stored(server, trial)
    assert sorted(counts) == sorted(fingerprint(m) for m in trial_messages(trial))
    assert set(counts.values()) == {1}
    with SendJournal(path) as journal:
        assert journal.summary().accepted == MESSAGES
        assert journal.in_doubt() == []


def test_the_kills_landed_mid_send(capsys: Any) -> None:
    """The trials together: most kills stopped a send, and some caught a batch in flight
    (otherwise the trials proved nothing about doubt)."""
    if len(OUTCOMES) != TRIALS:
        pytest.skip("sums up the trials: run with them")
    totals = {key: sum(o[key] for o in OUTCOMES.values()) for key in next(iter(OUTCOMES.values()))}
    mid_request = sum(1 for o in OUTCOMES.values() if o["in_doubt"])
    with capsys.disabled():
        print(f"\nsend journal, {TRIALS} SIGKILLs, {mid_request} mid-request: {totals}")
    assert totals["mid_send"] >= TRIALS // 2
    assert mid_request >= 1
    assert totals["lost"] == totals["duplicates"] == 0

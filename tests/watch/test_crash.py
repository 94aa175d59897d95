"""The watcher against real crashes: a change is handed over at least once, and none already
acknowledged is handed over again.

The sandbox runs in this process; a child process (forked from a server that has the SDK
imported already, so that a trial does not wait for an interpreter to start) finds it through
the environment (:meth:`Sandbox.environment`), watches a dozen shipments in one store, polling
without pause, and hands each change to a handler that appends a line (the change's key, the
child's number, its new events) to a log file and fsyncs it before returning. This process
makes the shipments gain events, before and while each child runs, and kills the child with
SIGKILL, :data:`TRIALS` times: half of the kills at a random moment of its run, half at a random
moment of its handing changes over (once its log has grown); then one last child runs to its
end.

Then the log and the store must agree: every change stored was handed over; none was handed
over twice by one process; a change handed over twice was, the first time, the last thing its
process did before it was killed (its handler returned, its acknowledgement was not written)
and is handed over again by the next process; every event the sandbox served is in exactly one
change; nothing is left pending.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import signal
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.watch import Interval, Schedule, TrackingChange, Watcher

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

#: Kills, one per trial.
TRIALS = 24
T0 = datetime(2024, 10, 1, 8, 0, tzinfo=timezone.utc)
SHIPLEMON = [f"crash-sl-{n}" for n in range(8)]
EXPORTO = [f"crash-ex-{n}" for n in range(4)]
#: What the children find imported: the watcher and the providers it reads the specs of.
PRELOAD = ["shiptrack_sdk.watch", "shiptrack_sdk.shiplemon", "shiptrack_sdk.exporto"]
#: exporto's processing chain, one step a trial at most.
STEPS = ("processed_at", "declared_at", "carrier_received_at", "carrier_delivered_at")


def child(store: str, log: str, number: int, environment: dict[str, str], ready: Any) -> None:
    """A watching process: polls without pause; ``number`` -1 polls once and returns."""
    os.environ.update(environment)
    every_poll = Interval(timedelta(0))
    schedule = Schedule(cadences={"exporto": every_poll, "shiplemon": every_poll})
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def handler(change: TrackingChange) -> None:
        line = {
            "key": change.key,
            "child": number,
            "events": [[e.occurred_at.isoformat(), e.description] for e in change.new_events],
        }
        os.write(descriptor, (json.dumps(line) + "\n").encode())
        os.fsync(descriptor)
        time.sleep(0.002)  # a handler takes its time: kills land in it, and after it

    with Watcher(store, schedule=schedule) as watcher:
        ready.set()
        if number < 0:
            watcher.poll(handler)
        else:
            watcher.run(handler, max_wait=0.05)


class Shipments:
    """The shipments as this process makes them move on in the sandbox."""

    def __init__(self, sb: Sandbox, rng: random.Random) -> None:
        self.sb = sb
        self.rng = rng
        self.history: dict[str, list[dict[str, Any]]] = {sid: [] for sid in SHIPLEMON}
        self.steps: dict[str, int] = dict.fromkeys(EXPORTO, 0)
        for sid in SHIPLEMON:
            self.gain(sid)
        for sid in EXPORTO:
            self.step(sid)

    def gain(self, sid: str) -> None:
        n = len(self.history[sid])
        self.history[sid].append(
            {
                "status": "PRE_TRANSIT" if n == 0 else "TRANSIT",
                "at": T0 + timedelta(minutes=n),
                "details": f"{sid} step {n}",
            }
        )
        self.sb.seed("shiplemon", sid, history=self.history[sid], tracking_ref=f"REF-{sid}")

    def step(self, sid: str) -> None:
        if self.steps[sid] == len(STEPS):
            return
        self.steps[sid] += 1
        times = {name: T0 + timedelta(hours=i) for i, name in enumerate(STEPS[: self.steps[sid]])}
        self.sb.seed("exporto", sid, **times)

    def move(self) -> None:
        for sid in self.rng.sample(SHIPLEMON, 3):
            self.gain(sid)
        self.step(self.rng.choice(EXPORTO))

    def events(self) -> dict[str, set[tuple[str, str]]]:
        """Every event served, by shipment key, as (occurred_at, description)."""
        found: dict[str, set[tuple[str, str]]] = {}
        for sid, history in self.history.items():
            found[f"shiplemon:{sid}"] = {(e["at"].isoformat(), e["details"]) for e in history}
        descriptions = {}
        with self.sb.client("exporto") as exporto:
            for sid in EXPORTO:
                tracking = exporto.shipments.get(sid).to_tracking()
                descriptions[sid] = {
                    (e.occurred_at.isoformat(), e.description or "") for e in tracking.events
                }
                assert len(descriptions[sid]) == self.steps[sid]
        found.update({f"exporto:{sid}": events for sid, events in descriptions.items()})
        return found


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def test_killed_at_random_moments_nothing_is_lost_nothing_acknowledged_comes_again(
    sb: Sandbox, tmp_path: Path, capsys: Any
) -> None:
    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload([*PRELOAD, __name__])
    rng = random.Random("watch-crash")
    store, log = str(tmp_path / "watch.sqlite"), str(tmp_path / "handed.jsonl")
    shipments = Shipments(sb, rng)
    with Watcher(store) as watcher:
        watcher.add_many([("shiplemon", sid) for sid in SHIPLEMON])
        watcher.add_many([("exporto", sid) for sid in EXPORTO])
    environment = sb.environment()
    pending_at_kill = []
    started = time.monotonic()
    for trial in range(TRIALS):
        shipments.move()
        ready = forks.Event()
        process = forks.Process(target=child, args=(store, log, trial, environment, ready))
        process.start()
        assert ready.wait(30), "the child did not start"
        if trial % 2:
            # Anywhere: starting, polling, writing, handing over, waiting.
            wait = rng.uniform(0.0, 0.3)
            time.sleep(wait / 2)
            shipments.move()  # while it polls
            time.sleep(wait / 2)
        else:
            # Once it hands this trial's changes over: in a handler, or between a handler's
            # return and the acknowledgement.
            handed = _size(log)
            deadline = time.monotonic() + 10
            while _size(log) == handed and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0.0, 0.015))
        process.kill()  # SIGKILL
        process.join(10)
        assert process.exitcode == -signal.SIGKILL
        with Watcher(store) as watcher:
            pending_at_kill.append(len(watcher.pending()))
    ready = forks.Event()
    last = forks.Process(target=child, args=(store, log, -1, environment, ready))
    last.start()
    last.join(30)
    assert last.exitcode == 0
    seconds = time.monotonic() - started

    lines = [json.loads(line) for line in Path(log).read_text().splitlines()]
    by_child: dict[int, list[str]] = defaultdict(list)
    for line in lines:
        by_child[line["child"]].append(line["key"])
    with Watcher(store) as watcher:
        assert watcher.pending() == []
        stored = {change.key: change for change, delivered in watcher.store.changes()}
        assert all(delivered is not None for _, delivered in watcher.store.changes())
    handed = Counter(line["key"] for line in lines)
    # Nothing lost: every change stored was handed over; nothing handed that was not stored.
    assert set(handed) == set(stored)
    # Nothing handed over twice by one process.
    for keys in by_child.values():
        assert len(keys) == len(set(keys))
    # A change handed over again was in flight when its process was killed: the last line
    # that process wrote (its handler returned, its acknowledgement was not written); the next
    # process to hand anything over handed it over first. (It may be killed there too.)
    children = [*range(TRIALS), -1]
    writers = [c for c in children if by_child[c]]
    again = [key for key, count in handed.items() if count > 1]
    for key in again:
        seen_by = [line["child"] for line in lines if line["key"] == key]
        for earlier, later in itertools.pairwise(seen_by):
            assert by_child[earlier][-1] == key, "an acknowledged change was handed over again"
            assert writers[writers.index(earlier) + 1] == later
            assert by_child[later][0] == key
    # Every event served is in exactly one change.
    events: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in stored:
        line = next(line for line in lines if line["key"] == key)
        shipment = key.rpartition("#")[0]
        events[shipment] += [tuple(e) for e in line["events"]]
    served = shipments.events()
    for shipment, seen in events.items():
        assert len(seen) == len(set(seen)), f"{shipment}: an event in two changes"
        assert set(seen) == served[shipment], f"{shipment}: events lost or invented"
    assert set(events) == set(served)
    with capsys.disabled():
        print(
            f"\nwatcher, {TRIALS} SIGKILLs in {seconds:.1f} s: {len(stored)} changes, "
            f"{len(lines)} handed over, {len(again)} again after a kill, "
            f"{sum(1 for p in pending_at_kill if p)} kills left changes pending"
        )
    # The kills landed in the work: some left changes pending, for the next process.
    assert sum(1 for p in pending_at_kill if p) >= 1

"""De-duplication stores: the claim/complete/release protocol, leases, the SQLite store across
threads, processes (four receivers at once, one killed mid-claim) and restarts."""

from __future__ import annotations

import collections
import contextlib
import json
import multiprocessing
import os
import pickle
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.lex import BusinessMessage
from shiptrack_sdk.lex._sandbox_orders import MessageGenerator, OrdersPart
from shiptrack_sdk.lex._sandbox_push import push_copies
from shiptrack_sdk.lex.push import (
    Claim,
    DedupStore,
    DeliveryInFlightError,
    DuplicateDeliveryError,
    InMemoryDedupStore,
    PushReceiver,
    PushServer,
    PushWSGIApp,
    SQLiteDedupStore,
    StaticTokenVerifier,
)
from shiptrack_sdk.sandbox import Sandbox

TOKEN = "push-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "push-dedup.sqlite3"


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, sqlite_path: Path) -> Iterator[Callable[..., Any]]:
    """Builds the store under test (both kinds), closing the SQLite ones afterwards."""
    opened: list[SQLiteDedupStore] = []

    def make(**options: Any) -> Any:
        if request.param == "memory":
            options.pop("retention_days", None)
            return InMemoryDedupStore(**options)
        store = SQLiteDedupStore(sqlite_path, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def body(count: int, start: int = 0) -> bytes:
    generator = MessageGenerator(1_000)
    return json.dumps([generator.message(i) for i in range(start, start + count)]).encode()


# -- the protocol, for each store --------------------------------------------------------------


def test_a_claim_is_new_then_in_flight_then_done(make_store: Callable[..., Any]) -> None:
    store = make_store()
    protocol: object = store
    assert isinstance(protocol, DedupStore)
    assert store.claim("m1") is Claim.NEW
    assert store.claim("m1") is Claim.IN_FLIGHT
    assert not store.seen("m1")
    store.complete("m1")
    assert store.claim("m1") is Claim.DONE
    assert store.seen("m1")
    store.release("m1")  # a handled message stays handled
    assert store.claim("m1") is Claim.DONE
    assert len(store) == 1


def test_a_released_claim_is_new_again(make_store: Callable[..., Any]) -> None:
    store = make_store()
    assert store.claim("m1") is Claim.NEW
    store.release("m1")
    assert store.claim("m1") is Claim.NEW
    store.release("never-claimed")  # nothing to release: fine


def test_a_claim_ends_with_its_lease(make_store: Callable[..., Any]) -> None:
    store = make_store(lease=0.2)
    assert store.claim("m1") is Claim.NEW
    assert store.claim("m1") is Claim.IN_FLIGHT
    time.sleep(0.3)  # its worker crashed: nobody completed or released it
    assert store.claim("m1") is Claim.NEW
    assert store.claim("m1") is Claim.IN_FLIGHT


def test_add_records_a_key_as_handled(make_store: Callable[..., Any]) -> None:
    store = make_store()
    store.add("imported")
    assert store.claim("imported") is Claim.DONE


def test_threads_claiming_together_get_one_new(make_store: Callable[..., Any]) -> None:
    store = make_store()
    answers: list[Claim] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait(5)
        answers.append(store.claim("contended"))

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert collections.Counter(answers) == {Claim.NEW: 1, Claim.IN_FLIGHT: 15}


@pytest.mark.parametrize("key", [None, "", 1, b"k", ["k"], "a\ud800"])
def test_keys_must_be_text(make_store: Callable[..., Any], key: Any) -> None:
    store = make_store()
    for method in (store.claim, store.complete, store.release, store.seen):
        with pytest.raises(ValidationError) as info:
            method(key)
        assert info.value.argument == "key"


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"lease": 0}, "lease"),
        ({"lease": float("nan")}, "lease"),
        ({"max_entries": 0}, "max_entries"),
    ],
)
def test_store_settings_are_checked(
    make_store: Callable[..., Any], options: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        make_store(**options)
    assert info.value.argument == argument


# -- the receiver over a store -----------------------------------------------------------------


def test_a_custom_store_may_answer_the_claims_values() -> None:
    class TextStore:
        """As a Redis store would be written: its answers are the claims' values."""

        def __init__(self) -> None:
            self.state: dict[str, str] = {}

        def claim(self, key: str) -> str:
            if key in self.state:
                return self.state[key]
            self.state[key] = "in_flight"
            return "new"

        def complete(self, key: str) -> None:
            self.state[key] = "done"

        def release(self, key: str) -> None:
            self.state.pop(key, None)

    receiver = PushReceiver(
        verifier=StaticTokenVerifier(TOKEN),
        dedup_store=TextStore(),  # type: ignore[arg-type]  # answers str, not Claim
    )
    handled: list[list[BusinessMessage]] = []
    assert receiver.handle(AUTH, body(2), handled.append).body["status"] == "accepted"
    assert receiver.handle(AUTH, body(2), handled.append).body["status"] == "duplicate"
    assert len(handled) == 1


def test_overlapping_deliveries_in_flight_together_never_both_wait(
    make_store: Callable[..., Any],
) -> None:
    store = make_store()
    receiver = PushReceiver(verifier=StaticTokenVerifier(TOKEN), dedup_store=store)
    first = receiver.receive(AUTH, body(4))  # 0-3, held
    with pytest.raises(DeliveryInFlightError):
        receiver.receive(AUTH, body(4, start=2))  # 2-5: 2 and 3 are in flight
    # The refused copy released what it had claimed (4 and 5): they are free.
    assert store.claim("LEX-000000004") is Claim.NEW
    store.release("LEX-000000004")
    receiver.mark_processed(first)
    assert [m.id for m in receiver.receive(AUTH, body(4, start=2))] == [
        "LEX-000000004",
        "LEX-000000005",
    ]
    with pytest.raises(DuplicateDeliveryError):
        receiver.receive(AUTH, body(2))


def test_the_in_flight_answer_carries_retry_after(make_store: Callable[..., Any]) -> None:
    store = make_store()
    receiver = PushReceiver(
        verifier=StaticTokenVerifier(TOKEN), dedup_store=store, in_flight_retry_after=3
    )
    assert store.claim("LEX-000000001") is Claim.NEW  # another worker has it
    answer = receiver.handle(AUTH, body(3), lambda messages: None)
    assert (answer.status, answer.body["error"], answer.headers) == (
        503,
        "in_flight",
        {"Retry-After": "3"},
    )
    assert store.claim("LEX-000000000") is Claim.NEW  # released by the refused copy


# -- SQLite: restarts, retention, processes ----------------------------------------------------


def test_sqlite_keeps_handled_keys_across_restarts(sqlite_path: Path) -> None:
    store = SQLiteDedupStore(sqlite_path)
    assert store.claim("m1") is Claim.NEW
    store.complete("m1")
    assert store.claim("m2") is Claim.NEW  # in flight when the process "stops"
    store.close()
    again = SQLiteDedupStore(sqlite_path)
    try:
        assert again.claim("m1") is Claim.DONE
        assert again.claim("m2") is Claim.IN_FLIGHT  # until its lease ends
        with contextlib.closing(sqlite3.connect(sqlite_path)) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        again.close()


def test_sqlite_forgets_keys_past_retention_and_beyond_max_entries(sqlite_path: Path) -> None:
    store = SQLiteDedupStore(sqlite_path, max_entries=3, lease=0.05)
    try:
        for key in "abcde":
            store.claim(key)
            store.complete(key)
            time.sleep(0.002)  # distinct completion times
        assert store.claim("stale") is Claim.NEW
        assert store.prune() == 2  # the two oldest handled keys
        assert len(store) == 3
        assert [store.seen(k) for k in "abcde"] == [False, False, True, True, True]
        short = SQLiteDedupStore(sqlite_path, retention_days=0.1 / 86_400, lease=0.05)
        try:
            time.sleep(0.2)
            assert short.prune() == 4  # every handled key, and the claim whose lease ended
            assert len(short) == 0
        finally:
            short.close()
    finally:
        store.close()


def test_sqlite_store_pickles_as_its_settings(sqlite_path: Path) -> None:
    store = SQLiteDedupStore(sqlite_path, lease=12.0, max_entries=7)
    store.claim("k")
    copy = pickle.loads(pickle.dumps(store))  # noqa: S301 (our own bytes)
    try:
        assert (copy.path, copy.lease, copy.max_entries) == (store.path, 12.0, 7)
        assert copy.claim("k") is Claim.IN_FLIGHT
        assert "SQLiteDedupStore(" in repr(copy)
    finally:
        copy.close()
        store.close()


def test_sqlite_path_is_checked(tmp_path: Path) -> None:
    for path in (None, "", b"x.db", 3):
        with pytest.raises(ValidationError) as info:
            SQLiteDedupStore(path)  # type: ignore[arg-type]
        assert info.value.argument == "path"
    with pytest.raises(sqlite3.OperationalError):
        SQLiteDedupStore(tmp_path / "missing-directory" / "x.db")


def _hold_a_claim(path: str, key: str, lease: float, ready: Any) -> None:
    store = SQLiteDedupStore(path, lease=lease)
    assert store.claim(key) is Claim.NEW
    ready.set()
    time.sleep(60)  # killed here, its claim neither completed nor released


def test_a_killed_worker_holds_its_claim_only_until_its_lease_ends(sqlite_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    worker = context.Process(target=_hold_a_claim, args=(str(sqlite_path), "m1", 1.5, ready))
    worker.start()
    try:
        assert ready.wait(30)
        os.kill(worker.pid or 0, signal.SIGKILL)
        worker.join(10)
        store = SQLiteDedupStore(sqlite_path)
        try:
            assert store.claim("m1") is Claim.IN_FLIGHT
            time.sleep(1.6)
            assert store.claim("m1") is Claim.NEW
        finally:
            store.close()
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join(5)


def test_a_forked_worker_opens_its_own_connection(sqlite_path: Path) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    store = SQLiteDedupStore(sqlite_path)  # opened before the fork, as with gunicorn --preload
    store.claim("parent")
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    with _quiet_fork_warning():
        child = context.Process(target=_claim_in_child, args=(store, results))
        child.start()
    try:
        assert results.get(timeout=30) == ("in_flight", "new")
        child.join(10)
        assert child.exitcode == 0
        assert store.claim("child") is Claim.IN_FLIGHT
    finally:
        store.close()


def _claim_in_child(store: SQLiteDedupStore, results: Any) -> None:
    results.put((store.claim("parent").value, store.claim("child").value))


@contextlib.contextmanager
def _quiet_fork_warning() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock; the child
        # here only opens the database and answers.
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# -- four worker processes receiving the same deliveries at once -------------------------------


def _receive_in_process(path: str, out: str, ports: Any, stop: Any) -> None:
    """A worker process: a waitress server over the shared SQLite store; its handler writes
    each message id it is given to ``out``."""
    lock = threading.Lock()

    def handler(messages: list[BusinessMessage]) -> None:
        time.sleep(0.05)  # long enough for the other copies to arrive meanwhile
        with lock, open(out, "a", encoding="utf-8") as file:
            file.writelines(f"{m.id}\n" for m in messages)

    store = SQLiteDedupStore(path)
    receiver = PushReceiver(
        verifier=StaticTokenVerifier(TOKEN), dedup_store=store, in_flight_retry_after=1
    )
    server = PushServer(PushWSGIApp(receiver, handler), port=0, threads=4).start()
    ports.put(server.port)
    stop.wait(120)
    server.stop()
    store.close()


@pytest.mark.slow
def test_four_processes_receiving_the_same_deliveries_handle_each_message_once(
    sb: Sandbox, tmp_path: Path, sqlite_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    stop = context.Event()
    outputs = [tmp_path / f"handled-{n}.txt" for n in range(4)]
    workers = [
        context.Process(target=_receive_in_process, args=(str(sqlite_path), str(out), ports, stop))
        for out in outputs
    ]
    for worker in workers:
        worker.start()
    try:
        urls = [f"http://127.0.0.1:{ports.get(timeout=60)}/lex/push" for _ in workers]
        orders = cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]
        # 12 deliveries of 10 messages, each overlapping the next by 5, each delivered 8
        # times at once (twice to each process); a copy told "in flight" is delivered again,
        # as LEX would, until it is answered 200.
        answers: collections.Counter[tuple[int | None, str]] = collections.Counter()
        began = time.monotonic()
        for delivery in range(12):
            pending = 8
            while pending and time.monotonic() - began < 60:
                outcomes = push_copies(
                    orders, urls, copies=pending, count=10, start=5 * delivery, token=TOKEN
                )
                for outcome in outcomes:
                    answers[(outcome.status, _kind(outcome.body))] += 1
                pending = sum(1 for o in outcomes if o.status != 200)
                if pending:
                    time.sleep(0.05)
            assert pending == 0
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
            if worker.is_alive():
                worker.kill()
    handled = collections.Counter(
        line for out in outputs if out.exists() for line in out.read_text().split()
    )
    expected = list(orders.generator.ids(0, 65))
    assert sorted(handled) == sorted(expected)
    assert set(handled.values()) == {1}, [k for k, v in handled.items() if v > 1]
    assert all(worker.exitcode == 0 for worker in workers)
    # Each delivery was accepted once; every other copy was a duplicate or told to retry.
    assert answers[(200, "accepted")] == 12
    assert set(answers) <= {(200, "accepted"), (200, "duplicate"), (503, "in_flight")}


def _kind(answer: Any) -> str:
    if not isinstance(answer, dict):
        return repr(answer)
    return str(answer.get("error") or answer.get("status"))

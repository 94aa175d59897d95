"""The send journal (``shiptrack_sdk.lex.journal``): what it records and when, what a send
through it skips, what is in doubt, and the command that shows it. Over real HTTP against the
sandbox; the crash test, with real processes, is ``test_journal_crash.py``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk import TransportError, ValidationError
from shiptrack_sdk.lex import BusinessMessage, SendJournal, SendOutcome
from shiptrack_sdk.lex.journal import (
    JournalEntry,
    JournalError,
    MessageInDoubtError,
    fingerprint,
)
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
PATH = "/lex/lex-shipmenttracking-v1/shipment-tracking"
ORDERS = "/lex/lex-orderexecution-v1/*"
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)


def messages(count: int, *, prefix: str = "R") -> list[TrackingMessage]:
    return [
        TrackingMessage(
            event=ShipmentEvent("AAR", f"{prefix}{i:05d}", T0 + timedelta(seconds=i)),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        )
        for i in range(count)
    ]


def refs(sb: Sandbox) -> list[str]:
    return sb.apps["lex"].tracking.references()  # type: ignore[attr-defined, no-any-return]


def posts(sb: Sandbox, path: str = PATH) -> int:
    return len(sb.calls(path, "POST"))


@pytest.fixture
def journal(tmp_path: Path) -> Any:
    with SendJournal(tmp_path / "sent.sqlite") as opened:
        yield opened


def states_on_disk(path: str) -> list[tuple[str, str]]:
    """Batches and their states as another connection sees them: what survives a crash."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT kind, state FROM batches ORDER BY id").fetchall()


# -- the file -----------------------------------------------------------------------------------


def test_one_sqlite_file_in_wal_mode_written_with_full_sync(journal: SendJournal) -> None:
    with sqlite3.connect(journal.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA application_id").fetchone()[0] == 0x53544A4E
        tables = {row[0] for row in other.execute("SELECT name FROM sqlite_master")}
    assert {"batches", "messages"} <= tables
    db = journal._store._db
    assert db is not None
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_reopened_after_close_it_has_everything(sb: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with SendJournal(path) as journal:
        assert sb.lex_client().tracking.send(messages(5), journal=journal).ok
    assert repr(journal).endswith("(closed)>")
    with pytest.raises(JournalError, match="closed"):
        journal.summary()
    again = SendJournal(path, create=False)
    assert again.summary().accepted == 5
    assert all(again.accepted(m) for m in messages(5))
    again.close()
    again.close()  # closing twice is fine


def test_what_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no such send journal"):
        SendJournal(tmp_path / "missing.sqlite", create=False)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError, match="not a send journal"):
        SendJournal(garbage)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(JournalError, match="not a send journal"):
        SendJournal(other)
    newer = tmp_path / "newer.sqlite"
    SendJournal(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(JournalError, match="newer version"):
        SendJournal(newer)
    for path in ("", ":memory:"):
        with pytest.raises(ValidationError):
            SendJournal(path)


def test_the_journal_argument_is_checked(sb: Sandbox) -> None:
    client = sb.lex_client()
    with pytest.raises(ValidationError, match="SendJournal"):
        client.tracking.send(messages(1), journal="sent.sqlite")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="resend_in_doubt needs one"):
        client.tracking.send(messages(1), resend_in_doubt=True)
    with pytest.raises(ValidationError, match="SendJournal"):
        client.orders.send(order("Z1"), journal="sent.sqlite")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="resend_in_doubt needs one"):
        client.orders.send(order("Z1"), resend_in_doubt=True)
    assert sb.calls() == []


# -- fingerprints -------------------------------------------------------------------------------


def test_fingerprint_is_sha256_of_the_canonical_wire_json() -> None:
    import hashlib

    message = messages(1)[0]
    wire = message.to_wire()
    canonical = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert fingerprint(message) == hashlib.sha256(canonical.encode()).hexdigest()
    assert fingerprint(wire) == fingerprint(message)
    # The same instant in another zone is the same message on the wire.
    paris = timezone(timedelta(hours=2))
    shifted = TrackingMessage(
        event=ShipmentEvent("AAR", "R00000", T0.astimezone(paris)),
        carrier=Carrier(id="TRANSPES"),
        sender=Party(id="TELIAE-ES"),
    )
    assert fingerprint(shifted) == fingerprint(message)
    assert fingerprint(messages(2)[1]) != fingerprint(message)
    with pytest.raises(ValidationError):
        fingerprint(42)  # type: ignore[arg-type]


def test_fingerprints_are_stable_across_processes() -> None:
    script = (
        "import json, sys; from tests.lex.test_journal import messages; "
        "from shiptrack_sdk.lex.journal import fingerprint; "
        "print(json.dumps([fingerprint(m) for m in messages(20)]))"
    )
    here = [fingerprint(m) for m in messages(20)]
    for seed in ("0", "12345"):
        done = subprocess.run(  # noqa: S603 - this interpreter, code written here
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONHASHSEED": seed, "PATH": "", "NO_PROXY": "*"},
            check=True,
        )
        assert json.loads(done.stdout) == here


# -- what is recorded, and when ------------------------------------------------------------------


def test_each_batch_is_on_disk_as_pending_before_its_post_leaves(
    sb: Sandbox, journal: SendJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sb.lex_client()
    real = client._transport.request
    seen: list[list[tuple[str, str]]] = []

    def request(method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "POST":
            seen.append(states_on_disk(journal.path))
            if len(seen) == 2:  # the second batch reaches the server, its answer is lost
                real(method, *args, **kwargs)
                raise TransportError("read timed out", may_have_reached_server=True)
        return real(method, *args, **kwargs)

    monkeypatch.setattr(client._transport, "request", request)
    report = client.tracking.send(messages(30), batch_size=10, journal=journal)

    assert seen == [
        [("tracking", "pending")],
        [("tracking", "accepted"), ("tracking", "pending")],
        [("tracking", "accepted"), ("tracking", "in_doubt"), ("tracking", "pending")],
    ]
    assert states_on_disk(journal.path)[-1] == ("tracking", "accepted")
    assert [b.outcome for b in report.batches] == [
        SendOutcome.ACCEPTED,
        SendOutcome.IN_DOUBT,
        SendOutcome.ACCEPTED,
    ]
    assert [b.journal_batch for b in report.batches] == [1, 2, 3]
    doubt = journal.in_doubt()
    assert [e.fingerprint for e in doubt] == [fingerprint(m) for m in messages(30)[10:20]]
    assert {e.state for e in doubt} == {"in_doubt"}
    assert "TransportError: read timed out" in str(doubt[0].error)


def test_a_batch_left_pending_by_a_crash_is_in_doubt_when_reopened(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite"
    journal = SendJournal(path)
    calls = 0
    real_finish = journal._store.finish

    def finish(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls >= 2:  # the process dies after the POST, before the outcome is written
            raise SystemExit
        real_finish(*args, **kwargs)

    monkeypatch.setattr(journal._store, "finish", finish)
    with pytest.raises(SystemExit):
        sb.lex_client().tracking.send(messages(30), batch_size=10, journal=journal)
    journal._store._db.close()  # type: ignore[union-attr]  # no clean close: the process died

    reopened = SendJournal(path)
    summary = reopened.summary()
    assert (summary.accepted, summary.in_doubt, summary.pending) == (10, 10, 10)
    doubt = reopened.in_doubt()
    assert [e.state for e in doubt] == ["pending"] * 10
    assert [e.position for e in doubt] == list(range(10))
    assert [e.message() for e in doubt] == messages(30)[10:20]
    # Resumed: the rest goes, the in-doubt batch does not (it was stored, in fact).
    report = sb.lex_client().tracking.send(messages(30), batch_size=10, journal=reopened)
    assert report.counts == {"accepted": 20, "failed": 0, "in_doubt": 10, "not_sent": 0}
    assert sorted(refs(sb)) == sorted(m.event.business_reference for m in messages(30))
    reopened.close()


def test_in_doubt_lists_exactly_the_messages_in_doubt(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(40)

    def progress(done: int, total: int | None) -> None:
        if done == 10:
            sb.fault(PATH, method="POST", status=503, times=1, after=True)
        if done == 20:
            sb.fault(PATH, method="POST", status=400, times=1)

    report = client.tracking.send(items, batch_size=10, journal=journal, progress=progress)
    assert [b.outcome.value for b in report.batches] == [
        "accepted",
        "in_doubt",
        "failed",
        "accepted",
    ]
    doubt = journal.in_doubt()
    assert [e.message() for e in doubt] == items[10:20]
    assert all(isinstance(e, JournalEntry) and e.kind == "tracking" for e in doubt)
    summary = journal.summary()
    assert (summary.accepted, summary.failed, summary.in_doubt, summary.pending) == (20, 10, 10, 0)
    assert summary.batches == {"accepted": 2, "failed": 1, "in_doubt": 1, "pending": 0}
    assert not journal.accepted(items[15])
    entry = journal.entry(items[25])
    assert entry is not None
    assert entry.state == "failed"
    assert journal.entry(messages(1, prefix="X")[0]) is None


# -- a send through the journal ------------------------------------------------------------------


def test_what_was_accepted_is_not_sent_again(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client()
    items = messages(25)
    assert client.tracking.send(items[:15], batch_size=10, journal=journal).ok
    assert posts(sb) == 2

    report = client.tracking.send(items, batch_size=10, journal=journal)
    assert report.ok
    assert posts(sb) == 3  # only the ten new ones, in one batch
    assert refs(sb) == [m.event.business_reference for m in items]
    assert [r.index for r in report.skipped] == list(range(15))
    assert [r.index for r in report.accepted] == list(range(15, 25)) + list(range(15))
    assert repr(report) == (
        "SendReport(accepted=25, failed=0, in_doubt=0, not_sent=0, batches=1, skipped=15)"
    )
    sent, skipped = report.batches
    assert (sent.skipped, sent.indexes, sent.size) == (False, tuple(range(15, 25)), 10)
    assert (skipped.skipped, skipped.status, skipped.error) == (True, None, None)
    assert all(journal.accepted(fingerprint(m)) for m in items)

    again = client.tracking.send(items, journal=journal)
    assert again.ok
    assert posts(sb) == 3


def test_full_batches_around_what_is_skipped(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client()
    items = messages(40)
    client.tracking.send(items[::2], batch_size=10, journal=journal)  # every other one
    report = client.tracking.send(items, batch_size=10, journal=journal)
    assert [b.size for b in report.batches if not b.skipped] == [10, 10]
    assert report.batches[0].indexes == tuple(range(1, 21, 2))
    assert sorted(refs(sb)) == sorted(m.event.business_reference for m in items)


def test_a_message_twice_in_one_list_is_sent_once(sb: Sandbox, journal: SendJournal) -> None:
    items = messages(5)
    report = sb.lex_client().tracking.send([*items, items[1], items[1]], journal=journal)
    assert report.ok
    assert refs(sb) == [m.event.business_reference for m in items]
    assert [r.index for r in report.skipped] == [5, 6]


def test_what_is_in_doubt_is_not_sent_again_unless_asked(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(20)
    sb.fault(PATH, method="POST", status=502, times=1)  # refused by a gateway: not stored
    first = client.tracking.send(items, batch_size=10, journal=journal)
    assert first.counts["in_doubt"] == 10

    second = client.tracking.send(items, batch_size=10, journal=journal)
    assert second.counts == {"accepted": 10, "failed": 0, "in_doubt": 10, "not_sent": 0}
    assert sorted(r.index for r in second.skipped) == list(range(20))
    assert [r.index for r in second.in_doubt] == list(range(10))
    assert second.safe_to_resend() == []
    assert posts(sb) == 2  # nothing sent

    # Asked to: the in-doubt ones go again (the caller checked: the gateway stored nothing).
    third = client.tracking.send(items, journal=journal, resend_in_doubt=True)
    assert third.ok
    assert refs(sb) == [m.event.business_reference for m in items[10:] + items[:10]]
    assert journal.in_doubt() == []
    entry = journal.entry(items[0])
    assert entry is not None
    assert entry.attempts == 2


def test_a_refusal_after_an_attempt_in_doubt_stays_in_doubt(
    sb: Sandbox, journal: SendJournal
) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(3)
    sb.fault(PATH, method="POST", status=500, times=1, after=True)  # stored, then a 500
    client.tracking.send(items, journal=journal)
    sb.fault(PATH, method="POST", status=409, times=1)
    report = client.tracking.send(items, journal=journal, resend_in_doubt=True)
    assert report.counts["failed"] == 3
    # The first attempt may be stored: a refusal of the second does not settle that.
    assert [e.state for e in journal.in_doubt()] == ["in_doubt"] * 3


def test_resolve_settles_in_doubt_messages(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(20)
    sb.fault(PATH, method="POST", status=503, times=2)
    client.tracking.send(items, batch_size=10, journal=journal)
    doubt = journal.in_doubt()
    assert len(doubt) == 20

    # Michelin says: the first ten were stored, the others were not.
    assert journal.resolve(doubt[:10], accepted=True) == 10
    assert journal.resolve([e.fingerprint for e in doubt[10:]], accepted=False) == 10
    assert journal.resolve(doubt, accepted=True) == 0  # nothing left in doubt
    assert all(journal.accepted(m) for m in items[:10])
    assert journal.summary().failed == 10

    report = client.tracking.send(items, journal=journal)
    assert report.ok
    assert refs(sb) == [m.event.business_reference for m in items[10:]]
    with pytest.raises(ValidationError):
        journal.resolve(doubt, accepted="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        journal.resolve([42], accepted=True)  # type: ignore[list-item]


def test_an_interrupted_send_leaves_its_batch_in_doubt_in_the_journal(
    sb: Sandbox, journal: SendJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sb.lex_client()
    real = client._transport.request
    posted = 0

    def request(method: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal posted
        response = real(method, *args, **kwargs)
        if method == "POST":
            posted += 1
            if posted == 2:
                raise KeyboardInterrupt
        return response

    monkeypatch.setattr(client._transport, "request", request)
    with pytest.raises(KeyboardInterrupt) as info:
        client.tracking.send(messages(30), batch_size=10, journal=journal)
    report = info.value.shiptrack_report  # type: ignore[attr-defined]
    assert [b.outcome.value for b in report.batches] == ["accepted", "in_doubt", "not_sent"]
    assert report.batches[1].journal_batch == 2
    doubt = journal.in_doubt()
    assert len(doubt) == 10
    assert doubt[0].error == "interrupted (KeyboardInterrupt)"
    assert journal.entry(messages(30)[25]) is None  # never given to the journal: not sent


def test_threads_sharing_a_journal_send_each_message_once(
    sb: Sandbox, journal: SendJournal
) -> None:
    sb.latency = 0.01
    items = messages(60)
    reports: list[Any] = []

    def send() -> None:
        reports.append(sb.lex_client().tracking.send(items, batch_size=5, journal=journal))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = refs(sb)
    assert sorted(stored) == sorted(m.event.business_reference for m in items)
    assert journal.summary().accepted == 60
    # A message another thread had in flight is reported in doubt, never sent twice.
    assert all(r.counts["failed"] == r.counts["not_sent"] == 0 for r in reports)


def test_no_secret_in_the_journal(sb: Sandbox, journal: SendJournal) -> None:
    secret = "wrong-secret-3f9a1c"
    report = sb.lex_client(client_secret=secret).tracking.send(messages(3), journal=journal)
    assert report.counts["failed"] == 3
    entry = journal.entry(messages(3)[0])
    assert entry is not None
    assert entry.state == "failed"
    assert "TokenRefusedError" in str(entry.error)
    journal.close()
    data = b"".join(p.read_bytes() for p in Path(journal.path).parent.glob("sent.sqlite*"))
    assert secret.encode() not in data


# -- Order Execution ---------------------------------------------------------------------------


def order(number: str, *, id: str | None = None) -> BusinessMessage:
    return BusinessMessage.create(
        "SHIPMENT_ORDER", {"orderNumber": number}, id=id or f"MSG-{number}", timestamp=T0
    )


def received(sb: Sandbox) -> list[str]:
    return [m["messageId"] for m in sb.apps["lex"].orders.received]  # type: ignore[attr-defined]


def test_an_order_message_accepted_is_not_posted_again(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client()
    first = client.orders.send(order("A1"), journal=journal)
    assert (first.id, first.status) == ("MSG-A1", "ACCEPTED")
    # The same message again, or another with the same id: LEX knows it by its id.
    assert client.orders.send(order("A1"), journal=journal) == first
    assert client.orders.send(order("CHANGED", id="MSG-A1"), journal=journal) == first
    assert client.orders.send(order("A1").to_wire(), journal=journal) == first
    assert posts(sb, ORDERS) == 1
    assert received(sb) == ["MSG-A1"]
    assert journal.accepted(order("A1"))
    entry = journal.entry(order("A1"))
    assert entry is not None
    assert (entry.kind, entry.message_id, entry.attempts) == ("orders", "MSG-A1", 1)


def test_an_order_message_in_doubt_is_not_posted_unless_asked(
    sb: Sandbox, journal: SendJournal
) -> None:
    client = sb.lex_client(max_retries=0)
    sb.fault(ORDERS, method="POST", status=504, times=1)
    with pytest.raises(Exception, match="504"):
        client.orders.send(order("B1"), journal=journal)
    with pytest.raises(MessageInDoubtError) as info:
        client.orders.send(order("B1"), journal=journal)
    assert info.value.entry.message_id == "MSG-B1"
    assert "MSG-B1" in str(info.value)
    assert [e.message_id for e in journal.in_doubt()] == ["MSG-B1"]
    rebuilt = journal.in_doubt()[0].message()
    assert isinstance(rebuilt, BusinessMessage)
    assert rebuilt.id == "MSG-B1"
    assert posts(sb, ORDERS) == 1

    result = client.orders.send(order("B1"), journal=journal, resend_in_doubt=True)
    assert result.status == "ACCEPTED"
    assert received(sb) == ["MSG-B1"]
    assert journal.in_doubt() == []


def test_an_order_message_refused_is_failed_and_posted_next_time(
    sb: Sandbox, journal: SendJournal
) -> None:
    client = sb.lex_client(max_retries=0)
    sb.fault(ORDERS, method="POST", status=422, times=1)
    with pytest.raises(Exception, match="422"):
        client.orders.send(order("C1"), journal=journal)
    entry = journal.entry(order("C1"))
    assert entry is not None
    assert entry.state == "failed"
    assert client.orders.send(order("C1"), journal=journal).status == "ACCEPTED"
    assert received(sb) == ["MSG-C1"]
    with pytest.raises(ValidationError):
        client.orders.send(order("C2"), journal=journal, timeout=-1)
    assert journal.entry(order("C2")) is None


# -- the command line ---------------------------------------------------------------------------


def shiptrack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (this Python, the package's own entry point)
        [sys.executable, "-m", "shiptrack_sdk", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_shows_a_journal(sb: Sandbox, journal: SendJournal) -> None:
    client = sb.lex_client(max_retries=0)
    sb.fault(PATH, method="POST", status=503, times=1)
    client.tracking.send(messages(15), batch_size=10, journal=journal)

    shown = shiptrack("lex", "journal", journal.path)
    assert shown.returncode == 0, shown.stderr
    assert "messages: 5 accepted, 0 failed, 10 in doubt (0 pending)" in shown.stdout
    assert "batches: 1 accepted, 0 failed, 1 in doubt, 0 pending" in shown.stdout
    assert "10 message(s) in doubt" in shown.stdout
    assert fingerprint(messages(15)[0]) in shown.stdout
    assert "AAR R00000 2024-05-14T06:00:00.000Z" in shown.stdout

    as_json = shiptrack("lex", "journal", journal.path, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["summary"]["in_doubt"] == 10
    assert [e["fingerprint"] for e in data["in_doubt"]] == [
        fingerprint(m) for m in messages(15)[:10]
    ]
    assert data["in_doubt"][0]["wire"] == messages(1)[0].to_wire()

    missing = shiptrack("lex", "journal", str(Path(journal.path).parent / "nope.sqlite"))
    assert missing.returncode == 2
    assert "no such send journal" in missing.stderr
    assert not (Path(journal.path).parent / "nope.sqlite").exists()


def test_an_order_message_settled_as_stored_is_not_posted(
    sb: Sandbox, journal: SendJournal
) -> None:
    client = sb.lex_client(max_retries=0)
    sb.fault(ORDERS, method="POST", status=500, times=1, after=True)  # stored, then a 500
    with pytest.raises(Exception, match="500"):
        client.orders.send(order("D1"), journal=journal)
    assert journal.resolve(journal.in_doubt(), accepted=True) == 1
    result = client.orders.send(order("D1"), journal=journal)
    assert (result.id, result.status) == (None, None)  # no answer was kept: none is made up
    assert received(sb) == ["MSG-D1"]
    assert posts(sb, ORDERS) == 1

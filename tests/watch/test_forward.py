"""Forwarding to LEX over real HTTP: each event accepted once, the in-doubt ones listed and
never sent again, nothing forwarded twice across restarts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk.errors import ValidationError
from shiptrack_sdk.lex import LexClient, SendJournal
from shiptrack_sdk.lex.forward import SUGGESTED_INOVERT_CODES
from shiptrack_sdk.lex.tracking_models import Carrier, Party
from shiptrack_sdk.models import TrackingStatus
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.watch import Watcher, journal_path

from .conftest import Clock, gain_event

IN_TRANSIT = "6650a1f2c3d4e5f601234567"  # Shiplemon: PRE_TRANSIT, then 3 TRANSIT events
PROCESSED = "S-240906-1017"  # exporto: processed, declared (neither forwarded)
OPTIONS: dict[str, Any] = {
    "codes": SUGGESTED_INOVERT_CODES.with_overrides({"EXCEPTION": "ANO"}),
    "sender": Party(id="TEST-CARRIER", name="Test Carrier"),
    "carrier": lambda t: Carrier(name=t.carrier or "Test Carrier", tracking_number=t.tracking_ref),
    "document_url": lambda t, e: (
        f"https://pod.example.com/{t.shipment_id}.pdf"
        if e.status is TrackingStatus.DELIVERED
        else None
    ),
}


@pytest.fixture
def lex(sb: Sandbox) -> Iterator[LexClient]:
    with sb.client("lex", max_retries=0) as client:
        yield client


def stored(sb: Sandbox) -> Counter[tuple[str, str]]:
    """How many times LEX stored each (reference, occurredAt)."""
    accepted: Any = sb.apps["lex"].tracking.accepted
    return Counter((m["event"]["businessReference"], m["event"]["occurredAt"]) for m in accepted)


def test_each_event_is_forwarded_once(
    watcher: Watcher, lex: LexClient, sb: Sandbox, clients: dict[str, Any], clock: Clock
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.add("exporto", PROCESSED)
    watcher.poll()
    report = watcher.forward_to_lex(lex, **OPTIONS)
    # The three TRANSIT events; PRE_TRANSIT and exporto's own processing are left out.
    assert [e.event.status for e in report.accepted] == [TrackingStatus.TRANSIT] * 3
    assert report.skipped == 3
    assert report.ok
    assert report.journal == journal_path(watcher.path)
    assert Path(report.journal).name == "watch.lex-journal.sqlite"
    assert sum(stored(sb).values()) == 3
    assert watcher.forward_to_lex(lex, **OPTIONS).accepted == ()
    # A new event: only it goes.
    delivered = datetime(2024, 9, 7, 8, 1, tzinfo=timezone.utc)
    gain_event(clients, IN_TRANSIT, "DELIVERED", delivered, "Delivered")
    clock.advance(minutes=5)
    watcher.poll()
    [sent] = watcher.forward_to_lex(lex, **OPTIONS).accepted
    assert sent.event.occurred_at == delivered
    assert sent.state == "accepted"
    assert set(stored(sb).values()) == {1}
    assert len(stored(sb)) == 4


def test_nothing_is_forwarded_twice_across_restarts(
    tmp_path: Path, lex: LexClient, sb: Sandbox, clients: dict[str, Any], clock: Clock
) -> None:
    path = tmp_path / "watch.sqlite"
    with Watcher(path, clients=clients, clock=clock) as watcher:
        watcher.add("shiplemon", IN_TRANSIT)
        watcher.poll()
        assert len(watcher.forward_to_lex(lex, **OPTIONS).accepted) == 3
        # As if the process had stopped between LEX's answer and the store's record of it.
        with watcher.store.transaction() as tx:
            tx.execute(
                "UPDATE events SET forward_state = 'pending' WHERE forward_state = 'accepted'"
            )
    with Watcher(path, clients=clients, clock=clock) as watcher:
        again = watcher.forward_to_lex(lex, **OPTIONS)
        assert len(again.accepted) == 3  # found accepted in the journal, not sent
        assert again.report is None
        assert watcher.forward_to_lex(lex, **OPTIONS).accepted == ()
    assert set(stored(sb).values()) == {1}
    assert len(stored(sb)) == 3


def test_in_doubt_events_are_listed_and_not_sent_again(
    watcher: Watcher, lex: LexClient, sb: Sandbox, tmp_path: Path
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.poll()
    # Stored by LEX, then a 502 from a gateway: no verdict.
    sb.fault("/lex/lex-shipmenttracking-v1/*", method="POST", status=502, after=True)
    report = watcher.forward_to_lex(lex, **OPTIONS)
    assert len(report.in_doubt) == 3
    assert report.accepted == ()
    assert not report.ok
    assert all(e.error is not None for e in report.in_doubt)
    again = watcher.forward_to_lex(lex, **OPTIONS)
    assert len(again.in_doubt) == 3
    assert again.report is None
    assert set(stored(sb).values()) == {1}
    # Once settled in the journal (LEX has them), they count as accepted.
    with SendJournal(journal_path(watcher.path)) as journal:
        assert journal.resolve(journal.in_doubt(), accepted=True) == 3
    settled = watcher.forward_to_lex(lex, **OPTIONS)
    assert len(settled.accepted) == 3
    assert settled.in_doubt == ()


def test_resend_in_doubt_sends_them_once_more(
    watcher: Watcher, lex: LexClient, sb: Sandbox
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.poll()
    sb.fault("/lex/lex-shipmenttracking-v1/*", method="POST", status=503)  # not stored
    assert len(watcher.forward_to_lex(lex, **OPTIONS).in_doubt) == 3
    resent = watcher.forward_to_lex(lex, resend_in_doubt=True, **OPTIONS)
    assert len(resent.accepted) == 3
    assert set(stored(sb).values()) == {1}
    assert len(stored(sb)) == 3


def test_refused_events_are_sent_again_by_the_next_call(
    watcher: Watcher, lex: LexClient, sb: Sandbox
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.poll()
    sb.fault("/lex/lex-shipmenttracking-v1/*", method="POST", status=400)
    failed = watcher.forward_to_lex(lex, **OPTIONS)
    assert len(failed.failed) == 3
    assert failed.failed[0].state == "new"
    assert len(watcher.forward_to_lex(lex, **OPTIONS).accepted) == 3


def test_a_journal_can_be_named_and_a_store_in_memory_needs_one(
    tmp_path: Path, lex: LexClient, clients: dict[str, Any], clock: Clock
) -> None:
    with Watcher(":memory:", clients=clients, clock=clock) as watcher:
        watcher.add("shiplemon", IN_TRANSIT)
        watcher.poll()
        with pytest.raises(ValidationError) as caught:
            watcher.forward_to_lex(lex, **OPTIONS)
        assert caught.value.argument == "journal"
        journal = tmp_path / "sent.sqlite"
        report = watcher.forward_to_lex(lex, journal=journal, **OPTIONS)
        assert report.journal == str(journal)
        assert len(report.accepted) == 3


def test_an_event_the_code_table_does_not_map_is_named_and_nothing_is_sent(
    watcher: Watcher, lex: LexClient, sb: Sandbox
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.poll()
    options = {**OPTIONS, "codes": {"PRE_TRANSIT": None}}
    with pytest.raises(ValidationError) as caught:
        watcher.forward_to_lex(lex, **options)
    assert caught.value.problems[0][0].startswith(f"shiplemon:{IN_TRANSIT} event of 2024-09-0")
    assert "no LEX event code" in caught.value.problems[0][1]
    assert stored(sb) == Counter()

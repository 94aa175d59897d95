"""One poll's fetch: due shipments through the fetcher, each result into the store, and each
provider's outcome into its back-off.

Results are written as they arrive, :data:`COMMIT_EVERY` to a transaction: a process killed
mid-poll loses at most those not yet committed, which are still due and are read again.

A shipment that fails alone (not found, refused) waits for its next turn. A failure of the
provider (:data:`PROVIDER_ERRORS`: no answer, a 5xx, a 429, credentials refused) leaves the
shipment due; a provider none of whose shipments answered in a poll, with such failures, is
backed off (:class:`~shiptrack_sdk.watch.Backoff`), and one shipment answered ends its
back-off. A fetcher that raises a :class:`~shiptrack_sdk.ShiptrackError` fails every provider
of the batch that had not answered yet; but a :class:`~shiptrack_sdk.ValidationError` (a
setting refused, a credential not set) is raised, once what was read is stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import attrs

from ..bulk import Fetcher, TrackingResult
from ..errors import (
    AuthenticationError,
    RateLimitError,
    ServerError,
    ShiptrackError,
    TransportError,
    ValidationError,
)
from ..models import Tracking
from .model import TrackingChange
from .schedule import Schedule
from .store import WatchStore

__all__ = ["COMMIT_EVERY", "PROVIDER_ERRORS", "fetch_and_record", "provider_failed"]

logger = logging.getLogger("shiptrack_sdk")

#: Results written per transaction.
COMMIT_EVERY = 100

#: Errors that say a provider, not one shipment, failed.
PROVIDER_ERRORS = (TransportError, ServerError, RateLimitError, AuthenticationError)


@attrs.define
class _Outcome:
    """What one poll's fetch of one provider came to."""

    answered: int = 0
    failed: list[ShiptrackError] = attrs.field(factory=list)


def fetch_and_record(
    store: WatchStore,
    schedule: Schedule,
    fetch: Fetcher,
    batch: Sequence[tuple[str, str]],
    now: datetime,
    stopping: Callable[[], bool],
) -> list[TrackingChange]:
    """Fetch ``batch`` and store what it says; returns the changes found.

    ``stopping()`` is asked after each result: once it says so, what was read is written and
    the rest of the batch stays due.
    """
    wanted = set(batch)
    outcomes = {provider: _Outcome() for provider, _ in batch}
    broke: ShiptrackError | None = None
    refused: ValidationError | None = None
    found: list[TrackingChange] = []
    written: list[TrackingResult] = []
    results: Iterator[TrackingResult] = iter(())
    try:
        results = iter(fetch(batch))
        for result in results:
            if (result.provider, result.shipment_id) not in wanted:
                continue
            written.append(result)
            if len(written) >= COMMIT_EVERY:
                found += _write(store, schedule, written, now, outcomes)
                written = []
            if stopping():
                break
    except ValidationError as exc:  # the caller's settings (a credential not set): raised
        refused = exc
    except ShiptrackError as exc:  # the fetch failed, or broke off: the rest stays due
        broke = exc
    finally:
        close = getattr(results, "close", None)
        if callable(close):
            close()  # a generator's close() cancels what it had queued
    found += _write(store, schedule, written, now, outcomes)
    if refused is not None:
        raise refused
    with store.transaction() as tx:
        for provider, outcome in outcomes.items():
            if broke is not None and not outcome.answered:
                outcome.failed.append(broke)
                store.record_failure(tx, provider, None, broke, now)
            failed = [e for e in outcome.failed if isinstance(e, PROVIDER_ERRORS)]
            if outcome.answered or (outcome.failed and not failed):
                store.set_provider_state(tx, provider, 0, None, now)
            elif failed:
                provider_failed(store, schedule, tx, provider, failed, now)
    return found


def provider_failed(
    store: WatchStore,
    schedule: Schedule,
    tx: sqlite3.Connection,
    provider: str,
    errors: Sequence[ShiptrackError],
    now: datetime,
) -> None:
    """Back ``provider`` off (inside ``tx``): one more failure in a row."""
    failures = store.provider_state(provider)[0] + 1
    hints = [e.retry_after for e in errors if isinstance(e, RateLimitError) and e.retry_after]
    wait = schedule.backoff.delay(failures, max(hints) if hints else None)
    logger.warning(
        "watch: %s failed %d time(s) in a row; backed off for %s", provider, failures, wait
    )
    store.set_provider_state(tx, provider, failures, now + wait, now)


def _write(
    store: WatchStore,
    schedule: Schedule,
    results: Sequence[TrackingResult],
    now: datetime,
    outcomes: dict[str, _Outcome],
) -> list[TrackingChange]:
    if not results:
        return []
    found = []
    retire_after = schedule.retire_after.total_seconds()
    with store.transaction() as tx:
        for result in results:
            provider, sid = result.provider, result.shipment_id
            outcome = outcomes[provider]
            tracking = result.tracking
            next_poll = schedule.next_poll(provider, now)
            if result.error is None and isinstance(tracking, Tracking):
                outcome.answered += 1
                if (tracking.provider, tracking.shipment_id) != (provider, sid):
                    tracking = attrs.evolve(tracking, provider=provider, shipment_id=sid)
                change = store.record(tx, tracking, now, next_poll, retire_after)
                if change is not None:
                    found.append(change)
                continue
            error = result.error or ShiptrackError(f"{provider} {sid}: no tracking was read")
            outcome.failed.append(error)
            retry = None if isinstance(error, PROVIDER_ERRORS) else next_poll
            store.record_failure(tx, provider, sid, error, now, retry)
    return found

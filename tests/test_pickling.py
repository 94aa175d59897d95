"""Clients beyond one thread and one process: pickling and sharing between threads.

A pickled client carries its configuration and credentials, never a token or a pooled
session: the copy opens its own connections and fetches its own token when first used. One
client may be used from many threads at once: every answer is right, and one token serves
them all. Everything runs against the sandbox over real HTTP.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest
import requests

from shiptrack_sdk import (
    ApiKeyAuth,
    ExportoClient,
    LexClient,
    NotFoundError,
    OAuth2ClientCredentials,
    RetryPolicy,
    ShiplemonClient,
    Timeout,
    Tracking,
    TrackingStatus,
)
from shiptrack_sdk.errors import (
    RateLimitError,
    ResponseError,
    ShiptrackError,
    TransportError,
    ValidationError,
)
from shiptrack_sdk.exporto import TrackResult
from shiptrack_sdk.lex import BusinessMessage
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.sandbox import Sandbox

T = TypeVar("T")

SHIPLEMON_ID = "be96511d-ba23-4268-bd8b-48c9cf930222"
EXPORTO_ID = "S-240902-0001"
THREADS = 16


def round_trip(value: T) -> T:
    """``value`` pickled and unpickled, as a worker process receives it."""
    clone: T = pickle.loads(pickle.dumps(value))  # noqa: S301 (our own bytes)
    return clone


def run_at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """``work(i)`` on ``count`` threads released together; the results in order."""
    barrier = threading.Barrier(count)

    def start(index: int) -> T:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(start, range(count)))


def tracking_messages(count: int, prefix: str) -> list[TrackingMessage]:
    t0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)
    return [
        TrackingMessage(
            event=ShipmentEvent("AAR", f"{prefix}{i:04d}", t0 + timedelta(minutes=i)),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        )
        for i in range(count)
    ]


# -- what travels ---------------------------------------------------------------------------


def test_shiplemon_client_travels_with_its_configuration_and_key(sb: Sandbox) -> None:
    client = sb.shiplemon_client(
        timeout=(2, 7), max_retries=1, backoff_factor=0.001, user_agent="fleet/2"
    )
    expected = client.tracking.get(SHIPLEMON_ID).to_tracking()

    clone = round_trip(client)

    assert isinstance(clone, ShiplemonClient)
    assert clone.base_url == client.base_url
    assert clone.timeout == Timeout(2, 7)
    assert clone.retry == RetryPolicy(max_retries=1, backoff_factor=0.001)
    assert clone._transport.user_agent == "fleet/2"
    assert clone._transport.credentials == client._transport.credentials  # the key travelled
    # The resources work over the copy's own transport, not the original's.
    assert clone.tracking._transport is clone._transport
    assert clone.tracking.get(SHIPLEMON_ID).to_tracking() == expected
    key = sb.apps["shiplemon"].credentials.api_key
    assert sb.calls("/shiplemon/*")[-1].headers["x-api-key"] == key
    assert sb.calls("/shiplemon/*")[-1].headers["User-Agent"] == "fleet/2"


@pytest.mark.parametrize("make", ["exporto", "lex"])
def test_oauth2_clients_travel_without_their_token_or_session(sb: Sandbox, make: str) -> None:
    client: ExportoClient | LexClient = getattr(sb, f"{make}_client")(timeout=5)

    def use(c: Any) -> Any:
        if isinstance(c, ExportoClient):
            return c.shipments.get(EXPORTO_ID).to_tracking()
        return c.orders.fetch(5)

    expected = use(client)
    token = client.auth.access_token()
    session = client.session
    issued = sb.tokens.issued

    data = pickle.dumps(client)
    clone = pickle.loads(data)  # noqa: S301 (our own bytes)

    assert token.encode() not in data
    assert clone.auth.tokens._token is None
    assert clone._transport._session is None
    # Configuration and credentials travelled.
    assert clone.base_url == client.base_url
    assert clone.timeout == Timeout(5, 5)
    assert clone.auth.token_url == client.auth.token_url
    assert clone.auth.client_id == client.auth.client_id
    assert clone.auth.tokens._client_secret == client.auth.tokens._client_secret
    assert clone.auth.client_auth == client.auth.client_auth
    assert clone.auth.compliance_hook == client.auth.compliance_hook
    # The copy's token requests go through the copy's own session.
    assert clone.auth._source is clone._transport

    assert use(clone) == expected
    assert clone.auth.access_token() != token  # its own token
    assert sb.tokens.issued == issued + 1
    assert clone.session is not session
    assert client.auth.access_token() == token  # the original is untouched


def test_auth_objects_pickle_alone(sb: Sandbox) -> None:
    key = ApiKeyAuth("x-api-key", "k-123")
    assert round_trip(key) == key

    auth = sb.oauth2_auth(scope="read")
    token = auth.access_token()
    clone = round_trip(auth)
    assert isinstance(clone, OAuth2ClientCredentials)
    assert (clone.token_url, clone.client_id, clone.scope) == (
        auth.token_url,
        "sandbox-client",
        "read",
    )
    assert clone.tokens._token is None
    assert clone.access_token() != token
    # A copy has a lock of its own: it can fetch while the original is held.
    with auth.tokens._lock:
        clone.invalidate()
        assert clone.access_token()


def test_a_callers_session_travels_as_configuration(sb: Sandbox) -> None:
    session = requests.Session()
    session.headers["X-Fleet"] = "north"
    client = sb.shiplemon_client(session=session)
    clone = round_trip(client)
    assert clone.session is not session
    assert clone.session.headers["X-Fleet"] == "north"
    assert clone.tracking.get(SHIPLEMON_ID).shipment_id == SHIPLEMON_ID
    assert sb.calls("/shiplemon/*")[-1].headers["X-Fleet"] == "north"


def test_a_closed_client_pickles_and_its_copy_reconnects(sb: Sandbox) -> None:
    client = sb.exporto_client()
    client.shipments.get(EXPORTO_ID)
    client.close()
    clone = round_trip(client)
    assert clone.shipments.get(EXPORTO_ID).shipment_id == EXPORTO_ID


# -- what comes back from a worker -----------------------------------------------------------


def test_results_pickle(sb: Sandbox) -> None:
    exporto = sb.exporto_client()
    tour = exporto.tours.list()[0].id
    results = list(exporto.tours.track([tour], max_workers=2))
    assert round_trip(results) == results
    tracking = results[0].unwrap()
    copy = round_trip(tracking)
    assert isinstance(copy, Tracking)
    assert copy == tracking
    assert copy.raw == tracking.raw
    assert copy.status is tracking.status  # enum members stay singletons

    message = sb.lex_client().orders.fetch(3)[0]
    assert isinstance(message, BusinessMessage)
    assert round_trip(message) == message


def test_errors_pickle_whole(sb: Sandbox) -> None:
    exporto = sb.exporto_client()
    with pytest.raises(NotFoundError) as info:
        exporto.shipments.get("S-NOPE")
    error = info.value
    copy = round_trip(error)
    assert type(copy) is NotFoundError
    assert str(copy) == str(error)
    assert (copy.status, copy.provider, copy.request_id, copy.url) == (
        404,
        "exporto",
        error.request_id,
        error.url,
    )
    assert copy.body == error.body

    failed = TrackResult("S-NOPE", tour_id="T-1", error=error)
    assert round_trip(failed).error is not None

    others: Sequence[ShiptrackError] = [
        ValidationError.from_problems([("a", "is required"), ("b", "is too long")]),
        TransportError("read timeout", provider="lex", may_have_reached_server=True),
        ResponseError("body is not JSON", provider="lex", status=200, body="<html>"),
        RateLimitError("slow down", retry_after=2.5, status=429, provider="shiplemon"),
    ]
    for other in others:
        other_copy = round_trip(other)
        assert type(other_copy) is type(other)
        assert str(other_copy) == str(other)
        assert other_copy.__dict__ == other.__dict__


# -- one client, many threads ------------------------------------------------------------------


def test_one_oauth2_client_shared_by_many_threads(sb: Sandbox) -> None:
    sb.latency = 0.01  # a slow token endpoint widens the window in which threads collide
    client = sb.exporto_client()
    ids = client.tours.shipment_ids(client.tours.list()[1].id)[:THREADS]
    client = sb.exporto_client()  # cold again: no token, no session
    issued = sb.tokens.issued

    trackings = run_at_once(THREADS, lambda i: client.shipments.get(ids[i]).to_tracking())

    assert [t.shipment_id for t in trackings] == ids
    expected = sb.exporto_client()
    assert trackings == [expected.shipments.get(i).to_tracking() for i in ids]
    assert client.auth.token_requests == 1
    assert sb.tokens.issued == issued + 2  # this client's one, and `expected`'s


def test_one_api_key_client_shared_by_many_threads(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    seeded = sorted(sb.apps["shiplemon"].shipments)  # type: ignore[attr-defined]
    ids = [seeded[i % len(seeded)] for i in range(THREADS * 2)]

    def work(index: int) -> tuple[Tracking, int]:
        tracking = client.tracking.get(ids[index]).to_tracking()
        return tracking, id(client.session)

    results = run_at_once(len(ids), work)

    assert [t.shipment_id for t, _ in results] == ids
    assert len({session for _, session in results}) == 1  # one pooled session for all
    by_id = {i: client.tracking.get(i).to_tracking() for i in set(ids)}
    assert all(tracking == by_id[tracking.shipment_id] for tracking, _ in results)


def test_lex_sends_from_many_threads_each_message_once_one_token(sb: Sandbox) -> None:
    client = sb.lex_client()
    batches = [tracking_messages(25, f"T{n:02d}-") for n in range(8)]

    reports = run_at_once(len(batches), lambda n: client.tracking.send(batches[n], batch_size=10))

    assert all(report.ok for report in reports)
    accepted = sb.apps["lex"].tracking.references()  # type: ignore[attr-defined]
    sent = [m.event.business_reference for batch in batches for m in batch]
    assert sorted(accepted) == sorted(sent)  # every message exactly once
    assert client.auth.token_requests == 1


def test_a_copy_is_shared_by_threads_in_its_new_home(sb: Sandbox) -> None:
    """What a worker process does with the client it received."""
    original = sb.exporto_client()
    original.shipments.get(EXPORTO_ID)
    clone = round_trip(original)
    issued = sb.tokens.issued

    statuses = run_at_once(THREADS, lambda _: clone.shipments.get(EXPORTO_ID).to_tracking().status)

    assert statuses == [TrackingStatus.DELIVERED] * THREADS
    assert clone.auth.token_requests == original.auth.token_requests + 1
    assert sb.tokens.issued == issued + 1

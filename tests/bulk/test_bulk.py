"""Bulk tracking over real HTTP against the sandbox: ``client.track_many`` of each pull
provider and the cross-provider ``shiptrack_sdk.track_many``."""

from __future__ import annotations

import functools
import pickle
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import shiptrack_sdk
from shiptrack_sdk import (
    ClientClosedError,
    ExportoClient,
    NotFoundError,
    ShiplemonClient,
    ShiptrackError,
    Tracking,
    TrackingResult,
    TrackingStatus,
    ValidationError,
    track_many,
)
from shiptrack_sdk.bulk import Fetcher
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon.models import ShipmentTracking

SHIPLEMON_ROUTE = "shiplemon.tracking.get"
EXPORTO_ROUTE = "exporto.shipment.get"


def shiplemon_ids(sb: Sandbox, count: int) -> list[str]:
    ids: list[str] = sb.apps["shiplemon"].add_shipments(count)  # type: ignore[attr-defined]
    return ids


def exporto_ids(sb: Sandbox, count: int) -> list[str]:
    client = sb.exporto_client()
    tour = sb.apps["exporto"].add_tour(count)  # type: ignore[attr-defined]
    ids = client.tours.shipment_ids(tour)
    client.close()
    return ids


def shiplemon_path(shipment_id: str) -> str:
    return f"/shiplemon/public/v1/shipments/{shipment_id}/tracking"


# -- one provider: client.track_many --------------------------------------------------------


def test_results_come_in_input_order_each_a_tracking_or_its_error(sb: Sandbox) -> None:
    ids = shiplemon_ids(sb, 20)
    asked = [*ids[:10], "no-such-shipment", *ids[10:]]
    client = sb.shiplemon_client()

    results = list(client.track_many(asked, max_workers=4))

    assert [r.index for r in results] == list(range(len(asked)))
    assert [r.shipment_id for r in results] == asked
    assert {r.provider for r in results} == {"shiplemon"}
    missing = results[10]
    assert not missing.ok
    assert missing.tracking is None
    assert isinstance(missing.error, NotFoundError)
    assert "no-such-shipment" in str(missing.error)  # the error names its shipment
    with pytest.raises(NotFoundError):
        missing.unwrap()
    tracked = [r for r in results if r is not missing]
    assert all(r.ok and r.error is None for r in tracked)
    # The same trackings as one call each.
    assert [r.unwrap() for r in tracked] == [client.tracking.get(sid).to_tracking() for sid in ids]
    assert len(sb.calls(shiplemon_path("*"))) == 2 * len(asked) - 1


def test_exporto_client_tracks_many_by_id_on_one_token(sb: Sandbox) -> None:
    ids = exporto_ids(sb, 12)
    client = sb.exporto_client()
    issued = sb.tokens.issued

    results = list(client.track_many(ids, max_workers=6, order="completed"))

    assert sorted(r.shipment_id for r in results) == sorted(ids)
    assert all(
        isinstance(r.tracking, Tracking) and r.tracking.provider == "exporto" for r in results
    )
    assert sb.tokens.issued - issued == 1  # six threads, one token
    assert all(r.tracking == client.shipments.get(r.shipment_id).to_tracking() for r in results)


def test_completed_order_yields_a_slow_shipment_last(sb: Sandbox) -> None:
    ids = shiplemon_ids(sb, 6)
    client = sb.shiplemon_client()
    sb.fault(shiplemon_path(ids[0]), delay=0.4)

    completed = list(client.track_many(ids, max_workers=6, order="completed"))
    assert completed[-1].shipment_id == ids[0]
    assert sorted(r.index for r in completed) == list(range(6))

    sb.fault(shiplemon_path(ids[0]), delay=0.4)
    in_order = list(client.track_many(ids, max_workers=6))
    assert [r.shipment_id for r in in_order] == ids


def test_concurrency_is_bounded_by_max_workers(sb: Sandbox) -> None:
    ids = shiplemon_ids(sb, 24)
    client = sb.shiplemon_client()
    sb.latency = 0.03

    results = list(client.track_many(ids, max_workers=3))

    assert all(r.ok for r in results)
    calls, in_flight = sb.route_stats(SHIPLEMON_ROUTE)
    assert calls == 24
    assert in_flight == 3


def test_a_consumer_that_stops_early_stops_the_fan_out(sb: Sandbox) -> None:
    ids = shiplemon_ids(sb, 200)
    client = sb.shiplemon_client()
    sb.latency = 0.01

    results = client.track_many(ids, max_workers=2, order="completed")
    first = next(results)
    results.close()  # type: ignore[attr-defined]

    assert first.shipment_id in ids[:2]
    # At most twice the workers were handed out when it stopped: nothing more was sent.
    assert len(sb.calls(shiplemon_path("*"))) <= 2 * 2


def test_an_unexpected_exception_becomes_an_error_naming_the_shipment(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = shiplemon_ids(sb, 3)
    original = ShipmentTracking.to_tracking

    def broken(self: ShipmentTracking) -> Tracking:
        if self.shipment_id == ids[1]:
            raise RuntimeError("a bug")
        return original(self)

    monkeypatch.setattr(ShipmentTracking, "to_tracking", broken)
    results = list(sb.shiplemon_client().track_many(ids))

    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert type(error) is ShiptrackError
    assert f"shipment {ids[1]}" in str(error)
    assert isinstance(error.__cause__, RuntimeError)


def test_progress_is_reported_per_shipment(sb: Sandbox) -> None:
    ids = shiplemon_ids(sb, 5)
    seen: list[tuple[int, int | None]] = []
    lock = threading.Lock()

    def report(done: int, total: int | None) -> None:
        with lock:
            seen.append((done, total))

    list(sb.shiplemon_client().track_many(ids, progress=report))
    assert sorted(seen) == [(n, 5) for n in range(1, 6)]


def test_no_bar_by_default_when_stderr_is_not_a_terminal(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = shiplemon_ids(sb, 3)
    assert all(r.ok for r in sb.shiplemon_client().track_many(ids))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("ids", "kwargs", "argument"),
    [
        ("6650a1f2c3d4e5f601234567", {}, "ids"),
        ({"a": 1}, {}, "ids"),
        (["ok", ""], {}, "ids[1]"),
        (["ok", "  "], {}, "ids[1]"),
        ([42], {}, "ids[0]"),
        (["ok"], {"max_workers": 0}, "max_workers"),
        (["ok"], {"max_workers": True}, "max_workers"),
        (["ok"], {"order": "tour"}, "order"),
        (["ok"], {"progress": "yes"}, "progress"),
        (["ok"], {"timeout": -1}, "timeout"),
    ],
)
def test_bad_input_is_refused_naming_it_before_any_request(
    sb: Sandbox, ids: Any, kwargs: dict[str, Any], argument: str
) -> None:
    client = sb.shiplemon_client()
    with pytest.raises(ValidationError) as info:
        client.track_many(ids, **kwargs)
    assert info.value.argument == argument
    assert sb.calls() == []


def test_a_closed_client_is_refused_at_the_call(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    client.close()
    with pytest.raises(ClientClosedError):
        client.track_many(["6650a1f2c3d4e5f601234567"])
    assert sb.calls() == []


# -- across providers: shiptrack_sdk.track_many ---------------------------------------------


def test_items_of_two_providers_each_with_its_own_bound(sb: Sandbox) -> None:
    lemons = shiplemon_ids(sb, 12)
    parcels = exporto_ids(sb, 12)
    items = [
        pair
        for lemon, parcel in zip(lemons, parcels, strict=True)
        for pair in (("shiplemon", lemon), ("exporto", parcel))
    ]
    clients = {"shiplemon": sb.shiplemon_client(), "exporto": sb.exporto_client()}
    sb.latency = 0.03

    results = list(track_many(items, clients=clients, max_workers=2))

    assert [(r.provider, r.shipment_id) for r in results] == items
    assert all(r.ok for r in results)
    assert all(r.tracking is not None and r.tracking.provider == r.provider for r in results)
    # Each provider's requests are bounded on their own, and both ran at once.
    assert sb.route_stats(SHIPLEMON_ROUTE) == (12, 2)
    assert sb.route_stats(EXPORTO_ROUTE)[1] == 2
    # The clients given stay open.
    assert not clients["shiplemon"].closed
    assert not clients["exporto"].closed


def test_a_provider_without_a_client_gets_one_from_the_environment_closed_after(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    closed: list[str] = []
    original = ExportoClient.close

    def close(self: ExportoClient) -> None:
        closed.append(self.provider)
        original(self)

    monkeypatch.setattr(ExportoClient, "close", close)
    shiplemon = sb.shiplemon_client()
    items = [("exporto", "S-240902-0001"), ("shiplemon", "6650a1f2c3d4e5f601234567")]

    results = track_many(items, clients={"shiplemon": shiplemon})
    got = [r.unwrap().status for r in results]

    assert got == [TrackingStatus.DELIVERED, TrackingStatus.TRANSIT]
    assert closed == ["exporto"]  # the one it built; the caller's is left open
    assert not shiplemon.closed


def test_a_client_built_for_results_never_read_is_closed_when_they_go(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    closed: list[str] = []
    original = ShiplemonClient.close

    def close(self: ShiplemonClient) -> None:
        closed.append(self.provider)
        original(self)

    monkeypatch.setattr(ShiplemonClient, "close", close)
    results = track_many([("shiplemon", "6650a1f2c3d4e5f601234567")])
    del results  # never read: no request, and the client it built is closed all the same
    assert closed == ["shiplemon"]
    assert sb.calls() == []


@pytest.mark.parametrize(
    ("items", "clients", "argument"),
    [
        ("shiplemon", None, "items"),
        ([("shiplemon",)], None, "items[0]"),
        (["shiplemon:x"], None, "items[0]"),
        ([("nope", "x")], None, "items[0][0]"),
        ([("lex", "x")], None, "items[0][0]"),  # LEX takes tracking; it is not pulled by id
        ([("shiplemon", "ok"), ("exporto", "")], None, "items[1][1]"),
        ([("shiplemon", "ok")], ["shiplemon"], "clients"),
        ([("shiplemon", "ok")], {"nope": object()}, "clients"),
        ([("shiplemon", "ok")], {"shiplemon": "exporto"}, "clients['shiplemon']"),
    ],
)
def test_bad_items_or_clients_are_refused_naming_them(
    sb: Sandbox, items: Any, clients: Any, argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        track_many(items, clients=clients)
    assert info.value.argument == argument
    assert sb.calls() == []


def test_a_client_of_another_provider_is_refused(sb: Sandbox) -> None:
    with pytest.raises(ValidationError) as info:
        track_many([("exporto", "x")], clients={"exporto": sb.shiplemon_client()})
    assert info.value.argument == "clients['exporto']"
    assert "exporto client" in str(info.value)


def test_a_missing_credential_is_refused_at_the_call(sb: Sandbox) -> None:
    with pytest.raises(ValidationError) as info:
        track_many([("shiplemon", "x")])
    assert info.value.argument == "api_key"
    assert "SHIPTRACK_SHIPLEMON_API_KEY" in str(info.value)


def test_a_fetcher_is_track_many_with_its_clients_bound(sb: Sandbox) -> None:
    clients = {"shiplemon": sb.shiplemon_client(), "exporto": sb.exporto_client()}
    fetch: Fetcher = functools.partial(shiptrack_sdk.track_many, clients=clients)
    batch = [("exporto", "S-240902-0002"), ("shiplemon", "be96511d-ba23-4268-bd8b-48c9cf930222")]
    results = list(fetch(batch))
    assert [(r.provider, r.shipment_id, r.ok) for r in results] == [(*b, True) for b in batch]


def test_results_pickle(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    results = list(client.track_many(["6650a1f2c3d4e5f601234567", "missing"]))
    copies: Iterator[TrackingResult] = (
        pickle.loads(pickle.dumps(r))  # noqa: S301 (our own bytes)
        for r in results
    )
    ok, failed = copies
    assert ok == results[0]
    assert isinstance(failed.error, NotFoundError)
    assert failed.error.status == 404


def test_the_names_are_exported_at_the_root() -> None:
    assert shiptrack_sdk.track_many is track_many
    assert {"track_many", "TrackingResult", "RateLimit"} <= set(shiptrack_sdk.__all__)

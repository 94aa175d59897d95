"""Bulk tracking on a dask.distributed ``LocalCluster`` of two worker processes, against the
sandbox of this test process: partitions run on the workers, each worker with its own clients
and tokens, built from a :class:`ClientFactory` or from the worker's environment.

Skipped where dask.distributed is not installed (``python -m pip install ".[dask]"``); CI
installs it (the ``ci`` extra).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

import shiptrack_sdk
from shiptrack_sdk import NotFoundError, ValidationError
from shiptrack_sdk._providers import spec
from shiptrack_sdk.distributed import ClientFactory, DaskFetcher, track_many
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import dask_cluster

distributed = pytest.importorskip("distributed")

LOOPBACK = "127.0.0.1,localhost,::1"


@pytest.fixture(scope="module")
def dask_client(_shiptrack_sandbox_server: Sandbox) -> Iterator[Any]:
    """Two worker processes whose environment points every client at the sandbox (the test
    process's own environment holds no ``SHIPTRACK_*`` variable)."""
    env = {**_shiptrack_sandbox_server.environment(), "NO_PROXY": LOOPBACK, "no_proxy": LOOPBACK}
    with dask_cluster(env) as client:
        yield client


def factories(sb: Sandbox) -> dict[str, ClientFactory]:
    """A factory of each pull provider with the sandbox's URLs and credentials, explicit."""
    found = {}
    for name in ("shiplemon", "exporto"):
        make = spec(name).sandbox_client
        assert make is not None
        found[name] = ClientFactory(name, **make(sb))
    return found


def exporto_ids(sb: Sandbox, count: int) -> list[str]:
    with sb.exporto_client() as client:
        return client.tours.shipment_ids(sb.apps["exporto"].add_tour(count))  # type: ignore[attr-defined]


def test_partitions_are_tracked_on_the_workers_with_their_own_clients(
    sb: Sandbox, dask_client: Any
) -> None:
    lemons: list[str] = sb.apps["shiplemon"].add_shipments(40)  # type: ignore[attr-defined]
    parcels = exporto_ids(sb, 20)
    issued = sb.tokens.issued
    items = [("shiplemon", sid) for sid in lemons] + [("exporto", sid) for sid in parcels]
    items.insert(7, ("exporto", "S-NOPE"))

    results = list(
        track_many(
            items, dask_client=dask_client, clients=factories(sb), partition_size=8, max_workers=2
        )
    )

    assert [(r.provider, r.shipment_id) for r in results] == items
    assert [r.index for r in results] == list(range(len(items)))
    missing = results.pop(7)
    assert isinstance(missing.error, NotFoundError)  # the worker's error, whole
    assert missing.error.status == 404
    assert all(r.ok for r in results)
    with sb.shiplemon_client() as here:
        assert results[0].tracking == here.tracking.get(lemons[0]).to_tracking()
    # The coordinator holds no client at all: the tokens are the workers', one a worker.
    assert 1 <= sb.tokens.issued - issued <= 2
    # Two workers, two tasks each at most, two requests per provider in a task.
    assert sb.route_stats("shiplemon.tracking.get")[1] <= 8


def test_a_worker_builds_what_it_is_not_given_from_its_own_environment(
    sb: Sandbox, dask_client: Any
) -> None:
    items = [("shiplemon", "6650a1f2c3d4e5f601234567"), ("exporto", "S-240902-0001")]
    with pytest.raises(ValidationError):  # not here: this process has no SHIPTRACK_* variable
        list(shiptrack_sdk.track_many(items))
    results = list(track_many(items, dask_client=dask_client, order="completed"))
    assert sorted((r.provider, r.ok) for r in results) == [("exporto", True), ("shiplemon", True)]


def test_a_fetcher_keeps_each_workers_clients_from_one_call_to_the_next(
    sb: Sandbox, dask_client: Any
) -> None:
    items = [("exporto", sid) for sid in exporto_ids(sb, 40)]
    issued = sb.tokens.issued
    with DaskFetcher(dask_client, clients=factories(sb), partition_size=5) as fetch:
        for _ in range(3):
            results = list(fetch(items))
            assert sorted(r.shipment_id for r in results) == sorted(sid for _, sid in items)
            assert all(r.ok for r in results)
    # Three polls of eight partitions each: still one token per worker process.
    assert 1 <= sb.tokens.issued - issued <= 2


def test_copies_unpickled_twice_in_one_process_share_its_clients_and_token(sb: Sandbox) -> None:
    # dask may deserialize scattered data more than once in a worker (a replica, and a copy
    # fetched for a task that ran before the replica came): each copy must find the clients
    # the process already built, not build and authenticate its own.
    from shiptrack_sdk.distributed import _WorkerClients

    sources = _WorkerClients(factories(sb))
    first, second = (pickle.loads(pickle.dumps(sources)) for _ in range(2))  # noqa: S301
    ids = exporto_ids(sb, 2)
    issued = sb.tokens.issued
    one = first.clients(["exporto"])["exporto"]
    other = second.clients(["exporto"])["exporto"]
    assert one is other
    for sid in ids:
        one.shipments.get(sid)
        other.shipments.get(sid)
    assert sb.tokens.issued - issued == 1


def test_a_setting_the_workers_lack_is_each_items_error(sb: Sandbox, dask_client: Any) -> None:
    clients = {"shiplemon": ClientFactory("shiplemon", api_key="")}
    items = [("shiplemon", f"id-{n}") for n in range(5)]
    results = list(track_many(items, dask_client=dask_client, clients=clients, partition_size=2))
    assert [r.shipment_id for r in results] == [sid for _, sid in items]
    assert all(isinstance(r.error, ValidationError) for r in results)
    assert {r.error.argument for r in results if isinstance(r.error, ValidationError)} == {
        "api_key"
    }
    assert sb.calls() == []


@pytest.mark.parametrize(
    ("items", "kwargs", "argument"),
    [
        ([("nope", "x")], {}, "items[0][0]"),
        ([("shiplemon", "")], {}, "items[0][1]"),
        ([("shiplemon", "x")], {"partition_size": 0}, "partition_size"),
        ([("shiplemon", "x")], {"max_workers": 0}, "max_workers"),
        ([("shiplemon", "x")], {"clients": {"shiplemon": ClientFactory("exporto")}}, None),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    sb: Sandbox, dask_client: Any, items: Any, kwargs: dict[str, Any], argument: str | None
) -> None:
    with pytest.raises(ValidationError) as info:
        track_many(items, dask_client=dask_client, **kwargs)
    assert info.value.argument == (argument or "clients['shiplemon']")
    assert sb.calls() == []


def test_a_dask_client_is_required() -> None:
    with pytest.raises(ValidationError) as info:
        track_many([("shiplemon", "x")], dask_client=None)
    assert info.value.argument == "dask_client"
    with pytest.raises(ValidationError):
        DaskFetcher(object())


def test_a_factory_shows_its_options_names_never_their_values(sb: Sandbox) -> None:
    secret = sb.apps["shiplemon"].credentials.api_key
    factory = ClientFactory("shiplemon", api_key=secret, base_url=sb.provider_url("shiplemon"))
    assert secret not in repr(factory)
    assert secret not in str(factory)
    assert factory.options == ("api_key", "base_url")
    copy = pickle.loads(pickle.dumps(factory))  # noqa: S301 (our own bytes)
    assert secret not in repr(copy)
    with copy.build() as client:  # the credential travelled: the copy's client works
        assert client.tracking.get("6650a1f2c3d4e5f601234567").tracking_status == "TRANSIT"
    with pytest.raises(ValidationError) as info:
        ClientFactory("nope")
    assert info.value.argument == "provider"


def test_a_watcher_fetches_on_the_workers_and_keeps_its_store_here(
    sb: Sandbox, dask_client: Any
) -> None:
    from shiptrack_sdk.watch import Watcher

    lemons: list[str] = sb.apps["shiplemon"].add_shipments(6)  # type: ignore[attr-defined]
    parcels = exporto_ids(sb, 6)
    issued = sb.tokens.issued
    with (
        DaskFetcher(dask_client, clients=factories(sb), partition_size=4) as fetch,
        Watcher(":memory:", fetch=fetch) as watcher,
    ):
        for sid in lemons:
            watcher.add("shiplemon", sid)
        for sid in parcels:
            watcher.add("exporto", sid)
        changes = watcher.poll()
        assert sorted((c.provider, c.shipment_id) for c in changes) == sorted(
            [("shiplemon", sid) for sid in lemons] + [("exporto", sid) for sid in parcels]
        )
        assert all(c.new_events for c in changes)
        assert watcher.poll() == []  # nothing is due again yet: the store is the watcher's
    # The coordinator built no client: the exporto token is a worker's, one a worker at most.
    assert 1 <= sb.tokens.issued - issued <= 2

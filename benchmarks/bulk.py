"""Bulk tracking: ``track_many``'s rate against the ideal, a rate limit held, dask scaling out.

Each figure tracks exporto shipments of one tour the sandbox generates (distinct shipments,
each one ``GET shipment/{shipmentId}``), the sandbox answering every request after the set
latency, from its own process.
"""

from __future__ import annotations

import logging
import os
import statistics
import time

import attrs

from shiptrack_sdk import RateLimit

from ._common import Figure, Settings
from ._sandbox import RemoteSandbox

ROUTE = "exporto.shipment.get"


@attrs.frozen
class _Counts:
    """How much work each bulk figure does (the documented counts, or a smoke run)."""

    #: Shipments, workers and latency of the track_many rate.
    shipments: int
    workers: int
    latency: float
    #: Requests and rates (per second, burst) of the rate-limit figure.
    limited: int
    limits: tuple[tuple[float, int], ...]
    #: Shipments, latency, threads per worker process and requests per task (dask).
    dask_shipments: int
    dask_latency: float
    dask_threads: int
    dask_requests: int
    dask_processes: int


FULL_COUNTS = _Counts(
    shipments=10_000,
    workers=32,
    latency=0.05,
    limited=1_000,
    limits=((50.0, 1), (200.0, 10)),
    dask_shipments=20_000,
    dask_latency=0.05,
    dask_threads=2,
    dask_requests=4,
    dask_processes=4,
)

QUICK_COUNTS = _Counts(
    shipments=320,
    workers=16,
    latency=0.02,
    limited=60,
    limits=((50.0, 1), (200.0, 10)),
    dask_shipments=480,
    dask_latency=0.02,
    dask_threads=2,
    dask_requests=4,
    dask_processes=4,
)


def _counts(settings: Settings) -> _Counts:
    return QUICK_COUNTS if settings.quick else FULL_COUNTS


def _tour(sb: RemoteSandbox, count: int) -> list[str]:
    """The ids of a new tour of ``count`` shipments (listed by a client of its own)."""
    tour = sb.add_tour(count)
    with sb.exporto_client() as client:
        return client.tours.shipment_ids(tour)


def track_many_rate(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``client.track_many`` over ``shipments`` ids with ``workers`` threads, the sandbox
    answering each request after ``latency``: the rate against ``workers / latency``."""
    counts = _counts(settings)
    ids = _tour(sb, counts.shipments)
    client = sb.exporto_client()
    client.shipments.get(ids[0])  # the token and a first connection: not the figure
    sb.latency = counts.latency
    sb.clear_calls()
    try:
        cpu, start = time.process_time(), time.perf_counter()
        results = list(client.track_many(ids, max_workers=counts.workers, progress=False))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        calls, in_flight = sb.route_stats(ROUTE)
    finally:
        sb.latency = 0.0
        client.close()
    tracked = sum(r.ok for r in results)
    if tracked != len(ids) or [r.shipment_id for r in results] != ids:
        raise RuntimeError(f"track_many: {tracked} of {len(ids)} shipments tracked")
    ideal = counts.workers / counts.latency
    rate = len(ids) / elapsed
    share = rate / ideal
    return Figure(
        name="track_many_rate",
        title=f"track_many rate ({counts.workers} workers, share of ideal)",
        measured=share,
        unit="x",
        target=">= 0.90x",
        met=share >= 0.90,
        detail=(
            f"{len(ids)} exporto shipments, {counts.latency * 1000:.0f} ms a request: "
            f"{elapsed:.1f} s, {rate:.0f} shipments/s against the ideal {ideal:.0f}/s "
            f"({counts.workers} / {counts.latency:g} s); {in_flight} requests in flight at most; "
            f"client CPU {cpu / len(ids) * 1e6:.0f} us a shipment"
        ),
        data={
            "shipments": len(ids),
            "workers": counts.workers,
            "latency_s": counts.latency,
            "elapsed_s": elapsed,
            "rate_per_s": rate,
            "ideal_per_s": ideal,
            "max_in_flight": in_flight,
            "calls": calls,
            "client_cpu_us_per_shipment": cpu / len(ids) * 1e6,
        },
    )


def _held_rate(sb: RemoteSandbox, ids: list[str], limit: RateLimit, workers: int) -> float:
    """The rate ``len(ids)`` shipments completed at, once the first burst was spent."""
    client = sb.exporto_client(rate_limit=limit)
    client.shipments.get(ids[0])  # the token and a first connection (one turn taken)
    done: list[float] = []
    try:
        for result in client.track_many(ids, max_workers=workers, order="completed"):
            done.append(time.perf_counter())
            if not result.ok:
                raise RuntimeError(f"rate limit: {result.error}")
    finally:
        client.close()
    # The first ``burst`` go at once; from there on, one every interval: the rate is the
    # slope of the count against the time (least squares, so that one completion a busy
    # machine delayed at either end weighs no more than any other).
    spaced = done[limit.burst :]
    slope, _ = statistics.linear_regression(spaced, range(len(spaced)))
    return slope


def rate_limit(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``track_many`` with a client's rate limit far below what its workers could send: the
    rate the shipments complete at against the setting, for each setting."""
    counts = _counts(settings)
    ids = _tour(sb, counts.limited)
    sb.latency = counts.latency
    measured: list[tuple[RateLimit, float]] = []
    try:
        for rate, burst in counts.limits:
            limit = RateLimit(rate, burst=burst)
            measured.append((limit, _held_rate(sb, ids, limit, counts.workers)))
    finally:
        sb.latency = 0.0
    deviations = [abs(held / limit.rate - 1) for limit, held in measured]
    worst = max(deviations)
    return Figure(
        name="rate_limit",
        title="rate limit held (worst deviation)",
        measured=round(worst * 100, 2),
        unit="%",
        target="<= 5 %",
        met=worst <= 0.05,
        detail=(
            f"{len(ids)} exporto shipments each, {counts.workers} workers, "
            f"{counts.latency * 1000:.0f} ms a request (up to {counts.workers / counts.latency:.0f}"
            "/s unlimited): "
            + "; ".join(
                f"{limit.rate:g}/s burst {limit.burst}: {held:.2f}/s" for limit, held in measured
            )
        ),
        data={
            "requests": len(ids),
            "workers": counts.workers,
            "latency_s": counts.latency,
            "settings": [[limit.rate, limit.burst] for limit, _ in measured],
            "held_per_s": [held for _, held in measured],
            "deviations": deviations,
        },
    )


def _dask_run(
    sb: RemoteSandbox, ids: list[str], processes: int, counts: _Counts
) -> tuple[float, int]:
    """Seconds ``distributed.track_many`` takes over ``ids`` on a fresh local cluster of
    ``processes`` worker processes (the cluster's start not counted), and how many
    requests the sandbox had in flight at most."""
    from distributed import Client, LocalCluster

    from shiptrack_sdk.distributed import ClientFactory, track_many

    loopback = "127.0.0.1,localhost,::1"
    env = {"NO_PROXY": loopback, "no_proxy": loopback}
    factory = ClientFactory("exporto", **sb.client_options("exporto"))
    items = [("exporto", sid) for sid in ids]
    with (
        LocalCluster(
            n_workers=processes,
            processes=True,
            threads_per_worker=counts.dask_threads,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=env,
        ) as cluster,
        Client(cluster) as dask,
    ):
        # Each worker imports the SDK and builds its client first: not the figure.
        warm = items[: processes * counts.dask_threads * 2]
        list(track_many(warm, dask_client=dask, clients={"exporto": factory}, partition_size=2))
        sb.clear_calls()
        start = time.perf_counter()
        results = list(
            track_many(
                items,
                dask_client=dask,
                clients={"exporto": factory},
                partition_size=100,
                max_workers=counts.dask_requests,
                progress=False,
            )
        )
        elapsed = time.perf_counter() - start
    if sum(r.ok for r in results) != len(ids):
        raise RuntimeError(f"dask: {sum(r.ok for r in results)} of {len(ids)} tracked")
    return elapsed, sb.route_stats(ROUTE)[1]


def dask_scaling(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``distributed.track_many`` over ``dask_shipments`` shipments on a local cluster of
    ``dask_processes`` worker processes against one, the same threads per process."""
    counts = _counts(settings)
    title = f"dask scaling ({counts.dask_processes} processes vs 1)"
    try:
        import distributed  # noqa: F401
    except ImportError:
        return Figure(
            name="dask_scaling",
            title=title,
            measured=0.0,
            unit="x",
            target=">= 3x",
            met=False,
            detail="not measured: dask.distributed is not installed (pip install .[dask])",
        )
    ids = _tour(sb, counts.dask_shipments)
    sb.latency = counts.dask_latency
    try:
        one, one_in_flight = _dask_run(sb, ids, 1, counts)
        many, many_in_flight = _dask_run(sb, ids, counts.dask_processes, counts)
    finally:
        sb.latency = 0.0
    speedup = one / many
    per_process = counts.dask_threads * counts.dask_requests
    return Figure(
        name="dask_scaling",
        title=title,
        measured=speedup,
        unit="x",
        target=">= 3x",
        met=speedup >= 3,
        detail=(
            f"{len(ids)} exporto shipments, {counts.dask_latency * 1000:.0f} ms a request, "
            f"{counts.dask_threads} threads a process x {counts.dask_requests} requests a task "
            f"({per_process} in flight a process): 1 process {one:.1f} s "
            f"({len(ids) / one:.0f}/s, {one_in_flight} in flight at most), "
            f"{counts.dask_processes} processes {many:.1f} s ({len(ids) / many:.0f}/s, "
            f"{many_in_flight} in flight); {os.cpu_count()} cores"
        ),
        data={
            "shipments": len(ids),
            "latency_s": counts.dask_latency,
            "threads_per_process": counts.dask_threads,
            "requests_per_task": counts.dask_requests,
            "processes": counts.dask_processes,
            "one_process_s": one,
            "many_processes_s": many,
            "one_process_max_in_flight": one_in_flight,
            "many_processes_max_in_flight": many_in_flight,
        },
    )

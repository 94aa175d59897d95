"""Tour fan-out and token reuse: how the SDK uses threads, connections and tokens."""

from __future__ import annotations

import threading
import time
from typing import Any

from shiptrack_sdk.exporto import ExportoClient

from ._common import Figure, Settings
from ._sandbox import RemoteSandbox

#: A shipment of the seeded tours.
SHIPMENT_ID = "S-240902-0001"
TOURS = 4


def tour_fanout(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``client.tours.track`` over ``shipments`` shipments in four tours, with the sandbox
    answering each request after ``latency`` seconds: ``max_workers=8`` against 1."""
    per_tour = settings.shipments // TOURS
    tours = [sb.add_tour(per_tour) for _ in range(TOURS)]
    total = per_tour * TOURS
    client = sb.exporto_client()
    # What every run must bring back (and the token, the connection, the model hooks).
    expected = {sid for tour in tours for sid in client.tours.shipment_ids(tour)}
    sb.latency = settings.latency
    runs: dict[int, list[float]] = {8: [], 1: []}
    in_flight = 0
    try:
        # The short parallel run goes before and after the long sequential one: their mean
        # sees the same machine as the sequential run.
        for workers in (8, 1, 8):
            sb.clear_calls()
            start = time.perf_counter()
            results = list(client.tours.track(tours, max_workers=workers))
            runs[workers].append(time.perf_counter() - start)
            tracked = {r.shipment_id for r in results if r.ok}
            if len(results) != total or tracked != expected:
                raise RuntimeError(f"tour fan-out: {len(tracked)} of {total} shipments tracked")
            if workers == 8:
                in_flight = max(in_flight, sb.route_stats("exporto.shipment.get")[1])
    finally:
        sb.latency = 0.0
        client.close()
    elapsed = {workers: sum(times) / len(times) for workers, times in runs.items()}
    speedup = elapsed[1] / elapsed[8]
    return Figure(
        name="tour_fanout",
        title="tour fan-out (8 workers vs 1)",
        measured=speedup,
        unit="x",
        target=">= 6x",
        met=speedup >= 6,
        detail=(
            f"{total} shipments in {TOURS} tours, {settings.latency * 1000:.0f} ms a request: "
            f"{elapsed[1]:.2f} s sequential, {elapsed[8]:.2f} s with 8 workers (mean of 2) "
            f"({in_flight} requests in flight at most)"
        ),
        data={
            "shipments": total,
            "tours": TOURS,
            "latency_s": settings.latency,
            "sequential_s": elapsed[1],
            "parallel_s": elapsed[8],
            "parallel_runs_s": runs[8],
            "max_in_flight": in_flight,
        },
    )


def _at_once(count: int, client: ExportoClient) -> list[Any]:
    """``count`` threads released together, each reading one shipment with ``client``."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def work(index: int) -> None:
        barrier.wait()
        results[index] = client.shipments.get(SHIPMENT_ID).to_tracking()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def token_reuse(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``threads`` threads released at once on a client that has no token yet."""
    sb.latency = settings.latency  # a token endpoint that takes its time widens the race
    counts: list[tuple[int, int]] = []
    try:
        for _ in range(settings.rounds):
            client = sb.exporto_client()
            before = sb.tokens_issued()
            results = _at_once(settings.threads, client)
            if any(r is None or r.shipment_id != SHIPMENT_ID for r in results):
                raise RuntimeError("token reuse: a thread did not get its shipment")
            counts.append((client.auth.token_requests, sb.tokens_issued() - before))
            client.close()
    finally:
        sb.latency = 0.0
    worst = max(max(pair) for pair in counts)
    return Figure(
        name="token_reuse",
        title=f"token reuse ({settings.threads} threads, cold client)",
        measured=worst,
        unit="token request" if worst == 1 else "token requests",
        target="exactly 1",
        met=all(pair == (1, 1) for pair in counts),
        detail=(
            f"{settings.rounds} round(s) with a fresh client each: token requests sent "
            f"{[c for c, _ in counts]}, tokens the sandbox issued {[s for _, s in counts]}"
        ),
        data={
            "threads": settings.threads,
            "rounds": settings.rounds,
            "client_token_requests": [c for c, _ in counts],
            "sandbox_tokens_issued": [s for _, s in counts],
        },
    )

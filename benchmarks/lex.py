"""LEX batching and the order drain: work that scales with the number of messages."""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shiptrack_sdk.lex.tracking import (
    Carrier,
    Location,
    Party,
    ShipmentEvent,
    TrackingMessage,
)

from ._common import Figure, Settings
from ._sandbox import RemoteSandbox

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)


def tracking_messages(count: int, prefix: str) -> list[TrackingMessage]:
    """``count`` valid tracking messages, each about its own shipment."""
    return [
        TrackingMessage(
            event=ShipmentEvent(
                "AAR",
                f"{prefix}{i:06d}",
                T0 + timedelta(seconds=i),
                description="Arrived at the delivery depot",
                location=Location(name="Madrid Coslada", country_code="ES"),
            ),
            carrier=Carrier(id="TRANSPES", tracking_number=f"TP{i:08d}"),
            sender=Party(id="TELIAE-ES", name="Teliae"),
        )
        for i in range(count)
    ]


def lex_batching(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``client.tracking.send`` of the same messages, 100 a call against 1.

    The messages go in ten rounds; each round sends its share both ways, in alternating
    order, so both sides of the ratio see the same machine noise.
    """
    client = sb.lex_client()
    client.tracking.send(tracking_messages(10, "W"), batch_size=5)  # token, connection, hooks
    rounds = 10
    share = settings.messages // rounds
    times: dict[int, list[float]] = {100: [], 1: []}
    # The garbage collector paused, as for the per-call figures: a full collection, which the
    # objects of the figures before make longer, would land in whichever round trips it.
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for number in range(rounds):
            order = ((100, "B"), (1, "S")) if number % 2 == 0 else ((1, "S"), (100, "B"))
            for batch_size, prefix in order:
                messages = tracking_messages(share, f"{prefix}{number}-")
                before = sb.lex_accepted()
                start = time.perf_counter()
                report = client.tracking.send(messages, batch_size=batch_size)
                times[batch_size].append(time.perf_counter() - start)
                accepted = sb.lex_accepted() - before
                if not report.ok or accepted != share:
                    raise RuntimeError(f"LEX batching: {report!r}, {accepted} accepted")
    finally:
        if gc_was:
            gc.enable()
    client.close()
    elapsed = {size: sum(values) for size, values in times.items()}
    speedup = elapsed[1] / elapsed[100]
    # Each round's ratio too: how far the machine's noise moves the figure within one run.
    ratios = [single / batched for single, batched in zip(times[1], times[100], strict=True)]
    count = share * rounds
    return Figure(
        name="lex_batching",
        title="LEX batching (batch_size 100 vs 1)",
        measured=speedup,
        unit="x",
        target=">= 20x",
        met=speedup >= 20,
        detail=(
            f"{count} messages each way, in {rounds} interleaved rounds: {elapsed[1]:.2f} s one a "
            f"call ({elapsed[1] / count * 1e6:.0f} us a message), {elapsed[100]:.2f} s 100 a "
            f"call ({elapsed[100] / count * 1e6:.0f} us); the rounds' own ratios "
            f"{min(ratios):.1f}x to {max(ratios):.1f}x (median {statistics.median(ratios):.1f}x)"
        ),
        data={
            "messages": count,
            "batch_1_s": elapsed[1],
            "batch_100_s": elapsed[100],
            "ratios": ratios,
        },
    )


def order_drain(sb: RemoteSandbox, settings: Settings) -> Figure:
    """``iter_messages`` over every generated order message, in a fresh process."""
    sb.seed_orders(settings.orders)
    env = {**os.environ, **sb.environment()}
    done = subprocess.run(  # noqa: S603 (this Python, the suite's own module)
        [sys.executable, "-m", "benchmarks._drain", str(settings.orders)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"order drain failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    growth = float(result["rss_growth_mb"])
    rate = result["messages"] / result["seconds"]
    return Figure(
        name="order_drain",
        title="order drain (peak memory growth)",
        measured=growth,
        unit="MB",
        target="<= 30 MB",
        met=growth <= 30,
        detail=(
            f"{result['messages']} messages in {result['seconds']:.1f} s ({rate:,.0f} a second, "
            f"{result['cpu_seconds']:.1f} s of client CPU); peak RSS growth of a fresh process"
        ),
        data=result,
    )

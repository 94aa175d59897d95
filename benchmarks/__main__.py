"""``python -m benchmarks``: run the benchmark suite, print the table, write the JSON.

Every figure is a ratio or a count measured in this one run, against the embedded sandbox on
loopback (served by a child process), so the figures hold on a noisy machine. A target that
is missed is reported, not failed on: the exit status is 0 whenever the suite ran.

Options:
    --quick          small counts: a smoke run of every figure in seconds
    --only NAME ...  only these figures
    --output PATH    where the JSON goes (default benchmarks/results/latest.json)
    --profile NAME   run one figure's work under cProfile and print where the time goes
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from . import bulk, calls, concurrency, imports, lex, sandbox_throughput, watch
from ._common import FULL, QUICK, Figure, Settings, machine, table
from ._sandbox import RemoteSandbox

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

#: Every figure, in the order of the table: name → (needs the sandbox, function).
FIGURES: dict[str, tuple[bool, Callable[..., Figure]]] = {
    "per_call_overhead": (True, calls.per_call_overhead),
    "client_cpu": (True, calls.client_cpu),
    "model_conversion": (False, calls.model_conversion),
    "tour_fanout": (True, concurrency.tour_fanout),
    "lex_batching": (True, lex.lex_batching),
    "order_drain": (True, lex.order_drain),
    "token_reuse": (True, concurrency.token_reuse),
    "import_time": (False, imports.import_time),
    "sandbox_throughput": (False, sandbox_throughput.sandbox_throughput),
    "track_many_rate": (True, bulk.track_many_rate),
    "rate_limit": (True, bulk.rate_limit),
    "dask_scaling": (True, bulk.dask_scaling),
    "watch_due_selection": (False, watch.due_selection),
    "watcher_cpu": (True, watch.watcher_cpu),
}


def run(names: Sequence[str], settings: Settings, *, log: Any = sys.stderr) -> list[Figure]:
    """Measure the figures ``names``, in table order."""
    figures: list[Figure] = []
    with RemoteSandbox() as sb:
        for name, (needs_sandbox, measure) in FIGURES.items():
            if name not in names:
                continue
            log.write(f"measuring {name}...\n")
            log.flush()
            if needs_sandbox:
                # Each figure starts from the sandbox's seeded data: what a figure before it
                # added (a thousand shipments in tours, ten thousand recorded calls) would
                # make the sandbox's own work, and so this figure, depend on the order.
                sb.reset()
            started = time.perf_counter()
            figure = measure(sb, settings) if needs_sandbox else measure(settings)
            figure.data["seconds"] = round(time.perf_counter() - started, 3)
            figures.append(figure)
    return figures


def report(figures: Sequence[Figure], settings: Settings, seconds: float) -> dict[str, Any]:
    """The JSON document of a run."""
    return {
        "suite": "shiptrack-sdk benchmarks",
        "mode": "quick" if settings.quick else "full",
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "machine": machine(),
        "settings": attrs.asdict(settings),
        "figures": [attrs.asdict(figure) for figure in figures],
    }


def profile(name: str, settings: Settings) -> None:
    """Run figure ``name`` under cProfile and print the functions it spends most time in."""
    import cProfile
    import pstats

    needs_sandbox, measure = FIGURES[name]
    with RemoteSandbox() as sb:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            measure(sb, settings) if needs_sandbox else measure(settings)
        finally:
            profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="shiptrack-sdk's benchmark suite"
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--only", nargs="+", choices=list(FIGURES), metavar="NAME")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON file")
    parser.add_argument("--profile", choices=list(FIGURES), metavar="NAME")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.profile:
        profile(args.profile, settings)
        return 0
    started = time.perf_counter()
    figures = run(args.only or list(FIGURES), settings)
    document = report(figures, settings, time.perf_counter() - started)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    info = document["machine"]
    print(
        f"shiptrack-sdk benchmarks ({document['mode']}) on {info['cores']} cores, "
        f"{info['cpu']}, Python {info['python']}, {info['platform']}"
    )
    print(table(figures))
    for figure in figures:
        print(f"- {figure.title}: {figure.detail}")
    missed = [f.title for f in figures if not f.met]
    print(f"\n{len(figures) - len(missed)} of {len(figures)} targets met", end="")
    print(f"; missed: {', '.join(missed)}" if missed else "")
    print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measuring helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import attrs


@attrs.define
class Figure:
    """One line of the results table."""

    name: str
    measured: float
    unit: str
    target: str
    met: bool
    detail: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(
    a: Callable[[], Any], b: Callable[[], Any], rounds: int, *, warmup: int = 50
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately, ``rounds`` times each, after a warm-up.

    Alternating puts both under the same machine noise, so their ratio holds on a busy host.
    """
    for _ in range(warmup):
        a()
        b()
    times_a: list[float] = []
    times_b: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for i in range(rounds):
            if i % 2:
                times_b.append(timed(b))
                times_a.append(timed(a))
            else:
                times_a.append(timed(a))
                times_b.append(timed(b))
    finally:
        if gc_was:
            gc.enable()
    return times_a, times_b


def trimmed_mean(values: list[float], trim: float = 0.05) -> float:
    """Mean without the slowest and fastest ``trim`` share (scheduler hiccups)."""
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] or ordered
    return statistics.fmean(kept)

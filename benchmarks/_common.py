"""Measuring helpers shared by the benchmarks."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs


@attrs.define
class Figure:
    """One line of the results table.

    Attributes:
        name: The figure's key (``per_call_overhead``...).
        title: What the table calls it.
        measured: The measured value, in ``unit``.
        unit: ``"x"`` (a ratio), ``"us"``, ``"MB"``, ``"requests"``...
        target: The target, as the table shows it (``"<= 1.15x"``).
        met: Whether the target is met.
        detail: One line on how it was measured and what else was seen.
        data: Every number behind the figure, for the JSON file.
    """

    name: str
    title: str
    measured: float
    unit: str
    target: str
    met: bool
    detail: str = ""
    data: dict[str, Any] = attrs.field(factory=dict)

    def shown(self) -> str:
        """The measured value with its unit, as the table shows it."""
        if self.unit == "x":
            return f"{self.measured:.2f}x"
        if self.unit == "us":
            return f"{self.measured:.1f} us"
        if self.unit == "MB":
            return f"{self.measured:.1f} MB"
        return f"{self.measured:g} {self.unit}"


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


def trimmed_mean(values: Sequence[float], trim: float = 0.05) -> float:
    """Mean without the slowest and fastest ``trim`` share (scheduler hiccups)."""
    ordered = sorted(values)
    cut = int(len(ordered) * trim)
    kept = ordered[cut : len(ordered) - cut] or ordered
    return statistics.fmean(kept)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "executable": os.path.basename(sys.executable),
    }


def table(figures: Sequence[Figure]) -> str:
    """The results as a plain-text table: figure, measured, target, met?"""
    rows = [("figure", "measured", "target", "met?")]
    rows += [(f.title, f.shown(), f.target, "yes" if f.met else "NO") for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [line]
    for index, row in enumerate(rows):
        out.append(
            " " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


@attrs.frozen
class Settings:
    """How much work each figure does: the documented counts, or a quick smoke run."""

    quick: bool
    #: Calls of each kind, interleaved (per-call overhead).
    calls: int
    #: Conversions per sample, and samples (model conversion).
    conversions: int
    samples: int
    #: Shipments in tours, and the sandbox's latency per request (tour fan-out).
    shipments: int
    latency: float
    #: Tracking messages sent each way (LEX batching).
    messages: int
    #: Order messages drained (order drain).
    orders: int
    #: Threads started at once, and rounds with a fresh client each (token reuse).
    threads: int
    rounds: int
    #: Fresh interpreters per import measured (import time).
    imports: int


FULL = Settings(
    quick=False,
    calls=2000,
    conversions=2000,
    samples=7,
    shipments=1000,
    latency=0.02,
    messages=10_000,
    orders=100_000,
    threads=16,
    rounds=5,
    imports=9,
)

QUICK = Settings(
    quick=True,
    calls=100,
    conversions=200,
    samples=3,
    shipments=48,
    latency=0.005,
    messages=300,
    orders=2_000,
    threads=16,
    rounds=1,
    imports=2,
)

"""The benchmark suite still runs: ``python -m benchmarks --quick`` end to end.

It runs every figure with small counts in a subprocess, as its documentation says to run it,
and checks the report's shape, not the figures (timings are not asserted; the benchmark
suite reports them, it does not test them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [
    "per_call_overhead",
    "client_cpu",
    "model_conversion",
    "tour_fanout",
    "lex_batching",
    "order_drain",
    "token_reuse",
    "import_time",
    "sandbox_throughput",
    "track_many_rate",
    "rate_limit",
    "dask_scaling",
    "watch_due_selection",
    "watcher_cpu",
]


@pytest.mark.slow
def test_quick_run_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    output = tmp_path / "results" / "latest.json"
    done = subprocess.run(  # noqa: S603 (this Python, the suite's documented command)
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| measured" in done.stdout
    assert "targets met" in done.stdout

    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["mode"] == "quick"
    assert report["machine"]["cores"] >= 1
    assert [figure["name"] for figure in report["figures"]] == FIGURES
    for figure in report["figures"]:
        assert isinstance(figure["measured"], (int, float)), figure
        assert figure["measured"] >= 0, figure
        assert isinstance(figure["met"], bool), figure
        assert figure["title"] in done.stdout
    # A count, not a timing: 16 threads on a cold client share one token request.
    tokens = next(f for f in report["figures"] if f["name"] == "token_reuse")
    assert tokens["measured"] == 1
    assert tokens["data"]["sandbox_tokens_issued"] == [1] * tokens["data"]["rounds"]


def test_unknown_figure_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nothing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr

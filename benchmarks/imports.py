"""Import time: ``import shiptrack_sdk`` against ``import requests``, in fresh interpreters."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ._common import Figure, Settings, median

ROOT = Path(__file__).resolve().parent.parent
_MARK = "--shiptrack-benchmark: imports start--"


def _parse(stderr: str) -> tuple[float, float]:
    """``(µs of the top-level imports after the mark, µs of an editable-install finder
    imported at start-up)`` from ``-X importtime`` output."""
    lines = stderr.splitlines()
    start = lines.index(_MARK)
    finder = 0.0
    for line in lines[:start]:
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip().startswith("__editable__"):
            finder = float(parts[1])
    total = 0.0
    for line in lines[start + 1 :]:
        parts = line.split("|")
        # Top-level imports have their name right after "| "; nested ones are indented.
        if len(parts) == 3 and line.startswith("import time:") and parts[2][1:2] != " ":
            total += float(parts[1])
    return total, finder


def _measure(statement: str, cwd: str, env: dict[str, str]) -> tuple[float, float]:
    code = f"import sys; sys.stderr.write({_MARK!r} + '\\n'); sys.stderr.flush(); {statement}"
    done = subprocess.run(  # noqa: S603 (this Python, our own statement)
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return _parse(done.stderr)


def import_time(settings: Settings) -> Figure:
    """Medians over ``imports`` fresh interpreters each, run alternately."""
    statements = {
        "sdk": "import shiptrack_sdk",
        "requests": "import requests",
        "client": "from shiptrack_sdk import ShiplemonClient",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    # The package on sys.path ahead of the installed one: what a regular (non-editable)
    # install looks like to the import system, without the editable finder's lookup.
    on_path = {**env, "PYTHONPATH": str(ROOT)}
    times: dict[str, list[float]] = {key: [] for key in (*statements, "sdk_on_path")}
    finders: list[float] = []
    installed = True
    with tempfile.TemporaryDirectory() as cwd:  # not the repository: import as a user does
        try:
            _measure(statements["sdk"], cwd, env)
        except subprocess.CalledProcessError:  # not installed: measured from the source tree
            env, installed = on_path, False
        for statement in statements.values():  # compile and cache the bytecode first
            _measure(statement, cwd, env)
        for _ in range(settings.imports):
            for key, statement in statements.items():
                spent, finder = _measure(statement, cwd, env)
                times[key].append(spent)
                finders.append(finder)
            times["sdk_on_path"].append(_measure(statements["sdk"], cwd, on_path)[0])
    ms = {key: median(values) / 1000 for key, values in times.items()}
    ratio = ms["sdk"] / ms["requests"]
    finder_ms = median(finders) / 1000
    return Figure(
        name="import_time",
        title="import time (shiptrack_sdk / requests)",
        measured=ratio,
        unit="x",
        target="<= 1.5x",
        met=ratio <= 1.5,
        detail=(
            f"medians of {settings.imports} fresh interpreters: import shiptrack_sdk "
            f"{ms['sdk']:.1f} ms, import requests {ms['requests']:.1f} ms; a first client "
            f"(from shiptrack_sdk import ShiplemonClient, requests included) "
            f"{ms['client']:.1f} ms; the editable-install finder costs {finder_ms:.1f} ms at "
            f"interpreter start-up, outside both figures"
        ),
        data={
            "runs": settings.imports,
            "installed": installed,
            "sdk_ms": ms["sdk"],
            "requests_ms": ms["requests"],
            "first_client_ms": ms["client"],
            "first_client_ratio": ms["client"] / ms["requests"],
            "sdk_on_sys_path_ms": ms["sdk_on_path"],
            "editable_finder_startup_ms": finder_ms,
            "samples_ms": {key: [v / 1000 for v in values] for key, values in times.items()},
        },
    )

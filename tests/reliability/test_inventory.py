"""The reliability page's counts of crash trials are the test modules' own."""

from __future__ import annotations

import re
from pathlib import Path

from tests.lex import test_journal_crash
from tests.reliability import inventory
from tests.watch import test_crash as test_watch_crash

ROOT = Path(__file__).resolve().parents[2]


def test_inventory_crash_trials() -> None:
    trials = {
        re.search(r"\((tests/[^)]+)\)", what).group(1): n  # type: ignore[union-attr]
        for what, n in inventory.CRASH_TRIALS.items()
    }
    assert trials["tests/lex/test_journal_crash.py"] == test_journal_crash.TRIALS
    assert trials["tests/lex/test_journal_crash.py"] >= 20  # the promise: at least 20 kills
    assert trials["tests/watch/test_crash.py"] == test_watch_crash.TRIALS >= 20
    for path, count in trials.items():
        source = (ROOT / path).read_text(encoding="utf-8")
        assert "SIGKILL" in source, path
        if path.endswith("test_checkpoint.py"):
            # One child that kills itself, started once per kill.
            assert source.count("os.kill(os.getpid(), signal.SIGKILL)") == 1
            assert f"for _ in range({count}):" in source
        if path.endswith("test_push_dedup.py"):
            assert source.count("signal.SIGKILL)") == count

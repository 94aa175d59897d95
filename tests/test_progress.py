"""Progress reporting shared by long operations: callbacks, totals, threads, optional tqdm."""

from __future__ import annotations

import builtins
import io
import threading
from typing import Any

import pytest

from shiptrack_sdk._core.progress import Progress


def test_callback_gets_done_and_total() -> None:
    seen: list[tuple[int, int | None]] = []
    with Progress(lambda done, total: seen.append((done, total)), 3) as progress:
        progress.advance()
        progress.advance(2)
    assert seen == [(1, 3), (3, 3)]
    assert progress.done == 3


def test_total_set_when_known() -> None:
    seen: list[tuple[int, int | None]] = []
    progress = Progress(lambda done, total: seen.append((done, total)))
    progress.advance()
    progress.set_total(5)
    progress.advance()
    assert seen == [(1, None), (2, 5)]


@pytest.mark.parametrize("value", [None, False])
def test_no_reporting(value: Any) -> None:
    progress = Progress(value, 2)
    progress.advance()
    progress.close()
    assert progress.done == 1


def test_counts_are_exact_across_threads() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def record(done: int, total: int | None) -> None:
        with lock:
            seen.append(done)

    progress = Progress(record, 800)
    threads = [
        threading.Thread(target=lambda: [progress.advance() for _ in range(100)]) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert progress.done == 800
    assert sorted(seen) == list(range(1, 801))


def test_true_shows_a_tqdm_bar_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    tqdm_auto = pytest.importorskip("tqdm.auto")
    stream = io.StringIO()
    real = tqdm_auto.tqdm
    monkeypatch.setattr(tqdm_auto, "tqdm", lambda **kw: real(file=stream, **kw))
    with Progress(True, 4, description="work") as progress:
        progress.advance(4)
    assert "work" in stream.getvalue()
    assert "4/4" in stream.getvalue()


def test_true_without_tqdm_reports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_tqdm(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    with Progress(True, 2) as progress:
        progress.advance(2)
    assert progress.done == 2

"""Checkpoints of the LEX order polling loop: the cursor's format, atomic file writes, and
refusing what is not a cursor."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.errors import ShiptrackError
from shiptrack_sdk.lex import Checkpoint, CheckpointError, Cursor, FileCheckpoint, MemoryCheckpoint

STAMP = datetime(2024, 9, 2, 6, 0, 0, 123456, tzinfo=timezone.utc)


def test_a_missing_file_is_no_cursor(tmp_path: Path) -> None:
    assert FileCheckpoint(tmp_path / "none.json").load() is None


def test_save_and_load_round_trip_keeps_microseconds_and_ids(tmp_path: Path) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    cursor = Cursor(STAMP, {"LEX-2", "LEX-1"})
    checkpoint.save(cursor)
    assert checkpoint.load() == cursor
    assert json.loads((tmp_path / "cp.json").read_text()) == {
        "version": 1,
        "timestamp": "2024-09-02T06:00:00.123456+00:00",
        "seen_ids": ["LEX-1", "LEX-2"],
    }
    checkpoint.save(Cursor(None))
    assert checkpoint.load() == Cursor()


def test_the_bound_past_a_full_timestamp_is_kept(tmp_path: Path) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    for bound in ("at", "after", "below"):
        checkpoint.save(Cursor(STAMP, {"LEX-1"}, bound))
        assert checkpoint.load() == Cursor(STAMP, {"LEX-1"}, bound)
    # The usual bound is left out: files written before it existed read the same.
    assert "bound" not in json.loads((tmp_path / "cp.json").read_text())
    with pytest.raises(ValidationError, match="bound"):
        Cursor(STAMP, (), "beyond")


def test_cursor_timestamps_are_aware_and_utc() -> None:
    local = STAMP.astimezone(timezone(timedelta(hours=8)))
    assert Cursor(local).timestamp == STAMP
    assert Cursor(local).timestamp.tzinfo is timezone.utc  # type: ignore[union-attr]
    with pytest.raises(ValidationError):
        Cursor(datetime(2024, 9, 2))


def test_save_replaces_atomically_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    for n in range(5):
        checkpoint.save(Cursor(STAMP + timedelta(seconds=n), {f"id-{n}"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]
    assert checkpoint.load() == Cursor(STAMP + timedelta(seconds=4), {"id-4"})


def test_a_failed_save_keeps_the_previous_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    checkpoint.save(Cursor(STAMP, {"kept"}))

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CheckpointError, match="disk full"):
        checkpoint.save(Cursor(STAMP + timedelta(hours=1), {"lost"}))
    monkeypatch.undo()
    assert checkpoint.load() == Cursor(STAMP, {"kept"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]


def test_a_missing_directory_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError):
        FileCheckpoint(tmp_path / "no" / "such" / "dir.json").save(Cursor(STAMP))


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        json.dumps({"version": 99, "timestamp": None, "seen_ids": []}),
        json.dumps({"version": 1, "timestamp": "yesterday", "seen_ids": []}),
        json.dumps({"version": 1, "timestamp": None, "seen_ids": "LEX-1"}),
        json.dumps({"version": 1, "timestamp": None, "seen_ids": [], "bound": "beyond"}),
    ],
)
def test_a_file_that_holds_no_cursor_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cp.json"
    path.write_text(content)
    with pytest.raises(CheckpointError) as info:
        FileCheckpoint(path).load()
    assert isinstance(info.value, ShiptrackError)


def test_clear_forgets_the_cursor(tmp_path: Path) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    checkpoint.clear()  # nothing to clear is fine
    checkpoint.save(Cursor(STAMP))
    checkpoint.clear()
    assert checkpoint.load() is None


def test_memory_checkpoint_and_the_protocol() -> None:
    memory = MemoryCheckpoint()
    assert memory.load() is None
    memory.save(Cursor(STAMP, {"a"}))
    assert memory.load() == Cursor(STAMP, {"a"})
    assert memory.saves == 1
    assert isinstance(memory, Checkpoint)
    assert isinstance(FileCheckpoint("cp.json"), Checkpoint)
    assert not isinstance(object(), Checkpoint)
    with pytest.raises(ValidationError):
        FileCheckpoint("")

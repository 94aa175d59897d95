"""Checkpoints of the LEX order polling loop: the cursor's format, atomic file writes, and
refusing what is not a cursor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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


# -- files that hold no cursor, whatever their bytes ----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe{\x00",  # not UTF-8
        b'{"version": 1, "timestamp": "\xe9t\xe9", "seen_ids": []}',  # Latin-1
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond any recursion limit
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"version": 1, "timestamp": ' + b"9" * 400 + b', "seen_ids": []}',  # no float holds it
        b'{"version": 1, "timestamp": 1e999, "seen_ids": []}',
        b'{"version": 1, "timestamp": NaN, "seen_ids": []}',
        b'{"version": 1, "timestamp": 1725256800, "seen_ids": []}',  # a number, not the format
        b'{"version": true, "timestamp": null, "seen_ids": []}',
        b'{"version": 1.0, "timestamp": null, "seen_ids": []}',
        b'{"version": 1, "timestamp": "0001-01-01T00:00:00+23:59", "seen_ids": []}',  # year 0
        b'{"version": 1, "timestamp": null, "seen_ids": [], "unplaced_ids": "m1"}',
        b'{"version": 1, "timestamp": null, "seen_ids": [], "unplaced_ids": [1]}',
        b"\x00" * 64,
        b"",
    ],
)
def test_every_unreadable_file_is_a_checkpoint_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cp.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        FileCheckpoint(path).load()


def test_a_file_beyond_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    big = Cursor(STAMP, {f"LEX-{i:09d}" for i in range(80_000)})  # a valid cursor of 1.3 MB
    path.write_text(json.dumps(big.to_json()))
    with pytest.raises(CheckpointError, match="larger than"):
        FileCheckpoint(path).load()
    assert FileCheckpoint(path, max_bytes=2 * 1024 * 1024).load() == big
    # What would not load again is not written either: the previous cursor stays.
    small = FileCheckpoint(tmp_path / "small.json", max_bytes=200)
    small.save(Cursor(STAMP, {"kept"}))
    with pytest.raises(CheckpointError, match="larger than"):
        small.save(big)
    assert small.load() == Cursor(STAMP, {"kept"})
    for bad in (0, -1, True, 1.5, "1"):
        with pytest.raises(ValidationError, match="max_bytes"):
            FileCheckpoint(path, max_bytes=bad)  # type: ignore[arg-type]


def test_a_directory_in_place_of_the_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    (tmp_path / "cp.json").mkdir()
    with pytest.raises(CheckpointError):
        FileCheckpoint(tmp_path / "cp.json").load()


# -- temporary files a crash left behind ----------------------------------------------------------

CRASH_BETWEEN_WRITE_AND_RENAME = """
import os, signal, sys
from datetime import datetime, timezone
from shiptrack_sdk.lex import Cursor, FileCheckpoint

def killed(*args):
    os.kill(os.getpid(), signal.SIGKILL)

checkpoint = FileCheckpoint(sys.argv[1])
os.replace = killed   # the process dies once the temporary file is written, before the rename
checkpoint.save(Cursor(datetime(2024, 9, 3, tzinfo=timezone.utc), {"new"}))
"""


def test_temporary_files_left_by_a_killed_process_are_removed_by_the_next_save(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cp.json"
    FileCheckpoint(path).save(Cursor(STAMP, {"kept"}))
    for _ in range(2):
        child = subprocess.run(  # noqa: S603 (this Python, a script of this test)
            [sys.executable, "-c", CRASH_BETWEEN_WRITE_AND_RENAME, str(path)],
            capture_output=True,
            timeout=60,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "cp.json")
    assert len(left) == 2
    assert all(n.startswith(".cp.json.") and n.endswith(".tmp") for n in left)
    # The previous cursor is intact; the next save removes what the crashes left.
    checkpoint = FileCheckpoint(path)
    assert checkpoint.load() == Cursor(STAMP, {"kept"})
    checkpoint.save(Cursor(STAMP, {"next"}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]
    assert checkpoint.load() == Cursor(STAMP, {"next"})


def test_only_this_checkpoints_temporary_files_are_removed(tmp_path: Path) -> None:
    keep = [".cp.json.notes", ".other.json.abcd1234.tmp", "cp.json.bak.tmp", ".cp.json.x.tmp"]
    stale = [".cp.json.abcd_123.tmp", ".cp.json.k2j3h4g5.tmp"]
    for name in keep + stale:
        (tmp_path / name).write_text("{}")
    FileCheckpoint(tmp_path / "cp.json").save(Cursor(STAMP))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*keep, "cp.json"])


# -- the keys of messages the cursor cannot place -----------------------------------------------


def test_unplaced_ids_round_trip_in_order_and_are_left_out_when_empty(tmp_path: Path) -> None:
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    cursor = Cursor(STAMP, {"LEX-1"}, unplaced_ids=["m9", "sha256:ab", "m1"])
    assert cursor.unplaced_ids == ("m9", "sha256:ab", "m1")
    checkpoint.save(cursor)
    assert checkpoint.load() == cursor
    assert json.loads((tmp_path / "cp.json").read_text())["unplaced_ids"] == [
        "m9",
        "sha256:ab",
        "m1",
    ]
    checkpoint.save(Cursor(STAMP, {"LEX-1"}))
    assert "unplaced_ids" not in json.loads((tmp_path / "cp.json").read_text())
    with pytest.raises(ValidationError, match="unplaced_ids"):
        Cursor(STAMP, unplaced_ids="m1")

"""The recorder on a failing disk: whole rows only, a clear stop, nothing raised (issue 8 §3)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from feeds.events import FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions
from feeds.storage.recorder import HEADER, Recorder
from feeds.storage.replay import ReplayFeed, load_replay

T0 = 1_762_353_000_000


def tick(i: int, price: float = 121.07) -> Tick:
    return Tick("AAA", price + i, T0 + i * 1000)


def test_a_failed_flush_cuts_back_to_the_last_whole_row_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rec.csv"
    rec = Recorder(path)
    rec.write(tick(0))
    rec.flush()
    good = path.read_bytes()
    real_write = os.write

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[:25]))  # part of a row reaches the disk...
        raise OSError(errno.ENOSPC, "No space left on device")  # ...then the disk is full

    monkeypatch.setattr("feeds.storage.recorder.os.write", full_disk)
    rec.write(tick(1))
    rec.write(tick(2))
    rec.flush()  # never raises
    assert path.read_bytes() == good  # the cut row is gone: only whole rows
    assert rec.stopped is not None and "\n" not in rec.stopped
    assert f"recording to '{path}' stopped after 1 rows (No space left on device)" in rec.stopped
    monkeypatch.setattr("feeds.storage.recorder.os.write", real_write)
    rec.write(tick(3))  # recording has stopped: counted, not written
    rec.close()
    assert path.read_bytes() == good
    assert rec.lost == 3 and rec.rows == 1
    assert "3 ticks not recorded" in (rec.problem() or "")
    data = load_replay(path)
    assert data.price.tolist() == [121.07] and data.note == ""


def test_a_cut_last_row_is_removed_when_recording_resumes(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    path.write_text(f"{HEADER}\n{T0},AAA,121.07,,,\n{T0 + 1000},AAA,121.0", encoding="utf-8")
    rec = Recorder(path)
    assert rec.repaired is not None and "removed a cut last row" in rec.repaired
    rec.write(tick(2))
    rec.close()
    assert load_replay(path).price.tolist() == [121.07, 123.07]


def test_a_full_disk_at_the_start_is_one_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    from feeds.errors import InputFileError

    with pytest.raises(InputFileError, match=r"No space left on device.*--out"):
        Recorder("/dev/full")


async def test_a_replay_skips_a_cut_final_row_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    # 121.07 cut after "121.0": it would play a wrong price
    path.write_text(f"{HEADER}\n{T0},AAA,120.5,,,\n{T0 + 1000},AAA,121.0", encoding="utf-8")
    feed = ReplayFeed("replay", path, FeedOptions(speed=0))
    async with feed:
        events = [ev async for ev in feed]
    first = events[0]
    assert isinstance(first, FeedStatus) and first.state is FeedState.LIVE
    assert first.detail == (
        "replay of rec.csv, 1 rows (line 3 was cut short by an interrupted write and is skipped)"
    )
    assert [t.price for t in events if isinstance(t, Tick)] == [120.5]


def test_a_cut_row_in_another_csv_is_skipped_only_when_short(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text(f"ts,symbol,price\n{T0},AAA,10\n{T0 + 1},AA", encoding="utf-8")
    data = load_replay(short)
    assert data.price.tolist() == [10.0] and "line 3 was cut short" in data.note
    whole = tmp_path / "whole.csv"  # a hand-made file without a final newline is fine
    whole.write_text(f"ts,symbol,price\n{T0},AAA,10\n{T0 + 1},BBB,11", encoding="utf-8")
    data = load_replay(whole)
    assert data.price.tolist() == [10.0, 11.0] and data.note == ""


@pytest.mark.parametrize("name", ["ticks.csv", "ticks.parquet"])
def test_a_recording_under_a_file_names_that_file(tmp_path: Path, name: str) -> None:
    from feeds.errors import InputFileError
    from feeds.storage.recorder import open_recorder

    blocker = tmp_path / "notes"
    blocker.write_text("")
    with pytest.raises(InputFileError) as info:
        open_recorder(blocker / name)
    assert f"('{blocker}' is a file, not a folder)" in str(info.value)


@pytest.mark.parametrize("name", ["ticks.csv", "ticks.parquet"])
def test_a_recording_that_never_got_a_tick_leaves_no_file(tmp_path: Path, name: str) -> None:
    """A refused key or no network: the header-only file replayed nothing, and a Parquet one
    refused the same command once the key was fixed ("cannot be appended to")."""
    from feeds.storage.recorder import open_recorder

    rec = open_recorder(tmp_path / name)
    rec.close()
    assert rec.discarded and sorted(tmp_path.iterdir()) == []
    again = open_recorder(tmp_path / name)  # the same command works again
    again.write(tick(0))
    again.close()
    assert not again.discarded and (tmp_path / name).exists()


def test_an_existing_csv_is_kept_even_without_a_new_tick(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    with Recorder(path) as rec:
        rec.write(tick(0))
    before = path.read_bytes()
    rec = Recorder(path)
    rec.close()
    assert not rec.discarded and path.read_bytes() == before


class DiskWithRoom:
    """``os.write`` on a disk with ``room`` bytes left for files under ``folder``: a write that
    does not fit puts what fits there, then fails with ENOSPC (as a real full disk does)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path, room: int) -> None:
        self.size = room
        self.folder = folder
        self.real = os.write
        monkeypatch.setattr("feeds.storage.recorder.os.write", self)

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").startswith(str(self.folder)):
            return self.real(fd, data)
        # the room left: what the files there do not use (a truncation frees space)
        room = self.size - sum(p.stat().st_size for p in self.folder.iterdir())
        if len(data) > room:
            if room > 0:
                self.real(fd, bytes(data[:room]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real(fd, data)


@pytest.mark.parametrize("name", ["rec.csv", "rec.parquet"])
def test_a_full_disk_keeps_every_whole_row_that_fits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # issue 19 §2: a second's chunk larger than the room left used to keep nothing at all
    from feeds.storage.recorder import open_recorder

    path = tmp_path / name
    DiskWithRoom(monkeypatch, tmp_path, 6_000)
    rec = open_recorder(path)
    for i in range(5_000):
        rec.write(tick(i))
    rec.close()
    assert 0 < rec.rows < 5_000 and rec.rows + rec.lost == 5_000
    assert rec.stopped is not None
    assert f"stopped after {rec.rows:,} rows (No space left on device)" in rec.stopped
    assert "replays as is" in rec.stopped
    data = load_replay(path)  # a Parquet one through its journal
    assert len(data.price) == rec.rows
    assert data.price.tolist() == [121.07 + i for i in range(rec.rows)]


@pytest.mark.parametrize("name", ["rec.csv", "rec.parquet"])
def test_a_disk_full_before_the_first_row_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # the header (CSV) or the magic (Parquet) fits, not one row: nothing kept, no file left
    # that blocks the same --out next time, and no message claims the file replays
    from feeds.storage.recorder import open_recorder

    path = tmp_path / name
    DiskWithRoom(monkeypatch, tmp_path, 80)
    rec = open_recorder(path)
    for i in range(1_000):
        rec.write(tick(i))
    rec.flush()
    assert rec.stopped is not None and "nothing was kept" in rec.stopped
    assert "replays as is" not in rec.stopped
    rec.close()
    assert rec.rows == 0 and rec.discarded
    assert sorted(p.name for p in tmp_path.iterdir()) == []

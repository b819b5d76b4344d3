"""Recording formats (issue 11): Parquet by default or for .parquet, CSV for .csv, anything else
refused; Parquet in row groups flushed each second with a journal, so a crash loses at most
that second; Ctrl+C closes the file; a full disk keeps whole row groups; the daily sidecar
keeps open/high/low and the members' closes."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from feeds.errors import InputFileError
from feeds.events import DailyBars, DailyCloses, SessionCloses, Tick
from feeds.storage.recorder import ParquetRecorder, Recorder, open_recorder, recording_path
from feeds.storage.replay import daily_path, load_daily, load_replay
from tui.cli import main

T0 = 1_762_353_000_000  # 2025-11-05 14:30 UTC
ROOT = Path(__file__).resolve().parents[2]


def tick(i: int, symbol: str = "AAA") -> Tick:
    return Tick(symbol, 121.07 + i, T0 + i * 1000, 100.0 + i, 1000.0 * (i + 1), prev_close=120.0)


def test_the_extension_names_the_format(tmp_path: Path) -> None:
    assert recording_path(tmp_path / "rec") == tmp_path / "rec.parquet"  # the default
    assert recording_path(tmp_path / "rec.parquet") == tmp_path / "rec.parquet"
    assert recording_path(tmp_path / "rec.csv") == tmp_path / "rec.csv"
    with pytest.raises(InputFileError) as e:
        recording_path(tmp_path / "rec.txt")
    assert "unknown format '.txt'; end the file name in .parquet (the default) or .csv" in str(
        e.value
    )
    assert isinstance(open_recorder(tmp_path / "a"), ParquetRecorder)
    assert type(open_recorder(tmp_path / "b.csv")) is Recorder


def test_record_refuses_another_extension_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["record", "--feed", "sim", "--out", str(tmp_path / "rec.json")])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "unknown format '.json'" in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_parquet_round_trip_one_row_group_per_flush(tmp_path: Path) -> None:
    path = tmp_path / "rec.parquet"
    rec = open_recorder(path)
    for i in range(3):
        rec.write(tick(i))
    rec.flush()
    rec.write(Tick("^RUT", 2450.5, T0 + 5000))  # no previous close: the cell stays empty
    rec.flush()
    assert rec.journal_path.exists()  # type: ignore[attr-defined]
    rec.close()
    assert not rec.journal_path.exists()  # type: ignore[attr-defined]
    meta = pq.read_metadata(path)
    assert (meta.num_row_groups, meta.num_rows) == (2, 4)
    data = load_replay(path)
    assert data.note == ""
    assert data.symbols() == ["AAA", "AAA", "AAA", "^RUT"]
    assert data.price.tolist() == [121.07, 122.07, 123.07, 2450.5]
    assert data.optional["prev_close"].tolist()[:3] == [120.0] * 3
    assert data.optional["size"].tolist()[:3] == [100.0, 101.0, 102.0]
    assert str(data.optional["prev_close"][3]) == "nan"


def test_an_existing_parquet_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "rec.parquet"
    rec = open_recorder(path)
    rec.write(tick(0))
    rec.close()
    before = path.read_bytes()
    with pytest.raises(InputFileError, match="exists and a Parquet file cannot be appended to"):
        open_recorder(path)
    assert path.read_bytes() == before


def _crash(rec: ParquetRecorder) -> None:
    """What a killed process leaves: the descriptors closed, no footer written."""
    rec._pq.is_open = False
    os.close(rec._fd)
    os.close(rec._jfd)
    rec._fd = rec._jfd = -1


def test_a_crash_loses_at_most_the_rows_since_the_last_flush(tmp_path: Path) -> None:
    path = tmp_path / "rec.parquet"
    rec = open_recorder(path)
    assert isinstance(rec, ParquetRecorder)
    for i in range(5):
        rec.write(tick(i))
        if i in (1, 3):
            rec.flush()
    _crash(rec)  # the fifth row was never flushed
    with pytest.raises(Exception):  # noqa: B017 - no footer: no Parquet reader reads it as is
        pq.read_table(path)
    data = load_replay(path)
    assert data.price.tolist() == [121.07, 122.07, 123.07, 124.07]
    assert "an interrupted recording, read from its journal (4 rows)" in data.note
    # a row group cut by the crash (its bytes only partly on disk) is skipped
    with path.open("ab") as f:
        f.write(b"\x15\x00\x15 half a row group")
    data = load_replay(path)
    assert data.price.tolist() == [121.07, 122.07, 123.07, 124.07]
    assert "20 bytes after the last whole row group skipped" in data.note
    with pytest.raises(InputFileError, match=r"interrupted recording \(replay:PATH reads it\)"):
        open_recorder(path)


def test_a_full_disk_keeps_the_whole_row_groups_and_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "rec.parquet"
    rec = open_recorder(path)
    rec.write(tick(0))
    rec.flush()
    size = path.stat().st_size
    real_write = os.write

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[:7]))  # part of the row group reaches the disk...
        raise OSError(errno.ENOSPC, "No space left on device")  # ...then the disk is full

    monkeypatch.setattr("feeds.storage.recorder.os.write", full_disk)
    rec.write(tick(1))
    rec.write(tick(2))
    rec.flush()  # never raises
    assert path.stat().st_size == size  # the cut row group is gone
    assert rec.stopped is not None and "\n" not in rec.stopped
    assert f"recording to '{path}' stopped after 1 rows (No space left on device)" in rec.stopped
    monkeypatch.setattr("feeds.storage.recorder.os.write", real_write)
    rec.write(tick(3))  # stopped: counted, not written
    rec.close()
    assert (rec.rows, rec.lost) == (1, 3)
    assert "3 ticks not recorded" in (rec.problem() or "")
    data = load_replay(path)  # from the journal: the footer was never written
    assert data.price.tolist() == [121.07] and "journal" in data.note


def test_the_sidecar_keeps_ranges_and_the_members_closes(tmp_path: Path) -> None:
    path = tmp_path / "rec.csv"
    rec = open_recorder(path)
    rec.write_daily(
        DailyBars(
            "^RUT",
            [
                ("2025-11-03", 2400.0, 2420.0, 2390.0, 2410.0),
                ("2025-11-04", None, None, None, 2440.0),
            ],
        )
    )
    rec.write_daily(DailyCloses("^GSPC", [("2025-11-04", 6800.0)]))
    rec.write_daily(SessionCloses("2024-12-31", {"AAA": 10.5, "BBB": 20.25}))
    assert not daily_path(path).exists()  # written at the next flush, not per event
    rec.flush()
    text = daily_path(path).read_text().splitlines()
    assert text[2:] == [
        "symbol,date,close,open,high,low",
        "AAA,2024-12-31,10.5,,,",
        "BBB,2024-12-31,20.25,,,",
        "^GSPC,2025-11-04,6800.0,,,",
        "^RUT,2025-11-03,2410.0,2400.0,2420.0,2390.0",
        "^RUT,2025-11-04,2440.0,,,",
    ]
    rec.close()
    daily = load_daily(daily_path(path))
    assert daily is not None
    events = daily.before("2025-11-05")
    assert events == [
        DailyCloses("^GSPC", [("2025-11-04", 6800.0)]),
        DailyBars(
            "^RUT",
            [
                ("2025-11-03", 2400.0, 2420.0, 2390.0, 2410.0),
                ("2025-11-04", None, None, None, 2440.0),
            ],
        ),
        SessionCloses("2024-12-31", {"AAA": 10.5, "BBB": 20.25}),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("^RUT,2025-11-03,2410,2400,2405,2390", "high 2405 is below the close, open or low"),
        ("^RUT,2025-11-03,2410,2400,2420,2415", "low 2415 is above the close or open"),
    ],
)
def test_an_inconsistent_range_in_the_sidecar_skips_its_row_with_a_note(
    tmp_path: Path, row: str, message: str
) -> None:
    # issue 19 §6: one inconsistent row costs that row, never the whole history
    p = tmp_path / "x.daily.csv"
    p.write_text(f"symbol,date,close,open,high,low\n^RUT,2025-11-04,2420,,,\n{row}\n")
    data = load_daily(p)
    assert data is not None and data.closes == {"^RUT": [("2025-11-04", 2420.0)]}
    assert data.note == (
        f"daily closes file x.daily.csv: skipped 1 inconsistent row: line 3 (^RUT 2025-11-03: "
        f"{message})"
    )


def test_a_garbled_cell_in_the_sidecar_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "x.daily.csv"
    p.write_text("symbol,date,close,open,high,low\n^RUT,2025-11-03,2410,x,2420,2390\n")
    with pytest.raises(InputFileError, match=r"x\.daily\.csv' line 2: open 'x' is not a number"):
        load_daily(p)


def test_ctrl_c_closes_the_parquet_file_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "record",
            "--feed",
            "sim",
            "--speed",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = tmp_path / "rec.parquet.journal"
    deadline = time.monotonic() + 60
    # the first row group's journal entry shows a flush happened (no fixed sleep)
    while not (journal.exists() and journal.stat().st_size > 0):
        assert proc.poll() is None and time.monotonic() < deadline, (
            proc.stderr and proc.stderr.read()
        )
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    meta = pq.read_metadata(tmp_path / "rec.parquet")  # a footer: any Parquet reader reads it
    assert meta.num_rows > 0
    assert not journal.exists()

"""The replay feed: formats, ordering, pacing against a fake clock, and one-line file errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from feeds.events import DailyCloses, FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions, open_feed
from feeds.storage.replay import DAY_GAP_S, ReplayFeed, load_replay
from tests.conftest import write_csv
from tui.cli import main

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC, the regular open


async def play(feed: ReplayFeed) -> list[object]:
    async with feed:
        return [ev async for ev in feed]


def ticks(events: list[object]) -> list[Tick]:
    return [e for e in events if isinstance(e, Tick)]


async def test_csv_epoch_ms_plays_sorted_with_status_first_and_last(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "day.csv",
        "ts,symbol,price,size,prev_close,day_volume",
        [
            (T0 + 2000, "^RUT", 2451.5, "", "", ""),
            (T0, "^RUT", 2450.0, "", 2440.0, ""),
            (T0 + 1000, "AAA", 10.25, 300, "", 12000),
            (T0 + 1000, "BBB", 20.0, "", "", ""),  # same ts as AAA: file order kept
        ],
    )
    feed = open_feed(f"replay:{path}", FeedOptions(speed=0))
    assert isinstance(feed, ReplayFeed)
    assert feed.now_ms() == T0  # before the first event: the first row's time
    events = await play(feed)
    first, last = events[0], events[-1]
    assert isinstance(first, FeedStatus) and first.state is FeedState.LIVE
    assert first.detail == "replay of day.csv, 4 rows"
    assert isinstance(last, FeedStatus) and last.state is FeedState.ENDED
    assert [(t.symbol, t.price, t.ts) for t in ticks(events)] == [
        ("^RUT", 2450.0, T0),
        ("AAA", 10.25, T0 + 1000),
        ("BBB", 20.0, T0 + 1000),
        ("^RUT", 2451.5, T0 + 2000),
    ]
    rut0, aaa = ticks(events)[0], ticks(events)[1]
    assert rut0.prev_close == 2440.0 and rut0.size is None
    assert aaa.size == 300.0 and aaa.day_volume == 12000.0 and aaa.prev_close is None
    assert feed.now_ms() == T0 + 2000  # the cursor: the last event released


async def test_daily_closes_come_before_each_day_without_looking_ahead(tmp_path: Path) -> None:
    """A two-day recording: each day starts with the closes of the sessions before it."""
    day = 86_400_000
    path = write_csv(
        tmp_path / "two.csv",
        "ts,symbol,price",
        [(T0, "^RUT", 2450.0), (T0 + 1000, "^RUT", 2451.0), (T0 + day, "^RUT", 2460.0)],
    )
    (tmp_path / "two.csv.daily.csv").write_text(
        "symbol,date,close\n"
        "^RUT,2025-11-03,2400\n^RUT,2025-11-04,2440\n"
        "^RUT,2025-11-05,2455\n"  # the close of the recording's first day
        "^GSPC,2025-11-04,6800\n"
    )
    feed = open_feed(f"replay:{path}", FeedOptions(speed=0))
    assert feed.estimates_indices is False  # no flag line: the feed streamed the indices
    events = await play(feed)
    shown = [
        (e.symbol, [d for d, _ in e.closes]) if isinstance(e, DailyCloses) else type(e).__name__
        for e in events
    ]
    assert shown == [
        "FeedStatus",
        ("^RUT", ["2025-11-03", "2025-11-04"]),  # not 11-05: that session is being replayed
        ("^GSPC", ["2025-11-04"]),
        "Tick",
        "Tick",
        ("^RUT", ["2025-11-03", "2025-11-04", "2025-11-05"]),
        ("^GSPC", ["2025-11-04"]),
        "Tick",
        "FeedStatus",
    ]


async def test_iso_timestamps_with_offsets_equal_epoch_ms(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "iso.csv",
        "ts,symbol,price",
        [
            ("2025-11-05T14:30:00Z", "^RUT", 1),
            ("2025-11-05T09:30:00.250-05:00", "^RUT", 2),
            ("2025-11-05 14:30:01+00:00", "^RUT", 3),
        ],
    )
    data = load_replay(path)
    assert data.ts.tolist() == [T0, T0 + 250, T0 + 1000]


@pytest.mark.parametrize("kind", ["ms", "timestamp"])
async def test_parquet(tmp_path: Path, kind: str) -> None:
    ms = [T0 + 1000, T0]
    ts = pa.array(ms, pa.int64()) if kind == "ms" else pa.array(ms, pa.timestamp("ms", tz="UTC"))
    table = pa.table(
        {
            "ts": ts,
            "symbol": ["AAA", "^RUT"],
            "price": [10.5, 2450.0],
            "size": pa.array([None, 5.0], pa.float64()),
        }
    )
    path = tmp_path / "day.parquet"
    pq.write_table(table, path)
    events = await play(open_feed(f"replay:{path}", FeedOptions(speed=0)))  # type: ignore[arg-type]
    assert [(t.symbol, t.price, t.ts, t.size) for t in ticks(events)] == [
        ("^RUT", 2450.0, T0, 5.0),
        ("AAA", 10.5, T0 + 1000, None),
    ]


async def test_pacing_is_scheduled_from_the_start_and_does_not_drift(tmp_path: Path) -> None:
    """At speed 2, a row 10 s after the first is due 5 s after the start, however long each
    release took: every wait is computed from the start, not from the previous row."""
    path = write_csv(
        tmp_path / "p.csv",
        "ts,symbol,price",
        [(T0, "^RUT", 1), (T0 + 2000, "^RUT", 2), (T0 + 2000, "AAA", 3), (T0 + 10_000, "^RUT", 4)],
    )
    feed = open_feed(f"replay:{path}", FeedOptions(speed=2))
    assert isinstance(feed, ReplayFeed)
    now = [100.0]
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    def fake_clock() -> float:
        now[0] += 0.125  # every look at the clock costs time: lag that must not accumulate
        return now[0]

    feed.clock = fake_clock  # type: ignore[method-assign]
    feed.sleep = fake_sleep  # type: ignore[method-assign]
    released: list[tuple[int, float]] = []
    async for ev in feed:
        if isinstance(ev, Tick):
            released.append((ev.ts, now[0]))
    start = 100.125
    for ts, at in released:
        due = start + (ts - T0) / 2000
        assert due <= at < due + 0.3  # released on schedule (plus the fake clock's own cost)
    assert waits == pytest.approx([0.75, 3.75], abs=1e-9)  # due minus the clock at the check


async def test_speed_zero_gives_the_loop_a_turn(tmp_path: Path) -> None:
    rows = [(T0 + i, "AAA", 1 + i % 7) for i in range(5000)]
    feed = open_feed(f"replay:{write_csv(tmp_path / 'f.csv', 'ts,symbol,price', rows)}")
    assert isinstance(feed, ReplayFeed)
    feed.options.speed = 0
    zero_sleeps = 0

    async def count_sleep(seconds: float) -> None:
        nonlocal zero_sleeps
        assert seconds == 0
        zero_sleeps += 1

    feed.sleep = count_sleep  # type: ignore[method-assign]
    events = await play(feed)
    assert len(ticks(events)) == 5000
    assert zero_sleeps >= 2


BAD_CASES = [
    # (file text, expected message after "replay file 'bad.csv'")
    ("", " is empty; it needs a header line ts,symbol,price and data rows"),
    ("ts,symbol,price\n", " has no data rows after the header; record some with 'r2k record'"),
    (
        "ts,symbol\n1762353000000,AAA\n",
        " line 1: missing column(s) price; the header needs ts,symbol,price "
        "(optional size,prev_close,day_volume,sale_flags,trade_id,amends)",
    ),
    (
        "ts,symbol,price,venue\n1762353000000,AAA,1,X\n",
        " line 1: unknown column 'venue'; valid columns are ts, symbol, price, size, "
        "prev_close, day_volume, sale_flags, trade_id, amends (the first three required)",
    ),
    (
        "ts,symbol,price\n1762353000000,AAA,1\n\n1762353000000,AAA,2\n1762353000000,AAA,x\n",
        " line 5: price 'x' is not a number; fix or delete the row",
    ),
    (
        "ts,symbol,price\n1762353000000,AAA,\n",
        " line 2: price is empty; fill it in or delete the row",
    ),
    (
        "ts,symbol,price\n1762353000000,AAA,-3\n",
        " line 2: price '-3' must be above 0; fix or delete the row",
    ),
    (
        "ts,symbol,price\n1762353000000,,3\n",
        " line 2: symbol is empty; fill it in or delete the row",
    ),
    (
        "ts,symbol,price\n1762353000000,AAA,1\n2025-11-05T14:30:00,AAA,2\n",
        " line 3: ts '2025-11-05T14:30:00' has no UTC offset (ambiguous); add one, e.g. "
        "2025-11-05T14:30:00+00:00 or 2025-11-05T14:30:00-05:00",
    ),
    (
        "ts,symbol,price\nyesterday,AAA,2\n",
        " line 2: ts 'yesterday' is neither epoch milliseconds nor ISO-8601; fix or delete the row",
    ),
    (
        "ts,symbol,price\n1762353000,AAA,2\n",
        " line 2: ts '1762353000' looks like seconds; use epoch ms",
    ),
    (
        "ts,symbol,price\n1762353000000,AAA,1\n1762353000000,AAA,1,9\n",
        " line 3: 4 values but the header has 3 columns; fix or delete the row",
    ),
    (
        # two problems: the earlier line is reported
        "ts,symbol,price,size\n1762353000000,AAA,1,1\n1762353000000,AAA,1,big\nbad,AAA,1,1\n",
        " line 3: size 'big' is not a number; fix or delete the row",
    ),
    (
        "ts,symbol,price,sale_flags\n1762353000000,AAA,1,1\n1762353000000,AAA,1,5\n",
        " line 3: sale_flags '5' must be 0-3 (1: not the last sale, 2: not the high/low, 3: "
        "neither); fix or delete the row",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CASES)
def test_bad_file_is_one_line_naming_file_and_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text(text, encoding="utf-8")
    status = main(["snapshot", "--feed", "replay:bad.csv", "--json"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err == f"r2k: error: replay file 'bad.csv'{expected}\n"


def test_missing_file(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["alerts", "--feed", "replay:nope.csv"]) == 2
    assert capsys.readouterr().err == (
        "r2k: error: replay file 'nope.csv' not found; check the path in --feed replay:PATH\n"
    )


def test_parquet_without_time_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table({"ts": pa.array([T0], pa.timestamp("ms")), "symbol": ["A"], "price": [1.0]}), path
    )
    from feeds.errors import InputFileError

    with pytest.raises(InputFileError, match=r"row 1: ts is a timestamp without a time zone"):
        load_replay(path)


async def test_a_multi_day_replay_skips_the_night(tmp_path: Path) -> None:
    """At speed 60 the night from one session's last row to the next day's first is not waited
    out: the new day comes DAY_GAP_S later, and its rows keep their pacing."""
    wednesday = T0  # 2025-11-05 09:30 ET
    thursday = T0 + 86_400_000
    path = write_csv(
        tmp_path / "two.csv",
        "ts,symbol,price",
        [
            (wednesday, "^RUT", 1),
            (wednesday + 60_000, "^RUT", 2),
            (thursday, "^RUT", 3),
            (thursday + 120_000, "^RUT", 4),
        ],
    )
    feed = open_feed(f"replay:{path}", FeedOptions(speed=60))
    assert isinstance(feed, ReplayFeed)
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    feed.clock = lambda: now[0]  # type: ignore[method-assign]
    feed.sleep = fake_sleep  # type: ignore[method-assign]
    released = [(ev.price, now[0]) async for ev in feed if isinstance(ev, Tick)]
    assert released == [
        (1, 0.0),
        (2, pytest.approx(1.0)),  # a minute of data at 60x: one second
        (3, pytest.approx(1.0 + DAY_GAP_S)),  # the night: DAY_GAP_S, not 1,439 s
        (4, pytest.approx(3.0 + DAY_GAP_S)),  # two minutes later: two seconds
    ]


async def test_a_replay_clock_runs_with_the_wall_clock_and_a_long_gap_is_stale(
    tmp_path: Path,
) -> None:
    """Issue 18 §4: at speed 1 a 35 s gap between prints with stale_after = 15: the clock moves
    on with the wall clock between them (never past the next print), and after 15 s the feed
    says STALE, then LIVE again with the next print."""
    path = write_csv(
        tmp_path / "gap.csv", "ts,symbol,price", [(T0, "^RUT", 1), (T0 + 35_000, "^RUT", 2)]
    )
    feed = open_feed(f"replay:{path}", FeedOptions(speed=1, stale_after=15))
    assert isinstance(feed, ReplayFeed)
    now = [100.0]
    seen: list[int] = []  # the feed's clock after each wait

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds
        seen.append(feed.now_ms())

    feed.clock = lambda: now[0]  # type: ignore[method-assign]
    feed.sleep = fake_sleep  # type: ignore[method-assign]
    events = []
    async for ev in feed:
        if isinstance(ev, FeedStatus):
            events.append((ev.state.value, ev.ts))
        elif isinstance(ev, Tick):
            events.append(("tick", ev.ts))
    assert [e[0] for e in events] == ["live", "tick", "stale", "live", "tick", "ended"]
    assert events[2][1] == T0 + 15_000  # stale at 15 s of the gap, on the running clock
    assert seen[:2] == [T0 + 15_000, T0 + 35_000]  # ran on with the wall clock, to the print
    assert feed.now_ms() == T0 + 35_000

"""Daily history for the scoreboard (issue 11), each provider's path against its 127.0.0.1 fake:
index bars as far back as the provider gives, the members' YTD anchors from batch endpoints
(never one request per symbol), progress, the disk cache refreshed once a day."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from feeds.events import DailyBars, Event, HistoryProgress, SessionCloses
from feeds.feed import FeedOptions
from feeds.market import calendar
from feeds.reference.holdings import Constituent, Holdings
from feeds.sources.providers.alpaca import AlpacaFeed
from feeds.sources.providers.finnhub import FinnhubFeed
from feeds.sources.providers.history import (
    ANCHORS,
    ASOF,
    HistoryCache,
    HistoryLoader,
    Needs,
    fresh_since,
    last_complete,
    needs_for,
)
from feeds.sources.providers.polygon import PolygonFeed
from feeds.sources.providers.yahoo_rest import YahooHistory, YahooRest, range_since
from feeds.symbols import MAGS, RUT, SPX
from tests.sources.providers.collector import Collector
from tests.sources.providers.fake_alpaca import FakeAlpaca
from tests.sources.providers.fake_finnhub import FakeFinnhub
from tests.sources.providers.fake_http import Response
from tests.sources.providers.fake_polygon import KEY as POLYGON_KEY
from tests.sources.providers.fake_polygon import FakePolygon
from tests.sources.providers.fake_yahoo import FakeYahooChart, chart_body
from tests.sources.providers.harness import NOW, open_fast
from tests.sources.providers.test_alpaca import setup_market as alpaca_market
from tests.sources.providers.test_finnhub import setup_market as finnhub_market


def sessions_before(now_ms: int, n: int) -> list[str]:
    """The last ``n`` completed sessions before ``now_ms`` (ISO)."""
    return [d.isoformat() for d in calendar.previous_sessions(now_ms + 86_400_000, n + 1)
            if d <= last_complete(now_ms)][-n:]  # fmt: skip


def bars_reply(symbol: str, rows: list[tuple[str, float]]) -> Response:
    """A daily chart (range=max shape) with open/high/low/close = the close, stamped 09:30 ET."""
    stamps = [
        int(dt.datetime.combine(dt.date.fromisoformat(d), dt.time(9, 30), calendar.ET).timestamp())
        for d, _ in rows
    ]
    start = stamps[-1] if stamps else 0
    body = chart_body(
        symbol,
        list(zip(stamps, [c for _, c in rows], strict=True)),
        previous_close=None,
        regular=(start, start + 23_400),
        interval="1d",
        range_="max",
        instrument="INDEX",
    )
    return Response(200, body)


@pytest.fixture
async def chart() -> AsyncIterator[FakeYahooChart]:
    async with FakeYahooChart() as fake:
        yield fake


def collect() -> tuple[list[Event], list[str]]:
    return [], []


async def load(chart: FakeYahooChart, root: Path, needs: Needs) -> tuple[list[Event], list[str]]:
    events, notes = collect()
    rest = YahooRest(chart.url, min_interval=0.0)
    try:
        loader = HistoryLoader(
            YahooHistory(rest), HistoryCache("yahoo", chart.url, root), events.extend, notes.append
        )
        await loader.run(needs)
    finally:
        await rest.aclose()
    return events, notes


def test_range_since_and_freshness() -> None:
    today = dt.date(2026, 3, 5)
    assert range_since(None, today) == "max"  # as far back as Yahoo has it
    assert range_since(dt.date(2026, 2, 20), today) == "1mo"
    assert range_since(dt.date(2025, 12, 31), today) == "3mo"
    assert range_since(dt.date(2024, 11, 5), today) == "2y"
    assert range_since(dt.date(1990, 1, 2), today) == "max"
    # a fetch is fresh from an hour after the latest close on: once a day
    et = calendar.ET
    thu_10 = int(dt.datetime(2026, 3, 5, 10, 0, tzinfo=et).timestamp() * 1000)
    wed_close = int(dt.datetime(2026, 3, 4, 16, 0, tzinfo=et).timestamp() * 1000)
    assert fresh_since(thu_10) == wed_close + 3_600_000
    thu_1630 = int(dt.datetime(2026, 3, 5, 16, 30, tzinfo=et).timestamp() * 1000)
    assert fresh_since(thu_1630) == wed_close + 3_600_000  # Thursday's bar still settling
    thu_18 = int(dt.datetime(2026, 3, 5, 18, 0, tzinfo=et).timestamp() * 1000)
    assert fresh_since(thu_18) == wed_close + 86_400_000 + 3_600_000


def test_needs_the_ytd_anchor_of_every_member_and_as_of_closes_of_unpriced_ones() -> None:
    holdings = Holdings(
        dt.date(2025, 11, 5),
        [Constituent("AAA", "A", "X", 0.01, 10.0), Constituent("BBB", "B", "X", 0.01)],
        "test",
    )
    needs = needs_for(holdings, ["^RUT", "AAA", "BBB"], NOW)  # 2026-03-05
    assert needs.indices == (RUT, SPX, MAGS)
    assert needs.sessions == {
        "2025-12-31": (ANCHORS, ["AAA", "BBB"]),
        "2025-11-05": (ASOF, ["BBB"]),  # no price in the file: weights at the anchor need it
    }
    assert needs_for(None, [], NOW).sessions == {}


async def test_yahoo_history_max_then_cached_then_only_the_recent_range(
    chart: FakeYahooChart, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    days = sessions_before(now, 30)
    for k, sym in enumerate((RUT, SPX, MAGS)):
        chart.replies[sym] = [
            bars_reply(sym, [(d, 100.0 * (k + 1) + i) for i, d in enumerate(days)])
        ]
    events, notes = await load(chart, tmp_path, Needs())
    bars = {e.symbol: e.bars for e in events if isinstance(e, DailyBars)}
    assert bars[RUT][0] == (days[0], 100.0, 100.0, 100.0, 100.0) and len(bars[RUT]) == 30
    assert [r.query["range"] for r in chart.requests] == ["max", "max", "max"]
    progress = [(e.what, e.done, e.total) for e in events if isinstance(e, HistoryProgress)]
    assert progress == [("daily history", k, 3) for k in range(4)]
    assert notes[-1] == ""  # nothing failed: no note left
    # a second run the same day: from the cache, not one request
    chart.requests.clear()
    events, _ = await load(chart, tmp_path, Needs())
    assert chart.requests == []
    assert {e.symbol: e.bars for e in events if isinstance(e, DailyBars)} == bars
    # fetched before the latest close (the cache is stale): only the recent sessions are asked
    # for, then merged
    cache = HistoryCache("yahoo", chart.url, tmp_path)
    for sym in (RUT, SPX, MAGS):
        _, old = cache.load_bars(sym)  # type: ignore[misc]
        cache.save_bars(sym, old, fresh_since(now) - 1)
    chart.replies[RUT] = [bars_reply(RUT, [(days[-2], 999.0), (days[-1], 1000.0)])]
    events, _ = await load(chart, tmp_path, Needs())
    assert {r.query["range"] for r in chart.requests} == {"1mo"}
    merged = [e.bars for e in events if isinstance(e, DailyBars) and e.symbol == RUT][-1]
    assert len(merged) == 30 and merged[-2][4] == 999.0 and merged[-1][4] == 1000.0
    assert merged[0] == bars[RUT][0]  # the older sessions kept


async def test_yahoo_ytd_anchors_come_in_spark_batches_with_progress(
    chart: FakeYahooChart, tmp_path: Path
) -> None:
    members = [f"M{k:02d}" for k in range(45)]
    chart.spark = {
        s: [("2025-12-30", 9.0), ("2025-12-31", 10.0 + k)] for k, s in enumerate(members)
    }
    del chart.spark["M44"]  # Yahoo knows nothing of it: left out, not a zero
    needs = Needs(indices=(), sessions={"2025-12-31": (ANCHORS, members)})
    events, notes = await load(chart, tmp_path, needs)
    spark = chart.spark_requests()
    assert [len(r.query["symbols"].split(",")) for r in spark] == [20, 20, 5]  # never 45 calls
    assert {r.query["interval"] for r in spark} == {"1d"} and "Mozilla" in spark[0].headers[
        "user-agent"
    ]
    closes = [e for e in events if isinstance(e, SessionCloses)]
    assert [len(e.closes) for e in closes] == [20, 20, 4]  # the board fills batch by batch
    assert all(e.date == "2025-12-31" for e in closes) and closes[0].closes["M00"] == 10.0
    progress = [(e.done, e.total) for e in events if isinstance(e, HistoryProgress)]
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert "YTD anchors 1/3" in notes and notes[-1] == ""
    # cached: the next start has them at once, with no request
    chart.requests.clear()
    events, _ = await load(chart, tmp_path, needs)
    assert chart.requests == []
    (cached,) = [e for e in events if isinstance(e, SessionCloses)]
    assert len(cached.closes) == 44 and cached.closes["M43"] == 53.0


async def test_a_failing_batch_is_a_note_and_the_rest_still_arrives(
    chart: FakeYahooChart, tmp_path: Path
) -> None:
    members = [f"M{k:02d}" for k in range(25)]
    chart.spark = {s: [("2025-12-31", 10.0)] for s in members}
    chart.spark_fail = {"M22"}  # the second batch (M20..M24) fails
    chart.replies[RUT] = [Response(404, {"chart": {"result": None, "error": {"code": "Not Found",
                          "description": "No data found, symbol may be delisted"}}})]  # fmt: skip
    needs = Needs(indices=(RUT,), sessions={"2025-12-31": (ANCHORS, members)})
    events, notes = await load(chart, tmp_path, needs)
    assert (
        notes[-1].startswith("no history for ^RUT: ^RUT: No data found")
        and "(+1 more)" in notes[-1]
    )
    assert [len(e.closes) for e in events if isinstance(e, SessionCloses)] == [20]
    final = [e for e in events if isinstance(e, HistoryProgress)][-1]
    assert final.detail == "1 of 2 requests failed"


# ---- Polygon: one grouped-daily call for the whole market --------------------------------------
async def test_polygon_ytd_anchors_from_one_grouped_daily_call() -> None:
    members = [f"C{k:02d}" for k in range(30)] + ["MOG-A"]
    holdings = Holdings(
        dt.date(2025, 11, 5), [Constituent(s, s, "X", 0.01, 10.0) for s in members], "t"
    )
    async with FakePolygon() as fake:
        fake.daily["I:RUT"] = [("2025-12-31", 2400.0), ("2026-03-04", 2500.0)]
        fake.grouped["2025-12-31"] = {
            **{s: 10.0 + k for k, s in enumerate(members[:-1])},
            "MOG.A": 40.0,
        }
        options = FeedOptions(
            symbols=["^RUT", "^GSPC", "IWM", "SPY", "MAGS", *members],
            env=fake.env(R2K_POLYGON_KEY=POLYGON_KEY),
            config={"rest_per_minute": "0"},
            holdings=holdings,
        )
        feed = open_fast("polygon", options, PolygonFeed, NOW)
        async with Collector(feed) as col:
            anchors = await col.wait(lambda e: isinstance(e, SessionCloses))
            rut = await col.wait(lambda e: isinstance(e, DailyBars) and e.symbol == RUT)
        grouped = [r.path for r in fake.http.requests if "/grouped/" in r.path]
        assert grouped == [
            "/v2/aggs/grouped/locale/us/market/stocks/2026-03-04",  # previous closes
            "/v2/aggs/grouped/locale/us/market/stocks/2025-12-31",  # every member's YTD anchor
        ]
        assert anchors.date == "2025-12-31" and len(anchors.closes) == 31
        assert anchors.closes["MOG-A"] == 40.0  # MOG.A spelt as the holdings spell it
        assert rut.bars == [("2025-12-31", 2400.0, 2400.0, 2400.0, 2400.0),
                            ("2026-03-04", 2500.0, 2500.0, 2500.0, 2500.0)]  # fmt: skip


# ---- Alpaca: multi-symbol bars, 100 symbols a request; indices from Yahoo, kept to the ETF's
# previous-close session ------------------------------------------------------------------------
async def test_alpaca_history_multi_symbol_bars_and_trimmed_indices() -> None:
    members = [f"C{k:03d}" for k in range(150)] + ["MOG-A"]
    holdings = Holdings(
        dt.date(2025, 11, 5), [Constituent(s, s, "X", 0.005, 10.0) for s in members], "t"
    )
    async with FakeAlpaca() as fake:
        alpaca_market(fake)
        fake.bars = {s: [("2025-12-30", 9.0), ("2025-12-31", 10.0)] for s in members[:-1]}
        fake.bars["MOG.A"] = [("2025-12-31", 41.0)]
        fake.bars["MAGS"] = [("2026-03-03", 53.0), ("2026-03-04", 54.0), ("2026-03-05", 55.0)]
        fake.bars_page = 60  # bars per page over all the symbols: the next_page_token is followed
        options = FeedOptions(
            symbols=["^RUT", "^GSPC", "IWM", "SPY", "MAGS", *members],
            env=fake.env(),
            stale_after=3600,
            holdings=holdings,
        )
        feed = open_fast("alpaca:iex", options, AlpacaFeed, NOW)
        async with Collector(feed) as col:
            await col.wait(
                lambda e: isinstance(e, HistoryProgress) and e.what == ANCHORS and e.done == e.total
            )
        anchors = {
            s: c for e in col.events if isinstance(e, SessionCloses) for s, c in e.closes.items()
        }
        assert len(anchors) == 151 and anchors["C000"] == 10.0 and anchors["MOG-A"] == 41.0
        bars = [r for r in fake.http.requests if r.path == "/v2/stocks/bars"]
        member_calls = [r for r in bars if r.query["start"] == "2025-12-31"]
        firsts = {r.query["symbols"].split(",")[0] for r in member_calls}
        assert firsts == {"C000", "C100"}  # two batches of at most 100 symbols (pages aside)
        assert all(len(r.query["symbols"].split(",")) <= 100 for r in member_calls)
        assert len(member_calls) > 2  # the pages of a batch were followed
        assert {r.query["adjustment"] for r in bars} == {"split"}
        daily = {e.symbol: e.bars for e in col.events if isinstance(e, DailyBars)}
        # MAGS from Alpaca's bars (today's running bar dropped); ^RUT from Yahoo, kept to the
        # session of IWM's previous close (03-04) so index / ETF divides one session's closes
        assert [b[0] for b in daily[MAGS]] == ["2026-03-03", "2026-03-04"]
        assert daily[RUT][-1][0] == "2026-03-04" and daily[RUT][-1][4] == 2512.5


# ---- Finnhub: candles where the plan allows, Yahoo otherwise; members from Yahoo's spark -------
@pytest.mark.parametrize("candles", [True, False])
async def test_finnhub_history_candles_or_yahoo_and_spark_anchors(candles: bool) -> None:
    members = [f"C{k:02d}" for k in range(25)]
    holdings = Holdings(
        dt.date(2025, 11, 5), [Constituent(s, s, "X", 0.01, 10.0) for s in members], "t"
    )
    async with FakeFinnhub() as fake:
        finnhub_market(fake)
        fake.candle_access = candles
        fake.candles["MAGS"] = [("2026-03-03", 53.0), ("2026-03-04", 54.0)]
        fake.index_closes["MAGS"] = [("2026-03-02", 52.0), ("2026-03-04", 54.5)]  # Yahoo's
        fake.spark = {s: [("2025-12-31", 10.0 + k)] for k, s in enumerate(members)}
        options = FeedOptions(
            symbols=["^RUT", "^GSPC", "IWM", "SPY", "MAGS", *members],
            env=fake.env(R2K_FINNHUB_MAX_SYMBOLS="6"),
            stale_after=3600,
            holdings=holdings,
        )
        feed = open_fast("finnhub", options, FinnhubFeed, NOW)
        fake.expect = len(feed.symbols)
        async with Collector(feed) as col:
            await col.wait(
                lambda e: isinstance(e, HistoryProgress) and e.what == ANCHORS and e.done == e.total
            )
        mags = [e.bars for e in col.events if isinstance(e, DailyBars) and e.symbol == MAGS][-1]
        if candles:
            assert mags == [
                ("2026-03-03", 53.0, 53.0, 53.0, 53.0),
                ("2026-03-04", 54.0, 54.0, 54.0, 54.0),
            ]
        else:  # refused by the plan: Yahoo's keyless chart instead
            assert [b[4] for b in mags] == [52.0, 54.5]
        anchors = {
            s: c for e in col.events if isinstance(e, SessionCloses) for s, c in e.closes.items()
        }
        assert anchors == {s: 10.0 + k for k, s in enumerate(members)}
        spark = [r for r in fake.http.requests if r.path == "/v8/finance/spark"]
        assert [len(r.query["symbols"].split(",")) for r in spark] == [20, 5]
        candle = [r for r in fake.http.requests if r.path == "/api/v1/stock/candle"]
        assert [r.query["symbol"] for r in candle] == ["MAGS"] and candle[0].query[
            "resolution"
        ] == "D"

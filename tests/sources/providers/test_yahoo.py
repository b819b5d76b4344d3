"""The yahoo feed against local fakes of the streamer and the chart REST."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import FeedSpecError
from feeds.events import Bars, DailyBars, FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions, open_feed
from feeds.market import calendar
from feeds.sources.providers.history import last_complete
from feeds.sources.providers.yahoo import DEFAULT_URL, YahooFeed
from feeds.sources.providers.yahoo_rest import (
    DEFAULT_REST_URL,
    ChartError,
    YahooRest,
    chart_result,
    daily_closes,
    intraday_bars,
    session_prev_close,
)
from feeds.symbols import HEADLINE, MAGS, RUT, SPX
from tests.sources.providers.collector import WAIT, Collector
from tests.sources.providers.fake_http import Response
from tests.sources.providers.fake_yahoo import (
    STREAM_CAP,
    FakeYahooChart,
    FakeYahooStreamer,
    chart_body,
    envelope,
    not_found,
    quote_frame,
    rate_limited,
    unprocessable,
)
from tests.sources.providers.harness import needs_r2k, open_fast, reconnected, snapshot

# real frames: AAPL from a C# PricingData test, SPY from a Rust test; ^RUT built with the schema
AAPL = "CgRBQVBMFXH9KEMYsN7m18JjKgNOTVMwCDgBRQoLKr9IlIq+M2WAo5C/2AEE"
SPY = "CgNTUFkVCpfXQxiQyc6C6F8qA1BDWDAUOABFIBzAv2WAPdLA2AEE"
RUT_MSG = "CgReUlVUFeylCkUYgMiN4I1oKgNXQ0IwCTgBRT0K175lrkcVwdgBBA=="


def make_feed(symbols: list[str], stream_url: str, rest_url: str | None = None) -> YahooFeed:
    env = {"R2K_YAHOO_URL": stream_url}
    if rest_url:
        env["R2K_YAHOO_REST_URL"] = rest_url
    else:
        env["R2K_YAHOO_BACKFILL"] = "0"
    feed = open_fast("yahoo", FeedOptions(symbols=symbols, env=env), YahooFeed)
    feed.rest_interval = 0.0
    return feed


async def next_subscribe(fake: FakeYahooStreamer) -> Any:
    return await asyncio.wait_for(fake.subscribes.get(), WAIT)


@pytest.fixture
async def streamer() -> AsyncIterator[FakeYahooStreamer]:
    async with FakeYahooStreamer() as fake:
        yield fake
    assert fake.protocol_errors == 0  # the client never sent a message Yahoo would hang up on


@pytest.fixture
async def chart() -> AsyncIterator[FakeYahooChart]:
    async with FakeYahooChart() as fake:
        yield fake


# ---- settings, spec, sharding ----------------------------------------------------------------
def test_defaults_and_overrides() -> None:
    feed = YahooFeed("yahoo", FeedOptions())
    assert feed.url(0) == DEFAULT_URL == "wss://streamer.finance.yahoo.com/?version=2"
    assert feed.rest_url == DEFAULT_REST_URL == "https://query2.finance.yahoo.com"
    cfg = {"url": "ws://cfg/", "rest_url": "http://cfg-rest", "backfill": False}
    feed = YahooFeed("yahoo", FeedOptions(config=cfg))
    assert (feed.url(0), feed.rest_url, feed.backfill) == ("ws://cfg/", "http://cfg-rest", False)
    env = {"R2K_YAHOO_URL": "ws://env/", "R2K_YAHOO_REST_URL": "http://env-rest"}
    feed = YahooFeed("yahoo", FeedOptions(config=cfg, env=env))
    assert (feed.url(0), feed.rest_url) == ("ws://env/", "http://env-rest")
    assert feed.estimates_indices is False  # ^RUT and ^GSPC are streamed, not estimated


def test_spec_takes_no_argument() -> None:
    assert isinstance(open_feed("yahoo", FeedOptions()), YahooFeed)
    with pytest.raises(FeedSpecError, match="takes no argument"):
        open_feed("yahoo:fast", FeedOptions())


def test_shards_keep_priority_order_at_most_100_each() -> None:
    names = [f"S{i:03d}" for i in range(200)]
    symbols = [*HEADLINE, *names, "S007", RUT]  # duplicates keep their first place
    shards = YahooFeed("yahoo", FeedOptions(symbols=symbols)).shards()
    assert [len(s) for s in shards] == [100, 100, 5]
    assert shards[0][:5] == list(HEADLINE)
    assert [s for shard in shards for s in shard] == [*HEADLINE, *names]
    assert YahooFeed("yahoo", FeedOptions()).shards() == [[]]


# ---- the fake itself behaves like Yahoo -------------------------------------------------------
async def test_fake_caps_subscriptions_at_100_silently(streamer: FakeYahooStreamer) -> None:
    import websockets

    names = [f"N{i}" for i in range(150)]
    async with websockets.connect(streamer.ws_url) as ws:
        await ws.send(json.dumps({"subscribe": names[:60]}))
        await next_subscribe(streamer)
        await ws.send(json.dumps({"subscribe": names[60:]}))
        conn = await next_subscribe(streamer)
    assert conn.subscribed == names[:STREAM_CAP] and conn.ignored == names[STREAM_CAP:]


async def test_fake_hangs_up_without_code_on_malformed_message() -> None:
    import websockets

    async with FakeYahooStreamer() as fake, websockets.connect(fake.ws_url) as ws:
        await ws.send('{"subscribe":"AAPL"}')  # not a list
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1005
        assert fake.protocol_errors == 1


# ---- streaming -------------------------------------------------------------------------------
async def test_subscribes_each_shard_in_order_and_streams(streamer: FakeYahooStreamer) -> None:
    names = [f"S{i:03d}" for i in range(200)]
    symbols = [*HEADLINE, *names]
    feed = make_feed(symbols, streamer.ws_url)
    async with Collector(feed) as got:
        conns = [await next_subscribe(streamer) for _ in range(3)]
        lists = sorted((c.subscribed for c in conns), key=lambda s: symbols.index(s[0]))
        assert lists == [symbols[:100], symbols[100:200], symbols[200:]]
        for c in conns:
            assert c.ignored == [] and len(c.messages) == 1
            assert json.loads(c.messages[0]) == {"subscribe": c.subscribed}  # one list
            assert c.v2
        first = next(c for c in conns if c.subscribed[0] == RUT)
        await first.send_message(RUT_MSG)
        await first.send_message(AAPL)  # not subscribed: still passed through
        assert await got.tick(RUT) == Tick(RUT, 2218.37, 1788552000000, None, None, 2227.7)
        assert await got.tick("AAPL") == Tick("AAPL", 168.99, 1709757487000, None, 53985930, 170.12)
        live = await got.status(FeedState.LIVE)
        assert "3 connections" in live.detail or got.feed.malformed == 0


async def test_garbage_frames_are_counted_and_skipped(streamer: FakeYahooStreamer) -> None:
    feed = make_feed(["SPY"], streamer.ws_url)
    async with Collector(feed) as got:
        conn = await next_subscribe(streamer)
        for bad in (
            "not json {",
            '{"type":"pricing","message":"%%%"}',
            '{"type":"pricing"}',
            envelope("CgRBQVA="),  # truncated protobuf
            b"\x00\x01binary junk",
        ):
            await conn.send_raw(bad)
        await conn.send_raw('{"type":"ping"}')  # another type: ignored, not garbage
        await conn.send_message(SPY)
        tick = await got.tick("SPY")
        assert (tick.price, tick.ts, tick.prev_close) == (431.18, 1646048957000, 437.75)
        assert feed.malformed == 5


async def test_server_close_mid_stream_reconnects_and_resubscribes(
    streamer: FakeYahooStreamer,
) -> None:
    symbols = [*HEADLINE, "AAPL", "MOG-A"]
    feed = make_feed(symbols, streamer.ws_url)
    async with Collector(feed) as got:
        conn = await next_subscribe(streamer)
        assert conn.subscribed == symbols
        await got.status(FeedState.LIVE)
        await conn.send_message(SPY)
        await got.tick("SPY")
        mark = len(got.events)
        await conn.close(1001)  # Yahoo going away mid-stream
        status = await reconnected(got, mark)
        assert "1001" in status.detail
        again = await next_subscribe(streamer)
        assert again is not conn and again.subscribed == symbols  # the same ordered list
        await again.send_message(AAPL)
        assert (await got.tick("AAPL")).price == 168.99
        # an abrupt drop without a close frame: the same again
        assert again.ws.transport is not None
        again.ws.transport.abort()
        third = await next_subscribe(streamer)
        assert third.subscribed == symbols and feed.reconnects == 2


async def test_legacy_endpoint_bare_base64_frames() -> None:
    async with FakeYahooStreamer(legacy=True) as fake:
        feed = make_feed(["AAPL"], fake.ws_url)
        async with Collector(feed) as got:
            conn = await next_subscribe(fake)
            assert not conn.v2
            await conn.send_message(AAPL)  # the frame body is the base64 itself
            assert (await got.tick("AAPL")).price == 168.99


# ---- REST warm-up ----------------------------------------------------------------------------
def _et(d: dt.date, h: int, m: int) -> int:
    """Epoch seconds of ET wall time on date d."""
    return int(dt.datetime(d.year, d.month, d.day, h, m, tzinfo=calendar.ET).timestamp())


_LOADED = int(dt.datetime.now(calendar.ET).timestamp())  # one start for every test here


def _today_session() -> tuple[dt.date, int, int]:
    now = dt.datetime.now(calendar.ET)
    today = now.date()
    # the session's bars are never stamped in the future (a stream tick stamped before the
    # backfill's last bar is a late print, not the last sale), whatever the time of day
    start = min(_et(today, 9, 30), _LOADED - 600)
    return today, start, int(now.timestamp()) + 3600  # still trading


def daily_reply(symbol: str, closes: list[float]) -> Response:
    """Daily closes for the last len(closes) weekdays before today, plus a live row for today."""
    today, start, end = _today_session()
    days: list[dt.date] = []
    d = today
    while len(days) < len(closes):
        d -= dt.timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    bars: list[tuple[int, float | None]] = [
        (_et(day, 9, 30), c) for day, c in zip(reversed(days), closes, strict=True)
    ]
    bars.append((start, 999.0))  # today's running bar: not a completed close
    body = chart_body(
        symbol, bars, previous_close=None, regular=(start, end), interval="1d", range_="1y"
    )
    return Response(200, body)


def intraday_reply(symbol: str, prev: float, closes: list[float | None]) -> Response:
    _, start, end = _today_session()
    bars = [(start + 60 * i, c) for i, c in enumerate(closes)]
    return Response(200, chart_body(symbol, bars, previous_close=prev, regular=(start, end)))


async def test_warm_up_bars_before_first_tick_and_daily_closes(
    streamer: FakeYahooStreamer, chart: FakeYahooChart
) -> None:
    for s, prev in zip(HEADLINE, (2227.7, 6500.0, 50.0, 220.0, 437.75), strict=True):
        chart.replies[s] = [intraday_reply(s, prev, [prev + 1, None, prev + 2])]
    for s in (RUT, SPX, MAGS):
        chart.replies[s].append(daily_reply(s, [10.0, 11.0, 12.0]))
    streamer.auto = {RUT: RUT_MSG}
    feed = make_feed([*HEADLINE, "AAPL"], streamer.ws_url, chart.url)
    async with Collector(feed) as got:
        tick = await got.tick(RUT)
        bars = [e for e in got.events if isinstance(e, Bars)]
        assert [b.symbol for b in bars] == list(HEADLINE)  # all before the first tick
        rut = bars[0]
        _, start, _ = _today_session()
        assert rut.prev_close == 2227.7
        assert rut.points == [(start * 1000, 2228.7), ((start + 120) * 1000, 2229.7)]  # null gone
        assert tick.prev_close == 2227.7
        daily = [
            await got.wait(lambda e, s=s: isinstance(e, DailyBars) and e.symbol == s)
            for s in (RUT, SPX, MAGS)
        ]
        # today's running bar (999) only once its session has closed (on the exchange calendar)
        today_done = last_complete(int(dt.datetime.now(dt.UTC).timestamp() * 1000))
        for d in daily:
            assert isinstance(d, DailyBars)
            closes = [c for *_, c in d.bars]
            want = [10.0, 11.0, 12.0] + ([999.0] if today_done == _today_session()[0] else [])
            assert closes == want
            assert d.bars[0][1:4] == (10.0, 10.0, 10.0)  # open, high, low from the chart
        req = chart.requests_for(RUT)[0]
        assert req.path == "/v8/finance/chart/%5ERUT"
        assert req.query == {"range": "1d", "interval": "1m", "includePrePost": "false"}
        # as far back as Yahoo has it (range=max), daily
        assert chart.requests_for(RUT)[1].query == {
            "range": "max",
            "interval": "1d",
            "includePrePost": "false",
        }
        assert "Mozilla" in req.headers["user-agent"]
        assert "AAPL" not in {r.last for r in chart.requests}  # constituents stream only


async def test_rest_errors_are_a_status_detail_not_fatal(
    streamer: FakeYahooStreamer, chart: FakeYahooChart
) -> None:
    chart.replies[RUT] = [not_found()]
    chart.replies[SPX] = [unprocessable()]
    streamer.auto = {"SPY": SPY}
    feed = make_feed([RUT, SPX, "SPY"], streamer.ws_url, chart.url)
    async with Collector(feed) as got:
        first = await got.wait(lambda e: isinstance(e, FeedStatus) and "intraday" in e.detail)
        assert isinstance(first, FeedStatus)
        # the stream connects beside the warm-up: whatever its state, the note says why
        assert first.detail.endswith(
            "; no intraday history: ^RUT: No data found, symbol may be delisted (HTTP 404) "
            "(+2 more)"
        )
        assert (await got.tick("SPY")).price == 431.18  # the stream runs regardless
        daily = await got.wait(lambda e: isinstance(e, FeedStatus) and "history for" in e.detail)
        assert isinstance(daily, FeedStatus) and daily.state is FeedState.LIVE
        assert daily.detail.startswith("yahoo streaming; no intraday history: ^RUT: No data")
        assert "; no history for ^RUT: ^RUT: No data found" in daily.detail
        assert daily.detail.endswith("(HTTP 404) (+2 more)")
        assert "\n" not in daily.detail


async def test_429_then_success_is_retried(chart: FakeYahooChart) -> None:
    chart.replies[RUT] = [rate_limited("0"), intraday_reply(RUT, 2227.7, [2230.0])]
    rest = YahooRest(chart.url)
    try:
        bars = await rest.intraday(RUT)
    finally:
        await rest.aclose()
    assert bars.prev_close == 2227.7 and [p for _, p in bars.points] == [2230.0]
    assert len(chart.requests_for(RUT)) == 2


async def test_persistent_429_stops_asking(
    streamer: FakeYahooStreamer, chart: FakeYahooChart
) -> None:
    for s in HEADLINE:
        chart.replies[s] = [rate_limited("0")]
    streamer.auto = {"SPY": SPY}
    feed = make_feed(list(HEADLINE), streamer.ws_url, chart.url)
    async with Collector(feed) as got:
        status = await got.wait(lambda e: isinstance(e, FeedStatus) and "429" in e.detail)
        assert isinstance(status, FeedStatus)
        assert "rate limited by Yahoo (HTTP 429)" in status.detail
        assert (await got.tick("SPY")).price == 431.18
        # the first symbol used up its retries (1 + 2); nothing else was asked
        assert {r.last for r in chart.requests} == {RUT} and len(chart.requests) == 3


# ---- chart parsing ---------------------------------------------------------------------------
def test_chart_error_bodies() -> None:
    with pytest.raises(ChartError, match="No data found"):
        chart_result("X", not_found().body)
    with pytest.raises(ChartError, match="Only 8 days"):
        chart_result("X", unprocessable().body)
    with pytest.raises(ChartError, match="unexpected chart response"):
        chart_result("X", ["not", "a", "chart"])
    with pytest.raises(ChartError, match="no chart data"):
        chart_result("X", {"chart": {"result": [], "error": None}})


def test_prev_close_before_the_open_is_the_last_regular_price() -> None:
    start = 1788528600
    meta = {
        "previousClose": 100.0,
        "chartPreviousClose": 100.0,
        "regularMarketPrice": 103.0,
        "regularMarketTime": start - 60_000,  # yesterday's close
        "currentTradingPeriod": {"regular": {"start": start, "end": start + 23400}},
    }
    assert session_prev_close(meta) == 103.0  # pre-market: yesterday's close is the anchor
    meta["regularMarketTime"] = start + 600  # trading today
    assert session_prev_close(meta) == 100.0
    del meta["previousClose"]
    assert session_prev_close(meta) == 100.0  # chartPreviousClose for range=1d


def test_intraday_bars_skip_nulls() -> None:
    body = chart_body(
        "NFLX",
        [(1788528600, 359.6), (1788528660, None), (1788552000, 352.89)],
        previous_close=103.22,
        regular=(1788528600, 1788552000),
    )
    bars = intraday_bars("NFLX", body)
    assert bars == Bars("NFLX", [(1788528600000, 359.6), (1788552000000, 352.89)], 103.22)


def test_daily_closes_drop_todays_running_bar_and_duplicates() -> None:
    d1, d2, today = dt.date(2026, 9, 2), dt.date(2026, 9, 3), dt.date(2026, 9, 4)
    start, end = _et(today, 9, 30), _et(today, 16, 0)
    bars: list[tuple[int, float | None]] = [
        (_et(d1, 9, 30), 2200.0),
        (_et(d2, 9, 30), 2210.0),
        (_et(d2, 16, 0), 2211.0),  # the same day again (live row): the later value wins
        (start, 2220.0),
    ]
    body = chart_body(
        RUT, bars, previous_close=None, regular=(start, end), interval="1d", range_="1y"
    )
    during = daily_closes(RUT, body, now_ms=(start + 3600) * 1000)
    assert during.closes == [("2026-09-02", 2200.0), ("2026-09-03", 2211.0)]
    after = daily_closes(RUT, body, now_ms=(end + 60) * 1000)
    assert after.closes[-1] == ("2026-09-04", 2220.0)


# ---- end to end ------------------------------------------------------------------------------
BUNDLED = Path(__file__).resolve().parents[3] / "feeds" / "data" / "r2k_holdings.csv"


def _bundled_symbols() -> list[str]:
    rows = [ln for ln in BUNDLED.read_text().splitlines() if ln and not ln.startswith("#")]
    return [r.split(",", 1)[0] for r in rows[1:]]


@needs_r2k
async def test_e2e_snapshot_against_fakes(
    streamer: FakeYahooStreamer, chart: FakeYahooChart, tmp_path: Path
) -> None:
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    prices = {RUT: (2218.37, -9.33), SPX: (6500.5, 13.0), MAGS: (50.25, 0.25)}
    prices |= {"IWM": (220.1, -1.1), "SPY": (650.0, 1.3)}
    constituents = _bundled_symbols()[:3]
    prices |= {s: (10.0 + n, 0.5) for n, s in enumerate(constituents)}
    streamer.auto = {
        s: quote_frame(s, p, now_ms, change=c, day_volume=1000) for s, (p, c) in prices.items()
    }
    for s in (RUT, SPX, MAGS):
        prev = round(prices[s][0] - prices[s][1], 2)
        chart.replies[s] = [intraday_reply(s, prev, [prev]), daily_reply(s, [1.0, 2.0])]
    urls = {
        "R2K_YAHOO_URL": streamer.ws_url,
        "R2K_YAHOO_REST_URL": chart.url,
        "R2K_YAHOO_DIRECTORY_URL": chart.url,
    }
    data = await snapshot("yahoo", urls, tmp_path)
    rut = data["indices"][RUT]
    assert rut["last"] == 2218.37 and rut["anchor"] == 2227.7
    assert rut["return"] == pytest.approx(2218.37 / 2227.7 - 1)
    assert data["indices"]["SPY"]["last"] == 650.0
    assert data["spread_bp"]["RUT-SPX"] is not None
    got = {c["symbol"]: c["last"] for c in data["constituents"]}
    assert got == {s: prices[s][0] for s in constituents}
    # the universe went out over two connections, in priority order, within Yahoo's cap
    lists = sorted((c.subscribed for c in streamer.conns), key=len, reverse=True)
    shards = -(-(len(HEADLINE) + len(_bundled_symbols())) // 100)  # the whole index: 20
    assert len(lists) == shards and len(lists[0]) == 100 and lists[0][:5] == list(HEADLINE)
    assert all(not c.ignored for c in streamer.conns)
    assert {s for lst in lists for s in lst} >= set(constituents)

"""Finnhub feed against a local fake of its websocket and REST (no internet)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from feeds.errors import CredentialsError
from feeds.events import Bars, DailyCloses, FeedState, Tick
from feeds.feed import FeedOptions, open_feed
from feeds.market import conditions
from feeds.market.lastsale import NEITHER, NOT_LAST
from feeds.pipeline import Pipeline
from feeds.sources.providers.finnhub import FinnhubFeed
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError
from tests.sources.providers.collector import Collector, run_to_end
from tests.sources.providers.fake_finnhub import (
    INVALID_SYMBOL,
    PING,
    SYMBOL_LIMIT,
    TOKEN,
    TRADES_CAPTURE,
    TRADES_DOCS,
    FakeFinnhub,
    Quote,
    trades,
)
from tests.sources.providers.fake_http import Response
from tests.sources.providers.harness import (
    ET,
    NOW,
    SYMBOLS,
    assert_spread_100bp,
    needs_r2k,
    open_fast,
    second_client_refused,
    snapshot,
)


def at(hh: int, mm: int, ss: int = 0, day: int = 5) -> int:
    return int(dt.datetime(2026, 3, day, hh, mm, ss, tzinfo=ET).timestamp())


def make_feed(fake: FakeFinnhub, **env: str) -> FinnhubFeed:
    env.setdefault("R2K_FINNHUB_MAX_SYMBOLS", "6")
    options = FeedOptions(symbols=list(SYMBOLS), env=fake.env(**env), stale_after=3600)
    feed = open_fast("finnhub", options, FinnhubFeed, NOW)
    fake.expect = len(feed.symbols)
    return feed


def setup_market(fake: FakeFinnhub) -> None:
    fake.quotes["IWM"] = Quote(251.0, 250.0, at(9, 59, 58))
    fake.quotes["SPY"] = Quote(603.0, 600.0, at(9, 59, 59))
    fake.quotes["MAGS"] = Quote(55.0, 54.0, at(9, 59))
    fake.quotes["C00"] = Quote(20.5, 20.0, at(9, 58))
    fake.quotes["C01"] = Quote(31.0, 30.0, at(16, 0, day=4))  # no trade today: 31 is previous
    fake.quotes["C02"] = Quote(42.0, 40.0, at(9, 58))
    fake.index_closes["^RUT"] = [("2026-03-03", 2480.0), ("2026-03-04", 2512.5),
                                 ("2026-03-05", 2530.0)]  # fmt: skip
    fake.index_closes["^GSPC"] = [("2026-03-04", 6030.0), ("2026-03-05", 6050.0)]


def offline_feed(**env: str) -> FinnhubFeed:
    feed = open_feed(
        "finnhub", FeedOptions(symbols=list(SYMBOLS), env={"R2K_FINNHUB_TOKEN": TOKEN, **env})
    )
    assert isinstance(feed, FinnhubFeed)
    return feed


# ---- offline ------------------------------------------------------------------------------------
def test_decode_real_capture() -> None:
    feed = offline_feed()
    assert feed.decode(TRADES_CAPTURE) == [
        Tick("TSLA", 122.1, 1672348887195, 1),
        Tick("AAPL", 129.58, 1672348887666, 1),
    ]
    [t] = feed.decode(TRADES_DOCS)
    assert (t.symbol, t.price, t.ts, t.size) == (
        "BINANCE:BTCUSDT",
        7296.89,
        1575526691134,
        0.011467,
    )
    assert feed.decode(trades(("MOG.A", 41, 1, 5))) == [Tick("MOG-A", 41.0, 1, 5)]
    assert feed.decode(PING) == []
    assert feed.decode('{"type":"news","data":[]}') == []


@pytest.mark.parametrize(
    "garbage", ["not json", "[]", '{"type":"trade"}', '{"type":"trade","data":[{"s":"X"}]}',
                '{"data":[]}', '{"type":7}', '{"type":"trade","data":[{"s":"X","p":"abc","t":1}]}'],
)  # fmt: skip
def test_decode_garbage_raises(garbage: str) -> None:
    with pytest.raises(Exception) as info:
        offline_feed().decode(garbage)
    assert not isinstance(info.value, (FatalFeedError, RetryFeedError))


def test_error_messages() -> None:
    feed = offline_feed()
    assert feed.decode(INVALID_SYMBOL) == []
    assert "finnhub: Invalid symbol" in feed.note
    feed.decode('{"type":"error","msg":"Invalid symbol XYZ"}')
    assert feed.invalid == ["XYZ"]
    feed.decode(SYMBOL_LIMIT)
    assert "finnhub symbol limit (Subscribing to too many symbols): lower " in feed.note
    assert "R2K_FINNHUB_MAX_SYMBOLS (now 50)" in feed.note
    with pytest.raises(FatalFeedError, match="check R2K_FINNHUB_TOKEN"):
        feed.decode('{"type":"error","msg":"Invalid API key"}')


def test_symbols_cap_and_credentials() -> None:
    feed = offline_feed(R2K_FINNHUB_MAX_SYMBOLS="5")
    assert feed.symbols == ["IWM", "SPY", "MAGS", "C00", "C01"]
    assert feed.requested == len(SYMBOLS) - 2  # no index on Finnhub
    assert len(offline_feed().symbols) == 44  # default cap 50 > universe
    assert offline_feed(R2K_FINNHUB_MAX_SYMBOLS="0").symbols[-1] == "MOG.A"
    assert f"token={TOKEN}" in feed.url(0)
    with pytest.raises(CredentialsError, match="R2K_FINNHUB_TOKEN"):
        open_feed("finnhub", FeedOptions(env={}))
    assert open_feed("finnhub", FeedOptions(config={"token": "t"})).estimates_indices


def test_index_estimate_from_spy() -> None:
    pipe = Pipeline(offline_feed())
    pipe.handle(DailyCloses("^GSPC", [("2026-03-04", 6030.0)]))
    pipe.handle(Tick("SPY", 606.0, NOW, prev_close=600.0))
    q = pipe.quote("^GSPC")
    assert q.estimated and q.last == round(606.0 * 6030.0 / 600.0, 2)


# ---- against the fake ----------------------------------------------------------------------------
async def test_stream_quotes_reconnect_resubscribe() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        fake.frames[0] = [
            PING,
            trades(("IWM", 252.0, NOW + 1000, 100), ("C00", 21.0, NOW + 1500, 10)),
            "garbage{",
            PING,
            TRADES_CAPTURE,
        ]
        fake.frames[1] = [PING, trades(("C01", 31.62, NOW + 5000, 3))]
        fake.close_after = {0}
        feed = make_feed(fake)
        async with Collector(feed) as run:
            await run.wait(lambda e: isinstance(e, Tick) and e.symbol == "C01" and e.size == 3)
            # the last background quote
            await run.wait(lambda e: isinstance(e, Bars) and e.symbol == "C02")

        expected = ["IWM", "SPY", "MAGS", "C00", "C01", "C02"]
        c0, c1 = fake.conns
        assert c0.path == f"/?token={TOKEN}"
        assert c0.received == [{"type": "subscribe", "symbol": s} for s in expected]
        assert c1.received == c0.received  # everything resubscribed after the reconnect

        quotes = [r for r in fake.http.requests if r.path == "/api/v1/quote"]
        assert [r.query["symbol"] for r in quotes] == expected  # headline first, then the rest
        assert all(r.query["token"] == TOKEN for r in quotes)

        seen = run.events
        daily = {e.symbol: e for e in seen if isinstance(e, DailyCloses)}
        assert daily["^RUT"].closes[-1] == ("2026-03-04", 2512.5)
        first_tick = next(e for e in seen if isinstance(e, Tick))
        assert first_tick == Tick("IWM", 251.0, at(9, 59, 58) * 1000, prev_close=250.0)
        assert seen.index(daily["^RUT"]) < seen.index(first_tick)
        bars = {e.symbol: e for e in seen if isinstance(e, Bars)}
        assert bars["C00"].prev_close == 20.0 and bars["C00"].points == [(at(9, 58) * 1000, 20.5)]
        assert bars["C01"].prev_close == 31.0  # its quote is from Wednesday
        ticks = [e for e in seen if isinstance(e, Tick)]
        assert Tick("IWM", 252.0, NOW + 1000, 100) in ticks
        assert Tick("TSLA", 122.1, 1672348887195, 1) in ticks
        assert feed.malformed == 1

        for s in run.statuses():
            assert TOKEN not in s.detail and "\n" not in s.detail
        states = [s.state for s in run.statuses()]
        assert FeedState.RECONNECTING in states[states.index(FeedState.LIVE) :]
        live = [s.detail for s in run.statuses() if s.state is FeedState.LIVE]
        assert any("previous closes 0/3" in d for d in live)
        assert "(plan cap 6: R2K_FINNHUB_MAX_SYMBOLS)" in live[-1]
        assert "^RUT/^GSPC estimated from IWM/SPY" in live[-1]

        pipe = Pipeline(feed)
        for ev in seen:
            pipe.handle(ev)
        assert pipe.quote("^RUT").last == round(252.0 * 2512.5 / 250.0, 2)
        assert pipe.quote("C01").ret == pytest.approx(31.62 / 31.0 - 1)


async def test_wrong_token_is_fatal() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        feed = make_feed(fake, R2K_FINNHUB_TOKEN="zq7v0x3k9m2w8j5h")
        fake.http.handler = lambda req: Response(200, {"c": 1.0, "pc": 1.0, "t": 1})  # REST: ok
        run = await run_to_end(feed)
        last = run.statuses()[-1]
        assert last.state is FeedState.ERROR
        assert last.detail == (
            "finnhub rejected the token (HTTP 401): check R2K_FINNHUB_TOKEN "
            "(the regular API key, not the sandbox one)"
        )
        assert fake.refused == [("/?token=zq7v0x3k9m2w8j5h", 401)]
        assert "zq7v0x3k9m2w8j5h" not in str(run.events)


async def test_wrong_token_on_rest_is_fatal() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        run = await run_to_end(make_feed(fake, R2K_FINNHUB_TOKEN="zq7v0x3k9m2w8j5h"))
        last = run.statuses()[-1]
        assert last.state is FeedState.ERROR and "finnhub rejected the token" in last.detail
        assert "R2K_FINNHUB_TOKEN" in last.detail and not run.ticks()


async def test_second_connection_is_refused() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        ev = await second_client_refused(lambda: make_feed(fake), "429")
        assert ev.detail.startswith(
            "finnhub refused the connection (HTTP 429): another client is using this token's"
        )


async def test_symbol_limit_and_invalid_symbol_reported() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        fake.symbol_cap = 5
        fake.invalid = {"C00"}
        async with Collector(make_feed(fake)) as run:
            ev = await run.status(FeedState.LIVE, "finnhub symbol limit")
        assert "lower R2K_FINNHUB_MAX_SYMBOLS (now 6)" in ev.detail
        assert any("Invalid symbol C00" in s.detail for s in run.statuses())
        assert all(s.state is not FeedState.ERROR for s in run.statuses())


async def test_index_closes_off() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        async with Collector(make_feed(fake, R2K_FINNHUB_INDEX_CLOSES="0")) as run:
            ev = await run.status(FeedState.LIVE, "fixed ratio")
        assert "(index closes turned off)" in ev.detail
        assert not any(r.path.startswith("/v8/") for r in fake.http.requests)


# ---- end to end ---------------------------------------------------------------------------------
@needs_r2k
async def test_snapshot_cli_end_to_end(tmp_path: Path) -> None:
    async with FakeFinnhub() as fake:
        tuesday_close = int(dt.datetime(2025, 1, 14, 16, tzinfo=ET).timestamp())
        for sym, px in (("IWM", 250.0), ("SPY", 600.0), ("MAGS", 54.0)):
            fake.quotes[sym] = Quote(px, px, tuesday_close)  # same close either way the clock says
        fake.index_closes["^RUT"] = [("2025-01-13", 2500.0), ("2025-01-14", 2500.0)]
        fake.index_closes["^GSPC"] = [("2025-01-13", 6000.0), ("2025-01-14", 6000.0)]
        fake.frames_all = [PING, trades(("IWM", 255.0, 1736953200000, 1),
                                        ("SPY", 606.0, 1736953200000, 1))]  # fmt: skip
        fake.expect = 3
        snap = await snapshot("finnhub", fake.env(R2K_FINNHUB_MAX_SYMBOLS="3"), tmp_path, TOKEN)
        assert [m["symbol"] for m in fake.conns[0].received] == ["IWM", "SPY", "MAGS"]
        assert_spread_100bp(snap)


# ---- trade conditions and late prints ---------------------------------------------------------
def test_the_shipped_condition_table_invents_no_codes() -> None:
    """Finnhub's condition list (a sheet linked from its websocket docs) could not be read when
    the table was written: it holds no code, so the real capture's trades stay regular sales."""
    assert conditions.load_finnhub() == {}
    assert [t.sale_flags for t in offline_feed().decode(TRADES_CAPTURE)] == [0, 0]


def test_condition_codes_go_through_the_table() -> None:
    feed = offline_feed()
    feed.sale_conditions = {"12": NEITHER, "8": NOT_LAST}  # as the table would carry them
    tsla, aapl = feed.decode(TRADES_CAPTURE)  # c: ["1","8","24","12"] and ["1","24","12"]
    assert (tsla.sale_flags, aapl.sale_flags) == (NEITHER, NEITHER)
    [plain] = feed.decode(trades(("AAPL", 130.0, 5, 100)))  # c: ["1"]
    assert plain.sale_flags == 0


async def test_a_late_print_in_a_batch_does_not_become_the_last() -> None:
    async with FakeFinnhub() as fake:
        setup_market(fake)
        # one frame, venues out of order: the 252.40 trade is stamped 400 ms before the last
        fake.frames_all = [
            trades(("IWM", 252.0, NOW + 1000, 100), ("IWM", 252.4, NOW + 600, 100)),
            trades(("IWM", 252.1, NOW + 1200, 100)),
        ]
        feed = make_feed(fake)
        pipe = Pipeline(feed)
        async with Collector(feed) as run:
            await run.wait(lambda e: isinstance(e, Tick) and e.price == 252.1)
        lasts = []
        for ev in run.events:
            pipe.handle(ev)
            if isinstance(ev, Tick) and ev.symbol == "IWM" and ev.size == 100:
                lasts.append(pipe.state.price("IWM"))
        assert lasts == [252.0, 252.0, 252.1]
        i = pipe.state.ids["IWM"]
        assert pipe.state.high[i] == 252.4  # it traded: the day's range has it
        assert pipe.quote("^RUT").last == round(252.1 * 2512.5 / 250.0, 2)

"""Polygon / Massive provider against a local fake of both clusters and the REST aggregates."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from feeds.errors import ConfigError, CredentialsError, FeedSpecError
from feeds.events import Bars, DailyBars, DailyCloses, FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions, open_feed
from feeds.market import conditions
from feeds.market.lastsale import NEITHER, NOT_LAST
from feeds.pipeline import Pipeline
from feeds.sources.providers.polygon import PolygonFeed, from_polygon, to_polygon
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError
from tests.sources.providers.collector import Collector, run_to_end
from tests.sources.providers.fake_polygon import KEY, MAX_CONNECTIONS_TEXT, Conn, FakePolygon
from tests.sources.providers.harness import (
    assert_spread_100bp,
    needs_r2k,
    open_fast,
    reconnected,
    snapshot,
)

# ---- frames from the Massive websocket spec examples (.massive/websocket.json) and its mock ----
SPEC_TRADE = (
    '{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],'
    '"t":1536036818784,"q":3681328}'
)
MOCK_TRADE_1 = (
    '[{"ev":"T","sym":"AAPL","i":"5096","x":10,"p":161.87,"s":300,"c":[14,41],'
    '"t":1651684192462,"q":4009402,"z":3}]'
)
MOCK_TRADES_2 = (
    '[{"ev":"T","sym":"AAPL","i":"72815","x":12,"p":161.87,"s":1,"c":[14,37,41],'
    '"t":1651684192536,"q":4009408,"z":3}, {"ev":"T","sym":"AAPL","i":"799","x":4,"p":161.87,'
    '"s":100,"t":1651684192717,"q":4009434,"z":3}]'
)
SPEC_QUOTE = (
    '{"ev":"Q","sym":"MSFT","bx":4,"bp":114.125,"bs":100,"ax":7,"ap":114.128,"as":160,"c":0,'
    '"i":[604],"t":1536036818784,"q":50385480,"z":3}'
)
SPEC_MINUTE = (
    '{"ev":"AM","sym":"GTE","v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":0.4488,'
    '"c":0.4486,"h":0.4489,"l":0.4486,"a":0.4352,"z":685,"s":1610144640000,"e":1610144700000}'
)
SPEC_VALUE = '{"ev":"V","val":3988.5,"T":"I:SPX","t":1678220098130}'
SPEC_INDEX_MINUTE = (
    '{"ev":"AM","sym":"I:SPX","op":3985.67,"o":3985.67,"c":3985.67,"h":3985.67,"l":3985.67,'
    '"s":1678220675805,"e":1678220675805}'
)
SUBSCRIBED = '[{"ev":"status","status":"success","message":"subscribed to: T.AAPL"}]'

SYMBOLS = ["^RUT", "^GSPC", "IWM", "SPY", "BRK-B", "AAPL"]
# Wednesday 2025-11-05 10:00 New York: the previous session is Tuesday 2025-11-04
NOW_MS = int(dt.datetime(2025, 11, 5, 15, 0, tzinfo=dt.UTC).timestamp() * 1000)


def make_feed(fake: FakePolygon | None = None, spec: str = "polygon", **config: Any) -> PolygonFeed:
    env = {"R2K_POLYGON_KEY": KEY}  # the client's key, even where a test changed the fake's
    if fake is not None:
        env = fake.env(**env)
    options = FeedOptions(symbols=list(SYMBOLS), env=env, config=config)
    return open_fast(spec, options, PolygonFeed, NOW_MS)


@pytest.fixture
async def fake() -> AsyncIterator[FakePolygon]:
    async with FakePolygon() as f:
        yield f


def secret_free(col: Collector) -> None:
    for st in col.statuses():
        assert KEY not in st.detail
        assert "\n" not in st.detail


# ---- symbols, settings, decode ---------------------------------------------------------------
def test_symbol_mapping_round_trips() -> None:
    pairs = {
        "^RUT": "I:RUT",
        "^GSPC": "I:SPX",
        "BRK-B": "BRK.B",
        "MOG-A": "MOG.A",
        "IWM": "IWM",
        "^NDX": "I:NDX",
    }
    for canonical, poly in pairs.items():
        assert to_polygon(canonical) == poly
        assert from_polygon(poly) == canonical


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(CredentialsError) as err:
        open_feed("polygon", FeedOptions(symbols=SYMBOLS, env={}))
    assert "R2K_POLYGON_KEY" in str(err.value)
    assert "\n" not in str(err.value)


def test_massive_alias_and_modes() -> None:
    env = {"R2K_POLYGON_KEY": KEY}
    live = open_feed("massive", FeedOptions(symbols=SYMBOLS, env=env))
    assert isinstance(live, PolygonFeed)
    assert [live.url(0), live.url(1)] == [
        "wss://socket.massive.com/stocks",
        "wss://socket.massive.com/indices",
    ]
    delayed = open_feed("polygon:delayed", FeedOptions(symbols=SYMBOLS, env=env))
    assert delayed.url(0) == "wss://delayed.massive.com/stocks"  # type: ignore[attr-defined]
    by_config = open_feed(
        "polygon", FeedOptions(symbols=SYMBOLS, env=env, config={"delayed": True})
    )
    assert by_config.url(1) == "wss://delayed.massive.com/indices"  # type: ignore[attr-defined]
    with pytest.raises(FeedSpecError):
        open_feed("polygon:turbo", FeedOptions(symbols=SYMBOLS, env=env))
    with pytest.raises(ConfigError):
        open_feed("polygon", FeedOptions(symbols=SYMBOLS, env=env, config={"channel": "quotes"}))


def test_indices_off_estimates_from_etfs() -> None:
    feed = make_feed(indices=False)
    assert feed.estimates_indices
    assert feed.shards() == [["IWM", "SPY", "BRK-B", "AAPL"], []]
    assert make_feed().estimates_indices is False


def test_decode_spec_frames() -> None:
    feed = make_feed()
    # conditions [0, 12]: 12 is Form T (extended hours), neither the last sale nor high/low
    assert feed.decode("[" + SPEC_TRADE + "]") == [
        Tick("MSFT", 114.125, 1536036818784, 100, sale_flags=NEITHER)
    ]
    assert feed.decode(MOCK_TRADES_2) == [
        Tick("AAPL", 161.87, 1651684192536, 1, sale_flags=NEITHER),  # 37: an odd lot
        Tick("AAPL", 161.87, 1651684192717, 100),  # no conditions: a regular sale
    ]
    assert feed.decode("[" + SPEC_VALUE + "]") == [Tick("^GSPC", 3988.5, 1678220098130)]
    assert feed.decode("[" + SPEC_MINUTE + "]") == [
        Tick("GTE", 0.4486, 1610144700000 - 1, 4110, 9470157)  # inside its own minute
    ]
    # the spec's index sample has s == e: never stamped before its start
    assert feed.decode("[" + SPEC_INDEX_MINUTE + "]") == [Tick("^GSPC", 3985.67, 1678220675805)]
    assert feed.decode(b'[{"ev":"T","sym":"BRK.B","p":500,"s":1,"t":1}]') == [
        Tick("BRK-B", 500.0, 1, 1)
    ]
    assert feed.decode(b"[" + SPEC_QUOTE.encode() + b"]") == []  # quotes are not used
    assert feed.decode(SUBSCRIBED) == []
    price = feed.decode(b'[{"ev":"T","sym":"BRK.B","p":500,"s":1,"t":1}]')[0].price
    assert type(price) is float
    for garbage in ("not json", '{"ev":"T"}', '[{"ev":"T","sym":"AAPL"}]', "[1]"):
        with pytest.raises(Exception):  # noqa: B017 - the base counts and skips any error
            feed.decode(garbage)


def test_status_frames_refuse_or_retry() -> None:
    feed = make_feed()
    with pytest.raises(FatalFeedError, match="R2K_POLYGON_KEY"):
        feed.decode('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]')
    max_conn = orjson.dumps(
        [{"ev": "status", "status": "max_connections", "message": MAX_CONNECTIONS_TEXT}]
    )
    with pytest.raises(RetryFeedError, match="another client holds"):
        feed.decode(max_conn)
    with pytest.raises(RetryFeedError, match="force_disconnect"):
        feed.decode('[{"ev":"status","status":"force_disconnect","message":"bye"}]')
    with pytest.raises(FatalFeedError, match="polygon:delayed"):
        feed.decode('[{"ev":"status","status":"error","message":"not authorized"}]')


def test_decode_throughput_smoke() -> None:
    """Not a timing assert: 100-trade frames decode to 100 ticks each, symbols mapped once."""
    feed = make_feed()
    frame = orjson.dumps(
        [
            {"ev": "T", "sym": s, "p": 10.0 + i, "s": 100, "t": 1_700_000_000_000 + i, "q": i}
            for i, s in enumerate(["IWM", "SPY", "BRK.B", "AAPL"] * 25)
        ]
    )
    ticks = feed.decode(frame)
    assert len(ticks) == 100
    assert {t.symbol for t in ticks} == {"IWM", "SPY", "BRK-B", "AAPL"}  # type: ignore[union-attr]


# ---- against the fake ------------------------------------------------------------------------
async def test_handshake_subscribe_and_stream(fake: FakePolygon) -> None:
    feed = make_feed(fake)
    async with Collector(feed) as col:
        stocks = await fake.subscribed("stocks")
        indices = await fake.subscribed("indices")
        # what the client sent, exactly: auth with the key, then one subscribe per cluster
        assert stocks.received == [
            {"action": "auth", "params": KEY},
            {"action": "subscribe", "params": "T.IWM,T.SPY,T.BRK.B,T.AAPL"},
        ]
        assert indices.received == [
            {"action": "auth", "params": KEY},
            {"action": "subscribe", "params": "V.I:RUT,V.I:SPX"},
        ]
        live = await col.status(FeedState.LIVE)
        assert "2 connections" in live.detail
        await stocks.send(MOCK_TRADE_1)
        await indices.send('[{"ev":"V","val":2461.31,"T":"I:RUT","t":1762354800000}]')
        assert await col.tick("AAPL") == Tick("AAPL", 161.87, 1651684192462, 300)
        assert await col.tick("^RUT") == Tick("^RUT", 2461.31, 1762354800000)
        secret_free(col)


async def test_minute_bars_option(fake: FakePolygon) -> None:
    feed = make_feed(fake, channel="minute")
    async with Collector(feed) as col:
        stocks = await fake.subscribed("stocks")
        assert stocks.received[1]["params"] == "AM.IWM,AM.SPY,AM.BRK.B,AM.AAPL"
        await stocks.send(
            '[{"ev":"AM","sym":"IWM","v":4110,"av":9470157,"op":240.1,"vw":241.0,"o":241.0,'
            '"c":241.5,"h":241.6,"l":240.9,"a":240.8,"z":685,"s":1610144640000,"e":1610144700000}]'
        )
        tick = await col.tick("IWM")
        # the minute 22:24-22:25 UTC: its close is stamped inside it, 1 ms before its end
        assert (tick.price, tick.ts, tick.day_volume) == (241.5, 1610144699999, 9470157)


async def test_auth_failed_ends_with_one_line_error(fake: FakePolygon) -> None:
    fake.key = "another-key"
    col = await run_to_end(make_feed(fake))
    err = await col.status(FeedState.ERROR)
    assert "R2K_POLYGON_KEY" in err.detail
    assert "authentication failed" in err.detail
    secret_free(col)


async def test_max_connections_retries_until_the_other_client_leaves(fake: FakePolygon) -> None:
    # another terminal holds the stocks connection of this key
    other = await websockets.connect(fake.ws_url + "/stocks")
    await other.recv()
    await other.send(orjson.dumps({"action": "auth", "params": KEY}).decode())
    assert "auth_success" in await other.recv()
    feed = make_feed(fake)
    async with Collector(feed) as col:
        refused = await col.status(FeedState.RECONNECTING, "another client holds")
        assert "stocks" in refused.detail
        await other.close()
        n = len(fake.of("stocks"))
        await fake.subscribed("stocks", n + 1)  # retried, and got in once the other left
        await col.status(FeedState.LIVE, after=col.events.index(refused))
    assert feed.reconnects >= 1


async def test_server_close_reconnects_reauths_and_resubscribes(fake: FakePolygon) -> None:
    feed = make_feed(fake)
    async with Collector(feed) as col:
        first = await fake.subscribed("stocks")
        await fake.subscribed("indices")
        await col.status(FeedState.LIVE)
        mark = len(col.events)
        await first.ws.close(1011, "going away")
        second = await fake.subscribed("stocks", 2)
        assert second.received == first.received  # the same auth and the whole subscription
        await reconnected(col, mark)
        await second.send(MOCK_TRADE_1)
        assert (await col.tick("AAPL", after=mark)).price == 161.87
        assert len(fake.of("indices")) == 1  # the other cluster was left alone
    assert feed.reconnects == 1


async def test_garbage_frames_are_counted_and_skipped(fake: FakePolygon) -> None:
    feed = make_feed(fake)
    async with Collector(feed) as col:
        stocks = await fake.subscribed("stocks")
        for junk in ("not json", '{"ev":"T"}', '[{"ev":"T","sym":"AAPL"}]', "[1]"):
            await stocks.send(junk)
        await stocks.send(MOCK_TRADE_1)
        await col.tick("AAPL")
        assert feed.malformed == 4
        assert all(st.state is not FeedState.ERROR for st in col.statuses())


async def test_plan_without_indices_is_a_clear_error() -> None:
    async with FakePolygon(deny_indices=True) as fake:
        col = await run_to_end(make_feed(fake))
    err = await col.status(FeedState.ERROR)
    assert "indices = false" in err.detail
    assert "R2K_POLYGON_INDICES" in err.detail


async def test_indices_off_uses_one_connection(fake: FakePolygon) -> None:
    feed = make_feed(fake, indices="false")
    async with Collector(feed) as col:
        await fake.subscribed("stocks")
        live = await col.status(FeedState.LIVE)
        assert "connections" not in live.detail
        assert fake.of("indices") == []


# ---- REST warm-up ----------------------------------------------------------------------------
def seed_rest(fake: FakePolygon) -> None:
    fake.daily["I:RUT"] = [("2024-12-31", 2230.16), ("2025-11-03", 2470.0), ("2025-11-04", 2430.0)]
    fake.daily["I:SPX"] = [("2024-12-31", 5881.63), ("2025-11-03", 6850.0), ("2025-11-04", 6770.0)]
    fake.daily["IWM"] = [("2024-12-31", 220.96), ("2025-11-04", 241.0)]
    fake.daily["SPY"] = [("2024-12-31", 586.08), ("2025-11-04", 675.0)]
    fake.daily["MAGS"] = [("2024-12-31", 50.5), ("2025-11-04", 65.0)]
    # the whole market, of which only our symbols are kept
    fake.grouped["2025-11-04"] = {"IWM": 241.0, "SPY": 675.0, "BRK.B": 480.5, "ZZZZ": 1.0}


async def test_warm_up_headline_first_with_bearer_key(fake: FakePolygon) -> None:
    seed_rest(fake)
    feed = make_feed(fake, rest_per_minute="0")  # 6 calls: no minute's wait for the sixth
    async with Collector(feed) as col:
        await col.wait(lambda e: isinstance(e, DailyCloses) and e.symbol == "SPY")
        await col.wait(lambda e: isinstance(e, DailyBars) and e.symbol == "MAGS")
        # the progress note is cleared once everything arrived
        done = await col.wait(
            lambda e: (
                isinstance(e, FeedStatus) and e.state is FeedState.LIVE and ";" not in e.detail
            ),
            after=len(col.events) - 1,
        )
        assert "previous closes" not in done.detail
    paths = [r.path for r in fake.http.requests]
    # the previous closes of every streamed symbol first (one grouped call for the market),
    # then the daily histories of ^RUT, ^GSPC and MAGS as far back as the plan gives,
    # then the trade conditions when r2k's copy is over 30 days old, as here (whether
    # that call was made before the collector stopped depends on timing)
    assert [p for p in paths if p != "/v3/reference/conditions"] == [
        "/v2/aggs/grouped/locale/us/market/stocks/2025-11-04",
        "/v2/aggs/ticker/IWM/range/1/day/2024-12-01/2025-11-04",
        "/v2/aggs/ticker/SPY/range/1/day/2024-12-01/2025-11-04",
        "/v2/aggs/ticker/I:RUT/range/1/day/1987-09-10/2025-11-05",
        "/v2/aggs/ticker/I:SPX/range/1/day/1987-09-10/2025-11-05",
        "/v2/aggs/ticker/MAGS/range/1/day/1987-09-10/2025-11-05",
    ]
    assert paths[6:] in ([], ["/v3/reference/conditions"])
    for r in fake.http.requests:
        assert r.headers["authorization"] == f"Bearer {KEY}"
        assert "apiKey" not in r.query
    daily = {e.symbol: e.bars for e in col.events if isinstance(e, DailyBars)}
    assert daily["^RUT"] == [
        ("2024-12-31", 2230.16, 2230.16, 2230.16, 2230.16),
        ("2025-11-03", 2470.0, 2470.0, 2470.0, 2470.0),
        ("2025-11-04", 2430.0, 2430.0, 2430.0, 2430.0),
    ]
    assert daily["^GSPC"][-1] == ("2025-11-04", 6770.0, 6770.0, 6770.0, 6770.0)
    prev = {e.symbol: e.prev_close for e in col.events if isinstance(e, Bars)}
    assert prev == {"IWM": 241.0, "SPY": 675.0, "BRK-B": 480.5}
    assert any("previous closes" in s.detail for s in col.statuses())  # progress was shown
    secret_free(col)


async def test_warm_up_without_index_entitlement_keeps_streaming() -> None:
    async with FakePolygon(rest_indices=False) as fake:
        seed_rest(fake)
        feed = make_feed(fake, rest_per_minute="0")
        async with Collector(feed) as col:
            note = await col.wait(
                lambda e: isinstance(e, FeedStatus) and "no history for" in e.detail
            )
            # asked for the whole span, then for two years: not entitled either way
            assert "no history for ^RUT: HTTP 403" in note.detail and "(+1 more)" in note.detail
            assert note.state is not FeedState.ERROR
            await col.wait(lambda e: isinstance(e, Bars) and e.symbol == "IWM")


# ---- end to end: the r2k CLI against the fakes -----------------------------------------------
@needs_r2k
async def test_snapshot_cli_end_to_end(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)

    def frames(conn: Conn, params: list[str]) -> list[str]:
        if conn.cluster == "indices":
            return [
                orjson.dumps(
                    [
                        {"ev": "V", "val": 2550.0, "T": "I:RUT", "t": now_ms},
                        {"ev": "V", "val": 6060.0, "T": "I:SPX", "t": now_ms},
                    ]
                ).decode()
            ]
        trades = [("IWM", 255.0), ("SPY", 606.0), ("BE", 50.0), ("MOG.A", 198.0)]
        return [
            orjson.dumps(
                [
                    {"ev": "T", "sym": s, "p": p, "s": 100, "t": now_ms, "q": i, "x": 4}
                    for i, (s, p) in enumerate(trades)
                ]
            ).decode()
        ]

    async with FakePolygon(on_subscribe=frames) as fake:
        # closes well inside the history window and before any "previous session", equal on
        # both days: whatever the wall clock says, the previous close comes out the same
        today = dt.date.today()
        days = [(today - dt.timedelta(days=n)).isoformat() for n in (20, 10)]
        fake.daily["I:RUT"] = [(d, 2500.0) for d in days]
        fake.daily["I:SPX"] = [(d, 6000.0) for d in days]
        closes = {"IWM": 250.0, "SPY": 600.0, "BE": 40.0, "MOG.A": 200.0, "ZZZZ": 1.0}
        fake.grouped_any = closes
        snap = await snapshot("polygon", fake.env(), tmp_path, KEY)
    stocks, indices = fake.of("stocks")[0], fake.of("indices")[0]
    assert indices.received[1] == {"action": "subscribe", "params": "V.I:RUT,V.I:SPX"}
    topics = stocks.received[1]["params"].split(",")
    assert topics[:3] == ["T.MAGS", "T.IWM", "T.SPY"] and "T.MOG.A" in topics
    assert_spread_100bp(snap)
    assert snap["indices"]["IWM"]["return"] == pytest.approx(0.02)
    board = {c["symbol"]: c for c in snap["constituents"]}
    assert board["BE"]["last"] == 50.0 and board["BE"]["return"] == pytest.approx(0.25)
    assert board["MOG-A"]["return"] == pytest.approx(-0.01)  # class share mapped back
    assert "ZZZZ" not in board  # the rest of the market is not kept


# ---- trade conditions: last-sale eligibility -------------------------------------------------
SHIPPED = conditions.load_massive(Path("/nonexistent/r2k-cache/massive_conditions.json"))


def test_the_shipped_table_bars_contingent_trades_and_the_rest() -> None:
    # 52 contingent, 53 qualified contingent: neither the last sale nor the high/low
    assert SHIPPED.by_id[52] == SHIPPED.by_id[53] == NEITHER
    assert SHIPPED.fetched_ms == 0 and conditions.is_stale(SHIPPED)
    # the glossary's other trades that may not set the last sale, all of them
    assert sorted(SHIPPED.by_id) == [2, 5, 7, 10, 12, 13, 15, 16, 20, 21, 22, 29, 33, 37, 52, 53]
    assert SHIPPED.by_id[10] == NOT_LAST  # derivatively priced: high/low yes, last no


@pytest.mark.parametrize("code", sorted(SHIPPED.by_id))
def test_every_non_updating_code_reaches_the_tick(code: int) -> None:
    feed = make_feed()
    frame = f'[{{"ev":"T","sym":"IWM","i":"9","x":4,"p":250.0,"s":100,"c":[14,{code}],"t":5}}]'
    [tick] = feed.decode(frame)
    assert tick.sale_flags == SHIPPED.by_id[code]  # 14 (intermarket sweep) bars nothing
    [plain] = feed.decode('[{"ev":"T","sym":"IWM","p":250.0,"s":100,"c":[14,41],"t":5}]')
    assert plain.sale_flags == 0


async def test_contingent_trades_from_the_stream_do_not_move_last(fake: FakePolygon) -> None:
    feed = make_feed(fake, indices="false")  # ^RUT is estimated from IWM: alerts could fire
    pipe = Pipeline(feed)
    trades = [
        ("1", 244.70, [14], 0),
        ("2", 256.45, [52], 35),  # contingent, 4.8% away
        ("3", 230.00, [53], 70),  # qualified contingent
        ("4", 244.80, [], 105),
    ]
    frame = orjson.dumps(
        [
            {"ev": "T", "sym": "IWM", "i": i, "x": 4, "p": p, "s": 100, "c": c, "t": NOW_MS + dt}
            for i, p, c, dt in trades
        ]
    ).decode()
    async with Collector(feed) as col:
        stocks = await fake.subscribed("stocks")
        await stocks.send(frame)
        await col.wait(lambda e: isinstance(e, Tick) and e.price == 244.80)  # the last one
        got = col.ticks()
    lasts = []
    for ev in got:
        pipe.handle(ev)
        lasts.append(pipe.state.price("IWM"))
    assert lasts == [244.70, 244.70, 244.70, 244.80]
    i = pipe.state.ids["IWM"]
    assert (pipe.state.high[i], pipe.state.low[i]) == (244.80, 244.70)
    assert pipe.state.price("^RUT") == pytest.approx(2448.0)  # IWM x 10: never 2564.5
    assert list(pipe.alerts) == []


def live_listing() -> list[dict[str, Any]]:
    """A listing as the endpoint returns it: trade conditions plus a quote condition sharing an
    id, and (made up for the test) an intermarket sweep barred, to tell it from r2k's copy."""
    rows = orjson.loads(
        Path(conditions.__file__)
        .parent.parent.joinpath("data")
        .joinpath(conditions.MASSIVE_FILE)
        .read_bytes()
    )["results"]
    sweep = next(r for r in rows if r["id"] == 14)
    sweep["update_rules"]["consolidated"]["updates_open_close"] = False
    quote = {
        "id": 52,
        "type": "quote_condition",
        "name": "Penalty Bid",
        "asset_class": "stocks",
        "sip_mapping": {"CTA": "V"},
        "data_types": ["bbo", "nbbo"],
    }
    return [*rows, quote]


async def test_the_conditions_listing_is_read_through_rest_and_cached(
    fake: FakePolygon, tmp_path: Path
) -> None:
    fake.conditions = live_listing()
    feed = make_feed(fake, rest_per_minute="0")
    feed.conditions_cache = tmp_path / "cache" / conditions.MASSIVE_FILE
    client = feed._rest_client()
    try:
        await feed._refresh_conditions(client)
    finally:
        await client.aclose()
    listing = [r for r in fake.http.requests if r.path == "/v3/reference/conditions"]
    assert [r.query for r in listing] == [
        {"asset_class": "stocks", "data_type": "trade", "limit": "1000"},
        {"cursor": "page2"},  # the next_url, followed
    ]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in listing)
    assert feed.sale_conditions.by_id[14] == NOT_LAST and feed.sale_conditions.fetched_ms > 0
    assert feed.sale_conditions.by_id[52] == NEITHER  # the quote condition did not count
    [tick] = feed.decode('[{"ev":"T","sym":"IWM","p":250.0,"s":100,"c":[14],"t":5}]')
    assert tick.sale_flags == NOT_LAST
    # the next run reads the cache, fresh: no request
    cached = conditions.load_massive(feed.conditions_cache)
    assert cached.by_id == feed.sale_conditions.by_id and not conditions.is_stale(cached)


async def test_the_warm_up_reads_the_listing_only_when_the_cache_is_stale(
    fake: FakePolygon, tmp_path: Path
) -> None:
    fake.conditions = live_listing()
    seed_rest(fake)
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    for run in ("stale", "fresh"):
        feed = make_feed(fake, rest_per_minute="0")
        feed.conditions_cache = conditions.cache_dir(env) / conditions.MASSIVE_FILE
        if run == "fresh":  # the first run cached it
            feed.sale_conditions = conditions.load_massive(feed.conditions_cache)
        async with Collector(feed):
            await asyncio.wait_for(feed.warm_up_done.wait(), 10)
        fetched = [r for r in fake.http.requests if r.path == "/v3/reference/conditions"]
        assert len(fetched) == 2  # two pages on the stale run, none on the fresh one
        assert feed.sale_conditions.by_id[14] == NOT_LAST


async def test_a_failed_listing_keeps_the_shipped_rules(fake: FakePolygon, tmp_path: Path) -> None:
    feed = make_feed(fake, rest_per_minute="0")  # the fake has no listing: 404
    feed.conditions_cache = tmp_path / conditions.MASSIVE_FILE
    client = feed._rest_client()
    try:
        await feed._refresh_conditions(client)
    finally:
        await client.aclose()
    assert feed.conditions_error == "404"
    assert feed.sale_conditions.by_id == SHIPPED.by_id and not feed.conditions_cache.exists()

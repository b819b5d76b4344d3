"""Alpaca feed against a local fake of the stream and REST (no internet)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from feeds.errors import CredentialsError, FeedSpecError
from feeds.events import Bars, DailyCloses, FeedState, Tick, TradeCancel, TradeCorrection
from feeds.feed import FeedOptions, open_feed
from feeds.market.lastsale import NEITHER, NOT_LAST
from feeds.pipeline import Pipeline
from feeds.sources.providers import alpaca
from feeds.sources.providers.alpaca import AlpacaFeed, rfc3339_ms
from feeds.sources.providers.closes import pick_prev_close, reference_session
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError
from feeds.symbols import HEADLINE
from tests.sources.providers.collector import Collector, run_to_end
from tests.sources.providers.fake_alpaca import (
    BAR_DOCS,
    BAR_TEST_STREAM,
    KEY,
    QUOTE_DOCS,
    SECRET,
    TRADE_DOCS,
    TRADE_TEST_STREAM,
    FakeAlpaca,
    Snap,
    bar,
    error_frame,
    trade,
)
from tests.sources.providers.fake_http import Response
from tests.sources.providers.harness import (
    CONSTITUENTS,
    ET,
    NOW,
    SYMBOLS,
    alerts,
    assert_spread_100bp,
    needs_r2k,
    open_fast,
    second_client_refused,
    snapshot,
)


# ---- helpers ----------------------------------------------------------------------------------
def make_feed(fake: FakeAlpaca, spec: str = "alpaca:iex", **env: str) -> AlpacaFeed:
    options = FeedOptions(symbols=list(SYMBOLS), env=fake.env(**env), stale_after=3600)
    return open_fast(spec, options, AlpacaFeed, NOW)


def setup_market(fake: FakeAlpaca) -> None:
    """Snapshots and index closes as of the fixed clock (Thursday 2026-03-05 in session)."""
    today, yday = ("2026-03-05", 251.0), ("2026-03-04", 250.0)
    fake.snapshots["IWM"] = Snap(251.0, "2026-03-05T14:59:58.123456789Z", today, yday)
    fake.snapshots["SPY"] = Snap(
        603.0, "2026-03-05T14:59:59Z", ("2026-03-05", 603.0), ("2026-03-04", 600.0)
    )
    fake.snapshots["MAGS"] = Snap(
        55.0, "2026-03-05T14:59:00Z", ("2026-03-05", 55.0), ("2026-03-04", 54.0)
    )
    # no trade today yet: its newest daily bar (Wednesday) is the previous close
    fake.snapshots["MOG.A"] = Snap(
        40.0, "2026-03-04T20:00:00Z", ("2026-03-04", 40.0), ("2026-03-03", 39.0)
    )
    for i, sym in enumerate(CONSTITUENTS[:-1]):
        fake.snapshots[sym] = Snap(
            20.0 + i, "2026-03-05T14:58:00Z", ("2026-03-05", 20.0 + i), ("2026-03-04", 19.0 + i)
        )
    # today's live row (03-05) must not become the "last close" next to IWM's 03-04 close
    fake.index_closes["^RUT"] = [
        ("2026-03-03", 2480.0),
        ("2026-03-04", 2512.5),
        ("2026-03-05", 2530.0),
    ]
    fake.index_closes["^GSPC"] = [
        ("2026-03-03", 5990.0),
        ("2026-03-04", 6030.0),
        ("2026-03-05", None),
        ("2026-03-05", 6050.0),
    ]


# ---- pure functions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2021-02-22T15:51:44.208Z", "2021-02-22T15:51:44.208+00:00"),
        ("2026-09-15T11:01:53.291535755Z", "2026-09-15T11:01:53.291+00:00"),
        ("2021-02-22T19:15:00Z", "2021-02-22T19:15:00+00:00"),
        ("2021-02-22T10:51:44.2-05:00", "2021-02-22T10:51:44.200-05:00"),
        ("2024-07-24T07:56:00.123456+05:30", "2024-07-24T07:56:00.123+05:30"),
        ("2021-02-22T15:51:44.20z", "2021-02-22T15:51:44.200+00:00"),
    ],
)
def test_rfc3339(text: str, iso: str) -> None:
    assert rfc3339_ms(text) == int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "2021-02-22T15:51",
        "2021-02-22T15:51:44",
        "2021-02-22T15:51:44.Z",
        "2021/02/22T15:51:44Z",
        "2021-02-22T15:51:44+0500",
    ],
)
def test_rfc3339_rejects(bad: str) -> None:
    with pytest.raises((ValueError, IndexError)):
        rfc3339_ms(bad)


def test_prev_close_choice() -> None:
    d = dt.date
    latest, before = (d(2026, 3, 5), 251.0), (d(2026, 3, 4), 250.0)
    assert pick_prev_close(latest, before, d(2026, 3, 5)) == before  # today is running
    assert pick_prev_close(before, (d(2026, 3, 3), 1.0), d(2026, 3, 5)) == before  # pre-market
    assert pick_prev_close(latest, before, None) == before  # weekend: last session's change
    assert reference_session(NOW) == d(2026, 3, 5)
    saturday = int(dt.datetime(2026, 3, 7, 12, tzinfo=ET).timestamp() * 1000)
    assert reference_session(saturday) is None
    before_pre = int(dt.datetime(2026, 3, 5, 3, 0, tzinfo=ET).timestamp() * 1000)
    assert reference_session(before_pre) is None


def offline_feed(spec: str = "alpaca:iex", symbols: list[str] | None = None) -> AlpacaFeed:
    env = {"R2K_ALPACA_KEY": KEY, "R2K_ALPACA_SECRET": SECRET}
    feed = open_feed(spec, FeedOptions(symbols=symbols or list(SYMBOLS), env=env))
    assert isinstance(feed, AlpacaFeed)
    return feed


def test_decode_real_frames() -> None:
    feed = offline_feed(symbols=[*HEADLINE, "AAPL", "MOG-A"])
    [t] = feed.decode(TRADE_DOCS)
    # "c": ["@", "I"] on tape C: an odd lot (UTP "I") sets neither the last sale nor high/low
    stamp = rfc3339_ms("2021-02-22T15:51:44.208Z")
    assert t == Tick("AAPL", 126.55, stamp, 1, sale_flags=NEITHER, trade_id=96921)
    [t] = feed.decode(TRADE_TEST_STREAM)
    assert (t.symbol, t.price, t.ts, t.size) == ("FAKEPACA", 134.56, 1789470113291, 3)
    assert (t.sale_flags, t.trade_id) == (0, 1)  # "c": [" "]: a regular sale
    [b] = feed.decode(BAR_DOCS)  # a bar's close belongs to the end of its minute
    assert (b.symbol, b.price, b.ts) == ("SPY", 389.12, rfc3339_ms("2021-02-22T19:16:00Z"))
    [b] = feed.decode(BAR_TEST_STREAM)
    assert isinstance(b.price, float) and b.price == 134.65
    assert feed.decode(QUOTE_DOCS) == []
    mixed = orjson.dumps(
        [
            trade("MOG.A", 41.5, "2026-03-05T15:00:00Z"),
            orjson.loads(QUOTE_DOCS)[0],
            bar("IWM", 251.5, "2026-03-05T14:59:00Z"),
            {"T": "s", "S": "AAPL", "sc": "H", "sm": "Trading Halt"},
        ]
    )
    ticks = feed.decode(mixed)
    assert [(x.symbol, x.price) for x in ticks] == [("MOG-A", 41.5), ("IWM", 251.5)]


@pytest.mark.parametrize(
    "garbage",
    [
        "not json",
        "{}",
        '{"T":"t"}',
        "[1,2]",
        '[{"T":"t","S":"X"}]',
        '[{"T":"t","S":"X","p":1,"t":"yesterday"}]',
        "[{}]",
    ],
)
def test_decode_garbage_raises(garbage: str) -> None:
    # any exception other than Fatal/Retry is counted as malformed by the base and skipped
    with pytest.raises(Exception) as info:
        offline_feed().decode(garbage)
    assert not isinstance(info.value, (FatalFeedError, RetryFeedError))


@pytest.mark.parametrize(
    ("code", "kind", "text"),
    [
        (
            402,
            FatalFeedError,
            "alpaca rejected the key (402 auth failed): check R2K_ALPACA_KEY and R2K_ALPACA_SECRET",
        ),
        (409, FatalFeedError, "plan does not include the iex feed (409 insufficient subscription)"),
        (406, RetryFeedError, "another client"),
        (405, alpaca.SymbolLimitError, "405 symbol limit exceeded"),
        (400, FatalFeedError, "400 invalid syntax"),
        (401, RetryFeedError, "401 not authenticated"),
        (403, RetryFeedError, "403 already authenticated"),
        (404, RetryFeedError, "404 auth timeout"),
        (407, RetryFeedError, "slow client"),
        (408, FatalFeedError, "408 v2 not enabled"),
        (410, FatalFeedError, "410 invalid subscribe action"),
        (500, RetryFeedError, "500 internal error"),
    ],
)
def test_every_error_code(code: int, kind: type[Exception], text: str) -> None:
    with pytest.raises(kind) as info:
        offline_feed().decode(error_frame(code))
    assert text in str(info.value)
    assert "\n" not in str(info.value)


def test_plan_split_and_symbols() -> None:
    feed = offline_feed()
    assert feed.trades[:3] == ["IWM", "SPY", "MAGS"]
    assert len(feed.trades) == 30
    assert feed.bars == [*CONSTITUENTS[27:40], "MOG.A"]
    assert not any(s.startswith("^") for s in feed.symbols)
    assert offline_feed("alpaca:sip").bars == []  # SIP: no cap by default
    assert offline_feed("alpaca:test").trades == ["FAKEPACA"]


def test_spec_and_credentials() -> None:
    with pytest.raises(FeedSpecError, match="alpaca:iex"):
        open_feed("alpaca:nasdaq", FeedOptions(env={"R2K_ALPACA_KEY": "k"}))
    with pytest.raises(CredentialsError, match="R2K_ALPACA_KEY"):
        open_feed("alpaca", FeedOptions(env={}))
    with pytest.raises(CredentialsError, match="R2K_ALPACA_SECRET"):
        open_feed("alpaca", FeedOptions(env={"R2K_ALPACA_KEY": "k"}))
    feed = open_feed("alpaca", FeedOptions(config={"key": "k", "secret": "s"}))
    assert isinstance(feed, AlpacaFeed) and feed.feed_name == "iex" and feed.estimates_indices


def test_index_estimate_in_pipeline() -> None:
    """IWM tick -> ^RUT = IWM * k with k = ^RUT close / IWM close of the same session."""
    feed = offline_feed()
    pipe = Pipeline(feed)
    pipe.handle(DailyCloses("^RUT", [("2026-03-03", 2480.0), ("2026-03-04", 2512.5)]))
    pipe.handle(Bars("IWM", [], 250.0))
    pipe.handle(Tick("IWM", 252.0, NOW))
    q = pipe.quote("^RUT")
    assert q.estimated and q.last == round(252.0 * 2512.5 / 250.0, 2)
    assert q.anchor == 2512.5 and q.ret == pytest.approx(252.0 / 250.0 - 1)
    assert not pipe.quote("IWM").estimated


# ---- against the fake server ------------------------------------------------------------------
async def test_stream_warmup_reconnect_resubscribe() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        fake.frames[0] = [
            orjson.dumps(
                [
                    trade("IWM", 252.0, "2026-03-05T15:00:00.5Z"),
                    trade("SPY", 604.0, "2026-03-05T10:00:01-05:00"),
                ]
            ).decode(),
            "this is not json",
            QUOTE_DOCS,
            orjson.dumps([bar("C35", 55.5, "2026-03-05T14:59:00Z")]).decode(),
        ]
        fake.frames[1] = [orjson.dumps([trade("MOG.A", 41.0, "2026-03-05T15:00:02Z")]).decode()]
        fake.close_after = {0}
        feed = make_feed(fake)
        pipe = Pipeline(feed)
        async with Collector(feed) as run:
            await run.wait(lambda e: isinstance(e, Tick) and e.symbol == "MOG-A" and e.size)
            for ev in run.events:
                pipe.handle(ev)

        c0, c1 = fake.conns[0], fake.conns[1]
        assert c0.path == "/v2/iex"
        assert c0.headers["content-type"] == "application/json"
        assert c0.received[0] == {"action": "auth", "key": KEY, "secret": SECRET}
        sub = c0.received[1]
        assert sub == {
            "action": "subscribe",
            "trades": ["IWM", "SPY", "MAGS", *CONSTITUENTS[:27]],
            "bars": [*CONSTITUENTS[27:40], "MOG.A"],
        }
        assert c1.received == c0.received  # same login, same full subscription after reconnect

        # REST warm-up: one snapshot batch with the key headers, the index closes from "Yahoo"
        snaps = [r for r in fake.http.requests if r.path == "/v2/stocks/snapshots"]
        assert snaps[0].query["feed"] == "iex" and snaps[0].headers["apca-api-key-id"] == KEY
        assert {r.unquoted for r in fake.http.requests} >= {"/v8/finance/chart/^RUT"}

        seen = run.events
        daily = {e.symbol: e for e in seen if isinstance(e, DailyCloses)}
        assert daily["^RUT"].closes[-1] == ("2026-03-04", 2512.5)  # trimmed to IWM's session
        assert daily["^GSPC"].closes == [("2026-03-03", 5990.0), ("2026-03-04", 6030.0)]
        first_tick = next(e for e in seen if isinstance(e, Tick))
        assert first_tick == Tick(
            "IWM", 251.0, rfc3339_ms("2026-03-05T14:59:58.123Z"), None, None, 250.0
        )
        bars = {e.symbol: e for e in seen if isinstance(e, Bars)}
        assert bars["MOG-A"].prev_close == 40.0  # no trade today: Wednesday's bar is previous
        assert bars["C01"].prev_close == 20.0 and bars["C01"].points[0][1] == 21.0
        assert seen.index(daily["^RUT"]) < seen.index(first_tick)

        ticks = [e for e in seen if isinstance(e, Tick)]
        # the fake's trades are regular sales ("c": ["@"]) numbered "i": 1
        stamp = rfc3339_ms("2026-03-05T15:00:00.500Z")
        assert Tick("IWM", 252.0, stamp, 100, trade_id=1) in ticks
        assert Tick("SPY", 604.0, rfc3339_ms("2026-03-05T15:00:01Z"), 100, trade_id=1) in ticks
        assert Tick("C35", 55.5, rfc3339_ms("2026-03-05T15:00:00Z"), 1000) in ticks
        assert feed.malformed == 1

        states = [s.state for s in run.statuses()]
        assert states[0] is FeedState.CONNECTING and FeedState.LIVE in states
        assert FeedState.RECONNECTING in states[states.index(FeedState.LIVE) :]
        live = next(s for s in run.statuses() if s.state is FeedState.LIVE)
        assert "iex: trades for 30 symbols, minute bars for 14" in live.detail
        assert "^RUT/^GSPC estimated from IWM/SPY" in live.detail
        for s in run.statuses():
            assert KEY not in s.detail and SECRET not in s.detail and "\n" not in s.detail

        # the estimate the screen shows: k = 2512.5 / 250
        rut = pipe.quote("^RUT")
        assert rut.estimated and rut.last == round(252.0 * 10.05, 2)
        assert pipe.quote("^GSPC").last == round(604.0 * 6030.0 / 600.0, 2)
        assert pipe.quote("MOG-A").ret == pytest.approx(41.0 / 40.0 - 1)


async def test_auth_failed_is_fatal() -> None:
    async with FakeAlpaca(secret="the-right-one") as fake:
        setup_market(fake)
        feed = make_feed(fake, R2K_ALPACA_SECRET="wrong-secret", R2K_ALPACA_INDEX_CLOSES="off")
        fake.snapshots.clear()
        fake.http.handler = lambda req: Response(200, {})  # let REST pass: the stream says why
        run = await run_to_end(feed)
        last = run.statuses()[-1]
        assert last.state is FeedState.ERROR
        assert last.detail == (
            "alpaca rejected the key (402 auth failed): check R2K_ALPACA_KEY and R2K_ALPACA_SECRET"
        )
        assert "wrong-secret" not in str(run.events)
        assert fake.refused.get_nowait() == (0, 402) and len(fake.conns) == 1


async def test_rest_401_is_fatal() -> None:
    async with FakeAlpaca() as fake:
        run = await run_to_end(make_feed(fake, R2K_ALPACA_KEY="not-the-key"))
        last = run.statuses()[-1]
        assert last.state is FeedState.ERROR and "R2K_ALPACA_KEY" in last.detail
        assert not run.ticks()  # the stream (started beside the REST warm-up) read nothing


async def test_insufficient_subscription_is_fatal() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        run = await run_to_end(make_feed(fake, "alpaca:sip"))
        last = run.statuses()[-1]
        assert last.state is FeedState.ERROR
        assert last.detail.startswith(
            "alpaca plan does not include the sip feed (409 insufficient subscription): "
            "use --feed alpaca:iex"
        )
        assert fake.conns[0].path == "/v2/sip"


async def test_second_connection_hits_connection_limit() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        ev = await second_client_refused(lambda: make_feed(fake), "406")
        assert ev.detail.startswith(
            "alpaca allows one connection per key (406 connection limit exceeded): another client"
        )
        assert ev.retry_at > 0 and ev.reconnects >= 1


async def test_symbol_limit_shrinks_trades_and_keeps_bars() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        fake.trade_cap = 10  # the server refuses more than 10 trade symbols
        feed = make_feed(fake)
        async with Collector(feed) as run:
            ev = await run.status(FeedState.LIVE)
        subs = [m for m in fake.conns[0].received if m.get("action") == "subscribe"]
        assert [len(m["trades"]) for m in subs] == [30, 15, 7]
        final = subs[-1]
        assert final["trades"] == ["IWM", "SPY", "MAGS", *CONSTITUENTS[:4]]
        assert len(final["trades"]) + len(final["bars"]) == len(feed.symbols)  # nothing lost
        assert [fake.refused.get_nowait() for _ in range(2)] == [(0, 405), (0, 405)]
        assert "trades for 7 symbols, minute bars for 37" in ev.detail
        assert "symbol limit (405)" in ev.detail


async def test_symbol_limit_on_bars_too() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        fake.trade_cap, fake.bar_cap = 3, 10
        feed = make_feed(fake)
        async with Collector(feed) as run:
            ev = await run.status(FeedState.LIVE)
        assert feed.trades == ["IWM", "SPY", "MAGS"] and len(feed.bars) <= 10
        assert "not streamed (plan symbol limit)" in ev.detail


async def test_index_closes_unavailable_is_tolerated() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        fake.index_closes.clear()  # Yahoo answers 404
        async with Collector(make_feed(fake)) as run:
            ev = await run.status(FeedState.LIVE)
        assert "^RUT/^GSPC estimated from IWM/SPY with a fixed ratio (index closes unavailable" in (
            ev.detail
        )
        assert not any(isinstance(e, DailyCloses) for e in run.events)


async def test_garbage_frames_are_counted_and_skipped() -> None:
    async with FakeAlpaca() as fake:
        setup_market(fake)
        fake.frames_all = [
            "\x00\x01garbage",
            '[{"T":"t","S":"IWM"}]',
            '{"T":"t"}',
            "[42]",
            orjson.dumps([trade("IWM", 253.0, "2026-03-05T15:00:03Z")]).decode(),
        ]
        feed = make_feed(fake)
        async with Collector(feed) as run:
            await run.wait(lambda e: isinstance(e, Tick) and e.price == 253.0)
        assert feed.malformed == 4
        assert all(s.state is not FeedState.ERROR for s in run.statuses())
        assert len(fake.conns) == 1  # no reconnect over garbage


# ---- end to end: the CLI against the fake -----------------------------------------------------
@needs_r2k
async def test_snapshot_cli_end_to_end(tmp_path: Path) -> None:
    async with FakeAlpaca() as fake:
        # dates far in the past with equal closes on both bars, so whatever the wall clock says
        # (session day, weekend...) the previous close and k come out the same
        for sym, px in (("IWM", 250.0), ("SPY", 600.0), ("MAGS", 54.0)):
            fake.snapshots[sym] = Snap(
                px, "2025-01-14T20:59:00Z", ("2025-01-14", px), ("2025-01-13", px)
            )
        fake.index_closes["^RUT"] = [("2025-01-13", 2500.0), ("2025-01-14", 2500.0)]
        fake.index_closes["^GSPC"] = [("2025-01-13", 6000.0), ("2025-01-14", 6000.0)]
        fake.frames_all = [
            orjson.dumps(
                [
                    trade("IWM", 255.0, "2025-01-15T15:00:00Z"),
                    trade("SPY", 606.0, "2025-01-15T15:00:00Z"),
                ]
            ).decode()
        ]
        snap = await snapshot("alpaca:iex", fake.env(), tmp_path, KEY, SECRET)
        assert fake.conns and fake.conns[0].received[0]["action"] == "auth"
        text = orjson.dumps(snap).decode()
        assert "^RUT" in text and "IWM" in text
        check_snapshot_json(snap)


def check_snapshot_json(snap: dict[str, Any]) -> None:
    """The indices are estimates from IWM/SPY: ^RUT = 255 * 2500/250 (+2%), ^GSPC = 606 * 10
    (+1%), so the spread is +100 bp."""
    assert_spread_100bp(snap)
    rut = snap["indices"]["^RUT"]
    if "estimated" in rut:  # the JSON may or may not carry the estimate flag
        assert rut["estimated"] is True


async def test_test_stream_checks_keys_without_rest() -> None:
    async with FakeAlpaca() as fake:
        fake.frames_all = [TRADE_TEST_STREAM, BAR_TEST_STREAM]
        async with Collector(make_feed(fake, "alpaca:test")) as run:
            bar_tick = await run.wait(lambda e: isinstance(e, Tick) and e.size == 205)
        assert fake.conns[0].path == "/v2/test"
        assert fake.conns[0].received[1] == {
            "action": "subscribe",
            "trades": ["FAKEPACA"],
            "bars": [],
        }
        assert bar_tick.price == 134.65
        assert Tick("FAKEPACA", 134.56, 1789470113291, 3, trade_id=1) in run.events
        assert fake.http.requests == []  # no snapshot, no index closes


# ---- the trade-corrections case: ../shared/cases/trade-corrections/README.md --------------------
def case_frames(day: str) -> list[str]:
    """The case's Alpaca messages, one frame each, with T0 = ``day`` 15:00:00Z."""
    t0 = dt.datetime.fromisoformat(f"{day}T15:00:00+00:00")

    def at(seconds: int) -> str:
        return (t0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    msgs: list[dict[str, Any]] = [
        {"T": "t", "S": "IWM", "i": 101, "x": "V", "p": 244.70, "s": 100, "c": ["@"],
         "t": at(0), "z": "B"},
        {"T": "t", "S": "IWM", "i": 102, "x": "V", "p": 246.10, "s": 5000, "c": ["@"],
         "t": at(1), "z": "B"},
        {"T": "x", "S": "IWM", "i": 102, "x": "V", "p": 246.10, "s": 5000, "a": "C",
         "t": at(2), "z": "B"},
        {"T": "c", "S": "IWM", "x": "V", "oi": 101, "op": 244.70, "os": 100, "oc": ["@"],
         "ci": 103, "cp": 244.07, "cs": 100, "cc": ["@"], "t": at(3), "z": "B"},
        {"T": "t", "S": "IWM", "i": 104, "x": "V", "p": 243.20, "s": 100, "c": ["@"],
         "t": at(-600), "z": "B"},
    ]  # fmt: skip
    return [orjson.dumps([m]).decode() for m in msgs]


CASE_LASTS = [244.70, 246.10, 244.70, 244.07, 244.07]  # the right last after each step


def test_decode_cancel_and_correction() -> None:
    feed = offline_feed()
    frames = case_frames("2026-03-05")
    [cancel] = feed.decode(frames[2])
    assert cancel == TradeCancel("IWM", 102, 246.10, rfc3339_ms("2026-03-05T15:00:02Z"))
    [fix] = feed.decode(frames[3])
    assert fix == TradeCorrection(
        "IWM", 101, 244.07, rfc3339_ms("2026-03-05T15:00:03Z"), 100, 0, 103, 244.70
    )
    error = orjson.dumps([{**orjson.loads(frames[2])[0], "a": "E"}]).decode()
    assert feed.decode(error)[0].error is True
    # a correction into an odd lot (UTP "I" on tape C) bars the corrected trade
    odd = orjson.dumps([{**orjson.loads(frames[3])[0], "cc": ["@", "I"], "z": "C"}]).decode()
    assert feed.decode(odd)[0].sale_flags == NEITHER


@pytest.mark.parametrize(
    ("tape", "codes", "flags"),
    [
        ("C", ["@"], 0),
        ("C", ["@", "I"], NEITHER),  # odd lot
        ("C", ["W"], NEITHER),  # UTP average price trade
        ("C", ["B"], 0),  # UTP bunched trade: a regular last sale
        ("A", ["B"], NEITHER),  # CTA average price trade
        ("B", ["@", "V"], NEITHER),  # contingent trade
        ("B", ["7"], NEITHER),  # qualified contingent trade
        ("A", ["T"], NEITHER),  # extended hours (Form T)
        ("A", ["Z"], NOT_LAST),  # sold out of sequence: high/low yes, last no
        ("C", ["4"], NOT_LAST),  # derivatively priced
        ("A", [" "], 0),  # the CTA's blank: regular
        ("A", ["F", "I"], NEITHER),  # an odd-lot intermarket sweep
    ],
)
def test_trade_conditions_by_tape(tape: str, codes: list[str], flags: int) -> None:
    feed = offline_feed()
    msg = {"T": "t", "S": "IWM", "i": 1, "x": "V", "p": 250.0, "s": 1, "c": codes,
           "t": "2026-03-05T15:00:00Z", "z": tape}  # fmt: skip
    [tick] = feed.decode(orjson.dumps([msg]))
    assert tick.sale_flags == flags


def case_market(fake: FakeAlpaca, day: str, prev_day: str) -> None:
    """IWM's previous close 250 and ^RUT's 2500 (k = 10); IWM last traded at 244.50 (^RUT est.
    2,445: below the 2,450 support, where the case starts)."""
    fake.snapshots["IWM"] = Snap(244.50, f"{day}T14:59:00Z", (prev_day, 250.0), (prev_day, 250.0))
    for sym, px in (("SPY", 600.0), ("MAGS", 54.0)):
        fake.snapshots[sym] = Snap(px, f"{day}T14:59:00Z", (prev_day, px), (prev_day, px))
    fake.index_closes["^RUT"] = [(prev_day, 2500.0)]
    fake.index_closes["^GSPC"] = [(prev_day, 6000.0)]


async def test_the_case_through_the_decoder_against_the_fake() -> None:
    async with FakeAlpaca() as fake:
        case_market(fake, "2026-03-05", "2026-03-04")
        frames = case_frames("2026-03-05")
        fake.frames[0] = frames
        feed = make_feed(fake)
        async with Collector(feed) as col:
            await col.wait(lambda e: isinstance(e, Tick) and e.trade_id == 104)
        pipe = Pipeline(feed)
        delivered: list[Any] = []
        pipe.desk.sinks.append(delivered.append)
        lasts = []
        for ev in col.events:
            pipe.handle(ev)
            if isinstance(ev, TradeCancel | TradeCorrection) or (
                isinstance(ev, Tick) and ev.trade_id is not None
            ):
                lasts.append(pipe.state.price("IWM"))
    assert lasts == CASE_LASTS
    assert pipe.state.price("^RUT") == pytest.approx(2440.70)
    assert [(a.kind, a.level, a.direction) for a in delivered] == [
        ("cross", 2450.0, "up"),
        ("busted", 2450.0, "up"),
    ]
    support = next(lv for lv in pipe.levels.levels if lv.price == 2450.0)
    assert support.crossings == []


@needs_r2k
async def test_r2k_alerts_writes_the_busted_line(tmp_path: Path) -> None:
    async with FakeAlpaca() as fake:
        # dates in the past with equal closes on both bars: k = 10 whatever the wall clock says,
        # and IWM's last trade at its close, which the new session (01-15) takes as previous
        case_market(fake, "2025-01-14", "2025-01-14")
        fake.snapshots["IWM"] = Snap(
            244.50, "2025-01-14T20:59:00Z", ("2025-01-14", 244.50), ("2025-01-13", 244.50)
        )
        fake.index_closes["^RUT"] = [("2025-01-13", 2445.0), ("2025-01-14", 2445.0)]
        fake.frames_all = case_frames("2025-01-15")
        lines = await alerts("alpaca:iex", fake.env(), tmp_path, 5)
    cross, busted = lines
    assert (cross["kind"], busted["kind"]) == ("cross", "busted")
    for key in ("symbol", "level", "direction"):
        assert busted[key] == cross[key]
    assert (cross["symbol"], cross["level"], cross["direction"]) == ("^RUT", 2450.0, "up")
    assert busted["original_ts"] == cross["ts"]
    log = tmp_path / "state" / "r2k" / "alerts.jsonl"
    assert [orjson.loads(x)["kind"] for x in log.read_text().splitlines()] == ["cross", "busted"]

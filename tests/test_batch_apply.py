"""A group of events applied in one call (issue 12 §5) gives exactly what one event at a time
gives: the state's columns and charts, the alerts and their order, the statuses, the relay's
output; and the sim's groups are its events, in order."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator

from feeds.alerting.levels import LevelEngine
from feeds.events import DailyCloses, Event, FeedState, FeedStatus, MarketReset, Tick
from feeds.feed import Feed, FeedOptions
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, NOT_LAST
from feeds.market.state import MarketState
from feeds.pipeline import Pipeline
from feeds.sources.sim import SimFeed
from feeds.symbols import HEADLINE, IWM, RUT, SPX, SPY
from tests.market.test_state_apply import snapshot
from tests.test_pipeline import ListFeed

OPEN = 1_762_957_800_000  # Wed 2025-11-12 09:30 ET
NEXT_OPEN = 1_763_044_200_000  # Thu 2025-11-13 09:30 ET


def random_ticks(rng: random.Random, n: int, *, days: int = 2) -> list[Tick]:
    """Headline and constituent ticks over ``days`` sessions (pre-market, regular, post-market
    and a new day: the rollovers happen inside a group), some with a previous close or a day
    volume, some at the last price, a few symbols never seen before."""
    symbols = [*HEADLINE, *(f"S{k:03d}" for k in range(40))]
    prices = {s: (2450.0 if s == RUT else rng.uniform(5, 500)) for s in symbols}
    starts = [OPEN - 3_600_000, NEXT_OPEN - 3_600_000][:days]
    out: list[Tick] = []
    for day, start in enumerate(starts):
        ts = start
        for k in range(n // len(starts)):
            ts += rng.choice((0, 0, 1, 7, 250, 30_000, 61_000))
            s = rng.choice(symbols) if rng.random() > 0.02 else f"NEW{day}{k}"
            p = prices.get(s, 10.0)
            roll = rng.random()
            if roll > 0.3:
                step = 0.8 if s == RUT else 0.05
                p = round(max(0.01, p + rng.choice((-step, step)) * rng.random()), 2)
            prices[s] = p
            out.append(
                Tick(
                    s,
                    p,
                    ts,
                    size=100.0,
                    day_volume=float(k) if rng.random() < 0.5 else None,
                    prev_close=round(p * 0.99, 2) if rng.random() < 0.3 else None,
                )
            )
    return out


def test_apply_ticks_equals_apply_on_each_across_session_rollovers() -> None:
    rng = random.Random(12)
    for _ in range(10):
        ticks = random_ticks(rng, 3_000)
        one, batched = MarketState(HEADLINE), MarketState(HEADLINE)
        for t in ticks:
            one.apply(t)
        k = 0
        while k < len(ticks):  # groups of any size, as frames come
            size = rng.choice((1, 2, 50, 400))
            assert batched.apply_ticks(ticks[k : k + size]) == len(ticks[k : k + size])
            k += size
        assert snapshot(batched) == snapshot(one)
        assert batched.session_date == one.session_date and batched.session == one.session
        assert batched.total_ticks == one.total_ticks == len(ticks)
        assert batched.daily.closes == one.daily.closes
        assert batched.take_dirty() == one.take_dirty()


def test_apply_ticks_stops_before_a_headline_tick_and_any_other_event() -> None:
    st = MarketState(HEADLINE)
    events: list[object] = [
        Tick("AAA", 10.0, OPEN),
        Tick(RUT, 2450.0, OPEN),
        Tick("BBB", 5.0, OPEN),
        FeedStatus(FeedState.LIVE),
        Tick("CCC", 7.0, OPEN),
    ]
    assert st.apply_ticks(events, 0, len(HEADLINE)) == 1  # ^RUT is left to the caller
    assert st.price("AAA") == 10.0 and st.price(RUT) is None
    assert st.apply_ticks(events, 2, len(HEADLINE)) == 3  # stops before the status
    assert st.price("BBB") == 5.0
    assert st.apply_ticks(events, 4) == 5
    assert st.total_ticks == 3


def test_apply_ticks_keeps_the_tape_rules_for_barred_and_late_trades() -> None:
    """Trades their conditions bar from the last sale, prints stamped before the last sale, and
    trades with ids (a later cancel names them) go the same way in a group as one by one."""
    rng = random.Random(21)
    ticks = random_ticks(rng, 1_500, days=1)
    for k, t in enumerate(ticks):
        if k % 7 == 0:
            t.sale_flags = rng.choice((NOT_LAST, NOT_HIGH_LOW, NEITHER))
        if k % 5 == 0:
            t.trade_id = k
        if k % 11 == 0:
            t.ts -= 120_000  # late
    one, batched = MarketState(HEADLINE), MarketState(HEADLINE)
    for t in ticks:
        one.apply(t)
    batched.apply_ticks(ticks)
    assert snapshot(batched) == snapshot(one)
    assert batched.total_ticks == one.total_ticks
    assert [batched.busts.last_trade_id(s) for s in one.symbols] == [
        one.busts.last_trade_id(s) for s in one.symbols
    ]


def alert_pipeline(events: list[Event], estimates: bool) -> tuple[Pipeline, list]:
    fired: list = []
    levels = LevelEngine(hysteresis=0.0002)
    spread = LevelEngine([], band=1.0, approach=None)
    for bp in (-20.0, -5.0, 5.0, 20.0):
        spread.add(bp, f"{bp:+g} bp")
    pipeline = Pipeline(
        ListFeed(events, estimates=estimates),
        levels=levels,
        spreads={"RUT-SPX": spread},
        alert_sinks=[fired.append],
    )
    return pipeline, fired


def index_stream(rng: random.Random, estimates: bool) -> list[Event]:
    """Index (or proxy ETF) prints walking through 2,450 and the spread thresholds, among
    constituent ticks, statuses and daily closes, over a rollover."""
    events: list[Event] = [
        FeedStatus(FeedState.LIVE, "test", OPEN),
        DailyCloses(RUT, [("2025-11-11", 2440.0)]),
        DailyCloses(SPX, [("2025-11-11", 6700.0)]),
    ]
    rut, spx = 2440.0, 6700.0
    for t in random_ticks(rng, 2_000):
        if rng.random() < 0.3:
            if rng.random() < 0.5:
                rut = round(rut + rng.uniform(-2.5, 3.0), 2)
                sym, price = (IWM, round(rut / 10.0, 2)) if estimates else (RUT, rut)
            else:
                spx = round(spx + rng.uniform(-3.0, 3.0), 2)
                sym, price = (SPY, round(spx / 10.03, 2)) if estimates else (SPX, spx)
            events.append(Tick(sym, price, t.ts))
        elif t.symbol not in HEADLINE:
            events.append(t)
        if rng.random() < 0.01:
            state = FeedState.STALE if rng.random() < 0.5 else FeedState.LIVE
            events.append(FeedStatus(state, "", t.ts))  # stamped: no wall clock in the state
    return events


def test_handle_batch_equals_handle_on_each_with_levels_spreads_and_estimates() -> None:
    rng = random.Random(13)
    for estimates in (False, True, False, True):
        events = index_stream(rng, estimates)
        one, fired_one = alert_pipeline(events, estimates)
        for ev in events:
            one.handle(ev)
        batched, fired_batched = alert_pipeline(events, estimates)
        k = 0
        while k < len(events):
            size = rng.choice((1, 3, 50, 300))
            assert batched.handle_batch(events[k : k + size]) is False
            k += size
        assert fired_one, "the stream should cross levels"
        assert [(a.level, a.direction, a.ts, a.price) for a in fired_batched] == [
            (a.level, a.direction, a.ts, a.price) for a in fired_one
        ]
        assert snapshot(batched.state) == snapshot(one.state)
        assert batched.status == one.status
        assert (
            list(batched.health.history)[1:] == list(one.health.history)[1:]
        )  # [0]: "opening", wall time


def test_a_market_reset_inside_a_group_starts_the_rest_of_the_group_afresh() -> None:
    """A relay restarted on an earlier session sends MarketReset among its ticks: the ticks
    after it go to the new state, as one event at a time they do."""
    events: list[Event] = [
        Tick("AAA", 10.0, NEXT_OPEN),
        Tick(RUT, 2450.0, NEXT_OPEN),
        MarketReset(OPEN, "relay restarted"),
        Tick("AAA", 9.0, OPEN),
        Tick("BBB", 5.0, OPEN),
    ]
    one, _ = alert_pipeline(events, False)
    for ev in events:
        one.handle(ev)
    batched, _ = alert_pipeline(events, False)
    batched.handle_batch(events)
    assert snapshot(batched.state) == snapshot(one.state)
    assert batched.state.price("AAA") == 9.0 and batched.state.price("BBB") == 5.0


def test_handle_batch_stops_at_the_end_of_the_feed() -> None:
    pipeline, _ = alert_pipeline([], False)
    events: list[Event] = [
        Tick("AAA", 1.0, OPEN),
        FeedStatus(FeedState.ENDED, "done"),
        Tick("AAA", 2.0, OPEN + 1),
    ]
    assert pipeline.handle_batch(events) is True
    assert pipeline.state.price("AAA") == 1.0
    assert pipeline.status.state is FeedState.ENDED


class GroupFeed(ListFeed):
    """The same events, also in groups of varying size (as frames come)."""

    def batches(self) -> AsyncIterator[list[Event]]:
        async def groups() -> AsyncIterator[list[Event]]:
            rng = random.Random(7)
            k = 0
            while k < len(self.events):
                size = rng.choice((1, 5, 80))
                yield self.events[k : k + size]
                k += size

        return groups()


def test_run_over_groups_ends_where_run_over_events_does() -> None:
    """``Pipeline.run`` takes the feed's groups when it has them: the same board and alerts as
    one event at a time, and nothing after the feed's ENDED status."""
    events = index_stream(random.Random(14), False)
    events += [FeedStatus(FeedState.ENDED, "done", NEXT_OPEN), Tick("S001", 999.0, NEXT_OPEN)]

    def pipeline(feed: Feed) -> tuple[Pipeline, list]:
        fired: list = []
        return Pipeline(
            feed, levels=LevelEngine(hysteresis=0.0002), alert_sinks=[fired.append]
        ), fired

    grouped, fired_grouped = pipeline(GroupFeed(events))
    single, fired_single = pipeline(ListFeed(events))
    asyncio.run(grouped.run())
    asyncio.run(single.run())
    assert snapshot(grouped.state) == snapshot(single.state)
    assert grouped.state.price("S001") != 999.0
    assert fired_single and [a.ts for a in fired_grouped] == [a.ts for a in fired_single]
    assert grouped.status.state is FeedState.ENDED


class OneByOne(Feed):
    """A feed's events one at a time (its groups hidden): the path without groups."""

    def __init__(self, inner: Feed) -> None:
        super().__init__(inner.spec, inner.options)
        self.inner = inner

    def now_ms(self) -> int:
        return self.inner.now_ms()

    def __aiter__(self) -> AsyncIterator[Event]:
        return aiter(self.inner)


def test_a_feed_time_limit_ends_a_run_over_groups_where_it_ends_one_event_at_a_time() -> None:
    async def board(groups: bool) -> list[str]:
        sim = SimFeed("sim", FeedOptions(speed=0, seed=5, universe=300), start_ms=OPEN)
        pipeline = Pipeline(sim if groups else OneByOne(sim))
        await pipeline.run(feed_ms=90_000)
        return snapshot(pipeline.state)

    grouped, single = asyncio.run(board(True)), asyncio.run(board(False))
    assert grouped == single
    assert len(grouped) > 300


def test_sim_groups_are_its_events_in_order() -> None:
    async def collect(groups: bool) -> list[Event]:
        feed = SimFeed("sim", FeedOptions(speed=0, seed=2, universe=200), start_ms=OPEN)
        out: list[Event] = []
        if groups:
            it = feed.batches()
            async for group in it:
                assert group, "no empty group"
                out.extend(group)
                if len(out) > 20_000:
                    break
            await it.aclose()
        else:
            async for ev in feed:
                out.append(ev)
                if len(out) > 20_000:
                    break
        return out[:20_000]

    def key(ev: Event) -> object:
        return repr(ev) if type(ev) is not Tick else (ev.symbol, ev.price, ev.ts, ev.day_volume)

    grouped, single = asyncio.run(collect(True)), asyncio.run(collect(False))
    assert [key(e) for e in grouped] == [key(e) for e in single]
    assert any(type(e) is Tick for e in grouped)


def test_sim_paced_releases_are_its_ticks_in_order() -> None:
    """Paced (speed > 0), the sim builds each release's ticks from the second's columns: at a
    speed where every tick is already due, the releases are the same ticks as at speed 0."""

    async def collect(speed: float) -> list[tuple]:
        feed = SimFeed("sim", FeedOptions(speed=speed, seed=3, universe=200), start_ms=OPEN)
        it = feed.batches()
        out: list[tuple] = []
        async for group in it:
            out += [
                (t.symbol, t.price, t.ts, t.size, t.day_volume) for t in group if type(t) is Tick
            ]
            if len(out) >= 5_000:
                break
        await it.aclose()
        return out[:5_000]

    assert asyncio.run(collect(1e9)) == asyncio.run(collect(0))


def test_sim_ticks_are_unchanged_by_the_column_build() -> None:
    """A seed's ticks are what they were before the sim built them column-wise: the digest of
    the first three seconds was taken with the per-tick build."""
    market = SimFeed("sim", FeedOptions(seed=1, universe=2000), start_ms=OPEN).market
    first = [t for _ in range(3) for t in market.step()]
    rows = [(t.symbol, t.price, t.ts, t.size, t.day_volume, t.prev_close) for t in first]
    assert len(rows) == 2_841
    assert rows[0] == ("HMN", 47.22, OPEN, 77.0, 77.0, 47.38)
    assert hashlib.sha256(repr(rows).encode()).hexdigest() == (
        "c9e801b745caa1dab67ea322cbce32f22a585156947746366e06973f38d5b28d"
    )
    assert all(type(t.ts) is int and type(t.size) is float for t in first)


def test_a_constituent_chart_holds_the_whole_extended_day_in_bounded_memory() -> None:
    """One point a minute from 04:00 to 20:00 ET (the sim's and the providers' extended day):
    every minute is kept, first to last, in a ring sized for exactly that day (issue 12 §6)."""
    st = MarketState(HEADLINE)
    pre = OPEN - 5 * 3_600_000 - 1_800_000  # 04:00 ET
    minutes = 16 * 60
    st.apply_ticks([Tick("AAA", 10.0 + k / 100, pre + k * 60_000 + 5) for k in range(minutes)])
    times, prices = st.chart("AAA")
    assert len(times) == minutes
    assert times[0] == pre + 5 and prices[0] == 10.0
    assert prices[-1] == 10.0 + (minutes - 1) / 100
    ring = st.history[st.ids["AAA"]]
    assert ring.capacity == minutes
    assert ring._times.nbytes + ring._prices.nbytes == minutes * 16

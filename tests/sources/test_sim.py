"""The simulated market: determinism, the opening crossing, tracking, sessions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from feeds.events import DailyBars, Event, FeedState, FeedStatus, SessionCloses, Tick
from feeds.feed import FeedOptions, open_feed
from feeds.market.calendar import ET
from feeds.reference.holdings import Constituent, Holdings, load_holdings, pad_universe
from feeds.sources.sim import BAND, IWM_RATIO, SPY_RATIO, SUPPORT, Market, SimFeed


def ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=ET).timestamp() * 1000)  # type: ignore[misc]


OPEN = ms(2025, 11, 4, 9, 30)  # a normal Tuesday


async def take(feed: SimFeed, n: int | None = None, until_ms: int | None = None) -> list[Event]:
    """Events from the feed until ``n`` were read or a tick at/after ``until_ms`` arrives."""
    out: list[Event] = []
    async with feed:
        async for e in feed:
            if until_ms is not None and isinstance(e, Tick) and e.ts >= until_ms:
                break
            out.append(e)
            if n is not None and len(out) >= n:
                break
    return out


def sim(seed: int = 0, speed: float = 0.0, start_ms: int = OPEN, **kw: object) -> SimFeed:
    return SimFeed(options=FeedOptions(seed=seed, speed=speed, **kw), start_ms=start_ms)  # type: ignore[arg-type]


def ticks(events: list[Event]) -> list[Tick]:
    return [e for e in events if isinstance(e, Tick)]


def test_registered_and_defaults() -> None:
    feed = open_feed("sim", FeedOptions(seed=4, config={"start_ms": OPEN}))
    assert isinstance(feed, SimFeed)
    assert feed.now_ms() == OPEN
    assert feed.market.symbols[:5] == ["^RUT", "^GSPC", "MAGS", "IWM", "SPY"]
    assert len(feed.market.symbols) == 5 + 1953  # the whole index


@pytest.mark.parametrize(
    ("wall", "start"),
    [
        (ms(2025, 11, 4, 11, 15), ms(2025, 11, 4, 11, 15)),  # mid-session: now
        (ms(2025, 11, 4, 8, 0), ms(2025, 11, 3, 9, 30)),  # pre-market: yesterday's open
        (ms(2025, 11, 4, 18, 0), ms(2025, 11, 4, 9, 30)),  # after the close: today's open
        (ms(2025, 11, 9, 12, 0), ms(2025, 11, 7, 9, 30)),  # Sunday: Friday's open
    ],
)
def test_default_start(wall: int, start: int) -> None:
    assert SimFeed(options=FeedOptions(), wall_ms=wall).market.start_ms == start


async def test_first_events_and_history() -> None:
    events = await take(sim(seed=3), n=50)
    assert events[0] == FeedStatus(FeedState.LIVE, "simulated market, seed 3", OPEN)
    bars = {e.symbol: e.bars for e in events[1:4] if isinstance(e, DailyBars)}
    assert list(bars) == ["^RUT", "^GSPC", "MAGS"]
    anchors = events[4]
    assert isinstance(anchors, SessionCloses) and anchors.date == "2024-12-31"  # the YTD anchor
    assert len(anchors.closes) == 1953
    first = {}
    for t in ticks(events[5:]):
        first.setdefault(t.symbol, t)
    assert all(t.prev_close is not None and t.size and t.day_volume for t in ticks(events))
    for sym, rows in bars.items():
        assert rows[-1][0] == "2025-11-03"  # the last completed session
        assert all(lo <= min(o, c) and hi >= max(o, c) for _, o, hi, lo, c in rows)
        if sym in first:
            assert rows[-1][4] == first[sym].prev_close
    assert bars["^RUT"][0][0] < "2021-01-01" and len(bars["^RUT"]) == 1260  # about five years
    assert bars["MAGS"][0][0] == "2023-04-11"  # from its listing
    closes = {s: {d: c for d, *_, c in rows} for s, rows in bars.items()}
    rut = closes["^RUT"]
    assert 2425 < rut["2025-11-03"] < 2455
    assert 0.05 <= rut["2025-11-03"] / rut["2024-12-31"] - 1 <= 0.12  # the YTD story
    assert 6600 < closes["^GSPC"]["2025-11-03"] < 6800


def test_history_tells_the_ytd_story_for_every_seed() -> None:
    """Small caps up 5-12 % on the year (pinned to 5-10 %, then bent under the records), the
    S&P 500 0.5-3.5 %, MAGS about flat; a small-cap streak of 4-10 sessions; new all-time highs
    on the last 1-3 sessions, each under 2,451 so the sim's own opening (through 2,450) sets
    the next one."""
    from feeds.market.scoreboard import outperformance_streak, record_high_streak

    for seed in range(8):
        m = Market(load_holdings(), seed=seed, start_ms=OPEN)
        bars = {b.symbol: b for b in m.history.daily_bars()}
        ye = m.history.year_end
        ytd = {s: b.bars[-1][4] / dict(b.closes())[ye] - 1 for s, b in bars.items()}
        assert 0.05 <= ytd["^RUT"] <= 0.12 and 0.005 <= ytd["^GSPC"] <= 0.035
        assert abs(ytd["MAGS"]) <= 0.02
        streak = outperformance_streak(bars["^RUT"].closes(), bars["^GSPC"].closes())
        assert streak.leader == "^RUT" and 4 <= streak.sessions <= 10
        highs = [(d, h) for d, _, h, _, _ in bars["^RUT"].bars]
        record = record_high_streak(highs)
        assert 1 <= record.sessions <= 3 and record.date == "2025-11-03"
        assert record.high is not None and record.high < 2451.5
        daily = np.diff(np.log([c for _, c in bars["^RUT"].closes()]))
        assert np.abs(daily).max() < 0.08  # no jumps from shaping the story


def test_members_start_at_their_real_prices_and_add_up_to_the_index() -> None:
    """Members pass through the holdings' own prices on the as-of date, and stay the index's
    cap-weighted sum: Σ w P_t / P_asof = (I_t / I_asof) Σ w on every session."""
    h = load_holdings()
    start = ms(2026, 3, 2, 9, 30)  # the as-of date (2025-11-05) is inside the member year
    m = Market(h, seed=1, start_ms=start)
    hist = m.history
    assert hist.member_symbols == h.symbols
    k = hist.member_dates.index("2025-11-05")
    prices = np.array([c.price or np.nan for c in h.constituents])
    priced = ~np.isnan(prices)
    assert np.allclose(hist.member_closes[k][priced], prices[priced], atol=0.005)
    rut = dict(zip(hist.dates, hist.bars["^RUT"][:, 3].tolist(), strict=True))
    w = np.array([c.weight for c in h.constituents])
    for j in (0, k, len(hist.member_dates) - 1):
        g = hist.member_closes[j] / hist.member_closes[k]
        g_index = rut[hist.member_dates[j]] / rut["2025-11-05"]
        assert float((w * g).sum() / w.sum()) == pytest.approx(g_index, rel=0.002)
    # the previous closes the sim starts from are the members' last closes
    assert m.prev_close[5:].tolist() == hist.member_closes[-1].tolist()
    assert len(hist.member_dates) >= 252 and hist.year_end == "2025-12-31"


async def test_deterministic_for_a_seed() -> None:
    a = await take(sim(seed=5), n=3000)
    b = await take(sim(seed=5), n=3000)
    c = await take(sim(seed=6), n=3000)
    assert a == b
    assert ticks(a) != ticks(c)
    assert a[1] != c[1]  # the history differs too


def test_daily_history_is_deterministic_for_a_seed() -> None:
    """Years of index bars and a year of member closes: the same for a seed on every build,
    another seed another history."""
    a, b, c = (Market(load_holdings(), seed=s, start_ms=OPEN) for s in (7, 7, 8))
    assert a.history_events() == b.history_events()
    assert np.array_equal(a.history.member_closes, b.history.member_closes)
    assert a.history.member_dates == b.history.member_dates and len(a.history.member_dates) >= 245
    assert a.history_events()[0] != c.history_events()[0]
    assert not np.array_equal(a.history.member_closes, c.history.member_closes)


async def test_pacing_does_not_change_events() -> None:
    # 1000x real time: 3 s of sim time is released over ~3 ms of wall time, paced by sleeps.
    fast = await take(sim(seed=2, speed=0.0), until_ms=OPEN + 3000)
    paced = await take(sim(seed=2, speed=1000.0), until_ms=OPEN + 3000)
    assert fast == paced and len(ticks(fast)) > 100


async def test_speed_zero_covers_ten_minutes() -> None:
    feed = sim(seed=1)
    events = await take(feed, until_ms=OPEN + 600_000)
    ts = [t.ts for t in ticks(events)]
    assert ts == sorted(ts) and ts[-1] >= OPEN + 599_000
    assert feed.now_ms() >= ts[-1]
    assert len(ts) > 100_000  # 1,953 names and 5 headline symbols at opening activity


@pytest.mark.parametrize("seed", range(10))
async def test_rut_crosses_support_in_the_first_minute(seed: int) -> None:
    rut = [
        t for t in ticks(await take(sim(seed=seed), until_ms=OPEN + 60_000)) if t.symbol == "^RUT"
    ]
    band = SUPPORT * BAND
    assert len(rut) == 60  # an index value every second
    assert rut[0].price < SUPPORT - band  # starts clearly below: no alert at start-up
    assert 2430 < rut[0].prev_close < 2450  # type: ignore[operator]
    crossed = [t.ts - OPEN for t in rut if t.price > SUPPORT + band]
    assert crossed and crossed[0] < 60_000


async def test_etfs_track_their_index() -> None:
    events = ticks(await take(sim(seed=8), until_ms=OPEN + 300_000))
    last: dict[str, float] = {}
    ratios: dict[str, list[float]] = {"IWM": [], "SPY": []}
    for t in events:
        last[t.symbol] = t.price
        if t.symbol == "IWM" and "^RUT" in last:
            ratios["IWM"].append(last["^RUT"] / t.price)
        if t.symbol == "SPY" and "^GSPC" in last:
            ratios["SPY"].append(last["^GSPC"] / t.price)
    assert len(ratios["IWM"]) > 1000 and len(ratios["SPY"]) > 1000
    assert np.allclose(ratios["IWM"], IWM_RATIO, rtol=0.0015)
    assert np.allclose(ratios["SPY"], SPY_RATIO, rtol=0.0015)
    assert 6550 < last["^GSPC"] < 6850 and 60 < last["MAGS"] < 70


async def test_contributions_track_the_index() -> None:
    """Sum of weight x return over the constituents (from ticks) follows ^RUT's return."""
    h = load_holdings()
    weights = {c.symbol: c.weight for c in h.constituents}
    last: dict[str, Tick] = {}
    idx, contrib = [], []
    next_sample = OPEN + 10_000
    for t in ticks(await take(sim(seed=4), until_ms=OPEN + 900_000)):
        if t.ts >= next_sample and "^RUT" in last:
            r = {s: x.price / x.prev_close - 1 for s, x in last.items() if x.prev_close}
            idx.append(r["^RUT"])
            contrib.append(sum(w * r[s] for s, w in weights.items() if s in r) / h.total_weight)
            next_sample += 10_000
        last[t.symbol] = t
    a, b = np.array(idx), np.array(contrib)
    assert len(a) > 80
    assert np.corrcoef(a, b)[0, 1] > 0.9
    assert np.corrcoef(np.diff(a), np.diff(b))[0, 1] > 0.7
    assert np.median(np.abs(a - b)) < 0.002  # within 20 bp of the index


def test_full_universe_weighted_returns_sum_to_index() -> None:
    h = pad_universe(load_holdings(), 2000, seed=0)
    m = Market(h, seed=9, start_ms=OPEN)
    for _ in range(120):
        m.step()
    r_rut = m.levels()["^RUT"] / m.prev_close[0] - 1
    total = float(m.weights @ m.constituent_returns())
    # the whole index's members weigh 99.7 % of the fund (cash and futures are the rest)
    assert m.weights.sum() == pytest.approx(0.9967, abs=0.0005)
    assert total == pytest.approx(r_rut, abs=0.0015)


async def test_universe_option_pads_to_2000() -> None:
    feed = sim(seed=0, universe=2000)
    events = ticks(await take(feed, until_ms=OPEN + 5_000))
    assert len(feed.market.symbols) == 2005
    assert any(t.symbol.startswith("SYN") for t in events)


async def test_custom_holdings_and_volume() -> None:
    h = Holdings(
        dt.date(2025, 11, 5),
        [
            Constituent("AAA", "A", "Energy", 0.004),
            Constituent("MOG-A", "Moog", "Industrials", 0.002),
        ],
        "test",
    )
    events = ticks(await take(sim(seed=0, holdings=h), until_ms=OPEN + 120_000))
    assert {t.symbol for t in events} == {"^RUT", "^GSPC", "MAGS", "IWM", "SPY", "AAA", "MOG-A"}
    vol: dict[str, float] = {}
    for t in events:
        assert t.size and t.size >= 1 and round(t.price, 2) == t.price
        assert t.day_volume == vol.get(t.symbol, 0) + t.size  # cumulative, in order
        vol[t.symbol] = t.day_volume


def test_post_market_is_thin_and_stops_at_20() -> None:
    m = Market(load_holdings(), seed=0, start_ms=ms(2025, 11, 4, 15, 50))
    in_session = sum(len(m.step()) for _ in range(600))  # 15:50-16:00
    after = [m.step() for _ in range(600)]  # 16:00-16:10
    assert all(t.symbol not in ("^RUT", "^GSPC") for b in after for t in b)
    assert 0 < sum(map(len, after)) < in_session / 10
    m2 = Market(load_holdings(), seed=0, start_ms=ms(2025, 11, 4, 19, 59))
    late = [m2.step() for _ in range(120)]
    assert sum(map(len, late[:60])) > 0 and sum(map(len, late[60:])) == 0
    assert m2.finished and m2.session(m2.t_ms) == "closed"

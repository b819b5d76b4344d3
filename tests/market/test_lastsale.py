"""Last-sale eligibility: barred trades, late prints, cancels and corrections
(feeds.market.lastsale).

The case file ../shared/cases/trade-corrections/README.md gives an Alpaca sequence with the right
``last`` after each step; it is replayed here at the unit level (the pipeline) and, through the
real Alpaca decoder against the local fake, in tests/sources/providers/test_alpaca.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import pytest

from feeds.alerting.alerts import AlertJournal, StdoutSink, read_recent
from feeds.alerting.levels import AlertEvent, LevelEngine, LevelState, Side
from feeds.events import Event, Tick, TradeCancel, TradeCorrection
from feeds.feed import Feed, FeedOptions
from feeds.market.lastsale import NEITHER, NOT_HIGH_LOW, NOT_LAST, TAPE_SIZE
from feeds.market.state import MarketState
from feeds.pipeline import Pipeline

T0 = 1_763_740_800_000  # 2025-11-21 16:00 UTC, in session
SUPPORT = 2450.0


class EstimatingFeed(Feed):
    """An ETF-only feed (as Alpaca is): the pipeline estimates ^RUT as IWM x k (k = 10 here:
    without index closes the fallback ratio is used)."""

    estimates_indices = True

    def __init__(self) -> None:
        super().__init__("list", FeedOptions())

    async def __aiter__(self) -> AsyncIterator[Event]:  # type: ignore[override]
        return
        yield


def case_pipeline() -> tuple[Pipeline, list[AlertEvent]]:
    pipe = Pipeline(EstimatingFeed(), levels=LevelEngine([(SUPPORT, "support")]))
    delivered: list[AlertEvent] = []
    pipe.desk.sinks.append(delivered.append)
    return pipe, delivered


def readme_sequence() -> list[tuple[Event, float]]:
    """The case's five Alpaca messages as events, each with the right IWM ``last`` after it."""
    return [
        (Tick("IWM", 244.70, T0, 100, trade_id=101), 244.70),
        (Tick("IWM", 246.10, T0 + 1_000, 5000, trade_id=102), 246.10),
        (TradeCancel("IWM", 102, 246.10, T0 + 2_000), 244.70),
        (
            TradeCorrection(
                "IWM", 101, 244.07, T0 + 3_000, 100, 0, new_id=103, original_price=244.70
            ),
            244.07,
        ),
        (Tick("IWM", 243.20, T0 - 600_000, 100, trade_id=104), 244.07),
    ]


# ---- the case, at the unit level -----------------------------------------------------------
def test_the_case_sequence_gives_the_right_last_after_each_step() -> None:
    pipe, _ = case_pipeline()
    lasts = []
    for ev, _ in readme_sequence():
        pipe.handle(ev)
        lasts.append(pipe.state.price("IWM"))
    assert lasts == [want for _, want in readme_sequence()]
    # the estimate follows IWM x 10 through the cancel and the correction; the late print
    # moved neither
    assert pipe.state.price("^RUT") == pytest.approx(2440.70)
    # the late print is a trade: it widens the session's range, as a sold-out-of-sequence does
    i = pipe.state.ids["IWM"]
    assert (pipe.state.low[i], pipe.state.high[i]) == (243.20, 244.07)


def test_the_crossing_on_the_cancelled_trade_is_busted() -> None:
    pipe, delivered = case_pipeline()
    events = [ev for ev, _ in readme_sequence()]
    pipe.handle(events[0])
    pipe.handle(events[1])
    [cross] = delivered
    assert (cross.kind, cross.direction, cross.level, cross.price) == (
        "cross",
        "up",
        SUPPORT,
        2461.0,
    )
    assert cross.estimated
    support = pipe.levels.levels[0]
    assert support.side is Side.ABOVE and support.crossings == [cross]
    pipe.handle(events[2])
    assert len(delivered) == 2
    busted = delivered[1]
    assert (busted.symbol, busted.level, busted.direction, busted.kind) == (
        "^RUT",
        SUPPORT,
        "up",
        "busted",
    )
    assert busted.original_ts == cross.ts and busted.ts == T0 + 2_000
    assert busted.price == pytest.approx(2447.0)  # the estimate standing now
    # the level is back where it stood before the crossing: below, near, no crossing today
    assert support.side is Side.BELOW and support.state is LevelState.APPROACHING
    assert support.crossings == []
    for ev in events[3:]:
        pipe.handle(ev)
    assert [a.kind for a in delivered] == ["cross", "busted"]  # nothing more fired
    assert list(pipe.alerts)[:2] == [busted, cross]  # the panel's memory, newest first


def test_r2k_alerts_line_and_the_durable_log_mark_the_bust(tmp_path) -> None:
    import io

    pipe, _ = case_pipeline()
    out = io.StringIO()
    log = AlertJournal(tmp_path / "alerts.jsonl")
    pipe.desk.sinks += [StdoutSink(out), log]
    for ev, _ in readme_sequence():
        pipe.handle(ev)
    log.close()
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["kind"] for x in lines] == ["cross", "busted"]
    for key in ("symbol", "level", "direction"):
        assert lines[1][key] == lines[0][key]
    assert lines[1]["original_ts"] == lines[0]["ts"]
    assert (tmp_path / "alerts.jsonl").read_text().splitlines() == out.getvalue().splitlines()
    busted, cross = read_recent(tmp_path / "alerts.jsonl")
    assert busted.kind == "busted" and busted.original_ts == cross.ts


def test_a_crossing_still_standing_after_the_cancel_fires_again_on_the_standing_trade() -> None:
    pipe, delivered = case_pipeline()
    pipe.handle(Tick("IWM", 244.70, T0, trade_id=1))
    pipe.handle(Tick("IWM", 246.10, T0 + 1_000, trade_id=2))  # crosses 2,450 up
    pipe.handle(Tick("IWM", 246.00, T0 + 1_500, trade_id=3))  # still above
    pipe.handle(TradeCancel("IWM", 2, 246.10, T0 + 2_000))
    # trade 2 is busted, yet 3 still stands above the level: the crossing is news again, on 3
    assert [(a.kind, a.price) for a in delivered] == [
        ("cross", 2461.0),
        ("busted", 2460.0),
        ("cross", 2460.0),
    ]
    pipe.handle(TradeCancel("IWM", 3, 246.00, T0 + 3_000))
    assert [a.kind for a in delivered][-1] == "busted"
    assert pipe.state.price("^RUT") == pytest.approx(2447.0)
    assert pipe.levels.levels[0].side is Side.BELOW


def test_a_correction_that_changes_nothing_busts_nothing() -> None:
    pipe, delivered = case_pipeline()
    pipe.handle(Tick("IWM", 244.70, T0, trade_id=1))
    pipe.handle(Tick("IWM", 246.10, T0 + 1_000, trade_id=2))
    pipe.handle(TradeCorrection("IWM", 2, 246.10, T0 + 2_000, 700, 0, 7, original_price=246.10))
    assert [a.kind for a in delivered] == ["cross"]
    pipe.handle(TradeCancel("IWM", 7, 246.10, T0 + 3_000))  # the corrected trade's new id
    assert [a.kind for a in delivered] == ["cross", "busted"]
    assert pipe.state.price("IWM") == 244.70


# ---- trades whose conditions bar them -------------------------------------------------------
def test_a_barred_trade_moves_no_last_no_estimate_no_level() -> None:
    pipe, delivered = case_pipeline()
    pipe.handle(Tick("IWM", 244.70, T0))
    # a contingent trade 4.8% away (the case): no last, no high, no estimate, no alert
    pipe.handle(Tick("IWM", 256.45, T0 + 35, 50_000, sale_flags=NEITHER))
    i = pipe.state.ids["IWM"]
    assert pipe.state.price("IWM") == 244.70 and pipe.state.high[i] == 244.70
    assert pipe.state.price("^RUT") == pytest.approx(2447.0)
    assert delivered == []
    assert pipe.state.count[i] == 2  # still a trade: the symbol ticked


def test_a_trade_barred_from_the_last_only_widens_the_range() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 10.0, T0))
    # derivatively priced (4) / prior reference price (P): high/low yes, last no
    assert st.apply(Tick("AAA", 10.5, T0 + 1, sale_flags=NOT_LAST)) < 0
    i = st.ids["AAA"]
    assert (st.last[i], st.high[i], st.low[i]) == (10.0, 10.5, 10.0)
    # no tape condition allows the last and not the high/low: such a trade sets neither, so
    # low <= last <= high always holds
    assert st.apply(Tick("AAA", 9.5, T0 + 2, sale_flags=NOT_HIGH_LOW)) < 0
    assert (st.last[i], st.high[i], st.low[i]) == (10.0, 10.5, 10.0)


def test_the_sessions_range_starts_at_its_first_last_sale() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 11.0, T0, sale_flags=NOT_LAST))  # e.g. a sold-out-of-sequence print
    i = st.ids["AAA"]
    assert st.last[i] is None and st.high[i] == 11.0
    # the open (the session's first regular-hours last sale) starts the session's range
    st.apply(Tick("AAA", 10.0, T0 + 1))
    assert (st.last[i], st.open[i], st.high[i], st.low[i]) == (10.0, 10.0, 10.0, 10.0)
    st.apply(Tick("AAA", 10.6, T0 + 2, sale_flags=NOT_LAST))  # after it, such a print counts
    assert (st.last[i], st.high[i]) == (10.0, 10.6)


def test_a_print_stamped_before_the_last_does_not_replace_it() -> None:
    st = MarketState()
    st.apply(Tick("AAA", 10.0, T0 + 1_000))
    assert st.apply(Tick("AAA", 9.0, T0)) < 0
    i = st.ids["AAA"]
    assert (st.last[i], st.ts[i], st.low[i]) == (10.0, T0 + 1_000, 9.0)
    assert st.apply(Tick("AAA", 10.2, T0 + 1_000)) == i  # the same stamp is not late


# ---- cancels and corrections in the state ---------------------------------------------------
def state_with(*ticks: Tick) -> MarketState:
    st = MarketState()
    st.pin_session_open(T0 - 3_600_000)
    for t in ticks:
        st.apply(t)
    return st


def test_cancelling_an_older_trade_keeps_last_but_forgets_its_high() -> None:
    st = state_with(
        Tick("AAA", 10.0, T0, trade_id="a"),
        Tick("AAA", 12.0, T0 + 1, trade_id="b"),  # the high
        Tick("AAA", 11.0, T0 + 2, trade_id="c"),
    )
    assert st.busts.cancel("AAA", "b") is False
    i = st.ids["AAA"]
    assert (st.last[i], st.high[i], st.low[i]) == (11.0, 11.0, 10.0)
    assert st.busts.cancel("AAA", "c") is True  # now the latest standing is a
    assert (st.last[i], st.ts[i], st.high[i]) == (10.0, T0, 10.0)
    assert st.busts.cancel("AAA", "zz") is False and st.busts.cancel("BBB", "a") is False


def test_cancelling_the_only_trade_returns_to_what_stood_before_it() -> None:
    st = state_with(Tick("AAA", 10.0, T0), Tick("AAA", 10.4, T0 + 5, trade_id=1))
    st.busts.cancel("AAA", 1)
    i = st.ids["AAA"]
    assert (st.last[i], st.ts[i], st.high[i]) == (10.0, T0, 10.0)


def test_a_late_print_becomes_the_last_when_every_later_trade_is_cancelled() -> None:
    st = state_with(
        Tick("AAA", 10.0, T0, trade_id=1),
        Tick("AAA", 10.5, T0 + 10, trade_id=2),
        Tick("AAA", 10.2, T0 + 5, trade_id=3),  # late: not the last...
    )
    i = st.ids["AAA"]
    assert st.last[i] == 10.5
    st.busts.cancel("AAA", 2)
    assert (st.last[i], st.ts[i]) == (10.2, T0 + 5)  # ...until it is the latest standing


def test_a_correction_replaces_the_price_and_keeps_the_time() -> None:
    st = state_with(Tick("AAA", 10.0, T0, trade_id=1), Tick("AAA", 10.6, T0 + 1, trade_id=2))
    assert st.busts.correct("AAA", 2, 10.3) is True
    i = st.ids["AAA"]
    assert (st.last[i], st.ts[i], st.high[i]) == (10.3, T0 + 1, 10.3)
    # corrected into a trade that sets nothing (an odd lot): taken out like a cancel
    assert st.busts.correct("AAA", 2, 10.3, sale_flags=NEITHER) is True
    assert st.last[i] == 10.0
    assert st.busts.last_trade_id("AAA") == 1


def test_the_chart_forgets_a_cancelled_spike() -> None:
    st = state_with(
        Tick("^RUT", 2447.0, T0, trade_id=1),
        Tick("^RUT", 2461.0, T0 + 1_000, trade_id=2),  # opens the next 1 s point
        Tick("^RUT", 2448.0, T0 + 2_000, trade_id=3),
    )
    assert st.chart("^RUT")[1].tolist() == [2447.0, 2461.0, 2448.0]
    st.busts.cancel("^RUT", 2)
    assert st.chart("^RUT")[1].tolist() == [2447.0, 2447.0, 2448.0]


def test_the_tape_is_bounded_and_its_window_shared_by_every_symbol() -> None:
    st = state_with(Tick("QUIET", 5.0, T0, trade_id="q"))
    for k in range(TAPE_SIZE + 10):
        st.apply(Tick("BUSY", 10.0 + (k % 7) / 100, T0 + k, trade_id=k))
    assert st.busts.cancel("BUSY", 0) is False  # long gone: not the last sale anyway
    assert st.busts.cancel("QUIET", "q") is False  # gone too: the window is in trades, not per name
    assert st.price("QUIET") == 5.0
    assert st.busts.cancel("BUSY", TAPE_SIZE + 9) is True  # the newest: back to the one before it
    assert st.price("BUSY") == pytest.approx(10.0 + ((TAPE_SIZE + 8) % 7) / 100)
    assert st.busts.cancel("BUSY", 10) is False  # the oldest still held: not the last


def test_cancels_match_a_state_built_without_the_trade_on_random_streams() -> None:
    """Cancelling trades leaves last (and its time), high and low as if they never traded."""
    rng = random.Random(7)
    for _ in range(60):
        trades = []
        ts = T0
        for k in range(rng.randrange(2, 40)):
            ts += rng.choice((0, 3, 50))
            stamp = ts - rng.choice((0, 0, 0, 0, 40))  # now and then a late print
            flags = rng.choice((0, 0, 0, NOT_LAST, NOT_HIGH_LOW, NEITHER))
            price = round(rng.uniform(9, 11), 2)
            trades.append(Tick("AAA", price, stamp, sale_flags=flags, trade_id=k))
        gone = set(rng.sample(range(len(trades)), rng.randrange(1, len(trades))))
        st = state_with(*trades)
        for k in rng.sample(sorted(gone), len(gone)):
            st.busts.cancel("AAA", k)
        plain = state_with(*(t for t in trades if t.trade_id not in gone))
        i, j = st.ids["AAA"], plain.ids.get("AAA")
        want = (None, 0, None, None) if j is None else plain_row(plain, j)
        assert (st.last[i], st.ts[i], st.high[i], st.low[i]) == want


def plain_row(st: MarketState, i: int) -> tuple[float | None, int, float | None, float | None]:
    return st.last[i], st.ts[i], st.high[i], st.low[i]


def test_forgetting_the_trades_makes_old_cancels_harmless() -> None:
    st = state_with(Tick("AAA", 10.0, T0, trade_id=1), Tick("AAA", 12.0, T0 + 1, trade_id=2))
    st.forget_trades()  # a new session: yesterday's trades are not revised any more
    assert st.busts.cancel("AAA", 2) is False
    assert st.price("AAA") == 12.0


# --- Busts: the cancels and corrections of a state's recent trades ---------------------------


def test_busts_on_a_state_without_trade_ids_change_nothing() -> None:
    st = state_with(Tick("AAA", 10.0, T0), Tick("AAA", 10.6, T0 + 1))  # no ids: no tape
    assert st.busts.cancel("AAA", 1) is False
    assert st.busts.correct("AAA", 1, 9.0) is False
    assert st.busts.last_trade_id("AAA") is None and st.busts.last_trade_id("ZZZ") is None
    assert st.last[st.ids["AAA"]] == 10.6 and st.take_dirty() == {st.ids["AAA"]}


def test_a_correction_may_give_the_trade_a_new_id() -> None:
    st = state_with(Tick("AAA", 10.0, T0, trade_id=1), Tick("AAA", 10.6, T0 + 1, trade_id=2))
    st.take_dirty()
    assert st.busts.correct("AAA", 2, 10.4, new_id="2b") is True
    assert st.busts.last_trade_id("AAA") == "2b"
    assert st.busts.cancel("AAA", 2) is False  # the old id is gone
    assert st.take_dirty() == {st.ids["AAA"]}  # the revised symbol reaches the next frame
    assert st.busts.cancel("AAA", "2b") is True and st.last[st.ids["AAA"]] == 10.0

"""The alert desk on its own (issue 17): a MarketState, a few prices and a number for the clock;
no feed, no pipeline."""

from __future__ import annotations

from dataclasses import replace

import pytest

from feeds.alertdesk import BAR_GRACE_MS, AlertDesk
from feeds.alerting.alerts import alert_key
from feeds.alerting.levels import AlertEvent, LevelEngine
from feeds.events import Tick, TradeCancel
from feeds.market.state import MarketState
from feeds.symbols import HEADLINE, IWM, RUT, SPX

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC (09:30 ET), a regular open


class Clock:
    """The feed's time, set by the test (epoch ms)."""

    def __init__(self, ms: int = T0) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class AckSink(list[AlertEvent]):
    """A sink that keeps what it was given and the acknowledgements (as the durable log does)."""

    acked: list[tuple[list[AlertEvent], int]]

    def __init__(self) -> None:
        super().__init__()
        self.acked = []

    def __call__(self, alert: AlertEvent) -> None:
        self.append(alert)

    def acknowledge(self, alerts: list[AlertEvent], ts: int) -> None:
        self.acked.append((alerts, ts))


def desk_for(levels: LevelEngine | None = None, **kw: object) -> tuple[AlertDesk, AckSink, Clock]:
    sink, clock = AckSink(), Clock()
    engine = levels or LevelEngine([(2450.0, "support")], approach=None, feed="replay")
    sinks = kw.pop("sinks", [sink])
    desk = AlertDesk(MarketState(HEADLINE), clock, levels=engine, sinks=sinks, **kw)  # type: ignore[arg-type]
    return desk, sink, clock


def price(desk: AlertDesk, symbol: str, last: float, ts: int, tid: int | None = None) -> int:
    """Apply a print to the desk's state, as the pipeline does before it routes the price."""
    return desk.state.apply(Tick(symbol, last, ts, prev_close=2400.0, trade_id=tid))


def test_a_crossing_goes_to_the_sinks_the_history_and_the_next_frame_once() -> None:
    desk, sink, _ = desk_for()
    for k, last in enumerate([2440.0, 2455.0]):
        price(desk, RUT, last, T0 + k * 1000)
        desk.on_level_price(last, T0 + k * 1000, False)
    (cross,) = sink
    assert (cross.kind, cross.level, cross.direction) == ("cross", 2450.0, "up")
    assert cross.feed == "replay"  # the level engine's feed kind
    assert list(desk.alerts) == [cross] and desk.fired == 1
    assert desk.take_new() == [cross] and desk.take_new() == []
    ordered, fired, busted = desk.recent_alerts()
    assert ordered == (cross,) and fired == {cross} and not busted


def test_an_acknowledgement_reaches_the_log_sink_and_a_repeat_fires_acknowledged() -> None:
    desk, sink, _ = desk_for()
    for k, last in enumerate([2440.0, 2455.0]):
        desk.on_level_price(last, T0 + k * 1000, False)
    assert desk.unacknowledged() == 1
    assert desk.acknowledge(alert_key(sink[0])) == 1
    assert desk.unacknowledged() == 0 and desk.acknowledge() == 0
    assert [a.level for a in sink.acked[0][0]] == [2450.0]
    # the same crossing again (a replay played twice): it does not wait a second time
    desk.levels.new_session(resettle=True)
    for k, last in enumerate([2440.0, 2455.0]):
        desk.on_level_price(last, T0 + k * 1000, False)
    assert sink[-1].acknowledged and desk.unacknowledged() == 0


def test_a_muted_level_is_still_listed_but_waits_for_nobody() -> None:
    desk, sink, _ = desk_for()
    assert desk.set_muted(RUT, 2450.0, True) and not desk.set_muted(RUT, 9999.0, True)
    for k, last in enumerate([2440.0, 2455.0]):
        desk.on_level_price(last, T0 + k * 1000, False)
    assert sink[0].muted and desk.unacknowledged() == 0
    assert not AlertDesk.needs_ack(sink[0])
    assert [v.muted for v in desk.level_views()] == [True]


def test_a_cancelled_trade_busts_the_alert_it_fired() -> None:
    desk, sink, _ = desk_for()
    for k, last in enumerate([2440.0, 2455.0]):
        price(desk, RUT, last, T0 + k * 1000, tid=k + 1)
        desk.on_level_price(last, T0 + k * 1000, False, RUT, k + 1)
    moved = desk.state.busts.cancel(RUT, 2)  # the state takes the trade back first (the pipeline)
    desk.on_amend(TradeCancel(RUT, 2, 2455.0, T0 + 5000), moved, False)
    cross, busted = sink
    assert busted.kind == "busted" and busted.original_ts == cross.ts
    assert desk.recent_alerts()[2] == {cross}  # the panel strikes the crossing out
    # a cancel of a trade that fired nothing busts nothing
    desk.on_amend(TradeCancel(RUT, 1, 2440.0, T0 + 6000), desk.state.busts.cancel(RUT, 1), False)
    assert len(sink) == 2


def test_an_etf_cancel_busts_what_its_estimate_fired() -> None:
    desk, sink, _ = desk_for(proxies={IWM: RUT})
    for k, last in enumerate([2440.0, 2455.0]):
        price(desk, RUT, last, T0 + k * 1000, tid=k + 1)
        desk.on_level_price(last, T0 + k * 1000, True, IWM, k + 1)
    desk.state.busts.cancel(RUT, 2)
    desk.on_amend(TradeCancel(IWM, 2, 245.5, T0 + 5000), False, True)
    assert [a.kind for a in sink] == ["cross", "busted"]


def test_a_bar_confirmed_level_closes_on_the_clock_after_the_grace() -> None:
    engine = LevelEngine([(2450.0, "support")], approach=None, feed="replay", confirm="1m")
    desk, sink, clock = desk_for(engine)
    for k, last in enumerate([2440.0, 2455.0]):
        price(desk, RUT, last, T0 + k * 1000)
        desk.on_level_price(last, T0 + k * 1000, False)
    assert not sink  # waits for the bar's close
    desk.on_clock(T0 + 60_000 + BAR_GRACE_MS - 1)
    assert not sink  # a print stamped before the end may still be on its way
    clock.ms = T0 + 60_000 + BAR_GRACE_MS
    desk.on_clock()
    assert [(a.kind, a.confirm) for a in sink] == [("cross", "1m")]


def test_a_spread_is_watched_in_bp_on_its_legs_only() -> None:
    spread = LevelEngine([(50.0, "small caps")], approach=None, band=2.0)
    desk, sink, _ = desk_for(spreads={"RUT-SPX": spread})
    spx = desk.state.apply(Tick(SPX, 6000.0, T0, prev_close=6000.0))
    assert spx in desk.watched and desk.state.ids[IWM] not in desk.watched
    for k, last in enumerate([2410.0, 2413.0]):  # +41.67 bp, then +54.17 bp
        i = price(desk, RUT, last, T0 + k * 1000)
        desk.on_spread_leg(i, T0 + k * 1000, False)
    (cross,) = sink
    assert (cross.symbol, cross.level, cross.direction) == ("RUT-SPX", 50.0, "up")
    assert cross.feed == "replay"  # a spread engine takes the level engine's feed
    assert desk.spread_value("RUT-SPX") == pytest.approx(54.1667, abs=1e-4)  # exact, not rounded
    (view,) = desk.spread_alerts()["RUT-SPX"].levels
    assert (
        view.distance is not None and round(view.distance, 2) == -4.17
    )  # the level minus the value


def test_an_earlier_runs_alert_dated_after_the_replays_clock_waits_for_it() -> None:
    desk, _, clock = desk_for()
    later = AlertEvent(T0 + 60_000, RUT, 2450.0, "support", "up", 2455.0, "cross", feed="replay")
    desk.alerts.append(replace(later, acknowledged=True))  # the durable log's tail
    assert desk.recent_alerts()[0] == ()
    clock.ms = T0 + 60_000
    assert [a.ts for a in desk.recent_alerts()[0]] == [T0 + 60_000]


def test_a_reset_forgets_the_sides_but_keeps_the_history() -> None:
    desk, sink, _ = desk_for()
    for k, last in enumerate([2440.0, 2455.0]):
        desk.on_level_price(last, T0 + k * 1000, False)
    desk.reset(desk.state.started_over())
    desk.on_level_price(2460.0, T0 + 9000, False)  # only sets the side again
    assert len(sink) == 1 and len(desk.alerts) == 1


def test_a_relays_terminal_stamps_alerts_with_its_upstreams_kind() -> None:
    spread = LevelEngine([(50.0, "x")], approach=None, band=2.0)
    desk, _, _ = desk_for(spreads={"RUT-SPX": spread})
    desk.follow_kind("sim")
    assert desk.levels.feed == "sim" and spread.feed == "sim"


def test_a_failing_sink_is_reported_in_one_line() -> None:
    class Broken:
        def __call__(self, alert: AlertEvent) -> None: ...

        def problem(self) -> str:
            return "webhook: 3 deliveries failed"

    desk, _, _ = desk_for(sinks=[Broken()])
    assert desk.problems() == ("webhook: 3 deliveries failed",)

"""The alert history on its own (issue 17): alerts, a run id, a number for the feed's clock and
a list for the sinks; no market, no engine, no desk."""

from __future__ import annotations

from dataclasses import replace

from feeds.alerting.alerts import alert_key
from feeds.alerting.history import ALERT_MEMORY, AlertHistory
from feeds.alerting.levels import AlertEvent

T0 = 1_762_353_000_000  # epoch ms


def cross(ts: int = T0, level: float = 2450.0, run: str = "r1", **kw: object) -> AlertEvent:
    return AlertEvent(
        ts, "^RUT", level, "support", "down", level - 1, "cross", feed="sim", run=run, **kw
    )  # type: ignore[arg-type]


class AckLog:
    """A sink with ``acknowledge`` (as the durable log has)."""

    def __init__(self) -> None:
        self.acked: list[list[AlertEvent]] = []

    def acknowledge(self, alerts: list[AlertEvent], ts: int) -> None:
        self.acked.append(alerts)


def test_a_recorded_alert_is_new_once_fired_by_this_run_and_waits() -> None:
    h = AlertHistory()
    a = cross()
    assert h.record(a) == a
    assert list(h.alerts) == [a] and h.fired == 1
    assert h.take_new() == [a] and h.take_new() == []
    ordered, fired, busted = h.recent_alerts(None)
    assert ordered == (a,) and fired == {a} and busted == frozenset()
    assert h.unacknowledged() == 1


def test_acknowledge_one_or_all_through_the_sinks_that_can() -> None:
    h, log = AlertHistory(), AckLog()
    a, b = h.record(cross(T0)), h.record(cross(T0 + 1, 2300.0))
    assert h.acknowledge(alert_key(a), [log, print]) == 1  # a sink without acknowledge is skipped
    assert log.acked == [[a]] and h.unacknowledged() == 1
    assert h.acknowledge(None, [log]) == 1 and log.acked[-1] == [b]
    assert h.unacknowledged() == 0 and h.acknowledge(None, [log]) == 0 and len(log.acked) == 2
    assert all(x.acknowledged for x in h.recent_alerts(None)[0])  # the panel lists them again


def test_a_repeat_of_an_acknowledged_alert_fires_acknowledged() -> None:
    h = AlertHistory()
    h.record(cross())
    h.acknowledge(None, [])
    again = h.record(cross())
    assert again.acknowledged and h.unacknowledged() == 0


def test_a_retired_run_and_other_runs_in_the_log_are_history_never_waiting() -> None:
    h = AlertHistory()
    h.record(cross(run="r1"))
    h.retire("r1")
    assert h.unacknowledged() == 0 and all(a.past_run for a in h.alerts)
    assert h.recent_alerts(None)[1] == frozenset()  # none fired by the new run
    h.add_history([cross(T0 - 5, run="r0"), cross(T0 - 6, run="r2")], "r2")
    assert [a.past_run for a in h.alerts] == [True, True, False]
    assert h.unacknowledged() == 1  # this run's own, from the log


def test_a_live_feed_keeps_its_alerts_across_restarts() -> None:
    h = AlertHistory()
    h.add_history([cross(run="")], "")
    h.retire("")
    assert h.unacknowledged() == 1 and not h.alerts[0].past_run


def test_each_event_once_newest_first_and_busted_ones_marked() -> None:
    h = AlertHistory()
    logged = cross(T0, run="")
    h.add_history([logged], "")
    h.record(cross(T0 + 10, 2300.0, run=""))
    h.record(logged)  # the log's copy and this run's are one
    bust = replace(cross(T0 + 20, run=""), kind="busted", original_ts=T0)
    h.record(bust)
    ordered, fired, busted = h.recent_alerts(None)
    assert [a.ts for a in ordered] == [T0 + 20, T0 + 10, T0]
    assert logged in fired and busted == {logged}


def test_an_earlier_runs_alert_after_the_feeds_clock_waits_for_it() -> None:
    h = AlertHistory()
    h.add_history([cross(T0 + 60_000, run="r0")], "r1")
    assert h.recent_alerts(T0)[0] == ()
    assert h.recent_alerts(T0 + 59_999)[0] == ()
    assert [a.ts for a in h.recent_alerts(T0 + 60_000)[0]] == [T0 + 60_000]
    assert len(h.recent_alerts(None)[0]) == 1  # a live feed lists everything


def test_memory_keeps_the_newest_and_counts_again() -> None:
    h = AlertHistory()
    for n in range(ALERT_MEMORY + 3):
        h.record(cross(T0 + n))
    assert len(h.alerts) == ALERT_MEMORY and h.alerts[0].ts == T0 + ALERT_MEMORY + 2
    assert h.unacknowledged() == ALERT_MEMORY
    h.changed()
    assert h.unacknowledged() == ALERT_MEMORY

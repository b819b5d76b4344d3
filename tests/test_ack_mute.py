"""Acknowledge and mute (issue 10): acknowledgements appended to the durable log survive a
restart; a muted level's alerts are logged and listed, marked muted, and interrupt nobody."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from feeds.alertctl import AlertControl
from feeds.alertdesk import AlertDesk
from feeds.alerting.alerts import AlertJournal, read_log, read_recent
from feeds.alerting.delivery import TerminalNotifier
from feeds.alerting.levels import AlertEvent
from feeds.alerting.levelstore import LevelStore
from feeds.pipeline import Pipeline
from feeds.settings.config import load_settings
from feeds.settings.setup import build_pipeline, close_sinks, load_saved
from tests.conftest import write_csv
from tui.headless import consume

T0 = 1_762_353_000_000  # 2025-11-05 14:30:00 UTC (09:30 ET)


@pytest.fixture
def crossings(tmp_path: Path) -> Path:
    """A replay crossing 2,450 up, then down, then 2,300 never; SPX flat."""
    rows: list[tuple[object, ...]] = []
    for k, price in enumerate([2440.0, 2455.0, 2445.0, 2440.0]):
        rows.append((T0 + k * 1000, "^RUT", price, 2400.0))
        rows.append((T0 + k * 1000, "^GSPC", 6000.0, 6000.0))
    return write_csv(tmp_path / "x.csv", "ts,symbol,price,prev_close", rows)


def run(tmp_path: Path, replay: Path) -> Pipeline:
    settings = load_settings(
        overrides={"feed": f"replay:{replay}", "speed": 0.0, "approach": 0.0},
    )
    settings = replace(settings, alert_log=tmp_path / "alerts.jsonl")
    pipeline = build_pipeline(settings)
    load_saved(pipeline, LevelStore(tmp_path / "levels.json"))

    async def go() -> None:
        await consume(pipeline, None, feed_time=True)
        await close_sinks(pipeline)

    asyncio.run(go())
    return pipeline


def reopen(tmp_path: Path, replay: Path) -> Pipeline:
    settings = replace(
        load_settings(overrides={"feed": f"replay:{replay}"}), alert_log=tmp_path / "alerts.jsonl"
    )
    return build_pipeline(settings)


def test_an_acknowledgement_is_appended_and_a_practice_restart_starts_with_nothing_waiting(
    tmp_path: Path, crossings: Path
) -> None:
    """A replay's run: its acknowledgement is appended to the offline log (never rewritten),
    bound to the run's alert; a restart (a new run) lists that run's alerts as history: with
    their acknowledgement, never waiting (issue 18 §1)."""
    p = run(tmp_path, crossings)
    assert [a.direction for a in p.alerts if a.kind == "cross"] == ["down", "up"]
    assert p.desk.unacknowledged() == 2
    log = tmp_path / "alerts.offline.jsonl"  # replay alerts: the offline log
    before = log.read_bytes()
    up = next(a for a in p.alerts if a.direction == "up")
    journal = AlertJournal(log)
    assert journal.acknowledge([up]) == 1
    journal.close()
    after = log.read_bytes()
    assert after.startswith(before)  # appended, never rewritten
    ack = json.loads(after[len(before) :])
    assert ack["kind"] == "ack" and ack["original_ts"] == "2025-11-05T14:30:01.000+00:00"
    assert ack["original_run"] == up.run and up.run  # bound to that run's alert
    assert "price" not in ack  # an older r2k skips the line

    p2 = reopen(tmp_path, crossings)  # the restart: a new run, nothing waits
    assert p2.desk.unacknowledged() == 0 == p2.frame().unacknowledged
    acked = {a.direction: a.acknowledged for a in p2.alerts if a.kind == "cross"}
    assert acked == {"up": True, "down": False}
    assert all(a.past_run for a in p2.alerts)
    assert p2.desk.acknowledge() == 0  # X: history waits for nobody


def test_a_replay_played_again_fires_its_own_alerts_that_wait_once(
    tmp_path: Path, crossings: Path
) -> None:
    """a replay played twice (or the seed-0 sim run again) fires the same crossings in a new
    run: they wait, each once, whatever the earlier run's were; the earlier run's are history."""
    p = run(tmp_path, crossings)
    up = next(a for a in p.alerts if a.kind == "cross" and a.direction == "up")
    journal = AlertJournal(tmp_path / "alerts.offline.jsonl")
    journal.acknowledge([up])
    journal.close()
    p3 = run(tmp_path, crossings)  # played again, over the log's history
    copies = [a for a in p3.alerts if a.kind == "cross"]
    assert len(copies) == 4  # the log's two (history), this run's two
    assert [a.acknowledged for a in copies if not a.past_run] == [False, False]
    assert p3.desk.unacknowledged() == 2 == p3.frame().unacknowledged


def test_acknowledge_all_writes_one_line_per_alert_in_one_append(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    log = AlertJournal(path)
    alerts = [
        AlertEvent(T0 + k, "^RUT", 2450.0, "support", "up", 2452.0, "cross", feed="yahoo")
        for k in range(3)
    ]
    for a in alerts:
        log(a)
    assert log.acknowledge(alerts, T0 + 10) == 3
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 6 and all(json.loads(x)["kind"] == "ack" for x in lines[3:])
    assert all(a.acknowledged for a in read_recent(path, 10))
    entries = read_log(path)
    assert [e.acknowledged_at for e in entries] == [T0 + 10] * 3


def test_a_failed_acknowledgement_is_reported_not_raised(tmp_path: Path) -> None:
    log = AlertJournal(tmp_path / "alerts.jsonl")
    log.close()
    alert = AlertEvent(T0, "^RUT", 2450.0, "support", "up", 2452.0, "cross")
    assert log.acknowledge([alert]) == 0
    problem = log.problem()
    assert problem is not None and "1 acknowledgement(s) not written" in problem


def test_approach_notices_and_muted_levels_wait_for_no_acknowledgement() -> None:
    cross = AlertEvent(T0, "^RUT", 2450.0, "support", "up", 2452.0, "cross")
    assert AlertDesk.needs_ack(cross)
    assert not AlertDesk.needs_ack(replace(cross, kind="approach"))
    assert not AlertDesk.needs_ack(replace(cross, muted=True))
    assert not AlertDesk.needs_ack(replace(cross, acknowledged=True))


def test_a_muted_level_is_logged_marked_muted_and_interrupts_nobody(
    tmp_path: Path, crossings: Path
) -> None:
    store = LevelStore(tmp_path / "levels.json")
    p = reopen(tmp_path, crossings)
    control = AlertControl(p, store)
    change = control.toggle_mute("^RUT", 2450.0)
    assert change.message.startswith("Level 2,450 muted") and change.error is None
    assert json.loads((tmp_path / "levels.json").read_text())["muted"] == [
        {"symbol": "^RUT", "level": 2450.0}
    ]
    assert [v.muted for v in p.desk.level_views() if v.price == 2450.0] == [True]
    for sink in p.desk.sinks:
        if isinstance(sink, AlertJournal):
            sink.close()

    p = run(tmp_path, crossings)  # a restart: the mute is loaded from the levels file
    crosses = [a for a in p.alerts if a.kind == "cross"]
    assert crosses and all(a.muted for a in crosses)
    assert p.desk.unacknowledged() == 0
    logged = [json.loads(x) for x in (tmp_path / "alerts.offline.jsonl").read_text().splitlines()]
    assert logged and all(x["muted"] is True for x in logged if x["kind"] == "cross")
    written: list[str] = []
    notifier = TerminalNotifier(["osc9"], written.append)
    assert [notifier(a) for a in crosses] == [False, False] and written == []

    control = AlertControl(p, store)
    assert control.toggle_mute("^RUT", 2450.0).message == "Level 2,450 unmuted"
    assert store.muted == set()


def test_a_spread_threshold_mutes_too(tmp_path: Path) -> None:
    from feeds.alerting.levels import LevelEngine
    from tests.test_pipeline import HOLDINGS, ListFeed

    engine = LevelEngine([], band=2.0, approach=None)
    engine.add(50.0, "lead")
    p = Pipeline(ListFeed([]), HOLDINGS, spreads={"RUT-SPX": engine})
    store = LevelStore(tmp_path / "levels.json")
    change = AlertControl(p, store).toggle_mute("RUT-SPX", 50.0)
    assert change.message.startswith("RUT-SPX +50 bp muted")
    assert engine.levels[0].muted and store.is_muted("RUT-SPX", 50.0)
    assert AlertControl(p, store).toggle_mute("RUT-SPX", 75.0).changed is False


def test_a_level_added_as_2642_5m_breakout_is_kept_with_its_confirmation(
    tmp_path: Path, crossings: Path
) -> None:
    store = LevelStore(tmp_path / "levels.json")
    p = reopen(tmp_path, crossings)
    change = AlertControl(p, store).add_level("2700 5m breakout")
    assert change.message == "Level 2,700 added: breakout, confirmed on a 5m close"
    assert p.levels.find(2700.0).confirm == "5m"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not a confirmation"):
        AlertControl(p, store).add_level("2700 10m breakout")
    again = reopen(tmp_path, crossings)
    AlertControl(again, LevelStore(tmp_path / "levels.json")).load()
    saved = again.levels.find(2700.0)
    assert saved is not None and (saved.label, saved.confirm, saved.user) == (
        "breakout",
        "5m",
        True,
    )


def test_2642_5m_at_a_technical_level_confirms_it_on_5m_closes_and_keeps_it(
    tmp_path: Path, crossings: Path
) -> None:
    """The issue's own example: 2,642 is a technical level, so "2642 5m breakout" sets its
    confirmation (as [[levels.user]] at its price does) instead of saying it is there."""
    p = reopen(tmp_path, crossings)
    control = AlertControl(p, LevelStore(tmp_path / "levels.json"))
    change = control.add_level("2642 5m breakout")
    assert change.changed
    assert change.message == "Level 2,642 upside target: confirmed on a 5m close"
    lv = p.levels.find(2642.0)
    assert lv is not None and (lv.confirm, lv.user, lv.label) == ("5m", False, "upside target")
    assert not control.add_level("2642 5m").changed  # already so: nothing to do
    assert not control.add_level("2642").changed
    again = reopen(tmp_path, crossings)
    AlertControl(again, LevelStore(tmp_path / "levels.json")).load()
    kept = again.levels.find(2642.0)
    assert kept is not None and (kept.confirm, kept.user) == ("5m", False)

"""Each practice run keeps its own alerts (issue 18 §1), with a real app (Pilot) over a durable
log in a temporary state directory, restarted as a trader restarts r2k:

- on the sim or a replay every run starts with nothing waiting; the earlier run's alerts are
  listed as history (dimmed, never counted), and an acknowledgement given in one run never
  marks the next run's crossing of the same level;
- on a live feed the log keeps today's alerts and their acknowledgements across restarts;
- the status bar's ⚑ count is the number of rows the panel marks ●, every time.
"""

from __future__ import annotations

from pathlib import Path

from feeds.alertdesk import ALERT_MEMORY
from feeds.alerting.alerts import AlertJournal, alert_log_path, read_recent
from feeds.feed import feed_kind, is_live
from feeds.settings.setup import shown_with
from tests.test_app import make_app, running, rut, status_text
from tests.tui_fakes import NOW_MS, FakeFeed, FixedPipeline, holdings, load
from tui.app import R2KApp
from tui.widgets.alert_log import WAITS, mark


def start(spec: str, state: Path) -> tuple[R2KApp, AlertJournal]:
    """r2k started on a feed of ``spec``'s kind, its alert log in ``state`` (as
    :func:`feeds.settings.setup.build_pipeline` wires it): the test market loaded, ^RUT at
    2,446 (under 2,450)."""
    feed = FakeFeed()
    feed.spec = spec
    kind = feed_kind(spec)
    log = AlertJournal(alert_log_path(state / "alerts.jsonl", kind), split=is_live(kind))
    pipeline = FixedPipeline(feed, holdings(), alert_sinks=[log])
    pipeline.desk.add_history(read_recent(log.path, ALERT_MEMORY, keep=shown_with(kind)))
    app = make_app(pipeline)
    load(pipeline)
    return app, log


def waiting_rows(app: R2KApp) -> int:
    """The rows the alert panel marks ● (it lists every alert: nothing filtered)."""
    return sum(mark(a)[0] == WAITS for a in app.main.alerts.alerts)


def count(app: R2KApp) -> int:
    """The status bar's ⚑ count (0 when it shows none)."""
    text = status_text(app)
    if "⚑" not in text:
        return 0
    return int(text.split("⚑")[1].split()[0])


async def show(app: R2KApp, pilot: object) -> None:
    app.show_now()
    await pilot.pause()  # type: ignore[attr-defined]


async def test_a_practice_run_starts_with_nothing_waiting_and_acks_bind_to_their_run(
    tmp_path: Path,
) -> None:
    spec = "replay:day.csv"
    # run 1: 2,450 crossed up, not acknowledged
    app, log = start(spec, tmp_path)
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 1
    log.close()

    # run 2 (the replay played again): its clock is before run 1's crossing. Nothing waits:
    # the count was 1 here over a panel hiding that alert ("no alerts yet")
    app, log = start(spec, tmp_path)
    async with running(app, (100, 30)) as pilot:
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 0
        # the crossing happens in this run: it waits, once; then X acknowledges it
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app.pipeline.feed.clock_ms = NOW_MS + 2000  # type: ignore[attr-defined]
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 1
        crosses = [a for a in app.main.alerts.alerts if a.kind == "cross"]
        assert len(crosses) == 2  # this run's, and run 1's as history
        history = next(a for a in crosses if a.past_run)
        assert mark(history)[0] == " " and app.main.alerts.earlier(crosses.index(history))
        await pilot.press("X")
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 0
    log.close()

    # run 3: run 2's acknowledgement does not mark run 3's crossing of the same level
    app, log = start(spec, tmp_path)
    async with running(app, (100, 30)) as pilot:
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 0
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app.pipeline.feed.clock_ms = NOW_MS + 2000  # type: ignore[attr-defined]
        await show(app, pilot)
        mine = [a for a in app.main.alerts.alerts if a.kind == "cross" and not a.past_run]
        assert [a.acknowledged for a in mine] == [False]  # not ✓ before it happened
        assert count(app) == waiting_rows(app) == 1
        # the history lists run 2's acknowledged crossing as acknowledged
        assert any(a.past_run and a.acknowledged for a in app.main.alerts.alerts)
    log.close()


async def test_a_live_feed_keeps_todays_alerts_and_acks_across_restarts(tmp_path: Path) -> None:
    spec = "alpaca:iex"
    app, log = start(spec, tmp_path)
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 1
    log.close()

    app, log = start(spec, tmp_path)  # restarted: the crossing still waits
    async with running(app, (100, 30)) as pilot:
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 1
        await pilot.press("X")
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 0
    log.close()

    app, log = start(spec, tmp_path)  # and its acknowledgement outlives the next restart
    async with running(app, (100, 30)) as pilot:
        await show(app, pilot)
        assert count(app) == waiting_rows(app) == 0
        (cross,) = [a for a in app.main.alerts.alerts if a.kind == "cross"]
        assert cross.acknowledged and not cross.past_run and not cross.run
    log.close()

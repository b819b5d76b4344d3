"""Issue 10 in the app: mute a level (``m``), acknowledge alerts (``x``, ``X``), the count waiting
in the status bar, spread thresholds on the card and in the spread drilldown, and the user's
``[keys]`` remaps of these keys. The whole app over a pipeline, driven through Pilot (no sleeps,
no wall time); what each screen shows for a given frame is in test_alert_screens.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feeds.alerting.levels import LevelEngine
from feeds.alerting.levelstore import LevelStore
from feeds.events import Tick
from feeds.settings.config import Settings
from tests.test_app import make_app, messages, running, rut, status_text
from tests.tui_fakes import NOW_MS, FakeFeed, FixedPipeline, holdings, load
from tui import keys
from tui.app import R2KApp
from tui.screens.spread import SpreadScreen
from tui.widgets.alert_log import AlertLog
from tui.widgets.ladder import LevelLadder


def spread_app(**kw: object) -> R2KApp:
    """The test market with a RUT-SPX threshold at +50 bp (band 2 bp); the spread opens at
    +39.6 bp (^RUT +0.25 %, ^GSPC −0.15 %)."""
    engine = LevelEngine([], band=2.0, approach=None)
    engine.add(50.0, "small caps lead", user=False)  # as the config adds it
    pipeline = FixedPipeline(FakeFeed([]), holdings(), spreads={"RUT-SPX": engine})
    app = make_app(pipeline, **kw)  # type: ignore[arg-type]
    load(pipeline)
    return app


def saved_muted(store: LevelStore, symbol: str, level: float) -> bool:
    """Whether the file (read afresh, as a restart would) has the level muted."""
    again = LevelStore(store.path)
    again.load()
    return again.is_muted(symbol, level)


def row_of(ladder: LevelLadder, price: float) -> int:
    return next(i for i, r in enumerate(ladder.rows) if r.level and r.level.price == price)


def line(rows: LevelLadder | AlertLog, index: int) -> str:
    """Row ``index`` as the terminal shows it (the ladder's header is line 0)."""
    return rows.render_line(index + rows.HEADER_LINES).text


def crossings(panel: AlertLog) -> list[int]:
    return [i for i, a in enumerate(panel.alerts) if a.kind == "cross"]


async def settle(pilot: Any) -> None:
    """Until the footer has laid out the keys of the focus (a refresh or two; more on a busy
    machine)."""
    await pilot.wait_for_scheduled_animations()
    for _ in range(3):
        await pilot.pause()


def footer_words(app: R2KApp) -> dict[str, str]:
    footer = app.screen.query_one("Footer")
    return {k.description: k.key_display for k in footer.query("FooterKey")}  # type: ignore[attr-defined]


async def test_m_on_a_level_mutes_it_saved_and_m_again_unmutes(tmp_path: Path) -> None:
    store = LevelStore(tmp_path / "levels.json")
    app = make_app(level_store=store)
    async with running(app, (100, 30)) as pilot:
        ladder = app.main.ladder
        ladder.focus()
        ladder.cursor = row_of(ladder, 2450.0)
        await pilot.press("m")
        await pilot.pause()
        assert app.pipeline.levels.find(2450.0).muted  # type: ignore[union-attr]
        assert saved_muted(store, "^RUT", 2450.0)
        assert line(ladder, row_of(ladder, 2450.0)).startswith("⊘2,450")
        assert any(m.startswith("Level 2,450 muted") for m in messages(app))
        await pilot.press("m")
        await pilot.pause()
        assert not app.pipeline.levels.find(2450.0).muted  # type: ignore[union-attr]
        assert line(ladder, row_of(ladder, 2450.0)).startswith(" 2,450")
        assert not saved_muted(store, "^RUT", 2450.0)


async def test_a_crossing_waits_x_acknowledges_it_and_the_count_goes() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        assert "⚑" not in status_text(app)
        rut(app.pipeline, 2460.0, NOW_MS + 1000)  # through 2,450 by more than the band
        app.show_now()
        await pilot.pause()
        assert status_text(app).endswith("⚑ 1 to ack")
        panel = app.main.alerts
        assert "● 1 to acknowledge: x one, X all" in str(panel.border_title)
        (i,) = crossings(panel)
        assert line(panel, i).startswith("● ")
        panel.focus()
        panel.cursor = i
        await pilot.press("x")
        await pilot.pause()
        assert app.pipeline.desk.unacknowledged() == 0
        assert "⚑" not in status_text(app) and str(panel.border_title) == "Alerts"
        assert line(panel, i).startswith("✓ ") and panel.cursor == i  # the cursor stayed on it
        await pilot.press("x")  # again: nothing waits
        assert messages(app)[-1] == "Already acknowledged"


async def test_x_on_an_approach_notice_says_only_crossings_wait() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        panel = app.main.alerts
        approach = next(i for i, a in enumerate(panel.alerts) if a.kind == "approach")
        assert line(panel, approach).startswith("  ")  # no mark: it waits for nobody
        panel.focus()
        panel.cursor = approach
        await pilot.press("x")
        assert messages(app)[-1] == "Only crossings wait for an acknowledgement"


async def test_capital_x_acknowledges_every_alert_from_any_screen() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        for k, price in enumerate((2460.0, 2440.0, 2460.0)):  # up, down, up through 2,450
            rut(app.pipeline, price, NOW_MS + 1000 * (k + 1))
        app.show_now()
        await pilot.pause()
        assert app.focused is app.main.board and status_text(app).endswith("⚑ 3 to ack")
        await pilot.press("X")
        await pilot.pause()
        assert app.pipeline.desk.unacknowledged() == 0 and "3 alerts acknowledged" in messages(app)
        assert all(line(app.main.alerts, i)[0] == "✓" for i in crossings(app.main.alerts))
        rut(app.pipeline, 2440.0, NOW_MS + 9000)  # one more, then X in a drilldown
        await pilot.press("d")
        assert isinstance(app.screen, SpreadScreen)
        assert status_text(app).endswith("⚑ 1 to ack")
        await pilot.press("X")
        assert app.pipeline.desk.unacknowledged() == 0
        await pilot.press("X")
        assert messages(app)[-1] == "No alert waits for you"


async def test_m_in_the_alert_panel_mutes_that_alerts_level() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app.show_now()
        panel = app.main.alerts
        panel.focus()
        panel.cursor = crossings(panel)[0]
        await pilot.press("m")
        await pilot.pause()
        assert app.pipeline.levels.find(2450.0).muted  # type: ignore[union-attr]
        rut(app.pipeline, 2440.0, NOW_MS + 2000)  # crosses back down: muted, waits for nobody
        app.show_now()
        await pilot.pause()
        newest = panel.alerts[0]
        assert newest.kind == "cross" and newest.muted
        assert line(panel, 0).startswith("⊘ ") and "(muted)" in line(panel, 0)
        assert status_text(app).endswith("⚑ 1 to ack")  # the first crossing still waits


async def test_footers_name_the_new_keys_where_they_work() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        app.main.ladder.focus()
        await settle(pilot)
        assert footer_words(app)["Mute"] == "m"
        app.main.alerts.focus()
        await settle(pilot)
        words = footer_words(app)
        assert words["Ack"] == "x" and "Mute" not in words  # "m" mutes here too, unlisted


async def test_the_palette_acknowledges_all() -> None:
    app = make_app()
    async with running(app, (100, 30)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        app.show_now()
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert commands["Acknowledge all alerts"].help.endswith("(X)")
        await commands["Acknowledge all alerts"].callback()  # type: ignore[misc]
        await pilot.pause()
        assert app.pipeline.desk.unacknowledged() == 0


# --- spread thresholds --------------------------------------------------------------------------


async def test_the_card_shows_the_nearest_spread_threshold_and_a_crossing_reads_in_bp() -> None:
    app = spread_app()
    async with running(app, (100, 30)) as pilot:
        card = app.main.card.query_one("#thresholds")
        assert card.display and str(card.render()) == "alerts ▲ +50 (+10) bp"
        app.pipeline.handle(Tick("^GSPC", 6570.0, NOW_MS + 1000))  # the spread to +70 bp
        app.show_now()
        await pilot.pause()
        assert str(card.render()) == "alerts ▼ +50 (-20) bp"
        panel = app.main.alerts
        (i,) = crossings(panel)
        assert "▲ crossed up   RUT-SPX +50 bp @ +70 bp  small caps lead" in line(panel, i)
        assert status_text(app).endswith("⚑ 1 to ack")
        panel.focus()
        panel.cursor = i
        await pilot.press("enter")  # a spread alert opens the spread drilldown, not a level
        assert isinstance(app.screen, SpreadScreen)


async def test_the_spread_drilldown_lists_the_thresholds_and_m_mutes_one(tmp_path: Path) -> None:
    store = LevelStore(tmp_path / "levels.json")
    app = spread_app(level_store=store)
    async with running(app, (100, 40)) as pilot:
        await pilot.press("d")
        await pilot.pause()
        ladder = app.screen.query_one("#rut-spx-levels", LevelLadder)
        assert app.focused is ladder and ladder.display
        assert not app.screen.query_one("#rut-mags-levels", LevelLadder).display
        rows = [line(ladder, i) for i in range(ladder.row_count)]
        assert rows[0].split()[:3] == ["+50", "tick", "small"] and "+10.4" in rows[0]
        assert rows[1].startswith("▶+39.6 bp RUT-SPX")
        assert footer_words(app).keys() >= {"Mute", "Back"}
        assert "Remove" not in footer_words(app) and "Open" not in footer_words(app)
        await pilot.press("m")
        await pilot.pause()
        assert app.pipeline.desk.spreads["RUT-SPX"].find(50.0).muted  # type: ignore[union-attr]
        assert saved_muted(store, "RUT-SPX", 50.0)
        assert line(ladder, 0).startswith("⊘")
        await pilot.press("x")  # a threshold is not removed here (it lives in the config)
        assert app.pipeline.desk.spreads["RUT-SPX"].find(50.0) is not None
        await pilot.press("escape")
        card = app.main.card.query_one("#thresholds")
        assert str(card.render()) == "alerts ⊘▲ +50 (+10) bp"


# --- [keys] remaps --------------------------------------------------------------------------------

REMAPS = {"mute": "M", "acknowledge": "space", "acknowledge-all": "A"}


async def test_remapped_mute_and_acknowledge_keys_work_and_are_named() -> None:
    app = make_app(settings=Settings(keys=REMAPS))
    async with running(app, (120, 40)) as pilot:
        rut(app.pipeline, 2460.0, NOW_MS + 1000)
        rut(app.pipeline, 2440.0, NOW_MS + 2000)
        app.show_now()
        await pilot.pause()
        # the hints name the keys in effect
        assert status_text(app).endswith("⚑ 2 alerts to acknowledge (A)")
        panel = app.main.alerts
        assert str(panel.border_title).endswith("space one, A all")
        panel.focus()
        panel.cursor = crossings(panel)[0]
        await pilot.press("x")  # no longer bound
        assert app.pipeline.desk.unacknowledged() == 2
        await pilot.press("space")
        assert app.pipeline.desk.unacknowledged() == 1
        await pilot.press("X")
        assert app.pipeline.desk.unacknowledged() == 1
        await pilot.press("A")
        assert app.pipeline.desk.unacknowledged() == 0
        ladder = app.main.ladder
        ladder.focus()
        ladder.cursor = row_of(ladder, 2300.0)
        await pilot.press("m")
        assert not app.pipeline.levels.find(2300.0).muted  # type: ignore[union-attr]
        await pilot.press("M")
        assert app.pipeline.levels.find(2300.0).muted  # type: ignore[union-attr]
        await pilot.pause()
        assert footer_words(app)["Mute"] == "M"


@pytest.mark.parametrize(
    ("keymap", "error"),
    [
        ({"mute": "x"}, "[keys] mute = 'x': 'x' already runs remove-level"),
        ({"acknowledge": "m"}, "[keys] acknowledge = 'm': 'm' already runs mute-alert"),
        ({"acknowledge-all": "q"}, "[keys] acknowledge-all = 'q': 'q' already runs quit"),
    ],
)
def test_a_remap_of_the_new_keys_onto_a_taken_one_is_one_line(
    keymap: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError) as err:
        keys.check_keymap(keymap)
    assert str(err.value).startswith(error) and "\n" not in str(err.value)


async def test_a_1m_level_awaits_its_bars_close_on_the_ladder_then_fires_at_the_close() -> None:
    from feeds.alertdesk import BAR_GRACE_MS

    app = make_app()
    async with running(app, (100, 30)) as pilot:
        await pilot.press("plus", *"2455 1m breakout", "enter")
        await pilot.pause()
        ladder = app.main.ladder
        assert line(ladder, row_of(ladder, 2455.0)).split()[:3] == ["2,455", "1m", "✎"]
        rut(app.pipeline, 2460.0, NOW_MS + 1000)  # past 2,455 by more than the band, mid-bar
        app.show_now()
        await pilot.pause()
        assert line(ladder, row_of(ladder, 2455.0)).rstrip().endswith("▲ awaits close")
        assert not [a for a in app.main.alerts.alerts if a.level == 2455.0 and a.kind == "cross"]
        feed = app.pipeline.feed
        assert isinstance(feed, FakeFeed)
        feed.clock_ms = NOW_MS + 60_000 + BAR_GRACE_MS + 1  # the 11:30 bar has closed
        app.show_now()
        await pilot.pause()
        (fired,) = [a for a in app.main.alerts.alerts if a.level == 2455.0 and a.kind == "cross"]
        assert (fired.confirm, fired.ts, fired.price) == ("1m", NOW_MS + 60_000, 2460.0)
        assert line(ladder, row_of(ladder, 2455.0)).rstrip().endswith("▲ crossed up")
        assert status_text(app).endswith("⚑ 2 to ack")  # and 2,450's tick-confirmed crossing

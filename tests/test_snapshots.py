"""Snapshots of the screen with deterministic data (fixed feed clock, tick age and rate).

Plain ``def`` tests: ``snap_compare`` runs the app itself. Update with ``--snapshot-update`` and
look at the SVGs in ``tests/__snapshots__`` before accepting them.
"""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui_fakes import load, make_pipeline
from tui.app import R2KApp


def fresh_app() -> R2KApp:
    # 0.01 Hz: the refresh timer never fires; frames are pulled in run_before
    pipeline = make_pipeline()
    app = R2KApp(pipeline, refresh_hz=0.01, run_feed=False, clock=lambda: 0.0)
    load(pipeline)  # after the app is built, as a feed would: its alerts are this session's
    return app


async def two_frames(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, R2KApp)
    await app.started.wait()
    await pilot.pause()
    app.pull_frame(charts=True)
    app.pull_frame(charts=True)  # nothing ticked since: no tick marks, a stable picture
    await pilot.pause()


def test_main_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fresh_app(), terminal_size=(80, 24), run_before=two_frames)


def test_main_120x40(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fresh_app(), terminal_size=(120, 40), run_before=two_frames)


def test_main_100x30_sorted_by_return(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await two_frames(pilot)
        await pilot.press("s", "j")

    assert snap_compare(fresh_app(), terminal_size=(100, 30), run_before=run_before)


def test_constituent_drilldown_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await two_frames(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(fresh_app(), terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await two_frames(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(fresh_app(), terminal_size=(80, 24), run_before=run_before)

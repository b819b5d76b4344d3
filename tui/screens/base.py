"""What every screen that shows live data has in common: a status bar and ``show_frame``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen

from feeds.frame import Frame
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import R2KApp


class FrameScreen(Screen[None]):
    """A screen the app pushes frames to (only while it is the active screen)."""

    ready = False  # composed and mounted: safe to query its widgets

    def on_mount(self) -> None:
        # Textual runs every on_mount in the MRO, the subclass's first: subclasses use
        # screen_ready, which runs once the widgets are there and ``ready`` is set
        self.ready = True
        self.screen_ready()
        self.show_latest()

    def screen_ready(self) -> None:
        """Hook: the screen's widgets are mounted."""

    @property
    def r2k(self) -> R2KApp:
        from tui.app import R2KApp

        assert isinstance(self.app, R2KApp)
        return self.app

    def show_frame(self, frame: Frame, *, charts: bool) -> None:
        """Render ``frame``. ``charts`` is True at most once a second: redraw charts then."""

    def on_screen_resume(self) -> None:
        # back from a drilldown or help: show the latest frame at once, not at the next tick
        self.show_latest()

    def show_latest(self) -> None:
        frame = self.r2k.frame
        if not self.ready:
            return
        try:
            if frame is not None:
                self.show_frame(frame, charts=True)
            self.show_status()
        except NoMatches:
            pass  # the app is shutting down and has already pruned this screen's widgets

    def show_status(self) -> None:
        self.query_one(StatusBar).show(self.r2k.status_content())


class DetailScreen(FrameScreen):
    """A drilldown: Escape goes back to where you were."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_screen", "Back", tooltip="to the monitor, cursor kept")
    ]

    def action_dismiss_screen(self) -> None:
        self.dismiss()

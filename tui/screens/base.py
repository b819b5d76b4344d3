"""What every screen that shows live data has in common, stated once.

A :class:`FrameScreen` reads nothing but the frames the App hands it (:meth:`show_frame`) and
says what it wants in typed messages (:mod:`tui.messages`); it never imports the app or touches
the pipeline. It says which view it needs with :meth:`wants` (a drilldown names its symbol or
level), asks for a frame when it appears (``FrameWanted``), keeps its status bar live while the
figures are paused, and below the smallest usable size shows "terminal too small" instead.

:class:`DetailScreen` is the drilldown skeleton (constituent, level, spread, feed status): a
status bar, one panel with a title, a block of facts and the screen's charts, and a footer;
Escape goes back. A screen whose facts can outgrow the terminal (the feed's history) scrolls.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from feeds.frame import Charts, Frame, View
from tui import keys
from tui.messages import FrameWanted
from tui.widgets.footer import KeyFooter
from tui.widgets.status_bar import StatusBar
from tui.widgets.text import Line, set_titles
from tui.widgets.too_small import TooSmall, too_small


def toast_racks(screen: Screen[Any]) -> list[Widget]:
    """The screen's toast rack (Textual's ``ToastRack``, a child of every screen, which CSS
    queries do not reach), found by its type's name: the class is private to Textual."""
    return [w for w in screen.children if type(w).__name__ == "ToastRack"]


class FrameScreen(Screen[None]):
    """A screen the App sends frames to (while it is the top screen showing data)."""

    frame: Frame | None = None  # the last frame shown

    def wants(self, view: View) -> View:
        """The view this screen's frames are built for, from the app's board view."""
        return view

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        self.post_message(FrameWanted())

    def on_screen_resume(self) -> None:
        # back from a drilldown or help: the latest figures at once, not at the next tick
        self.post_message(FrameWanted())
        self._show_toasts(True)

    def on_screen_suspend(self) -> None:
        # under a dialog this screen still shows: its toasts (already on the top screen's
        # rack) must not show a second, stale copy beneath it
        self._show_toasts(False)

    def _show_toasts(self, shown: bool) -> None:
        for rack in toast_racks(self):
            rack.display = shown

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        # under 80 columns the keys need the footer's whole width: ctrl+p is in the help (?)
        show = event.size.width >= 80
        for footer in self.query(Footer):
            if footer.show_command_palette != show:
                footer.show_command_palette = show
                footer.refresh(recompose=True)  # the footer lays its keys out when composed

    def _fit(self, width: int, height: int) -> None:
        small = too_small(width, height)
        self.set_class(small, "-too-small")
        if small:
            self.query_one(TooSmall).show_size(width, height)

    def show_frame(self, frame: Frame) -> None:
        """Show ``frame``: the status always; the figures unless the view is paused."""
        self.frame = frame
        self.show_status(frame)
        if frame.view.paused:
            self.render_paused(frame)
        else:
            self.render_frame(frame)

    def show_status(self, frame: Frame) -> None:
        """Only the status line (idle: the clock and the tick age move on)."""
        self.query_one(StatusBar).show_frame(frame)

    def render_frame(self, frame: Frame) -> None:
        """Hook: draw the figures (charts when ``frame.charts`` is set, at most once a second)."""

    def render_paused(self, frame: Frame) -> None:
        """Hook: what keeps moving while the figures are paused (the alert panel)."""


def hang(content: Content, indent: int, width: int) -> Content:
    """``content`` with each line longer than ``width`` cells broken at spaces, the rest
    indented by ``indent`` cells under its own column (a hanging indent), so a labelled row's
    text never runs back under the labels. A word longer than the room is cut where it must."""
    if width <= indent + 8:
        return content
    out: list[Content] = []
    for line in content.split("\n"):
        while line.cell_length > width:
            plain = line.plain
            cut = plain.rfind(" ", indent + 1, width + 1)
            if cut <= indent or not plain[indent:cut].strip():
                cut = width
            out.append(line[:cut].rstrip())
            rest = line[cut:]
            line = Content(" " * indent) + rest[len(rest.plain) - len(rest.plain.lstrip(" ")) :]
        out.append(line)
    return Content("\n").join(out)


class DetailScreen(FrameScreen):
    """A drilldown: facts above charts in one panel; Escape goes back to where you were."""

    #: the width of the facts' label column: a long row continues under its text (0: off)
    FACTS_INDENT: ClassVar[int] = 0

    BINDINGS: ClassVar[list[BindingType]] = keys.bindings("detail")
    SCROLLS: ClassVar[bool] = False  # the panel scrolls (arrows, PgUp/PgDn) and takes the focus
    DEFAULT_CSS = """
    DetailScreen #facts { height: auto; margin-bottom: 1; }
    DetailScreen .chart-title { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with (VerticalScroll if self.SCROLLS else Vertical)(id="detail", classes="panel"):
            yield Line(id="facts")
            yield from self.compose_charts()
        yield TooSmall()
        yield KeyFooter(compact=True)

    def on_mount(self) -> None:  # after FrameScreen's (Textual calls each class's handler)
        if self.SCROLLS:
            self.query_one("#detail").focus()

    def compose_charts(self) -> ComposeResult:
        """Hook: the screen's charts (and their titles)."""
        yield from ()

    drawn = False  # whether a frame's figures were ever drawn here

    def render_frame(self, frame: Frame) -> None:
        self.drawn = True
        title, facts = self.describe(frame)
        set_titles(self.query_one("#detail"), title, "Esc back")
        line = self.query_one("#facts", Line)
        if self.FACTS_INDENT:
            width = line.size.width or max(0, self.size.width - 4)
            facts = hang(facts, self.FACTS_INDENT, width) if width else facts
        line.show(facts)
        if frame.charts is not None:
            self.draw(frame, frame.charts)

    def render_paused(self, frame: Frame) -> None:
        # opened while paused: the figures as they stood when the trader paused, frozen there
        if not self.drawn:
            self.render_frame(frame)

    def describe(self, frame: Frame) -> tuple[str, Content]:
        """Hook: the panel's title and its facts."""
        raise NotImplementedError

    def draw(self, frame: Frame, charts: Charts) -> None:
        """Hook: redraw the charts from ``charts``."""

    def action_dismiss_screen(self) -> None:
        self.dismiss()

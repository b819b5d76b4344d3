"""What the user wants, said by screens and widgets as typed messages; the App handles them.

Screens and widgets never call the app or touch the pipeline: they post one of these and the
App (through its :class:`~tui.controller.Controller`) changes the view or the levels, then sends a
new frame down. Each message carries the whole new value, never a delta, so messages that are
still queued when the next key arrives cannot undo each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from feeds.alerting.levelinput import LevelInput
from feeds.alerting.levels import AlertEvent


@dataclass
class SortChanged(Message):
    """Rank the board by ``sort`` (a :data:`feeds.market.analytics.SORT_KEYS` key)."""

    sort: str
    descending: bool


@dataclass
class FilterChanged(Message):
    """Keep the constituents whose symbol or name contains ``text`` ("" shows every one)."""

    text: str


@dataclass
class CursorMoved(Message):
    """The board's cursor is on ``symbol``: it stays on that name as ranks change."""

    symbol: str


@dataclass
class AnchorChanged(Message):
    """Measure returns since ``mode`` (a :data:`feeds.market.state.ANCHOR_MODES` mode)."""

    mode: str


@dataclass
class PauseToggled(Message):
    """Freeze or resume the figures (the feed, alerts and bell keep running)."""


@dataclass
class OpenConstituent(Message):
    """Open the drilldown of one constituent."""

    symbol: str


@dataclass
class OpenLevel(Message):
    """Open the drilldown of the level at ``price`` (index points)."""

    price: float


@dataclass
class OpenSpread(Message):
    """Open the spread drilldown."""


@dataclass
class OpenFeedStatus(Message):
    """Open the feed status: the whole reason, retries, malformed frames, the run's history."""


@dataclass
class AddLevel(Message):
    """Add a user level (price in index points, label, confirmation) and keep it across
    restarts."""

    level: LevelInput


@dataclass
class RemoveLevel(Message):
    """Remove the user level at ``price``."""

    price: float


@dataclass
class FrameWanted(Message):
    """A screen appeared (pushed, or back on top): send it a frame with charts now."""


@dataclass
class OpenScoreboard(Message):
    """Open the year-to-date scoreboard (returns by period, streak, records, YTD breadth, the
    members adding most, ^RUT's daily chart)."""


# mute and acknowledge


@dataclass
class ToggleMute(Message):
    """Mute the level at ``level`` of ``symbol`` (``^RUT``: index points; a spread such as
    ``RUT-SPX``: basis points), or unmute it; saved. A toggle, not a value: the level's state in
    the engine is the truth, so two quick presses mute then unmute, in order."""

    symbol: str
    level: float


@dataclass
class Acknowledge(Message):
    """Acknowledge ``alert`` (an alert of the frame's list), or every alert waiting for it
    (None); kept in the durable log."""

    alert: AlertEvent | None

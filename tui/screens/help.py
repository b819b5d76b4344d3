"""Help: every key from the binding table (with the remaps in effect and each binding's id, which
``[keys]`` in the config file remaps), and a legend of the signs, units and states."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import fmt, keys

#: The legend; ``{mute}``, ``{ack}``, ``{ack_all}``, ``{spread}`` are the keys in effect.
LEGEND_INTRO = (
    "Signs are always printed (+/−, ▲/▼), so nothing depends on colour alone; a figure that "
    "rounds to zero has no sign."
)
LEGEND = """\
est.      the index is estimated from its ETF (IWM × k); levels use the estimate
bp        basis points: 1 bp = 0.01 %; spread = (r RUT − r SPX) × 10,000
Ctb bp    contribution to the index move: weight at the anchor × return × 10,000
Wt        the constituent's weight in the index at the anchor
To go     {distance_rule}; in index points and % of the price
▲ ▼ •     a price that ticked since the last frame: up, down, unchanged
states    armed · approaching (within 0.25 %) · ▲ crossed up · ▼ crossed down ·
          ▲ awaits close: past a 1m/5m level, its bar not closed yet (narrow: ▲wait)
On        what confirms a crossing: tick (any print; · on a narrow ladder), or 1m / 5m: a
          one- or five-minute bar (New York clock) closing beyond the level
✎         your own level (config, --level or +); + levels are kept across restarts
⊘         muted ({mute} on a level): still logged and listed, no toast, bell or notification
● ✓       alert panel: ● waits for you to acknowledge it ({ack}; {ack_all} all of them: the
          status bar's ⚑ counts them) · ✓ acknowledged · ⊘ its level is muted
spread    RUT − SPX thresholds (bp): the card shows the nearest ▼ below and ▲ above, with
          their to go; the spread drilldown ({spread}) lists them all; {mute} there mutes one
STALE     no fresh ticks: figures are dimmed, never shown as fresh
pts       index points: a member's part in the YTD move (weight × return × the YTD base)
⚠ …d old  holdings older than 45 days (board title, scoreboard): r2k holdings fetch
PAUSED    the figures are frozen; the feed, the status, the alerts and the bell keep running
"""


LABEL_W = 10  # the legend's label column: wrapped lines hang under the text, not the label
HELP_MIN = 24  # a key's help narrower than this goes on lines of its own, indented


def legend_entries(text: str) -> list[tuple[str, str]]:
    """(label, text) of each legend entry; a line indented by :data:`LABEL_W` continues the one
    before (the source's own line breaks are not the screen's)."""
    entries: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith(" " * LABEL_W) and entries:
            label, body = entries[-1]
            entries[-1] = (label, f"{body} {line.strip()}")
        else:
            entries.append((line[:LABEL_W].rstrip(), line[LABEL_W:].strip()))
    return entries


def legend(keymap: Mapping[str, str], display: Callable[[str], str]) -> str:
    """:data:`LEGEND` naming the keys in effect after the user's remaps."""

    ids = {"mute": "mute", "ack": "acknowledge", "ack_all": "acknowledge-all", "spread": "spread"}
    named = {name: display(keys.key_of(i, keymap)) for name, i in ids.items()}
    return LEGEND.format(distance_rule=fmt.DISTANCE_RULE, **named)


def hang(
    head: Content, text: str, width: int, style: str = "", indent: int | None = None
) -> list[Content]:
    """``head`` then ``text`` wrapped to ``width`` cells, every wrapped line indented to where
    the text began (a hanging indent), words never cut; when that leaves the text under
    :data:`HELP_MIN` cells it starts on the next line, indented by ``indent`` (default 4)."""
    start = head.cell_length
    room = width - start
    if not text:
        return [head]
    if room < HELP_MIN:
        pad = indent if indent is not None else 4
        body = textwrap.wrap(text, max(8, width - pad), break_on_hyphens=False)
        return [head, *(Content.assemble(" " * pad, (line, style)) for line in body)]
    body = textwrap.wrap(text, room, break_on_hyphens=False)
    lines = [Content.assemble(head, (body[0], style))]
    lines += [Content.assemble(" " * start, (line, style)) for line in body[1:]]
    return lines


def key_table(
    keymap: Mapping[str, str], display: Callable[[str], str], width: int = 200
) -> Content:
    """Every binding by scope: keys in effect, the footer's word, its id and its help, the help
    wrapped under itself to ``width`` cells."""
    lines: list[Content] = [
        *hang(
            Content(""),
            'Remap a key in the config file: [keys] then id = "keys"',
            width,
            "$text-muted",
        ),
        Content(""),
        *hang(
            Content.styled(f"  {'keys':<10}{'word':<14}{'id':<17}", "$text-muted"),
            "what it does",
            width,
            "$text-muted",
            indent=6,
        ),
    ]
    for scope, title in keys.SCOPES.items():
        lines += hang(Content(""), title, width, "bold $text-accent")
        for key in keys.TABLE[scope]:
            shown = " ".join(display(k) for k in keys.effective(key, keymap).split(","))
            head = Content.assemble(
                (f"  {shown:<10}", "bold"),
                f"{key.description:<14}",
                (f"{key.id:<17}", "$text-accent"),
            )
            lines += hang(head, key.help, width, "$text-muted", indent=6)
        lines.append(Content(""))
    return Content("\n").join(lines)


def legend_content(text: str, width: int) -> Content:
    """The legend at ``width`` cells: the intro wrapped, each entry's text hanging under its
    own first word, never under the label."""
    lines = hang(Content(""), LEGEND_INTRO, width)
    for label, body in legend_entries(text):
        head = Content.styled(f"{label:<{LABEL_W}}", "bold")
        lines += hang(head, body, width, indent=LABEL_W)
    return Content("\n").join(lines)


class Wrapped(Static):
    """Text laid out for the width it has (wrapped with hanging indents), again on resize."""

    def __init__(self, layout: Callable[[int], Content], *, classes: str = "") -> None:
        super().__init__(markup=False, classes=classes)
        self._layout = layout
        self._width = -1

    def on_resize(self) -> None:
        width = self.content_region.width
        if width > 0 and width != self._width:
            self._width = width
            self.update(self._layout(width))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [keys.TABLE["dialog"][0].binding()]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help {
        width: 95%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen .nowrap { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "r2k · keys"
            box.border_subtitle = "Esc close"
            display = lambda k: self.app.get_key_display(Binding(k, ""))  # noqa: E731
            text = legend(self.keymap, display)
            yield Wrapped(lambda w: key_table(self.keymap, display, w), classes="nowrap")
            yield Static(Content.styled("Legend", "bold $text-accent"))
            yield Wrapped(lambda w: legend_content(text, w), classes="nowrap")

    def action_close(self) -> None:
        self.dismiss()

"""Help: every key from the binding table (with the remaps in effect and each binding's id, which
``[keys]`` in the config file remaps), and a legend of the signs, units and states."""

from __future__ import annotations

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
LEGEND = """\
Signs are always printed (+/−, ▲/▼), so nothing depends on colour alone; a figure that rounds
to zero has no sign.
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


def legend(keymap: Mapping[str, str], display: Callable[[str], str]) -> str:
    """:data:`LEGEND` naming the keys in effect after the user's remaps."""

    ids = {"mute": "mute", "ack": "acknowledge", "ack_all": "acknowledge-all", "spread": "spread"}
    named = {name: display(keys.key_of(i, keymap)) for name, i in ids.items()}
    return LEGEND.format(distance_rule=fmt.DISTANCE_RULE, **named)


def key_table(keymap: Mapping[str, str], display: Callable[[str], str]) -> Content:
    """Every binding by scope: keys in effect, the footer's word, its id and its help."""
    lines: list[Content] = [
        Content.styled('Remap a key in the config file: [keys] then id = "keys"', "$text-muted"),
        Content(""),
        Content.styled(f"  {'keys':<10}{'word':<14}{'id':<17}what it does", "$text-muted"),
    ]
    for scope, title in keys.SCOPES.items():
        lines.append(Content.styled(title, "bold $text-accent"))
        for key in keys.TABLE[scope]:
            shown = " ".join(display(k) for k in keys.effective(key, keymap).split(","))
            lines.append(
                Content.assemble(
                    (f"  {shown:<10}", "bold"),
                    f"{key.description:<14}",
                    (f"{key.id:<17}", "$text-accent"),
                    (key.help, "$text-muted"),
                )
            )
        lines.append(Content(""))
    return Content("\n").join(lines)


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
            yield Static(key_table(self.keymap, display), markup=False, classes="nowrap")
            yield Static(Content.styled("Legend", "bold $text-accent"))
            yield Static(legend(self.keymap, display), markup=False)

    def action_close(self) -> None:
        self.dismiss()

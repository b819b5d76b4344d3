"""Help: every key, generated from the bindings themselves so it cannot drift, and a legend."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

LEGEND = """\
Signs are always printed (+/−, ▲/▼), so nothing depends on colour alone.
est.      the index is estimated from its ETF (IWM × k); levels use the estimate
bp        basis points: 1 bp = 0.01 %; spread = (r RUT − r SPX) × 10,000
ctb bp    contribution to the index move: weight at the anchor × return
▲ ▼ •     a price that ticked since the last frame: up, down, unchanged
states    armed · approaching (within 0.25 %) · ▲ crossed up · ▼ crossed down
✎         your own level (config, --level or +); + levels are kept across restarts
STALE     no fresh ticks: figures are dimmed, never shown as fresh
PAUSED    the display is frozen; the feed, the alerts and the bell keep running
"""


def key_table(app_keys: object, groups: list[tuple[str, list[BindingType]]]) -> Content:
    from textual.app import App

    assert isinstance(app_keys, App)
    lines: list[Content] = []
    for title, bindings in groups:
        lines.append(Content.styled(title, "bold $text-accent"))
        for b in Binding.make_bindings(bindings):
            if not b.description:
                continue
            keys = " ".join(app_keys.get_key_display(Binding(k, "")) for k in b.key.split(","))
            lines.append(
                Content.assemble(
                    (f"  {keys:<14}", "bold"),
                    f"{b.description:<16}",
                    (b.tooltip, "$text-muted"),
                )
            )
        lines.append(Content(""))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss_help", "Close help")
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen .nowrap { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, groups: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "r2k · keys"
            box.border_subtitle = "Esc close"
            yield Static(key_table(self.app, self.groups), markup=False, classes="nowrap")
            yield Static(Content.styled("Legend", "bold $text-accent"))
            yield Static(LEGEND, markup=False)

    def action_dismiss_help(self) -> None:
        self.dismiss()

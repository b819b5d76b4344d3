"""The yardstick of bench/screen.py: a stock Textual monitor of the same board.

Run: ``python bench/baseline.py [--universe N] [--seed N]`` with the same ``[feeds.sim]`` options
as the r2k run (``--tick-rate``, ``--start-ms``). What a typical Textual market monitor does: a
``DataTable`` of the board's top 50 rows (the 50 heaviest members) whose cells are updated on
every tick of their symbol, plus a status line (``p`` pauses: PAUSED is drawn). It runs the very
same simulated feed (``feeds.sources.sim.SimFeed``, same seed, names, rate and start), so the two
apps
see the same ticks at the same times.
"""

from __future__ import annotations

import argparse
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from feeds.events import Tick
from feeds.feed import FeedOptions
from feeds.reference.holdings import load_holdings, pad_universe
from feeds.sources.sim import SimFeed

ROWS = 50


class Baseline(App[None]):
    CSS = "#status { height: 1; } DataTable { height: 1fr; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("p", "pause", "Pause"),
    ]

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        holdings = pad_universe(load_holdings(), args.universe, args.seed)
        self.holdings = holdings
        top = sorted(holdings.constituents, key=lambda c: -c.weight)[:ROWS]
        self.rows = {c.symbol: c for c in top}
        self.paused = False

    def compose(self) -> ComposeResult:
        yield Static("^RUT baseline monitor: live", id="status")
        yield DataTable(id="board")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, width in (
            ("Symbol", "symbol", 7),
            ("Name", "name", 24),
            ("Last", "last", 10),
            ("Return", "ret", 8),
            ("Weight", "weight", 7),
            ("Volume", "volume", 12),
        ):
            table.add_column(label, key=key, width=width)
        for s, c in self.rows.items():
            table.add_row(s, c.name[:24], "", "", f"{c.weight:.2%}", "", key=s)
        self.run_worker(self.consume(), exclusive=True)

    async def consume(self) -> None:
        a = self.args
        config = {"tick_rate": a.tick_rate, "start_ms": a.start_ms}
        options = FeedOptions(
            seed=a.seed, universe=a.universe, holdings=self.holdings, config=config
        )
        table = self.query_one(DataTable)
        rows = self.rows
        async with SimFeed("sim", options) as feed:
            async for ev in feed:
                if type(ev) is not Tick or ev.symbol not in rows or self.paused:
                    continue
                s = ev.symbol
                table.update_cell(s, "last", f"{ev.price:,.2f}")
                if ev.prev_close:
                    table.update_cell(s, "ret", f"{ev.price / ev.prev_close - 1:+.2%}")
                if ev.day_volume is not None:
                    table.update_cell(s, "volume", f"{ev.day_volume:,.0f}")

    def action_pause(self) -> None:
        self.paused = not self.paused
        text = "PAUSED" if self.paused else "live"
        self.query_one("#status", Static).update(f"^RUT baseline monitor: {text}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--universe", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tick-rate", type=float, default=1.0)
    ap.add_argument("--start-ms", type=int, required=True)
    Baseline(ap.parse_args()).run()


if __name__ == "__main__":
    main()

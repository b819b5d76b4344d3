"""Deterministic data for the app tests: a fake feed with a fixed clock and a small universe."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable
from zoneinfo import ZoneInfo

from feeds.events import DailyCloses, Event, FeedState, FeedStatus, Tick
from feeds.feed import Feed, FeedOptions
from feeds.frame import Frame, View
from feeds.pipeline import DEFAULT_VIEW, Pipeline
from feeds.reference.holdings import Constituent, Holdings

ET = ZoneInfo("America/New_York")
# Thursday 20 Nov 2025, 11:30 ET: a regular session is open.
NOW_MS = int(dt.datetime(2025, 11, 20, 11, 30, tzinfo=ET).timestamp() * 1000)
OPEN_MS = int(dt.datetime(2025, 11, 20, 9, 30, tzinfo=ET).timestamp() * 1000)

UNIVERSE: list[tuple[str, str, str, float, float, float]] = [
    # symbol, name, sector, weight, prev close, last
    ("BE", "Bloom Energy Corp Class A", "Industrials", 0.0106, 100.0, 104.0),
    ("CRDO", "Credo Technology Group", "Information Technology", 0.0090, 150.0, 147.0),
    ("FN", "Fabrinet", "Information Technology", 0.0061, 400.0, 402.0),
    ("IONQ", "IonQ Inc", "Information Technology", 0.0058, 50.0, 47.5),
    ("KTOS", "Kratos Defense & Security", "Industrials", 0.0050, 70.0, 71.4),
    ("MOG-A", "Moog Inc Class A", "Industrials", 0.0030, 220.0, 220.0),
    ("[red]X", "[bold red]Markup Corp[/]", "Financials", 0.0020, 10.0, 10.5),
    ("RMBS", "Rambus Inc", "Information Technology", 0.0045, 90.0, 91.8),
    ("HIMS", "Hims & Hers Health", "Health Care", 0.0044, 40.0, 38.8),
    ("SATS", "EchoStar Corp", "Communication", 0.0043, 75.0, 75.75),
    ("AEIS", "Advanced Energy Industries", "Information Technology", 0.0040, 200.0, 204.0),
    ("GH", "Guardant Health", "Health Care", 0.0038, 100.0, 99.0),
]
HEADLINE_PRICES = {
    # symbol: (prev close, last)
    "^RUT": (2440.0, 2446.0),
    "^GSPC": (6600.0, 6590.1),
    "MAGS": (60.0, 59.7),
    "IWM": (243.8, 244.4),
    "SPY": (658.0, 657.0),
}


def holdings() -> Holdings:
    return Holdings(
        dt.date(2025, 11, 5),
        [Constituent(s, n, sec, w) for s, n, sec, w, _, _ in UNIVERSE],
        source="test",
    )


class FakeFeed(Feed):
    """Yields the given events, then stays open (like a quiet live feed). Clock fixed."""

    def __init__(self, events: Iterable[Event] = (), now_ms: int = NOW_MS) -> None:
        super().__init__("fake", FeedOptions())
        self.events = list(events)
        self.clock_ms = now_ms
        self.fail: Exception | None = None

    @property
    def label(self) -> str:
        return "fake"

    def now_ms(self) -> int:
        return self.clock_ms

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Event]:
        for ev in self.events:
            yield ev
        if self.fail is not None:
            raise self.fail
        await asyncio.Event().wait()


def opening_ticks(ts: int = NOW_MS - 60_000) -> list[Event]:
    """Prev closes and one price per symbol: a deterministic market at ``ts``."""
    events: list[Event] = [FeedStatus(FeedState.LIVE, "test market", ts)]
    # two completed sessions in which small caps beat large caps: a streak of 2
    events.append(
        DailyCloses(
            "^RUT", [("2025-11-17", 2400.0), ("2025-11-18", 2420.0), ("2025-11-19", 2440.0)]
        )
    )
    events.append(
        DailyCloses(
            "^GSPC", [("2025-11-17", 6600.0), ("2025-11-18", 6601.0), ("2025-11-19", 6600.0)]
        )
    )
    for symbol, (prev, last) in HEADLINE_PRICES.items():
        events.append(Tick(symbol, prev, OPEN_MS, prev_close=prev))
        events.append(Tick(symbol, last, ts))
    for symbol, _, _, _, prev, last in UNIVERSE:
        events.append(Tick(symbol, prev, OPEN_MS, prev_close=prev))
        events.append(Tick(symbol, last, ts))
    return events


class FixedPipeline(Pipeline):
    """Tick age, rate and the machine's date are wall-clock measures: fixed here so snapshots
    are deterministic (the machine's day is the feed's)."""

    def frame(self, view: View = DEFAULT_VIEW) -> Frame:
        f = super().frame(view)
        f.tick_age_s = 0.4 if f.total_ticks else None
        f.ticks_per_s = 1234.0
        f.wall_ms = f.as_of
        return f


def make_pipeline(*, fixed: bool = True, events: Iterable[Event] | None = None) -> Pipeline:
    """A pipeline over a fake feed; feed the events yourself with ``pipeline.handle``."""
    feed = FakeFeed(events or [])
    cls = FixedPipeline if fixed else Pipeline
    return cls(feed, holdings())


def load(pipeline: Pipeline, events: Iterable[Event] | None = None) -> Pipeline:
    for ev in events if events is not None else opening_ticks():
        pipeline.handle(ev)
    return pipeline

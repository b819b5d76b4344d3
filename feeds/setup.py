"""Build the one pipeline the app and every headless command share, from :class:`Settings`."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from feeds.alerts import AlertJournal, WebhookSink, read_recent
from feeds.config import Settings
from feeds.feed import FeedOptions, open_feed
from feeds.levels import LevelEngine
from feeds.levelstore import add_saved_levels
from feeds.pipeline import ALERT_MEMORY, AlertSink, Pipeline, StatusSink
from feeds.symbols import HEADLINE

__all__ = ["add_saved_levels", "build_pipeline", "close_sinks", "drain_webhooks", "level_engine"]

if TYPE_CHECKING:
    from feeds.holdings import Holdings


def load_universe(settings: Settings) -> Holdings:
    """The holdings (bundled or ``settings.holdings``); the sim's padded to ``universe``."""
    from feeds.holdings import load_holdings, pad_universe

    holdings = load_holdings(settings.holdings)
    # Only the sim makes up prices for synthetic names; a real feed would never tick them.
    if settings.feed_name == "sim" and settings.universe > len(holdings.constituents):
        holdings = pad_universe(holdings, settings.universe, settings.seed)
    return holdings


def feed_options(settings: Settings, holdings: Holdings) -> FeedOptions:
    by_weight = sorted(holdings.constituents, key=lambda c: -c.weight)  # stable among equals
    symbols = list(HEADLINE) + [c.symbol for c in by_weight if c.symbol not in HEADLINE]
    return FeedOptions(
        symbols=symbols,
        speed=settings.speed,
        seed=settings.seed,
        universe=settings.universe,
        config=settings.feed_config(),
        env=dict(os.environ),
        stale_after=settings.stale_after,
        holdings=holdings,
    )


def level_engine(settings: Settings) -> LevelEngine:
    engine = LevelEngine(
        [(lv.price, lv.label) for lv in settings.levels if not lv.user],
        hysteresis=settings.hysteresis,
        approach=settings.approach,
    )
    for lv in settings.levels:
        if lv.user:
            engine.add(lv.price, lv.label, user=True)
    return engine


def build_pipeline(
    settings: Settings,
    *,
    extra_alert_sinks: Iterable[AlertSink] = (),
    status_sinks: Iterable[StatusSink] = (),
) -> Pipeline:
    """Holdings, feed, level engine and sinks wired into a :class:`Pipeline` (not started).

    The durable alert log is always a sink, and its latest alerts are loaded into
    ``pipeline.alerts`` so the screen shows earlier alerts after a restart. With
    ``settings.record`` every tick is also written to that CSV. Raises R2KError (one line).
    """
    log = AlertJournal(settings.alert_log)  # first: an unwritable log is a start-up error
    try:
        holdings = load_universe(settings)
        feed = open_feed(settings.feed, feed_options(settings, holdings))
        if settings.record is not None:
            from feeds.recorder import Recorder, RecordingFeed

            feed = RecordingFeed(feed, Recorder(settings.record))
    except BaseException:
        log.close()
        raise
    sinks: list[AlertSink] = [log]
    if settings.webhook:
        sinks.append(WebhookSink(settings.webhook))
    sinks.extend(extra_alert_sinks)
    pipeline = Pipeline(
        feed,
        holdings,
        anchor=settings.anchor,
        levels=level_engine(settings),
        alert_sinks=sinks,
        status_sinks=status_sinks,
    )
    pipeline.alerts.extend(read_recent(settings.alert_log, ALERT_MEMORY))
    return pipeline


async def drain_webhooks(pipeline: Pipeline, drain_timeout: float = 10.0) -> None:
    """Deliver what the webhooks have queued (waiting at most ``drain_timeout`` s), then stop."""
    for sink in pipeline.alert_sinks:
        if isinstance(sink, WebhookSink):
            await sink.aclose(drain_timeout)


async def close_sinks(pipeline: Pipeline, *, drain_timeout: float = 10.0) -> None:
    """Deliver queued webhooks and close the alert log (call once the pipeline has stopped)."""
    await drain_webhooks(pipeline, drain_timeout)
    for sink in pipeline.alert_sinks:
        if isinstance(sink, AlertJournal):
            sink.close()

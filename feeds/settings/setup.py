"""Build the one pipeline the app and every headless command share, from :class:`Settings`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from feeds.alertdesk import ALERT_MEMORY, AlertSink
from feeds.alerting.alerts import (
    AlertJournal,
    CommandSink,
    WebhookSink,
    alert_log_path,
    read_recent,
)
from feeds.alerting.levels import AlertEvent, LevelEngine
from feeds.alerting.levelstore import LevelStore
from feeds.feed import FeedOptions, feed_kind, is_live, open_feed
from feeds.pipeline import Pipeline, StatusSink
from feeds.settings.config import Settings
from feeds.symbols import HEADLINE

__all__ = ["build_pipeline", "close_sinks", "drain_webhooks", "level_engine", "load_saved"]

if TYPE_CHECKING:
    from feeds.feed import Feed
    from feeds.reference.holdings import Holdings
    from feeds.reference.reconcile import Reconciler


def reconcile_holdings(settings: Settings) -> Reconciler:
    """The holdings file (``settings.holdings`` or the bundled one) with its tickers spelt as
    the configured feed spells them, from what is on disk (no network, no credentials): a
    replay file's own symbols, the provider's cached symbol list, else the bundled US listing
    directory. Raises InputFileError (one line)."""
    from feeds.reference.directory import for_feed
    from feeds.reference.holdings_fetch import load_resolved
    from feeds.reference.reconcile import Reconciler

    directories, _ = for_feed(settings.feed_name)
    # --holdings, else the latest fetched file, else the bundled snapshot
    reconciler = Reconciler(load_resolved(settings.holdings), directories)
    if settings.feed_name == "replay":  # a file on disk: its symbols are at hand
        listed = open_feed(settings.feed, FeedOptions()).listed()
        if listed is not None:
            reconciler.prefer(listed)
    return reconciler


def load_universe(settings: Settings, reconciler: Reconciler | None = None) -> Holdings:
    """The reconciled holdings; the sim's padded to ``universe``."""
    from feeds.reference.holdings import pad_universe

    holdings = (reconciler or reconcile_holdings(settings)).result.holdings
    # Only the sim makes up prices for synthetic names; a real feed would never tick them. A
    # terminal on a relay of a padded sim pads the same way (same --universe and --seed).
    padded = settings.feed_name in ("sim", "nats", "tls")
    if padded and settings.universe > len(holdings.constituents):
        holdings = pad_universe(holdings, settings.universe, settings.seed)
    return holdings


def open_reconciled(settings: Settings) -> tuple[Feed, Reconciler, Holdings]:
    """The feed, built with holdings spelt as it spells them: from the feed's own list when it
    has one at hand (a replay file's symbols), else as :func:`reconcile_holdings` does."""
    from feeds.reference.directory import for_feed
    from feeds.reference.holdings_fetch import load_resolved
    from feeds.reference.reconcile import Reconciler

    directories, cache = for_feed(settings.feed_name)
    reconciler = Reconciler(load_resolved(settings.holdings), directories)
    holdings = load_universe(settings, reconciler)
    options = feed_options(settings, holdings)
    options.symbol_cache = cache
    feed = open_feed(settings.feed, options)
    listed = feed.listed()
    if listed is not None:
        reconciler.prefer(listed)
        holdings = load_universe(settings, reconciler)
        again = feed_options(settings, holdings)
        options.holdings, options.symbols = again.holdings, again.symbols
    return feed, reconciler, holdings


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
    """The ^RUT level engine: the technical levels, then the configured ones, each with its
    confirmation (``settings.confirm`` where it names none)."""
    engine = LevelEngine(
        [],
        hysteresis=settings.hysteresis,
        approach=settings.approach,
        feed=feed_kind(settings.feed),
        confirm=settings.confirm,
    )
    for user in (False, True):
        for lv in settings.levels:
            if lv.user == user:
                engine.add(lv.price, lv.label, user=user, confirm=lv.confirm)
    return engine


def spread_engines(settings: Settings) -> dict[str, LevelEngine]:
    """One engine per spread with thresholds (``[[alerts.spread]]``, ``--spread-level``): levels
    in bp, an absolute band of ``spread_band_bp`` and a dwell of ``spread_dwell_s`` (or the
    threshold's own), no approach notices."""
    out: dict[str, LevelEngine] = {}
    for sp in settings.spreads:
        engine = out.get(sp.pair)
        if engine is None:
            engine = out[sp.pair] = LevelEngine(
                [],
                symbol=sp.pair,
                band=settings.spread_band_bp,
                approach=None,
                feed=feed_kind(settings.feed),
                confirm=settings.confirm,
                dwell_ms=round(settings.spread_dwell_s * 1000),
            )
        dwell = None if sp.dwell_s is None else round(sp.dwell_s * 1000)
        engine.add(sp.bp, sp.label, user=False, confirm=sp.confirm, band=sp.band_bp, dwell_ms=dwell)
    return out


def load_saved(pipeline: Pipeline, store: LevelStore) -> str | None:
    """The levels saved from the monitor (after the configured ones) and the mutes, on every
    engine of ``pipeline``. Returns a one-line warning when the file was unreadable."""
    warning = store.load()
    engine = pipeline.desk.levels
    for lv in store.levels:
        level = engine.add(lv.price, lv.label, user=True, confirm=lv.confirm)
        if lv.confirm is not None and level.confirm != lv.confirm:  # a technical level's, set
            engine.set_confirm(lv.price, lv.confirm)  # with + (2642 5m)
    for symbol, level in store.muted:
        pipeline.desk.set_muted(symbol, level, True)
    return warning


def build_pipeline(
    settings: Settings,
    *,
    extra_alert_sinks: Iterable[AlertSink] = (),
    status_sinks: Iterable[StatusSink] = (),
    practice_log: bool = True,
) -> Pipeline:
    """Holdings, feed, level engine and sinks wired into a :class:`Pipeline` (not started).

    Holdings tickers are spelt as the feed spells them (:func:`open_reconciled`); what was
    respelt or is listed nowhere is ``pipeline.reconciler.result.summary()``.

    The durable alert log is always a sink, and its latest alerts are loaded into
    ``pipeline.desk.history`` so the screen shows earlier alerts after a restart. A live feed's
    alerts go to ``settings.alert_log`` (and the webhook); sim and replay alerts go to the
    offline log beside it and never to the webhook, so practice never reaches a live screen or
    a desk's hook. With ``settings.record`` every tick is also written to that CSV. One-line
    notes for the user (holdings coverage, a repaired log) are in ``pipeline.notes``. Raises
    R2KError.

    ``practice_log=False`` keeps a sim or replay run's alerts out of the durable log (``r2k
    record``: nobody watched that run, so its crossings are no trader's history); a live feed's
    alerts are always logged.
    """
    kind = feed_kind(settings.feed)
    live = is_live(kind)
    # first: an unwritable log is a start-up error
    # a live log is split: a terminal on a relay of the sim or a replay fires practice alerts
    log: AlertJournal | None = None
    if live or practice_log:
        log = AlertJournal(alert_log_path(settings.alert_log, kind), split=live)
    try:
        feed, reconciler, holdings = open_reconciled(settings)
        if settings.record is not None:
            from feeds.storage.recorder import RecordingFeed, open_recorder

            # Parquet or CSV by the extension (Parquet when there is none)
            feed = RecordingFeed(feed, open_recorder(settings.record))
    except BaseException:
        if log is not None:
            log.close()
        raise
    sinks: list[AlertSink] = [log] if log is not None else []
    notes = [*holdings_notes(holdings)]
    if log is not None and log.repaired:
        notes.append(log.repaired)
    daily = getattr(getattr(feed, "inner", feed), "daily", None)  # a replay's sidecar
    if getattr(daily, "note", ""):
        notes.append(daily.note)  # inconsistent rows skipped, the rest of the history used
    if settings.webhook and live:
        sinks.append(WebhookSink(settings.webhook, format=settings.webhook_format))
    elif settings.webhook:
        notes.append(f"webhook: not used for {kind} alerts (only a live feed's alerts are posted)")
    # the command, like the webhook, is for a live feed's alerts only
    if settings.command and live:
        sinks.append(CommandSink(settings.command, timeout=settings.command_timeout))
    elif settings.command:
        notes.append(f"command: not run for {kind} alerts (only a live feed's alerts run it)")
    sinks.extend(extra_alert_sinks)
    pipeline = Pipeline(
        feed,
        holdings,
        anchor=settings.anchor,
        levels=level_engine(settings),
        alert_sinks=sinks,
        status_sinks=status_sinks,
        reconciler=reconciler,
        spreads=spread_engines(settings),
        sessions=settings.sessions,
    )
    pipeline.notes.extend(notes)
    # earlier alerts: on a live feed today's (and their acks); on practice, earlier runs' history
    if log is not None:
        pipeline.desk.add_history(read_recent(log.path, ALERT_MEMORY, keep=shown_with(kind)))
    return pipeline


def shown_with(kind: str) -> Callable[[AlertEvent], bool]:
    """Which earlier alerts a screen on a feed of ``kind`` lists: on a live feed, live feeds'
    only (an entry of unknown origin may be a sim's); on the sim or a replay, that kind's."""
    if is_live(kind):
        return lambda a: is_live(a.feed)
    return lambda a: a.feed == kind


def holdings_notes(holdings: Holdings) -> list[str]:
    """The holdings' warnings (duplicates merged, partial coverage) as one-line notes."""
    return list(getattr(holdings, "warnings", ()))


async def drain_webhooks(pipeline: Pipeline, drain_timeout: float = 10.0) -> None:
    """Deliver what the webhooks (and the command) have queued (waiting at most
    ``drain_timeout`` s), then stop."""
    for sink in pipeline.desk.sinks:
        if isinstance(sink, WebhookSink | CommandSink):
            await sink.aclose(drain_timeout)


async def close_sinks(pipeline: Pipeline, *, drain_timeout: float = 10.0) -> None:
    """Deliver queued webhooks and close the alert log (call once the pipeline has stopped)."""
    await drain_webhooks(pipeline, drain_timeout)
    for sink in pipeline.desk.sinks:
        if isinstance(sink, AlertJournal):
            sink.close()

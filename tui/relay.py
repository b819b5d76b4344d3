"""``r2k relay``: run one feed and publish it to NATS (headless; no Textual import).

Status lines go to stderr as JSON, like ``r2k alerts``: the upstream's states (``"kind":
"status"``) and the relay's own link events (``"kind": "relay"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from typing import IO, TYPE_CHECKING

from feeds.alerting.alerts import StatusLineSink
from feeds.errors import R2KError
from feeds.feed import open_feed
from feeds.settings.config import NATS_FEEDS, Settings, default_alert_log
from feeds.settings.setup import feed_options, load_universe
from feeds.sources.relay.link import NatsLink, resolve
from feeds.text import dumps
from feeds.timefmt import iso_ms

if TYPE_CHECKING:
    from feeds.desk.natsd import NatsServer
    from feeds.desk.publisher import Relay
    from feeds.feed import Feed
    from feeds.pipeline import Pipeline
    from feeds.reference.holdings import Holdings

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASS")


class RelayUsageError(R2KError):
    """``r2k relay`` was asked for something it cannot do."""


def say_line(detail: str, out: IO[str] | None = None) -> None:
    """One ``{"kind": "relay", ...}`` JSON line on stderr."""
    stream = out or sys.stderr
    line = {"kind": "relay", "detail": detail, "ts": iso_ms(int(time.time() * 1000))}
    stream.write(dumps(line) + "\n")  # controls and bidi escaped (feeds.text)
    stream.flush()


def upstream_secrets(settings: Settings, env: dict[str, str]) -> list[str]:
    """The upstream's keys (config table and ``R2K_<FEED>_*`` variables), to keep off the wire."""
    name = settings.feed_name.upper()
    out = [
        str(v)
        for k, v in settings.feed_config().items()
        if isinstance(v, str) and any(w in k.upper() for w in _SECRET_WORDS)
    ]
    out += [
        v
        for k, v in env.items()
        if k.startswith(f"R2K_{name}_") and any(w in k[len(name) + 5 :] for w in _SECRET_WORDS)
    ]
    return [s for s in out if s]


def _start_embedded(link: NatsLink) -> NatsServer:

    host, port = link.host_port
    if host not in LOOPBACK:
        raise RelayUsageError(
            f"--embedded runs nats-server on this machine's loopback, not on {host}; "
            "use --nats nats://127.0.0.1:PORT, or drop --embedded to use that server"
        )
    if link.tls:
        raise RelayUsageError("--embedded serves plain nats:// on loopback; drop tls:// or it")
    from feeds.desk.natsd import NatsServer

    store = default_alert_log().parent / f"nats-{port}"
    server = NatsServer(store, host="127.0.0.1", port=port).start()
    say_line(f"started nats-server on {server.url} (JetStream in {store})")
    return server


def run_relay(
    settings: Settings,
    duration: float | None,
    *,
    nats: str | None,
    prefix: str | None,
    embedded: bool,
) -> Pipeline:
    """Publish ``settings.feed`` until ``duration`` s pass or a signal stops it; returns the
    relay's pipeline, whose feed error (a refused key, never connected) the exit status tells.
    Raises KeyboardInterrupt after a clean stop on Ctrl+C, R2KError on a usage error."""
    if settings.feed_name in NATS_FEEDS:
        raise RelayUsageError(
            "r2k relay --feed must be an upstream (sim, replay:PATH, a provider), not a relay"
        )
    env = dict(os.environ)
    link = resolve(nats, prefix=prefix, env=env, config=settings.nats)
    holdings = load_universe(settings)
    feed = open_feed(settings.feed, feed_options(settings, holdings))
    server = _start_embedded(link) if embedded else None
    try:
        say_line(f"terminals: r2k --feed {link.display}")
        relay, interrupted = asyncio.run(_serve(feed, link, holdings, settings, env, duration))
    finally:
        if server is not None:
            server.stop()
    if interrupted:
        raise KeyboardInterrupt  # Ctrl+C: status 130, like every command
    return relay.pipeline


async def _serve(
    feed: Feed,
    link: NatsLink,
    holdings: Holdings,
    settings: Settings,
    env: dict[str, str],
    duration: float | None,
) -> tuple[Relay, bool]:
    """Publish until ``duration`` s pass or a signal stops it: (the relay, whether Ctrl+C did;
    SIGTERM or SIGHUP is a normal stop)."""
    from feeds.desk.publisher import Relay

    relay = Relay(
        feed,
        link,
        holdings=holdings,
        secrets=upstream_secrets(settings, env),
        say=say_line,
    )
    relay.pipeline.health.sinks.append(StatusLineSink())
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    interrupted = []

    def on_interrupt() -> None:
        interrupted.append(True)
        if task is not None:
            task.cancel()

    if task is not None:
        # a terminal closing the pane sends SIGTERM/SIGHUP: stop cleanly (and stop --embedded)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        async with asyncio.timeout(duration):
            await relay.run()
    except (TimeoutError, asyncio.CancelledError):
        pass
    finally:
        say_line(
            f"stopped: {relay.published_ticks:,} ticks in {relay.seq:,} batches published, "
            f"{relay.dropped_batches:,} batches dropped"
        )
    return relay, bool(interrupted)

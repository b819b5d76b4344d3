"""What the provider tests share beyond the fakes: opening a feed for tests, the steps several
providers' tests assert the same way, and ``r2k snapshot`` run end to end against a fake."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
import pytest

from feeds.backoff import Backoff
from feeds.events import FeedState, FeedStatus
from feeds.feed import Feed, FeedOptions, open_feed
from feeds.sources.providers.stream import StreamFeed
from feeds.symbols import HEADLINE
from tests.sources.providers.collector import Collector

F = TypeVar("F", bound=StreamFeed)

# the ETF-only providers' (Alpaca's, Finnhub's) tests: one universe and one fixed clock
ET = ZoneInfo("America/New_York")
#: Thursday 2026-03-05 10:00 New York: a regular session, so "today" has a running daily bar
NOW = int(dt.datetime(2026, 3, 5, 10, 0, tzinfo=ET).timestamp() * 1000)
CONSTITUENTS = [f"C{i:02d}" for i in range(40)] + ["MOG-A"]
SYMBOLS = list(HEADLINE) + CONSTITUENTS


def open_fast(spec: str, options: FeedOptions, kind: type[F], now_ms: int | None = None) -> F:
    """``open_feed`` with reconnects backing off for milliseconds, not seconds, and the clock
    fixed at ``now_ms`` when given."""
    feed = open_feed(spec, options)
    assert isinstance(feed, kind)
    feed.backoff_factory = lambda: Backoff(base=0.01, cap=0.02)
    if now_ms is not None:
        feed.now_ms = lambda: now_ms  # type: ignore[method-assign]
    return feed


async def second_client_refused(make_feed: Callable[[], Feed], text: str) -> FeedStatus:
    """A second client of the same credentials while the first one is LIVE: the second's
    RECONNECTING status naming ``text`` (the refusal), the first left LIVE."""
    async with Collector(make_feed()) as first:
        await first.status(FeedState.LIVE)
        async with Collector(make_feed()) as second:
            refused = await second.status(FeedState.RECONNECTING, text)
            assert first.statuses()[-1].state is FeedState.LIVE  # the first client is unaffected
    return refused


async def reconnected(col: Collector, mark: int) -> FeedStatus:
    """After the server closed a connection (at event ``mark``): RECONNECTING, then LIVE again.
    The RECONNECTING status, which says why."""
    rec = await col.status(FeedState.RECONNECTING, after=mark)
    await col.status(FeedState.LIVE, after=col.events.index(rec))
    return rec


# ---- end to end: the r2k CLI as a subprocess against the fakes ----------------------------------
R2K = Path(sys.executable).with_name("r2k")
CLI = Path(__file__).resolve().parents[3] / "tui" / "cli.py"
needs_r2k = pytest.mark.skipif(
    not (R2K.exists() and CLI.exists()), reason="the r2k console script is not installed"
)


def snapshot_env(home: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """This environment without any R2K_ setting or user config/state, plus ``settings``. The
    disk cache is the run's own (no downloaded symbol list leaks in or out), seeded with the
    developer's NYSE schedule so the run need not rebuild it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("R2K_") and k not in {"XDG_CONFIG_HOME", "XDG_STATE_HOME"}
    }
    mine = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "r2k"
    cache = home / "cache"
    (cache / "r2k").mkdir(parents=True, exist_ok=True)
    for schedule in mine.glob("xnys-*.json"):
        shutil.copy(schedule, cache / "r2k" / schedule.name)
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(cache),
    }
    return env | dict(settings)


async def run_r2k(
    args: list[str], settings: Mapping[str, str], home: Path, within: float = 60
) -> tuple[int, str, str]:
    """``r2k ARGS`` as a subprocess with ``settings`` (see :func:`snapshot_env`): (exit status,
    stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        str(R2K), *args,
        env=snapshot_env(home, settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def snapshot(
    feed: str, settings: Mapping[str, str], home: Path, *secrets: str
) -> dict[str, Any]:
    """``r2k snapshot --feed FEED --duration 3 --json`` with ``settings``: it exits 0, no secret
    shows in its output, and the JSON snapshot it printed."""
    args = ["snapshot", "--feed", feed, "--duration", "3", "--json"]
    status, out, err = await run_r2k(args, settings, home)
    assert status == 0, err
    for secret in secrets:
        assert secret not in out + err
    return orjson.loads(out)


async def alerts(
    feed: str, settings: Mapping[str, str], home: Path, duration: float
) -> list[dict[str, Any]]:
    """``r2k alerts --feed FEED --duration S`` with ``settings``: it exits 0; the JSON alert
    lines it printed on stdout (its durable log is under ``home``'s XDG state dir)."""
    proc = await asyncio.create_subprocess_exec(
        str(R2K), "alerts", "--feed", feed, "--duration", str(duration),
        env=snapshot_env(home, settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60 + duration)
    assert proc.returncode == 0, err.decode()
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def assert_no_piece(text: str, *secrets: str) -> None:
    """Not one piece of any secret, 4 characters or longer, is in ``text`` (issue 8 §6)."""
    for secret in secrets:
        for i in range(len(secret) - 3):
            assert secret[i : i + 4] not in text, (secret[i : i + 4], text)


def assert_spread_100bp(snap: dict[str, Any]) -> None:
    """The snapshot every provider's end-to-end test sets up: ^RUT at 2550 against a 2500 close
    (+2%), ^GSPC at 6060 against 6000 (+1%), so the spread is +100 bp."""
    rut, spx = snap["indices"]["^RUT"], snap["indices"]["^GSPC"]
    assert rut["last"] == pytest.approx(2550.0) and rut["anchor"] == pytest.approx(2500.0)
    assert rut["return"] == pytest.approx(0.02)
    assert spx["last"] == pytest.approx(6060.0) and spx["return"] == pytest.approx(0.01)
    assert snap["spread_bp"]["RUT-SPX"] == pytest.approx(100.0)

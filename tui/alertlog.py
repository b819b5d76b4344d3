"""``r2k alerts log [--since DATE] [--feed live|sim|replay|all] [--json]`` (issue 10): the durable
alert log, as a table or JSON lines, each alert with its acknowledgement and bust.

Live feeds' alerts are in ``alert_log``; the sim's and replays' in the offline log beside it
(:func:`feeds.alerting.alerts.offline_log_path`). The default is live feeds, today (New York date).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import IO

from feeds.alerting.alerts import LogEntry, offline_log_path, read_log
from feeds.alerting.delivery import level_text
from feeds.alerting.levels import AlertEvent
from feeds.errors import ConfigError
from feeds.feed import is_live
from feeds.settings.config import Settings
from feeds.text import clean, dumps
from feeds.timefmt import NEW_YORK, exchange_time, iso_ms

FEED_CHOICES = ("live", "sim", "replay", "all")


def parse_since(text: str | None, now_ms: int) -> int:
    """Epoch ms from ``--since``: a date (``2025-11-05``, midnight New York), a time with an
    offset (``2025-11-05T09:30:00-05:00``), ``today``, ``yesterday`` or ``Nd`` (N days back, from
    midnight). None: today. Raises ConfigError naming the option."""
    today = exchange_time(now_ms).date()
    s = (text or "today").strip().lower()
    m = re.fullmatch(r"(\d{1,4})d", s)
    if s in ("today", "yesterday") or m:
        back = 0 if s == "today" else 1 if s == "yesterday" else int(m.group(1))  # type: ignore[union-attr]
        return _midnight(today - timedelta(days=back))
    try:
        if len(s) == 10:
            return _midnight(date.fromisoformat(s))
        when = datetime.fromisoformat(text.strip())  # type: ignore[union-attr]
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ConfigError(
            f"--since {text!r}: expected a date (2025-11-05), a time with its offset "
            "(2025-11-05T09:30:00-05:00), today, yesterday or 7d"
        )
    return int(when.timestamp() * 1000)


def _midnight(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=NEW_YORK).timestamp() * 1000)


def _keep(which: str) -> Callable[[AlertEvent], bool]:
    if which == "live":
        return lambda a: is_live(a.feed)
    if which == "all":
        return lambda a: True
    return lambda a: a.feed == which


def entries(settings: Settings, which: str, since_ms: int) -> list[LogEntry]:
    """The alerts of feeds ``which`` since ``since_ms`` from the log(s) they are in."""
    paths = []
    if which in ("live", "all"):
        paths.append(settings.alert_log.expanduser())
    if which in ("sim", "replay", "all"):
        paths.append(offline_log_path(settings.alert_log))
    out: list[LogEntry] = []
    notes: list[str] = []
    for path in paths:
        try:
            out += read_log(path, since_ms=since_ms, keep=_keep(which), notes=notes)
        except OSError as e:
            raise ConfigError(
                f"cannot read the alert log '{path}' ({e.strerror or e}); check alert_log"
            ) from None
    for note in notes:  # what was skipped, said once (stdout keeps only the alerts)
        sys.stderr.write(f"r2k: warning: {clean(note, 500)}\n")
    out.sort(key=lambda e: e.alert.ts)
    return out


def entry_dict(e: LogEntry) -> dict[str, object]:
    """An alert as ``r2k alerts`` prints it, with ``acknowledged`` (and when) and ``busted``."""
    d = e.alert.to_dict()
    d["acknowledged"] = e.acknowledged_at is not None
    d["acknowledged_at"] = iso_ms(e.acknowledged_at) if e.acknowledged_at is not None else None
    d["busted"] = e.busted_at is not None
    return d


def entry_line(e: LogEntry) -> list[str]:
    a = e.alert
    what = {"cross": "crossed", "approach": "approaching", "busted": "busted"}.get(a.kind, a.kind)
    state = []
    if a.kind == "cross" and a.confirm != "tick":
        state.append(f"{a.confirm} close")
    if a.estimated:
        state.append("est.")
    if a.muted:
        state.append("muted")
    if e.busted_at is not None:
        state.append("BUSTED")
    if e.acknowledged_at is not None:
        state.append(f"ack {exchange_time(e.acknowledged_at).strftime('%H:%M')}")
    return [
        exchange_time(a.ts).strftime("%Y-%m-%d %H:%M:%S ET"),
        clean(a.feed or "?", 12),
        clean(a.symbol, 10),
        f"{what} {a.direction}",
        level_text(a, a.level),
        level_text(a, a.price),
        clean(a.label, 28),
        " · ".join(state),
    ]


def run_log(
    settings: Settings,
    *,
    since: str | None,
    which: str,
    as_json: bool,
    now_ms: int,
    out: IO[str] | None = None,
) -> int:
    """Print the log. Raises ConfigError for a bad ``--since`` or an unreadable log."""
    since_ms = parse_since(since, now_ms)
    found = entries(settings, which, since_ms)
    stream = out or sys.stdout
    if as_json:
        for e in found:
            stream.write(dumps(entry_dict(e)) + "\n")
    else:
        rows = [entry_line(e) for e in found]
        header = ["TIME", "FEED", "SYMBOL", "ALERT", "LEVEL", "PRICE", "LABEL", "STATE"]
        if rows:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            right = {4, 5}
            for r in [header, *rows]:
                cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in
                         enumerate(zip(r, widths, strict=True))]  # fmt: skip
                stream.write("  ".join(cells).rstrip() + "\n")
    if not found:
        day = exchange_time(since_ms).strftime("%Y-%m-%d %H:%M ET")
        sys.stderr.write(f"r2k: no {which} alerts since {day}\n")
    stream.flush()
    return 0

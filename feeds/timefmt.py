"""Time formatting shared by the headless commands and the app (never on the per-tick path)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def iso_ms(ts_ms: int) -> str:
    """ISO-8601 in UTC with milliseconds, e.g. 2026-11-20T15:30:00.250+00:00."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def exchange_time(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=NEW_YORK)

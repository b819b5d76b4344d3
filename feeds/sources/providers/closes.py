"""Previous closes for providers that stream stocks and ETFs but no index values (Alpaca, Finnhub).

Two jobs, both off the per-tick path:

* pick which REST close is the *previous* close of the session on screen (a snapshot taken in
  Monday's pre-market still calls Thursday the "previous" bar), and
* fetch ^RUT/^GSPC daily closes from Yahoo's keyless chart REST, trimmed to the session of the
  ETF's previous close, so the pipeline's estimate ``^RUT = IWM * k`` (``k`` = index close / ETF
  close) divides two closes of the *same* session. With mismatched sessions ``k`` is off by a
  day's move, and a level alert can fire on a price the index never traded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from feeds.events import DailyCloses
from feeds.market import calendar
from feeds.sources.providers.settings import setting
from feeds.symbols import IWM, RUT, SPX, SPY

YAHOO_REST_URL = "https://query2.finance.yahoo.com"
_FALSE = {"0", "false", "no", "off"}
ESTIMATED = "^RUT/^GSPC estimated from IWM/SPY"

Close = tuple[dt.date, float]
#: the ETF whose ticks the pipeline turns into each index's estimate (feeds.pipeline.ETF_PROXIES)
INDEX_OF_ETF = {IWM: RUT, SPY: SPX}


def reference_session(now_ms: int) -> dt.date | None:
    """The session whose change the screen shows: today from 04:00 ET on a trading day.

    ``None`` overnight, on weekends and holidays: then the last completed session's change is
    shown, as Yahoo does.
    """
    bounds = calendar.session_open_close(now_ms)
    if bounds is None:
        return None
    if now_ms < bounds[0] and calendar.session_phase(now_ms) == "closed":
        return None  # before the pre-market of a trading day
    return calendar.et_date(now_ms)


def pick_prev_close(
    latest: Close | None, before: Close | None, ref: dt.date | None
) -> Close | None:
    """The previous close for session ``ref`` from a provider's two latest daily closes.

    ``latest`` is the newest daily bar (today's running bar once today has traded), ``before`` the
    one before it. When today has no bar yet, the newest bar *is* the previous session.
    """
    if latest is not None and ref is not None and latest[0] < ref:
        return latest
    return before


def session_date(ts_ms: int) -> dt.date:
    """The session date of a provider's daily-bar timestamp.

    Daily bars stamped at midnight UTC (some REST APIs) would fall on the previous ET day.
    """
    if ts_ms % 86_400_000 == 0:
        return dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).date()
    return calendar.et_date(ts_ms)


def previous_session(d: dt.date) -> dt.date:
    """The trading session before date ``d``."""
    noon = int(dt.datetime.combine(d, dt.time(12), calendar.ET).timestamp() * 1000)
    return calendar.previous_sessions(noon, 1)[-1]


class IndexCloses:
    """Fetches ^RUT/^GSPC daily closes for an ETF-only feed; configured per provider.

    ``R2K_<PROVIDER>_INDEX_CLOSES=0`` (or ``index_closes = false``) turns it off; the Yahoo base
    URL comes from ``R2K_YAHOO_REST_URL`` or ``yahoo_rest_url`` in the provider's config table.
    """

    def __init__(self, provider: str, env: Mapping[str, str], config: Mapping[str, Any]) -> None:
        flag = setting(provider, "index_closes", env, config, "on") or "on"
        self.enabled = flag.strip().lower() not in _FALSE
        self.base_url = (
            env.get("R2K_YAHOO_REST_URL")
            or str(config.get("yahoo_rest_url") or "")
            or YAHOO_REST_URL
        )
        self.timeout = 15.0  # whole fetch; it delays streaming, so it must stay short

    async def fetch(self, now_ms: int | None = None) -> dict[str, list[tuple[str, float]]]:
        """Completed daily closes per index (``trim`` them before use). Raises on any failure;
        ``try_fetch`` turns that into a status note."""
        from feeds.sources.providers.yahoo_rest import YahooRest

        yahoo = YahooRest(self.base_url, min_interval=0.0, retries=1)
        try:
            async with asyncio.timeout(self.timeout):
                return {i: (await yahoo.daily(i, now_ms)).closes for i in (RUT, SPX)}
        finally:
            await yahoo.aclose()

    async def try_fetch(
        self, now_ms: int | None = None
    ) -> tuple[dict[str, list[tuple[str, float]]] | None, str]:
        """``fetch`` that never raises: (closes or None, the status note about the estimates)."""
        if not self.enabled:
            return None, f"{ESTIMATED} with a fixed ratio (index closes turned off)"
        try:
            return await self.fetch(now_ms), ESTIMATED
        except Exception as exc:  # any failure only degrades the estimate's ratio
            return None, f"{ESTIMATED} with a fixed ratio (index closes unavailable: {_why(exc)})"


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return text or type(exc).__name__


def trim(
    closes: Mapping[str, list[tuple[str, float]]], cutoffs: Mapping[str, dt.date | None]
) -> list[DailyCloses]:
    """DailyCloses per index with no session after ``cutoffs[index]``."""
    out = []
    for index, rows in closes.items():
        cut = cutoffs.get(index)
        if cut is not None:
            rows = [r for r in rows if r[0] <= cut.isoformat()]
        if rows:
            out.append(DailyCloses(index, rows))
    return out


def cutoffs_for(
    etf_dates: Mapping[str, dt.date | None], ref: dt.date | None
) -> dict[str, dt.date | None]:
    """Per index, the last session whose close may be used: the ETF's previous-close session,
    else the session before ``ref`` (today's running daily row is not a close)."""
    out: dict[str, dt.date | None] = {}
    for etf, index in INDEX_OF_ETF.items():
        d = etf_dates.get(etf)
        if d is None and ref is not None:
            d = previous_session(ref)
        out[index] = d
    return out

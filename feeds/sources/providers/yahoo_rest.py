"""Yahoo chart v8 REST: today's 1-minute bars, daily closes and bars, and the spark
endpoint's closes of many symbols at once.

Used once at start-up, for a handful of symbols: the headline symbols' intraday bars (so charts
are filled and returns are right before the first streamed tick) and a year of daily closes for
^RUT, ^GSPC and MAGS (the outperformance streak and the year-to-date anchor). The chart API needs
no cookie or crumb. Every failure becomes a :class:`ChartError` with one plain line; the feed shows
it as a status detail and streams on.

Wire facts relied on (the reference client yfinance, ``yfinance/scrapers/history.py`` for the URL
and parameters, ``yfinance/data.py`` for errors and ``yfinance/utils.py`` for the shape):

- ``GET https://query2.finance.yahoo.com/v8/finance/chart/{symbol}`` (``^RUT`` path-escaped as
  ``%5ERUT``) with ``range=1d&interval=1m`` or ``range=1y&interval=1d``; no cookie or crumb.
- ``{"chart":{"result":[{"meta":{..},"timestamp":[epoch s, bar start],"indicators":{"quote":
  [{"open","high","low","close","volume"}]}}],"error":null}}``; a minute with no trade is ``null``
  in every array; ``meta.previousClose`` is the prior session's close on intraday ranges
  (``chartPreviousClose`` is the close before the range's first bar).
- Errors: HTTP 404 ``{"chart":{"result":null,"error":{"description":..}}}`` for an unknown symbol,
  422 for a window the interval does not allow, 429 with the plain-text body
  ``Edge: Too Many Requests`` when rate-limited (yfinance raises ``YFRateLimitError``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from feeds.events import Bars, DailyBar, DailyCloses
from feeds.market import calendar
from feeds.sources.providers.http import RestClient, RestError

DEFAULT_REST_URL = "https://query2.finance.yahoo.com"
# Yahoo answers a non-browser User-Agent (curl, Java, python-httpx) with 429 much sooner.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
INTRADAY_PARAMS = {"range": "1d", "interval": "1m", "includePrePost": "false"}
DAILY_PARAMS = {"range": "1y", "interval": "1d", "includePrePost": "false"}


class ChartError(Exception):
    """A chart request failed; ``str()`` is one plain line. ``rate_limited`` after HTTP 429."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


def chart_path(symbol: str) -> str:
    """``/v8/finance/chart/%5ERUT``: the symbol is path-escaped (``^`` -> ``%5E``)."""
    return "/v8/finance/chart/" + quote(symbol, safe="")


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    # a block page is HTML, not a reason worth showing
    if line.startswith("<"):
        return ""
    return line[:limit]


def _error_text(body: Any) -> str:
    """``chart.error.description`` (or ``code``) from an error body, if it has one."""
    if isinstance(body, dict):
        chart = body.get("chart") or body.get("finance")
        if isinstance(chart, dict) and isinstance(chart.get("error"), dict):
            err = chart["error"]
            return _one_line(str(err.get("description") or err.get("code") or ""))
    return ""


def chart_result(symbol: str, body: Any) -> dict[str, Any]:
    """``chart.result[0]`` of a 200 body; ChartError on ``chart.error`` or a bad shape."""
    chart = body.get("chart") if isinstance(body, dict) else None
    if not isinstance(chart, dict):
        raise ChartError(f"{symbol}: unexpected chart response")
    reason = _error_text(body)
    result = chart.get("result")
    if reason or not isinstance(result, list) or not result or not isinstance(result[0], dict):
        raise ChartError(f"{symbol}: {reason or 'no chart data'}")
    return result[0]


def _closes(result: dict[str, Any]) -> list[tuple[int, float]]:
    """(bar start in epoch ms, close) for bars with a close; minutes without trades are null."""
    stamps = result.get("timestamp") or []
    quotes = (result.get("indicators") or {}).get("quote") or [{}]
    closes = (quotes[0] or {}).get("close") or []
    out: list[tuple[int, float]] = []
    for ts, close in zip(stamps, closes, strict=False):
        if isinstance(ts, int | float) and isinstance(close, int | float) and 0 < close < math.inf:
            out.append((int(ts) * 1000, float(close)))
    out.sort()
    return out


def _num(meta: dict[str, Any], key: str) -> float | None:
    v = meta.get(key)
    return float(v) if isinstance(v, int | float) and math.isfinite(v) and v > 0 else None


def _period(meta: dict[str, Any], name: str, edge: str) -> int | None:
    """``currentTradingPeriod.<name>.<edge>`` in epoch seconds, if present."""
    period = (meta.get("currentTradingPeriod") or {}).get(name) or {}
    v = period.get(edge) if isinstance(period, dict) else None
    return int(v) if isinstance(v, int | float) else None


def session_prev_close(meta: dict[str, Any]) -> float | None:
    """The close today's returns are measured from.

    ``previousClose`` (absent on some responses: then ``chartPreviousClose``, which for range=1d
    is the same). Before today's regular session has traded (pre-market), the last regular price
    *is* the previous close: the streamer's ``change`` is measured from it too.
    """
    start = _period(meta, "regular", "start")
    last_time = meta.get("regularMarketTime")
    last = _num(meta, "regularMarketPrice")
    if start is not None and isinstance(last_time, int | float) and last_time < start and last:
        return last
    return _num(meta, "previousClose") or _num(meta, "chartPreviousClose")


def intraday_bars(symbol: str, body: Any) -> Bars:
    """A range=1d, interval=1m response -> Bars with the session's previous close."""
    result = chart_result(symbol, body)
    meta = result.get("meta") or {}
    return Bars(symbol, _closes(result), session_prev_close(meta))


def daily_closes(symbol: str, body: Any, now_ms: int | None = None) -> DailyCloses:
    """A range=1y, interval=1d response -> completed sessions' closes, oldest first.

    Today's row while the session is still trading is not a completed close and is dropped; a
    day Yahoo returns twice (a live row next to the bar) keeps its last value.
    """
    result = chart_result(symbol, body)
    meta = result.get("meta") or {}
    now = int(time.time() * 1000) if now_ms is None else now_ms
    today = calendar.et_date(now)
    end = _period(meta, "regular", "end")
    session_done = end is None or now >= end * 1000
    by_day: dict[str, float] = {}
    for ts, close in _closes(result):
        day = calendar.et_date(ts)
        if day > today or (day == today and not session_done):
            continue
        by_day[day.isoformat()] = close
    return DailyCloses(symbol, sorted(by_day.items()))


class YahooRest:
    """The chart endpoint behind the shared throttled client; errors become ChartError."""

    def __init__(
        self,
        base_url: str = DEFAULT_REST_URL,
        *,
        min_interval: float = 0.25,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = RestClient(
            base_url.rstrip("/"),
            min_interval=min_interval,
            retries=retries,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
        )
        #: set after a 429 that outlasted the retries: further calls would only extend the block
        self.rate_limited = False

    async def aclose(self) -> None:
        await self.client.aclose()

    async def chart(self, symbol: str, params: dict[str, str]) -> Any:
        return await self.get(chart_path(symbol), params, symbol)

    async def get(self, path: str, params: dict[str, str], what: str = "") -> Any:
        """GET ``path`` and decode its JSON (in a worker thread: a daily history since 1987 is
        most of a megabyte); every failure a ChartError naming ``what``."""
        what = what or path
        if self.rate_limited:
            raise ChartError("rate limited by Yahoo (HTTP 429)", rate_limited=True)
        try:
            resp = await self.client.get(path, params)
        except RestError as exc:
            if exc.status == 429:
                self.rate_limited = True
                raise ChartError("rate limited by Yahoo (HTTP 429)", rate_limited=True) from exc
            reason = ""
            if exc.body:
                try:
                    reason = _error_text(orjson.loads(exc.body))
                except orjson.JSONDecodeError:
                    reason = _one_line(exc.body)
            status = f"HTTP {exc.status}" if exc.status else _one_line(str(exc))
            text = f"{what}: {reason} ({status})" if reason else f"{what}: {status}"
            raise ChartError(text) from exc
        try:
            if len(resp.content) < 64 * 1024:
                return orjson.loads(resp.content)
            return await asyncio.to_thread(orjson.loads, resp.content)
        except orjson.JSONDecodeError as exc:
            raise ChartError(f"{what}: malformed JSON from {self.client.base_url}") from exc

    async def intraday(self, symbol: str) -> Bars:
        return intraday_bars(symbol, await self.chart(symbol, INTRADAY_PARAMS))

    async def daily(self, symbol: str, now_ms: int | None = None) -> DailyCloses:
        return daily_closes(symbol, await self.chart(symbol, DAILY_PARAMS), now_ms)


# daily bars as far back as Yahoo has them, and batch closes (spark)
#: chart ranges Yahoo accepts (its validRanges), shortest first, with the days each covers
RANGES = (("1mo", 28), ("3mo", 88), ("6mo", 180), ("1y", 360), ("2y", 725), ("5y", 1820))
SPARK_PATH = "/v8/finance/spark"
#: symbols per spark request: Yahoo answers more with an error [3P, several clients]
SPARK_BATCH = 20


def range_since(since: dt.date | None, today: dt.date) -> str:
    """The shortest chart range reaching back to ``since`` (``max`` for None or beyond 5y)."""
    if since is None:
        return "max"
    days = (today - since).days
    return next((name for name, span in RANGES if days <= span), "max")


def daily_bars(symbol: str, body: Any) -> list[DailyBar]:
    """An ``interval=1d`` chart response -> (date, open, high, low, close) per session, oldest
    first; a day Yahoo returns twice (a live row beside the bar) keeps its last row; rows
    without a close are dropped, a missing open/high/low is None."""
    result = chart_result(symbol, body)
    stamps = result.get("timestamp") or []
    quote = ((result.get("indicators") or {}).get("quote") or [{}])[0] or {}
    columns = [quote.get(k) or [] for k in ("open", "high", "low", "close")]
    by_day: dict[str, DailyBar] = {}
    for k, ts in enumerate(stamps):
        if not isinstance(ts, int | float):
            continue
        o, h, lo, c = (_finite(col[k]) if k < len(col) else None for col in columns)
        if c is None:
            continue
        day = calendar.et_date(int(ts) * 1000).isoformat()
        by_day[day] = (day, o, h, lo, c)
    return [by_day[d] for d in sorted(by_day)]


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and 0 < x < math.inf else None


def spark_closes(body: Any, day: dt.date) -> dict[str, float]:
    """A spark response -> each symbol's close on ``day`` (symbols without one are left out).

    Two shapes are in use: v8 maps each symbol to ``{"timestamp": [...], "close": [...]}``; the
    v7 shape wraps chart results in ``spark.result[].response[0]``. Both are read.
    """
    rows: dict[str, tuple[list[Any], list[Any]]] = {}
    if isinstance(body, dict) and isinstance(body.get("spark"), dict):
        for item in body["spark"].get("result") or []:
            response = (item or {}).get("response") or [{}]
            chart = response[0] or {}
            quote = ((chart.get("indicators") or {}).get("quote") or [{}])[0] or {}
            rows[str(item.get("symbol"))] = (chart.get("timestamp") or [], quote.get("close") or [])
    elif isinstance(body, dict):
        for symbol, item in body.items():
            if isinstance(item, dict):
                rows[str(symbol)] = (item.get("timestamp") or [], item.get("close") or [])
    want = day.isoformat()
    out: dict[str, float] = {}
    for symbol, (stamps, closes) in rows.items():
        for ts, close in zip(stamps, closes, strict=False):
            c = _finite(close)
            stamped = isinstance(ts, int | float)
            if c is not None and stamped and calendar.et_date(int(ts) * 1000).isoformat() == want:
                out[symbol] = c
    return out


class YahooHistory:
    """:class:`~feeds.sources.providers.history.HistorySource` on Yahoo's keyless REST: the chart
    endpoint for index bars (``range=max``, then only the recent range), spark for closes,
    SPARK_BATCH symbols a request. Also what Alpaca and Finnhub use for ^RUT and ^GSPC."""

    batch_size = SPARK_BATCH

    def __init__(self, rest: YahooRest) -> None:
        self.rest = rest

    async def index_bars(self, symbol: str, since: dt.date | None) -> list[DailyBar]:
        today = calendar.et_date(int(time.time() * 1000))
        params = {"range": range_since(since, today), "interval": "1d", "includePrePost": "false"}
        body = await self.rest.chart(symbol, params)
        return await asyncio.to_thread(daily_bars, symbol, body)

    async def session_closes(self, symbols: Sequence[str], day: dt.date) -> dict[str, float]:
        today = calendar.et_date(int(time.time() * 1000))
        # a range that covers the day with a margin (a range counts back from today)
        params = {
            "symbols": ",".join(symbols),
            "range": range_since(day - dt.timedelta(days=7), today),
            "interval": "1d",
        }
        body = await self.rest.get(SPARK_PATH, params, "spark")
        return await asyncio.to_thread(spark_closes, body, day)

"""Each live provider's published list of symbols, downloaded in the background and cached.

* Alpaca: ``GET /v2/assets?status=active&asset_class=us_equity`` on the trading API (the live
  host, then the paper host: a key works on one of them), OTC assets left out;
* Polygon/Massive: ``GET /v3/reference/tickers?market=stocks&active=true&limit=1000``, page
  after page by the ``cursor`` of ``next_url``, preferreds/warrants/rights/units left out;
* Finnhub: ``GET /api/v1/stock/symbol?exchange=US``, OTC (MIC ``OOTC``) and the same
  non-share types left out;
* Yahoo has no such list: NASDAQ Trader's ``nasdaqtraded.txt`` (every US-listed symbol) stands
  in, the same source as the bundled directory.

Every symbol is stored canonical (Yahoo style, ``BRK.B`` -> ``BRK-B``). :func:`refresh` runs as
a feed's background task: it never delays streaming, parses big bodies in a thread, gives up
after a timeout, and on any failure leaves the startup choice (cached or bundled copy) in place
with one status note.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from feeds.feed import Feed
from feeds.reference.directory import DirectoryCache, SymbolDirectory, bundled, parse_nasdaq_trader
from feeds.sources.providers.http import RestClient, RestError
from feeds.symbols import HEADLINE, from_provider

ALPACA_TRADING_URLS = ("https://api.alpaca.markets", "https://paper-api.alpaca.markets")
NASDAQ_TRADER_URL = "https://www.nasdaqtrader.com/dynamic/SymDir"
DOWNLOAD_TIMEOUT = 120.0  # seconds for the whole download (all pages)
POLYGON_PAGE = 1000  # the endpoint's maximum page size
MAX_PAGES = 200  # a runaway cursor stops here
#: Polygon ticker types that are not shares (Massive "Ticker Types" reference)
POLYGON_SKIP = {"PFD", "WARRANT", "RIGHT", "UNIT", "BOND", "SP", "BASKET", "AGEN", "EQLK"}
#: Finnhub security types that are not shares
FINNHUB_SKIP = {"Preference", "Right", "Unit", "Equity WRT", "Warrant"}
OTC_MICS = {"OOTC", "OTCM", "XOTC", "PINX"}

Note = Callable[[str], None]


async def _json(rest: RestClient, path: str, params: dict[str, str]) -> Any:
    """GET and decode JSON in a worker thread: a symbol list is megabytes, too much to parse on
    the event loop."""
    resp = await rest.get(path, params)
    try:
        return await asyncio.to_thread(orjson.loads, resp.content)
    except orjson.JSONDecodeError as exc:
        raise RestError(f"malformed JSON from {rest.base_url}{path}") from exc


async def alpaca_assets(rest: RestClient) -> set[str]:
    """Active US-equity symbols from Alpaca's asset list (the Asset object: ``symbol``,
    ``class``, ``exchange``, ``status``; docs.alpaca.markets "Assets")."""
    rows = await _json(rest, "/v2/assets", {"status": "active", "asset_class": "us_equity"})
    if not isinstance(rows, list):
        raise RestError("unexpected asset list (not a JSON array)")
    return {
        from_provider(str(a["symbol"]).upper(), "dot")
        for a in rows
        if isinstance(a, dict)
        and a.get("symbol")
        and a.get("exchange") != "OTC"
        and a.get("status", "active") == "active"
    }


async def polygon_tickers(
    rest: RestClient, canonical: Callable[[str], str], progress: Note | None = None
) -> set[str]:
    """Active stock tickers from Massive's reference tickers, all pages (``next_url`` carries a
    ``cursor`` that encodes the query; it is followed on ``rest``'s own host)."""
    params = {"market": "stocks", "active": "true", "limit": str(POLYGON_PAGE)}
    out: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        data = await _json(rest, "/v3/reference/tickers", params)
        if not isinstance(data, dict):
            raise RestError("unexpected ticker list (not a JSON object)")
        for r in data.get("results") or ():
            if isinstance(r, dict) and r.get("ticker") and r.get("type") not in POLYGON_SKIP:
                out.add(canonical(str(r["ticker"])))
        cursor = parse_qs(urlsplit(str(data.get("next_url") or "")).query).get("cursor")
        if not cursor:
            return out
        params = {"cursor": cursor[0]}
        if progress is not None:
            progress(f"symbol list page {page + 1}")
    raise RestError(f"ticker list still paging after {MAX_PAGES} pages")


async def finnhub_symbols(rest: RestClient) -> set[str]:
    """US exchange-listed symbols from Finnhub's ``/stock/symbol`` (fields ``symbol``,
    ``type``, ``mic``; finnhub.io/docs/api/stock-symbols)."""
    rows = await _json(rest, "/api/v1/stock/symbol", {"exchange": "US"})
    if not isinstance(rows, list):
        raise RestError("unexpected symbol list (not a JSON array)")
    return {
        from_provider(str(r["symbol"]).upper(), "dot")
        for r in rows
        if isinstance(r, dict)
        and r.get("symbol")
        and r.get("mic") not in OTC_MICS
        and r.get("type") not in FINNHUB_SKIP
    }


async def nasdaq_traded(rest: RestClient) -> tuple[set[str], dt.date | None]:
    """Every US-listed symbol and the file's date from NASDAQ Trader's ``nasdaqtraded.txt``."""
    resp = await rest.get("/nasdaqtraded.txt")
    try:
        return await asyncio.to_thread(parse_nasdaq_trader, resp.text)
    except ValueError as exc:
        raise RestError(f"not a symbol directory file ({exc})") from exc


def respellings(symbols: Iterable[str], directory: SymbolDirectory) -> dict[str, str]:
    """Subscribed symbols that ``directory`` spells otherwise: the reconciliation rule (one
    listed look-alike, none as written) applied to what a feed streams now."""
    out = {}
    for s in symbols:
        if s in HEADLINE or s.startswith("^"):
            continue
        found = directory.match(s)
        if len(found) == 1 and found[0] != s:
            out[s] = found[0]
    return out


async def refresh(
    label: str,
    cache: DirectoryCache,
    fetch: Callable[[], Awaitable[set[str] | tuple[set[str], dt.date | None]]],
    note: Note,
    subscribed: Iterable[str],
    *,
    give_up_after: float = DOWNLOAD_TIMEOUT,
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
) -> SymbolDirectory | None:
    """Download a provider's symbol list into ``cache`` unless the cached
    copy is fresh; returns the new directory, or None when nothing was downloaded.

    ``note`` gets one status line, or "" when there is nothing to say: the download failed or
    timed out (the cached or bundled copy keeps spelling the holdings), or the fresh list spells
    some subscribed symbols otherwise (they stream from the next start). Never raises, except
    CancelledError when the feed closes.
    """
    current = await asyncio.to_thread(cache.load)
    if cache.is_fresh(current, now_ms()):
        return None
    try:
        async with asyncio.timeout(give_up_after):
            got = await fetch()
        symbols, as_of = got if isinstance(got, tuple) else (got, None)
        if not symbols:
            raise RestError("the list came back empty")
    except Exception as exc:  # a download failure only keeps the older spelling source
        using = current.describe() if current is not None else _bundled_name()
        why = "timed out" if isinstance(exc, TimeoutError) else _why(exc)
        note(f"symbol list: {label} unavailable ({why}); holdings spelt by {using}")
        return None
    fresh = SymbolDirectory(label, frozenset(symbols), as_of, now_ms())
    problem = await asyncio.to_thread(cache.save, fresh)
    parts = []
    changed = respellings(subscribed, fresh)
    if changed:
        pairs = ", ".join(f"{a}→{b}" for a, b in list(changed.items())[:8])
        parts.append(
            f"{len(changed)} holding(s) spelt otherwise by {label} ({pairs}): "
            "streamed that way from the next start"
        )
    if problem:
        parts.append(f"symbol list not cached: {problem}")
    note("; ".join(parts))
    return fresh


async def refresh_feed(
    feed: Feed,
    fetch: Callable[[], Awaitable[set[str] | tuple[set[str], dt.date | None]]],
    note: Note,
    *,
    give_up_after: float = DOWNLOAD_TIMEOUT,
) -> SymbolDirectory | None:
    """:func:`refresh` for ``feed``'s own symbol cache and subscription; nothing when the feed
    was built without a cache (tests, a one-off feed)."""
    cache = feed.options.symbol_cache
    if cache is None:
        return None
    return await refresh(
        cache.label, cache, fetch, note, feed.options.symbols, give_up_after=give_up_after
    )


def _bundled_name() -> str:
    try:
        return bundled().describe()
    except Exception:
        return "the file's own spelling"


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return text or type(exc).__name__


async def alpaca_with_fallback(
    urls: Iterable[str], headers: Mapping[str, str], make: Callable[..., RestClient] = RestClient
) -> set[str]:
    """The asset list from the first trading host that accepts the key (live, then paper: an
    Alpaca key belongs to one of them). Raises the last RestError when none does."""
    last: RestError | None = None
    for url in urls:
        rest = make(url, min_interval=0.0, retries=2, headers=dict(headers), timeout=30.0)
        try:
            return await alpaca_assets(rest)
        except RestError as exc:
            if exc.status not in (401, 403):
                raise
            last = exc
        finally:
            await rest.aclose()
    raise last or RestError("no trading API URL to ask")

"""Finnhub websocket trades.

Spec: ``finnhub``. The token rides in the URL (``wss://ws.finnhub.io?token=KEY``; redacted from
every status), each symbol is subscribed with its own message, and the free plan streams about 50
symbols: the headline ETFs (IWM, SPY, MAGS) first, then constituents by weight, up to
``max_symbols``. Finnhub has no index values, so the pipeline estimates ^RUT/^GSPC from IWM/SPY.
Previous closes come from REST ``/api/v1/quote`` (``pc``), throttled to the free plan's 60 calls a
minute: the headline ETFs before streaming starts, the rest in the background.

Wire facts relied on (Finnhub docs, https://finnhub.io/docs/api/websocket-trades and
https://finnhub.io/docs/api/quote; the reference client finnhub-python is REST only):

- ``wss://ws.finnhub.io?token=KEY``; ``{"type":"subscribe","symbol":"AAPL"}``, one per message.
- Trades ``{"type":"trade","data":[{"s":sym,"p":price,"t":epoch ms,"v":volume,"c":[codes as
  strings]}]}``, batched and mixed; ``v`` 0 is a price update, not a trade. ``{"type":"ping"}``
  comes while idle (no reply needed); ``{"type":"error","msg":"Invalid symbol ..."}``.
- REST ``/api/v1/quote?symbol=..`` gives ``pc`` (previous close) and ``t`` in epoch seconds;
  60 calls a minute on the free plan, HTTP 429 past it. One websocket per key.

A trade's conditions (``c``, Finnhub's own codes as strings) decide whether it may set the last
sale and the high/low, through the table in ``feeds/data/finnhub_conditions.json``
(:func:`feeds.market.conditions.load_finnhub`). Finnhub sends no cancels or corrections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from websockets.exceptions import InvalidHandshake

from feeds.events import Bars, Event, Tick
from feeds.feed import Feed, FeedOptions, register
from feeds.market import conditions
from feeds.sources.providers.closes import (
    INDEX_OF_ETF,
    IndexCloses,
    cutoffs_for,
    pick_prev_close,
    previous_session,
    reference_session,
    session_date,
    trim,
)
from feeds.sources.providers.directories import finnhub_symbols, refresh_feed
from feeds.sources.providers.http import RestClient, RestError
from feeds.sources.providers.settings import count_setting, require_secret, setting
from feeds.sources.providers.stream import FatalFeedError, StreamFeed
from feeds.symbols import IWM, MAGS, SPY, from_provider, to_provider

WS_URL = "wss://ws.finnhub.io"
REST_URL = "https://finnhub.io"
# free plan: about 50 symbols (client authors' reports; Finnhub's docs give no figure)
DEFAULT_MAX_SYMBOLS = 50
REST_PER_MINUTE = 60  # free plan: 60 REST calls a minute...
REST_SPACING = 0.05  # ...and at most 30 a second
HEADLINE_ETFS = (IWM, SPY, MAGS)
FIX_TOKEN = "check R2K_FINNHUB_TOKEN (the regular API key, not the sandbox one)"
_TOKEN_WORDS = re.compile(r"(?i)token|api ?key|unauthori[sz]ed|access denied|forbidden")
_LIMIT_WORDS = re.compile(r"(?i)limit|maximum|too many|exceed")


class FinnhubFeed(StreamFeed):
    provider = "finnhub"
    estimates_indices = True
    #: Finnhub pings while idle; a minute without even a ping is a dead socket
    silence_timeout = 60.0

    def __init__(self, spec: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        env, config = options.env, options.config
        self.token = require_secret("finnhub", "token", env, config, what="an API token")
        self.secrets = [self.token]
        self.ws_url = setting("finnhub", "url", env, config, WS_URL) or WS_URL
        self.rest_url = setting("finnhub", "rest_url", env, config, REST_URL) or REST_URL
        self.max_symbols = count_setting("finnhub", "max_symbols", env, config, DEFAULT_MAX_SYMBOLS)
        self.rest_per_minute = count_setting(
            "finnhub", "rest_per_minute", env, config, REST_PER_MINUTE
        )
        self.index_closes = IndexCloses("finnhub", env, config)

        head = [s for s in HEADLINE_ETFS if s in options.symbols] or list(HEADLINE_ETFS)
        wanted = head + [s for s in options.symbols if not s.startswith("^")]
        self._canon: dict[str, str] = {}  # provider symbol -> canonical
        for canon in wanted:
            self._canon.setdefault(to_provider(canon, "dot"), canon)
        self.requested = len(self._canon)
        every = list(self._canon)
        self.symbols = every[: self.max_symbols] if self.max_symbols else every
        self.invalid: list[str] = []  # symbols Finnhub called invalid (from error messages)
        # status-detail parts, in display order
        self._notes: dict[str, str] = dict.fromkeys(
            ("plan", "error", "index", "prev", "symbols", "history"),
            "",  # history
        )
        self._etf_dates: dict[str, dt.date | None] = {}
        self._rest: RestClient | None = None
        self.quote_failures = 0  # quote requests that failed (shown in the status)
        self.sale_conditions = conditions.load_finnhub()  # code -> NOT_LAST / NOT_HIGH_LOW bits

    def _set_notes(self, **parts: str) -> None:
        self._notes.update(parts)
        self.set_note("; ".join(v for v in self._notes.values() if v))

    def _plan_note(self) -> str:
        note = f"subscribed {len(self.symbols)} of {self.requested} symbols"
        if len(self.symbols) < self.requested:
            note += f" (plan cap {self.max_symbols}: R2K_FINNHUB_MAX_SYMBOLS)"
        return note

    # ---- connection ---------------------------------------------------------------------------
    def url(self, shard: int) -> str:
        sep = "&" if "?" in self.ws_url else "?"
        return f"{self.ws_url}{sep}token={self.token}"

    def refusal(self, exc: InvalidHandshake) -> str:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            # Finnhub answers a bad token by refusing the upgrade (Finnhub-API issue #465)
            raise FatalFeedError(f"finnhub rejected the token (HTTP {status}): {FIX_TOKEN}")
        if status == 429:
            return (
                "finnhub refused the connection (HTTP 429): another client is using this "
                "token's only connection, or too many attempts"
            )
        return super().refusal(exc)

    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        # no auth message and no ack: the token was checked on the upgrade
        for sym in self.symbols:
            await ws.send(orjson.dumps({"type": "subscribe", "symbol": sym}).decode())
        self._set_notes(plan=self._plan_note())

    # ---- frames (hot path) ----------------------------------------------------------------------
    def decode(self, raw: str | bytes) -> list[Event]:
        m = orjson.loads(raw)
        kind = m["type"]
        if kind == "trade":
            # a loop, not a comprehension (a function call of its own before Python 3.12): most
            # frames carry one or a few trades
            canon = self._canon
            barred = self.sale_conditions
            out: list[Event] = []
            for d in m["data"]:
                s = d["s"]
                sym = canon.get(s)
                if sym is None:
                    sym = from_provider(s, "dot")
                t = d["t"]
                if t.__class__ is not int:  # always an int from orjson: skip the call
                    t = int(t)
                flags = 0
                if barred and (codes := d.get("c")):
                    for code in codes:
                        f = barred.get(code)
                        if f:
                            flags |= f
                out.append(Tick(sym, float(d["p"]), t, d.get("v"), None, None, flags))
            return out
        if kind == "ping":
            return []
        if kind == "error":
            self._on_error(self.quote(m.get("msg", "")))  # keys masked before the cut
            return []
        if type(kind) is not str:
            raise ValueError("message type is not a string")
        return []  # news and other premium types

    def _on_error(self, msg: str) -> None:
        if _TOKEN_WORDS.search(msg):
            raise FatalFeedError(f"finnhub rejected the token ({msg}): {FIX_TOKEN}")
        if _LIMIT_WORDS.search(msg):
            self._set_notes(
                error=f"finnhub symbol limit ({msg}): lower R2K_FINNHUB_MAX_SYMBOLS "
                f"(now {self.max_symbols})"
            )
            return
        if msg.lower().startswith("invalid symbol"):
            sym = msg[len("invalid symbol") :].strip()
            if sym:
                self.invalid.append(sym)
            count = len(self.invalid) or 1
            self._set_notes(
                error=f"finnhub: {msg}" if count == 1 else f"finnhub: {count} invalid symbols"
            )
            return
        self._set_notes(error=f"finnhub error: {msg}")

    # ---- REST warm-up -------------------------------------------------------------------------
    async def prepare(self) -> list[Event]:
        # the symbol list in the background: it never delays the stream
        self.spawn(refresh_feed(self, self._symbol_list, lambda t: self._set_notes(symbols=t)))
        ref = reference_session(self.now_ms())
        rest = RestClient(
            self.rest_url,
            min_interval=REST_SPACING,
            per_minute=self.rest_per_minute,
            params={"token": self.token},
        )
        head = [s for s in self.symbols if self._canon[s] in HEADLINE_ETFS]
        tail = [s for s in self.symbols if self._canon[s] not in HEADLINE_ETFS]
        # Yahoo is a different host: fetch the index closes while the quotes queue up
        quotes, (closes, index_note) = await asyncio.gather(
            self._quotes(rest, head, ref), self.index_closes.try_fetch(self.now_ms())
        )
        events: list[Event] = []
        if closes is not None:
            events.extend(trim(closes, cutoffs_for(self._etf_dates, ref)))
        # ETF ticks last: the index closes must be in place when the estimate first runs
        events.extend(sorted(quotes, key=lambda ev: type(ev) is Tick))
        self._set_notes(index=index_note)
        if tail:
            self._rest = rest
            self.spawn(self._background_quotes(rest, tail, ref))
        else:
            await rest.aclose()
        self.spawn(self._history(ref))
        return events

    async def _history(self, ref: dt.date | None) -> None:
        """Daily bars (^RUT/^GSPC from Yahoo's chart, each kept to the session of its ETF's
        previous close; MAGS from Finnhub's candles where the plan allows, else Yahoo's chart)
        and the members' YTD anchors from Yahoo's spark batches: Finnhub has no endpoint for
        many symbols, and one candle request per member would take half an hour at the free
        plan's 60 calls a minute. The cache first, refreshed once a day."""
        from feeds.sources.providers.history import run_for_etf_feed

        rest = RestClient(
            self.rest_url,
            min_interval=REST_SPACING,
            per_minute=self.rest_per_minute,
            params={"token": self.token},
        )
        await run_for_etf_feed(
            self,
            "finnhub",
            rest,
            lambda yahoo: FinnhubHistory(rest, yahoo, self.now_ms),
            lambda text: self._set_notes(history=self.quote(text, 300)),
            self._emit,
            self._etf_dates,
            ref,
            self.index_closes.base_url,
        )

    async def _symbol_list(self) -> set[str]:
        # its own client, one request a day: the quotes' client keeps its pace for the quotes
        rest = RestClient(self.rest_url, min_interval=0.0, retries=2, params={"token": self.token})
        try:
            return await finnhub_symbols(rest)
        finally:
            await rest.aclose()

    async def _quotes(
        self, rest: RestClient, symbols: list[str], ref: dt.date | None
    ) -> list[Event]:
        out: list[Event] = []
        for sym in symbols:
            ev = await self._quote(rest, sym, ref)
            if ev is not None:
                out.append(ev)
        return out

    async def _quote(self, rest: RestClient, sym: str, ref: dt.date | None) -> Event | None:
        try:
            q = await rest.get_json("/api/v1/quote", params={"symbol": sym})
        except RestError as exc:
            if exc.status == 401:  # 403 is a per-symbol "no access" on the free plan
                raise FatalFeedError(
                    f"finnhub rejected the token (HTTP {exc.status} on /quote): {FIX_TOKEN}"
                ) from None
            self.quote_failures += 1
            self._set_notes(prev=f"previous close of {sym} unavailable ({exc})")
            return None
        try:
            return self._quote_event(self._canon[sym], q, ref)
        except (KeyError, TypeError, ValueError):
            self.malformed += 1
            return None

    def _quote_event(self, canon: str, q: dict[str, Any], ref: dt.date | None) -> Event | None:
        price, t = float(q["c"]), int(q.get("t") or 0)
        if not price or not t:
            return None  # Finnhub answers an unknown symbol with all zeros
        ts = t * 1000
        day = session_date(ts)
        pc = float(q["pc"] or 0)
        prev = pick_prev_close((day, price), (previous_session(day), pc) if pc else None, ref)
        if canon in INDEX_OF_ETF:
            self._etf_dates[canon] = prev[0] if prev else None
            return Tick(canon, price, ts, prev_close=prev[1] if prev else None)
        return Bars(canon, [(ts, price)], prev[1] if prev else None)

    async def _background_quotes(
        self, rest: RestClient, symbols: list[str], ref: dt.date | None
    ) -> None:
        try:
            for n, sym in enumerate(symbols):
                if n % 10 == 0:
                    self._set_notes(prev=f"previous closes {n}/{len(symbols)}")
                ev = await self._quote(rest, sym, ref)
                if ev is not None:
                    self._emit([ev])  # as each arrives: returns fill in over the first minute
            failed = self.quote_failures
            self._set_notes(prev=f"{failed} previous closes unavailable" if failed else "")
        except FatalFeedError as exc:
            self._set_notes(prev=str(exc))
        finally:
            await rest.aclose()
            self._rest = None

    async def aclose(self) -> None:
        await super().aclose()
        if self._rest is not None:
            await self._rest.aclose()
            self._rest = None


# daily candles
CANDLE_PATH = "/api/v1/stock/candle"


class FinnhubHistory:
    """:class:`~feeds.sources.providers.history.HistorySource`: Finnhub's daily candles
    (``/api/v1/stock/candle?resolution=D``: parallel ``o h l c t`` arrays, ``s`` "ok" or
    "no_data") for MAGS, falling back to Yahoo's chart when the plan refuses candles (HTTP 403,
    the free plan today); ^RUT/^GSPC and the members' closes (spark) from Yahoo."""

    def __init__(self, rest: RestClient, yahoo: Any, now_ms: Callable[[], int]) -> None:
        self.rest = rest
        self.yahoo = yahoo  # a YahooHistory
        self.batch_size = yahoo.batch_size
        self.now_ms = now_ms
        self.candles_refused = False

    async def index_bars(self, symbol: str, since: dt.date | None) -> list[Any]:
        if symbol.startswith("^") or self.candles_refused:
            return await self.yahoo.index_bars(symbol, since)
        from feeds.sources.providers.history import HISTORY_START

        start = since or dt.date.fromisoformat(HISTORY_START)
        frm = int(dt.datetime.combine(start, dt.time(0), dt.UTC).timestamp())
        params = {
            "symbol": to_provider(symbol, "dot"),
            "resolution": "D",
            "from": str(frm),
            "to": str(self.now_ms() // 1000),
        }
        try:
            data = await self.rest.get_json(CANDLE_PATH, params)
        except RestError as exc:
            if exc.status not in (401, 403):
                raise
            self.candles_refused = True  # not in this plan: Yahoo's keyless chart instead
            return await self.yahoo.index_bars(symbol, since)
        if not isinstance(data, dict) or data.get("s") == "no_data":
            return []
        if data.get("s") != "ok":
            raise ValueError(f"candles status {data.get('s')!r}")
        out = []
        for t, o, h, lo, c in zip(
            data["t"], data["o"], data["h"], data["l"], data["c"], strict=True
        ):
            day = session_date(int(t) * 1000).isoformat()
            out.append((day, _pos(o), _pos(h), _pos(lo), float(c)))
        return out

    async def session_closes(self, symbols: Sequence[str], day: dt.date) -> dict[str, float]:
        return await self.yahoo.session_closes(symbols, day)


def _pos(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and x > 0 else None


@register("finnhub")
def open_finnhub(spec: str, arg: str, options: FeedOptions) -> Feed:
    return FinnhubFeed(spec, options)


__all__ = ["FinnhubFeed", "open_finnhub"]

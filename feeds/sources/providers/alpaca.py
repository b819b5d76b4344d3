"""Alpaca market-data stream v2 for stocks, JSON wire format.

Spec: ``alpaca`` / ``alpaca:iex`` (free Basic plan), ``alpaca:sip`` (paid), ``alpaca:delayed_sip``,
``alpaca:test`` (the 24/7 ``FAKEPACA`` test stream, for checking keys).

The Basic plan streams trades for about 30 symbols, so trades go to the headline ETFs (IWM, SPY,
MAGS) and the top constituents up to ``max_trades``; every other name gets minute bars, turned
into one tick at each bar's close. Alpaca has no index values: the pipeline estimates ^RUT/^GSPC
from IWM/SPY (``estimates_indices``), with the ratio from the indices' own closes (closes.py).
Previous closes come from the REST snapshot endpoint before streaming starts.

Wire facts relied on (Alpaca docs, "Real-time stock pricing data" and "Streaming market data",
https://docs.alpaca.markets/docs/real-time-stock-pricing-data; the reference client alpaca-py,
``alpaca/data/live/websocket.py`` and ``alpaca/data/mappings.py``):

- URL ``wss://stream.data.alpaca.markets/v2/{iex|sip|delayed_sip|test}``; the upgrade header
  ``Content-Type: application/json`` selects JSON text frames (alpaca-py asks for msgpack).
- Every server message is a JSON array. On connect ``[{"T":"success","msg":"connected"}]``; auth
  with ``{"action":"auth","key":..,"secret":..}`` within 10 s, answered ``"authenticated"``;
  ``{"action":"subscribe","trades":[..],"bars":[..]}`` is answered with the whole current set.
- Trade ``{"T":"t","S":sym,"p":price,"s":size,"t":RFC-3339 with ns,"c":[conditions],"i":id}``;
  minute bar ``{"T":"b","S":..,"o","h","l","c","v","t": bar start}``; corrections ``"c"`` and
  cancels ``"x"`` come with the trades subscription.
- Errors ``[{"T":"error","code":N,"msg":..}]``: 402 auth failed, 405 symbol limit exceeded (the set
  is left unchanged), 406 connection limit exceeded, 409 insufficient subscription (alpaca-py
  stops for good). One connection per endpoint on most plans; Basic streams IEX, 30 symbols.
- No previous close in the stream: REST ``/v2/stocks/snapshots`` ``prevDailyBar``.

A trade's conditions (``c``: the SIPs' letters, CTA's on tapes A/B and UTP's on tape C) decide
whether it may set the last sale and the high/low (:mod:`feeds.market.conditions`); cancels and
errors
(``T: "x"``) and corrections (``T: "c"``), which Alpaca sends with every trade subscription,
become :class:`~feeds.events.TradeCancel` and :class:`~feeds.events.TradeCorrection`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from websockets.exceptions import InvalidHandshake

from feeds.errors import FeedSpecError
from feeds.events import Bars, Event, Tick, TradeCancel, TradeCorrection
from feeds.feed import Feed, FeedOptions, register
from feeds.market import conditions
from feeds.secrets import server_text
from feeds.sources.providers.closes import (
    INDEX_OF_ETF,
    IndexCloses,
    cutoffs_for,
    pick_prev_close,
    reference_session,
    session_date,
    trim,
)
from feeds.sources.providers.directories import (
    ALPACA_TRADING_URLS,
    alpaca_with_fallback,
    refresh_feed,
)
from feeds.sources.providers.http import RestClient, RestError
from feeds.sources.providers.settings import count_setting, require_secret, setting
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError, StreamFeed
from feeds.symbols import IWM, MAGS, SPY, from_provider, to_provider

FEEDS = ("iex", "sip", "delayed_sip", "test")
WS_URL = "wss://stream.data.alpaca.markets/v2/{feed}"
REST_URL = "https://data.alpaca.markets"
#: symbols with trades per plan when ``max_trades`` is not set (0 = no cap). Basic (IEX) allows
#: 30 symbols for trades+quotes on Basic (Alpaca's plan page); delayed SIP is assumed to share
#: the Basic limit.
DEFAULT_TRADE_CAP = {"iex": 30, "delayed_sip": 30, "sip": 0, "test": 0}
HEADLINE_ETFS = (IWM, SPY, MAGS)
TEST_SYMBOL = "FAKEPACA"
SNAPSHOT_BATCH = 100  # symbols per snapshot request (keeps the URL short)
HANDSHAKE_TIMEOUT = 10.0  # Alpaca itself drops a session that has not authenticated in 10 s
BAR_MS = 60_000
_TICKER = re.compile(r"^[A-Z0-9.]{1,12}$")  # anything else earns a 400 for the whole request


# ---- RFC-3339 timestamps --------------------------------------------------------------------
# Alpaca stamps trades ``2026-09-15T11:01:53.291535755Z`` (UTC, nanoseconds, Go's RFC3339Nano:
# trailing zeros dropped). The date changes once a day and the second once a second, so both are
# memoised: a stamp in an already-seen second costs one dict hit and one more for the
# milliseconds; a new second costs the time of day (three two-digit lookups) plus the day's
# cached midnight; only a new day, an offset or an odd layout takes the validating regex.
_EPOCH_DAY = dt.date(1970, 1, 1)
_CACHE_MAX = 20_000
_day_cache: dict[str, int] = {}  # "YYYY-MM-DD" -> epoch ms of its midnight (UTC)
_second_cache: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS." -> epoch ms of that second (UTC)
_HOUR = {f"{k:02d}": k * 3_600_000 for k in range(24)}
_MINUTE = {f"{k:02d}": k * 60_000 for k in range(60)}
_SECOND = {f"{k:02d}": k * 1_000 for k in range(60)}
_MILLIS = {f"{k:03d}": k for k in range(1000)}
_STAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
).fullmatch


def rfc3339_ms(s: str) -> int:
    """Epoch ms of an RFC-3339 time with any fraction (Alpaca sends ns) and ``Z`` or an offset.

    Truncates to the millisecond, like every other feed's timestamps; raises ValueError on
    anything else. The hot path (inlined in :meth:`AlpacaFeed.decode`): a UTC stamp in an
    already-seen second is a dict hit on ``YYYY-MM-DDTHH:MM:SS.`` plus the milliseconds; digits
    after the milliseconds are not looked at there.
    """
    base = _second_cache.get(s[:20])
    if base is not None and s[-1] == "Z":
        ms = _MILLIS.get(s[20:23])
        if ms is not None:
            return base + ms
    return _rfc3339_new_second(s)


def _day_ms(day: str) -> int:
    """Epoch ms of midnight UTC of ``YYYY-MM-DD`` (validated), memoised."""
    ms = _day_cache.get(day)
    if ms is None:
        if len(day) != 10 or not day.isascii():
            raise ValueError(f"not an RFC-3339 date: {day!r}")
        ms = (dt.date.fromisoformat(day) - _EPOCH_DAY).days * 86_400_000
        if len(_day_cache) >= 1_000:
            _day_cache.clear()
        _day_cache[day] = ms
    return ms


def _rfc3339_new_second(s: str) -> int:
    """A stamp whose second is not cached: Alpaca's own layout from the day's cached midnight
    and the time of day, then the second is cached; anything else through :func:`_rfc3339_any`.
    """
    # "YYYY-MM-DDTHH:MM:SS.fff...Z": the separators sit every third character from the 5th
    if len(s) >= 24 and s[4:20:3] == "--T::." and s[-1] == "Z" and s.isascii():
        h = _HOUR.get(s[11:13])
        mi = _MINUTE.get(s[14:16])
        se = _SECOND.get(s[17:19])
        ms = _MILLIS.get(s[20:23])
        if (
            h is not None
            and mi is not None
            and se is not None
            and ms is not None
            and (len(s) == 24 or s[23:-1].isdigit())
        ):
            day = _day_cache.get(s[:10])
            if day is None:
                day = _day_ms(s[:10])
            base = day + h + mi + se
            if len(_second_cache) >= _CACHE_MAX:
                _second_cache.clear()
            _second_cache[s[:20]] = base
            return base + ms
    return _rfc3339_any(s)


def _rfc3339_any(s: str) -> int:
    """The general parser (any fraction length, ``T``/``t``/space, ``Z``/``z`` or an offset);
    validates the whole text."""
    m = _STAMP(s)
    if m is None:
        raise ValueError(f"not an RFC-3339 time: {s!r}")
    day, hh, mm, ss, frac, sign, oh, om = m.groups()
    h, mi, se = int(hh), int(mm), int(ss)
    if h > 23 or mi > 59 or se > 59:
        raise ValueError(f"not an RFC-3339 time: {s!r}")
    ms = _day_ms(day) + (h * 3600 + mi * 60 + se) * 1000
    if frac is not None:
        ms += int((frac + "00")[:3])
    if sign is not None:
        oh_, om_ = int(oh), int(om)
        if oh_ > 23 or om_ > 59:
            raise ValueError(f"bad offset in {s!r}")
        offset = (oh_ * 60 + om_) * 60_000
        ms = ms - offset if sign == "+" else ms + offset
    return ms


# ---- errors (the docs' table) -------------------------------------------------------------------
class SymbolLimitError(RetryFeedError):
    """405: the subscription asked for more symbols than the plan allows (set left unchanged)."""


def _server_error(code: Any, text: str, feed: str) -> Exception:
    """The exception for an Alpaca ``{"T":"error"}`` message: fatal, retry, or symbol limit.

    ``text`` is the server's message already made safe to show (keys masked, then cut).
    """
    what = f"{code} {text}"
    if code == 402:
        return FatalFeedError(
            f"alpaca rejected the key ({what}): check R2K_ALPACA_KEY and R2K_ALPACA_SECRET"
        )
    if code == 409:
        return FatalFeedError(
            f"alpaca plan does not include the {feed} feed ({what}): "
            "use --feed alpaca:iex or upgrade the market-data plan"
        )
    if code == 408:
        return FatalFeedError(f"alpaca account lacks market data v2 ({what}): enable it")
    if code == 410:
        return FatalFeedError(f"alpaca refused the subscription for the {feed} feed ({what})")
    if code == 400:
        # our own request is malformed: retrying the same subscription would loop forever
        return FatalFeedError(
            f"alpaca could not parse the subscription ({what}): a symbol may be malformed"
        )
    if code == 405:
        return SymbolLimitError(f"alpaca symbol limit ({what})")
    if code == 406:
        return RetryFeedError(
            f"alpaca allows one connection per key ({what}): another client (a second r2k, a "
            "notebook, a bot) is using it"
        )
    if code == 407:
        return RetryFeedError(f"alpaca dropped us as a slow client ({what}): the machine is busy")
    if code == 404:
        return RetryFeedError(f"alpaca timed out our login ({what})")
    if code in (401, 403):
        return RetryFeedError(f"alpaca session out of step ({what})")
    return RetryFeedError(f"alpaca error {what}")


# ---- the feed ------------------------------------------------------------------------------


class AlpacaFeed(StreamFeed):
    provider = "alpaca"
    estimates_indices = True
    #: bars arrive each minute mark and IEX trades can pause for a minute in extended hours
    silence_timeout = 90.0

    def __init__(self, spec: str, feed: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        env, config = options.env, options.config
        self.feed_name = feed
        self.key = require_secret("alpaca", "key", env, config, what="an API key id")
        self.secret = require_secret("alpaca", "secret", env, config, what="an API secret key")
        self.secrets = [self.key, self.secret]
        self.ws_url = setting("alpaca", "url", env, config, WS_URL) or WS_URL
        self.rest_url = setting("alpaca", "rest_url", env, config, REST_URL) or REST_URL
        # the asset list lives on the trading API: one URL when overridden, else live then paper
        trading = setting("alpaca", "trading_url", env, config)
        self.trading_urls = (trading,) if trading else ALPACA_TRADING_URLS
        self.trade_cap = count_setting("alpaca", "max_trades", env, config, DEFAULT_TRADE_CAP[feed])
        self.bar_cap: int | None = None  # set only if Alpaca caps bars too (405 again)
        self.index_closes = IndexCloses("alpaca", env, config)
        # the SIPs' letters -> last-sale eligibility (Massive's listing maps them: the same rules)
        self.sale_conditions = conditions.load_massive(
            conditions.cache_dir(env) / conditions.MASSIVE_FILE
        )

        self._canon: dict[str, str] = {}  # provider symbol -> canonical
        self.symbols: list[str] = []  # provider symbols, trades first (priority order)
        if feed == "test":
            wanted = [TEST_SYMBOL]
        else:
            head = [s for s in HEADLINE_ETFS if s in options.symbols] or list(HEADLINE_ETFS)
            wanted = head + [s for s in options.symbols if not s.startswith("^")]
        self.skipped: list[str] = []  # symbols Alpaca cannot take (would fail the whole request)
        for canon in wanted:
            p = to_provider(canon, "dot")
            if p in self._canon:
                continue
            if _TICKER.match(p):
                self._canon[p] = canon
                self.symbols.append(p)
            else:
                self.skipped.append(canon)
        self.trades: list[str] = []
        self.bars: list[str] = []
        self._plan()

        self._control: str | None = None  # last {"T":"success"} msg
        self._ack: dict[str, Any] | None = None  # last {"T":"subscription"} message
        # status-detail parts, in display order
        self._notes: dict[str, str] = dict.fromkeys(
            ("plan", "limit", "index", "prev", "symbols", "history"), ""
        )
        self._etf_dates: dict[str, dt.date | None] = {}
        self._rest: RestClient | None = None
        self._snap_error = ""  # why a snapshot request failed, kept for the status

    # ---- subscription plan ----------------------------------------------------------------
    def _plan(self) -> None:
        cap = self.trade_cap or len(self.symbols)
        self.trades = self.symbols[:cap]
        rest = self.symbols[cap:]
        self.bars = rest if self.bar_cap is None else rest[: self.bar_cap]

    def _plan_note(self) -> str:
        dropped = len(self.symbols) - len(self.trades) - len(self.bars)
        note = f"{self.feed_name}: trades for {len(self.trades)} symbols"
        if self.bars:
            note += f", minute bars for {len(self.bars)}"
        if dropped:
            note += f", {dropped} not streamed (plan symbol limit)"
        if self.skipped:
            note += f", {len(self.skipped)} skipped (not Alpaca tickers)"
        return note

    def _shrink(self) -> bool:
        """After a 405: halve the trade subscription (the rest move to bars); once trades are
        down to the headline ETFs, halve the bars. False when nothing is left to cut."""
        floor = max(1, sum(1 for s in HEADLINE_ETFS if s in self._canon))
        if len(self.trades) > floor:
            self.trade_cap = max(floor, len(self.trades) // 2)
        elif self.bars:
            self.bar_cap = len(self.bars) // 2
        else:
            return False
        self._plan()
        return True

    def _set_notes(self, **parts: str) -> None:
        self._notes.update(parts)
        self.set_note("; ".join(v for v in self._notes.values() if v))

    # ---- connection ---------------------------------------------------------------------------
    def url(self, shard: int) -> str:
        # an override is used as is; a "{feed}" placeholder in it is replaced like the default's
        return self.ws_url.replace("{feed}", self.feed_name)

    def connect_kwargs(self) -> dict[str, Any]:
        # JSON text frames (alpaca-py asks for msgpack); big subscription acks and bursts fit
        return {"additional_headers": {"Content-Type": "application/json"}, "max_size": 1 << 23}

    def refusal(self, exc: InvalidHandshake) -> str:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            raise FatalFeedError(
                f"alpaca rejected the key (HTTP {status}): check R2K_ALPACA_KEY and "
                "R2K_ALPACA_SECRET"
            )
        if status == 404:
            raise FatalFeedError(
                f"alpaca has no {self.feed_name} stream at this URL (HTTP 404): check the feed "
                "spec or R2K_ALPACA_URL"
            )
        if status == 429:
            return (
                "alpaca refused the connection (HTTP 429): another session, or a stale one, "
                "still holds this key's connection"
            )
        return super().refusal(exc)

    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        self._control = None
        await self._expect(ws, lambda: self._control == "connected", "greeting")
        await ws.send(
            orjson.dumps({"action": "auth", "key": self.key, "secret": self.secret}).decode()
        )
        await self._expect(ws, lambda: self._control == "authenticated", "reply to the login")
        limited = False
        while True:
            msg = {"action": "subscribe", "trades": self.trades, "bars": self.bars}
            self._ack = None
            await ws.send(orjson.dumps(msg).decode())
            try:
                await self._expect(ws, lambda: self._ack is not None, "subscription ack")
                break
            except SymbolLimitError as exc:
                # the server left the subscription unchanged: ask again for fewer symbols
                limited = True
                if not self._shrink():
                    raise FatalFeedError(
                        f"{exc} even for {len(self.trades)} symbols: check the plan"
                    ) from None
        self._set_notes(plan=self._plan_note())
        if limited:  # kept across reconnects: the smaller plan stays in force
            self._set_notes(limit="cut to fit the plan's symbol limit (405)")

    async def _expect(self, ws: Any, done: Callable[[], bool], what: str) -> None:
        """Read frames until ``done()``; data that arrives meanwhile is delivered as usual."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + HANDSHAKE_TIMEOUT
        while not done():
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise RetryFeedError(
                    f"alpaca sent no {what} within {HANDSHAKE_TIMEOUT:.0f} s"
                ) from None
            self._ingest(raw)

    # ---- frames (hot path) ----------------------------------------------------------------------
    def decode(self, raw: str | bytes) -> list[Event]:
        out: list[Event] = []
        canon = self._canon
        seconds = _second_cache
        millis = _MILLIS
        cta, utp = self.sale_conditions.cta, self.sale_conditions.utp
        msgs = orjson.loads(raw)
        if msgs.__class__ is not list:  # every Alpaca message is an array (docs)
            raise ValueError("not a JSON array")
        for m in msgs:
            kind = m["T"]
            if kind == "t":
                s = m["S"]
                t = m["t"]
                # rfc3339_ms's fast path inlined: a UTC stamp in an already-seen second
                base = seconds.get(t[:20])
                if base is not None and t[-1] == "Z" and (ms := millis.get(t[20:23])) is not None:
                    ts = base + ms
                else:
                    ts = _rfc3339_new_second(t)
                sym = canon.get(s)
                if sym is None:
                    sym = from_provider(s, "dot")
                flags = 0
                codes = m.get("c")
                if codes:
                    letters = utp if m.get("z") == "C" else cta
                    for code in codes:
                        f = letters.get(code)
                        if f:
                            flags |= f
                out.append(Tick(sym, float(m["p"]), ts, m.get("s"), None, None, flags, m.get("i")))
            elif kind == "b":
                # a minute bar is stamped with its start; the close price belongs to its end
                s = m["S"]
                out.append(
                    Tick(
                        canon.get(s) or from_provider(s, "dot"),
                        float(m["c"]),
                        rfc3339_ms(m["t"]) + BAR_MS,
                        m.get("v"),
                    )
                )
            elif kind == "x":
                s = m["S"]
                out.append(
                    TradeCancel(
                        canon.get(s) or from_provider(s, "dot"),
                        m["i"],
                        float(m["p"]),
                        rfc3339_ms(m["t"]),
                        error=m.get("a") == "E",
                    )
                )
            elif kind == "c":
                s = m["S"]
                letters = utp if m.get("z") == "C" else cta
                out.append(
                    TradeCorrection(
                        canon.get(s) or from_provider(s, "dot"),
                        m["oi"],
                        float(m["cp"]),
                        rfc3339_ms(m["t"]),
                        size=m.get("cs"),
                        sale_flags=conditions.flags_of(m.get("cc") or (), letters),
                        new_id=m.get("ci"),
                        original_price=float(m["op"]) if m.get("op") is not None else None,
                    )
                )
            elif kind == "success":
                self._control = m.get("msg")
            elif kind == "subscription":
                self._ack = m
            elif kind == "error":
                # keys masked before the cut: a key echoed across it must not leave its start
                raise _server_error(m.get("code"), self.quote(m.get("msg", "")), self.feed_name)
            elif type(kind) is not str:
                raise ValueError("message type is not a string")
            # quotes, statuses, LULDs: not used by r2k
        return out

    # ---- REST warm-up -------------------------------------------------------------------------
    async def prepare(self) -> list[Event]:
        if self.feed_name == "test":
            self._set_notes(index="no ^RUT/^GSPC on the test stream")
            return []
        # the asset list in the background: it never delays the stream
        headers = {"APCA-API-KEY-ID": self.key, "APCA-API-SECRET-KEY": self.secret}
        self.spawn(
            refresh_feed(
                self,
                lambda: alpaca_with_fallback(self.trading_urls, headers),
                lambda text: self._set_notes(symbols=text),
            )
        )
        ref = reference_session(self.now_ms())
        rest = RestClient(
            self.rest_url,
            min_interval=0.3,  # Basic plan: 200 REST calls a minute
            retries=2,
            headers={"APCA-API-KEY-ID": self.key, "APCA-API-SECRET-KEY": self.secret},
        )
        batches = [
            self.symbols[i : i + SNAPSHOT_BATCH]
            for i in range(0, len(self.symbols), SNAPSHOT_BATCH)
        ]
        # the first batch holds the headline ETFs and the traded names: needed before streaming
        snap, (closes, index_note) = await asyncio.gather(
            self._snapshot_events(rest, batches[0] if batches else [], ref),
            self.index_closes.try_fetch(self.now_ms()),
        )
        events: list[Event] = []
        if closes is not None:
            events.extend(trim(closes, cutoffs_for(self._etf_dates, ref)))
        events.extend(snap)
        self._set_notes(index=index_note)
        if len(batches) > 1:
            self._rest = rest
            self.spawn(self._more_snapshots(rest, batches[1:], ref))
        else:
            await rest.aclose()
        if closes is None and self.index_closes.enabled:
            self.spawn(self._retry_index_closes(ref))
        self.spawn(self._history(ref))
        return events

    async def _history(self, ref: dt.date | None) -> None:
        """Daily bars (^RUT/^GSPC from Yahoo's chart, each kept to the session of its ETF's
        previous close; MAGS from Alpaca's bars) and the members' YTD anchors from Alpaca's
        multi-symbol bars, 100 symbols a request; the cache first, refreshed once a day."""
        from feeds.sources.providers.history import run_for_etf_feed

        rest = RestClient(
            self.rest_url,
            min_interval=0.3,  # Basic plan: 200 REST calls a minute
            retries=2,
            headers={"APCA-API-KEY-ID": self.key, "APCA-API-SECRET-KEY": self.secret},
        )
        await run_for_etf_feed(
            self,
            "alpaca",
            rest,
            lambda yahoo: AlpacaHistory(rest, yahoo, self.feed_name, self.now_ms),
            lambda text: self._set_notes(history=self.quote(text, 300)),
            self._emit,
            self._etf_dates,
            ref,
            self.index_closes.base_url,
        )

    async def _snapshot_events(
        self, rest: RestClient, batch: list[str], ref: dt.date | None
    ) -> list[Event]:
        if not batch:
            return []
        try:
            data = await rest.get_json(
                "/v2/stocks/snapshots", params={"symbols": ",".join(batch), "feed": self.feed_name}
            )
        except RestError as exc:
            if exc.status == 401:
                raise FatalFeedError(
                    "alpaca rejected the key (HTTP 401 on snapshots): check R2K_ALPACA_KEY and "
                    "R2K_ALPACA_SECRET"
                ) from None
            self._snap_error = _rest_reason(exc, self.secrets)
            self._set_notes(prev=f"previous closes unavailable ({self._snap_error})")
            return []
        if not isinstance(data, dict):
            self._snap_error = "unexpected snapshot reply"
            self._set_notes(prev=f"previous closes unavailable ({self._snap_error})")
            return []
        events: list[Event] = []
        ticks: list[Event] = []
        for sym in batch:
            snap = data.get(sym)
            if not isinstance(snap, dict):
                continue
            try:
                ev = self._snapshot_event(self._canon[sym], snap, ref)
            except (KeyError, TypeError, ValueError):
                self.malformed += 1
                continue
            # ETF ticks go last so the index closes and every prev close are in place first
            (ticks if type(ev) is Tick else events).append(ev)
        return events + ticks

    def _snapshot_event(self, canon: str, snap: dict[str, Any], ref: dt.date | None) -> Event:
        def close(bar: Any) -> tuple[dt.date, float] | None:
            if not isinstance(bar, dict):
                return None
            return _session_of(bar["t"]), float(bar["c"])

        prev = pick_prev_close(close(snap.get("dailyBar")), close(snap.get("prevDailyBar")), ref)
        if canon in INDEX_OF_ETF:
            self._etf_dates[canon] = prev[0] if prev else None
        pc = prev[1] if prev else None
        trade = snap.get("latestTrade")
        if isinstance(trade, dict):
            price, ts = float(trade["p"]), rfc3339_ms(trade["t"])
            if canon in INDEX_OF_ETF:
                # a tick (not a backfill) so the pipeline shows the index estimate at once
                return Tick(canon, price, ts, prev_close=pc)
            return Bars(canon, [(ts, price)], pc)
        return Bars(canon, [], pc)

    async def _more_snapshots(
        self, rest: RestClient, batches: list[list[str]], ref: dt.date | None
    ) -> None:
        try:
            for n, batch in enumerate(batches, start=2):
                self._set_notes(prev=f"previous closes {n - 1}/{len(batches) + 1} batches")
                events = await self._snapshot_events(rest, batch, ref)
                if events:
                    self._emit(events)
            why = self._snap_error
            self._set_notes(prev=f"some previous closes unavailable ({why})" if why else "")
        except FatalFeedError as exc:
            self._set_notes(prev=str(exc))
        finally:
            await rest.aclose()
            self._rest = None

    async def _retry_index_closes(self, ref: dt.date | None) -> None:
        for _ in range(3):
            await asyncio.sleep(60.0)
            closes, note = await self.index_closes.try_fetch(self.now_ms())
            if closes is not None:
                daily: list[Event] = list(trim(closes, cutoffs_for(self._etf_dates, ref)))
                self._emit(daily)
                self._set_notes(index=note)
                return

    async def aclose(self) -> None:
        await super().aclose()
        if self._rest is not None:
            await self._rest.aclose()
            self._rest = None


def _rest_reason(exc: RestError, secrets: list[str]) -> str:
    """Alpaca's own words from an error body (``{"message": ...}``, keys masked before the cut),
    else the HTTP status."""
    try:
        message = orjson.loads(exc.body).get("message") if exc.body else None
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    status = f"HTTP {exc.status}" if exc.status else str(exc)
    return f"{server_text(message, secrets, 120)}, {status}" if message else status


def _session_of(stamp: str) -> dt.date:
    return session_date(rfc3339_ms(stamp))


# daily history from Alpaca's historical bars
BARS_PATH = "/v2/stocks/bars"
BARS_LIMIT = 10_000  # bars per page, over all the symbols of a request (the endpoint's maximum)


class AlpacaHistory:
    """:class:`~feeds.sources.providers.history.HistorySource`: Alpaca's multi-symbol historical
    bars
    (``/v2/stocks/bars?symbols=...&timeframe=1Day``, split-adjusted, paged by
    ``next_page_token``) for MAGS and the members' closes, SNAPSHOT_BATCH symbols a request;
    ^RUT and ^GSPC (no index values at Alpaca) from Yahoo's chart."""

    batch_size = SNAPSHOT_BATCH

    def __init__(self, rest: RestClient, yahoo: Any, feed: str, now_ms: Callable[[], int]) -> None:
        self.rest = rest
        self.yahoo = yahoo  # a YahooHistory
        self.feed = feed
        self.now_ms = now_ms

    async def index_bars(self, symbol: str, since: dt.date | None) -> list[Any]:
        from feeds.sources.providers.history import HISTORY_START

        if symbol.startswith("^"):
            return await self.yahoo.index_bars(symbol, since)
        start = since.isoformat() if since is not None else HISTORY_START
        got = await self._bars([to_provider(symbol, "dot")], start, self._today())
        return [_daily_bar(b) for b in got.get(to_provider(symbol, "dot"), [])]

    async def session_closes(self, symbols: Sequence[str], day: dt.date) -> dict[str, float]:
        provider = {to_provider(s, "dot"): s for s in symbols}
        got = await self._bars(list(provider), day.isoformat(), day.isoformat())
        want = day.isoformat()
        out: dict[str, float] = {}
        for sym, bars in got.items():
            for bar in bars:
                d, *_, close = _daily_bar(bar)
                if d == want and sym in provider:
                    out[provider[sym]] = close
        return out

    def _today(self) -> str:
        from feeds.market import calendar

        return calendar.et_date(self.now_ms()).isoformat()

    async def _bars(self, symbols: list[str], start: str, end: str) -> dict[str, list[Any]]:
        params = {
            "symbols": ",".join(symbols),
            "timeframe": "1Day",
            "start": start,
            "end": end,
            "adjustment": "split",  # a split since the anchor must not read as a crash
            "feed": "sip" if self.feed == "sip" else "iex",
            "limit": str(BARS_LIMIT),
        }
        out: dict[str, list[Any]] = {}
        for _ in range(100):  # a runaway page token stops here
            data = await self.rest.get_json(BARS_PATH, params)
            for sym, bars in ((data or {}).get("bars") or {}).items():
                out.setdefault(sym, []).extend(bars or [])
            token = (data or {}).get("next_page_token")
            if not token:
                break
            params = {**params, "page_token": token}
        return out


def _daily_bar(bar: dict[str, Any]) -> tuple[str, float | None, float | None, float | None, float]:
    """An Alpaca daily bar -> (session date, open, high, low, close)."""

    def num(key: str) -> float | None:
        v = bar.get(key)
        return float(v) if isinstance(v, int | float) and v > 0 else None

    close = num("c")
    if close is None:
        raise ValueError("a daily bar without a close")
    return _session_of(bar["t"]).isoformat(), num("o"), num("h"), num("l"), close


@register("alpaca")
def open_alpaca(spec: str, arg: str, options: FeedOptions) -> Feed:
    feed = (arg or "iex").lower()
    if feed not in FEEDS:
        raise FeedSpecError(
            f"unknown alpaca feed {arg!r} in --feed {spec!r}; use alpaca:iex (free), alpaca:sip, "
            "alpaca:delayed_sip or alpaca:test"
        )
    return AlpacaFeed(spec, feed, options)


__all__ = ["AlpacaFeed", "open_alpaca", "rfc3339_ms"]

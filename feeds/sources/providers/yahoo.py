"""The ``yahoo`` feed: Yahoo Finance's streamer (protobuf over a websocket), no key needed.

Wire facts relied on (the reference clients yfinance, ``yfinance/live.py``, and yliveticker,
``yliveticker/__init__.py``): ``wss://streamer.finance.yahoo.com/?version=2``, no auth; the client
sends ``{"subscribe": ["^RUT", ...]}``; the server sends one ``{"type":"pricing","message":
"<base64 PricingData>"}`` text frame per update (yahoo_proto.py has the schema), with no
subscribe acknowledgement and no error frames, about one snapshot a second per symbol.

The streamer keeps at most 100 symbols per connection and silently drops the rest (a measurement
published with yfinance 1.7.0, not a documented limit), so the universe is sharded over as many
connections as needed, in a fixed order with the headline symbols first (a set would make the
dropped ones random). Each connection
subscribes with one ``{"subscribe": [...]}`` list; the base resubscribes after every reconnect.

No periodic resubscribe: yfinance re-sends its set every 15 s as a habit, but a measurement found
an idle connection kept ≥240 s without it, a connection Yahoo does close is reconnected and
resubscribed by the base anyway, and re-sending 20 lists every 15 s buys nothing measurable.

Before streaming, the chart REST endpoint backfills today's 1-minute bars and previous close for
the headline symbols; daily bars of ^RUT, ^GSPC and MAGS as far back as Yahoo has them and the
members' YTD anchors (spark, 20 symbols a request) follow in the background, cached on disk and
refreshed once a day (:mod:`feeds.sources.providers.history`). REST trouble (429, 404...) is a
status
detail, never fatal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import orjson

from feeds.errors import FeedSpecError
from feeds.events import Event
from feeds.feed import FeedOptions, register
from feeds.sources.providers.directories import NASDAQ_TRADER_URL, nasdaq_traded, refresh_feed
from feeds.sources.providers.http import RestClient
from feeds.sources.providers.settings import setting
from feeds.sources.providers.stream import StreamFeed
from feeds.sources.providers.yahoo_proto import ProtoDecodeError, decode_frame
from feeds.sources.providers.yahoo_rest import DEFAULT_REST_URL, ChartError, YahooRest
from feeds.symbols import HEADLINE, MAGS, RUT, SPX

__all__ = ["DEFAULT_URL", "ProtoDecodeError", "YahooFeed", "decode_frame"]

DEFAULT_URL = "wss://streamer.finance.yahoo.com/?version=2"
#: the streamer's per-connection cap; symbols past it are dropped without an error
MAX_SYMBOLS_PER_CONNECTION = 100
DAILY_SYMBOLS = (RUT, SPX, MAGS)
_FALSE = {"0", "false", "no", "off"}
T = TypeVar("T")


class YahooFeed(StreamFeed):
    provider = "yahoo"
    # Yahoo sends a snapshot per symbol about once a second, but only on change: a shard of
    # thin small caps can be quiet for a while pre-market. Reconnect only after a long silence.
    silence_timeout = 60.0
    max_per_connection = MAX_SYMBOLS_PER_CONNECTION
    #: seconds between chart requests (Yahoo rate-limits per IP for minutes after a burst)
    rest_interval = 0.25

    def __init__(self, spec: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        env, config = options.env, options.config
        self._url = setting("yahoo", "url", env, config, DEFAULT_URL) or DEFAULT_URL
        self.rest_url = setting("yahoo", "rest_url", env, config, DEFAULT_REST_URL)
        self.backfill = _flag(env.get("R2K_YAHOO_BACKFILL"), config.get("backfill"))
        # Yahoo publishes no symbol list: NASDAQ Trader's directory of US listings stands in
        self.directory_url = (
            setting("yahoo", "directory_url", env, config, NASDAQ_TRADER_URL) or NASDAQ_TRADER_URL
        )
        self._rest: YahooRest | None = None
        self._notes: dict[str, str] = {}

    # ---- protocol hooks ----------------------------------------------------------------------
    def shards(self) -> list[list[str]]:
        """The symbols in priority order, without duplicates, 100 per connection."""
        ordered = list(dict.fromkeys(s for s in self.options.symbols if s))  # ordered, not a set
        size = self.max_per_connection
        return [ordered[i : i + size] for i in range(0, len(ordered), size)] or [[]]

    def url(self, shard: int) -> str:
        return self._url

    def connect_kwargs(self) -> dict[str, Any]:
        # websockets' own pings keep the link honest; Yahoo frames are small
        return {"open_timeout": 15, "max_size": 1 << 20}

    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        if symbols:
            # always a JSON list of strings: anything else makes Yahoo close the socket (1005)
            await ws.send(orjson.dumps({"subscribe": list(symbols)}).decode())

    def decode(self, raw: str | bytes) -> list[Event]:
        tick = decode_frame(raw)
        return [tick] if tick is not None else []

    # ---- REST warm-up ------------------------------------------------------------------------
    async def prepare(self) -> list[Event]:
        # the symbol list in the background: it never delays the stream
        self.spawn(refresh_feed(self, self._symbol_list, lambda t: self._set_note("symbols", t)))
        if not self.backfill or not self.rest_url:
            return []
        try:
            rest = self._rest = YahooRest(self.rest_url, min_interval=self.rest_interval)
        except Exception as exc:  # a bad rest_url must not stop the stream
            self._note("intraday", [_describe(exc)])
            return []
        events: list[Event] = []
        failures: list[str] = []
        for symbol in dict.fromkeys(s for s in self.options.symbols if s in HEADLINE):
            bars = await _fetch(rest.intraday(symbol), failures)
            if bars is not None:
                events.append(bars)
            elif rest.rate_limited:
                break
        self._note("intraday", failures)
        self.spawn(self._history(rest))
        return events

    async def _history(self, rest: YahooRest) -> None:
        """daily bars of ^RUT, ^GSPC and MAGS as far back as Yahoo has them, and every
        member's YTD anchor from spark batches (20 symbols a request), the cache first; not
        needed for the first tick, so not awaited."""
        from feeds.sources.providers.history import run_for_feed
        from feeds.sources.providers.yahoo_rest import YahooHistory

        def note(text: str) -> None:
            self._set_note("daily", text)

        try:
            await run_for_feed(self, YahooHistory(rest), "yahoo", self.rest_url, note, self._emit)
        finally:
            await rest.aclose()

    async def _symbol_list(self) -> tuple[set[str], dt.date | None]:
        rest = RestClient(self.directory_url, min_interval=0.0, retries=2, timeout=30.0)
        try:
            return await nasdaq_traded(rest)
        finally:
            await rest.aclose()

    def _set_note(self, what: str, text: str) -> None:
        if text:
            self._notes[what] = text
        else:
            self._notes.pop(what, None)
        self.set_note("; ".join(self._notes.values()))

    def _note(self, what: str, failures: list[str]) -> None:
        """Keep a REST failure in the status detail (one line): the stream goes on without it."""
        if failures:
            more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
            self._notes[what] = f"no {what} history: {failures[0]}{more}"
            self.set_note("; ".join(self._notes.values()))

    async def aclose(self) -> None:
        await super().aclose()
        if self._rest is not None:
            await self._rest.aclose()


def _flag(env_value: str | None, config_value: Any) -> bool:
    """An on/off setting: environment first, then config; on unless explicitly off."""
    if env_value:
        return env_value.strip().lower() not in _FALSE
    if config_value is None:
        return True
    if isinstance(config_value, bool):
        return config_value
    return str(config_value).strip().lower() not in _FALSE


async def _fetch(request: Awaitable[T], failures: list[str]) -> T | None:
    """The result of one REST request, or None with the reason appended to ``failures``."""
    try:
        return await request
    except ChartError as exc:
        failures.append(str(exc))
    except Exception as exc:  # an unexpected body or transport error: a detail, never fatal
        failures.append(_describe(exc))
    return None


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@register("yahoo")
def _open(spec: str, arg: str, options: FeedOptions) -> YahooFeed:
    if arg:
        raise FeedSpecError(f"the yahoo feed takes no argument (got {spec!r}); use --feed yahoo")
    return YahooFeed(spec, options)

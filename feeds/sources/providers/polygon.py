"""Polygon.io / Massive: trades (or minute bars) and index values over websockets.

Two clusters, so two connections: ``/stocks`` carries the ETFs and constituents (``T.`` trades, or
``AM.`` minute bars as a config option), ``/indices`` carries ``V.I:RUT`` and ``V.I:SPX``. Neither
stream has a previous close, so a background REST warm-up fetches the indices' daily closes and the
whole market's previous session in one grouped-daily call, headline first, inside the plan's rate
limit (Basic: 5 calls a minute).

Wire facts relied on (Massive docs, https://massive.com/docs/websocket/stocks/trades and
https://massive.com/docs/websocket/indices/value; the reference client polygon-io/client-python,
``massive/websocket/__init__.py``, its spec ``.massive/websocket.json`` and its mock server):

- ``wss://socket.massive.com/{stocks|indices}`` (``delayed.massive.com`` for delayed data; the
  ``*.polygon.io`` hosts still answer). Every server message is a JSON array.
- ``[{"ev":"status","status":"connected"}]``, then ``{"action":"auth","params":KEY}`` answered
  ``auth_success`` or ``auth_failed``; ``{"action":"subscribe","params":"T.AAPL,AM.IWM"}``.
- Trade ``{"ev":"T","sym":..,"p":price,"s":size,"c":[int conditions],"t":epoch ms,"i":id}``;
  minute bar ``{"ev":"AM","sym":..,"o","h","l","c","v","op": today's open,"s","e": epoch ms}``;
  index value ``{"ev":"V","T":"I:RUT","val":..,"t":epoch ms}`` (the symbol is ``T``, not ``sym``).
- ``max_connections`` status, then a close, when a second connection opens: one per cluster.

Spec: ``polygon`` (or ``massive``), ``polygon:delayed`` for the 15-minute delayed host.
Settings (``R2K_POLYGON_<KEY>`` or ``[feeds.polygon]``): ``key`` (required), ``delayed``,
``channel`` (``trades`` | ``minute``), ``indices`` (false: estimate ^RUT/^GSPC from IWM/SPY),
``url`` (websocket base), ``rest_url``, ``rest_per_minute`` (0 = no cap).

A trade's conditions (``c``, Massive's condition ids) decide whether it may set the last sale and
the high/low (:mod:`feeds.market.conditions`): the rules come from Massive's own conditions listing,
cached on disk and read again through the REST warm-up once the cache is a month old.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from feeds.errors import ConfigError, FeedSpecError
from feeds.events import Bars, DailyBar, DailyCloses, Event, Tick
from feeds.feed import FeedOptions, parse_spec, register
from feeds.market import conditions
from feeds.sources.providers.directories import DOWNLOAD_TIMEOUT, polygon_tickers, refresh_feed
from feeds.sources.providers.http import RestClient, RestError
from feeds.sources.providers.settings import require_secret, setting
from feeds.sources.providers.stream import FatalFeedError, RetryFeedError, StreamFeed
from feeds.symbols import IWM, SPX, SPY, from_provider, to_provider

REALTIME_WS = "wss://socket.massive.com"
DELAYED_WS = "wss://delayed.massive.com"
REST_URL = "https://api.massive.com"
STOCKS, INDICES = "stocks", "indices"
CHANNELS = {"trades": "T", "t": "T", "minute": "AM", "am": "AM", "second": "A", "a": "A"}
SUBSCRIBE_CHUNK = 500  # topics per subscribe message: keeps each frame well under 16 KiB
HANDSHAKE_TIMEOUT = 10.0

# Polygon names the S&P 500 "SPX"; every other index is "I:" + the Yahoo name without the caret.
_INDEX_TO = {SPX: "I:SPX"}
_INDEX_FROM = {v: k for k, v in _INDEX_TO.items()}

#: the cluster of the connection running in this task: status frames are decoded per connection
#: (a "not authorized" means something else on /indices than on /stocks) but decode() has no
#: shard argument; each connection is its own task, so a context variable tells them apart.
_cluster: contextvars.ContextVar[str] = contextvars.ContextVar("polygon_cluster", default=STOCKS)


def to_polygon(symbol: str) -> str:
    """Canonical -> Polygon: ``^GSPC`` -> ``I:SPX``, ``^RUT`` -> ``I:RUT``, ``BRK-B`` -> ``BRK.B``
    (class shares)."""
    if symbol.startswith("^"):
        return _INDEX_TO.get(symbol) or "I:" + symbol[1:]
    return to_provider(symbol, "dot")


def from_polygon(symbol: str) -> str:
    """Polygon -> canonical: ``I:SPX`` -> ``^GSPC``, ``I:RUT`` -> ``^RUT``, ``BRK.B`` -> ``BRK-B``
    (class shares)."""
    if symbol.startswith("I:"):
        return _INDEX_FROM.get(symbol) or "^" + symbol[2:]
    return from_provider(symbol, "dot")


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"polygon: expected true or false, got {value!r}")


class PolygonFeed(StreamFeed):
    provider = "polygon"

    def __init__(self, spec: str, arg: str, options: FeedOptions) -> None:
        super().__init__(spec, options)
        env, cfg = options.env, options.config
        self._table = (
            f"[feeds.{parse_spec(spec)[0] or 'polygon'}]"  # where this spec's config lives
        )
        mode = arg.lower()
        if mode not in ("", "delayed", "realtime", "real-time"):
            raise FeedSpecError(
                f"unknown polygon mode {arg!r} in {spec!r}; use polygon or polygon:delayed"
            )
        self.key = require_secret("polygon", "key", env, cfg, what="a Massive (Polygon.io) API key")
        self.secrets.append(self.key)
        self.delayed = mode == "delayed" or (
            mode == "" and _flag(setting("polygon", "delayed", env, cfg), False)
        )
        channel = (setting("polygon", "channel", env, cfg) or "trades").strip().lower()
        if channel not in CHANNELS:
            raise ConfigError(f"polygon: channel must be trades or minute, got {channel!r}")
        self.channel = CHANNELS[channel]
        self.stream_indices = _flag(setting("polygon", "indices", env, cfg), True)
        # without the indices cluster the pipeline estimates ^RUT/^GSPC from IWM/SPY
        self.estimates_indices = not self.stream_indices
        base = setting("polygon", "url", env, cfg) or (DELAYED_WS if self.delayed else REALTIME_WS)
        self._urls = [f"{base.rstrip('/')}/{STOCKS}", f"{base.rstrip('/')}/{INDICES}"]
        self.rest_url = setting("polygon", "rest_url", env, cfg) or REST_URL
        per_minute = setting("polygon", "rest_per_minute", env, cfg) or "5"
        try:
            self.rest_per_minute = int(per_minute)
        except ValueError:
            raise ConfigError(
                f"polygon: rest_per_minute must be a whole number, got {per_minute!r}"
            ) from None

        stocks = [s for s in options.symbols if not s.startswith("^")]
        indices = [s for s in options.symbols if s.startswith("^")] if self.stream_indices else []
        self._shards = [stocks, indices]
        # provider symbol -> canonical, learned up front so decode() is one dict lookup
        self._canon = {to_polygon(s): s for s in options.symbols}
        self._notes: dict[str, str] = {}
        self._rest: RestClient | None = None
        self.warm_up_done = asyncio.Event()  # the background REST warm-up has finished
        # trade conditions -> last-sale eligibility (the cached listing, else r2k's copy)
        self.conditions_cache = conditions.cache_dir(env) / conditions.MASSIVE_FILE
        self.sale_conditions = conditions.load_massive(self.conditions_cache)
        self.conditions_error = ""  # why the live listing could not be read, if it could not

    # ---- StreamFeed hooks ----------------------------------------------------------------------
    def shards(self) -> list[list[str]]:
        return self._shards

    def url(self, shard: int) -> str:
        return self._urls[shard]

    def connect_kwargs(self) -> dict[str, Any]:
        # a market-wide burst can exceed the 1 MiB default frame limit
        return {"max_size": 16 * 1024 * 1024}

    async def handshake(self, ws: Any, symbols: Sequence[str]) -> None:
        cluster = INDICES if symbols and symbols[0].startswith("^") else STOCKS
        _cluster.set(cluster)
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                await self._expect(ws, "connected")
                await ws.send(orjson.dumps({"action": "auth", "params": self.key}).decode())
                await self._expect(ws, "auth_success")
        except TimeoutError:
            raise RetryFeedError(
                f"no reply from the Massive {cluster} server within {HANDSHAKE_TIMEOUT:.0f} s"
            ) from None
        channel = "V" if cluster == INDICES else self.channel
        topics = [f"{channel}.{to_polygon(s)}" for s in symbols]
        for i in range(0, len(topics), SUBSCRIBE_CHUNK):
            params = ",".join(topics[i : i + SUBSCRIBE_CHUNK])
            await ws.send(orjson.dumps({"action": "subscribe", "params": params}).decode())
        # the per-topic "subscribed to" acks (and any "not authorized") arrive through decode()

    async def _expect(self, ws: Any, want: str) -> None:
        """Read status frames until ``want``; a refusal raises, anything else is passed over."""
        while True:
            raw = await ws.recv()
            try:
                msgs = orjson.loads(raw)
                statuses = [
                    (m.get("status"), m.get("message")) for m in msgs if m.get("ev") == "status"
                ]
            except Exception:
                self.malformed += 1
                continue
            for status, message in statuses:
                if status == want:
                    return
                self._on_status(status, message)

    def decode(self, raw: str | bytes) -> list[Event]:
        out: list[Event] = []
        canon = self._canon
        barred = self.sale_conditions.by_id
        for m in orjson.loads(raw):
            ev = m["ev"]
            if ev == "T":
                sym = m["sym"]
                flags = 0
                codes = m.get("c")
                if codes:  # most trades carry one or two conditions; most bar nothing
                    for code in codes:
                        f = barred.get(code)
                        if f:
                            flags |= f
                out.append(
                    Tick(
                        canon.get(sym) or self._learn(sym),
                        float(m["p"]),
                        m["t"],
                        m["s"],
                        None,
                        None,
                        flags,
                    )
                )
            elif ev == "V":
                sym = m["T"]  # index values carry the ticker in "T", not "sym"
                out.append(Tick(canon.get(sym) or self._learn(sym), float(m["val"]), m["t"]))
            elif ev == "AM" or ev == "A":
                sym = m["sym"]
                out.append(
                    Tick(
                        canon.get(sym) or self._learn(sym),
                        float(m["c"]),
                        # the close, stamped 1 ms before the window's end ("e" is
                        # exclusive): it belongs to its own minute, whose bar it closes for
                        # bar-confirmed levels (feeds.alerting.levels)
                        max(m["s"], m["e"] - 1),
                        m.get("v"),
                        m.get("av"),  # today's accumulated volume (absent for indices)
                    )
                )
            elif ev == "status":
                self._on_status(m.get("status"), m.get("message"))
            # other channels (Q, LULD...) are not subscribed; ignore them if they appear
        return out

    def _learn(self, sym: str) -> str:
        canonical = from_polygon(sym)
        self._canon[sym] = canonical
        return canonical

    def _on_status(self, status: object, message: object) -> None:
        """Act on a status frame: fine, refused for good, refused for now, or worth a note."""
        if status in ("connected", "auth_success", "success"):
            return
        cluster = _cluster.get()
        msg = self.quote(message, 200)  # keys masked before the cut
        if status == "auth_failed":
            raise FatalFeedError(
                f"Massive rejected the API key ({msg or status}): check R2K_POLYGON_KEY "
                f"(or key under {self._table})"
            )
        if status == "max_connections":
            raise RetryFeedError(
                f"another client holds this key's Massive {cluster} connection "
                "(one per cluster per account); close it or use another key"
            )
        if status in ("auth_timeout", "slow_consumer", "force_disconnect"):
            raise RetryFeedError(f"Massive closed the {cluster} connection ({status}: {msg})")
        low = msg.lower()
        if status == "error" and ("not authorized" in low or "not entitled" in low):
            if cluster == INDICES:
                raise FatalFeedError(
                    "your Massive plan lacks index values (I:RUT, I:SPX): set indices = false "
                    f"under {self._table} (or R2K_POLYGON_INDICES=false) to estimate ^RUT/^GSPC "
                    "from IWM/SPY"
                )
            what = "delayed" if self.delayed else "real-time"
            hint = "upgrade the plan" if self.delayed else "use --feed polygon:delayed"
            raise FatalFeedError(
                f"your Massive plan lacks {what} stock data ({self.channel}): {hint}"
            )
        if status == "error" and "subscription limit" in low:
            raise FatalFeedError(f"Massive refused the subscription ({msg}): stream fewer symbols")
        # an unknown status: keep streaming, but show it
        self._set_note("server", f"Massive {cluster}: {msg or status}")

    def _set_note(self, part: str, text: str) -> None:
        if text:
            self._notes[part] = text
        else:
            self._notes.pop(part, None)
        self.set_note("; ".join(self._notes.values()))

    # ---- REST warm-up ------------------------------------------------------------------------
    async def prepare(self) -> list[Event]:
        # in the background: at 5 calls a minute the warm-up may take a minute, and the stream
        # should not wait for it (MarketState takes previous closes whenever they arrive)
        self.spawn(self._warm_up())
        return []

    def _rest_client(self) -> RestClient:
        if self._rest is None:
            self._rest = RestClient(
                self.rest_url,
                min_interval=0.0,
                retries=3,
                # the header keeps the key out of URLs (proxies and error texts log URLs)
                headers={"Authorization": f"Bearer {self.key}"},
                per_minute=self.rest_per_minute,
            )
        return self._rest

    def _sessions(self) -> tuple[dt.date, dt.date]:
        """(first date of the daily history, the session whose close is the previous close)."""
        from feeds.market import calendar

        now = self.now_ms()
        # on a trading day the previous close is the last session before today; on a weekend or
        # holiday the latest session is the one being shown, so its previous close is one further
        back = 1 if calendar.session_open_close(now) is not None else 2
        prev = calendar.previous_sessions(now, back)[0]
        # back to December of the year before: the YTD anchor is the last close of that year
        start = min(prev - dt.timedelta(days=60), dt.date(prev.year - 1, 12, 1))
        return start, prev

    async def _warm_up(self) -> None:
        start, prev = self._sessions()
        wanted = set(self.options.symbols)
        jobs: list[tuple[str, str | None]] = []  # (what, symbol for a daily history or None)
        # ^RUT, ^GSPC and MAGS come with their whole daily history (the loader below)
        jobs.append(("all stocks", None))
        for sym in (IWM, SPY):
            if sym in wanted:
                jobs.append((sym, sym))
        client = self._rest_client()
        failed: list[str] = []
        try:
            await self._run_jobs(client, jobs, start, prev, wanted, failed)
        except Exception as exc:  # the warm-up is a nicety: never take the stream down
            failed.append(f"the rest ({self.quote(exc, 200)})")
        self._set_note("rest", f"no previous close for {', '.join(failed)}" if failed else "")
        try:
            await self._history(client)
            # after the histories (^GSPC's gives its previous close), within Basic's 5
            # calls a minute; r2k's copy serves meanwhile
            if conditions.is_stale(self.sale_conditions, int(time.time() * 1000)):
                await self._refresh_conditions(client)
            await self._refresh_symbols(client)
        finally:
            self._rest = None
            await client.aclose()
            self.warm_up_done.set()

    async def _refresh_conditions(self, client: RestClient) -> None:
        """Read Massive's stock trade conditions (all pages), use them and cache them.

        After the previous closes and daily histories in the warm-up: r2k's copy serves
        meanwhile, and on Basic's 5 calls a minute those matter more. A failure keeps the copy
        (``conditions_error`` says why).
        """
        params: dict[str, Any] | None = {
            "asset_class": "stocks",
            "data_type": "trade",
            "limit": "1000",
        }
        path = "/v3/reference/conditions"
        results: list[Any] = []
        try:
            for _ in range(20):  # a few hundred conditions: one page, rarely two
                data = await client.get_json(path, params)
                results.extend(data.get("results") or ())
                path, params = data.get("next_url") or "", None
                if not path:
                    break
            fetched = int(time.time() * 1000)
            self.sale_conditions = conditions.parse_listing(results, fetched)
        except RestError as exc:
            self.conditions_error = str(exc.status or exc)
            return
        except (ValueError, TypeError, AttributeError):
            self.conditions_error = "malformed reply"
            return
        self.conditions_error = ""
        conditions.save_massive(results, fetched, self.conditions_cache)

    async def _history(self, client: RestClient) -> None:
        """daily bars of the indices and MAGS as far back as the plan allows, and the
        members' YTD anchors from one grouped-daily call for the whole market, on the same
        client (within the plan's REST rate), cached and refreshed once a day."""
        from feeds.sources.providers.history import run_for_feed

        await run_for_feed(
            self,
            PolygonHistory(client, self._canon, self.now_ms),
            "polygon",
            self.rest_url,
            lambda text: self._set_note("history", self.quote(text, 300)),
            self._emit,
        )

    async def _refresh_symbols(self, client: RestClient) -> None:
        """The ticker list, after the previous closes and on the same client, so both keep
        within the plan's REST rate (Basic: 5 calls a minute, a dozen pages)."""
        per_minute = self.rest_per_minute
        # a dozen pages: at Basic's 5 calls a minute that is minutes, not seconds
        give_up = (
            DOWNLOAD_TIMEOUT if not per_minute else max(DOWNLOAD_TIMEOUT, 20 * 60 / per_minute)
        )
        await refresh_feed(
            self,
            lambda: polygon_tickers(client, from_polygon, lambda t: self._set_note("symbols", t)),
            lambda text: self._set_note("symbols", text),
            give_up_after=give_up,
        )

    async def _run_jobs(
        self,
        client: RestClient,
        jobs: list[tuple[str, str | None]],
        start: dt.date,
        prev: dt.date,
        wanted: set[str],
        failed: list[str],
    ) -> None:
        for done, (what, sym) in enumerate(jobs):
            note = f"previous closes {done}/{len(jobs)}"
            if self.rest_per_minute and done >= self.rest_per_minute:
                note += f" (REST limit {self.rest_per_minute}/min)"
            self._set_note("rest", note)
            try:
                if sym is None:
                    events = await self._grouped(client, prev, wanted)
                else:
                    events = await self._daily(client, sym, start, prev)
            except RestError as exc:
                failed.append(f"{what} ({exc.status or exc})")
                continue
            except (ValueError, KeyError, TypeError):
                failed.append(f"{what} (malformed reply)")
                continue
            if events:
                self._emit(events)

    async def _daily(
        self, client: RestClient, sym: str, start: dt.date, prev: dt.date
    ) -> list[Event]:
        """Completed sessions' closes of one symbol (index values for ^RUT/^GSPC)."""
        from feeds.market import calendar

        path = (
            f"/v2/aggs/ticker/{to_polygon(sym)}/range/1/day/{start.isoformat()}/{prev.isoformat()}"
        )
        data = await client.get_json(path, {"adjusted": "true", "sort": "asc", "limit": "5000"})
        closes: list[tuple[str, float]] = []
        for bar in data.get("results") or ():
            day = calendar.et_date(int(bar["t"]))
            if day <= prev:  # never today's partial bar
                closes.append((day.isoformat(), float(bar["c"])))
        return [DailyCloses(sym, closes)] if closes else []

    async def _grouped(self, client: RestClient, prev: dt.date, wanted: set[str]) -> list[Event]:
        """The previous session's close of every symbol we stream, in one call for the market."""
        path = f"/v2/aggs/grouped/locale/us/market/stocks/{prev.isoformat()}"
        data = await client.get_json(path, {"adjusted": "true"})
        out: list[Event] = []
        canon = self._canon
        for bar in data.get("results") or ():
            sym = canon.get(bar["T"])
            if sym is not None and sym in wanted:
                out.append(Bars(sym, [], prev_close=float(bar["c"])))
        return out

    async def aclose(self) -> None:
        await super().aclose()
        if self._rest is not None:
            await self._rest.aclose()
            self._rest = None


# daily history from the aggregates endpoints
class PolygonHistory:
    """:class:`~feeds.sources.providers.history.HistorySource` on Massive/Polygon REST: custom bars
    (``/v2/aggs/ticker/{t}/range/1/day/{from}/{to}``, split-adjusted, up to 50,000 a request)
    for the indices and MAGS, grouped daily (``/v2/aggs/grouped/locale/us/market/stocks/{day}``:
    every US stock's bar of one session in one request) for the members' closes."""

    batch_size = 1_000_000  # one request covers the whole market

    def __init__(
        self, client: RestClient, canon: dict[str, str], now_ms: Callable[[], int]
    ) -> None:
        self.client = client
        self.canon = canon
        self.now_ms = now_ms  # the feed's clock: the bars end on its day

    async def index_bars(self, symbol: str, since: dt.date | None) -> list[DailyBar]:
        from feeds.market import calendar
        from feeds.sources.providers.history import HISTORY_START

        start = since.isoformat() if since is not None else HISTORY_START
        end = calendar.et_date(self.now_ms()).isoformat()
        path = f"/v2/aggs/ticker/{to_polygon(symbol)}/range/1/day/{start}/{end}"
        params = {"adjusted": "true", "sort": "asc", "limit": "50000"}
        try:
            data = await _json(self.client, path, params)
        except RestError as exc:
            if exc.status != 403 or since is not None:
                raise
            # a plan with a shorter history refuses the whole span: ask for two years
            start = (dt.date.fromisoformat(end) - dt.timedelta(days=730)).isoformat()
            path = f"/v2/aggs/ticker/{to_polygon(symbol)}/range/1/day/{start}/{end}"
            data = await _json(self.client, path, params)
        out: list[DailyBar] = []
        for bar in data.get("results") or ():
            day = calendar.et_date(int(bar["t"])).isoformat()
            out.append(
                (day, _pos(bar.get("o")), _pos(bar.get("h")), _pos(bar.get("l")), float(bar["c"]))
            )
        return out

    async def session_closes(self, symbols: Sequence[str], day: dt.date) -> dict[str, float]:
        path = f"/v2/aggs/grouped/locale/us/market/stocks/{day.isoformat()}"
        data = await _json(self.client, path, {"adjusted": "true"})
        wanted = set(symbols)
        out: dict[str, float] = {}
        for bar in data.get("results") or ():
            sym = self.canon.get(bar["T"]) or from_polygon(bar["T"])
            if sym in wanted:
                out[sym] = float(bar["c"])
        return out


def _pos(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and x > 0 else None


async def _json(client: RestClient, path: str, params: dict[str, str]) -> dict:
    """GET and decode in a worker thread: a grouped-daily answer is the whole market (MBs)."""
    resp = await client.get(path, params)
    try:
        data = await asyncio.to_thread(orjson.loads, resp.content)
    except orjson.JSONDecodeError as exc:
        raise RestError(f"malformed JSON from {client.base_url}{path}") from exc
    if not isinstance(data, dict):
        raise RestError(f"unexpected reply from {client.base_url}{path}")
    return data


@register("polygon")
def _polygon(spec: str, arg: str, options: FeedOptions) -> PolygonFeed:
    return PolygonFeed(spec, arg, options)


@register("massive")
def _massive(spec: str, arg: str, options: FeedOptions) -> PolygonFeed:
    return PolygonFeed(spec, arg, options)

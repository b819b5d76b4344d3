"""A local Alpaca market-data server (stream v2, JSON) plus the REST it needs, on 127.0.0.1.

Speaks the stream as Alpaca's docs and alpaca-py describe it (feeds/sources/providers/alpaca.py):
``[{"T":"success","msg":"connected"}]`` on connect, the auth message within the session,
``[{"T":"success","msg":"authenticated"}]``, additive subscribe with a full-set ``subscription``
ack, and the documented errors (402 auth failed, 405 symbol limit with the set left unchanged,
406 connection limit, 409 insufficient subscription). The REST side answers
``/v2/stocks/snapshots`` and the trading API's ``/v2/assets`` (keys in the ``APCA-API-*``
headers) and Yahoo's ``/v8/finance/chart``
(daily closes for ^RUT/^GSPC), so one HTTP responder serves both base-URL overrides.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection

from tests.sources.providers.fake_directories import alpaca_asset, alpaca_assets_route
from tests.sources.providers.fake_http import FakeHTTP, Request, Response, routes
from tests.sources.providers.fake_ws import FakeWS
from tests.sources.providers.fake_yahoo import CHART_PREFIX, index_chart_reply

# random-looking, like real keys: a key that holds English words would mask those words in
# r2k's own messages (any 4-character piece of a key is masked wherever it appears)
KEY, SECRET = "PKQ7ZX4W9M2VR8TL3NJC", "q8Zr3vW1xK9mT4bY7nL2cP5fH0jD6sG1aE8uV3kQ"

# documented frames (Alpaca's "Real-time stock pricing data" page) and a test-stream capture
CONNECTED = '[{"T":"success","msg":"connected"}]'
AUTHENTICATED = '[{"T":"success","msg":"authenticated"}]'
TRADE_DOCS = (
    '[{"T":"t","i":96921,"S":"AAPL","x":"D","p":126.55,"s":1,'
    '"t":"2021-02-22T15:51:44.208Z","c":["@","I"],"z":"C"}]'
)
TRADE_TEST_STREAM = (
    '[{"T":"t","S":"FAKEPACA","i":1,"x":"N","p":134.56,"s":3,"c":[" "],"z":"A",'
    '"t":"2026-09-15T11:01:53.291535755Z"}]'
)
QUOTE_DOCS = (
    '[{"T":"q","S":"AMD","bx":"U","bp":87.66,"bs":1,"ax":"Q","ap":87.68,"as":4,'
    '"t":"2021-02-22T15:51:45.335689322Z","c":["R"],"z":"C"}]'
)
BAR_DOCS = (
    '[{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,"n":461,'
    '"vw":389.062639,"t":"2021-02-22T19:15:00Z"}]'
)
BAR_TEST_STREAM = (
    '[{"T":"b","S":"FAKEPACA","o":132.65,"h":136,"l":132.12,"c":134.65,"v":205,'
    '"t":"2024-07-24T07:56:00Z","n":16,"vw":133.7}]'
)

ERRORS = {
    400: "invalid syntax",
    401: "not authenticated",
    402: "auth failed",
    403: "already authenticated",
    404: "auth timeout",
    405: "symbol limit exceeded",
    406: "connection limit exceeded",
    407: "slow client",
    408: "v2 not enabled",
    409: "insufficient subscription",
    410: "invalid subscribe action for this feed",
    500: "internal error",
}


def error_frame(code: int) -> str:
    return orjson.dumps([{"T": "error", "code": code, "msg": ERRORS[code]}]).decode()


def trade(sym: str, price: float, t: str, size: int = 100) -> dict[str, Any]:
    return {
        "T": "t",
        "i": 1,
        "S": sym,
        "x": "V",
        "p": price,
        "s": size,
        "t": t,
        "c": ["@"],
        "z": "B",
    }


def bar(sym: str, close: float, t: str, volume: int = 1000) -> dict[str, Any]:
    o = close - 0.1
    return {
        "T": "b",
        "S": sym,
        "o": o,
        "h": close,
        "l": o,
        "c": close,
        "v": volume,
        "n": 5,
        "vw": close,
        "t": t,
    }


def daily_bar(date: str, close: float) -> dict[str, Any]:
    # Alpaca stamps daily bars at midnight New York time (05:00Z in winter)
    return {
        "t": f"{date}T05:00:00Z",
        "o": close,
        "h": close,
        "l": close,
        "c": close,
        "v": 1_000_000,
        "n": 1000,
        "vw": close,
    }


@dataclass
class Snap:
    """One symbol's snapshot: latest trade, and the last two daily bars (date, close)."""

    price: float
    trade_t: str
    daily: tuple[str, float]
    prev_daily: tuple[str, float]

    def json(self) -> dict[str, Any]:
        return {
            "latestTrade": {
                "t": self.trade_t,
                "x": "V",
                "p": self.price,
                "s": 100,
                "c": ["@"],
                "i": 52983525029461,
                "z": "B",
            },
            "latestQuote": {
                "t": self.trade_t,
                "ax": "V",
                "ap": self.price + 0.01,
                "as": 1,
                "bx": "V",
                "bp": self.price - 0.01,
                "bs": 1,
                "c": ["R"],
                "z": "B",
            },
            "minuteBar": None,
            "dailyBar": daily_bar(*self.daily),
            "prevDailyBar": daily_bar(*self.prev_daily),
        }


@dataclass
class Conn:
    """What one websocket client did: its upgrade headers and every message it sent."""

    n: int
    path: str
    headers: dict[str, str]
    received: list[Any] = field(default_factory=list)


class FakeAlpaca(FakeWS[Conn]):
    """``async with FakeAlpaca() as fake``: ``fake.ws_url`` (with ``{feed}``), ``fake.http.url``.

    Knobs (set before the client connects): ``feeds`` the plan allows (others get 409),
    ``conn_limit`` (406 beyond it), ``trade_cap`` / ``bar_cap`` (405), ``frames[n]`` raw frames
    sent on connection ``n`` after its subscription (``frames_all`` on every connection),
    ``close_after`` connection numbers closed right after their frames, ``snapshots`` and
    ``index_closes`` for REST.
    """

    http: FakeHTTP
    path = "/v2/{feed}"

    def __init__(self, key: str = KEY, secret: str = SECRET) -> None:
        rest = {
            CHART_PREFIX: lambda req: index_chart_reply(req, self.index_closes),
            "/v2/stocks/snapshots": self._snapshots,
            "/v2/stocks/bars": self._bars,
            "/v2/assets": lambda req: alpaca_assets_route(self.assets, self.key, self.secret)(req),
        }
        super().__init__()
        self.http = FakeHTTP(routes(rest, Response(404, {"message": "Not Found"})))
        self.key, self.secret = key, secret
        self.feeds = {"iex", "delayed_sip", "test"}
        self.conn_limit = 1
        self.trade_cap: int | None = None
        self.bar_cap: int | None = None
        self.frames: dict[int, list[str]] = {}
        self.frames_all: list[str] = []
        self.close_after: set[int] = set()
        self.snapshots: dict[str, Snap] = {}
        #: the trading API's asset list (``/v2/assets``)
        self.assets = [alpaca_asset(s, "ARCA") for s in ("IWM", "SPY", "MAGS")]
        self.index_closes: dict[str, list[tuple[str, float | None]]] = {}
        #: historical daily bars, symbol -> [(ISO date, close)], paged at ``bars_page``
        self.bars: dict[str, list[tuple[str, float]]] = {}
        self.bars_page = 10_000
        #: (connection number, subscribe message) for each accepted subscription
        self.subscribed: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self.refused: asyncio.Queue[tuple[int, int]] = asyncio.Queue()  # (conn, error code)
        self.active = 0

    def _env(self) -> dict[str, str]:
        return {
            "R2K_ALPACA_KEY": self.key,
            "R2K_ALPACA_SECRET": self.secret,
            "R2K_ALPACA_URL": self.ws_url,
            "R2K_ALPACA_REST_URL": self.http.url,
            "R2K_ALPACA_TRADING_URL": self.http.url,
            "R2K_YAHOO_REST_URL": self.http.url,
        }

    # ---- websocket -----------------------------------------------------------------------------
    async def _refuse(self, ws: ServerConnection, conn: Conn, code: int) -> None:
        await ws.send(error_frame(code))
        await self.refused.put((conn.n, code))
        await ws.close()

    def connect(self, ws: ServerConnection) -> Conn:
        assert ws.request is not None
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
        return Conn(len(self.conns), ws.request.path, headers)

    async def session(self, ws: ServerConnection, conn: Conn) -> None:
        feed = conn.path.rstrip("/").rsplit("/", 1)[-1]
        await ws.send(CONNECTED)
        try:
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        except TimeoutError:
            await self._refuse(ws, conn, 404)
            return
        conn.received.append(first)
        if first.get("action") != "auth":
            await self._refuse(ws, conn, 401)
            return
        if (first.get("key"), first.get("secret")) != (self.key, self.secret):
            await self._refuse(ws, conn, 402)
            return
        if self.active >= self.conn_limit:
            await self._refuse(ws, conn, 406)
            return
        if feed not in self.feeds:
            await self._refuse(ws, conn, 409)
            return
        self.active += 1
        try:
            await ws.send(AUTHENTICATED)
            await self._subscriptions(ws, conn)
        finally:
            self.active -= 1

    async def _subscriptions(self, ws: ServerConnection, conn: Conn) -> None:
        subs: dict[str, set[str]] = {"trades": set(), "quotes": set(), "bars": set()}
        async for raw in ws:
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                await ws.send(error_frame(400))
                continue
            conn.received.append(msg)
            if msg.get("action") == "auth":
                await ws.send(error_frame(403))
                continue
            if msg.get("action") != "subscribe":
                await ws.send(error_frame(400))
                continue
            want = {k: subs[k] | set(msg.get(k, [])) for k in subs}
            too_many = (self.trade_cap is not None and len(want["trades"]) > self.trade_cap) or (
                self.bar_cap is not None and len(want["bars"]) > self.bar_cap
            )
            if too_many:  # the subscription is left unchanged (docs)
                await ws.send(error_frame(405))
                await self.refused.put((conn.n, 405))
                continue
            subs = want
            ack = {
                "T": "subscription",
                "trades": sorted(subs["trades"]),
                "quotes": sorted(subs["quotes"]),
                "bars": sorted(subs["bars"]),
                "updatedBars": [],
                "dailyBars": [],
                "statuses": [],
                "lulds": [],
                "corrections": sorted(subs["trades"]),
                "cancelErrors": sorted(subs["trades"]),
            }
            await ws.send(orjson.dumps([ack]).decode())
            await self.subscribed.put((conn.n, msg))
            for frame in self.frames_all + self.frames.get(conn.n, []):
                await ws.send(frame)
            if conn.n in self.close_after:
                await ws.close(1001, "going away")
                return

    # ---- REST ----------------------------------------------------------------------------------
    # /v2/stocks/bars (multi-symbol historical bars, docs.alpaca.markets)
    def _bars(self, req: Request) -> Response:
        keys = (req.headers.get("apca-api-key-id"), req.headers.get("apca-api-secret-key"))
        if keys != (self.key, self.secret):
            return Response(401, {"message": "unauthorized."})
        q = req.query
        if q.get("timeframe") != "1Day" or not q.get("symbols"):
            return Response(422, {"message": "invalid timeframe or symbols"})
        start, end = q.get("start", ""), q.get("end", "9999")
        rows = [
            (sym, d, c)
            for sym in q["symbols"].split(",")
            for d, c in self.bars.get(sym, [])
            if start <= d <= end
        ]
        page = min(int(q.get("limit", "1000")), self.bars_page)
        first = int(q.get("page_token") or 0)
        chunk = rows[first : first + page]
        out: dict[str, list[dict[str, Any]]] = {}
        for sym, d, c in chunk:
            bar = {"t": f"{d}T05:00:00Z", "o": c, "h": c, "l": c, "c": c, "v": 1000, "n": 10}
            out.setdefault(sym, []).append({**bar, "vw": c})
        more = first + page < len(rows)
        return Response(200, {"bars": out, "next_page_token": str(first + page) if more else None})

    def _snapshots(self, req: Request) -> Response:
        keys = (req.headers.get("apca-api-key-id"), req.headers.get("apca-api-secret-key"))
        if keys != (self.key, self.secret):
            return Response(401, {"message": "unauthorized."})
        symbols = req.query.get("symbols", "").split(",")
        return Response(200, {s: self.snapshots[s].json() for s in symbols if s in self.snapshots})

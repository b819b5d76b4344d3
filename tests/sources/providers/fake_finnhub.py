"""A local Finnhub server: websocket trades plus REST ``/api/v1/quote``, on 127.0.0.1.

Speaks the stream as Finnhub's docs describe it (feeds/sources/providers/finnhub.py): the token is
the
``token`` query parameter of the upgrade request and a wrong one is refused with HTTP 401 (as the
real server answers, Finnhub-API issue #465); the client sends one
``{"type":"subscribe","symbol":...}`` per symbol with no ack; the server sends
``{"type":"ping"}`` and ``{"type":"trade","data":[...]}`` frames and
``{"type":"error","msg":...}`` for an invalid symbol. A second connection on the same token is
refused with HTTP 429 and the symbol-limit error text is a guess: neither is documented.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import orjson
from websockets import http11
from websockets.asyncio.server import ServerConnection

from tests.sources.providers.fake_directories import finnhub_symbol
from tests.sources.providers.fake_http import FakeHTTP, Request, Response, routes
from tests.sources.providers.fake_ws import FakeWS
from tests.sources.providers.fake_yahoo import (
    CHART_PREFIX,
    SPARK_PATH,
    index_chart_reply,
    spark_reply,
)

TOKEN = "d1q7xk9rz2mv4w8hj3tc"  # random-looking, like a real token

# real frames: a US-stock capture (2022-12-29, tspannhw/FLiPN-Py-Stocks) and the docs sample
TRADES_CAPTURE = (
    '{"data":[{"c":["1","8","24","12"],"p":122.1,"s":"TSLA","t":1672348887195,"v":1},'
    '{"c":["1","24","12"],"p":129.58,"s":"AAPL","t":1672348887666,"v":1}],"type":"trade"}'
)
TRADES_DOCS = (
    '{"type":"trade","data":[{"s":"BINANCE:BTCUSDT","p":7296.89,"t":1575526691134,"v":0.011467}]}'
)
PING = '{"type":"ping"}'
INVALID_SYMBOL = '{"type":"error","msg":"Invalid symbol"}'
# undocumented: the exact text is a guess
SYMBOL_LIMIT = '{"type":"error","msg":"Subscribing to too many symbols"}'


def trades(*rows: tuple[str, float, int, float]) -> str:
    """A trade frame from (symbol, price, ms, volume) rows."""
    data = [{"c": ["1"], "p": p, "s": s, "t": t, "v": v} for s, p, t, v in rows]
    return orjson.dumps({"data": data, "type": "trade"}).decode()


@dataclass
class Quote:
    c: float
    pc: float
    t: int  # epoch seconds of the last price

    def json(self) -> dict[str, Any]:
        d = round(self.c - self.pc, 4)
        dp = round(d / self.pc * 100, 4) if self.pc else 0
        return {"c": self.c, "d": d, "dp": dp, "h": self.c, "l": self.pc, "o": self.pc,
                "pc": self.pc, "t": self.t}  # fmt: skip


@dataclass
class Conn:
    n: int
    path: str
    subscribed: list[str] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)


class FakeFinnhub(FakeWS[Conn]):
    """``async with FakeFinnhub() as fake``; ``fake.env()`` points the client at it.

    Knobs: ``frames[n]`` / ``frames_all`` sent once connection ``n`` has ``expect`` subscriptions,
    ``close_after`` connection numbers, ``conn_limit``, ``symbol_cap`` (errors beyond it),
    ``invalid`` symbols (error ``Invalid symbol X``), ``quotes`` and ``index_closes`` for REST.
    """

    http: FakeHTTP

    def __init__(self, token: str = TOKEN) -> None:
        rest = {
            CHART_PREFIX: lambda req: index_chart_reply(req, self.index_closes),
            "/api/v1/quote": self._quote,
            "/api/v1/stock/symbol": self._symbols,
            "/api/v1/stock/candle": self._candle,
            SPARK_PATH: lambda req: spark_reply(req, self.spark),  # members' closes
        }
        super().__init__()
        self.http = FakeHTTP(routes(rest, Response(404, {"error": "Not Found"})))
        self.token = token
        self.expect = 1
        self.frames: dict[int, list[str]] = {}
        self.frames_all: list[str] = []
        self.close_after: set[int] = set()
        self.conn_limit = 1
        self.symbol_cap: int | None = None
        self.invalid: set[str] = set()
        self.quotes: dict[str, Quote] = {}
        #: ``/api/v1/stock/symbol?exchange=US``
        self.symbols = [finnhub_symbol(s, "ETP", "ARCX") for s in ("IWM", "SPY", "MAGS")]
        self.index_closes: dict[str, list[tuple[str, float | None]]] = {}
        #: daily candles, symbol -> [(ISO date, close)]; False: the plan refuses them
        self.candles: dict[str, list[tuple[str, float]]] = {}
        self.candle_access = True
        self.spark: dict[str, list[tuple[str, float]]] = {}  # Yahoo's spark, same host
        self.refused: list[tuple[str, int]] = []  # (path, HTTP status) of refused upgrades
        #: (connection number, its subscriptions) once ``expect`` have arrived
        self.subscribed: asyncio.Queue[tuple[int, list[str]]] = asyncio.Queue()
        self.active = 0

    def _env(self) -> dict[str, str]:
        return {
            "R2K_FINNHUB_TOKEN": self.token,
            "R2K_FINNHUB_URL": self.ws_url,
            "R2K_FINNHUB_REST_URL": self.http.url,
            "R2K_FINNHUB_REST_PER_MINUTE": "0",
            "R2K_YAHOO_REST_URL": self.http.url,
        }

    # ---- websocket ------------------------------------------------------------------------------
    def process_request(
        self, connection: ServerConnection, request: http11.Request
    ) -> http11.Response | None:
        query = parse_qs(urlsplit(request.path).query)
        if query.get("token", [""])[-1] != self.token:
            self.refused.append((request.path, 401))
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        if self.active >= self.conn_limit:
            self.refused.append((request.path, 429))
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests\n")
        self.active += 1  # counted here so a racing second upgrade is refused
        return None

    def connect(self, ws: ServerConnection) -> Conn:
        assert ws.request is not None
        return Conn(len(self.conns), ws.request.path)

    async def session(self, ws: ServerConnection, conn: Conn) -> None:
        async for raw in ws:
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # Finnhub ignores what it cannot parse
            conn.received.append(msg)
            if msg.get("type") != "subscribe":
                continue
            sym = msg.get("symbol", "")
            conn.subscribed.append(sym)
            if self.symbol_cap is not None and len(conn.subscribed) > self.symbol_cap:
                await ws.send(SYMBOL_LIMIT)
            elif sym in self.invalid:
                await ws.send(orjson.dumps({"type": "error", "msg": f"Invalid symbol {sym}"}))
            if len(conn.subscribed) == self.expect:
                await self.subscribed.put((conn.n, list(conn.subscribed)))
                for frame in self.frames_all + self.frames.get(conn.n, []):
                    await ws.send(frame)
                if conn.n in self.close_after:
                    await ws.close(1000)
                    return

    async def closed(self, conn: Conn) -> None:
        self.active -= 1

    # ---- REST ---------------------------------------------------------------------------------
    def _symbols(self, req: Request) -> Response:
        if req.query.get("token") != self.token:
            return Response(401, {"error": "Invalid API key."})
        if req.query.get("exchange") != "US":
            return Response(200, [])
        return Response(200, self.symbols)

    # /api/v1/stock/candle (finnhub.io/docs/api/stock-candles)
    def _candle(self, req: Request) -> Response:
        if req.query.get("token") != self.token:
            return Response(401, {"error": "Invalid API key."})
        if not self.candle_access:
            return Response(403, {"error": "You don't have access to this resource."})
        rows = self.candles.get(req.query.get("symbol", ""), [])
        frm, to = int(req.query.get("from", "0")), int(req.query.get("to", "0"))
        et = ZoneInfo("America/New_York")
        stamps = [
            int(dt.datetime.combine(dt.date.fromisoformat(d), dt.time(0), et).timestamp())
            for d, _ in rows
        ]
        keep = [(t, c) for t, (_, c) in zip(stamps, rows, strict=True) if frm <= t <= to]
        if not keep:
            return Response(200, {"s": "no_data"})
        closes = [c for _, c in keep]
        return Response(
            200,
            {"c": closes, "h": closes, "l": closes, "o": closes, "s": "ok",
             "t": [t for t, _ in keep], "v": [1000] * len(keep)},
        )  # fmt: skip

    def _quote(self, req: Request) -> Response:
        if req.query.get("token") != self.token:
            return Response(401, {"error": "Invalid API key."})
        q = self.quotes.get(req.query.get("symbol", ""))
        if q is None:  # Finnhub answers an unknown symbol with zeros
            zeros = {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}
            return Response(200, zeros)
        return Response(200, q.json())

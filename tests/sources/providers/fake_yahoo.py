"""Local fakes of Yahoo's streamer (websocket, protobuf) and chart REST, on 127.0.0.1.

They speak the wire formats the provider modules state (feeds/sources/providers/yahoo*.py, from
yfinance's ``live.py`` and ``scrapers/history.py`` and yliveticker) exactly:

* streamer: ``/?version=2`` frames are ``{"type":"pricing","message":"<b64>"}``, any other path
  gets the legacy bare base64 body; a subscribe is ``{"subscribe":[...]}``, no acknowledgement,
  at most 100 symbols per connection, cumulative, first come first served, the rest silently
  ignored; a malformed client message closes the connection with no close code (1005).
* chart: ``GET /v8/finance/chart/{symbol}`` with the success body yfinance parses or the error
  bodies (404/422 JSON, 429 plain text ``Edge: Too Many Requests``); ``index_chart_reply`` is the
  daily-closes chart the Alpaca and Finnhub fakes serve for ^RUT/^GSPC.

Also a tiny ``PricingData`` encoder so tests can build frames for any symbol.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import struct
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from websockets.asyncio.server import ServerConnection

from tests.sources.providers.fake_directories import nasdaq_traded
from tests.sources.providers.fake_http import FakeHTTP, Request, Response, routes
from tests.sources.providers.fake_ws import FakeWS

STREAM_CAP = 100  # symbols per connection (measured with yfinance 1.7.0)
SPARK_PATH = "/v8/finance/spark"
SPARK_CAP = 20  # symbols per spark request (Yahoo refuses more)


# ---- PricingData encoder ---------------------------------------------------------------------
def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num: int, wire: int) -> bytes:
    return _varint((num << 3) | wire)


def _zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 63)


_STRINGS = {"id": 1, "currency": 4, "exchange": 5, "short_name": 13, "from_currency": 30}
_FLOATS = {"price": 2, "change_percent": 8, "day_high": 10, "day_low": 11, "change": 12}
_FLOATS |= {"open_price": 15, "previous_close": 16, "bid": 23, "ask": 25}
_SINTS = {"time": 3, "day_volume": 9, "last_size": 22, "bid_size": 24, "ask_size": 26}
_SINTS |= {"price_hint": 27}
_INTS = {"quote_type": 6, "market_hours": 7}
_ORDER = {**_STRINGS, **_FLOATS, **_SINTS, **_INTS}


def encode_pricing(**fields: Any) -> bytes:
    """A ``PricingData`` message with the given fields, in field-number order. A field passed as
    None is left out; ``market_hours=0`` IS written (Yahoo sends it explicitly)."""
    out = bytearray()
    for name in sorted(fields, key=lambda n: _ORDER[n]):
        value = fields[name]
        if value is None:
            continue
        num = _ORDER[name]
        if name in _STRINGS:
            data = str(value).encode()
            out += _key(num, 2) + _varint(len(data)) + data
        elif name in _FLOATS:
            out += _key(num, 5) + struct.pack("<f", value)
        elif name in _SINTS:
            out += _key(num, 0) + _varint(_zigzag(int(value)))
        else:
            out += _key(num, 0) + _varint(int(value))
    return bytes(out)


def b64(message: bytes) -> str:
    return base64.b64encode(message).decode()


def envelope(message_b64: str) -> str:
    return orjson.dumps({"type": "pricing", "message": message_b64}).decode()


def quote_frame(
    symbol: str, price: float, time_ms: int, *, change: float = 0.0, day_volume: int = 0
) -> str:
    """The base64 message of an equity-like update (the fields every real equity frame has)."""
    return b64(
        encode_pricing(
            id=symbol,
            price=price,
            time=time_ms,
            exchange="WCB" if symbol.startswith("^") else "NMS",
            quote_type=9 if symbol.startswith("^") else 8,
            market_hours=1,
            change_percent=(change / (price - change) * 100) if price != change else None,
            day_volume=day_volume or None,
            change=change or None,
            price_hint=2,
        )
    )


# ---- streamer --------------------------------------------------------------------------------
@dataclass
class StreamConn:
    """One client connection as the fake sees it."""

    ws: ServerConnection
    path: str
    subscribed: list[str] = field(default_factory=list)  # accepted, in arrival order
    ignored: list[str] = field(default_factory=list)  # past the cap: silently dropped
    messages: list[str] = field(default_factory=list)  # every client text frame, raw

    @property
    def v2(self) -> bool:
        return "version=2" in self.path

    async def send_message(self, message_b64: str) -> None:
        """A pricing update in this connection's framing (v2 envelope or legacy bare base64)."""
        await self.ws.send(envelope(message_b64) if self.v2 else message_b64)

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def close(self, code: int | None = 1000) -> None:
        """Close from the server side; ``None`` sends a close frame without a code (1005)."""
        await self.ws.close(code)  # type: ignore[arg-type]


class FakeYahooStreamer(FakeWS[StreamConn]):
    """``async with FakeYahooStreamer() as fake:`` then point the feed at ``fake.ws_url``.

    ``fake.subscribes`` gets the connection after every subscribe message it accepted; tests wait
    on it. ``auto`` maps symbol -> base64 message sent right after a subscribe that includes
    that symbol (Yahoo sends a snapshot of the last price right after subscribe).
    """

    def __init__(self, *, legacy: bool = False) -> None:
        super().__init__()
        self.path = "/" if legacy else "/?version=2"
        self.subscribes: asyncio.Queue[StreamConn] = asyncio.Queue()
        self.protocol_errors = 0  # malformed client messages (the real server closes 1005)
        self.auto: dict[str, str] = {}

    def connect(self, ws: ServerConnection) -> StreamConn:
        return StreamConn(ws, ws.request.path if ws.request else "/")

    async def session(self, ws: ServerConnection, conn: StreamConn) -> None:
        async for raw in ws:
            if not isinstance(raw, str):
                await self._malformed(conn)
                return
            conn.messages.append(raw)
            symbols = self._parse(raw)
            if symbols is None:
                await self._malformed(conn)
                return
            if "subscribe" in orjson.loads(raw):
                fresh = [s for s in symbols if s not in conn.subscribed]
                room = STREAM_CAP - len(conn.subscribed)
                conn.subscribed += fresh[: max(room, 0)]
                conn.ignored += fresh[max(room, 0) :]
                self.subscribes.put_nowait(conn)
                for s in fresh[: max(room, 0)]:
                    if s in self.auto:
                        await conn.send_message(self.auto[s])
            else:  # unsubscribe frees slots
                conn.subscribed = [s for s in conn.subscribed if s not in symbols]

    @staticmethod
    def _parse(raw: str) -> list[str] | None:
        """The symbol list of a valid client message, None if the real server would hang up."""
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(msg, dict) or not set(msg) <= {"subscribe", "unsubscribe"}:
            return None
        if not msg:
            return []
        (value,) = msg.values() if len(msg) == 1 else (None,)
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            return None
        return value

    async def _malformed(self, conn: StreamConn) -> None:
        self.protocol_errors += 1
        await conn.close(None)


# ---- chart REST ------------------------------------------------------------------------------
CHART_PREFIX = "/v8/finance/chart/"
NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
TOO_WIDE = {
    "chart": {
        "result": None,
        "error": {
            "code": "Unprocessable Entity",
            "description": "Only 8 days worth of 1m granularity data are allowed to be fetched "
            "per request",
        },
    }
}


def not_found() -> Response:
    return Response(404, NOT_FOUND)


def unprocessable() -> Response:
    return Response(422, TOO_WIDE)


def rate_limited(retry_after: str | None = "0") -> Response:
    headers = {"Content-Type": "text/plain"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Response(429, "Edge: Too Many Requests", headers)


def chart_body(
    symbol: str,
    bars: list[tuple[int, float | None]],
    *,
    previous_close: float | None,
    regular: tuple[int, int],
    market_price: float | None = None,
    market_time: int | None = None,
    interval: str = "1m",
    range_: str = "1d",
    instrument: str = "EQUITY",
) -> dict[str, Any]:
    """A success body shaped as yfinance parses it: full meta, parallel arrays, nulls for empty
    minutes.

    ``bars`` are (epoch seconds, close or None); ``regular`` the current trading period's
    regular (start, end) in epoch seconds.
    """
    closes = [c for _, c in bars]
    last = next((c for c in reversed(closes) if c is not None), previous_close)
    start, end = regular

    def period(a: int, b: int) -> dict[str, Any]:
        return {"timezone": "EST", "start": a, "end": b, "gmtoffset": -18000}

    meta: dict[str, Any] = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "SNP" if symbol.startswith("^") else "NMS",
        "fullExchangeName": "SNP" if symbol.startswith("^") else "NasdaqGS",
        "instrumentType": instrument,
        "firstTradeDate": 1022160600,
        "regularMarketTime": market_time
        if market_time is not None
        else (bars[-1][0] if bars else start),
        "hasPrePostMarketData": True,
        "gmtoffset": -18000,
        "timezone": "EST",
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": market_price if market_price is not None else last,
        "fiftyTwoWeekHigh": 134.115,
        "fiftyTwoWeekLow": 82.11,
        "regularMarketVolume": 132718362,
        "longName": f"{symbol} long name",
        "shortName": f"{symbol} short",
        "chartPreviousClose": previous_close,
        "scale": 3,
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": period(start - 19800, start),
            "regular": period(start, end),
            "post": period(end, end + 14400),
        },
        "tradingPeriods": [[period(start, end)]],
        "dataGranularity": interval,
        "range": range_,
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
        "someFutureKey": {"ignored": True},
    }
    if previous_close is not None and range_ == "1d":
        meta["previousClose"] = previous_close
    quote = {
        "open": closes,
        "high": closes,
        "low": closes,
        "close": closes,
        "volume": [None if c is None else 1000 for c in closes],
    }
    indicators: dict[str, Any] = {"quote": [quote]}
    if interval == "1d":
        indicators["adjclose"] = [{"adjclose": closes}]
    result = {"meta": meta, "timestamp": [t for t, _ in bars], "indicators": indicators}
    return {"chart": {"result": [result], "error": None}}


LISTED = dt.date(2026, 3, 3)


class FakeYahooChart(FakeHTTP):
    """The chart endpoint, one request per connection (``Connection: close``).

    ``replies[symbol]`` is a list: each request takes the first reply, the last one repeats.
    Unknown symbols get the real 404 body.
    """

    def __init__(self) -> None:
        missing = Response(404, {"finance": {"result": None, "error": {"code": "Not Found"}}})
        listing = {"/nasdaqtraded.txt": lambda req: Response(200, self.listing)}
        spark = {SPARK_PATH: self._spark}
        super().__init__(routes({CHART_PREFIX: self._reply, **listing, **spark}, missing))
        self.replies: dict[str, list[Response]] = {}
        #: symbol -> [(ISO date, close)] the spark endpoint answers with; a request for
        #: any symbol of ``spark_fail`` gets a 404
        self.spark: dict[str, list[tuple[str, float]]] = {}
        self.spark_fail: set[str] = set()
        #: NASDAQ Trader's ``nasdaqtraded.txt``, which stands in for Yahoo's symbol list
        self.listing = nasdaq_traded([(s, s, "N") for s in ("IWM", "SPY", "MAGS")], LISTED)

    def requests_for(self, symbol: str) -> list[Request]:
        return [r for r in self.requests if r.last == symbol]

    # spark, many symbols' closes in one request (v8 shape: one object per symbol)
    def spark_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == SPARK_PATH]

    def _spark(self, req: Request) -> Response:
        if self.spark_fail & set(req.query.get("symbols", "").split(",")):
            error = {"code": "Not Found", "description": "No data found for these symbols"}
            return Response(404, {"spark": {"result": None, "error": error}})
        return spark_reply(req, self.spark)

    def _reply(self, req: Request) -> Response:
        queue = self.replies.get(req.last)
        reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else not_found()
        headers = {"Content-Type": "application/json;charset=utf-8", **reply.headers}
        return Response(reply.status, reply.body, {**headers, "Connection": "close"})


# spark, as the Yahoo fake and Finnhub's (members' closes) serve it
def spark_reply(req: Request, data: dict[str, list[tuple[str, float]]]) -> Response:
    """The v8 spark shape: one object per known symbol with ``timestamp`` (09:30 ET of each
    date, epoch s) and ``close``; unknown symbols are left out; more than 20 is a 400."""
    symbols = [s for s in req.query.get("symbols", "").split(",") if s]
    if not symbols or len(symbols) > SPARK_CAP:
        return Response(400, {"spark": {"result": None, "error": {"code": "Bad Request"}}})
    body: dict[str, Any] = {}
    et = ZoneInfo("America/New_York")
    for sym in symbols:
        rows = data.get(sym)
        if rows is None:
            continue
        stamps = [
            int(dt.datetime.combine(dt.date.fromisoformat(d), dt.time(9, 30), et).timestamp())
            for d, _ in rows
        ]
        body[sym] = {
            "symbol": sym,
            "timestamp": stamps,
            "close": [c for _, c in rows],
            "chartPreviousClose": rows[0][1] if rows else None,
            "dataGranularity": 86400,
        }
    return Response(200, body, {"Content-Type": "application/json"})


# ---- the chart as Alpaca's and Finnhub's fakes serve it: ^RUT/^GSPC daily closes -------------
def index_chart(symbol: str, closes: list[tuple[str, float | None]]) -> dict[str, Any]:
    """A v8 chart response (the success shape), one row per (ISO date, close), stamped 09:30 ET."""
    et = ZoneInfo("America/New_York")
    stamps = [
        int(dt.datetime.combine(dt.date.fromisoformat(d), dt.time(9, 30), et).timestamp())
        for d, _ in closes
    ]
    values = [c for _, c in closes]
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "USD",
                        "symbol": symbol,
                        "instrumentType": "INDEX",
                        "dataGranularity": "1d",
                        "range": "1y",
                    },
                    "timestamp": stamps,
                    "indicators": {
                        "quote": [
                            {
                                "open": values,
                                "high": values,
                                "low": values,
                                "close": values,
                                "volume": [0] * len(values),
                            }
                        ],
                        "adjclose": [{"adjclose": values}],
                    },
                }
            ],
            "error": None,
        }
    }


def index_chart_reply(req: Request, closes: dict[str, list[tuple[str, float | None]]]) -> Response:
    """``closes[symbol]`` as a chart, the real 404 body for a symbol without closes."""
    if req.last not in closes:
        return not_found()
    return Response(200, index_chart(req.last, closes[req.last]))

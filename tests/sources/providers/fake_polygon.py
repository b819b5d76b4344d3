"""A local Polygon.io / Massive: both websocket clusters and the REST aggregates it needs.

The websocket handshake follows the Massive docs as the client's own mock server
(polygon-io/client-python ``test_websocket/mock_server.py``) speaks it: ``connected`` on open,
``auth_success`` (or ``auth_failed``) after the auth action, then one ``success`` status per
subscribed topic. Failure modes are switches: a wrong key, the one
connection per cluster limit (``max_connections`` then close 1008), a plan without indices
(``error`` / ``not authorized``). Tests drive data frames through ``Conn.send``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from tests.sources.providers.fake_directories import polygon_ticker, polygon_tickers_page
from tests.sources.providers.fake_http import FakeHTTP, Request, Response
from tests.sources.providers.fake_ws import FakeWS

KEY = "Xq7Lz2Rv9Wm4Kt8Pn3Jc6Hb1Gd5Fs0Ya"  # random-looking, like a real key

CONNECTED = '[{"ev":"status","status":"connected","message":"Connected Successfully"}]'
AUTH_SUCCESS = '[{"ev":"status","status":"auth_success","message":"authenticated"}]'
AUTH_FAILED = '[{"ev":"status","status":"auth_failed","message":"authentication failed"}]'
MAX_CONNECTIONS_TEXT = (
    "Maximum number of websocket connections exceeded. You have reached the connection limit "
    "for your account. Please contact support at https://polygon.io/contact to increase your limit."
)
MAX_CONNECTIONS = orjson.dumps(
    [{"ev": "status", "status": "max_connections", "message": MAX_CONNECTIONS_TEXT}]
).decode()
NOT_AUTHORIZED = '[{"ev":"status","status":"error","message":"not authorized"}]'

ET = ZoneInfo("America/New_York")


@dataclass(eq=False)
class Conn:
    """One client connection as the server saw it."""

    cluster: str
    ws: ServerConnection
    received: list[dict[str, Any]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    authed: bool = False
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, frame: str) -> None:
        await self.ws.send(frame)


class FakePolygon(FakeWS[Conn]):
    """``async with FakePolygon() as fake:`` gives ``fake.ws_url`` and ``fake.http.url``."""

    http: FakeHTTP

    def __init__(
        self,
        key: str = KEY,
        *,
        deny_indices: bool = False,
        rest_indices: bool = True,
        on_subscribe: Callable[[Conn, list[str]], list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.http = FakeHTTP(self._rest)
        self.key = key
        self.deny_indices = deny_indices  # websocket plan without the indices channel
        self.rest_indices = rest_indices  # REST plan with index aggregates
        self.on_subscribe = on_subscribe  # frames to send after a subscribe's acks
        self.daily: dict[str, list[tuple[str, float]]] = {}  # ticker -> [(iso date, close)]
        self.grouped: dict[str, dict[str, float]] = {}  # iso date -> {ticker: close}
        self.grouped_any: dict[str, float] | None = None  # the same answer for any date
        #: ``/v3/reference/tickers`` (served in pages of the request's ``limit``)
        self.tickers = [polygon_ticker(t, "ETF", "ARCX") for t in ("IWM", "SPY", "MAGS")]
        #: /v3/reference/conditions results, served in two pages (a next_url cursor); None: 404
        self.conditions: list[dict[str, Any]] | None = None

    def _env(self) -> dict[str, str]:
        return {
            "R2K_POLYGON_KEY": self.key,
            "R2K_POLYGON_URL": self.ws_url,
            "R2K_POLYGON_REST_URL": self.http.url,
        }

    def of(self, cluster: str) -> list[Conn]:
        return [c for c in self.conns if c.cluster == cluster]

    async def subscribed(self, cluster: str, n: int = 1, within: float = 5.0) -> Conn:
        """The ``n``-th connection (1-based) to ``cluster`` once it has subscribed."""
        return await self.nth(
            lambda c: c.cluster == cluster, n, lambda c: c.subscribed.is_set(), within
        )

    # ---- websocket -----------------------------------------------------------------------------
    def connect(self, ws: ServerConnection) -> Conn:
        assert ws.request is not None
        return Conn(ws.request.path.strip("/"), ws)

    async def session(self, ws: ServerConnection, conn: Conn) -> None:
        cluster = conn.cluster
        if cluster not in ("stocks", "indices"):
            await ws.close(1008, "unknown cluster")
            return
        await ws.send(CONNECTED)
        async for raw in ws:
            msg = orjson.loads(raw)
            conn.received.append(msg)
            action = msg.get("action")
            if action == "auth":
                if msg.get("params") != self.key:
                    await ws.send(AUTH_FAILED)
                    await ws.close(1008, "authentication failed")
                    return
                live = [
                    c
                    for c in self.of(cluster)
                    if c is not conn and c.authed and c.ws.state is State.OPEN
                ]
                if live:  # one simultaneous connection per cluster per account
                    await ws.send(MAX_CONNECTIONS)
                    await ws.close(1008, "max connections")
                    return
                conn.authed = True
                await ws.send(AUTH_SUCCESS)
            elif action == "subscribe":
                params = [p for p in str(msg.get("params", "")).split(",") if p]
                if cluster == "indices" and self.deny_indices:
                    await ws.send(NOT_AUTHORIZED)
                else:
                    for p in params:
                        conn.topics.append(p)
                        await ws.send(
                            orjson.dumps(
                                [
                                    {
                                        "ev": "status",
                                        "status": "success",
                                        "message": f"subscribed to: {p}",
                                    }
                                ]
                            ).decode()
                        )
                    for frame in self.on_subscribe(conn, params) if self.on_subscribe else ():
                        await ws.send(frame)
                conn.subscribed.set()
            await self.notify()

    async def closed(self, conn: Conn) -> None:
        conn.closed.set()

    # ---- REST ----------------------------------------------------------------------------------
    def _rest(self, req: Request) -> Response:
        auth = req.headers.get("authorization", "")
        if auth != f"Bearer {self.key}" and req.query.get("apiKey") != self.key:
            return Response(
                401, {"status": "ERROR", "request_id": "r1", "error": "Unknown API Key"}
            )
        if req.path == "/v3/reference/tickers":
            return polygon_tickers_page(req, self.tickers)
        parts = req.path.strip("/").split("/")
        if req.path == "/v3/reference/conditions" and self.conditions is not None:
            half = len(self.conditions) // 2
            if req.query.get("cursor") == "page2":
                return Response(200, {"status": "OK", "results": self.conditions[half:]})
            return Response(
                200,
                {
                    "status": "OK",
                    "request_id": "c1",
                    "count": half,
                    "results": self.conditions[:half],
                    "next_url": f"{self.http.url}/v3/reference/conditions?cursor=page2",
                },
            )
        # /v2/aggs/ticker/{ticker}/range/1/day/{from}/{to}
        if parts[:3] == ["v2", "aggs", "ticker"] and len(parts) == 9 and parts[4] == "range":
            ticker, start, end = parts[3], parts[7], parts[8]
            if ticker.startswith("I:") and not self.rest_indices:
                return Response(
                    403,
                    {
                        "status": "NOT_AUTHORIZED",
                        "request_id": "r2",
                        "message": "You are not entitled to this data. Please upgrade your plan "
                        "at https://massive.com/pricing",
                    },
                )
            rows = [(d, c) for d, c in self.daily.get(ticker, []) if start <= d <= end]
            results = [self._bar(d, c, None) for d, c in rows]
            return Response(200, self._aggs(results, ticker=ticker))
        # /v2/aggs/grouped/locale/us/market/stocks/{date}
        if parts[:6] == ["v2", "aggs", "grouped", "locale", "us", "market"] and len(parts) == 8:
            day = parts[7]
            market = self.grouped.get(day, self.grouped_any or {})
            results = [self._bar(day, c, t) for t, c in market.items()]
            return Response(200, self._aggs(results))
        return Response(404, {"status": "NOT_FOUND", "request_id": "r3", "message": "Not found"})

    @staticmethod
    def _bar(day: str, close: float, ticker: str | None) -> dict[str, Any]:
        midnight = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(0), ET)
        bar: dict[str, Any] = {
            "v": 1000.0,
            "vw": close,
            "o": close,
            "c": close,
            "h": close,
            "l": close,
            "t": int(midnight.timestamp() * 1000),
            "n": 10,
        }
        if ticker is not None:
            bar = {"T": ticker, **bar}
        return bar

    @staticmethod
    def _aggs(results: list[dict[str, Any]], ticker: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "queryCount": len(results),
            "resultsCount": len(results),
            "adjusted": True,
            "results": results,
            "status": "OK",
            "request_id": "r0",
            "count": len(results),
        }
        if ticker is not None:
            body = {"ticker": ticker, **body}
        return body

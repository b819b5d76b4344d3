"""The providers' symbol lists as their REST endpoints serve them, for the fakes on 127.0.0.1.

Shapes follow each provider's documentation: Alpaca's Asset object (``/v2/assets``), Massive's
reference tickers (``/v3/reference/tickers``: ``results`` pages with a ``next_url`` carrying a
``cursor``), Finnhub's ``/api/v1/stock/symbol`` entries, and NASDAQ Trader's pipe-separated
``nasdaqtraded.txt`` with its ``File Creation Time`` footer.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from typing import Any

from tests.sources.providers.fake_http import Handler, Request, Response


def alpaca_asset(symbol: str, exchange: str = "NYSE", status: str = "active") -> dict[str, Any]:
    """One Alpaca Asset object (the trading API's ``GET /v2/assets`` items)."""
    return {
        "id": f"00000000-0000-4000-8000-{abs(hash(symbol)) % 10**12:012d}",
        "class": "us_equity",
        "exchange": exchange,
        "symbol": symbol,
        "name": f"{symbol} Common Stock",
        "status": status,
        "tradable": True,
        "marginable": True,
        "maintenance_margin_requirement": 30,
        "shortable": True,
        "easy_to_borrow": True,
        "fractionable": True,
        "attributes": [],
    }


def alpaca_assets_route(assets: list[dict[str, Any]], key: str, secret: str) -> Handler:
    """``/v2/assets``: the keys in the ``APCA-API-*`` headers, else 401 as Alpaca answers it."""

    def handler(req: Request) -> Response:
        keys = (req.headers.get("apca-api-key-id"), req.headers.get("apca-api-secret-key"))
        if keys != (key, secret):
            return Response(401, {"code": 40110000, "message": "request is not authorized"})
        status = req.query.get("status")
        return Response(200, [a for a in assets if status in (None, a["status"])])

    return handler


def polygon_ticker(ticker: str, kind: str = "CS", exchange: str = "XNYS") -> dict[str, Any]:
    """One Massive reference ticker (``/v3/reference/tickers`` ``results`` item)."""
    return {
        "ticker": ticker,
        "name": f"{ticker} Inc.",
        "market": "stocks",
        "locale": "us",
        "primary_exchange": exchange,
        "type": kind,
        "active": True,
        "currency_name": "usd",
        "cik": "0000000000",
        "composite_figi": "BBG000000000",
        "share_class_figi": "BBG001000000",
        "last_updated_utc": "2026-03-03T00:00:00Z",
    }


def _cursor(offset: int, limit: int) -> str:
    return base64.urlsafe_b64encode(f"{offset},{limit}".encode()).decode()


def polygon_tickers_page(req: Request, tickers: list[dict[str, Any]]) -> Response:
    """One page: ``limit`` from the first request, the offset inside the opaque cursor; the
    ``next_url`` names Massive's own host, as the real one does."""
    cursor = req.query.get("cursor")
    if cursor:  # the cursor alone carries the query
        offset, limit = (int(x) for x in base64.urlsafe_b64decode(cursor).decode().split(","))
    else:
        offset, limit = 0, int(req.query.get("limit", "100"))
        if req.query.get("market") != "stocks" or req.query.get("active") != "true":
            return Response(400, {"status": "ERROR", "request_id": "r9", "error": "bad query"})
    page = tickers[offset : offset + limit]
    body: dict[str, Any] = {
        "results": page,
        "status": "OK",
        "request_id": "r4",
        "count": len(page),
    }
    if offset + limit < len(tickers):
        body["next_url"] = (
            f"https://api.massive.com/v3/reference/tickers?cursor={_cursor(offset + limit, limit)}"
        )
    return Response(200, body)


def finnhub_symbol(symbol: str, kind: str = "Common Stock", mic: str = "XNYS") -> dict[str, Any]:
    """One Finnhub ``/stock/symbol`` entry."""
    return {
        "currency": "USD",
        "description": f"{symbol} INC",
        "displaySymbol": symbol,
        "figi": "BBG000000000",
        "isin": None,
        "mic": mic,
        "shareClassFIGI": "BBG001000000",
        "symbol": symbol,
        "symbol2": "",
        "type": kind,
    }


NASDAQ_TRADED_HEADER = (
    "Nasdaq Traded|Symbol|Security Name|Listing Exchange|Market Category|ETF|Round Lot Size|"
    "Test Issue|Financial Status|CQS Symbol|NASDAQ Symbol|NextShares"
)


def nasdaq_traded(rows: Iterable[tuple[str, str, str]], created: dt.date) -> str:
    """``nasdaqtraded.txt``: (ACT symbol, NASDAQ symbol, test issue Y/N) rows, CRLF lines."""
    lines = [NASDAQ_TRADED_HEADER]
    for act, nasdaq, test in rows:
        lines.append(f"Y|{act}|{act} Common Stock|N| |N|100|{test}||{act}|{nasdaq}|N")
    lines.append(f"File Creation Time: {created:%m%d%Y}21:32|||||||||||")
    return "\r\n".join(lines) + "\r\n"

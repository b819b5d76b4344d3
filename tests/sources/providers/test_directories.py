"""Each provider's symbol list downloaded from a local fake, cached, and never in the way."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import orjson
import pytest

from feeds.events import FeedState
from feeds.feed import FeedOptions
from feeds.reference.directory import DirectoryCache, SymbolDirectory, bundled, read_directory
from feeds.sources.providers import directories
from feeds.sources.providers.alpaca import AlpacaFeed
from feeds.sources.providers.directories import (
    alpaca_assets,
    alpaca_with_fallback,
    finnhub_symbols,
    nasdaq_traded,
    polygon_tickers,
    refresh,
)
from feeds.sources.providers.http import RestClient, RestError
from feeds.sources.providers.polygon import PolygonFeed, from_polygon
from feeds.sources.providers.yahoo import YahooFeed
from tests.sources.providers.collector import Collector
from tests.sources.providers.fake_alpaca import KEY, SECRET, FakeAlpaca, trade
from tests.sources.providers.fake_directories import (
    alpaca_asset,
    finnhub_symbol,
    polygon_ticker,
)
from tests.sources.providers.fake_directories import (
    nasdaq_traded as listing,
)
from tests.sources.providers.fake_finnhub import TOKEN, FakeFinnhub
from tests.sources.providers.fake_http import FakeHTTP, Request, Response
from tests.sources.providers.fake_polygon import KEY as POLYGON_KEY
from tests.sources.providers.fake_polygon import FakePolygon
from tests.sources.providers.fake_yahoo import FakeYahooChart, FakeYahooStreamer
from tests.sources.providers.harness import NOW, SYMBOLS, open_fast

NOW_MS = 1_772_550_000_000  # 2026-03-03 15:00 UTC


def client(url: str, **kw: object) -> RestClient:
    rest = RestClient(url, min_interval=0.0, retries=1, **kw)  # type: ignore[arg-type]
    rest.sleep = lambda s: asyncio.sleep(0)
    return rest


# ---- each provider's list --------------------------------------------------------------------
async def test_alpaca_assets_canonical_without_otc_or_inactive() -> None:
    async with FakeAlpaca() as fake:
        fake.assets = [
            alpaca_asset("BRK.B"),
            alpaca_asset("MOG.A"),
            alpaca_asset("RUSHA", "NASDAQ"),
            alpaca_asset("IWM", "ARCA"),
            alpaca_asset("GBTC", "OTC"),
            alpaca_asset("OLD", status="inactive"),
        ]
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        rest = client(fake.http.url, headers=headers)
        try:
            assert await alpaca_assets(rest) == {"BRK-B", "MOG-A", "RUSHA", "IWM"}
        finally:
            await rest.aclose()
        req = next(r for r in fake.http.requests if r.path == "/v2/assets")
        assert req.query == {"status": "active", "asset_class": "us_equity"}
        assert req.headers["apca-api-key-id"] == KEY


async def test_alpaca_tries_the_live_host_then_paper() -> None:
    live = FakeHTTP(lambda req: Response(401, {"code": 40110000, "message": "unauthorized"}))
    async with live, FakeAlpaca() as paper:
        paper.assets = [alpaca_asset("MOG.A")]
        headers = {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET}
        got = await alpaca_with_fallback([live.url, paper.http.url], headers)
        assert got == {"MOG-A"} and len(live.requests) == 1
        with pytest.raises(RestError) as e:
            await alpaca_with_fallback([live.url], headers)
        assert e.value.status == 401


async def test_polygon_pages_by_cursor_on_its_own_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directories, "POLYGON_PAGE", 2)
    async with FakePolygon() as fake:
        fake.tickers = [
            polygon_ticker("BRK.B"),
            polygon_ticker("MOG.A"),
            polygon_ticker("ABRpD", "PFD"),
            polygon_ticker("ACHR.WS", "WARRANT"),
            polygon_ticker("IWM", "ETF", "ARCX"),
        ]
        rest = client(fake.http.url, headers={"Authorization": f"Bearer {POLYGON_KEY}"})
        pages: list[str] = []
        try:
            got = await polygon_tickers(rest, from_polygon, pages.append)
        finally:
            await rest.aclose()
    assert got == {"BRK-B", "MOG-A", "IWM"}
    reqs = [r for r in fake.http.requests if r.path == "/v3/reference/tickers"]
    assert len(reqs) == 3 and pages == ["symbol list page 2", "symbol list page 3"]
    assert reqs[0].query == {"market": "stocks", "active": "true", "limit": "2"}
    assert set(reqs[1].query) == {"cursor"}  # the cursor alone, asked of the fake's own host


async def test_finnhub_symbols_without_otc_or_preferreds() -> None:
    async with FakeFinnhub() as fake:
        fake.symbols = [
            finnhub_symbol("BRK.B"),
            finnhub_symbol("RUSHA", mic="XNAS"),
            finnhub_symbol("IWM", "ETP", "ARCX"),
            finnhub_symbol("NSRGY", mic="OOTC"),
            finnhub_symbol("ABR-PD", "Preference"),
        ]
        rest = client(fake.http.url, params={"token": TOKEN})
        try:
            assert await finnhub_symbols(rest) == {"BRK-B", "RUSHA", "IWM"}
        finally:
            await rest.aclose()
        assert fake.http.requests[-1].query == {"exchange": "US", "token": TOKEN}


async def test_nasdaq_trader_listing_stands_in_for_yahoo() -> None:
    async with FakeYahooChart() as fake:
        fake.listing = listing(
            [("MOG.A", "MOG.A", "N"), ("ZETA", "ZETA", "N"), ("AACT.U", "AACT=", "N")],
            dt.date(2026, 3, 3),
        )
        rest = client(fake.url)
        try:
            assert await nasdaq_traded(rest) == ({"MOG-A", "ZETA"}, dt.date(2026, 3, 3))
            fake.listing = "<html>maintenance</html>"
            with pytest.raises(RestError, match="not a symbol directory"):
                await nasdaq_traded(rest)
        finally:
            await rest.aclose()


# ---- refresh: the cache, the fallback, the timeout -------------------------------------------
def cache_in(tmp_path: Path) -> DirectoryCache:
    return DirectoryCache("alpaca", "alpaca's asset list", tmp_path)


async def test_refresh_downloads_caches_and_names_respellings(tmp_path: Path) -> None:
    cache, notes = cache_in(tmp_path), []

    async def fetch() -> set[str]:
        return {"IWM", "XYZ-A", "BE"}

    got = await refresh(
        cache.label, cache, fetch, notes.append, ["^RUT", "IWM", "XYZA", "BE"],
        now_ms=lambda: NOW_MS,
    )  # fmt: skip
    assert got is not None and got.symbols == {"IWM", "XYZ-A", "BE"}
    assert read_directory(cache.path) == got and got.fetched_ms == NOW_MS
    assert len(notes) == 1 and "XYZA→XYZ-A" in notes[0] and "next start" in notes[0]


async def test_a_fresh_cache_is_not_fetched_again(tmp_path: Path) -> None:
    cache, notes = cache_in(tmp_path), []
    cache.save(SymbolDirectory(cache.label, frozenset({"BE"}), None, NOW_MS - 3_600_000))
    calls = 0

    async def fetch() -> set[str]:
        nonlocal calls
        calls += 1
        return {"BE"}

    assert await refresh(cache.label, cache, fetch, notes.append, [], now_ms=lambda: NOW_MS) is None
    assert calls == 0 and notes == []
    # a day later it is stale: fetched again
    later = NOW_MS + 24 * 3_600_000
    assert await refresh(cache.label, cache, fetch, notes.append, [], now_ms=lambda: later)
    assert calls == 1 and notes == [""]


async def test_a_failed_download_keeps_the_cached_copy_with_one_line(tmp_path: Path) -> None:
    cache, notes = cache_in(tmp_path), []
    old = SymbolDirectory(cache.label, frozenset({"BE"}), dt.date(2026, 3, 1), 1_000)
    cache.save(old)
    async with FakeHTTP(lambda req: Response(503, {"message": "down"})) as down:
        rest = client(down.url)
        try:
            got = await refresh(cache.label, cache, lambda: alpaca_assets(rest), notes.append, [])
        finally:
            await rest.aclose()
    assert got is None and cache.load() == old  # the cache is left as it was
    assert notes == [
        f"symbol list: alpaca's asset list unavailable (gave up after 2 tries: HTTP 503 from "
        f"{down.url}/v2/assets); holdings spelt by alpaca's asset list of 2026-03-01"
    ]


async def test_no_cache_and_no_list_falls_back_to_the_bundled_copy(tmp_path: Path) -> None:
    cache, notes = cache_in(tmp_path), []

    async def empty() -> set[str]:
        return set()

    assert await refresh(cache.label, cache, empty, notes.append, []) is None
    assert notes[0].endswith(
        f"(the list came back empty); holdings spelt by {bundled().describe()}"
    )
    assert not cache.path.exists()


async def test_a_download_that_hangs_times_out(tmp_path: Path) -> None:
    cache, notes = cache_in(tmp_path), []
    never = asyncio.Event()

    async def hang() -> set[str]:
        await never.wait()
        return set()

    got = await refresh(cache.label, cache, hang, notes.append, [], give_up_after=0.05)
    assert got is None and "unavailable (timed out)" in notes[0]


# ---- in a feed: the download runs beside the stream, never before it --------------------------
async def test_alpaca_streams_while_its_asset_list_downloads(tmp_path: Path) -> None:
    release = asyncio.Event()
    async with FakeAlpaca() as fake:
        fake.frames_all = [trade_frame()]
        held = fake.http.handler

        async def slow(req: Request) -> Response:
            if req.path == "/v2/assets":
                await release.wait()  # the list is slow to come
            reply = held(req)
            return await reply if asyncio.iscoroutine(reply) else reply  # type: ignore[misc]

        fake.http.handler = slow
        fake.assets = [alpaca_asset("IWM", "ARCA"), alpaca_asset("SPY", "ARCA")]
        cache = WatchedCache("alpaca", "alpaca's asset list", tmp_path)
        options = FeedOptions(
            symbols=list(SYMBOLS), env=fake.env(), stale_after=3600, symbol_cache=cache
        )
        feed = open_fast("alpaca:iex", options, AlpacaFeed, NOW)
        async with Collector(feed) as run:
            await run.status(FeedState.LIVE)
            await run.tick("IWM")  # streaming while the asset list is still on its way
            assert any(r.path == "/v2/assets" for r in fake.http.requests)
            assert not cache.path.exists()
            release.set()
            await asyncio.wait_for(cache.saved.wait(), 10)
        assert cache.load() is not None and cache.load().symbols == {"IWM", "SPY"}  # type: ignore[union-attr]


async def test_a_failing_list_is_one_status_note_and_the_stream_goes_on(tmp_path: Path) -> None:
    async with FakeYahooStreamer() as streamer, FakeYahooChart() as chart:
        chart.listing = "<html>maintenance</html>"
        cache = DirectoryCache("nasdaqtrader", "NASDAQ Trader's US listing", tmp_path)
        env = {
            "R2K_YAHOO_URL": streamer.ws_url,
            "R2K_YAHOO_REST_URL": chart.url,
            "R2K_YAHOO_DIRECTORY_URL": chart.url,
            "R2K_YAHOO_BACKFILL": "off",
        }
        options = FeedOptions(symbols=["^RUT", "IWM"], env=env, symbol_cache=cache)
        feed = open_fast("yahoo", options, YahooFeed)
        async with Collector(feed) as run:
            status = await run.wait(
                lambda e: getattr(e, "state", None) is FeedState.LIVE and "symbol list" in e.detail
            )
        assert (
            "symbol list: NASDAQ Trader's US listing unavailable (not a symbol directory file"
            in status.detail
        )
        assert f"holdings spelt by {bundled().describe()}" in status.detail
        assert "\n" not in status.detail
        assert [r.path for r in chart.requests if r.path.endswith(".txt")] == ["/nasdaqtraded.txt"]


async def test_polygon_fetches_its_list_after_the_previous_closes(tmp_path: Path) -> None:
    async with FakePolygon() as fake:
        fake.tickers = [polygon_ticker("MOG.A"), polygon_ticker("IWM", "ETF", "ARCX")]
        cache = WatchedCache("polygon", "Massive's ticker list", tmp_path)
        env = fake.env(R2K_POLYGON_REST_PER_MINUTE="0")
        options = FeedOptions(symbols=list(SYMBOLS), env=env, symbol_cache=cache)
        feed = open_fast("polygon", options, PolygonFeed, NOW)
        async with Collector(feed):
            await asyncio.wait_for(cache.saved.wait(), 10)
        paths = [r.path for r in fake.http.requests]
        assert paths[-1] == "/v3/reference/tickers"  # last, on the same rate-limited client
        assert any(p.startswith("/v2/aggs/") for p in paths[:-1])
        assert cache.load().symbols == {"MOG-A", "IWM"}  # type: ignore[union-attr]


def trade_frame() -> str:
    return orjson.dumps([trade("IWM", 252.0, "2026-03-05T15:00:00.5Z")]).decode()


class WatchedCache(DirectoryCache):
    """A cache that says when it has been written (``save`` runs in a worker thread)."""

    def __init__(self, name: str, label: str, root: Path) -> None:
        super().__init__(name, label, root)
        self.saved = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def save(self, d: SymbolDirectory) -> str:
        problem = super().save(d)
        self._loop.call_soon_threadsafe(self.saved.set)
        return problem

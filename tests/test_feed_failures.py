"""A dead feed is not a success (issue 8 §1): exit statuses through the real CLI against local
fakes, the pipeline's verdict on a run, the status lines scripts read, and the monitor's own
exit status."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.server import ServerConnection

from feeds.alerting.alerts import StatusLineSink
from feeds.backoff import Backoff
from feeds.events import FeedState, FeedStatus, Tick
from feeds.feed import FeedOptions
from feeds.pipeline import Pipeline
from feeds.sources.providers.yahoo import YahooFeed
from tests.conftest import write_holdings
from tests.sources.providers.collector import Collector
from tests.sources.providers.fake_alpaca import FakeAlpaca
from tests.sources.providers.fake_http import Response
from tests.sources.providers.fake_yahoo import FakeYahooStreamer, StreamConn
from tests.sources.providers.harness import needs_r2k, run_r2k
from tests.tui_fakes import FakeFeed
from tui.cli import main


def closed_port() -> int:
    """A local port nothing listens on: a connection is refused at once (no network)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never answers (a REST endpoint that hangs)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


class GarbageStreamer(FakeYahooStreamer):
    """Accepts the subscription, then sends frames no Yahoo client can read, on and on."""

    async def session(self, ws: ServerConnection, conn: StreamConn) -> None:
        await ws.recv()
        await self.notify()
        while True:
            await ws.send("<html><body>502 Bad Gateway</body></html>")
            await asyncio.sleep(0.01)  # pacing the fake, not synchronising the test


def last_line(err: str) -> str:
    return err.rstrip("\n").splitlines()[-1]


# ---- the CLI against local fakes --------------------------------------------------------------
@needs_r2k
async def test_snapshot_with_no_network_exits_3_naming_the_host(tmp_path: Path) -> None:
    port = closed_port()
    env = {
        "R2K_YAHOO_URL": f"ws://127.0.0.1:{port}/?version=2",
        "R2K_YAHOO_REST_URL": f"http://127.0.0.1:{port}",
    }
    args = ["snapshot", "--feed", "yahoo", "--json", "--duration", "1.5"]
    status, out, err = await run_r2k(args, env, tmp_path)
    assert status == 3, err
    # the bundled universe (the whole index) goes out over 20 connections (Yahoo's 100-symbol
    # cap); a note on the history backfill, retrying in the background, may follow the reason
    reason = f"cannot connect to 127.0.0.1:{port}: Connection refused (0/20 connections up)"
    assert last_line(err).startswith(f"r2k: feed error: never connected: {reason}")
    feed = json.loads(out)["feed"]
    assert feed["detail"].startswith(reason)
    assert (feed["spec"], feed["state"], feed["malformed"]) == ("yahoo", "reconnecting", 0)


@needs_r2k
async def test_alerts_with_a_refused_key_exits_3_by_itself(tmp_path: Path) -> None:
    async with FakeAlpaca() as fake:
        fake.http.handler = lambda req: Response(200, {})  # REST passes: the stream refuses
        env = fake.env(R2K_ALPACA_SECRET="Wq4Zr8Xv2Km7", R2K_ALPACA_INDEX_CLOSES="off")
        status, out, err = await run_r2k(["alerts", "--feed", "alpaca:iex"], env, tmp_path)
    assert status == 3 and out == ""
    assert last_line(err) == (
        "r2k: feed error: alpaca rejected the key (402 auth failed): check R2K_ALPACA_KEY and "
        "R2K_ALPACA_SECRET"
    )
    lines = [json.loads(line) for line in err.splitlines()[:-1]]
    assert lines[-1]["kind"] == "status" and lines[-1]["state"] == "error"


@needs_r2k
async def test_record_from_a_server_sending_garbage_exits_3(tmp_path: Path) -> None:
    out_csv = tmp_path / "rec.csv"
    async with GarbageStreamer() as fake:
        env = {"R2K_YAHOO_URL": fake.ws_url, "R2K_YAHOO_BACKFILL": "off"}
        args = ["record", "--feed", "yahoo", "--out", str(out_csv), "--duration", "1.5"]
        status, _, err = await run_r2k(args, env, tmp_path)
    assert status == 3, err
    lines = err.rstrip("\n").splitlines()
    assert lines[-2] == f"r2k: recorded 0 ticks; no file kept at {out_csv}"
    assert not out_csv.exists()  # the same command works again once the server is fixed
    assert lines[-1].startswith("r2k: feed error: no readable data (")
    assert lines[-1].endswith(
        f"malformed frames skipped): nothing readable from 127.0.0.1:{fake.port}: every frame "
        "is malformed; check that R2K_YAHOO_URL points at a yahoo server"
    )
    statuses = [json.loads(line) for line in lines[:-2] if line.startswith("{")]
    assert any(s["state"] == "stale" and s.get("malformed", 0) > 0 for s in statuses)


@needs_r2k
async def test_a_live_feed_that_sent_not_one_tick_exits_3(tmp_path: Path) -> None:
    """Connected, subscribed, said live, and not one tick in the whole run (issue 19 §3: it
    exited 0 with ``feed.state = live``): nothing in the output is data, so it failed."""
    async with FakeYahooStreamer() as fake:
        env = {"R2K_YAHOO_URL": fake.ws_url, "R2K_YAHOO_BACKFILL": "off"}
        args = ["snapshot", "--feed", "yahoo", "--json", "--duration", "1.5"]
        status, out, err = await run_r2k(args, env, tmp_path)
    assert status == 3, err
    feed = json.loads(out)["feed"]
    assert feed["state"] == "live" and feed["malformed"] == 0  # the output still says what it saw
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith("r2k: feed error: no data this run: connected, but not one tick arrived")


class PolicyCloser(FakeYahooStreamer):
    """Accepts the websocket handshake, then closes every connection with 1008 (policy
    violation) before sending a frame (issue 19 §3)."""

    async def session(self, ws: ServerConnection, conn: StreamConn) -> None:
        await ws.recv()  # the subscription: the client counts itself live from here
        await ws.close(1008, "policy violation")


@needs_r2k
@pytest.mark.parametrize("command", ["snapshot", "alerts"])
async def test_a_run_that_never_received_data_exits_3_with_a_short_reason(
    tmp_path: Path, command: str
) -> None:
    # it exited 0 with feed.state "reconnecting": not one tick arrived in the whole run
    holdings = write_holdings(
        tmp_path / "h.csv",
        [("AAA", "Alpha", "Tech", 1.0), ("BBB", "Beta", "Tech", 1.0)],
        "2025-11-05",
    )  # a few names: one connection, which goes live before it is closed
    async with PolicyCloser() as fake:
        env = {"R2K_YAHOO_URL": fake.ws_url, "R2K_YAHOO_BACKFILL": "off"}
        args = [
            "--holdings",
            str(holdings),
            command,
            "--feed",
            "yahoo",
            "--duration",
            "2",
            *(["--json"] * (command == "snapshot")),
        ]
        status, out, err = await run_r2k(args, env, tmp_path)
    assert status == 3, err
    reason = last_line(err)
    assert reason.startswith("r2k: feed error: no data this run: "), reason
    assert "1008" in reason
    assert "symbol list" not in reason and "previous closes" not in reason  # notes stay apart
    if command == "snapshot":
        assert json.loads(out)["feed"]["state"] == "reconnecting"


# ---- the feed: a reason within moments, even while the backfill hangs ------------------------
async def test_yahoo_with_no_network_says_why_while_the_backfill_retries(
    silent_port: int,
) -> None:
    port = closed_port()
    env = {
        "R2K_YAHOO_URL": f"ws://127.0.0.1:{port}/?version=2",
        "R2K_YAHOO_REST_URL": f"http://127.0.0.1:{silent_port}",  # hangs: no answer at all
    }
    feed = YahooFeed("yahoo", FeedOptions(symbols=["^RUT", "^GSPC", "IWM"], env=env))
    feed.backoff_factory = lambda: Backoff(base=600.0, cap=600.0)  # type: ignore[method-assign]
    async with Collector(feed) as col:
        rec = await col.status(FeedState.RECONNECTING, within=5.0)
    assert rec.detail == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert rec.retry_at > rec.ts


# ---- the pipeline's verdict on a run ----------------------------------------------------------
def pipeline_with(*statuses: FeedStatus, ticks: int = 0) -> Pipeline:
    pipeline = Pipeline(FakeFeed())
    for st in statuses:
        pipeline.handle(st)
    for n in range(ticks):
        pipeline.handle(Tick("IWM", 200.0 + n, 1_762_353_000_000 + n))
    return pipeline


def test_feed_error_verdicts() -> None:
    live = FeedStatus(FeedState.LIVE, "yahoo streaming")
    refused = FeedStatus(FeedState.ERROR, "alpaca rejected the key (402 auth failed)")
    down = FeedStatus(FeedState.RECONNECTING, "cannot connect to h:443: Connection refused")
    garbled = FeedStatus(FeedState.STALE, "nothing readable from h:443", malformed=7)
    assert pipeline_with(refused).feed_error() == refused.detail
    assert pipeline_with(live, refused).feed_error() == refused.detail
    assert pipeline_with(down).feed_error() == f"never connected: {down.detail}"
    assert pipeline_with().feed_error() == "never connected: opening fake"
    assert pipeline_with(live, garbled).feed_error() == (
        "no readable data (7 malformed frames skipped): nothing readable from h:443"
    )
    # connected, then every connection lost before one tick (issue 19 §3): a failed run
    assert pipeline_with(live, down).feed_error() == f"no data this run: {down.detail}"
    # live and not one tick in the whole run (issue 19 §3): a failed run too
    assert pipeline_with(live).feed_error() == (
        f"no data this run: connected, but not one tick arrived ({live.detail})"
    )
    # lost after data came: not a failed run
    assert pipeline_with(live, ticks=1).feed_error() is None
    assert pipeline_with(live, down, ticks=3).feed_error() is None
    assert pipeline_with(live, garbled, ticks=1).feed_error() is None
    assert pipeline_with(ticks=2).feed_error() is None  # ticks without a LIVE status


def test_the_history_keeps_each_change_once_and_the_frame_carries_it() -> None:
    live = FeedStatus(FeedState.LIVE, "yahoo streaming", 1)
    pipeline = pipeline_with(
        live,
        FeedStatus(FeedState.LIVE, "yahoo streaming", 2, malformed=5),  # counts only
        FeedStatus(FeedState.RECONNECTING, "h:443 closed the connection (1001)", 3, 5, 1, 9),
    )
    frame = pipeline.frame()
    assert [s.ts for s in frame.status_history] == [frame.status_history[0].ts, 1, 3]
    assert frame.status == FeedStatus(
        FeedState.RECONNECTING, "h:443 closed the connection (1001)", 3, 5, 1, 9
    )
    assert frame.feed_label == "fake" and pipeline.health.ever_live


# ---- the status lines scripts read -------------------------------------------------------------
def test_status_lines_carry_the_counts_and_do_not_flood() -> None:
    err = io.StringIO()
    sink = StatusLineSink(err)
    sink(FeedStatus(FeedState.LIVE, "yahoo streaming", 1_762_353_000_000))
    for n in range(1, 50):  # garbage arriving: the count moves, nothing else
        sink(FeedStatus(FeedState.LIVE, "yahoo streaming", 1_762_353_000_000, malformed=n))
    sink(
        FeedStatus(
            FeedState.RECONNECTING, "h:443 closed the connection", 0, 49, 1, 1_762_353_005_000
        )
    )
    lines = [orjson.loads(line) for line in err.getvalue().splitlines()]
    assert [line["state"] for line in lines] == ["live", "reconnecting"]
    assert lines[1]["malformed"] == 49 and lines[1]["retry_at"] == "2025-11-05T14:30:05.000+00:00"


# ---- the monitor ---------------------------------------------------------------------------------
def test_the_monitor_exits_non_zero_when_it_ends_on_an_exception(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textual.app import App

    from tui.app import R2KApp

    shown: list[int] = []
    show = R2KApp.show_now

    def failing_show(self: R2KApp, **kw: object) -> object:
        shown.append(1)
        if len(shown) > 1:  # the first frame is fine; the next one fails (a bug)
            raise RuntimeError("frame failed")
        return show(self, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(R2KApp, "show_now", failing_show)
    monkeypatch.setattr(R2KApp, "run", lambda self, **kw: App.run(self, headless=True))
    status = main(["--feed", "sim", "--refresh", "20"])
    assert status == 1
    err = capsys.readouterr().err
    assert last_line(err) == (
        "r2k: error: the monitor stopped on an unexpected RuntimeError: frame failed"
    )


async def test_quitting_the_monitor_closes_the_feed_with_1000() -> None:
    from tests.sources.providers.test_stream import ToyFeed, ToyServer
    from tests.test_app import running
    from tui.app import R2KApp

    async with ToyServer() as server:
        app = R2KApp(Pipeline(ToyFeed(server)), refresh_hz=0.01)
        async with running(app, (80, 24)) as pilot:
            conn = await server.subscribed("/0")
            await pilot.press("q")
            await app.workers.wait_for_complete()  # closing the feed, then exiting
        await asyncio.wait_for(conn.closed.wait(), 5)
    assert app.return_code == 0
    assert (conn.ws.close_code, conn.ws.close_reason) == (1000, "r2k closing")


def test_the_text_snapshot_says_what_is_wrong_with_the_feed() -> None:
    from tui.headless import snapshot_text

    down = FeedStatus(FeedState.RECONNECTING, "cannot connect to h:443: Connection refused")
    pipeline = pipeline_with(down)
    lines = snapshot_text(pipeline.frame(), pipeline, 3).splitlines()
    assert lines[1] == "FEED     reconnecting: cannot connect to h:443: Connection refused"
    assert lines[2] == ""
    garbled = FeedStatus(FeedState.LIVE, "yahoo streaming", malformed=1024)
    pipeline = pipeline_with(garbled)
    line = snapshot_text(pipeline.frame(), pipeline, 3).splitlines()[1]
    assert line == "FEED     live: yahoo streaming (1,024 malformed frames skipped)"
    pipeline = pipeline_with(FeedStatus(FeedState.LIVE, "yahoo streaming"))
    assert snapshot_text(pipeline.frame(), pipeline, 3).splitlines()[1] == ""


async def test_finnhub_statuses_arrive_while_its_rest_warm_up_hangs(silent_port: int) -> None:
    """The fault campaign saw Finnhub's statuses held 32-37 s behind its REST warm-up."""
    from feeds.sources.providers.finnhub import FinnhubFeed
    from tests.sources.providers.fake_finnhub import FakeFinnhub
    from tests.sources.providers.harness import NOW, SYMBOLS, open_fast

    async with FakeFinnhub() as fake:
        fake.expect = 3
        env = fake.env(
            R2K_FINNHUB_MAX_SYMBOLS="3",
            R2K_FINNHUB_REST_URL=f"http://127.0.0.1:{silent_port}",  # quotes never answer
            R2K_FINNHUB_INDEX_CLOSES="off",
        )
        options = FeedOptions(symbols=list(SYMBOLS), env=env, stale_after=3600)
        feed = open_fast("finnhub", options, FinnhubFeed, NOW)
        async with Collector(feed) as col:
            live = await col.status(FeedState.LIVE, within=5.0)
    assert live.detail.startswith("finnhub streaming; subscribed 3 of ")
    assert not [e for e in col.events if not isinstance(e, FeedStatus)]  # no quote came back

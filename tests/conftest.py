"""Shared fixtures. Every test runs without the user's config, state or r2k environment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

R2K_ENV = ("R2K_CONFIG", "R2K_FEED", "R2K_DEBUG")


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """one cache directory for the run (the NYSE calendar is built once; the history
    caches are keyed by each fake server's URL, so tests never read each other's)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, session_cache: Path
) -> Path:
    """Point XDG config/state at a fresh directory so no test reads ~/.config or writes ~/.local."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    # fetched holdings (the data directory) never leak between tests or from the user's
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    for var in R2K_ENV:
        monkeypatch.delenv(var, raising=False)
    return home


# keys read by one test (some as short as "s") must not mask another test's text
@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    from feeds import secrets

    secrets.forget_all()
    yield
    secrets.forget_all()


class Received(list[dict[str, object]]):
    """The bodies a webhook endpoint received, and the switch that lets ``/hold`` answer."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()


@pytest.fixture
def hook_server() -> Iterator[tuple[str, Received]]:
    """A webhook endpoint on 127.0.0.1: (base URL, the JSON bodies received). ``/fail`` -> 500;
    ``/hold`` answers only once the test sets ``received.release`` (a post still in flight)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/hold":
                received.release.wait(10)
            received.append(json.loads(body))
            self.send_response(500 if self.path == "/fail" else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        received.release.set()
        server.shutdown()
        server.server_close()


def write_csv(path: Path, header: str, rows: Iterable[Sequence[object]]) -> Path:
    """A small CSV: ``header`` as given, then each row joined by commas."""
    lines = [header, *(",".join(str(c) for c in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_holdings(path: Path, rows: Iterable[tuple[str, str, str, float]], as_of: str) -> Path:
    """A holdings file in the bundled-snapshot format (weight in percent, as published)."""
    lines = [f"# as_of: {as_of}", "# source: test", "symbol,name,sector,weight_pct"]
    lines += [f"{s},{n},{sec},{w}" for s, n, sec, w in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


LIVE_REPLAY = "livetest"


@pytest.fixture
def live_replay() -> str:
    """A feed kind that counts as live (not sim or replay) but plays a replay file:
    ``--feed livetest:PATH``. Its alerts go to the live log and the webhook."""
    from feeds.feed import register
    from feeds.storage.replay import ReplayFeed

    register(LIVE_REPLAY)(lambda spec, arg, options: ReplayFeed(spec, Path(arg), options))
    return LIVE_REPLAY

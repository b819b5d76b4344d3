"""``r2k holdings fetch`` against a local HTTP server serving an iShares-layout file (issue 11):
a browser User-Agent, a progress bar on stderr, kept by its as-of date in the user data
directory, retries, a truncated download refused; then every command uses the latest fetch."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feeds.errors import InputFileError
from feeds.reference.holdings_fetch import FetchError, fetch, holdings_dir, latest_fetched, resolve
from tests.reference.test_holdings import FOOTER, HEADER, NBSP, PREAMBLE, _row
from tui.cli import main

NYSE = "New York Stock Exchange Inc."


def ishares_text(as_of: str = "Nov 05, 2025", names: int = 500) -> bytes:
    """An iShares IWM download (~90 KB): BOM, preamble, ``names`` equities sharing 99 % of the
    fund, a cash row, the U+00A0 line and the multi-line legal footer."""
    preamble = [line.replace("Nov 05, 2025", as_of) for line in PREAMBLE]
    weight = f"{99 / names:.4f}"
    rows = [
        _row(f"T{k:03d}", f"TEST CO {k}", "Industrials", "Equity", weight, NYSE)
        for k in range(names)
    ]
    rows.append(_row("USD", "USD CASH", "Cash and/or Derivatives", "Cash", "1.00", "-"))
    text = "\n".join([*preamble, HEADER, *rows, *FOOTER]) + "\n"
    return b"\xef\xbb\xbf" + text.encode("utf-8")


class Server:
    """A 127.0.0.1 HTTP server; ``replies`` is a list of callables answering each GET in turn
    (the last one repeats); ``agents`` the User-Agent of each request."""

    def __init__(self) -> None:
        self.replies: list[Callable[[BaseHTTPRequestHandler], None]] = []
        self.agents: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.agents.append(self.headers.get("User-Agent", ""))
                reply = outer.replies.pop(0) if len(outer.replies) > 1 else outer.replies[0]
                reply(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/IWM_holdings.csv"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as s:
        yield s


def whole(body: bytes, *, length: bool = True) -> Callable[[BaseHTTPRequestHandler], None]:
    def reply(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        if length:
            h.send_header("Content-Length", str(len(body)))
        else:
            h.send_header("Connection", "close")  # the end of the body is the end of the stream
        h.end_headers()
        for k in range(0, len(body), 4096):  # in pieces, as a real download arrives
            h.wfile.write(body[k : k + 4096])
        h.close_connection = True

    return reply


def cut(body: bytes, keep: int) -> Callable[[BaseHTTPRequestHandler], None]:
    """Announces the whole length, sends ``keep`` bytes, hangs up."""

    def reply(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:keep])
        h.close_connection = True

    return reply


def status(code: int) -> Callable[[BaseHTTPRequestHandler], None]:
    def reply(h: BaseHTTPRequestHandler) -> None:
        h.send_response(code)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return reply


def no_wait(_: float) -> None:
    pass


def test_fetch_keeps_the_file_by_its_as_of_date_with_progress(server: Server) -> None:
    body = ishares_text()
    server.replies = [whole(body)]
    seen: list[tuple[int, int | None]] = []
    path, holdings = fetch(server.url, progress=lambda done, total: seen.append((done, total)))
    assert path == holdings_dir() / "IWM_holdings_2025-11-05.csv"
    assert path.read_bytes() == body  # as downloaded: BOM, preamble, footer
    assert (len(holdings), holdings.origin, holdings.complete) == (500, "fetched", True)
    assert holdings.total_weight == pytest.approx(0.99)
    assert seen[0] == (0, len(body)) and seen[-1] == (len(body), len(body))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)  # counted as it came
    assert "Mozilla" in server.agents[0]  # iShares refuses default client agents
    # a later file is the latest; the same date again replaces the earlier download
    server.replies = [whole(ishares_text("Nov 28, 2025"))]
    later, _ = fetch(server.url)
    assert latest_fetched() == later and later.name == "IWM_holdings_2025-11-28.csv"
    assert resolve(None) == (later, "fetched")
    assert resolve(Path("mine.csv")) == (Path("mine.csv"), "given")


def test_retries_then_succeeds(server: Server) -> None:
    server.replies = [status(503), status(429), whole(ishares_text(), length=False)]
    waits: list[float] = []
    path, holdings = fetch(server.url, sleep=waits.append)
    assert len(holdings) == 500 and len(waits) == 2 and len(server.agents) == 3
    assert path.exists()


def test_a_download_cut_short_is_refused_and_nothing_is_kept(server: Server) -> None:
    body = ishares_text()
    server.replies = [cut(body, len(body) // 2)]
    with pytest.raises(FetchError) as e:
        fetch(server.url, sleep=no_wait)
    assert "could not download the holdings file after 4 tries" in str(e.value)
    assert "cut short" in str(e.value) and "\n" not in str(e.value)
    assert latest_fetched() is None
    # cut at the end of a row, with no length announced: the rows run to the end of the file
    # without the closing notes every download ends with
    end_of_row = body.index(b"\n", len(body) // 2) + 1
    server.replies = [whole(body[:end_of_row], length=False)]
    with pytest.raises(InputFileError, match=r"was cut short \(its rows run to the end"):
        fetch(server.url, sleep=no_wait)
    assert latest_fetched() is None


def test_a_block_page_or_a_refusal_is_one_line(server: Server) -> None:
    server.replies = [whole(b"<html><body>Access Denied</body></html>")]
    with pytest.raises(InputFileError) as e:
        fetch(server.url, sleep=no_wait)
    assert str(e.value).startswith("127.0.0.1 sent no usable holdings file: the download: no ")
    server.replies = [status(404)]
    with pytest.raises(FetchError, match=r"refused the holdings download \(HTTP 404\); check"):
        fetch(server.url, sleep=no_wait)
    assert latest_fetched() is None


def test_the_cli_fetches_then_every_command_uses_the_latest(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.replies = [whole(ishares_text())]
    assert main(["holdings", "fetch", "--url", server.url]) == 0
    out, err = capsys.readouterr()
    kept = holdings_dir() / "IWM_holdings_2025-11-05.csv"
    assert out == (
        "fetched holdings as of 2025-11-05: 500 equity members, weights sum to 99.00%; kept at "
        f"{kept}\n"
    )
    assert "IWM holdings" in err and "100%" in err  # the progress bar, on stderr
    # the snapshot (and the monitor) now use it, and say so
    args = ["snapshot", "--feed", "sim", "--speed", "0", "--duration", "5", "--json"]
    assert main(args) == 0
    snap = json.loads(capsys.readouterr().out)
    assert snap["holdings"]["origin"] == "fetched"
    assert snap["holdings"]["source"] == "iShares holdings IWM_holdings_2025-11-05.csv"
    assert snap["holdings"]["as_of"] == "2025-11-05"
    assert {c["symbol"] for c in snap["constituents"]} <= {f"T{k:03d}" for k in range(500)}
    # --out keeps it elsewhere (and does not make it the latest); --holdings wins over the latest
    server.replies = [whole(ishares_text("Nov 28, 2025"))]
    mine = tmp_path / "mine.csv"
    assert main(["holdings", "fetch", "--url", server.url, "--out", str(mine)]) == 0
    capsys.readouterr()
    assert mine.exists() and latest_fetched() == kept
    assert main([*args, "--holdings", str(mine)]) == 0
    snap = json.loads(capsys.readouterr().out)
    assert (snap["holdings"]["origin"], snap["holdings"]["as_of"]) == ("given", "2025-11-28")


def test_a_broken_fetched_file_says_how_to_get_rid_of_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = holdings_dir()
    folder.mkdir(parents=True)
    (folder / "IWM_holdings_2025-11-05.csv").write_text("garbage\n")
    assert main(["snapshot", "--feed", "sim", "--duration", "1", "--speed", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "IWM_holdings_2025-11-05.csv" in err
    assert "delete it to use an earlier fetch, or run 'r2k holdings fetch' again" in err


def test_nbsp_is_the_separator_line() -> None:
    assert (
        NBSP == "\u00a0"
    )  # the layout the fake serves is the real one (as ishares.com publishes it)

"""The web desk: HTTP Basic against DIR/NAME.web, the monitor in a real browser (Debian's
chromium driven by playwright; no browser download), loopback unless TLS."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.desk.conftest import Serve, alive, pids_in_group, until
from tui.cli import main

CHROMIUM = os.environ.get("R2K_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: a leaderboard row: rank, symbol, name ... a return in percent
BOARD_ROW = re.compile(r"\b1 [A-Z][A-Z.\-]{0,5} .* [+\-]\d+\.\d\d%")


def _get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_the_page_needs_a_traders_name_and_web_password(serve: Serve) -> None:
    url = f"http://127.0.0.1:{serve.web_port}/"
    status, body, headers = _get(url)
    assert status == 401 and headers["WWW-Authenticate"].startswith('Basic realm="r2k desk"')
    assert body.count("\n") == 1 and "r2k serve passwd" in body
    assert _get(url, ("ann", "not-her-password"))[0] == 401
    assert _get(url, ("bob", serve.desk.password))[0] == 401  # bob has no web password
    assert _get(url + "static/xterm.js")[0] == 401  # every path, not only the page
    status, body, headers = _get(url, ("ann", serve.desk.password))
    assert status == 200 and "static/xterm.js" in body
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    # another site's page cannot open the monitor with the browser's cached credentials
    ws = urllib.request.Request(url + "ws", headers={"Origin": "https://evil.example"})
    token = base64.b64encode(f"ann:{serve.desk.password}".encode()).decode()
    ws.add_header("Authorization", f"Basic {token}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(ws, timeout=20)
    assert refused.value.code == 403
    status, js, _ = _get(url + "static/xterm.js", ("ann", serve.desk.password))
    assert status == 200 and "Terminal" in js and "https://" not in body  # nothing from a CDN


def test_a_public_bind_without_tls_is_refused_with_one_line(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--users", str(serve.desk.users), "--web", "0.0.0.0:8022"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--tls-cert" in err and "not loopback" in err, err
    assert main([*argv[:3], "--web", "127.0.0.1:0", "--tls-cert", "c.pem"]) == 2
    assert "go together" in capsys.readouterr().err


def test_tls_files_make_an_https_context(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from tui.serve.web import check_bind

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "desk.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert check_bind("0.0.0.0", str(tmp_path / "c.pem"), str(tmp_path / "k.pem")) is not None
    assert check_bind("127.0.0.1", None, None) is None


@pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
)
async def test_the_monitor_in_a_real_browser(serve: Serve, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    shot = Path(os.environ.get("R2K_DESK_SCREENSHOT", tmp_path / "desk-web.png"))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            context = await browser.new_context(
                http_credentials={"username": "ann", "password": serve.desk.password},
                viewport={"width": 1200, "height": 700},
            )
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{serve.web_port}/")
            await page.wait_for_function(
                "() => { const r = document.querySelector('.xterm-rows');"
                " return r && r.innerText.includes('Rotation') && r.innerText.includes('live')"
                " && r.innerText.includes('Leaders')"
                # the board's first ranking with prices (it redraws twice a second)
                " && /\\b1 [A-Z][A-Z.\\-]{0,5} .* [+\\-]\\d+\\.\\d\\d%/.test(r.innerText); }",
                timeout=45_000,
            )
            text = await page.inner_text(".xterm-rows")  # the terminal's text in the page
            assert "Rotation · small vs large" in text
            assert "^RUT" in text and "Quit" in text
            assert BOARD_ROW.search(text), text
            await page.screenshot(path=str(shot))
            assert (await asyncio.to_thread(shot.stat)).st_size > 10_000
            (pid,) = serve.session_pids("ann")
            assert serve.status()["sessions"][0]["via"] == "web"
            await page.close()  # the tab closes: its monitor ends within 2 s
            took = await until(lambda: not alive(pid), 5, "the tab's monitor to end")
            assert took <= 2.0, f"the monitor outlived its tab by {took:.2f} s"
            assert pids_in_group(pid) == []
        finally:
            await browser.close()


async def test_a_browser_resize_shows_in_status_and_a_garbled_one_ends_nothing(
    serve: Serve,
) -> None:
    # tryout2: a resize without "rows" raised KeyError in the tab's reader, which ended the
    # trader's session; and `r2k serve status` kept the size the tab opened with
    import aiohttp

    details = lambda: [s["detail"] for s in serve.status()["sessions"]]  # noqa: E731
    token = base64.b64encode(f"ann:{serve.desk.password}".encode()).decode()
    url = f"http://127.0.0.1:{serve.web_port}/ws?cols=100&rows=30"
    headers = {"Authorization": f"Basic {token}"}
    async with aiohttp.ClientSession(headers=headers) as http, http.ws_connect(url) as ws:
        await until(lambda: details() == ["100x30 browser"], 20, "the tab's session")
        await ws.send_str('["resize", {"cols": 80}]')
        await ws.send_str('["resize", {"cols": "wide", "rows": 24}]')
        await ws.send_str('["resize", {"cols": 90, "rows": 25}]')
        await until(lambda: details() == ["90x25 browser"], 10, "the new size in status")
        assert not ws.closed

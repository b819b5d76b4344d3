"""Current holdings: download the iShares IWM file, keep it by its as-of date, find the latest.

``r2k holdings fetch`` downloads the fund's holdings CSV (as published on ishares.com) with httpx: a
browser ``User-Agent`` (iShares refuses default client agents), a timeout, retries with the
shared backoff on network errors, HTTP 429 and 5xx, and the bytes counted as they arrive for a
progress bar. The file is checked with the holdings parser before anything is kept, and refused
when it was cut short: fewer bytes than the server announced, or rows that run to the end of the
file without the legal footer every download ends with. It is kept, as downloaded, in the user
data directory (platformdirs: ``$XDG_DATA_HOME/r2k/holdings``, ``~/.local/share/r2k/holdings``
on Linux) as ``IWM_holdings_<as-of date>.csv``, or at ``--out``.

The app and the headless commands use ``--holdings`` when given, else the latest file fetched
(by as-of date), else the bundled snapshot (:func:`resolve`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from feeds.errors import InputFileError, R2KError
from feeds.reference.holdings import Holdings, load_holdings

if TYPE_CHECKING:  # httpx is imported when a download starts: start-up never pays for it
    import httpx

ISHARES_IWM_URL = (
    "https://www.ishares.com/us/products/239710/ishares-russell-2000-etf/1467271812596.ajax"
    "?fileType=csv&fileName=IWM_holdings&dataType=fund"
)
# iShares answers default client agents (python-httpx, curl) with a block page
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
TIMEOUT_S = 30.0  # per read and connect; the file is ~0.4 MB
RETRIES = 3  # after the first try
PREFIX = "IWM_holdings_"
_DATED = re.compile(rf"^{PREFIX}(\d{{4}}-\d{{2}}-\d{{2}})\.csv$")

#: progress callback: (bytes received so far, bytes announced or None)
Progress = Callable[[int, int | None], None]


class FetchError(R2KError):
    """The download failed for good (one line, naming the host and the reason); exit status 2
    like any bad input, since nothing was kept."""


def holdings_dir() -> Path:
    """Where fetched holdings files are kept: the user data directory's ``holdings`` folder."""
    import platformdirs

    return platformdirs.user_data_path("r2k", appauthor=False) / "holdings"


def latest_fetched(folder: Path | None = None) -> Path | None:
    """The fetched file with the latest as-of date in ``folder`` (default :func:`holdings_dir`),
    or None when there is none."""
    folder = holdings_dir() if folder is None else folder
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()]
    except OSError:
        return None
    dated = sorted(n for n in names if _DATED.match(n))
    return folder / dated[-1] if dated else None


def resolve(given: Path | None) -> tuple[Path | None, str]:
    """(the holdings file to load, its origin): ``given`` ("given"), else the latest fetched
    file ("fetched"), else None for the bundled snapshot ("bundled")."""
    if given is not None:
        return given, "given"
    latest = latest_fetched()
    return (latest, "fetched") if latest is not None else (None, "bundled")


def load_resolved(given: Path | None) -> Holdings:
    """The holdings :func:`resolve` picks, loaded, with their origin set. Raises
    InputFileError (one line; for a broken fetched file, how to get rid of it)."""
    path, origin = resolve(given)
    try:
        holdings = load_holdings(path)
    except InputFileError as e:
        if origin != "fetched":
            raise
        raise InputFileError(
            f"{e}; or delete it to use an earlier fetch, or run 'r2k holdings fetch' again"
        ) from None
    holdings.origin = origin
    return holdings


def fetch(
    url: str = ISHARES_IWM_URL,
    out: Path | None = None,
    *,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Path, Holdings]:
    """Download, check and keep a holdings file; returns (where it was kept, what it holds).

    Kept at ``out``, else in :func:`holdings_dir` by its as-of date (an earlier download of the
    same date is replaced atomically). Raises FetchError when the download fails (after the
    retries) and InputFileError when what came is not a whole holdings file; nothing is kept
    then.
    """
    data = _download(url, progress, transport, sleep)
    import tempfile

    from feeds.atomic import write_atomic

    with tempfile.TemporaryDirectory(prefix="r2k-holdings-") as tmp:
        staged = Path(tmp) / "IWM_holdings.csv"
        staged.write_bytes(data)
        try:
            holdings = load_holdings(staged)
        except InputFileError as e:
            reason = str(e).replace(str(staged), "the download")
            raise InputFileError(f"{_host(url)} sent no usable holdings file: {reason}") from None
    if not holdings.complete:
        raise InputFileError(
            f"the holdings download from {_host(url)} was cut short (its rows run to the end of "
            f"the file, {len(data):,} bytes, without the closing notes); run it again"
        )
    target = out if out is not None else holdings_dir() / f"{PREFIX}{holdings.as_of}.csv"
    try:
        # as downloaded (BOM, preamble, footer): any tool that reads iShares files reads it
        write_atomic(target, data.decode("utf-8"))  # the BOM too
    except OSError as e:
        raise InputFileError(
            f"cannot write holdings file '{target}' ({e.strerror}); choose a writable --out"
        ) from None
    holdings.source = f"iShares holdings {target.name}"
    holdings.origin = "fetched" if out is None else "given"
    holdings.warnings = [w.replace(str(staged), str(target)) for w in holdings.warnings]
    return target, holdings


def _host(url: str) -> str:
    import httpx

    try:
        return httpx.URL(url).host or url
    except Exception:
        return url


def _download(
    url: str,
    progress: Progress | None,
    transport: httpx.BaseTransport | None,
    sleep: Callable[[float], None],
) -> bytes:
    """The response body, whole; retries network errors, 429 and 5xx with the shared backoff."""
    import httpx

    from feeds.backoff import Backoff

    host = _host(url)
    backoff = Backoff(base=1.0, cap=15.0)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/csv,application/octet-stream,*/*"}
    last = ""
    with httpx.Client(
        headers=headers, timeout=TIMEOUT_S, follow_redirects=True, transport=transport
    ) as client:
        for attempt in range(RETRIES + 1):
            if attempt:
                sleep(backoff.next_delay())
            try:
                with client.stream("GET", url) as resp:
                    if resp.status_code == 429 or resp.status_code >= 500:
                        last = f"HTTP {resp.status_code} from {host}"
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(
                            f"{host} refused the holdings download (HTTP {resp.status_code}); "
                            "check --url"
                        )
                    return _body(resp, host, progress)
            except _CutShort as e:
                last = str(e)
            except httpx.HTTPError as e:
                last = f"{type(e).__name__} from {host}: {e}" if str(e) else type(e).__name__
    raise FetchError(f"could not download the holdings file after {RETRIES + 1} tries: {last}")


class _CutShort(Exception):
    pass


def _body(resp: httpx.Response, host: str, progress: Progress | None) -> bytes:
    import httpx

    header = resp.headers.get("Content-Length")
    total = int(header) if header and header.isdigit() else None
    chunks: list[bytes] = []
    got = 0  # bytes on the wire (compressed, like Content-Length), not decoded
    if progress is not None:
        progress(0, total)
    try:
        for chunk in resp.iter_bytes():
            chunks.append(chunk)
            got = resp.num_bytes_downloaded
            if progress is not None:
                progress(got, total)
    except httpx.RemoteProtocolError as e:  # the connection closed mid-body
        raise _CutShort(f"the download from {host} was cut short after {got:,} bytes") from e
    if total is not None and got < total:
        raise _CutShort(f"the download from {host} was cut short: {got:,} of {total:,} bytes")
    return b"".join(chunks)

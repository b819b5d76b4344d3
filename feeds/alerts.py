"""Where alerts go: the durable log, stdout (headless), a webhook; plus status lines for scripts.

Each sink is a callable ``(AlertEvent) -> None`` as :data:`feeds.pipeline.AlertSink` expects.
Sinks run on the pipeline's path, so none of them may raise into it or block it for long: the
log's fsync is fine because alerts are rare; the webhook posts from a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from feeds.errors import ConfigError
from feeds.events import FeedStatus
from feeds.feed import is_live
from feeds.levels import AlertEvent
from feeds.secrets import redact
from feeds.text import dumps
from feeds.timefmt import iso_ms

_TAIL_BLOCK = 64 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OFFLINE_SUFFIX = ".offline"


def _dumps(obj: dict[str, Any]) -> str:
    return dumps(obj)  # JSON with control and bidi characters escaped (feeds.text)


def offline_log_path(path: str | Path) -> Path:
    """Where sim and replay alerts go, beside the live log: ``alerts.jsonl`` ->
    ``alerts.offline.jsonl``. They never mix with alerts from a live feed."""
    p = Path(path).expanduser()
    return p.with_name(f"{p.stem}{OFFLINE_SUFFIX}{p.suffix}")


def alert_log_path(path: str | Path, feed: str) -> Path:
    """The log for alerts from a feed of kind ``feed``: ``path`` if live, else its offline twin."""
    return Path(path).expanduser() if is_live(feed) else offline_log_path(path)


def alert_key(alert: AlertEvent) -> tuple[object, ...]:
    """What makes two alerts the same event: a repeated seed-0 sim or a replay played twice
    fires identical ones, which the log and the panel keep once."""
    return (alert.ts, alert.symbol, alert.level, alert.direction, alert.kind, alert.feed)


def _reason(e: BaseException) -> str:
    return (getattr(e, "strerror", None) or str(e) or type(e).__name__).splitlines()[0]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class AlertLog:
    """Durable JSON-lines log: one ``AlertEvent.to_dict()`` per line, fsynced per alert.

    A crossing that fired on a trade later cancelled is marked by a second line with the same
    ``symbol``, ``level`` and ``direction``, ``"kind": "busted"`` and the busted alert's time in
    ``original_ts``; the log is only ever appended to.

    A write or fsync that fails (ENOSPC, EROFS, EIO) is counted, never raised, and the file is
    cut back to where the line began, so the log only ever holds whole lines and the next alert
    starts on a line of its own. :meth:`problem` says how many alerts were not written. A cut
    last line found at open (a crash or power cut mid-write) is repaired: :attr:`repaired` says
    what was done. An alert identical to one already in the log's tail is not written again.
    """

    def __init__(self, path: str | Path, *, recent: int = 500) -> None:
        self.path = Path(path).expanduser()
        self.failures = 0  # alerts not written
        self.last_error = ""
        self.duplicates = 0  # alerts already in the log, not written again
        self.repaired: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise ConfigError(
                f"cannot write the alert log '{self.path}' ({_reason(e)}); "
                "set alert_log in the config file to a writable path"
            ) from None
        self._closed = False
        try:
            self.repaired = self._repair()
        except OSError as e:
            self.repaired = f"alert log '{self.path}': could not check its last line ({_reason(e)})"
        self._recent = {alert_key(a) for a in read_recent(self.path, recent)}

    def _repair(self) -> str | None:
        """A last line without its newline was cut mid-write: complete it if it is a whole
        entry, else cut it off (it would glue onto the next alert)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return None
        with self.path.open("rb") as f:
            f.seek(max(0, size - _TAIL_BLOCK))
            tail = f.read()
        if tail.endswith(b"\n"):
            return None
        nl = tail.rfind(b"\n")
        cut = tail[nl + 1 :]
        start = size - len(cut)
        try:
            whole = isinstance(json.loads(cut), dict)
        except (ValueError, RecursionError):
            whole = False
        if whole:
            _write_all(self._fd, b"\n")
            os.fsync(self._fd)
            return None
        os.ftruncate(self._fd, start)
        os.fsync(self._fd)
        return (
            f"alert log '{self.path}': removed a cut last line ({len(cut)} bytes left by an "
            "interrupted write); every whole entry is kept"
        )

    def __call__(self, alert: AlertEvent) -> None:
        key = alert_key(alert)
        if key in self._recent:
            self.duplicates += 1
            return
        data = (_dumps(alert.to_dict()) + "\n").encode("utf-8")
        try:
            if self._closed:
                raise ValueError("the log is closed")
            self._append(data)
        except (OSError, ValueError) as e:  # disk full, read-only: never break the pipeline
            self.failures += 1
            self.last_error = _reason(e)
            return
        self._recent.add(key)

    def _append(self, data: bytes) -> None:
        fd = self._fd
        with _locked(fd):  # another r2k may share the log: cut back only our own bytes
            start = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fsync(fd)  # an alert must survive a crash or power cut
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)  # no cut line: the log keeps whole lines only
                raise

    @property
    def not_written(self) -> int:
        """Alerts that did not reach the file (see :meth:`problem`)."""
        return self.failures

    def problem(self) -> str | None:
        """One line for the user while alerts fail to reach this sink, else None.

        Every sink may have this method; the pipeline shows what they say on each frame.
        """
        if not self.failures:
            return None
        return (
            f"alert log '{self.path}': {self.failures} alert(s) not written "
            f"({self.last_error}); free some disk space or set alert_log to a writable path"
        )

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self._fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        yield  # a file system without locks: still write
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


def _epoch_ms(ts: Any) -> int:
    if isinstance(ts, int | float):
        return int(ts)
    return (datetime.fromisoformat(ts) - _EPOCH) // timedelta(milliseconds=1)


def _alert_from_dict(d: dict[str, Any]) -> AlertEvent:
    return AlertEvent(
        ts=_epoch_ms(d["ts"]),
        symbol=str(d["symbol"]),
        level=float(d["level"]),
        label=str(d.get("label", "")),
        direction=str(d["direction"]),
        price=float(d["price"]),
        kind=str(d.get("kind", "cross")),
        estimated=bool(d.get("estimated", False)),
        feed=str(d.get("feed", "")),
        # a "busted" line names the alert it busts
        original_ts=_epoch_ms(d["original_ts"]) if d.get("original_ts") else 0,
    )


def _tail_lines(path: Path, limit: int) -> list[bytes]:
    """The last ``limit`` lines of a file, read backwards in blocks (the log grows for months)."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        data = b""
        while end > 0 and data.count(b"\n") <= limit:
            start = max(0, end - _TAIL_BLOCK)
            f.seek(start)
            data = f.read(end - start) + data
            end = start
    lines = data.splitlines()
    if end > 0 and lines:
        lines = lines[1:]  # the first line read may be cut mid-way
    return lines[-limit:]


def read_recent(
    path: str | Path, limit: int = 500, *, keep: Callable[[AlertEvent], bool] | None = None
) -> list[AlertEvent]:
    """The latest ``limit`` alerts in the log, newest first (as ``Pipeline.alerts`` keeps them).

    ``keep`` filters (e.g. only alerts from live feeds); identical events are listed once.
    Garbled lines (a crash mid-write, a hand edit) are skipped; a missing or unreadable log
    gives an empty list. Never raises for the file's content.
    """
    if limit <= 0:
        return []
    try:
        lines = _tail_lines(Path(path).expanduser(), limit * 2)
    except OSError:
        return []
    out: list[AlertEvent] = []
    seen: set[tuple[object, ...]] = set()
    for line in reversed(lines):
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                continue
            alert = _alert_from_dict(d)
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            continue
        key = alert_key(alert)
        if key in seen or (keep is not None and not keep(alert)):
            continue
        seen.add(key)
        out.append(alert)
        if len(out) >= limit:
            break
    out.sort(key=lambda a: -a.ts)  # by event time: a replay's alerts are older than their line
    return out


class StdoutSink:
    """One JSON object per alert on stdout, flushed per line (for ``r2k alerts | ...``)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream

    def __call__(self, alert: AlertEvent) -> None:
        out = self._stream or sys.stdout
        out.write(_dumps(alert.to_dict()) + "\n")
        out.flush()


class StatusLineSink:
    """Feed status changes as JSON lines (``"kind": "status"``), on stderr by default.

    A line per new state or reason, with ``malformed`` (frames skipped as unreadable) and
    ``retry_at`` (the next connection attempt) when they apply. The same state and reason again
    (a malformed count that grows, the next retry of a long outage, on each of 20 connections)
    is written at most once every ``counts_every`` seconds: a dead feed must not flood a log.
    """

    # >>> fail8a (issue 8 §1-2)
    def __init__(self, stream: IO[str] | None = None, *, counts_every: float = 60.0) -> None:
        self._stream = stream
        self.counts_every = counts_every
        self._last: tuple[object, ...] | None = None
        self._last_at = -1e18

    def __call__(self, status: FeedStatus) -> None:
        key = (status.state, status.detail)
        now = time.monotonic()
        if key == self._last and now - self._last_at < self.counts_every:
            return  # only the counters or the retry time moved: written again after counts_every
        self._last, self._last_at = key, now
        line: dict[str, Any] = {
            "kind": "status",
            "state": str(status.state),
            "detail": redact(status.detail),
        }
        if status.malformed:
            line["malformed"] = status.malformed
        if status.retry_at:
            line["retry_at"] = iso_ms(status.retry_at)
        self._write(line, status.ts)

    # <<< fail8a

    def warning(self, detail: str) -> None:
        """A problem that does not stop the run (``"kind": "warning"``)."""
        self._write({"kind": "warning", "detail": detail}, 0)

    def _write(self, line: dict[str, Any], ts: int) -> None:
        out = self._stream or sys.stderr
        line["ts"] = iso_ms(ts or int(time.time() * 1000))
        out.write(_dumps(line) + "\n")
        out.flush()


class WebhookSink:
    """POSTs each alert as JSON to ``url`` from a background task; never raises or blocks.

    The queue is bounded: if the endpoint is slower than the alerts, the newest are dropped and
    counted. Failures are counted too; :meth:`status_text` reports both for the status bar.
    """

    def __init__(
        self, url: str, *, queue_size: int = 100, timeout: float = 5.0, trust_env: bool = True
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.trust_env = trust_env
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self.last_error = ""
        self._queue_size = queue_size
        self._unfinished = 0  # queued or being posted
        self._queue: asyncio.Queue[dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self, alert: AlertEvent) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.dropped += 1  # no event loop to post from (a synchronous caller)
            return
        if self._queue is None:
            self._queue = asyncio.Queue(self._queue_size)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._post_loop(self._queue))
        try:
            self._queue.put_nowait(alert.to_dict())
        except asyncio.QueueFull:
            self.dropped += 1
        else:
            self._unfinished += 1

    @property
    def pending(self) -> int:
        """Alerts queued or being posted: what :meth:`aclose` would still try to deliver."""
        return self._unfinished if self._task is not None and not self._task.done() else 0

    async def _post_loop(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=self.timeout, trust_env=self.trust_env) as client:
            while True:
                body = await queue.get()
                try:
                    r = await client.post(
                        self.url,
                        content=_dumps(body).encode("utf-8"),  # no raw control characters
                        headers={"Content-Type": "application/json"},
                    )
                    if r.status_code >= 400:
                        self.failed += 1
                        self.last_error = f"HTTP {r.status_code}"
                    else:
                        self.sent += 1
                except httpx.HTTPError as e:
                    self.failed += 1
                    self.last_error = f"{type(e).__name__}: {e}".splitlines()[0][:200]
                finally:
                    self._unfinished -= 1
                    queue.task_done()

    def problem(self) -> str | None:
        """What went wrong so far, or None (see :meth:`AlertLog.problem`)."""
        return self.status_text() if self.failed or self.dropped else None

    def status_text(self) -> str:
        text = f"webhook: {self.sent} sent"
        if self.failed:
            text += f", {self.failed} failed (last: {self.last_error})"
        if self.dropped:
            text += f", {self.dropped} dropped (queue full)"
        return text

    async def aclose(self, drain_timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``drain_timeout`` seconds), then stop the task.

        What is still undelivered then is given up: an exiting app must never hang. The poster
        is stopped even when the caller is cancelled while waiting.
        """
        task, queue = self._task, self._queue
        try:
            if queue is not None and task is not None and not task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.join(), drain_timeout)
        finally:
            self._task = self._queue = None  # the queue is bound to this loop: start afresh
            self._unfinished = 0
            if task is not None:
                task.cancel()
        if task is not None:
            await asyncio.wait({task})  # its cancellation is not ours to raise

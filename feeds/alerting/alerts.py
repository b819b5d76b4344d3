"""Where alerts go: the durable log, stdout (headless), a webhook, a command; plus status lines
for scripts.

Each sink is a callable ``(AlertEvent) -> None`` as :data:`feeds.alertdesk.AlertSink` expects.
Sinks run on the pipeline's path, so none of them may raise into it or block it for long: the
log's fsync is fine because alerts are rare; the webhook and the command run from a background
task. A muted level's alert is logged (marked ``"muted": true``) and printed, never posted or
run (issue 10).

The log also holds acknowledgements (issue 10): an alert acknowledged in the monitor gets a line
of its own, appended (the log is never rewritten)::

    {"kind": "ack", "ts": <when>, "symbol": .., "level": .., "direction": .., "feed": ..,
     "original_ts": <the alert's ts>, "original_kind": "cross", "original_run": <its run>}

(``original_run`` only for a practice run's alert: :attr:`AlertEvent.run`.)

It has no ``price``, so an r2k from before skips it as it skips any line it cannot read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from feeds.alerting.levels import AlertEvent
from feeds.errors import ConfigError, path_reason
from feeds.events import FeedStatus
from feeds.feed import OFFLINE_FEEDS, is_live
from feeds.secrets import redact
from feeds.text import clean, dumps
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
    """What makes two alerts the same event: the same crossing of the same run. A live feed's
    alerts have no run (one delivered twice, by a relay, is kept once); each practice run
    (the sim started again, a replay played again) fires its own, acknowledged on their own
    (issue 18 §1)."""
    return (alert.ts, alert.symbol, alert.level, alert.direction, alert.kind, alert.feed, alert.run)


def busts(bust: AlertEvent, alert: AlertEvent) -> bool:
    """Whether the "busted" alert ``bust`` takes back ``alert``: same symbol, level and
    direction, fired at ``bust.original_ts`` (any time when that is unknown, 0)."""
    return (
        alert.kind != "busted"
        and (alert.symbol, alert.level, alert.direction, alert.run)
        == (bust.symbol, bust.level, bust.direction, bust.run)
        and (not bust.original_ts or alert.ts == bust.original_ts)
    )


# acknowledgements in the log
ACK = "ack"


def ack_record(alert: AlertEvent, ts: int) -> dict[str, Any]:
    """The log line acknowledging ``alert`` at ``ts`` (epoch ms)."""
    return {
        "kind": ACK,
        "ts": iso_ms(ts),
        "symbol": alert.symbol,
        "level": alert.level,
        "direction": alert.direction,
        "feed": alert.feed,
        "original_ts": iso_ms(alert.ts),
        "original_kind": alert.kind,
        **({"original_run": alert.run} if alert.run else {}),
    }


def _acked_key(d: dict[str, Any]) -> tuple[object, ...]:
    """The :func:`alert_key` of the alert an "ack" line acknowledges. Raises on a garbled one."""
    return (
        _epoch_ms(d["original_ts"]),
        str(d["symbol"]),
        float(d["level"]),
        str(d["direction"]),
        str(d.get("original_kind", "cross")),
        str(d.get("feed", "")),
        str(d.get("original_run", "")),
    )


def _reason(e: BaseException) -> str:
    return (getattr(e, "strerror", None) or str(e) or type(e).__name__).splitlines()[0]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class AlertJournal:
    """The durable alert log: JSON lines, one ``AlertEvent.to_dict()`` per line, fsynced per alert.
    (The screen's alert panel is the widget ``tui.widgets.alert_log.AlertLog``; this is the file.)

    A crossing that fired on a trade later cancelled is marked by a second line with the same
    ``symbol``, ``level`` and ``direction``, ``"kind": "busted"`` and the busted alert's time in
    ``original_ts``; the log is only ever appended to.

    A write or fsync that fails (ENOSPC, EROFS, EIO) is counted, never raised, and the file is
    cut back to where the line began, so the log only ever holds whole lines and the next alert
    starts on a line of its own. :meth:`problem` says how many alerts were not written. A cut
    last line found at open (a crash or power cut mid-write) is repaired: :attr:`repaired` says
    what was done. An alert identical to one already in the log's tail is not written again.

    ``split``: the log of a live feed, where an alert of the sim or a replay can still arrive
    (a terminal on a relay of one): such alerts, and their acknowledgements, go to the offline
    log beside it (:func:`offline_log_path`, opened at the first), never into this one.
    """

    def __init__(self, path: str | Path, *, recent: int = 500, split: bool = False) -> None:
        self.path = Path(path).expanduser()
        self._split = split
        self._offline: AlertJournal | None = None
        self._offline_error = ""
        self.failures = 0  # alerts not written
        self.last_error = ""
        self.duplicates = 0  # alerts already in the log, not written again
        self.ack_failures = 0  # acknowledgements not written
        self.repaired: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise ConfigError(
                f"cannot write the alert log '{self.path}' ({path_reason(self.path, e)}); "
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

    def _practice_log(self, alert: AlertEvent) -> AlertJournal | None:
        """The offline log for a practice alert in a split live log (None: this log)."""
        if not self._split or alert.feed not in OFFLINE_FEEDS:
            return None
        if self._offline is None:
            try:
                self._offline = AlertJournal(offline_log_path(self.path))
            except ConfigError as e:  # counted like a failed write, never raised
                self._offline_error = str(e)
                return None
        return self._offline

    def __call__(self, alert: AlertEvent) -> None:
        practice = self._practice_log(alert)
        if practice is not None:
            practice(alert)
            return
        if self._split and alert.feed in OFFLINE_FEEDS:  # its log could not be opened
            self.failures += 1
            self.last_error = self._offline_error
            return
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

    def acknowledge(self, alerts: list[AlertEvent], ts: int | None = None) -> int:
        """Append one "ack" line per alert (one write, one fsync), acknowledged at ``ts`` (epoch
        ms, default now). Returns how many were written; a failure is counted like an alert's
        (:meth:`problem`), never raised: the acknowledgement then lasts until restart."""
        if not alerts:
            return 0
        if self._split:
            practice = [a for a in alerts if a.feed in OFFLINE_FEEDS]
            alerts = [a for a in alerts if a.feed not in OFFLINE_FEEDS]
            log = self._practice_log(practice[0]) if practice else None
            done = log.acknowledge(practice, ts) if log is not None else 0
            return done + self._acknowledge(alerts, ts)
        return self._acknowledge(alerts, ts)

    def _acknowledge(self, alerts: list[AlertEvent], ts: int | None) -> int:
        if not alerts:
            return 0
        when = int(time.time() * 1000) if ts is None else ts
        data = "".join(_dumps(ack_record(a, when)) + "\n" for a in alerts).encode("utf-8")
        try:
            if self._closed:
                raise ValueError("the log is closed")
            self._append(data)
        except (OSError, ValueError) as e:
            self.ack_failures += len(alerts)
            self.last_error = _reason(e)
            return 0
        return len(alerts)

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
        return self.failures + (self._offline.not_written if self._offline is not None else 0)

    def problem(self) -> str | None:
        """One line for the user while alerts fail to reach this sink, else None.

        Every sink may have this method; the pipeline shows what they say on each frame.
        """
        if not self.failures and not self.ack_failures:
            return self._offline.problem() if self._offline is not None else None
        what = f"{self.failures} alert(s)" if self.failures else ""
        if self.ack_failures:
            what += (" and " if what else "") + f"{self.ack_failures} acknowledgement(s)"
        return (
            f"alert log '{self.path}': {what} not written "
            f"({self.last_error}); free some disk space or set alert_log to a writable path"
        )

    def close(self) -> None:
        if self._offline is not None:
            self._offline.close()
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
        confirm=str(d.get("confirm", "tick")),
        muted=d.get("muted") is True,
        # a "busted" line names the alert it busts
        original_ts=_epoch_ms(d["original_ts"]) if d.get("original_ts") else 0,
        run=str(d.get("run", "")),
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
    An alert acknowledged later in the log comes with ``acknowledged=True``.
    Garbled lines (a crash mid-write, a hand edit) are skipped; a missing or unreadable log
    gives an empty list. Never raises for the file's content.
    """
    if limit <= 0:
        return []
    try:
        lines = _tail_lines(Path(path).expanduser(), limit * 4)  # acks share the tail
    except OSError:
        return []
    out: list[AlertEvent] = []
    seen: set[tuple[object, ...]] = set()
    acked: set[tuple[object, ...]] = set()  # read newest first, an ack comes first
    for line in reversed(lines):
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                continue
            if d.get("kind") == ACK:
                acked.add(_acked_key(d))
                continue
            alert = _alert_from_dict(d)
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            continue
        key = alert_key(alert)
        if key in seen or (keep is not None and not keep(alert)):
            continue
        seen.add(key)
        if key in acked:
            alert = replace(alert, acknowledged=True)
        out.append(alert)
        if len(out) >= limit:
            break
    out.sort(key=lambda a: -a.ts)  # by event time: a replay's alerts are older than their line
    return out


# the whole history, for `r2k alerts log`
@dataclass(slots=True, frozen=True)
class LogEntry:
    """One alert of the durable log with what later lines say about it: when it was
    acknowledged and when busted (a ``"busted"`` line naming it by ``original_ts``), epoch ms."""

    alert: AlertEvent
    acknowledged_at: int | None = None
    busted_at: int | None = None


#: the longest log line read (an alert line is about 300 bytes): a longer one is skipped
LOG_LINE_MAX = 64 * 1024


def _bounded_lines(f: IO[bytes], skipped: list[int]) -> Iterator[bytes]:
    """The lines of ``f``, each read with a bound: a line longer than LOG_LINE_MAX is read
    past in pieces and counted in ``skipped[0]``, never held whole."""
    while True:
        line = f.readline(LOG_LINE_MAX + 1)
        if not line:
            return
        if len(line) > LOG_LINE_MAX and not line.endswith(b"\n"):
            skipped[0] += 1
            while line and not line.endswith(b"\n"):
                line = f.readline(LOG_LINE_MAX)
            continue
        yield line


def read_log(
    path: str | Path,
    *,
    since_ms: int | None = None,
    keep: Callable[[AlertEvent], bool] | None = None,
    notes: list[str] | None = None,
) -> list[LogEntry]:
    """Every alert in the log at or after ``since_ms`` (epoch ms) that ``keep`` keeps, in time
    order (oldest first), each once, with its acknowledgement and bust. Reads the file as a
    stream, line by line with a bound per line (a year of alerts is a few MB). Garbled and
    overlong lines are skipped; ``notes`` gets one line saying how many. A missing log gives [].
    Raises OSError for a log that exists but cannot be read, or is not a regular file (a link
    to a device or a pipe would never end)."""
    import stat

    p = Path(path).expanduser()
    alerts: dict[tuple[object, ...], AlertEvent] = {}
    acked: dict[tuple[object, ...], int] = {}
    busted: dict[tuple[object, ...], int] = {}
    try:
        f = p.open("rb")
    except FileNotFoundError:
        return []
    garbled, overlong = 0, [0]
    with f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(0, "not a regular file (a device, a pipe or a socket)")
        for line in _bounded_lines(f, overlong):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                if not isinstance(d, dict):
                    continue
                kind = d.get("kind")
                if kind == ACK:
                    acked.setdefault(_acked_key(d), _epoch_ms(d["ts"]))
                    continue
                alert = _alert_from_dict(d)
                if kind == "busted" and d.get("original_ts"):
                    key = (_epoch_ms(d["original_ts"]), alert.symbol, alert.level)
                    busted.setdefault(
                        (*key, alert.direction, "cross", alert.feed, alert.run), alert.ts
                    )
                    continue
            except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
                garbled += 1
                continue
            alerts.setdefault(alert_key(alert), alert)
    if notes is not None and (garbled or overlong[0]):
        parts = [f"{garbled:,} unreadable"] if garbled else []
        parts += [f"{overlong[0]:,} longer than {LOG_LINE_MAX // 1024} KiB"] if overlong[0] else []
        notes.append(f"alert log '{p}': skipped {' and '.join(parts)} lines")
    out = [
        LogEntry(a, acked.get(k), busted.get(k))
        for k, a in alerts.items()
        if (since_ms is None or a.ts >= since_ms) and (keep is None or keep(a))
    ]
    out.sort(key=lambda e: e.alert.ts)
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

    def warning(self, detail: str) -> None:
        """A problem that does not stop the run (``"kind": "warning"``)."""
        self._write({"kind": "warning", "detail": detail}, 0)

    def _write(self, line: dict[str, Any], ts: int) -> None:
        out = self._stream or sys.stderr
        line["ts"] = iso_ms(ts or int(time.time() * 1000))
        out.write(_dumps(line) + "\n")
        out.flush()


class _BackgroundSink:
    """A sink that delivers each alert from a background task, never raising or blocking.

    The queue is bounded: if delivery is slower than the alerts, the newest are dropped and
    counted. Failures are counted too; :meth:`status_text` reports both for the status bar.
    Muted levels' alerts are not delivered (issue 10). Subclasses implement :meth:`_item` (what
    to queue for an alert) and :meth:`_deliver` (raise :class:`_Failed` with one line).
    """

    what = "sink"

    def __init__(self, *, queue_size: int = 100, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self.last_error = ""
        self._queue_size = queue_size
        self._unfinished = 0  # queued or being delivered
        self._queue: asyncio.Queue[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    def __call__(self, alert: AlertEvent) -> None:
        if alert.muted:
            return  # logged and listed, never posted or run
        if alert.feed in OFFLINE_FEEDS:
            return  # practice (a terminal on a relay of the sim or a replay): never posted or run
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.dropped += 1  # no event loop to deliver from (a synchronous caller)
            return
        if self._queue is None:
            self._queue = asyncio.Queue(self._queue_size)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop(self._queue))
        try:
            self._queue.put_nowait(self._item(alert))
        except asyncio.QueueFull:
            self.dropped += 1
        else:
            self._unfinished += 1

    def _item(self, alert: AlertEvent) -> Any:
        raise NotImplementedError

    async def _open(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return contextlib.nullcontext()

    async def _deliver(self, item: Any, context: Any) -> None:
        raise NotImplementedError

    @property
    def pending(self) -> int:
        """Alerts queued or being delivered: what :meth:`aclose` would still try to deliver."""
        return self._unfinished if self._task is not None and not self._task.done() else 0

    async def _loop(self, queue: asyncio.Queue[Any]) -> None:
        async with await self._open() as context:
            while True:
                item = await queue.get()
                try:
                    await self._deliver(item, context)
                except _Failed as e:
                    self.failed += 1
                    self.last_error = str(e)[:200]
                else:
                    self.sent += 1
                finally:
                    self._unfinished -= 1
                    queue.task_done()

    def problem(self) -> str | None:
        """What went wrong so far, or None (see :meth:`AlertJournal.problem`)."""
        return self.status_text() if self.failed or self.dropped else None

    def status_text(self) -> str:
        text = f"{self.what}: {self.sent} sent"
        if self.failed:
            text += f", {self.failed} failed (last: {self.last_error})"
        if self.dropped:
            text += f", {self.dropped} dropped (queue full)"
        return text

    async def aclose(self, drain_timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``drain_timeout`` seconds), then stop the task.

        What is still undelivered then is given up: an exiting app must never hang. The task
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


class _Failed(Exception):
    """One delivery failed (the message is the one line to report)."""


class WebhookSink(_BackgroundSink):
    """POSTs each alert as JSON to ``url`` from a background task; never raises or blocks.

    ``format`` (issue 10) picks the body: ``json`` (the alert), ``slack`` or ``discord``
    (:func:`feeds.alerting.delivery.webhook_payload`). See :class:`_BackgroundSink` for the queue
    and the
    counts.
    """

    what = "webhook"

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 100,
        timeout: float = 5.0,
        trust_env: bool = True,
        format: str = "json",
    ) -> None:
        from feeds.alerting.delivery import webhook_payload

        super().__init__(queue_size=queue_size, timeout=timeout)
        self.url = url
        self.trust_env = trust_env
        self.format = format
        self._payload = webhook_payload
        webhook_payload(AlertEvent(0, "", 0.0, "", "up", 0.0, "cross"), format)  # checks it

    def _item(self, alert: AlertEvent) -> Any:
        return self._payload(alert, self.format)

    async def _open(self) -> contextlib.AbstractAsyncContextManager[Any]:
        import httpx

        return httpx.AsyncClient(timeout=self.timeout, trust_env=self.trust_env)

    async def _deliver(self, item: Any, context: Any) -> None:
        import httpx

        try:
            r = await context.post(
                self.url,
                content=_dumps(item).encode("utf-8"),  # no raw control characters
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as e:
            raise _Failed(f"{type(e).__name__}: {e}".splitlines()[0]) from None
        if r.status_code >= 400:
            raise _Failed(f"HTTP {r.status_code}")


class CommandSink(_BackgroundSink):
    """Runs ``argv`` per alert, with no shell: each ``{placeholder}`` is filled inside its own
    argument (:func:`feeds.alerting.delivery.command_argv`), so a label can never become a second
    argument or a shell command. One run at a time, from a background task; a run still going
    after ``timeout`` seconds is killed. A run that cannot start, exits non-zero or times out is
    counted and reported like the webhook's failures (:meth:`problem`), with the first line of
    what it wrote to stderr.
    """

    what = "command"

    def __init__(
        self, argv: Sequence[str], *, timeout: float = 10.0, queue_size: int = 100
    ) -> None:
        if not argv:
            raise ValueError("the command needs a program")
        super().__init__(queue_size=queue_size, timeout=timeout)
        self.argv = tuple(argv)

    def _item(self, alert: AlertEvent) -> Any:
        from feeds.alerting.delivery import command_argv

        return command_argv(self.argv, alert)

    async def _deliver(self, item: Any, context: Any) -> None:
        program = clean(item[0], 80)
        try:
            proc = await asyncio.create_subprocess_exec(
                *item,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as e:
            raise _Failed(f"{program}: {_reason(e)}") from None
        try:
            _, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise _Failed(f"{program}: still running after {self.timeout:g} s; killed") from None
        if proc.returncode:
            said = (
                clean(err.decode("utf-8", "replace").strip().splitlines()[0], 120)
                if err.strip()
                else ""
            )
            raise _Failed(
                f"{program}: exit status {proc.returncode}" + (f" ({said})" if said else "")
            )

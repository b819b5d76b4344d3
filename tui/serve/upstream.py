"""The desk's one upstream: an embedded relay (``--feed SPEC``) or an existing one (``--nats``).

With ``--feed`` serve runs ``r2k relay --embedded --nats nats://127.0.0.1:PORT --feed SPEC`` as
its own process (it alone holds the upstream's keys, from serve's environment and config), reads
its JSON status lines and says each change on stderr as ``r2k serve: upstream: ...``. Should the
relay die, it is started again on the same port after 1, 2, 4 ... 30 s; the sessions' monitors
reconnect to it by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import sys
from collections.abc import Sequence

import orjson

from tui.serve.record import say

RESTART_MAX_S = 30.0
STOP_GRACE_S = 2.5


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def describe(line: str) -> str | None:
    """What a relay status line says, for serve's stderr (None: nothing worth a line)."""
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line.strip()[:300] or None
    if not isinstance(d, dict):
        return None
    if d.get("kind") == "status":
        state = d.get("state", "?")
        detail = d.get("detail") or d.get("message") or ""
        return f"feed {state}" + (f": {detail}" if detail else "")
    if d.get("kind") == "relay":
        return str(d.get("detail", ""))[:300] or None
    return None


class EmbeddedRelay:
    """``r2k relay --embedded`` as a child of serve, kept running until :meth:`stop`."""

    def __init__(self, feed_args: Sequence[str], *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.argv = [sys.executable, "-m", "tui", "relay", "--embedded", "--nats", self.url,
                     *feed_args]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None
        self.task: asyncio.Task[None] | None = None
        self.state = "starting"
        self._stopping = False
        self.restarts = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._keep())

    async def _keep(self) -> None:
        wait = 1.0
        while not self._stopping:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # Ctrl+C reaches serve, which stops it in order
            )
            assert self.proc.stderr is not None
            async for raw in self.proc.stderr:
                text = describe(raw.decode("utf-8", "replace"))
                if text:
                    self.state = text
                    say(f"upstream: {text}")
            code = await self.proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            say(f"upstream: the relay exited ({code}); starting it again in {wait:g} s")
            await asyncio.sleep(wait)
            wait = min(RESTART_MAX_S, wait * 2)

    async def stop(self) -> None:
        """SIGTERM (the relay stops its nats-server), then SIGKILL after STOP_GRACE_S."""
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_GRACE_S):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        # the relay's JetStream store holds only the last values of this run (its port is new
        # at every start): a restarted serve would leave one directory per run behind
        from feeds.settings.config import state_dir

        shutil.rmtree(state_dir() / f"nats-{self.port}", ignore_errors=True)

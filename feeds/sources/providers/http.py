"""A throttled REST client shared by providers: spaced requests, backoff on HTTP 429 and 5xx."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from feeds.backoff import Backoff


class RestError(Exception):
    """A REST call failed for good; ``str()`` is one line safe to show (no keys)."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        # the start of the error body: providers put a one-line reason in it (Yahoo's chart.error)
        self.body = body


class RestClient:
    """``httpx.AsyncClient`` with a minimum interval between requests and polite retries."""

    def __init__(
        self,
        base_url: str,
        *,
        min_interval: float = 0.2,
        retries: int = 4,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        per_minute: int = 0,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            params=params,
            timeout=timeout,
            transport=transport,
            follow_redirects=True,
        )
        self.min_interval = min_interval
        self.retries = retries
        # at most ``per_minute`` requests in any 60 s (0 = no cap): a sliding window, because a
        # plan's "5 calls/min" (Polygon Basic) refuses a sixth call within 60 s of the first
        self.per_minute = per_minute
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._next_at = 0.0
        self.base_url = base_url
        self.requests = 0  # requests sent, retries included
        # test knobs: how to wait, and the retry policy
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.backoff_factory: Callable[[], Backoff] = lambda: Backoff(base=1.0, cap=30.0)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _wait_turn(self) -> None:
        # the lock is FIFO: concurrent callers are served in the order they asked
        async with self._lock:
            now = time.monotonic()
            if self._next_at > now:
                await self.sleep(self._next_at - now)
            if self.per_minute > 0:
                starts = self._starts
                while starts and starts[0] <= time.monotonic() - 60.0:
                    starts.popleft()
                if len(starts) >= self.per_minute:
                    await self.sleep(starts[0] + 60.0 - time.monotonic())
                    starts.popleft()
                starts.append(time.monotonic())
            now = time.monotonic()
            self._next_at = max(now, self._next_at) + self.min_interval
            self.requests += 1

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` and decode JSON. Retries 429/5xx/network errors with backoff."""
        resp = await self.get(path, params)
        try:
            return resp.json()
        except ValueError as exc:
            raise RestError(f"malformed JSON from {self.base_url}{path}") from exc

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET ``path``: the response of the first try that is neither 429, 5xx nor a network
        error (retried with backoff). Raises RestError on a 4xx or when the tries run out."""
        backoff = self.backoff_factory()
        last = ""
        last_status: int | None = None
        for attempt in range(self.retries + 1):
            final = attempt == self.retries
            await self._wait_turn()
            try:
                resp = await self._client.get(path, params=params)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__} from {self.base_url}"
                if not final:  # no point waiting after the last try
                    await self.sleep(backoff.next_delay())
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                last = f"HTTP {resp.status_code} from {self.base_url}{path}"
                last_status = resp.status_code
                retry_after = resp.headers.get("Retry-After", "")
                delay = float(retry_after) if retry_after.isdigit() else backoff.next_delay()
                if not final:
                    await self.sleep(min(delay, 60.0))
                continue
            if resp.status_code >= 400:
                raise RestError(
                    f"HTTP {resp.status_code} from {self.base_url}{path}",
                    resp.status_code,
                    resp.text[:1000],
                )
            return resp
        raise RestError(f"gave up after {self.retries + 1} tries: {last}", last_status)

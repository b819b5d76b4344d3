"""A throttled REST client shared by providers: spaced requests, backoff on HTTP 429 and 5xx."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from feeds.providers.backoff import Backoff


class RestError(Exception):
    """A REST call failed for good; ``str()`` is one line safe to show (no keys)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


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
        self._lock = asyncio.Lock()
        self._next_at = 0.0
        self.base_url = base_url

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _wait_turn(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next_at > now:
                await asyncio.sleep(self._next_at - now)
            self._next_at = max(now, self._next_at) + self.min_interval

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` and decode JSON. Retries 429/5xx/network errors with backoff."""
        backoff = Backoff(base=1.0, cap=30.0)
        last = ""
        for _ in range(self.retries + 1):
            await self._wait_turn()
            try:
                resp = await self._client.get(path, params=params)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__} from {self.base_url}"
                await asyncio.sleep(backoff.next_delay())
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                last = f"HTTP {resp.status_code} from {self.base_url}{path}"
                retry_after = resp.headers.get("Retry-After", "")
                delay = float(retry_after) if retry_after.isdigit() else backoff.next_delay()
                await asyncio.sleep(min(delay, 60.0))
                continue
            if resp.status_code >= 400:
                raise RestError(
                    f"HTTP {resp.status_code} from {self.base_url}{path}", resp.status_code
                )
            try:
                return resp.json()
            except ValueError as exc:
                raise RestError(f"malformed JSON from {self.base_url}{path}") from exc
        raise RestError(f"gave up after {self.retries + 1} tries: {last}")

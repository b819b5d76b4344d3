"""RestClient against a local HTTP server: order, throttling, 429/5xx retries, 4xx errors.

Waiting goes through ``client.sleep``, replaced here by a recorder, so no test really waits.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from feeds.backoff import Backoff
from feeds.sources.providers.http import RestClient, RestError
from tests.sources.providers.fake_http import FakeHTTP, Request, Response


class Sleeps:
    """Records the delays a client asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def scripted(*replies: Response) -> Callable[[Request], Response]:
    """Serve ``replies`` in order, then 200s echoing the path."""
    queue = list(replies)

    def handler(req: Request) -> Response:
        if queue:
            return queue.pop(0)
        return Response(200, {"path": req.path, "q": req.query})

    return handler


def client_for(http: FakeHTTP, **kw: object) -> tuple[RestClient, Sleeps]:
    client = RestClient(http.url, **kw)  # type: ignore[arg-type]
    sleeps = Sleeps()
    client.sleep = sleeps
    client.backoff_factory = lambda: Backoff(base=1.0, cap=30.0, rng=random.Random(3))
    return client, sleeps


@pytest.fixture
async def ok_http() -> AsyncIterator[FakeHTTP]:
    async with FakeHTTP(scripted()) as http:
        yield http


async def test_concurrent_calls_are_served_in_order_and_spaced(ok_http: FakeHTTP) -> None:
    client, sleeps = client_for(ok_http, min_interval=5.0)
    try:
        results = await asyncio.gather(*(client.get_json(f"/n/{i}") for i in range(5)))
    finally:
        await client.aclose()
    assert [r["path"] for r in results] == [f"/n/{i}" for i in range(5)]
    assert [r.path for r in ok_http.requests] == [f"/n/{i}" for i in range(5)]
    # the first goes at once; each later one waits its turn (about min_interval after the last)
    assert len(sleeps.delays) == 4
    assert all(4.0 < d <= 5.0 * (i + 1) for i, d in enumerate(sleeps.delays))


async def test_per_minute_cap_is_a_sliding_window(ok_http: FakeHTTP) -> None:
    client, sleeps = client_for(ok_http, min_interval=0.0, per_minute=2)
    try:
        for i in range(3):
            await client.get_json(f"/n/{i}")
    finally:
        await client.aclose()
    assert len(sleeps.delays) == 1 and 59.0 < sleeps.delays[0] <= 60.0  # the third waited
    assert client.requests == 3


async def test_429_with_retry_after_then_success() -> None:
    async with FakeHTTP(
        scripted(Response(429, {"error": "slow down"}, {"Retry-After": "7"}))
    ) as http:
        client, sleeps = client_for(http, min_interval=0.0)
        try:
            data = await client.get_json("/v2/x", {"apiKey": "k"})
        finally:
            await client.aclose()
    assert data == {"path": "/v2/x", "q": {"apiKey": "k"}}
    assert sleeps.delays == [7.0]
    assert len(http.requests) == 2


async def test_5xx_is_retried_with_backoff() -> None:
    async with FakeHTTP(scripted(Response(503), Response(502))) as http:
        client, sleeps = client_for(http, min_interval=0.0)
        try:
            data = await client.get_json("/v2/x")
        finally:
            await client.aclose()
    assert data["path"] == "/v2/x"
    assert len(http.requests) == 3
    ref = Backoff(base=1.0, cap=30.0, rng=random.Random(3))
    assert sleeps.delays == [ref.next_delay(), ref.next_delay()]


async def test_persistent_5xx_gives_up_without_a_last_useless_wait() -> None:
    async with FakeHTTP(lambda req: Response(500, {"error": "boom"})) as http:
        client, sleeps = client_for(http, min_interval=0.0, retries=2)
        try:
            with pytest.raises(RestError) as err:
                await client.get_json("/v2/x", {"apiKey": "secret-key"})
        finally:
            await client.aclose()
    assert len(http.requests) == 3
    assert len(sleeps.delays) == 2
    assert err.value.status == 500
    assert str(err.value) == f"gave up after 3 tries: HTTP 500 from {http.url}/v2/x"
    assert "secret-key" not in str(err.value)


async def test_4xx_is_one_line_and_not_retried() -> None:
    body = {"status": "NOT_AUTHORIZED", "message": "You are not entitled to this data."}
    async with FakeHTTP(scripted(Response(403, body))) as http:
        client, sleeps = client_for(http, min_interval=0.0)
        try:
            with pytest.raises(RestError) as err:
                await client.get_json("/v2/aggs/ticker/I:RUT/prev", {"apiKey": "secret-key"})
        finally:
            await client.aclose()
    assert len(http.requests) == 1 and sleeps.delays == []
    assert err.value.status == 403
    assert str(err.value) == f"HTTP 403 from {http.url}/v2/aggs/ticker/I:RUT/prev"
    assert "\n" not in str(err.value) and "secret-key" not in str(err.value)
    assert "not entitled" in err.value.body


async def test_malformed_json_is_a_rest_error() -> None:
    async with FakeHTTP(scripted(Response(200, b"<html>oops"))) as http:
        client, _ = client_for(http, min_interval=0.0)
        try:
            with pytest.raises(RestError, match="malformed JSON"):
                await client.get_json("/v2/x")
        finally:
            await client.aclose()


async def test_unreachable_server_retries_then_fails() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RestClient(f"http://127.0.0.1:{port}", min_interval=0.0, retries=2)
    sleeps = Sleeps()
    client.sleep = sleeps
    try:
        with pytest.raises(RestError, match="gave up after 3 tries: ConnectError"):
            await client.get_json("/v2/x")
    finally:
        await client.aclose()
    assert len(sleeps.delays) == 2

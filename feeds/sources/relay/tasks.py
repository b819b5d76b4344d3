"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def cancel_all(tasks: Iterable[asyncio.Task[None]], round_s: float = 1.0) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again as needed.

    On Python 3.11 ``asyncio.wait_for`` (which nats-py uses for its acks and requests) can
    swallow a cancellation that lands as the awaited reply arrives; a loop around it then runs
    on. Cancelling again each ``round_s`` ends it; one cancel and an unbounded wait did not.
    """
    pending = {t for t in tasks if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=round_s)

"""The one reconnect policy every provider shares: capped exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delay before reconnect attempt n: ``min(cap, base * 2**n)`` scaled by jitter in [0.5, 1].

    Full-range jitter spreads a desk's terminals so they do not reconnect in lockstep after an
    outage. The attempt count resets once a connection has stayed up for ``stable_after`` seconds.
    """

    base: float = 0.5
    cap: float = 30.0
    stable_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        raw = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return raw * (0.5 + 0.5 * self.rng.random())

    def connected_for(self, seconds: float) -> None:
        """Report how long the last connection lasted; a stable one resets the backoff."""
        if seconds >= self.stable_after:
            self.attempt = 0

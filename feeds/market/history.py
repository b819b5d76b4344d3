"""Bounded price history for charts: fixed-size ring buffers, one point per time bucket.

Memory is fixed up front, so a whole trading day (or a week of replay) never grows the process.
Within a bucket the latest price wins, so a chart point is the bucket's close. On the per-tick
path the state only calls :meth:`Ring.roll` when a tick opens a new bucket; the newest point's
price is then the live last price, which readers pass to :meth:`Ring.arrays`.
"""

from __future__ import annotations

import numpy as np


class Ring:
    """A ring of (ts_ms, price) points bucketed by ``bucket_ms``; ``capacity`` points at most."""

    __slots__ = ("_bucket", "_n", "_pos", "_prices", "_times", "bucket_ms", "capacity")

    def __init__(self, bucket_ms: int, capacity: int) -> None:
        self.bucket_ms = bucket_ms
        self.capacity = capacity
        # allocated at the first point: the whole index is ~2,000 rings at start-up, most
        # of them empty for the first seconds (and some all day)
        self._times: np.ndarray = _EMPTY_TIMES
        self._prices: np.ndarray = _EMPTY_PRICES
        self._n = 0  # points stored (<= capacity)
        self._pos = -1  # index of the newest point
        self._bucket = -1  # bucket number of the newest point

    def __len__(self) -> int:
        return self._n

    def add(self, ts: int, price: float) -> None:
        b = ts // self.bucket_ms
        if b == self._bucket:
            self._prices[self._pos] = price
            self._times[self._pos] = ts
            return
        if b < self._bucket:
            return  # out-of-order tick from an older bucket: charts only move forward
        if not len(self._times):
            self._allocate()
        self._bucket = b
        self._pos = (self._pos + 1) % self.capacity
        self._times[self._pos] = ts
        self._prices[self._pos] = price
        if self._n < self.capacity:
            self._n += 1

    def roll(self, ts: int, price: float, closing: float | None) -> None:
        """A tick opened a new bucket: close the newest point at ``closing``, start another."""
        if self._n and closing is not None:
            self._prices[self._pos] = closing
        if not len(self._times):
            self._allocate()
        self._bucket = ts // self.bucket_ms
        self._pos = (self._pos + 1) % self.capacity
        self._times[self._pos] = ts
        self._prices[self._pos] = price
        if self._n < self.capacity:
            self._n += 1

    def revise(self, bucket: int, price: float) -> None:
        """Set the point of bucket number ``bucket`` (ts // bucket_ms) to ``price``, if held:
        a cancelled or corrected trade changed that bucket's close."""
        if not self._n or bucket > self._bucket:
            return
        hits = np.flatnonzero(self._times[: self._n] // self.bucket_ms == bucket)
        if len(hits):
            self._prices[hits[-1]] = price

    def _allocate(self) -> None:
        self._times = np.zeros(self.capacity, dtype=np.int64)
        self._prices = np.zeros(self.capacity, dtype=np.float64)

    def clear(self) -> None:
        """Forget every point (a new session starts its chart afresh); the memory is kept."""
        self._n = 0
        self._pos = -1
        self._bucket = -1

    def arrays(self, live: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, prices), oldest first; copies, safe to keep.

        ``live`` is the latest price, which stands for the newest (still open) bucket.
        """
        if self._n < self.capacity:
            times, prices = self._times[: self._n].copy(), self._prices[: self._n].copy()
        else:
            start = (self._pos + 1) % self.capacity
            idx = np.r_[start : self.capacity, 0:start]
            times, prices = self._times[idx], self._prices[idx]
        if live is not None and self._n:
            prices[-1] = live
        return times, prices

    def last_price(self) -> float | None:
        return float(self._prices[self._pos]) if self._n else None


_EMPTY_TIMES = np.zeros(0, dtype=np.int64)  # a ring before its first point
_EMPTY_PRICES = np.zeros(0, dtype=np.float64)

"""A token bucket per API token: bursts up to `burst` requests, then `per_minute` on average.

In memory, per process: behind a load balancer each instance limits on its own, which bounds a
runaway script without a shared store. Thread-safe (the app answers from a thread pool too).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: int) -> bool:
        """Take one request from `key`'s bucket; False when it is empty (the caller should wait)."""
        if self.rate <= 0:
            return True  # 0 turns the limit off
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True

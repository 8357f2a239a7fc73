"""Verdicts of the public verify pages, reused for a short while.

Each verdict costs several calls to the chain; the same QR code opened by many people, or a
page refreshed, asks the chain once per `seconds`. The key names what was checked (the
registered request and its status, the document's hash, the receipt's hash), so a new
anchoring or a revocation recorded by us is a new key; one seen only on chain shows after
the cache time. An unreachable chain is never cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cachetools import TTLCache

from ledger.verify import Verdict

VerdictKey = tuple[str, ...]


class VerdictCache:
    """A thread-safe time-limited cache of verdicts (web pages run in a thread pool)."""

    def __init__(self, *, seconds: Callable[[], int], size: int = 2048) -> None:
        self._seconds = seconds  # read at each use: the settings may change (tests)
        self._size = size
        self._lock = threading.Lock()
        self._cache: TTLCache[VerdictKey, Verdict] = TTLCache(maxsize=size, ttl=1)

    def get(self, key: VerdictKey, check: Callable[[], Verdict]) -> Verdict:
        """The cached verdict of `key`, else `check()`'s, kept for next time."""
        seconds = self._seconds()
        if seconds <= 0:
            return check()
        with self._lock:
            if self._cache.ttl != seconds:
                self._cache = TTLCache(maxsize=self._size, ttl=seconds)
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        verdict = check()
        with self._lock:
            self._cache[key] = verdict
        return verdict

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

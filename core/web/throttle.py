"""Rate limits for pages anyone may call without an account, per client address.

Counted in this web process (a moving window from the `limits` library): with several web
processes or hosts a client gets the limit once per process, which still bounds what one
address can make us spend. A refusal says when to try again (429 with Retry-After).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.requests import Request

from core.errors import TooManyAttempts

_storage = MemoryStorage()
_limiter = MovingWindowRateLimiter(_storage)


@dataclass(frozen=True, slots=True)
class PublicLimit:
    """A named limit such as "30/minute" (read from the settings at each request), for one
    kind of public request."""

    name: str
    rate: Callable[[], str]

    def item(self) -> RateLimitItem:
        return parse(self.rate())

    def check(self, request: Request) -> None:
        """Count this request of its client; refuse it with TooManyAttempts past the limit."""
        client = request.client.host if request.client else "unknown"
        item = self.item()
        if _limiter.hit(item, self.name, client):
            return
        reset_at, _ = _limiter.get_window_stats(item, self.name, client)
        wait = max(1, math.ceil(reset_at - time.time()))
        raise TooManyAttempts(
            f"Too many checks from your address. Wait {wait} seconds and try again.",
            retry_after=wait,
        )


def reset_limits() -> None:
    """Forget every count (tests, and a process that reloads its settings)."""
    _storage.reset()

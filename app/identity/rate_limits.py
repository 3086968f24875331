"""Per-caller rate limits (moving window, in process memory) through the ``limits`` library.

Chat is limited per credential (each API token or sign-in session has its own budget), sign-in
attempts per username, so guessing one account's password is slow without locking anyone out
for long. Several server processes each keep their own window: the limit per process is the
configured one.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from app.core.errors import RateLimited


class RateLimits:
    def __init__(self, *, chat: str, login: str) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self._items: dict[str, RateLimitItem] = {"chat": parse(chat), "login": parse(login)}

    def hit(self, kind: str, key: str) -> None:
        """Count one request; ``RateLimited`` (429 + Retry-After) when over the limit."""
        item = self._items[kind]
        if self._limiter.hit(item, kind, key):
            return
        stats = self._limiter.get_window_stats(item, kind, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        what = "questions" if kind == "chat" else "sign-in attempts"
        raise RateLimited(f"too many {what}: at most {item} per caller; try again in {wait} s",
                          retry_after=wait)

    def reset(self, kind: str, key: str) -> None:
        self._limiter.clear(self._items[kind], kind, key)

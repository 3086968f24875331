"""Per-caller rate limits (moving window) through the ``limits`` library.

Chat is limited per credential (each API token or sign-in session has its own budget), sign-in
attempts per username, so guessing one account's password is slow without locking anyone out
for long.

Where the windows live is ``rate_limit_storage``: empty or ``memory://`` keeps them in process
memory (each server process has its own budget: the limit per process is the configured one);
a ``redis://`` URL keeps them in Redis, so every process that names the same Redis shares one
budget per caller and the limit holds across replicas. A Redis that can't be reached when the
service starts is an error, not a quiet fall-back to memory (that would multiply the limit by
the number of replicas without anyone noticing); one that goes away later answers 503, and a
request is never let through uncounted.
"""

from __future__ import annotations

import contextlib
import math
import time

from limits import RateLimitItem, parse, storage, strategies
from limits.errors import ConfigurationError, StorageError

from app.core.errors import RateLimited, Unavailable
from app.core.settings import shown_url

KEY_PREFIX = "vraagbaak"


def open_storage(uri: str, *, key_prefix: str = KEY_PREFIX) -> storage.Storage:
    """The storage ``uri`` names, checked to answer now (``Unavailable`` if it doesn't)."""
    if not uri or uri == "memory://":
        return storage.MemoryStorage()
    try:
        # wrapped errors: a Redis that goes away later raises StorageError, mapped to 503
        store = storage.RedisStorage(uri, key_prefix=key_prefix, wrap_exceptions=True,
                                     socket_connect_timeout=2, socket_timeout=2)
        reachable = store.check()
    except (ConfigurationError, StorageError, ValueError) as exc:
        # the exception's text may repeat the URL with its password: name its kind only
        raise Unavailable(f"rate limit storage {shown_url(uri)} is unusable "
                          f"({type(exc).__name__})") from None
    if not reachable:
        raise Unavailable(f"rate limit storage {shown_url(uri)} does not answer; start it or "
                          "leave VRAAGBAAK_RATE_LIMIT_STORAGE empty for in-process limits")
    return store


class RateLimits:
    def __init__(self, *, chat: str, login: str, storage_uri: str = "",
                 key_prefix: str = KEY_PREFIX) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(
            open_storage(storage_uri, key_prefix=key_prefix))
        self._items: dict[str, RateLimitItem] = {"chat": parse(chat), "login": parse(login)}

    def hit(self, kind: str, key: str) -> None:
        """Count one request; ``RateLimited`` (429 + Retry-After) when over the limit,
        ``Unavailable`` (503) when the shared storage doesn't answer."""
        item = self._items[kind]
        try:
            if self._limiter.hit(item, kind, key):
                return
            stats = self._limiter.get_window_stats(item, kind, key)
        except StorageError:
            raise Unavailable("the rate limit storage does not answer; try again later",
                              code="rate_limit_storage_unavailable") from None
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        what = "questions" if kind == "chat" else "sign-in attempts"
        raise RateLimited(f"too many {what}: at most {item} per caller; try again in {wait} s",
                          retry_after=wait)

    def reset(self, kind: str, key: str) -> None:
        # a successful sign-in still succeeds when Redis is away; the window lapses on its own
        with contextlib.suppress(StorageError):
            self._limiter.clear(self._items[kind], kind, key)

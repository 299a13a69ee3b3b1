"""Counting attempts in the rate-limit store (memory for one process, Redis for several).

Code entry counts its wrong codes here, rather than through route decorators, under keys of its
own (survey/services/participants.py).  When the store cannot be reached,
:class:`ThrottleUnavailable` is raised: callers refuse the attempt (fail closed) instead of
letting guesses through uncounted.  Failed staff sign-ins are counted in the database instead
(survey/services/accounts.py), so that every worker sees one count without Redis.
"""

from __future__ import annotations

from flask import Flask, current_app
from limits import RateLimitItem
from limits import parse as parse_limit
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter


def init_app(app: Flask) -> None:
    """Open the app's store (``RATELIMIT_STORAGE_URI``: ``memory://``, or Redis for several workers).

    The `limits` library counts; nothing else of a rate-limiting extension is needed, since no
    route declares a limit and no request pays for one.
    """
    storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    app.extensions["sauti_throttle"] = FixedWindowRateLimiter(storage)


def _limiter() -> FixedWindowRateLimiter:
    limiter: FixedWindowRateLimiter = current_app.extensions["sauti_throttle"]
    return limiter


class ThrottleUnavailable(Exception):
    """The shared rate-limit store cannot be reached."""


def _errors() -> tuple[type[BaseException], ...]:
    backend = _limiter().storage.base_exceptions  # one exception class or a tuple of them
    return (StorageError, *(backend if isinstance(backend, tuple) else (backend,)))


def _limit(text: str) -> RateLimitItem:
    """The limit this process enforces.

    Several worker processes (`sauti serve --workers N`) without a shared store each count in
    their own memory; each then allows 1/N of the configured amount (at least one), so together
    they allow no more than the configured limit.
    """
    item = parse_limit(text)
    workers = int(current_app.config.get("THROTTLE_WORKERS", 1) or 1)
    if workers > 1 and isinstance(_limiter().storage, MemoryStorage):
        return type(item)(max(1, item.amount // workers), item.multiples, item.namespace)
    return item


def allowed(limit: str, key: str) -> bool:
    """Whether one more attempt under ``key`` stays within ``limit`` (counts nothing)."""
    try:
        return _limiter().test(_limit(limit), key)
    except _errors() as error:
        raise ThrottleUnavailable from error


def hit(limit: str, key: str) -> bool:
    """Count one attempt; return False when it goes over ``limit``."""
    try:
        return _limiter().hit(_limit(limit), key)
    except _errors() as error:
        raise ThrottleUnavailable from error

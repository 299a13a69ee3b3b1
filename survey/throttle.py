"""Counting attempts in the rate-limit store (memory for one process, Redis for several).

Sign-in and code entry count their own attempts here, rather than through route decorators,
because they count failures (sign-in) or every guess (codes) under keys of their own.  When the
store cannot be reached, :class:`ThrottleUnavailable` is raised: callers refuse the attempt
(fail closed) instead of letting guesses through uncounted.
"""

from __future__ import annotations

from limits import parse as parse_limit
from limits.errors import StorageError

from survey.extensions import limiter


class ThrottleUnavailable(Exception):
    """The shared rate-limit store cannot be reached."""


def _errors() -> tuple[type[BaseException], ...]:
    backend = limiter.storage.base_exceptions  # one exception class or a tuple of them
    return (StorageError, *(backend if isinstance(backend, tuple) else (backend,)))


def allowed(limit: str, key: str) -> bool:
    """Whether one more attempt under ``key`` stays within ``limit`` (counts nothing)."""
    try:
        return limiter.limiter.test(parse_limit(limit), key)
    except _errors() as error:
        raise ThrottleUnavailable from error


def hit(limit: str, key: str) -> bool:
    """Count one attempt; return False when it goes over ``limit``."""
    try:
        return limiter.limiter.hit(parse_limit(limit), key)
    except _errors() as error:
        raise ThrottleUnavailable from error

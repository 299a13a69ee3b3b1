"""One server process of an instance does a background job: it holds the job's lock file for its life.

`sauti serve` starts several worker processes; each starts the daily retention and, on a field
laptop, the concern pusher, and only the one that takes the job's lock runs it (another takes
over if that worker ends: the kernel releases a dead process's lock).  Advisory ``flock`` locks
under the instance folder; on Windows, where Sauti serves from one process, there is nothing to
agree with.
"""

from __future__ import annotations

import os

_held: dict[str, int] = {}


def _path(instance_path: str, name: str) -> str:
    return os.path.join(instance_path, f"{name}.lock")


def hold(instance_path: str, name: str) -> bool:
    """Take ``name``'s lock for the life of this process (True if taken, or already held here)."""
    try:
        import fcntl
    except ImportError:  # Windows: one server process
        return True
    path = _path(instance_path, name)
    if path in _held:
        return True
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _held[path] = fd  # released by the kernel when this process ends
    return True


def held_elsewhere(instance_path: str, name: str) -> bool:
    """Whether another process holds ``name``'s lock (a running server, for a job it runs)."""
    try:
        import fcntl
    except ImportError:  # Windows: not known
        return False
    path = _path(instance_path, name)
    if path in _held or not os.path.exists(path):
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock this call took
    return False

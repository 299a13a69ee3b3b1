"""Staff's heavy work (reports, exports) in a helper process at a lower CPU priority.

A programme report costs seconds of CPU whatever the number of answers (a disclosure check and
a chart for every item; the PDF about 10 s on a 2-core laptop).  Run inside a server worker, it
holds that worker's interpreter lock for those seconds, and every child's page served by the
same worker waits its turn: with an analyst downloading the PDF report every 10 s, 500
children's slowest pages took 2.1-2.8 s, against 0.7-0.8 s with the report in a process of its
own (``bench/load_children.py --reports-every 10``), where, at ``nice`` 10, it takes the CPU the
children leave.

The served app turns this on (``OFFLOAD_HEAVY_WORK``, set by :mod:`survey.wsgi`); the ``sauti``
command and a single test client run the work in place.  The helper is started on first use,
one per worker process, with the same configuration as the app that asked (so the same
database), and it serves one task at a time; a helper that died is replaced on the next call.

Functions sent to the helper must be importable by name and take and return what pickles
(ids and strings in, bytes or plain dataclasses out); they run inside the helper's app context.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from flask import Flask, current_app

from survey.extensions import db

#: How much lower than the server the helper runs (POSIX nice value; Windows has none).
NICENESS = 10

_EXTENSION = "sauti_offload"
_lock = threading.Lock()
_helper_app: Flask | None = None  # in the helper process: the app its tasks run in

T = TypeVar("T")


def run(function: Callable[..., T], *args: Any) -> T:  # passed through unchanged
    """``function(*args)`` in the helper process when the app offloads heavy work, else here.

    Exceptions raised by the function come back as themselves.
    """
    app = current_app._get_current_object()
    if not app.config.get("OFFLOAD_HEAVY_WORK"):
        return function(*args)
    # The request waits for seconds: not with a read transaction open, which on SQLite keeps the
    # write-ahead log from being checkpointed while children's saves pile into it.
    db.session.commit()
    try:
        return _helper(app).submit(_call, function, args).result()
    except BrokenProcessPool:
        # The helper died (killed, out of memory): start a new one, once.
        _drop_helper(app)
        return _helper(app).submit(_call, function, args).result()


def shutdown(app: Flask) -> None:
    """Stop the app's helper process, if it started one (tests; the process exit does it too)."""
    _drop_helper(app, wait=True)


def _helper(app: Flask) -> ProcessPoolExecutor:
    with _lock:
        pool = app.extensions.get(_EXTENSION)
        if pool is None:
            # "spawn": the server worker has threads of its own (Granian's), which a forked child
            # would inherit in whatever state they were in.
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_helper,
                initargs=(_picklable_config(app), app.instance_path),
            )
            app.extensions[_EXTENSION] = pool
        return pool


def _drop_helper(app: Flask, wait: bool = False) -> None:
    with _lock:
        pool = app.extensions.pop(_EXTENSION, None)
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)


def _picklable_config(app: Flask) -> dict[str, Any]:
    config = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            continue  # a callable hook or a live object: the helper's create_app makes its own
        config[key] = value
    config["OFFLOAD_HEAVY_WORK"] = False  # the helper does the work itself
    return config


def _start_helper(config: dict[str, Any], instance_path: str) -> None:
    global _helper_app
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    # Ctrl+C in the terminal reaches the whole process group; the helper ends with its parent
    # instead, however that ends (the pool itself cannot tell: the helper holds both ends of its
    # task queue, so it would wait for work forever, holding a few hundred MB).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="sauti-offload-parent-watch", daemon=True).start()
    from survey import create_app

    _helper_app = create_app(config, instance_path=instance_path)


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()
    os._exit(0)


def _call(function: Callable[..., T], args: tuple) -> T:
    assert _helper_app is not None, "runs only in the helper process"  # an invariant
    with _helper_app.app_context():
        return function(*args)

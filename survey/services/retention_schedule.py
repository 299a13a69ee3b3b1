"""Retention without cron: ``sauti serve`` and ``sauti demo`` run it every day by themselves.

A laptop that serves a classroom has nobody to install a cron job, so the retention rules
(:func:`survey.services.retention.run_retention`) would never run.  ``sauti serve`` and
``sauti demo`` turn ``RETENTION_SCHEDULE`` on (:func:`enable`); each server process then starts
a background thread (:func:`start`: Granian's workers in :mod:`survey.wsgi`, or the one waitress
process), and only the process holding the instance folder's ``retention.lock`` runs it, so one
process does, however many workers serve children (another takes over if that one ends).  It
runs retention once at start and again whenever the date (UTC) has changed, looking every
``RETENTION_CHECK_SECONDS`` (default 600 s): a laptop that sleeps overnight catches up when it
wakes.  A failed run is logged (the kind of error, never content) and tried again at the next
look.  ``SAUTI_RETENTION_SCHEDULE=false`` leaves retention to ``sauti retention run`` from cron
(README, "Retention"), as does a server started by hand with Granian.

:class:`DailyRetention` is the loop itself, with the clock, the interval and the run passed in,
so that tests drive it with a clock of their own against a real database.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable

from flask import Flask

from survey import process_lock

log = logging.getLogger("sauti.retention")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DailyRetention:
    """Run ``run(today)`` once for each date the clock shows, looking every ``check_every`` seconds.

    Parameters
    ----------
    run : callable
        Takes the date and returns the count per reason (:func:`~survey.services.retention.run_retention`).
    clock : callable
        Returns the current time; the date of its result decides whether a run is due.
    check_every : float
        Seconds between looks at the clock.
    """

    def __init__(
        self, run: Callable[[dt.date], dict[str, int]], *, clock: Clock = utc_now, check_every: float = 600.0
    ) -> None:
        self._run = run
        self._clock = clock
        self.check_every = check_every
        self.last_run_on: dt.date | None = None
        self.runs = 0
        self.failures = 0
        self.last_counts: dict[str, int] = {}
        self._stop = threading.Event()

    def tick(self) -> bool:
        """Run retention if it has not yet run successfully for today's date; never raises."""
        today = self._clock().date()
        if self.last_run_on == today:
            return False
        try:
            counts = self._run(today)
        except Exception as error:  # noqa: BLE001 - a failed run must not end the schedule
            self.failures += 1
            # The kind of error only: a message could quote a value from the database.
            log.error("scheduled retention run failed", extra={"error": type(error).__name__})
            return False
        self.last_run_on = today
        self.runs += 1
        self.last_counts = counts  # run_retention has logged them (counts only)
        return True

    def run_forever(self) -> None:
        """Look at once, then every ``check_every`` seconds, until :meth:`stop`."""
        while not self._stop.is_set():
            self.tick()
            self.wait()

    def wait(self) -> None:
        self._stop.wait(self.check_every)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()


def retention_in_app(app: Flask) -> Callable[[dt.date], dict[str, int]]:
    """``run_retention`` inside ``app``'s context."""
    from survey.services.retention import run_retention

    def run(today: dt.date) -> dict[str, int]:
        with app.app_context():
            return run_retention(today)

    return run


def enable(app: Flask, *, here: bool) -> None:
    """Turn the daily run on for the server ``sauti serve`` or ``sauti demo`` is about to start.

    Granian's workers build their app from the environment, so the setting goes there (an
    administrator's ``SAUTI_RETENTION_SCHEDULE=false`` is left alone, for cron); ``here`` is
    for a server that runs ``app`` in this process (waitress).
    """
    os.environ.setdefault("SAUTI_RETENTION_SCHEDULE", "true")
    app.config["RETENTION_SCHEDULE"] = os.environ["SAUTI_RETENTION_SCHEDULE"].lower() not in ("false", "0", "no")
    if here:
        start(app)


def start(app: Flask, *, clock: Clock = utc_now, check_every: float | None = None) -> DailyRetention | None:
    """Run retention daily in a background thread of this server process, if ``RETENTION_SCHEDULE``.

    Every worker process starts the thread, and the first to take the instance folder's
    ``retention.lock`` (held for the life of the process) is the only one that runs it; the
    others look again every ``check_every`` seconds and take over if that worker ends.
    """
    if not app.config.get("RETENTION_SCHEDULE"):
        return None
    every = float(app.config["RETENTION_CHECK_SECONDS"] if check_every is None else check_every)
    schedule = DailyRetention(retention_in_app(app), clock=clock, check_every=every)
    threading.Thread(
        target=_run_when_elected, args=(schedule, app.instance_path), name="sauti-retention", daemon=True
    ).start()
    return schedule


def _run_when_elected(schedule: DailyRetention, instance_path: str) -> None:
    while not schedule.stopped:
        if process_lock.hold(instance_path, "retention"):
            schedule.run_forever()
            return
        schedule.wait()

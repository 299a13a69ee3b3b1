"""Concern records go first whenever there is a connection (issue 22): a laptop's server pushes them.

A safeguarding concern raised in a school must reach the programme's safeguarding lead as soon
as the laptop has any connection, not when a facilitator remembers ``sauti sync push``.  Each
server process of ``sauti serve`` on a laptop starts a background thread (:func:`start`, from
:mod:`survey.wsgi`); the one holding ``<instance>/sync-push.lock`` runs :class:`ConcernPusher`,
the others wait to take over.  Every ``SYNC_CONCERN_PUSH_SECONDS`` (default 30) it looks, in one
cheap query, for concern records no confirmed bundle carried; if there are any it first resumes
a bundle still waiting in the outbox, then seals the concerns (and the session logs the lead
needs to find the child) into a concerns-only bundle and pushes it, recording the central
server's signed receipt.  Children's requests never wait for it: it runs beside them, and each
of its writes is one short transaction.

Offline, nothing is lost: the concern stays in the database and the bundle in the outbox, and
the next look resumes it; after each failure the wait doubles (up to half an hour), and is back
to ``SYNC_CONCERN_PUSH_SECONDS`` after a success.  A bundle the central server refuses for good
(a 4xx answer other than "too many requests") is dropped from the outbox, so the next look seals
the records again into a new one.  Only the kind of an error is logged, never content.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from survey import process_lock
from survey.sync import client

log = logging.getLogger("sauti.sync")

#: The longest wait between two tries while the central server cannot be reached (seconds).
MAX_WAIT_S = 1800.0
_TRANSIENT = (408, 409, 429)


def send(package_id: str, data: bytes, *, chunk: int = client.CHUNK_BYTES, max_rate: float = 0.0) -> client.Pushed:
    """Push one bundle (resuming where the central server stands) and record its signed receipt.

    A laptop provisioned from a file registers its device key first, as ``sauti sync pull`` does.
    """
    from survey.services import sync

    package = sync.package_named(package_id)
    if not package.registered:
        sync.accept_registration(
            package, client.post_signed(package.central_url, "devices", sync.registration_request(package))
        )
        package = sync.package_named(package_id)
    start_request = sync.device_request(package, client.upload_description(data))
    pushed = client.push_bundle(package.central_url, data, start_request, chunk=chunk, max_rate=max_rate)
    sync.accept_receipt(sync.package_named(package_id), pushed.receipt)
    return pushed


def push_concerns(package_id: str) -> int:
    """Push this package's concern records if any are unconfirmed; the number of bundles confirmed.

    Raises :class:`~survey.sync.client.SyncClientError` when the central server cannot be
    reached or refuses (the caller tries again later).
    """
    from survey.services import sync

    package = sync.package_named(package_id)
    if not package.central_url or not sync.unsent_concerns(package):
        return 0
    confirmed = 0
    waiting = sync.waiting_bundle(package)
    if waiting is not None:
        try:
            send(package_id, waiting[1])
        except client.SyncClientError as error:
            if 400 <= error.status < 500 and error.status not in _TRANSIENT:
                sync.outbox_file(package, waiting[0]).unlink(missing_ok=True)  # a new bundle carries it
            raise
        confirmed += 1
        package = sync.package_named(package_id)
        if not sync.unsent_concerns(package):
            return confirmed
    made = sync.export_bundle(package, concerns_only=True)
    send(package_id, made.data)
    return confirmed + 1


class ConcernPusher:
    """Look for unsent concern records every ``check_every`` seconds, waiting longer after failures.

    Parameters
    ----------
    app : Flask
        The laptop's app (each look runs in its application context).
    check_every : float
        Seconds between looks while all is well.
    max_wait : float
        The longest wait after repeated failures.
    """

    def __init__(self, app: Flask, *, check_every: float = 30.0, max_wait: float = MAX_WAIT_S) -> None:
        self.app = app
        self.check_every = check_every
        self.max_wait = max(max_wait, check_every)
        self.failures = 0
        self.pushed = 0
        self._stop = threading.Event()

    def tick(self) -> int:
        """One look: the bundles confirmed, or -1 after a failure (counted, logged); never raises."""
        import sqlalchemy as sa

        from survey.extensions import db
        from survey.models import FieldPackage

        try:
            with self.app.app_context():
                ids = db.session.scalars(sa.select(FieldPackage.id).where(FieldPackage.central_url != "")).all()
                confirmed = sum(push_concerns(package_id) for package_id in ids)
        except Exception as error:  # noqa: BLE001 - offline or refused: the next look tries again
            self.failures += 1
            log.warning("concern push failed", extra={"error": type(error).__name__, "failures": self.failures})
            return -1
        self.failures = 0
        if confirmed:
            self.pushed += confirmed
            log.info("concern records pushed", extra={"bundles": confirmed})
        return confirmed

    def wait_seconds(self) -> float:
        return min(self.check_every * 2**self.failures, self.max_wait) if self.failures else self.check_every

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.wait_seconds())

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()


def start(app: Flask) -> ConcernPusher | None:
    """Start the pusher in a background thread of this server process, on a laptop (SQLite).

    Every worker starts the thread; the one that takes ``<instance>/sync-push.lock`` (held for
    the life of the process) runs it, and another takes over if that worker ends.
    ``SYNC_CONCERN_PUSH_SECONDS = 0`` turns it off.
    """
    from survey.database import is_sqlite

    every = float(app.config.get("SYNC_CONCERN_PUSH_SECONDS") or 0)
    if every <= 0 or not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        return None
    pusher = ConcernPusher(app, check_every=every)
    threading.Thread(target=_run_when_elected, args=(pusher,), name="sauti-concern-push", daemon=True).start()
    return pusher


def _run_when_elected(pusher: ConcernPusher) -> None:
    while not pusher.stopped:
        if process_lock.hold(pusher.app.instance_path, "sync-push"):
            pusher.run_forever()
            return
        pusher._stop.wait(pusher.check_every)


def serving_here(instance_path: str) -> bool:
    """Whether a `sauti serve` of this instance is running: one of its workers holds the pusher's lock."""
    return process_lock.held_elsewhere(instance_path, "sync-push")

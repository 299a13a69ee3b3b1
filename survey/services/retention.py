"""Retention (DP-06) and the deletion of one child's records (C-07, C-08, C-09).

What goes and when is decided in :mod:`consent.withdrawal`; this module applies it:

* :func:`delete_childs_records` is the one place a child's rows are deleted, for
  stop-and-delete, "No, please delete them", the withdrawal code and the incomplete window:
  answers, page saves, the assent event and the child's resolved "talk to someone" signals
  (after a child's own deletion :func:`clear_deleted_from_log` empties SQLite's write-ahead
  log at once).
  Assent events and signals are not linked to the participant (C-10, S-07); they carry a
  ``holder_tag``, a keyed hash of the participant's id (:func:`holder_tag`), that only the app
  (holding the secret key) can compute.  An unresolved signal is unlinked and kept until the
  facilitator resolves it: the child asked for a person.  The safeguarding lead's concern
  record of a flagged answer is never linked to the child and is kept (the child is told).
* :func:`run_retention`, once a day (``sauti serve`` and ``sauti demo`` run it themselves,
  :mod:`survey.services.retention_schedule`; ``sauti retention run`` from cron does the same):
  incomplete responses after the profile's ``incomplete_days``; everything of a consultation
  after its retention date; concern records ``safeguarding_days`` after the lead resolved them,
  resolved signals ``safeguarding_days`` after they were raised; the holder tags of completed
  responses once the withdrawal cut-off has passed (they can no longer be withdrawn, so nothing
  may link them any more).  Then it makes the deleted bytes unreadable: on SQLite (which runs
  with ``secure_delete``, so deleted rows are overwritten with zeros) a ``TRUNCATE`` checkpoint
  empties the write-ahead log; on PostgreSQL ``VACUUM FULL`` rewrites the children's tables,
  since a plain ``VACUUM`` leaves deleted rows' bytes in the table file.

It logs counts per reason, never content.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import logging
import threading
import time

import sqlalchemy as sa
from flask import current_app

from consent.states import State
from consent.withdrawal import RetentionReason, concern_record_expired, retention_decision
from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    ConcernFlag,
    Consultation,
    FacilitationSession,
    PageSave,
    Participant,
    Signal,
)
from survey.services.safeguarding import country_profile

log = logging.getLogger("sauti.retention")

#: Tables that hold what children said or did; PostgreSQL rewrites them after each run.
CHILDREN_TABLES = ("answer", "page_save", "participant", "assent_event", "signal", "concern_flag")

#: How long ``VACUUM FULL`` may wait for its table lock before it gives up until the next run:
#: children's saves queue behind a waiting lock, so the wait is kept short.
VACUUM_LOCK_TIMEOUT = "5s"

#: SQLite's checkpoint: how long each attempt waits for readers (ms), and how many attempts.
CHECKPOINT_WAIT_MS = 500
CHECKPOINT_ATTEMPTS = 5
#: The one try right after a child's delete, within their request (:func:`clear_deleted_from_log`).
AFTER_DELETE_WAIT_MS = 250


def holder_tag(participant_id: str) -> str:
    """The keyed hash that lets the app, and only the app, find a child's assent event and signals.

    HMAC-SHA256 of the participant's id with the app's secret key: the tables hold no foreign
    key and no id, so a copy of the database without the key links them to no one (ENISA's
    keyed-hash pseudonymisation, anonymization-analysis.md A.7).
    """
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, b"holder:" + participant_id.encode(), hashlib.sha256).hexdigest()


def delete_childs_records(session, participant: Participant) -> None:  # a Session
    """Delete every row of this child inside the caller's write transaction.

    Answers, page saves, the assent event and resolved signals go; an unresolved signal is
    unlinked (its tag cleared) and stays for the facilitator.  The participant row stays as the
    card's state (a count), emptied of band, language, seat label and position.
    """
    for model in (Answer, PageSave):
        session.execute(sa.delete(model).where(model.participant_id == participant.id))
    tag = holder_tag(participant.id)
    session.execute(sa.delete(AssentEvent).where(AssentEvent.holder_tag == tag))
    session.execute(sa.delete(Signal).where(Signal.holder_tag == tag, Signal.status == "resolved"))
    session.execute(sa.update(Signal).where(Signal.holder_tag == tag).values(holder_tag=None))
    forget_card_details(participant)


def forget_card_details(participant: Participant) -> None:
    """Empty what the child gave on the way: age band, language, seat label and page position.

    Done with every deletion, and as a card enters a state that is only a count
    (:data:`consent.withdrawal.COUNT_ONLY_STATES`, a No at the information step among them).
    """
    participant.band = None
    participant.language = None
    participant.seat_label = ""
    participant.page_index = 0


def concern_context(session, participant, flags: list[ConcernFlag]) -> None:
    """Add to new concern records where the child is, in a facilitated session: session and seat.

    That, the date, the question, the concern categories and the redacted excerpt are all the
    safeguarding lead needs to reach the child; nothing links the record to the participant.
    """
    session_id = session.scalar(
        sa.select(FacilitationSession.id)
        .where(FacilitationSession.consultation_id == participant.consultation_id, FacilitationSession.state == "open")
        .order_by(FacilitationSession.id.desc())
        .limit(1)
    )
    for flag in flags:
        flag.session_id = session_id
        flag.seat_label = (participant.seat_label or "") if session_id is not None else ""


def run_retention(today: dt.date) -> dict[str, int]:
    """Apply the retention rules to every consultation; return the count per reason."""
    counts: collections.Counter[str] = collections.Counter()
    for consultation in db.session.scalars(sa.select(Consultation)).all():
        retention = country_profile(consultation.country_profile).retention
        _participants(consultation, today, retention.incomplete_days, counts)
        _safeguarding_records(consultation, today, retention.safeguarding_days, counts)
        _unlink_after_cutoff(consultation, today, counts)
    from survey.services.sync import purge_confirmed  # a field laptop's copy, once the centre holds it

    counts.update({f"field_copy_{kind}": n for kind, n in purge_confirmed(today).items()})
    db.session.commit()  # end the read transaction before the storage clean-up
    make_deleted_unreadable()
    log.info("retention run", extra={"deleted": dict(counts)})
    return dict(counts)


def _participants(
    consultation: Consultation, today: dt.date, incomplete_days: int, counts: collections.Counter[str]
) -> None:
    participants = db.session.scalars(
        sa.select(Participant).where(Participant.consultation_id == consultation.id)
    ).all()
    for participant in participants:
        decision = retention_decision(
            participant.state,
            last_activity=participant.last_active_on or participant.issued_on,
            today=today,
            incomplete_days=incomplete_days,
            retention_until=consultation.retention_until,
        )
        if not decision.deletes:
            continue
        with write_transaction() as session:
            record = session.merge(participant)
            delete_childs_records(session, record)
            if decision.reason is RetentionReason.RETENTION_DATE_PASSED:
                session.delete(record)
            else:
                record.state = decision.new_state.value
        counts[decision.reason.value] += 1
    if consultation.retention_until is not None and today > consultation.retention_until:
        # Everything of the consultation goes, records made before holder tags included;
        # unresolved concern records stay until the safeguarding lead resolves them.
        with write_transaction() as session:
            for model in (AssentEvent, Signal):
                session.execute(sa.delete(model).where(model.consultation_id == consultation.id))


def _safeguarding_records(
    consultation: Consultation, today: dt.date, safeguarding_days: int, counts: collections.Counter[str]
) -> None:
    resolved = db.session.execute(
        sa.select(ConcernFlag.id, ConcernFlag.resolved_on).where(
            ConcernFlag.consultation_id == consultation.id, ConcernFlag.resolved_on.is_not(None)
        )
    ).all()
    expired = [
        flag_id
        for flag_id, resolved_on in resolved
        if concern_record_expired(resolved_on, today=today, safeguarding_days=safeguarding_days)
    ]
    last_kept = dt.datetime.combine(today - dt.timedelta(days=safeguarding_days), dt.time.min)
    with write_transaction() as session:
        if expired:
            session.execute(sa.delete(ConcernFlag).where(ConcernFlag.id.in_(expired)))
            counts["concern_record_resolved"] += len(expired)
        signals = session.execute(
            sa.delete(Signal).where(
                Signal.consultation_id == consultation.id, Signal.status == "resolved", Signal.raised_at < last_kept
            )
        ).rowcount
        if signals:
            counts["signal_resolved"] += signals


def _unlink_after_cutoff(consultation: Consultation, today: dt.date, counts: collections.Counter[str]) -> None:
    """After the withdrawal cut-off a completed response can no longer be withdrawn: unlink it."""
    if consultation.analysis_cutoff is None or today <= consultation.analysis_cutoff:
        return
    ids = db.session.scalars(
        sa.select(Participant.id).where(
            Participant.consultation_id == consultation.id, Participant.state == State.COMPLETED.value
        )
    ).all()
    tags = [holder_tag(participant_id) for participant_id in ids]
    unlinked = 0
    with write_transaction() as session:
        for start in range(0, len(tags), 500):
            chunk = tags[start : start + 500]
            for model in (AssentEvent, Signal):
                unlinked += session.execute(
                    sa.update(model).where(model.holder_tag.in_(chunk)).values(holder_tag=None)
                ).rowcount
    if unlinked:
        counts["unlinked_after_cutoff"] += unlinked


def clear_deleted_from_log() -> None:
    """After one child's records were deleted in a running server (stop-and-delete, "No, please
    delete them", the withdrawal code): on SQLite, empty the write-ahead log now.

    ``secure_delete`` zeroes the rows in the pages it writes, but the log still holds the pages
    as they were before, words and all, until a checkpoint copies the new ones back and a
    ``TRUNCATE`` empties it.  One short try here, in the writers' queue so that no save is
    waiting on it for long; if a reader keeps it waiting, a background thread tries again as
    the retention run does.  PostgreSQL's deleted rows go at the retention run's ``VACUUM
    FULL`` (README, "Retention"): rewriting tables at every child's delete would stop the others.
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    from survey.database import writers_turn

    try:
        with writers_turn(engine):
            done = _checkpoint(engine, wait_ms=AFTER_DELETE_WAIT_MS, attempts=1)
    except (sa.exc.SQLAlchemyError, engine.dialect.loaded_dbapi.Error):  # the child's delete is done: no error page
        log.exception("checkpoint after a deletion failed")
        return
    if not done:
        threading.Thread(target=_checkpoint_later, args=(engine,), name="sauti-checkpoint", daemon=True).start()


def _checkpoint_later(engine: sa.Engine) -> None:
    try:
        done = _checkpoint(engine, wait_ms=CHECKPOINT_WAIT_MS, attempts=CHECKPOINT_ATTEMPTS)
    except (sa.exc.SQLAlchemyError, engine.dialect.loaded_dbapi.Error):
        log.exception("checkpoint after a deletion failed")
        return
    if not done:
        log.warning("checkpoint after a deletion deferred: the database was busy")


def _checkpoint(engine: sa.Engine, *, wait_ms: int, attempts: int) -> bool:
    """A ``TRUNCATE`` checkpoint of the SQLite database; whether it went through.

    On a driver connection of its own, outside any transaction (a checkpoint cannot pass a read
    snapshot its own connection holds).  It waits for readers to finish: ``wait_ms`` each
    time, ``attempts`` times, rather than the server's 10 s busy timeout holding up saves.
    """
    connection = engine.raw_connection()
    try:
        driver = connection.driver_connection
        cursor = driver.cursor()
        try:
            (restore,) = cursor.execute("PRAGMA busy_timeout").fetchall()[0]
            cursor.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            try:
                for attempt in range(attempts):
                    (busy, _log_pages, _copied) = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()[0]
                    if not busy:
                        return True
                    if attempt + 1 < attempts:
                        time.sleep(attempt + 1)
                return False
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {int(restore)}")
        finally:
            cursor.close()
    finally:
        connection.close()


def make_deleted_unreadable() -> None:
    """Make deleted rows' bytes unreadable in the database files (best effort; logs, never raises).

    SQLite overwrites deleted content with zeros as it deletes (``secure_delete``, set on every
    connection by :mod:`survey.database`), but the write-ahead log keeps older page images until
    a checkpoint: a ``TRUNCATE`` checkpoint copies the pages back and empties it.  PostgreSQL's
    plain ``VACUUM`` only marks a deleted row's space reusable, leaving its bytes in the table
    file; ``VACUUM FULL`` writes the table anew.  It cannot run inside a transaction, so it runs
    on a connection of its own in autocommit mode.  PostgreSQL's own write-ahead log segments
    are recycled after its checkpoints (README, "Retention").
    """
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite":
            if not _checkpoint(engine, wait_ms=CHECKPOINT_WAIT_MS, attempts=CHECKPOINT_ATTEMPTS):
                log.warning("retention checkpoint deferred: the database was busy")
        elif engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql(f"SET lock_timeout = '{VACUUM_LOCK_TIMEOUT}'")
                for table in CHILDREN_TABLES:
                    try:
                        connection.exec_driver_sql(f'VACUUM FULL "{table}"')
                    except sa.exc.OperationalError:
                        log.warning("retention vacuum deferred: a table was busy", extra={"table": table})
    except sa.exc.SQLAlchemyError:
        log.exception("retention storage clean-up failed")

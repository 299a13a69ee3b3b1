"""Facilitated sessions: started with a PIN, a training attestation and the safe-space checklist
(F-01); closed with a non-identifying log (F-03).  Children's codes work in a facilitated
consultation only while a session is open."""

from __future__ import annotations

import collections
import datetime as dt
import json

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError

from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, FacilitationSession, Participant, Signal, User
from survey.services import audit
from survey.services.accounts import password_hasher

#: The safe-space checklist (F-01): every item must be confirmed to start.
CHECKLIST = ("screens_private", "alternative_activity", "help_cards", "referral_contact")
REFERRAL_CATEGORIES = ("", "safeguarding_lead", "helpline", "health", "police", "other")
#: Training counts for two years.
TRAINING_VALID_FOR = dt.timedelta(days=730)


class SessionError(ValueError):
    """A session that cannot start or close; the message says what is missing."""


def set_pin(consultation: Consultation, pin: str, actor: User | None = None) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise SessionError("A session PIN is 4 to 8 digits.")
    with write_transaction() as session:
        session.merge(consultation).session_pin_hash = password_hasher().hash(pin)
        audit.record(actor, "session.pin", f"consultation:{consultation.id}")


def open_session(consultation_id: int) -> FacilitationSession | None:
    return db.session.scalar(
        sa.select(FacilitationSession).where(
            FacilitationSession.consultation_id == consultation_id, FacilitationSession.state == "open"
        )
    )


def start(
    consultation: Consultation,
    *,
    pin: str,
    checklist: list[str],
    trained_on: dt.date | None,
    today: dt.date,
    actor: User | None,
) -> FacilitationSession:
    if consultation.state != "open":
        raise SessionError("Open the consultation before starting a session.")
    if open_session(consultation.id) is not None:
        raise SessionError("A session is already running.")
    try:
        ok = bool(consultation.session_pin_hash) and password_hasher().verify(consultation.session_pin_hash, pin)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise SessionError("That PIN is not right.")
    missing = [item for item in CHECKLIST if item not in checklist]
    if missing:
        raise SessionError("Confirm every item of the safe-space checklist before starting.")
    if trained_on is None or trained_on > today or today - trained_on > TRAINING_VALID_FOR:
        raise SessionError("Give the date of your safeguarding training (within the last two years).")
    with write_transaction() as session:
        record = FacilitationSession(
            consultation_id=consultation.id,
            facilitator_id=actor.id if actor else None,
            started_on=today,
            training_attested_on=trained_on,
            checklist=" ".join(CHECKLIST),
        )
        session.add(record)
        audit.record(actor, "session.start", f"consultation:{consultation.id}")
    return record


def close(
    consultation: Consultation,
    *,
    number_present: int | None,
    incident: bool,
    referral_category: str,
    today: dt.date,
    actor: User,
) -> FacilitationSession:
    record = open_session(consultation.id)
    if record is None:
        raise SessionError("No session is running.")
    if referral_category not in REFERRAL_CATEGORIES or (incident and not referral_category):
        raise SessionError("With an incident, choose where the child was referred.")
    summary = _summary(consultation.id, record.started_on, today)
    with write_transaction() as session:
        record = session.merge(record)
        record.state = "closed"
        record.closed_on = today
        record.number_present = number_present
        record.incident = incident
        record.referral_category = referral_category if incident else ""
        record.summary = json.dumps(summary, sort_keys=True)
        audit.record(actor, "session.close", f"consultation:{consultation.id}")
    return record


def _summary(consultation_id: int, since: dt.date, today: dt.date) -> dict:
    """Counts for the log: nothing about any one child."""
    rows = db.session.execute(
        sa.select(Participant.state, Participant.band).where(
            Participant.consultation_id == consultation_id,
            Participant.last_active_on >= since,
            Participant.last_active_on <= today,
        )
    ).all()
    by_state = collections.Counter(state for state, _band in rows)
    # Age bands of the children who began: a No's band would let the bands' total give the
    # number of Noes back (services.progress releases that number on its own).
    by_band = collections.Counter(band for state, band in rows if band and state not in ("declined", "issued"))
    signals = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Signal)
        .where(Signal.consultation_id == consultation_id, Signal.raised_at >= dt.datetime.combine(since, dt.time.min))
    )
    return {
        "bands": dict(by_band),
        "completed": by_state.get("completed", 0),
        "declined": by_state.get("declined", 0),
        "stopped_early": by_state.get("withdrawn", 0) + by_state.get("answering", 0) + by_state.get("assented", 0),
        "signals": signals,
    }


def sessions(consultation_id: int) -> list[FacilitationSession]:
    return list(
        db.session.scalars(
            sa.select(FacilitationSession)
            .where(FacilitationSession.consultation_id == consultation_id)
            .order_by(FacilitationSession.id.desc())
        )
    )

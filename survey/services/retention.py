"""Retention (DP-06): incomplete responses go after 7 days, everything after the retention date.

The decisions are :func:`consent.withdrawal.retention_decision`; this module applies them and
logs counts per reason, never content.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging

import sqlalchemy as sa

from consent.withdrawal import RetentionReason, retention_decision
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, Consultation, PageSave, Participant
from survey.services.safeguarding import country_profile

log = logging.getLogger("sauti.retention")


def run_retention(today: dt.date) -> dict[str, int]:
    """Apply the retention rules to every participant; return the count per reason."""
    counts: collections.Counter[str] = collections.Counter()
    for consultation in db.session.scalars(sa.select(Consultation)):
        incomplete_days = country_profile(consultation.country_profile).retention.incomplete_days
        participants = db.session.scalars(sa.select(Participant).where(
            Participant.consultation_id == consultation.id)).all()
        for participant in participants:
            decision = retention_decision(
                participant.state, last_activity=participant.last_active_on or participant.issued_on,
                today=today, incomplete_days=incomplete_days, retention_until=consultation.retention_until)
            if not decision.deletes:
                continue
            with write_transaction() as session:
                record = session.merge(participant)
                for model in (Answer, PageSave):
                    session.execute(sa.delete(model).where(model.participant_id == record.id))
                if decision.reason is RetentionReason.RETENTION_DATE_PASSED:
                    session.delete(record)
                else:
                    record.state = decision.new_state.value
                    record.band = None
            counts[decision.reason.value] += 1
    log.info("retention run", extra={"deleted": dict(counts)})
    return dict(counts)

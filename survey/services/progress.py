"""Counts of participants by state: what a facilitator may see of a consultation."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Participant

PARTICIPANT_STATES = ("issued", "assented", "answering", "completed", "withdrawn", "declined", "expired")


def participation_counts(consultation_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Participant.state, sa.func.count())
        .where(Participant.consultation_id == consultation_id)
        .group_by(Participant.state)
    ).all()
    counts = dict.fromkeys(PARTICIPANT_STATES, 0)
    counts.update(dict(rows))
    return counts

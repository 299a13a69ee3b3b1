"""The safeguarding lead's reading list: every written answer, read by a person.

Screening (:func:`survey.services.journey.screen_open_answers`) sends answers that match a
concern rule to the safeguarding queue at once.  It cannot catch everything: children describe
what happened in words no rule expects ("told the nurse I fell off my bike but it was him
again").  So a disclosure is never left to the rules alone: every written answer waits here,
already stripped of personal details, until the lead has read it, and the lead can raise a
concern from any of them.  Facilitators and analysts never see this list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable

import sqlalchemy as sa

from instruments import RESERVED_CODES, ItemType
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, ConcernFlag, Consultation, Participant, User, WrittenAnswerRead
from survey.services import audit
from survey.services.instrument_store import instrument_for
from survey.services.retention import concern_context

#: Written answers shown per page of the reading list.
PER_PAGE = 50

#: What a concern raised by the lead from the reading list is recorded as having matched.
RAISED_BY_READER = "raised-by-reader"


@dataclasses.dataclass(frozen=True)
class WrittenAnswer:
    """One written answer as the lead reads it (nothing that identifies the child)."""

    answer_id: str
    question: str
    text: str
    saved_on: dt.date


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _text_items(consultation: Consultation) -> dict[str, str]:
    """The consultation's written-answer items and their question, in the instrument's own language."""
    instrument = instrument_for(consultation)
    language = instrument.settings.default_language
    return {
        item.name: item.label_for(language, None, language) for item in instrument.items if item.type is ItemType.TEXT
    }


def unread(consultation: Consultation, *, page: int = 1) -> tuple[list[WrittenAnswer], int]:
    """One page of the written answers the lead has not read (oldest first), and how many in all."""
    items = _text_items(consultation)
    if not items:
        return [], 0
    read = dict(
        db.session.execute(
            sa.select(WrittenAnswerRead.answer_id, WrittenAnswerRead.value_digest).where(
                WrittenAnswerRead.consultation_id == consultation.id
            )
        ).all()
    )
    rows = db.session.execute(
        sa.select(Answer.id, Answer.item, Answer.value, Answer.saved_on)
        .join(Participant, Participant.id == Answer.participant_id)
        .where(
            Participant.consultation_id == consultation.id,
            Answer.item.in_(sorted(items)),
            Answer.value.not_in(sorted(RESERVED_CODES)),
        )
        .order_by(Answer.saved_on, Answer.item, Answer.id)
    ).all()
    waiting = [
        WrittenAnswer(answer_id, items[item], value, saved_on)
        for answer_id, item, value, saved_on in rows
        if value.strip() and read.get(answer_id) != _digest(value)
    ]
    start = (max(page, 1) - 1) * PER_PAGE
    return waiting[start : start + PER_PAGE], len(waiting)


def unread_count(consultation: Consultation) -> int:
    """How many written answers the lead has not read yet."""
    return unread(consultation, page=1)[1]


def mark_read(consultation_id: int, answer_ids: Iterable[str], actor: User) -> int:
    """Record that the lead read these answers as they stand now; returns how many were marked."""
    wanted = set(answer_ids)
    if not wanted:
        return 0
    with write_transaction() as session:
        consultation = session.get(Consultation, consultation_id)
        items = _text_items(consultation) if consultation is not None else {}
        rows = session.execute(
            sa.select(Answer.id, Answer.value)
            .join(Participant, Participant.id == Answer.participant_id)
            .where(
                Participant.consultation_id == consultation_id,
                Answer.id.in_(sorted(wanted)),
                Answer.item.in_(sorted(items)),
            )
        ).all()
        for answer_id, value in rows:
            mark = session.get(WrittenAnswerRead, answer_id)
            if mark is None:
                session.add(
                    WrittenAnswerRead(answer_id=answer_id, consultation_id=consultation_id, value_digest=_digest(value))
                )
            else:
                mark.value_digest, mark.read_on = _digest(value), dt.date.today()
        if rows:
            audit.record(actor, "written.read", f"consultation:{consultation_id} answers:{len(rows)}")
    return len(rows)


def raise_concern(consultation_id: int, answer_id: str, actor: User) -> ConcernFlag | None:
    """Put a written answer in the safeguarding queue as a concern, and mark it read.

    The concern record is made as screening makes one: the question, the answer as stored
    (personal details already removed), the date and, in an open facilitated session, the seat;
    nothing links it to the child.  Returns None when the answer is not this consultation's.
    """
    with write_transaction() as session:
        found = session.execute(
            sa.select(Answer, Participant)
            .join(Participant, Participant.id == Answer.participant_id)
            .where(Answer.id == answer_id, Participant.consultation_id == consultation_id)
        ).first()
        if found is None:
            return None
        answer, participant = found
        flag = ConcernFlag(
            consultation_id=consultation_id, item=answer.item, excerpt=answer.value, concerns=RAISED_BY_READER
        )
        concern_context(session, participant, [flag])
        session.add(flag)
        mark = session.get(WrittenAnswerRead, answer_id)
        if mark is None:
            session.add(
                WrittenAnswerRead(
                    answer_id=answer_id, consultation_id=consultation_id, value_digest=_digest(answer.value)
                )
            )
        else:
            mark.value_digest = _digest(answer.value)
        session.flush()
        audit.record(actor, "concern.raise", f"consultation:{consultation_id} flag:{flag.id}")
    return flag

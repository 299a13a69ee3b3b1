"""The programme records of a consultation: the Lundy and GC12 checklists (P-06), the influence log
(P-03), the feedback tracker (P-04), what they give the report (:func:`report_inputs`), and the
overview across consultations.  Every change is audited in the same transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    AuditEvent,
    ChecklistAnswer,
    Consultation,
    FeedbackSheetRecord,
    InfluenceEntry,
    Membership,
    User,
)
from survey.services import audit, progress
from survey.services import released as released_cells
from survey.states import ChecklistStatus, Decision

STATUSES = {ChecklistStatus.YES: _l("Yes"), ChecklistStatus.PARTLY: _l("Partly"), ChecklistStatus.NO: _l("No")}
DECISIONS = {
    Decision.PENDING: _l("Pending"),
    Decision.ACCEPTED: _l("Accepted"),
    Decision.PARTLY: _l("Partly accepted"),
    Decision.REJECTED: _l("Not accepted"),
}
#: Decisions that need a reason children can be told (P-03: "not" without a reason is refused).
NEEDS_REASON = frozenset({Decision.PARTLY, Decision.REJECTED})

#: The Lundy checklist questions (reference §2.2, after the Scottish Government's Article 12 study).
LUNDY_QUESTIONS: dict[str, tuple[str, object]] = {
    "space_sought": ("Space", _l("Were children's views actively sought?")),
    "space_safe": ("Space", _l("Was there a safe space where children could express themselves freely?")),
    "space_inclusive": (
        "Space",
        _l(
            "Were steps taken so that all children could take part, including "
            "shy children and those who find it hard to express themselves?"
        ),
    ),
    "voice_information": (
        "Voice",
        _l("Was information presented so that children understood what they needed to form a view?"),
    ),
    "voice_voluntary": ("Voice", _l("Did children know that they did not have to take part?")),
    "voice_options": ("Voice", _l("Did children have a range of ways to express their views?")),
    "audience_process": (
        "Audience",
        _l("Is there a process for communicating children's views to the people who decide?"),
    ),
    "audience_known": ("Audience", _l("Do children know who their views are being communicated to?")),
    "audience_access": ("Audience", _l("Can children reach someone with the power to make decisions?")),
    "influence_considered": ("Influence", _l("Were the views considered by those with the power to make changes?")),
    "influence_serious": ("Influence", _l("Are there procedures to make sure the views are taken seriously?")),
    "influence_feedback": (
        "Influence",
        _l("Have children received feedback explaining the reasons for the decisions taken?"),
    ),
}
#: The nine basic requirements of General Comment No. 12, paragraph 134.
GC12_REQUIREMENTS: dict[str, object] = {
    "a": _l("(a) Transparent and informative"),
    "b": _l("(b) Voluntary"),
    "c": _l("(c) Respectful"),
    "d": _l("(d) Relevant"),
    "e": _l("(e) Child-friendly"),
    "f": _l("(f) Inclusive"),
    "g": _l("(g) Supported by training"),
    "h": _l("(h) Safe and sensitive to risk"),
    "i": _l("(i) Accountable"),
}
CHECKLISTS: dict[str, Mapping[str, object]] = {"lundy": LUNDY_QUESTIONS, "gc12": GC12_REQUIREMENTS}
MAX_TEXT = 4000


class ProgrammeError(ValueError):
    """A programme record that cannot be saved; the message is for the user."""


def _actor_name(actor: User | None) -> str:
    return actor.username if actor is not None else ""


def _text(value: str | None, limit: int = MAX_TEXT) -> str:
    # NUL is not text (and PostgreSQL refuses it in a string).
    return (value or "").replace("\x00", "").strip()[:limit]


# ----------------------------------------------------------------------------- checklists
def question_label(checklist: str, key: str) -> str:
    entry = CHECKLISTS[checklist][key]
    return str(entry[1] if isinstance(entry, tuple) else entry)


def checklist_answers(consultation_id: int, checklist: str) -> dict[str, ChecklistAnswer]:
    rows = db.session.scalars(
        sa.select(ChecklistAnswer).where(
            ChecklistAnswer.consultation_id == consultation_id, ChecklistAnswer.checklist == checklist
        )
    )
    return {row.question: row for row in rows}


def incomplete_checklists(consultation_id: int) -> dict[str, int]:
    """Questions still unanswered per checklist ({"lundy": 2, ...}; complete ones left out)."""
    missing = {}
    for checklist, questions in CHECKLISTS.items():
        answered = checklist_answers(consultation_id, checklist)
        left = sum(1 for key in questions if key not in answered)
        if left:
            missing[checklist] = left
    return missing


def save_checklist(
    consultation: Consultation, checklist: str, answers: Mapping[str, tuple[str, str]], *, actor: User | None
) -> dict[str, str]:
    """Save a checklist's answers ({question: (status, evidence)}); returns problems by question.

    A question left without a status stays unanswered; a status needs evidence (P-06: "with
    evidence notes").  Nothing is saved when any answer has a problem.
    """
    if checklist not in CHECKLISTS:
        raise ProgrammeError(_("There is no such checklist."))
    clean, problems = _checked_answers(checklist, answers)
    if problems:
        return problems
    _store_checklist(consultation, checklist, clean, actor=actor)
    return {}


def _checked_answers(
    checklist: str, answers: Mapping[str, tuple[str, str]]
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The answers given, cleaned, and a problem for each answer without a status or evidence."""
    problems: dict[str, str] = {}
    clean: dict[str, tuple[str, str]] = {}
    for key in CHECKLISTS[checklist]:
        status, evidence = answers.get(key, ("", ""))
        status, evidence = (status or "").strip(), _text(evidence)
        if not status and not evidence:
            continue
        if status not in STATUSES:
            problems[key] = _("Choose yes, partly or no.")
        elif not evidence:
            problems[key] = _("Say what shows this (the evidence), in a sentence or two.")
        else:
            clean[key] = (status, evidence)
    return clean, problems


def _store_checklist(
    consultation: Consultation, checklist: str, clean: Mapping[str, tuple[str, str]], *, actor: User | None
) -> None:
    """Write the changed answers, delete the withdrawn ones, and audit which questions changed."""
    changed = []
    with write_transaction() as session:
        existing = {
            row.question: row
            for row in session.scalars(
                sa.select(ChecklistAnswer).where(
                    ChecklistAnswer.consultation_id == consultation.id, ChecklistAnswer.checklist == checklist
                )
            )
        }
        for key in CHECKLISTS[checklist]:
            row = existing.get(key)
            if key not in clean:
                if row is not None:
                    session.delete(row)
                    changed.append(key)
                continue
            status, evidence = clean[key]
            if row is None:
                row = ChecklistAnswer(consultation_id=consultation.id, checklist=checklist, question=key)
                session.add(row)
            elif (row.status, row.evidence) == (status, evidence):
                continue
            row.status, row.evidence = status, evidence
            row.updated_on, row.updated_by = dt.date.today(), _actor_name(actor)
            changed.append(key)
        if changed:
            audit.record(actor, f"programme.{checklist}", f"consultation:{consultation.id} " + " ".join(changed))


# ----------------------------------------------------------------------------- influence log
def influence_entries(consultation_id: int) -> list[InfluenceEntry]:
    return list(
        db.session.scalars(
            sa.select(InfluenceEntry)
            .where(InfluenceEntry.consultation_id == consultation_id)
            .order_by(InfluenceEntry.id)
        )
    )


def _influence_values(data: Mapping[str, object]) -> dict:
    recommendation = _text(str(data.get("recommendation") or ""))
    decision = str(data.get("decision") or "pending")
    reason = _text(str(data.get("reason") or ""))
    decided_on = data.get("decided_on")
    if not recommendation:
        raise ProgrammeError(_("Write the recommendation that came from the children's views."))
    if decision not in DECISIONS:
        raise ProgrammeError(_("Choose a decision: pending, accepted, partly accepted or not accepted."))
    if decision in NEEDS_REASON and not reason:
        raise ProgrammeError(
            _(
                "A recommendation that is not (or only partly) accepted needs the reason, "
                "so that children can be told why."
            )
        )
    if decision != "pending" and decided_on is None:
        decided_on = dt.date.today()
    if decided_on is not None and decided_on > dt.date.today():
        raise ProgrammeError(_("The decision date cannot be in the future."))
    return {
        "recommendation": recommendation,
        "source_finding": _text(str(data.get("source_finding") or "")),
        "decision": decision,
        "reason": reason,
        "owner": _text(str(data.get("owner") or ""), 120),
        "decided_on": decided_on if decision != "pending" else None,
    }


def add_influence(consultation: Consultation, data: Mapping[str, object], *, actor: User | None) -> int:
    values = _influence_values(data)
    with write_transaction() as session:
        entry = InfluenceEntry(consultation_id=consultation.id, recorded_by=_actor_name(actor), **values)
        session.add(entry)
        session.flush()
        audit.record(
            actor, "programme.influence.add", f"consultation:{consultation.id} entry:{entry.id} {values['decision']}"
        )
        return entry.id


def update_influence(entry: InfluenceEntry, data: Mapping[str, object], *, actor: User | None) -> None:
    values = _influence_values(data)
    with write_transaction() as session:
        entry = session.merge(entry)
        for name, value in values.items():
            setattr(entry, name, value)
        audit.record(
            actor,
            "programme.influence.update",
            f"consultation:{entry.consultation_id} entry:{entry.id} {values['decision']}",
        )


def delete_influence(entry: InfluenceEntry, *, actor: User | None) -> None:
    with write_transaction() as session:
        entry = session.merge(entry)
        audit.record(actor, "programme.influence.delete", f"consultation:{entry.consultation_id} entry:{entry.id}")
        session.delete(entry)


def influence_counts(consultation_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Decisions per consultation, in one query."""
    out: dict[int, dict[str, int]] = {cid: dict.fromkeys(DECISIONS, 0) for cid in consultation_ids}
    if not consultation_ids:
        return out
    rows = db.session.execute(
        sa.select(InfluenceEntry.consultation_id, InfluenceEntry.decision, sa.func.count())
        .where(InfluenceEntry.consultation_id.in_(list(consultation_ids)))
        .group_by(InfluenceEntry.consultation_id, InfluenceEntry.decision)
    )
    for cid, decision, n in rows:
        out[cid][decision] = int(n)
    return out


# ----------------------------------------------------------------------------- feedback tracker
def feedback_overdue(consultation: Consultation, today: dt.date | None = None) -> bool:
    """P-04: the due date has passed and no feedback date is recorded."""
    today = today or dt.date.today()
    return bool(
        consultation.feedback_due and consultation.feedback_due < today and consultation.feedback_given_on is None
    )


def save_tracker(consultation: Consultation, *, given_on: dt.date | None, formats: str, actor: User | None) -> None:
    if given_on is not None and given_on > dt.date.today():
        raise ProgrammeError(_("The date feedback was given cannot be in the future."))
    with write_transaction() as session:
        record = session.merge(consultation)
        record.feedback_given_on = given_on
        record.feedback_formats = _text(formats, 200)
        audit.record(
            actor,
            "programme.feedback_tracker",
            f"consultation:{record.id} given:{given_on.isoformat() if given_on else '-'}",
        )


def closed_on(consultation_id: int) -> dt.date | None:
    """When the consultation was closed, from the audit log (the consultation keeps no date)."""
    at = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.at)).where(
            AuditEvent.action == "consultation.closed", AuditEvent.target == f"consultation:{consultation_id}"
        )
    )
    return at.date() if at is not None else None


# ----------------------------------------------------------------------------- report inputs
def report_inputs(consultation: Consultation) -> dict:
    """The programme records as :class:`analysis.report.ReportInputs` keyword arguments.

    The report is written in English, so the labels are taken in English whatever the page's
    language; missing records are left out and the report says "not recorded".
    """
    with force_locale("en"):
        lundy = checklist_answers(consultation.id, "lundy")
        lundy_rows = {
            f"{LUNDY_QUESTIONS[k][0]}: {question_label('lundy', k)}": f"{lundy[k].status}: {lundy[k].evidence}"
            for k in LUNDY_QUESTIONS
            if k in lundy
        }
        gc12 = checklist_answers(consultation.id, "gc12")
        gc12_rows = {
            question_label("gc12", k): (gc12[k].status, gc12[k].evidence) for k in GC12_REQUIREMENTS if k in gc12
        }
        log = [
            {
                "recommendation": e.recommendation,
                "decision": e.decision,
                "reason": e.reason,
                "date": e.decided_on.isoformat() if e.decided_on else None,
                "owner": e.owner,
            }
            for e in influence_entries(consultation.id)
        ]
    feedback = {
        "closed_on": closed_on(consultation.id),
        "feedback_on": consultation.feedback_given_on,
        "formats": consultation.feedback_formats or None,
    }
    return {
        "lundy_checklist": lundy_rows or None,
        "gc12": gc12_rows or None,
        "influence_log": log or None,
        "feedback": feedback,
    }


# ----------------------------------------------------------------------------- overview
@dataclasses.dataclass(frozen=True)
class OverviewRow:
    consultation: Consultation
    funnel: tuple[tuple[str, str], ...]  # (stage, released value)
    suppressed: bool
    overdue: bool
    influence: dict[str, int]
    sheets_released: int
    sheets_total: int
    analyst: bool  # the viewer is its analyst (the results page is theirs to see)


def visible_consultations(user: User) -> list[Consultation]:
    """Administrators see every consultation; analysts those they are analysts of."""
    query = sa.select(Consultation).order_by(Consultation.id.desc())
    if not user.has_role("admin"):
        query = query.join(Membership).where(Membership.user_id == user.id, Membership.role == "analyst")
    return list(db.session.scalars(query))


def overview(user: User, today: dt.date | None = None) -> list[OverviewRow]:
    consultations = visible_consultations(user)
    ids = [c.id for c in consultations]
    influence = influence_counts(ids)
    sheets = {cid: [0, 0] for cid in ids}
    if ids:
        for cid, state, n in db.session.execute(
            sa.select(FeedbackSheetRecord.consultation_id, FeedbackSheetRecord.state, sa.func.count())
            .where(FeedbackSheetRecord.consultation_id.in_(ids))
            .group_by(FeedbackSheetRecord.consultation_id, FeedbackSheetRecord.state)
        ):
            sheets[cid][1] += int(n)
            if state == "released":
                sheets[cid][0] += int(n)
    analyst_of = set()
    if ids:
        analyst_of = set(
            db.session.scalars(
                sa.select(Membership.consultation_id).where(
                    Membership.user_id == user.id, Membership.role == "analyst", Membership.consultation_id.in_(ids)
                )
            )
        )
    pol = released_cells.policy()
    rows = []
    for c in consultations:
        released = progress.funnel(c.id, pol)
        row = released.display.iloc[0]
        rows.append(
            OverviewRow(
                c,
                tuple((str(stage), str(row[stage])) for stage in released.display.columns),
                bool(released.n_primary),
                feedback_overdue(c, today),
                influence[c.id],
                sheets[c.id][0],
                sheets[c.id][1],
                c.id in analyst_of and user.has_role("analyst"),
            )
        )
    return rows

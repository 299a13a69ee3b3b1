"""The child-friendly feedback sheets (A-05): saving a draft, "What you told us" from the latest
release's published shares, the sheet built for one age group and language, its sign-off, and
its PDF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Consultation,
    FeedbackSheetRecord,
    User,
)
from survey.services import audit
from survey.services import released as released_cells
from survey.services.programme.records import ProgrammeError, _actor_name, _text


# ----------------------------------------------------------------------------- feedback sheets
def sheet_record(consultation_id: int, band: str, language: str) -> FeedbackSheetRecord | None:
    return db.session.scalar(
        sa.select(FeedbackSheetRecord).where(
            FeedbackSheetRecord.consultation_id == consultation_id,
            FeedbackSheetRecord.band == band,
            FeedbackSheetRecord.language == language,
        )
    )


def sheet_records(consultation_id: int) -> dict[tuple[str, str], FeedbackSheetRecord]:
    rows = db.session.scalars(
        sa.select(FeedbackSheetRecord).where(FeedbackSheetRecord.consultation_id == consultation_id)
    )
    return {(r.band, r.language): r for r in rows}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def cant_change_pairs(text: str) -> list[tuple[str, str]]:
    """ "what | why" lines as pairs; raises :class:`ProgrammeError` when a reason is missing."""
    pairs = []
    for line in _lines(text):
        what, _sep, why = line.partition("|")
        if not what.strip() or not why.strip():
            raise ProgrammeError(
                _(
                    "Write each thing that can't change yet on its own line as "
                    "“what | why”, for example: “New phones at school | the budget is "
                    "decided next year”."
                )
            )
        pairs.append((what.strip(), why.strip()))
    return pairs


def save_sheet(
    consultation: Consultation,
    band: str,
    language: str,
    *,
    will_change: str,
    cant_change: str,
    next_update: str,
    actor: User | None,
) -> FeedbackSheetRecord:
    """Save the staff-written parts of a sheet; a changed released sheet goes back to draft."""
    if band not in consultation.band_list or language not in consultation.language_list:
        raise ProgrammeError(_("This consultation has no such age group or language."))
    cant_change_pairs(cant_change)  # refuse a line without its reason
    values = {
        "will_change": "\n".join(_lines(_text(will_change))),
        "cant_change": "\n".join(_lines(_text(cant_change))),
        "next_update": _text(next_update, 1000),
    }
    with write_transaction() as session:
        record = session.scalar(
            sa.select(FeedbackSheetRecord).where(
                FeedbackSheetRecord.consultation_id == consultation.id,
                FeedbackSheetRecord.band == band,
                FeedbackSheetRecord.language == language,
            )
        )
        if record is None:
            record = FeedbackSheetRecord(consultation_id=consultation.id, band=band, language=language)
            session.add(record)
        changed = any(getattr(record, k) != v for k, v in values.items())
        for name, value in values.items():
            setattr(record, name, value)
        if changed and record.state == "released":
            # The sign-off covered other words: the new text needs its own.
            record.state, record.reviewer, record.reviewer_role = "draft", "", ""
            record.signed_on, record.trauma_screen_done, record.readability_override = None, False, ""
        record.updated_on, record.updated_by = dt.date.today(), _actor_name(actor)
        audit.record(actor, "feedback.edit", f"consultation:{consultation.id} sheet:{band}/{language}")
        session.flush()
        return record


def told_us(consultation: Consultation, band: str, language: str, top: int = 5) -> list[str]:
    """Up to ``top`` findings for one band's sheet, from the latest release (issue 15).

    The headline shares of the questions this band was asked, over all the children asked (so a
    class of 25 gets findings), in words ("about 7 out of 10"), never counts; nothing when no
    release has been made yet.  Every share is a published cell of the release.
    """
    from analysis.feedback import _lower_first, findings_from_release

    latest = released_cells.latest(consultation.id)
    if latest is None:
        return []
    content = released_cells.content_of(latest)
    local = released_cells.local_codebook(consultation, language)
    out = []
    with force_locale(language):
        for share, item, cell in findings_from_release(content, band, language, top):
            meta = released_cells.meta_for(local, item["item"])
            answer = _lower_first(released_cells.cell_label(cell, meta))
            question = (meta.label if meta is not None and meta.label else item["question"]).rstrip(". ")
            out.append(
                _(
                    "%(share)s of you answered “%(answer)s” to “%(question)s”.",
                    share=share[:1].upper() + share[1:],
                    answer=answer,
                    question=question,
                )
            )
    return out


def _helplines(consultation: Consultation, language: str) -> list[tuple[str, str]]:
    from consent.profiles import helplines_for
    from survey.services.safeguarding import country_profile

    return [(h.name, h.number) for h in helplines_for(country_profile(consultation.country_profile), language)]


def build_sheet(consultation: Consultation, record: FeedbackSheetRecord, findings: Sequence[str] | None = None):
    """The :class:`analysis.feedback.FeedbackSheet` for a record (released if it was signed off).

    Raises :class:`ProgrammeError` naming the missing parts.
    """
    from analysis.feedback import SignOff, feedback_sheet, release_feedback

    findings = told_us(consultation, record.band, record.language) if findings is None else findings
    with force_locale(record.language):
        title = _("What you told us, and what happens next")
    try:
        sheet = feedback_sheet(
            band=record.band,
            language=record.language,
            told_us=list(findings),
            will_change=_lines(record.will_change),
            cant_change=cant_change_pairs(record.cant_change),
            next_update=record.next_update.strip(),
            helplines=_helplines(consultation, record.language),
            title=title,
        )
    except ValueError as error:
        raise ProgrammeError(
            _("The sheet is not complete yet: %(parts)s.", parts=str(error).split(": ", 1)[-1])
        ) from error
    if record.state == "released":
        sheet = release_feedback(
            sheet,
            SignOff(
                record.reviewer,
                record.reviewer_role,
                record.signed_on,
                record.trauma_screen_done,
                record.readability_override,
            ),
        )
    return sheet


def release_sheet(
    consultation: Consultation,
    record: FeedbackSheetRecord,
    *,
    reviewer: str,
    role: str,
    trauma_screen_done: bool,
    readability_override: str,
    actor: User | None,
) -> None:
    """Sign a sheet off and mark it released (:func:`analysis.feedback.release_feedback` decides)."""
    from analysis.disclosure import DisclosureError
    from analysis.feedback import SignOff, release_feedback

    if record.state == "released":
        raise ProgrammeError(_("This sheet is already released. Change its text to sign it off again."))
    sheet = build_sheet(consultation, record)
    signoff = SignOff(
        _text(reviewer, 120),
        _text(role, 80),
        dt.date.today(),
        bool(trauma_screen_done),
        _text(readability_override, 1000),
    )
    try:
        release_feedback(sheet, signoff)
    except DisclosureError as error:
        message = str(error)
        if "trauma" in message:
            raise ProgrammeError(
                _(
                    "Confirm that a person has screened the sheet for anything that could "
                    "upset or harm a child (the trauma screen)."
                )
            ) from error
        if "readability" in message:
            raise ProgrammeError(
                _("The sheet reads above this age group's level. Simplify the text, or write why it is acceptable.")
            ) from error
        raise ProgrammeError(_("Name the person who reviewed and signed off the sheet.")) from error
    with write_transaction() as session:
        record = session.merge(record)
        record.state = "released"
        record.reviewer, record.reviewer_role, record.signed_on = signoff.reviewer, signoff.role, signoff.on
        record.trauma_screen_done, record.readability_override = True, signoff.readability_override
        audit.record(
            actor,
            "feedback.release",
            f"consultation:{consultation.id} sheet:{record.band}/{record.language} by:{signoff.reviewer}",
        )


def sheet_pdf(sheet) -> bytes:
    """The sheet as an A4 PDF: the same renderer as the programme report
    (:func:`analysis.feedback.render_feedback_pdf`; Arabic shaped and right to left)."""
    from analysis.feedback import render_feedback_pdf

    return render_feedback_pdf(sheet)

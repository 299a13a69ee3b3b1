"""Programme records and the overview across consultations, for analysts and administrators.

Per consultation: the Lundy checklist, the GC12 self-assessment, the influence log, the
feedback tracker and the child-friendly feedback sheets (edit, preview, download, sign-off).
Views parse and render; :mod:`survey.services.programme` validates, writes and audits.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from survey.access import member, staff
from survey.database import write_transaction
from survey.extensions import db
from survey.i18n import LANGUAGE_NAMES
from survey.models import Consultation, InfluenceEntry
from survey.services import audit, programme

bp = Blueprint("programme", __name__, url_prefix="/programme")

BAND_LABELS = {"A": _l("8 to 10"), "B": _l("11 to 13"), "C": _l("14 to 17")}


class InfluenceForm(FlaskForm):
    recommendation = TextAreaField(
        _l("Recommendation (from the children's views)"), validators=[DataRequired(), Length(max=programme.MAX_TEXT)]
    )
    source_finding = TextAreaField(
        _l("The finding it comes from (optional)"), validators=[Optional(), Length(max=programme.MAX_TEXT)]
    )
    decision = SelectField(_l("Decision"), choices=[SelectChoice(k, v) for k, v in programme.DECISIONS.items()])
    reason = TextAreaField(
        _l("Reason for the decision (needed unless accepted or pending)"),
        validators=[Optional(), Length(max=programme.MAX_TEXT)],
    )
    owner = StringField(_l("Owner (who acts on it)"), validators=[Optional(), Length(max=120)])
    decided_on = DateField(_l("Date of the decision"), validators=[Optional()])


class TrackerForm(FlaskForm):
    given_on = DateField(_l("Date the children heard back"), validators=[Optional()])
    formats = StringField(
        _l("Formats used (for example: feedback sheet, class visit)"), validators=[Optional(), Length(max=200)]
    )


class SheetForm(FlaskForm):
    will_change = TextAreaField(_l("What will change (one point per line)"), validators=[Length(max=4000)])
    cant_change = TextAreaField(
        _l("What can't change yet, and why (one per line, as “what | why”)"), validators=[Length(max=4000)]
    )
    next_update = TextAreaField(_l("When you'll hear from us next"), validators=[Length(max=1000)])


class SignOffForm(FlaskForm):
    reviewer = StringField(
        _l("Reviewer (the person who checked the sheet)"), validators=[DataRequired(), Length(max=120)]
    )
    role = StringField(_l("Reviewer's role (for example: safeguarding lead)"), validators=[Optional(), Length(max=80)])
    trauma_screen_done = BooleanField(
        _l("I have screened the sheet for anything that could upset or harm a child (trauma screen)")
    )
    readability_override = TextAreaField(
        _l("If the text reads above the age group's level: why it is acceptable"),
        validators=[Optional(), Length(max=1000)],
    )


def _actor():
    return current_user._get_current_object()


def _consultation(consultation_id: int) -> Consultation:
    return db.get_or_404(Consultation, consultation_id)


# ----------------------------------------------------------------------------- overview
@bp.route("/")
@staff("analyst", "admin")
def overview():
    return render_template(
        "staff/programme_overview.html", rows=programme.overview(_actor()), decisions=programme.DECISIONS, k=_policy_k()
    )


def _policy_k() -> int:
    from survey.services.reporting import policy

    return policy().k


def _min_children() -> int:
    """How many children a release needs before it shows any share (analysis.release_rules)."""
    from survey.services.releases import rules

    return rules().min_denominator


# ----------------------------------------------------------------------------- records
def _records_page(
    consultation: Consultation,
    *,
    status: int = 200,
    problems: dict | None = None,
    posted: dict | None = None,
    influence_form: InfluenceForm | None = None,
    tracker_form: TrackerForm | None = None,
):
    tracker_form = tracker_form or TrackerForm(
        formdata=None, given_on=consultation.feedback_given_on, formats=consultation.feedback_formats
    )
    return render_template(
        "staff/programme_records.html",
        consultation=consultation,
        lundy=programme.checklist_answers(consultation.id, "lundy"),
        gc12=programme.checklist_answers(consultation.id, "gc12"),
        lundy_questions=[(k, element, label) for k, (element, label) in programme.LUNDY_QUESTIONS.items()],
        gc12_requirements=[(k, "", label) for k, label in programme.GC12_REQUIREMENTS.items()],
        statuses=programme.STATUSES,
        decisions=programme.DECISIONS,
        entries=programme.influence_entries(consultation.id),
        influence_form=influence_form or InfluenceForm(formdata=None),
        tracker_form=tracker_form,
        overdue=programme.feedback_overdue(consultation),
        problems=problems or {},
        posted=posted or {},
    ), status


@bp.route("/<int:consultation_id>/")
@member("analyst", admins=True)
def records(consultation_id: int):
    return _records_page(_consultation(consultation_id))


@bp.route("/<int:consultation_id>/checklist/<kind>", methods=["POST"])
@member("analyst", admins=True)
def checklist(consultation_id: int, kind: str):
    consultation = _consultation(consultation_id)
    if kind not in programme.CHECKLISTS:
        abort(404)
    answers = {
        key: (request.form.get(f"status-{key}", ""), request.form.get(f"evidence-{key}", ""))
        for key in programme.CHECKLISTS[kind]
    }
    problems = programme.save_checklist(consultation, kind, answers, actor=_actor())
    if problems:
        return _records_page(
            consultation,
            status=400,
            problems={(kind, k): v for k, v in problems.items()},
            posted={(kind, k): v for k, v in answers.items()},
        )
    flash(_("Checklist saved."), "info")
    return redirect(url_for("programme.records", consultation_id=consultation_id, _anchor=kind))


@bp.route("/<int:consultation_id>/influence", methods=["POST"])
@member("analyst", admins=True)
def add_influence(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = InfluenceForm()
    if form.validate_on_submit():
        try:
            programme.add_influence(consultation, form.data, actor=_actor())
        except programme.ProgrammeError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash(_("Recommendation added to the influence log."), "info")
            return redirect(url_for("programme.records", consultation_id=consultation_id, _anchor="influence"))
    return _records_page(consultation, status=400, influence_form=form)


def _entry(consultation_id: int, entry_id: int) -> InfluenceEntry:
    entry = db.get_or_404(InfluenceEntry, entry_id)
    if entry.consultation_id != consultation_id:
        abort(404)
    return entry


@bp.route("/<int:consultation_id>/influence/<int:entry_id>", methods=["GET", "POST"])
@member("analyst", admins=True)
def edit_influence(consultation_id: int, entry_id: int):
    consultation = _consultation(consultation_id)
    entry = _entry(consultation_id, entry_id)
    form = InfluenceForm(obj=entry)
    status = 200
    if form.validate_on_submit():
        try:
            programme.update_influence(entry, form.data, actor=_actor())
        except programme.ProgrammeError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
            status = 400
        else:
            flash(_("Influence log updated."), "info")
            return redirect(url_for("programme.records", consultation_id=consultation_id, _anchor="influence"))
    elif form.is_submitted():
        status = 400
    return render_template("staff/programme_influence.html", consultation=consultation, entry=entry, form=form), status


@bp.route("/<int:consultation_id>/influence/<int:entry_id>/delete", methods=["POST"])
@member("analyst", admins=True)
def delete_influence(consultation_id: int, entry_id: int):
    _consultation(consultation_id)
    programme.delete_influence(_entry(consultation_id, entry_id), actor=_actor())
    flash(_("Recommendation removed from the influence log."), "info")
    return redirect(url_for("programme.records", consultation_id=consultation_id, _anchor="influence"))


@bp.route("/<int:consultation_id>/tracker", methods=["POST"])
@member("analyst", admins=True)
def tracker(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = TrackerForm()
    if form.validate_on_submit():
        try:
            programme.save_tracker(
                consultation, given_on=form.given_on.data, formats=form.formats.data or "", actor=_actor()
            )
        except programme.ProgrammeError as error:
            form.given_on.errors = [*form.given_on.errors, str(error)]
        else:
            flash(_("Feedback tracker saved."), "info")
            return redirect(url_for("programme.records", consultation_id=consultation_id, _anchor="tracker"))
    return _records_page(consultation, status=400, tracker_form=form)


# ----------------------------------------------------------------------------- feedback sheets
def _check_sheet_key(consultation: Consultation, band: str, language: str) -> None:
    if band not in consultation.band_list or language not in consultation.language_list:
        abort(404)


@bp.route("/<int:consultation_id>/feedback/")
@member("analyst", admins=True)
def feedback(consultation_id: int):
    consultation = _consultation(consultation_id)
    return render_template(
        "staff/programme_feedback.html",
        consultation=consultation,
        sheets=programme.sheet_records(consultation_id),
        band_labels=BAND_LABELS,
        language_names=LANGUAGE_NAMES,
        overdue=programme.feedback_overdue(consultation),
    )


def _sheet_page(consultation, band, language, *, form=None, signoff_form=None, status=200, problem=""):
    record = programme.sheet_record(consultation.id, band, language)
    form = form or SheetForm(formdata=None, obj=record)
    signoff_form = signoff_form or SignOffForm(formdata=None)
    sheet = None
    findings = programme.told_us(consultation, band, language)
    if record is not None:
        try:
            sheet = programme.build_sheet(consultation, record, findings)
        except programme.ProgrammeError as error:
            problem = problem or str(error)
    return render_template(
        "staff/programme_sheet.html",
        consultation=consultation,
        band=band,
        language=language,
        band_label=BAND_LABELS.get(band, band),
        language_name=LANGUAGE_NAMES.get(language, language),
        record=record,
        form=form,
        signoff_form=signoff_form,
        sheet=sheet,
        findings=findings,
        problem=problem,
        min_children=_min_children(),
    ), status


@bp.route("/<int:consultation_id>/feedback/<band>/<language>", methods=["GET", "POST"])
@member("analyst", admins=True)
def sheet(consultation_id: int, band: str, language: str):
    consultation = _consultation(consultation_id)
    _check_sheet_key(consultation, band, language)
    if request.method == "GET":
        return _sheet_page(consultation, band, language)
    form = SheetForm()
    if form.validate_on_submit():
        try:
            programme.save_sheet(
                consultation,
                band,
                language,
                will_change=form.will_change.data or "",
                cant_change=form.cant_change.data or "",
                next_update=form.next_update.data or "",
                actor=_actor(),
            )
        except programme.ProgrammeError as error:
            form.cant_change.errors = [*form.cant_change.errors, str(error)]
        else:
            flash(_("Feedback sheet saved. Check the preview below."), "info")
            return redirect(
                url_for(
                    "programme.sheet", consultation_id=consultation_id, band=band, language=language, _anchor="preview"
                )
            )
    return _sheet_page(consultation, band, language, form=form, status=400)


@bp.route("/<int:consultation_id>/feedback/<band>/<language>/release", methods=["POST"])
@member("analyst", admins=True)
def release(consultation_id: int, band: str, language: str):
    consultation = _consultation(consultation_id)
    _check_sheet_key(consultation, band, language)
    record = programme.sheet_record(consultation_id, band, language)
    if record is None:
        abort(404)
    form = SignOffForm()
    if form.validate_on_submit():
        try:
            programme.release_sheet(
                consultation,
                record,
                reviewer=form.reviewer.data,
                role=form.role.data or "",
                trauma_screen_done=form.trauma_screen_done.data,
                readability_override=form.readability_override.data or "",
                actor=_actor(),
            )
        except programme.ProgrammeError as error:
            return _sheet_page(consultation, band, language, signoff_form=form, status=409, problem=str(error))
        flash(_("The feedback sheet is signed off and marked released."), "info")
        return redirect(url_for("programme.sheet", consultation_id=consultation_id, band=band, language=language))
    return _sheet_page(consultation, band, language, signoff_form=form, status=400)


@bp.route("/<int:consultation_id>/feedback/<band>/<language>/sheet.<fmt>")
@member("analyst", admins=True)
def download_sheet(consultation_id: int, band: str, language: str, fmt: str):
    from analysis.feedback import render_feedback_html

    consultation = _consultation(consultation_id)
    _check_sheet_key(consultation, band, language)
    record = programme.sheet_record(consultation_id, band, language)
    if fmt not in ("html", "pdf") or record is None:
        abort(404)
    try:
        built = programme.build_sheet(consultation, record)
    except programme.ProgrammeError as error:
        return _sheet_page(consultation, band, language, status=409, problem=str(error))
    if fmt == "html":
        body, mimetype = render_feedback_html(built).encode("utf-8"), "text/html"
    else:
        body, mimetype = programme.sheet_pdf(built), "application/pdf"
    with write_transaction():
        audit.record(
            _actor(),
            "feedback.download",
            f"consultation:{consultation_id} sheet:{band}/{language}.{fmt} {record.state}",
        )
    response = Response(body, mimetype=mimetype)
    state = "released" if built.released else "draft"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="sauti-feedback-{consultation_id}-{band}-{language}-{state}.{fmt}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response

"""Programme views for analysts: one consultation's funnel, results and downloads."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from survey.access import member, staff
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation
from survey.services import audit, export_approvals, offload, reporting

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/")
@staff()
def index():
    """The consultations this person analyses are listed on the staff home page."""
    return redirect(url_for("staff.home"))


FUNNEL_LABELS = {
    "issued": _l("Cards issued"),
    "assented": _l("Said yes (assented)"),
    "completed": _l("Completed"),
    "withdrawn": _l("Withdrew"),
    "declined": _l("Said no (declined)"),
}


def _funnel_rows(released) -> list[tuple[str, str]]:
    row = released.display.iloc[0]
    return [(str(FUNNEL_LABELS.get(stage, stage)), str(row[stage])) for stage in released.display.columns]


@bp.route("/<int:consultation_id>/")
@member("analyst")
def overview(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    # Read from the latest stored release (no analysis on this request): one part at a time.
    part = (request.args.get("part") or "summary")[:40]
    view = reporting.results_overview(consultation_id, part, language=str(get_locale() or "en"))
    return render_template(
        "staff/reports.html",
        consultation=consultation,
        view=view,
        funnel_rows=_funnel_rows(view.funnel),
        k=view.k,
        suppressed=bool(view.funnel.n_primary),
        feedback_overdue=bool(consultation.feedback_due and consultation.feedback_due < dt.date.today()),
    )


@bp.route("/<int:consultation_id>/release", methods=["POST"])
@member("analyst")
def make_release(consultation_id: int):
    """Freeze the results now (a new release in the ledger), checked against the earlier ones."""
    from survey.services import releases

    db.get_or_404(Consultation, consultation_id)
    try:
        number = offload.run(_make_release, consultation_id, current_user.id)
    except releases.ReleaseRefused as refused:
        flash(_l("No new release was made: %(reason)s", reason=_refusal(refused)), "error")
        return redirect(url_for("reports.overview", consultation_id=consultation_id), code=303)
    except releases.ReleaseFailed:
        flash(
            _l(
                "The results could not be prepared this time, so nothing was released. The participation "
                "numbers are still correct. Please tell your Sauti administrator."
            ),
            "error",
        )
        return redirect(url_for("reports.overview", consultation_id=consultation_id), code=303)
    flash(_l("Release %(number)s is ready. Everyone on the team now sees these results.", number=number), "success")
    return redirect(url_for("reports.overview", consultation_id=consultation_id), code=303)


def _refusal(refused: Exception) -> str:
    from survey.services import releases

    k = releases.rules().k
    text = str(refused)
    if "new children" in text:
        return str(
            _l(
                "at least %(k)s more children must finish after the last release, so that nobody's "
                "answers can be worked out by comparing the two.",
                k=k,
            )
        )
    return str(_l("at least %(k)s children must finish first.", k=k))


def _make_release(consultation_id: int, user_id: int) -> int:
    """Run in the helper process: build and store the release, return its number."""
    from survey.models import User
    from survey.services import releases

    consultation = db.session.get(Consultation, consultation_id)
    actor = db.session.get(User, user_id)
    return releases.make_release(consultation, actor).number


def _download(consultation_id: int, kind: str, fmt: str) -> Response:
    if fmt not in reporting.FORMATS[kind]:
        abort(404)
    consultation = db.get_or_404(Consultation, consultation_id)
    try:
        body = offload.run(reporting.download, consultation_id, kind, fmt)
    except reporting.NotEnoughResponses:
        message = _l(
            "There is no release of these results yet (or fewer than %(k)s children have "
            "completed this consultation), so there is nothing that can be downloaded without "
            "risking that someone is recognised.",
            k=reporting.policy().k,
        )
        return Response(
            render_template("staff/report_unavailable.html", consultation=consultation, message=message), status=409
        )
    except reporting.ReportFailed:
        message = _l(
            "The results could not be prepared this time, so nothing was released. The participation "
            "numbers are still correct. Please tell your Sauti administrator."
        )
        return Response(
            render_template("staff/report_unavailable.html", consultation=consultation, message=message), status=503
        )
    except export_approvals.ApprovalRequired:
        message = _l(
            "This export holds children's answers to sensitive questions, so an administrator "
            "must first record who approves it and why. The report, its tables and the codebook "
            "are available without approval."
        )
        return Response(
            render_template(
                "staff/report_unavailable.html", consultation=consultation, message=message, approval_link=True
            ),
            status=403,
        )
    except reporting.DisclosureError:
        message = _l(
            "The de-identified export was refused: some children would still be too easy to "
            "recognise from their age band and other details. The report and its tables are "
            "still available."
        )
        return Response(
            render_template("staff/report_unavailable.html", consultation=consultation, message=message), status=409
        )
    target = f"consultation:{consultation_id} {kind}.{fmt}"
    if kind == "export":
        approval = export_approvals.current(consultation_id)
        if approval is not None:
            target += f" approval:{approval.id}"
    with write_transaction():
        audit.record(current_user, "report.download", target)
    response = Response(body, mimetype=reporting.FORMATS[kind][fmt].split(";")[0])
    response.headers["Content-Type"] = reporting.FORMATS[kind][fmt]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="sauti-consultation-{consultation_id}-{kind}.{fmt}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:consultation_id>/report.<fmt>")
@member("analyst")
def report(consultation_id: int, fmt: str):
    return _download(consultation_id, "report", fmt)


@bp.route("/<int:consultation_id>/export.<fmt>")
@member("analyst")
def export(consultation_id: int, fmt: str):
    return _download(consultation_id, "export", fmt)


@bp.route("/<int:consultation_id>/codebook.<fmt>")
@member("analyst")
def codebook(consultation_id: int, fmt: str):
    return _download(consultation_id, "codebook", fmt)


class ApprovalForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the export is needed, who will use it and how it will be kept safe"),
        validators=[DataRequired(), Length(max=2000)],
    )


def _approval_page(consultation: Consultation, form: ApprovalForm, status: int = 200, problem: str = ""):
    return render_template(
        "staff/export_approval.html",
        consultation=consultation,
        form=form,
        problem=problem,
        approvals=export_approvals.approvals(consultation.id),
        current=export_approvals.current(consultation.id),
        days=export_approvals.APPROVAL_DAYS,
    ), status


@bp.route("/<int:consultation_id>/export-approval", methods=["GET", "POST"])
@staff("admin")
def export_approval(consultation_id: int):
    """Administrators record who approves sensitive record-level exports, and why (DP-07)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    form = ApprovalForm()
    if form.validate_on_submit():
        try:
            export_approvals.approve(consultation, reason=form.reason.data, actor=current_user._get_current_object())
        except export_approvals.ApprovalError as error:
            return _approval_page(consultation, form, 400, str(error))
        flash(_l("Approval recorded."), "info")
        return redirect(url_for("reports.export_approval", consultation_id=consultation_id))
    return _approval_page(consultation, form, 400 if form.errors else 200)

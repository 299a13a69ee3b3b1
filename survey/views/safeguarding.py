"""The safeguarding lead's queue: screened open answers that matched a concern term."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from survey.access import member, staff
from survey.extensions import db
from survey.models import Consultation
from survey.services import facilitation, written_answers

bp = Blueprint("safeguarding", __name__, url_prefix="/safeguarding")


@bp.route("/")
@staff()
def index():
    """The consultations this person is the safeguarding lead of, with what waits in each queue."""
    from survey.services.consultations import consultations_for

    leading = consultations_for(current_user, "safeguarding")
    return render_template(
        "staff/safeguarding_index.html",
        consultations=leading,
        waiting=facilitation.open_concern_counts([c.id for c in leading]),
    )


@bp.route("/<int:consultation_id>/")
@member("safeguarding")
def queue(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/concerns.html",
        consultation=consultation,
        flags=facilitation.concern_flags(consultation_id),
        unread=written_answers.unread_count(consultation),
    )


@bp.route("/<int:consultation_id>/<int:flag_id>", methods=["POST"])
@member("safeguarding")
def review(consultation_id: int, flag_id: int):
    facilitation.review_concern(consultation_id, flag_id, current_user._get_current_object())
    return redirect(url_for("safeguarding.queue", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/written")
@member("safeguarding")
def written(consultation_id: int):
    """Every written answer not read yet, so that no disclosure is left to the screening rules alone."""
    consultation = db.get_or_404(Consultation, consultation_id)
    page = request.args.get("page", 1, type=int) or 1
    if page < 1:
        abort(404)
    answers, total = written_answers.unread(consultation, page=page)
    return render_template(
        "staff/written_answers.html",
        consultation=consultation,
        answers=answers,
        total=total,
        page=page,
        per_page=written_answers.PER_PAGE,
    )


@bp.route("/<int:consultation_id>/written/read", methods=["POST"])
@member("safeguarding")
def written_read(consultation_id: int):
    db.get_or_404(Consultation, consultation_id)
    marked = written_answers.mark_read(
        consultation_id, request.form.getlist("answer"), current_user._get_current_object()
    )
    flash(ngettext("%(num)d answer marked as read.", "%(num)d answers marked as read.", marked), "info")
    return redirect(url_for("safeguarding.written", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/written/<answer_id>/concern", methods=["POST"])
@member("safeguarding")
def written_concern(consultation_id: int, answer_id: str):
    db.get_or_404(Consultation, consultation_id)
    if written_answers.raise_concern(consultation_id, answer_id, current_user._get_current_object()) is None:
        abort(404)
    flash(_("The answer is now in the safeguarding queue. Follow your disclosure protocol."), "info")
    return redirect(url_for("safeguarding.written", consultation_id=consultation_id), code=303)

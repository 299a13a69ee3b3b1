"""The safeguarding lead's queue: screened open answers that matched a concern term."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from survey.access import member, staff
from survey.extensions import db
from survey.models import Consultation
from survey.services import facilitation

bp = Blueprint("safeguarding", __name__, url_prefix="/safeguarding")


@bp.route("/")
@staff()
def index():
    """The consultations this person is the safeguarding lead of, with what waits in each queue."""
    from survey.services.consultations import consultations_for

    leading = consultations_for(current_user, "safeguarding")
    return render_template("staff/safeguarding_index.html", consultations=leading,
                           waiting=facilitation.open_concern_counts([c.id for c in leading]))


@bp.route("/<int:consultation_id>/")
@member("safeguarding")
def queue(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template("staff/concerns.html", consultation=consultation,
                           flags=facilitation.concern_flags(consultation_id))


@bp.route("/<int:consultation_id>/<int:flag_id>", methods=["POST"])
@member("safeguarding")
def review(consultation_id: int, flag_id: int):
    facilitation.review_concern(consultation_id, flag_id, current_user._get_current_object())
    return redirect(url_for("safeguarding.queue", consultation_id=consultation_id), code=303)


"""The facilitator's view of a consultation: progress by state, never answers."""

from __future__ import annotations

from flask import Blueprint, render_template

from survey.access import member
from survey.extensions import db
from survey.models import Consultation
from survey.services.progress import participation_counts

bp = Blueprint("facilitate", __name__, url_prefix="/facilitate")


@bp.route("/<int:consultation_id>/")
@member("facilitator")
def overview(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/facilitate.html", consultation=consultation,
        counts=participation_counts(consultation_id),
    )

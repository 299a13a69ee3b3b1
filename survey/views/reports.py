"""Programme views for analysts."""

from __future__ import annotations

from flask import Blueprint, render_template

from survey.access import member
from survey.extensions import db
from survey.models import Consultation
from survey.services.progress import participation_counts

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/<int:consultation_id>/")
@member("analyst")
def overview(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/reports.html", consultation=consultation,
        counts=participation_counts(consultation_id),
    )

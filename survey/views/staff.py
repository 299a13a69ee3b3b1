"""The staff home page: what this person works on."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from survey.access import staff
from survey.services.consultations import consultations_for

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@staff()
def home():
    return render_template(
        "staff/home.html",
        facilitating=consultations_for(current_user, "facilitator"),
        analysing=consultations_for(current_user, "analyst"),
    )

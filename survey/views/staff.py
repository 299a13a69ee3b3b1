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
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import Consultation

    running = {c.id: c for role in ("owner", "facilitator") for c in consultations_for(current_user, role)}
    everything = (
        list(db.session.scalars(sa.select(Consultation).order_by(Consultation.id.desc())))
        if current_user.has_role("admin")
        else []
    )
    return render_template(
        "staff/home.html",
        facilitating=sorted(running.values(), key=lambda c: -c.id),
        analysing=consultations_for(current_user, "analyst"),
        safeguarding=consultations_for(current_user, "safeguarding"),
        everything=[c for c in everything if c.id not in running],
    )

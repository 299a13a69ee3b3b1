"""The facilitator's side of a consultation: progress by stage, signals, code cards.  Never answers."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.access import member
from survey.extensions import db
from survey.forms import CardActionForm, CodeCardsForm
from survey.models import Consultation
from survey.services import facilitation, participants
from survey.services.code_cards import code_cards_pdf
from survey.services.progress import participation_counts
from survey.services.safeguarding import country_profile

bp = Blueprint("facilitate", __name__, url_prefix="/facilitate")


@bp.route("/<int:consultation_id>/")
@member("facilitator")
def overview(consultation_id: int):
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/facilitate.html", consultation=consultation, form=CodeCardsForm(),
        counts=participation_counts(consultation_id),
    )


@bp.route("/<int:consultation_id>/live")
@member("facilitator")
def live(consultation_id: int):
    """Refreshes itself every 15 seconds (a meta refresh: no script needed)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/live.html", consultation=consultation, counts=participation_counts(consultation_id),
        signals=facilitation.signals(consultation_id), now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


@bp.route("/<int:consultation_id>/signals/<int:signal_id>", methods=["POST"])
@member("facilitator")
def signal(consultation_id: int, signal_id: int):
    try:
        facilitation.update_signal(consultation_id, signal_id, request.form.get("status", ""),
                                   current_user._get_current_object())
    except facilitation.SignalError as error:
        flash(str(error), "error")
        return redirect(url_for("facilitate.live", consultation_id=consultation_id)), 303
    return redirect(url_for("facilitate.live", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/cards", methods=["GET", "POST"])
@member("facilitator")
def cards(consultation_id: int):
    """Guardian permission by card number: no names, only card states and counts."""
    from consent.permission import permission_counts
    from survey.services.consent_rules import permission_rule

    consultation = db.get_or_404(Consultation, consultation_id)
    form = CardActionForm()
    status = 200
    if form.validate_on_submit():
        try:
            facilitation.apply_card(consultation_id, form.card.data, request.form.get("action", ""),
                                    current_user._get_current_object())
        except facilitation.CardError as error:
            form.card.errors.append(str(error))
            status = 400
        else:
            flash(_("Card %(n)s updated.", n=form.card.data), "info")
            return redirect(url_for("facilitate.cards", consultation_id=consultation_id), code=303)
    elif form.is_submitted():
        status = 400
    states = facilitation.card_states(consultation_id)
    return render_template(
        "staff/cards.html", consultation=consultation, form=form, cards=states,
        counts=permission_counts(permission for _number, permission, _state in states),
        mode=permission_rule(consultation).mode.value,
    ), status


@bp.route("/<int:consultation_id>/codes", methods=["POST"])
@member("facilitator")
def codes(consultation_id: int):
    """A new sheet of code cards as a PDF: the only time these codes are shown in full."""
    consultation = db.get_or_404(Consultation, consultation_id)
    form = CodeCardsForm()
    if not form.validate_on_submit():
        flash(_("Choose between 1 and 500 cards."), "error")
        return render_template("staff/facilitate.html", consultation=consultation, form=form,
                               counts=participation_counts(consultation_id)), 400
    cards = participants.issue_codes(consultation, form.count.data, actor=current_user._get_current_object())
    pdf = code_cards_pdf(
        cards, start_url=url_for("participate.start", _external=True).rstrip("/"),
        withdraw_url=url_for("participate.withdraw", _external=True),
        profile=country_profile(consultation.country_profile), title=consultation.title,
    )
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="code-cards-{consultation_id}.pdf"',
        "Cache-Control": "no-store"})

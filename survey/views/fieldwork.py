"""The facilitator's fieldwork: a facilitated session, the live view and its signals, code cards and
the guardians' letter.  Routes of the ``facilitate`` blueprint (:mod:`survey.views.facilitate`,
which holds setting a consultation up).  Never answers."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.access import member
from survey.extensions import db
from survey.forms import (
    CardActionForm,
    CodeCardsForm,
    SessionCloseForm,
    SessionStartForm,
)
from survey.models import Consultation
from survey.services import facilitation, participants
from survey.services.code_cards import code_cards_pdf
from survey.services.progress import live_view, session_summary
from survey.services.safeguarding import country_profile
from survey.services.setup import language_name
from survey.views.facilitate import bp, overview


@bp.route("/<int:consultation_id>/session", methods=["GET", "POST"])
@member("facilitator")
def session_mode(consultation_id: int):
    """Start a session (PIN, checklist, training), read the scripts, close it with its log."""
    from survey.services import sessions

    consultation = db.get_or_404(Consultation, consultation_id)
    running = sessions.open_session(consultation_id)
    start_form, close_form = SessionStartForm(prefix="start"), SessionCloseForm(prefix="close")
    status = 200
    actor = current_user._get_current_object()
    try:
        if running is None and start_form.validate_on_submit():
            sessions.start(
                consultation,
                pin=start_form.pin.data,
                checklist=start_form.checklist.data or [],
                trained_on=start_form.trained_on.data,
                today=dt.date.today(),
                actor=actor,
            )
            flash(_("The session has started: children can now use their codes."), "info")
            return redirect(url_for("facilitate.session_mode", consultation_id=consultation_id), code=303)
        if running is not None and close_form.validate_on_submit():
            sessions.close(
                consultation,
                number_present=close_form.number_present.data,
                incident=close_form.incident.data,
                referral_category=close_form.referral_category.data,
                today=dt.date.today(),
                actor=actor,
            )
            flash(_("The session is closed and its log is kept."), "info")
            return redirect(url_for("facilitate.session_mode", consultation_id=consultation_id), code=303)
        if request.method == "POST":
            status = 400
    except sessions.SessionError as error:
        flash(str(error), "error")
        status = 400
    language = request.args.get("language", consultation.language_list[0])
    return render_template(
        "staff/session.html",
        consultation=consultation,
        running=running,
        start_form=start_form,
        close_form=close_form,
        scripts=_scripts(consultation, language),
        language=language,
        profile=country_profile(consultation.country_profile),
        history=sessions.sessions(consultation_id),
        session_summary=session_summary,
        language_name=language_name,
    ), status


def _scripts(consultation: Consultation, language: str) -> list:
    """The read-aloud assent scripts for each band, in the session language (F-02)."""
    from consent.texts import TextKind, render_text
    from survey.services.consent_rules import bound_text, confidentiality_mode, text_values
    from survey.services.instrument_store import instrument_for

    if language not in consultation.language_list:
        language = consultation.language_list[0]
    instrument = instrument_for(consultation)
    scripts = []
    for band in consultation.band_list:
        try:
            text = bound_text(consultation, TextKind.ASSENT_SCRIPT, language, band)
        except LookupError:
            continue
        scripts.append(
            render_text(
                text,
                text_values(consultation, instrument, band, text.language),
                mode=confidentiality_mode(consultation),
                locale=language,
            )
        )
    return scripts


@bp.route("/<int:consultation_id>/live")
@member("facilitator")
def live(consultation_id: int):
    """Reloads itself every 15 seconds (a small script with a pause button; without scripts,
    the facilitator reloads it with its "Refresh now" link)."""
    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/live.html",
        consultation=consultation,
        live=live_view(consultation_id),
        signals=facilitation.signals(consultation_id),
        now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )


@bp.route("/<int:consultation_id>/signals/<int:signal_id>", methods=["POST"])
@member("facilitator")
def signal(consultation_id: int, signal_id: int):
    try:
        facilitation.update_signal(
            consultation_id, signal_id, request.form.get("status", ""), current_user._get_current_object()
        )
    except facilitation.SignalError as error:
        flash(str(error), "error")
        return redirect(url_for("facilitate.live", consultation_id=consultation_id)), 303
    return redirect(url_for("facilitate.live", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/cards", methods=["GET", "POST"])
@member("facilitator")
def cards(consultation_id: int):
    """Guardian permission by card number: no names, and nothing a child decided (see services.progress)."""
    from consent.permission import permission_counts
    from survey.services.consent_rules import permission_rule

    consultation = db.get_or_404(Consultation, consultation_id)
    form = CardActionForm()
    status = 200
    if form.validate_on_submit():
        action = request.form.get("action", "")
        actor = current_user._get_current_object()
        # Withholding deletes whatever a child answered with the card, and no Undo brings it
        # back: the number is confirmed on a page of its own first.  That page is the same for
        # every card, used or not (nothing a child did is shown per card).
        confirming = action == "mark_withheld" and request.form.get("confirm") != str(form.card.data)
        try:
            if confirming:
                facilitation.check_card(consultation_id, form.card.data, action)
            else:
                facilitation.apply_card(consultation_id, form.card.data, action, actor)
        except facilitation.CardError as error:
            form.card.errors.append(str(error))
            status = 400
        else:
            if confirming:
                return render_template("staff/card_withhold.html", consultation=consultation, form=form)
            flash(_("Card %(n)s updated.", n=form.card.data), "info")
            return redirect(url_for("facilitate.cards", consultation_id=consultation_id), code=303)
    elif form.is_submitted():
        status = 400
    states = facilitation.card_states(consultation_id)
    return render_template(
        "staff/cards.html",
        consultation=consultation,
        form=form,
        cards=states,
        counts=permission_counts(permission for _number, permission in states),
        mode=permission_rule(consultation).mode.value,
    ), status


@bp.route("/<int:consultation_id>/letter")
@member("facilitator")
def letter(consultation_id: int):
    """The guardian information letter and reply slip, in the consultation's bound versions, to print."""
    from consent.texts import TextKind, render_text
    from survey.services.consent_rules import bound_text, permission_rule, text_values
    from survey.services.instrument_store import instrument_for

    consultation = db.get_or_404(Consultation, consultation_id)
    language = request.args.get("language", consultation.language_list[0])
    if language not in consultation.language_list:
        language = consultation.language_list[0]
    session_date = _date_arg("session_date", dt.date.today() + dt.timedelta(days=7))
    return_by = _date_arg("return_by", dt.date.today() + dt.timedelta(days=5))
    values = {
        **text_values(consultation, instrument_for(consultation), language=language),
        "session_date": session_date,
        "return_by_date": return_by,
    }
    documents = []
    for kind in (TextKind.GUARDIAN_INFORMATION, TextKind.GUARDIAN_CONSENT_FORM):
        try:
            text = bound_text(consultation, kind, language, None)
        except LookupError:
            continue
        documents.append(render_text(text, values, permission_mode=permission_rule(consultation).mode, locale=language))
    return render_template(
        "staff/letter.html",
        consultation=consultation,
        documents=documents,
        language=language,
        session_date=session_date,
        return_by=return_by,
        language_name=language_name,
    )


def _date_arg(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


@bp.route("/<int:consultation_id>/codes", methods=["POST"])
@member("facilitator")
def codes(consultation_id: int):
    """A new sheet of code cards as a PDF: the only time these codes are shown in full."""
    consultation = db.get_or_404(Consultation, consultation_id)
    form = CodeCardsForm()
    if not form.validate_on_submit():
        flash(_("Choose between 1 and 500 cards."), "error")
        return overview(consultation_id), 400
    cards = participants.issue_codes(consultation, form.count.data, actor=current_user._get_current_object())
    start_url, withdraw_url = _card_addresses()
    pdf = code_cards_pdf(
        cards,
        start_url=start_url,
        withdraw_url=withdraw_url,
        profile=country_profile(consultation.country_profile),
        title=consultation.title,
        languages=consultation.language_list,
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="code-cards-{consultation_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


def _card_addresses() -> tuple[str, str]:
    """Where the cards send children: the configured public address (``--lan`` sets it) or the
    address this page was asked on."""
    from flask import current_app

    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    start, withdraw = url_for("participate.start"), url_for("participate.withdraw")
    if public:
        return (public + start).rstrip("/"), public + withdraw
    return (url_for("participate.start", _external=True).rstrip("/"), url_for("participate.withdraw", _external=True))

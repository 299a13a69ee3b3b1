"""The facilitator's side of a consultation: progress by stage, signals, code cards.  Never answers."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from survey.access import member, staff
from survey.extensions import db
from survey.forms import (
    CardActionForm,
    CodeCardsForm,
    ConsultationForm,
    SessionCloseForm,
    SessionStartForm,
    TeamMemberForm,
)
from survey.i18n import LANGUAGE_NAMES, text_direction
from survey.models import Consultation
from survey.services import facilitation, participants
from survey.services.code_cards import code_cards_pdf
from survey.services.progress import decision_counts, live_counts, session_summary
from survey.services.safeguarding import country_profile

bp = Blueprint("facilitate", __name__, url_prefix="/facilitate")


#: Who sets a consultation up (settings, checklist, opening, preview, clone): its owner and its
#: facilitators; an administrator too.
SETUP_ROLES = ("owner", "facilitator")


def _person(user) -> str:  # a User
    return f"{user.display_name} ({user.username})" if user.display_name else user.username


def _account_roles(user) -> str:  # a User
    names = {"admin": _("administrator"), "facilitator": _("facilitator"), "analyst": _("analyst")}
    return ", ".join(names.get(role, role) for role in sorted(user.role_set))


def _setup_choices(form: ConsultationForm) -> ConsultationForm:
    """Fill the set-up form's lists: questionnaires, profiles, languages, and the people who may
    hold each team role."""
    from survey.services import consultations, instrument_store, profile_store

    form.instrument.choices = [SelectChoice(key, label) for key, label in instrument_store.offered()]
    form.country_profile.choices = [SelectChoice(pid, name) for pid, name in profile_store.choices()]
    form.languages.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    me = current_user.id
    form.facilitators.choices = [
        SelectChoice(str(u.id), _person(u)) for u in consultations.eligible_staff("facilitator") if u.id != me
    ]
    form.analysts.choices = [SelectChoice(str(u.id), _person(u)) for u in consultations.eligible_staff("analyst")]
    form.safeguarding_lead.choices = [SelectChoice("", _("Me, until I name someone else"))] + [
        SelectChoice(str(u.id), _person(u)) for u in consultations.eligible_staff("safeguarding")
    ]
    return form


@bp.route("/")
@staff()
def index():
    """The consultations this person works on are listed on the staff home page."""
    return redirect(url_for("staff.home"))


@bp.route("/new", methods=["GET", "POST"])
@staff("facilitator", "admin")
def new():
    """Create a draft consultation: questionnaire, languages, age groups, rules, team, dates.

    Afterwards the consultation's page lists what still blocks opening, each with its fix."""
    from survey.services import consultations

    form = _setup_choices(ConsultationForm())
    status = 200
    if form.validate_on_submit():
        try:
            consultation = consultations.create_from_form(form.data, actor=current_user._get_current_object())
        except consultations.ConsultationError as error:
            flash(str(error), "error")
            status = 400
        else:
            flash(
                _("Draft consultation created. The checklist below says what is still needed before it can open."),
                "info",
            )
            return redirect(url_for("facilitate.overview", consultation_id=consultation.id))
    elif form.is_submitted():
        status = 400
    return render_template("staff/new_consultation.html", form=form, editing=None), status


def _settings_data(consultation: Consultation) -> dict:
    from survey.services import instrument_store

    key = f"{consultation.instrument_id}@{consultation.instrument_version}"
    offered = dict(instrument_store.offered())
    return {
        "title": consultation.title,
        "instrument": key if key in offered else None,
        "languages": consultation.language_list,
        "age_bands": consultation.band_list,
        "country_profile": consultation.country_profile,
        "consent_mode": consultation.consent_mode,
        "ethics_reference": consultation.ethics_reference,
        "setting": consultation.setting,
        "site_code": consultation.site_code,
        "facilitated": consultation.facilitated,
        "shared_device": consultation.shared_device,
        "organisation": consultation.organisation,
        "contact": consultation.contact,
        "independent_contact": consultation.independent_contact,
        "purpose": consultation.purpose,
        "audience": consultation.audience,
        "influence_scope": consultation.influence_scope,
        "screening_deny_list": consultation.screening_deny_list,
        "feedback_due": consultation.feedback_due,
        "analysis_cutoff": consultation.analysis_cutoff,
        "retention_until": consultation.retention_until,
    }


@bp.route("/<int:consultation_id>/settings", methods=["GET", "POST"])
@member(*SETUP_ROLES, admins=True)
def settings(consultation_id: int):
    """The set-up form again, filled in, to change a draft (the team has its own page)."""
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    form = _setup_choices(
        ConsultationForm() if request.method == "POST" else ConsultationForm(data=_settings_data(consultation))
    )
    form.has_pin = bool(consultation.session_pin_hash)
    status = 200
    if consultation.state != "draft":
        flash(
            _("Only a draft consultation's settings can be changed. Make a copy to run it again with other settings."),
            "error",
        )
        return redirect(url_for("facilitate.overview", consultation_id=consultation_id), code=303)
    if form.validate_on_submit():
        try:
            consultations.update_from_form(consultation, form.data, actor=current_user._get_current_object())
        except consultations.ConsultationError as error:
            flash(str(error), "error")
            status = 400
        else:
            flash(_("Settings saved."), "info")
            return redirect(url_for("facilitate.overview", consultation_id=consultation_id), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("staff/new_consultation.html", form=form, editing=consultation), status


@bp.route("/<int:consultation_id>/state", methods=["POST"])
@member(*SETUP_ROLES, admins=True)
def change_state(consultation_id: int):
    """Open (after the consent checks) or close the consultation."""
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    actor = current_user._get_current_object()
    try:
        if request.form.get("to") == "open":
            for warning in consultations.open_consultation(consultation, today=dt.date.today(), actor=actor):
                flash(warning, "info")
            flash(_("The consultation is open: children with a code can take part."), "info")
        elif request.form.get("to") == "closed":
            consultations.set_state(consultation, "closed", actor=actor)
            flash(_("The consultation is closed."), "info")
        elif request.form.get("to") == "archived":
            consultations.set_state(consultation, "archived", actor=actor)
            flash(_("The consultation is archived."), "info")
    except consultations.OpeningRefused:
        # The steps themselves are the checklist on the page this redirects to (the same list).
        flash(
            _("This consultation cannot open yet. The checklist below says what is missing and where to fix it."),
            "error",
        )
    except consultations.ConsultationError as error:
        flash(str(error), "error")
    return redirect(url_for("facilitate.overview", consultation_id=consultation_id), code=303)


def fix_link(step, consultation: Consultation) -> str | None:  # a setup.Step
    """The console page that fixes a checklist step, if this person can reach it."""
    from survey.access import permits

    if step.admin_only and not current_user.has_role("admin"):
        return None
    if step.fix == "settings":
        return url_for("facilitate.settings", consultation_id=consultation.id)
    if step.fix == "team":
        return url_for("facilitate.team", consultation_id=consultation.id)
    if step.fix == "text" and step.target:
        return url_for("admin.text", text_id=step.target)
    if step.fix == "texts":
        return url_for("admin.texts")
    if step.fix == "profile" and step.target:
        return url_for("profiles.detail", profile_id=step.target)
    if step.fix == "profiles":
        return url_for("profiles.index")
    if step.fix == "translations":
        return url_for("translations.index")
    if step.fix == "wording":
        return url_for("translations.wording", consultation_id=consultation.id)
    return (
        url_for("facilitate.preview", consultation_id=consultation.id)
        if permits(current_user, consultation.id, SETUP_ROLES, admins=True)
        else None
    )


def _administrators() -> str:
    """Who to ask for an administrator's step (names, never contact details)."""
    import sqlalchemy as sa

    from survey.models import User

    names = [
        _person(u)
        for u in db.session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.username))
        if u.has_role("admin")
    ]
    return ", ".join(names)


@bp.route("/<int:consultation_id>/")
@member(*SETUP_ROLES, admins=True)
def overview(consultation_id: int):
    """The consultation's page: the checklist of what blocks opening, the team, the session links."""
    from survey.access import permits
    from survey.services.setup import checklist

    consultation = db.get_or_404(Consultation, consultation_id)
    return render_template(
        "staff/facilitate.html",
        consultation=consultation,
        form=CodeCardsForm(),
        live=live_counts(consultation_id),
        decisions=decision_counts(consultation_id),
        safeguarding_lead=permits(current_user, consultation_id, ("safeguarding",)),
        can_facilitate=permits(current_user, consultation_id, ("facilitator",)),
        cards_unreachable=cards_unreachable(),
        steps=checklist(consultation, today=dt.date.today()),
        fix_link=fix_link,
        administrators=_administrators(),
        language_name=_language_name,
        band_names=_band_names(),
    )


def _language_name(code: str) -> str:
    from survey.services.setup import language_name

    return language_name(code)


@bp.route("/<int:consultation_id>/team")
@member("owner", "facilitator", "analyst", "safeguarding", admins=True)
def team(consultation_id: int, form: TeamMemberForm | None = None, status: int = 200):
    """Who works on this consultation; its owner and administrators add and remove people."""
    from survey.access import may_manage_team, permits
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    form = form or TeamMemberForm()
    people = {
        u.id: u for role in ("facilitator", "analyst", "safeguarding") for u in consultations.eligible_staff(role)
    }
    form.user.choices = [
        SelectChoice(str(u.id), f"{_person(u)}: {_account_roles(u)}")
        for u in sorted(people.values(), key=lambda u: u.username)
    ]
    return render_template(
        "staff/team.html",
        consultation=consultation,
        form=form,
        members=consultations.team(consultation_id),
        manage=may_manage_team(current_user, consultation_id),
        role_label=consultations.role_label,
        person=_person,
        back=url_for("facilitate.overview", consultation_id=consultation_id)
        if permits(current_user, consultation_id, SETUP_ROLES, admins=True)
        else url_for("staff.home"),
    ), status


@bp.route("/<int:consultation_id>/team/add", methods=["POST"])
@member("owner", admins=True)
def add_to_team(consultation_id: int):
    from survey.models import User
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    form = TeamMemberForm()
    form.user.choices = [SelectChoice(request.form.get("user", ""), "")]  # checked by the service
    if not form.validate_on_submit():
        return team(consultation_id, form=form, status=400)
    user = db.session.get(User, int(form.user.data)) if form.user.data.isdigit() else None
    if user is None:
        form.user.errors.append(_("Choose a person from the list."))
        return team(consultation_id, form=form, status=400)
    try:
        added = consultations.add_member(consultation, user, form.role.data, actor=current_user._get_current_object())
    except consultations.ConsultationError as error:
        flash(str(error), "error")
        return team(consultation_id, form=form, status=400)
    message = (
        _("%(name)s is now the %(role)s of this consultation.")
        if added
        else _("%(name)s was already the %(role)s of this consultation.")
    )
    flash(message % {"name": _person(user), "role": consultations.role_label(form.role.data)}, "info")
    return redirect(url_for("facilitate.team", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/team/<int:membership_id>/remove", methods=["POST"])
@member("owner", admins=True)
def remove_from_team(consultation_id: int, membership_id: int):
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    try:
        removed = consultations.remove_member(consultation, membership_id, actor=current_user._get_current_object())
    except consultations.ConsultationError as error:
        flash(str(error), "error")
    else:
        flash(
            _(
                "%(name)s is no longer the %(role)s of this consultation.",
                name=_person(removed.user),
                role=consultations.role_label(removed.role),
            ),
            "info",
        )
    return redirect(url_for("facilitate.team", consultation_id=consultation_id), code=303)


@bp.route("/<int:consultation_id>/clone", methods=["POST"])
@member(*SETUP_ROLES, admins=True)
def clone(consultation_id: int):
    """A new draft with the same settings and team, and none of the children's data."""
    from survey.services import consultations

    consultation = db.get_or_404(Consultation, consultation_id)
    copy = consultations.clone(consultation, actor=current_user._get_current_object())
    flash(
        _(
            "This is a copy of “%(title)s”, with the same settings and team and no children's answers. "
            "Change its title and dates in the settings.",
            title=consultation.title,
        ),
        "info",
    )
    return redirect(url_for("facilitate.overview", consultation_id=copy.id), code=303)


@bp.route("/<int:consultation_id>/preview")
@member(*SETUP_ROLES, admins=True)
def preview(consultation_id: int):
    """The questionnaire as a child of one age group sees it in one language; read-only, stores nothing."""
    from flask_babel import force_locale

    from survey.services.preview import preview_pages

    consultation = db.get_or_404(Consultation, consultation_id)
    band = request.args.get("band", consultation.band_list[0])
    band = band if band in consultation.band_list else consultation.band_list[0]
    language = request.args.get("language", consultation.language_list[0])
    language = language if language in consultation.language_list else consultation.language_list[0]
    pages = preview_pages(consultation, band, language)
    with force_locale(language):
        body = Markup(render_template("staff/_preview_pages.html", pages=pages, lang=language))  # noqa: S704 # nosec B704 - our template
    return render_template(
        "staff/preview.html",
        consultation=consultation,
        band=band,
        language=language,
        body=body,
        page_count=len(pages),
        language_name=_language_name,
        direction=text_direction(language),
        band_names=_band_names(),
    )


def _band_names() -> dict[str, str]:
    from survey.services.setup import band_phrase

    return {code: band_phrase(code) for code in ("A", "B", "C")}


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
        language_name=_language_name,
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
        live=live_counts(consultation_id),
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
        try:
            facilitation.apply_card(
                consultation_id, form.card.data, request.form.get("action", ""), current_user._get_current_object()
            )
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
        language_name=_language_name,
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


def cards_unreachable() -> bool:
    """Whether printed cards would point phones at this computer's own loopback address."""
    from flask import current_app

    return not current_app.config.get("PUBLIC_URL") and request.host.split(":")[0] in (
        "127.0.0.1",
        "localhost",
        "[::1]",
    )

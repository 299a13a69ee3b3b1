"""The facilitator's side of a consultation: progress by stage, signals, code cards.  Never answers."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from survey.access import member, staff
from survey.extensions import db
from survey.forms import (
    CodeCardsForm,
    ConsultationForm,
    TeamMemberForm,
)
from survey.i18n import LANGUAGE_NAMES, text_direction
from survey.models import Consultation
from survey.services.progress import live_view

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
    if step.fix == "attachments" and step.target:
        return url_for("admin.instrument_attachments", record_id=int(step.target))
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
        live=live_view(consultation_id),
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


def cards_unreachable() -> bool:
    """Whether printed cards would point phones at this computer's own loopback address."""
    from flask import current_app

    return not current_app.config.get("PUBLIC_URL") and request.host.split(":")[0] in (
        "127.0.0.1",
        "localhost",
        "[::1]",
    )

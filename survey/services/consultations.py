"""Consultations and who works on them."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.access import MEMBERSHIP_NEEDS, TEAM_ROLES, permits
from survey.database import write_transaction
from survey.extensions import db
from survey.i18n import state_label
from survey.models import CLONED_FIELDS, Consultation, Membership, User
from survey.services import audit

DETAIL_FIELDS = frozenset(
    {
        "organisation",
        "contact",
        "independent_contact",
        "screening_deny_list",
        "purpose",
        "audience",
        "influence_scope",
        "feedback_due",
        "analysis_cutoff",
        "retention_until",
        "site_code",
        "setting",
        "shared_device",
        "research_mode",
        "ethics_reference",
    }
)


class ConsultationError(ValueError):
    """A consultation request that cannot be carried out; the message is for the user."""


def is_member(user: User, consultation_id: int, roles: tuple[str, ...] = ()) -> bool:
    """Kept for callers of the old name: the check is :func:`survey.access.permits`."""
    return permits(user, consultation_id, roles)


def consultations_for(user: User, role: str) -> list[Consultation]:
    """The consultations on which ``user`` holds team ``role`` and may use it."""
    if not user.has_role(*MEMBERSHIP_NEEDS.get(role, (role,))):
        return []
    return list(
        db.session.scalars(
            sa.select(Consultation)
            .join(Membership)
            .where(Membership.user_id == user.id, Membership.role == role)
            .order_by(Consultation.id.desc())
        )
    )


def create_consultation(
    *,
    title: str,
    instrument_id: str,
    instrument_version: str,
    instrument_hash: str = "",
    languages: list[str],
    age_bands: list[str],
    country_profile: str = "generic",
    consent_mode: str = "",
    facilitated: bool = True,
    actor: User | None = None,
    details: dict | None = None,
) -> Consultation:
    """Create a draft consultation.  ``details`` sets further columns (purpose, audience, dates...)."""
    if not title.strip():
        raise ConsultationError(_("A consultation needs a title."))
    with write_transaction() as session:
        consultation = Consultation(
            title=title.strip()[:200],
            instrument_id=instrument_id,
            instrument_version=instrument_version,
            instrument_hash=instrument_hash,
            languages=" ".join(languages),
            age_bands=" ".join(age_bands),
            country_profile=country_profile,
            consent_mode=consent_mode,
            facilitated=facilitated,
        )
        for name, value in (details or {}).items():
            if name not in DETAIL_FIELDS:
                raise ConsultationError(f"Unknown consultation detail {name!r}.")
            setattr(consultation, name, value)
        session.add(consultation)
        session.flush()
        audit.record(actor, "consultation.create", f"consultation:{consultation.id}")
    return consultation


def role_label(role: str) -> str:
    """A team role in plain words."""
    return {
        "owner": _("owner"),
        "facilitator": _("facilitator"),
        "analyst": _("analyst"),
        "safeguarding": _("safeguarding lead"),
    }.get(role, role)


def add_member(consultation: Consultation, user: User, role: str, *, actor: User | None = None) -> bool:
    """Put ``user`` on the consultation's team as ``role``; ``False`` if they already were.

    The caller has checked that ``actor`` may change the team (:func:`survey.access.may_manage_team`).
    """
    if role not in TEAM_ROLES:
        raise ConsultationError(_("A team member is an owner, a facilitator, an analyst or the safeguarding lead."))
    if not user.active:
        raise ConsultationError(_("%(name)s's account is switched off.", name=user.display_name or user.username))
    if not user.has_role(*MEMBERSHIP_NEEDS[role]):
        raise ConsultationError(
            _(
                "%(name)s cannot be the %(role)s: their account is not a %(needed)s account. An "
                "administrator can change that under Users.",
                name=user.display_name or user.username,
                role=role_label(role),
                needed=role_label(MEMBERSHIP_NEEDS[role][0]),
            )
        )
    with write_transaction() as session:
        exists = session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.consultation_id == consultation.id,
                Membership.role == role,
            )
        )
        if exists is not None:
            return False
        session.add(
            Membership(
                user_id=user.id,
                consultation_id=consultation.id,
                role=role,
                added_by=actor.username if actor is not None else "",
            )
        )
        audit.record(actor, "team.add", f"consultation:{consultation.id} user:{user.username} {role}")
    return True


def remove_member(consultation: Consultation, membership_id: int, *, actor: User | None = None) -> Membership:
    """Take one role off a team member; the last owner stays (someone must run the team)."""
    with write_transaction() as session:
        membership = session.get(Membership, membership_id)
        if membership is None or membership.consultation_id != consultation.id:
            raise ConsultationError(_("That person is not on this consultation's team."))
        if membership.role == "owner":
            owners = session.scalar(
                sa.select(sa.func.count())
                .select_from(Membership)
                .where(Membership.consultation_id == consultation.id, Membership.role == "owner")
            )
            if owners <= 1:
                raise ConsultationError(
                    _("A consultation needs an owner. Add another owner first, then remove this one.")
                )
        username = membership.user.username
        session.delete(membership)
        audit.record(actor, "team.remove", f"consultation:{consultation.id} user:{username} {membership.role}")
    return membership


def team(consultation_id: int) -> list[Membership]:
    """The consultation's team, by role then name."""
    order = sa.case({role: rank for rank, role in enumerate(TEAM_ROLES)}, value=Membership.role)
    return list(
        db.session.scalars(
            sa.select(Membership)
            .join(User)
            .where(Membership.consultation_id == consultation_id)
            .order_by(order, User.username)
        )
    )


def eligible_staff(role: str) -> list[User]:
    """The active accounts that may hold team ``role``."""
    users = db.session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.username))
    return [user for user in users if user.has_role(*MEMBERSHIP_NEEDS[role])]


class OpeningRefused(ConsultationError):
    """The consent checks refuse to open the consultation; ``problems`` say, in plain words,
    what is wrong and what to do (``steps``: the same, with the page that fixes each)."""

    def __init__(self, problems: list[str], steps: list | None = None) -> None:
        self.problems = problems
        self.steps = steps or []
        super().__init__("This consultation cannot open yet:\n" + "\n".join(f"- {p}" for p in problems))


#: The instrument checks that depend on the consultation's research mode and ethics reference:
#: what may be asked (S3 items) and what may be kept (an exact age) outside research mode.
RESEARCH_GATED = frozenset({"S3_NEEDS_RESEARCH", "EXACT_AGE"})


def research_problems(consultation: Consultation, instrument) -> list[str]:  # an Instrument
    """What the questionnaire asks that this consultation may not (plain words, with the fix).

    An item asking a child's exact age or birth date, or an S3 item, is allowed only when it is
    research-only or the consultation runs in research mode with an ethics reference.
    """
    from instruments import validate
    from survey.services.consent_rules import research_allowed

    research = research_allowed(consultation)
    report = validate(
        instrument,
        research_mode=research,
        ethics_reference=consultation.ethics_reference if research else None,
        lint=False,
    )
    problems = []
    for issue in report.errors:
        if issue.code == "EXACT_AGE":
            name = issue.location.removeprefix("item ")
            problems.append(
                _(
                    "The questionnaire asks children their exact age or date of birth (question "
                    "%(name)s), but only the age group may be kept. Use a questionnaire without that "
                    "question, or run the consultation in research mode with an ethics approval "
                    "reference.",
                    name=name,
                )
            )
        elif issue.code == "S3_NEEDS_RESEARCH":
            name = issue.location.removeprefix("item ").split(",")[0]
            problems.append(
                _(
                    "The questionnaire has a very sensitive question (%(name)s) that may only be asked "
                    "in research mode with an ethics approval reference. Use another questionnaire "
                    "version, or run the consultation in research mode.",
                    name=name,
                )
            )
    return problems


def open_consultation(
    consultation: Consultation, *, today: dt.date | None = None, actor: User | None = None, demo: bool = False
) -> tuple[str, ...]:
    """Open a consultation to children after every consent-side check; returns the warnings.

    The country profile must be a real one (only a demo may use an example profile) with every
    helpline checked within the profile's interval of ``today`` (the real date unless a test
    passes one); the permission rule must be allowed; every consent text must lint clean, render
    with the consultation's values and (outside a demo) be approved; and the questionnaire may
    not ask an exact age (or an S3 question) unless the consultation runs in research mode with
    an ethics reference.  The exact text versions are bound (C-06).
    """
    from survey.services.consent_rules import bindings_json
    from survey.services.setup import opening_steps, plain_warning

    if consultation.state not in ("draft", "closed"):
        raise ConsultationError(_("This consultation is already open or archived: it cannot be opened."))
    steps, check = opening_steps(consultation, today=today or dt.date.today(), demo=demo)
    if steps:
        raise OpeningRefused([step.message for step in steps], steps)
    with write_transaction() as session:
        record = session.merge(consultation)
        record.text_bindings = bindings_json(check)
        record.state = "open"
        audit.record(actor, "consultation.open", f"consultation:{record.id}")
    return tuple(dict.fromkeys(plain_warning(warning) for warning in check.warnings))


def set_state(consultation: Consultation, state: str, *, actor: User | None = None) -> None:
    """Close and archive (opening goes through :func:`open_consultation`, which checks consent)."""
    allowed = {"open": {"closed"}, "closed": {"archived"}}
    if state not in allowed.get(consultation.state, set()):
        raise ConsultationError(
            _(
                "A consultation that is %(state)s cannot become %(new)s.",
                state=state_label(consultation.state),
                new=state_label(state),
            )
        )
    if state == "archived":
        # P-06 asks for the Lundy checklist and the GC12 self-assessment before closing; they are
        # required here instead, because closing is how a self-completion consultation stops
        # taking children, and that must never wait for paperwork.
        from survey.services.programme import incomplete_checklists

        missing = incomplete_checklists(consultation.id)
        if missing:
            raise ConsultationError(
                _(
                    "Before archiving, complete the Lundy process checklist and the General Comment 12 "
                    "self-assessment on the programme page (%(count)s questions unanswered).",
                    count=sum(missing.values()),
                )
            )
    with write_transaction() as session:
        consultation = session.merge(consultation)
        consultation.state = state
        audit.record(actor, f"consultation.{state}", f"consultation:{consultation.id}")
    if state == "closed":
        # Closing freezes the results in a release (issue 15); it never stops the closing.
        from survey.services.releases import release_on_close

        try:
            release_on_close(consultation, actor)
        except Exception:  # closing must succeed; the analyst can release later
            logging.getLogger("sauti.releases").exception("the release on close failed")


def _checked_settings(data: dict) -> dict:
    """The set-up form's settings, checked: the questionnaire version, the profile, the
    languages it is approved in, the site code.  Returns the columns to set."""
    from consent.storage_policy import site_code_problem
    from survey.services import instrument_store
    from survey.services.safeguarding import country_profile
    from survey.services.translations import language_name

    try:
        record = instrument_store.resolve_choice(data["instrument"])
        profile = country_profile(data["country_profile"])
    except LookupError as error:
        raise ConsultationError(_("Choose a questionnaire and a country profile from the lists.")) from error
    problem = site_code_problem(data.get("site_code") or "", school_name_allowed=profile.school_name_as_site_code)
    if data.get("site_code") and problem:
        raise ConsultationError(problem)
    instrument = instrument_store.instrument_for_version(record)
    # A language still in review may be chosen for a draft: the consultation opens in it only
    # once everything a child reads in it is there and approved (translations.language_steps).
    absent = [code for code in data["languages"] if code not in instrument.language_codes]
    if absent:
        raise ConsultationError(
            _(
                "This questionnaire has no %(languages)s version. Its languages are: %(offered)s.",
                languages=", ".join(language_name(code) for code in absent),
                offered=", ".join(language_name(code, instrument) for code in instrument.language_codes),
            )
        )
    return {
        "title": (data.get("title") or "").strip()[:200],
        "instrument_id": record.instrument_id,
        "instrument_version": record.version,
        "instrument_hash": record.content_hash,
        "languages": " ".join(data["languages"]),
        "age_bands": " ".join(data["age_bands"]),
        "country_profile": profile.id,
        "consent_mode": data.get("consent_mode") or "",
        "facilitated": bool(data.get("facilitated")),
        **{
            name: _blank_as_empty(name, data[name])
            for name in DETAIL_FIELDS
            if name in data and name != "research_mode"
        },
    }


#: Detail fields that are dates (an empty one stays empty); the others are text or flags.
DATE_FIELDS = frozenset({"feedback_due", "analysis_cutoff", "retention_until"})


def _blank_as_empty(name: str, value: object) -> object:
    return "" if value is None and name not in DATE_FIELDS and name != "shared_device" else value


def create_from_form(data: dict, *, actor: User) -> Consultation:
    """Create a draft consultation from the set-up form: its creator owns it (and, as a
    facilitator, runs it), and the team chosen in the form is added."""
    settings = _checked_settings(data)
    chosen = _chosen_team(data)
    consultation = create_consultation(
        title=settings.pop("title"),
        instrument_id=settings.pop("instrument_id"),
        instrument_version=settings.pop("instrument_version"),
        instrument_hash=settings.pop("instrument_hash"),
        languages=settings.pop("languages").split(),
        age_bands=settings.pop("age_bands").split(),
        country_profile=settings.pop("country_profile"),
        consent_mode=settings.pop("consent_mode"),
        facilitated=settings.pop("facilitated"),
        actor=actor,
        details=settings,
    )
    if data.get("session_pin"):
        from survey.services.sessions import set_pin

        set_pin(consultation, data["session_pin"], actor)
    # The creator owns it: they (or an administrator) add and remove its team.
    add_member(consultation, actor, "owner", actor=actor)
    if actor.has_role("facilitator"):
        # The creator runs it and, until someone else is named, is its safeguarding lead.
        add_member(consultation, actor, "facilitator", actor=actor)
        if not data.get("safeguarding_lead"):
            add_member(consultation, actor, "safeguarding", actor=actor)
    for role, user in chosen:
        add_member(consultation, user, role, actor=actor)
    return consultation


def update_from_form(consultation: Consultation, data: dict, *, actor: User) -> Consultation:
    """Change a draft's settings from the set-up form (the team has its own page)."""
    if consultation.state != "draft":
        raise ConsultationError(_("Only a draft consultation's settings can be changed."))
    settings = _checked_settings(data)
    if not settings["title"]:
        raise ConsultationError(_("A consultation needs a title."))
    with write_transaction() as session:
        record = session.merge(consultation)
        for name, value in settings.items():
            setattr(record, name, value)
        audit.record(actor, "consultation.settings", f"consultation:{record.id}")
    if data.get("session_pin"):
        from survey.services.sessions import set_pin

        set_pin(record, data["session_pin"], actor)
    return record


def clone(consultation: Consultation, *, actor: User) -> Consultation:
    """A new draft with the same settings and team; no children, codes, answers or records.

    The person cloning owns the copy.  It opens through the same checks as any draft.
    """
    with write_transaction() as session:
        copy = Consultation(
            title=_("Copy of %(title)s", title=consultation.title)[:200],
            **{name: getattr(consultation, name) for name in CLONED_FIELDS},
        )
        session.add(copy)
        session.flush()
        audit.record(actor, "consultation.clone", f"consultation:{copy.id} from consultation:{consultation.id}")
    add_member(copy, actor, "owner", actor=actor)
    for membership in team(consultation.id):
        if membership.role != "owner" and membership.user.has_role(*MEMBERSHIP_NEEDS[membership.role]):
            add_member(copy, membership.user, membership.role, actor=actor)
    return copy


def _chosen_team(data: dict) -> list[tuple[str, User]]:
    """The team chosen in the set-up form (further facilitators, analysts, the safeguarding
    lead), checked before anything is created."""
    chosen = [("facilitator", uid) for uid in data.get("facilitators") or []]
    chosen += [("analyst", uid) for uid in data.get("analysts") or []]
    if data.get("safeguarding_lead"):
        chosen.append(("safeguarding", data["safeguarding_lead"]))
    team = []
    for role, user_id in chosen:
        user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        if user is None or not user.active or not user.has_role(*MEMBERSHIP_NEEDS[role]):
            raise ConsultationError(
                _(
                    "Someone chosen for the team cannot be the %(role)s. Choose again from the list.",
                    role=role_label(role),
                )
            )
        team.append((role, user))
    return team

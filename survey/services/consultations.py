"""Consultations and who works on them."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, Membership, User
from survey.services import audit

DETAIL_FIELDS = frozenset({
    "organisation", "contact", "independent_contact", "screening_deny_list", "purpose", "audience",
    "influence_scope", "feedback_due",
    "analysis_cutoff", "retention_until", "site_code", "setting", "shared_device", "research_mode",
    "ethics_reference",
})


class ConsultationError(ValueError):
    """A consultation request that cannot be carried out; the message is for the user."""


#: The account roles a membership role needs (a lead who loses the role loses the access).
MEMBERSHIP_NEEDS = {"facilitator": ("facilitator",), "analyst": ("analyst",),
                    "safeguarding": ("facilitator", "admin")}


def is_member(user: User, consultation_id: int, roles: tuple[str, ...] = ()) -> bool:
    query = sa.select(Membership.role).where(
        Membership.user_id == user.id, Membership.consultation_id == consultation_id
    )
    if roles:
        query = query.where(Membership.role.in_(roles))
    return any(user.has_role(*MEMBERSHIP_NEEDS.get(role, (role,))) for role in db.session.scalars(query))


def consultations_for(user: User, role: str) -> list[Consultation]:
    return list(
        db.session.scalars(
            sa.select(Consultation)
            .join(Membership)
            .where(Membership.user_id == user.id, Membership.role == role)
            .order_by(Consultation.id.desc())
        )
    )


def create_consultation(
    *, title: str, instrument_id: str, instrument_version: str, instrument_hash: str = "",
    languages: list[str], age_bands: list[str], country_profile: str = "generic",
    consent_mode: str = "", facilitated: bool = True, actor: User | None = None,
    details: dict | None = None,
) -> Consultation:
    """Create a draft consultation.  ``details`` sets further columns (purpose, audience, dates...)."""
    if not title.strip():
        raise ConsultationError("A consultation needs a title.")
    with write_transaction() as session:
        consultation = Consultation(
            title=title.strip()[:200], instrument_id=instrument_id,
            instrument_version=instrument_version, instrument_hash=instrument_hash,
            languages=" ".join(languages), age_bands=" ".join(age_bands),
            country_profile=country_profile, consent_mode=consent_mode, facilitated=facilitated,
        )
        for name, value in (details or {}).items():
            if name not in DETAIL_FIELDS:
                raise ConsultationError(f"Unknown consultation detail {name!r}.")
            setattr(consultation, name, value)
        session.add(consultation)
        session.flush()
        audit.record(actor, "consultation.create", f"consultation:{consultation.id}")
    return consultation


def add_member(consultation: Consultation, user: User, role: str, *, actor: User | None = None) -> None:
    if role not in ("facilitator", "analyst", "safeguarding"):
        raise ConsultationError("Members are facilitators, analysts or the safeguarding lead.")
    if not user.has_role(*MEMBERSHIP_NEEDS[role]):
        raise ConsultationError(f"{user.username} does not hold the {role} role.")
    with write_transaction() as session:
        exists = session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.consultation_id == consultation.id,
                Membership.role == role,
            )
        )
        if exists is None:
            session.add(Membership(user_id=user.id, consultation_id=consultation.id, role=role))
            audit.record(actor, "membership.add", f"consultation:{consultation.id} user:{user.username} {role}")


class OpeningRefused(ConsultationError):
    """The consent checks refuse to open the consultation; ``problems`` say, in plain words,
    what is wrong and what to do."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
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
    report = validate(instrument, research_mode=research,
                      ethics_reference=consultation.ethics_reference if research else None, lint=False)
    problems = []
    for issue in report.errors:
        if issue.code == "EXACT_AGE":
            name = issue.location.removeprefix("item ")
            problems.append(_(
                "The questionnaire asks children their exact age or date of birth (question "
                "%(name)s), but only the age group may be kept. Use a questionnaire without that "
                "question, or run the consultation in research mode with an ethics approval "
                "reference.", name=name))
        elif issue.code == "S3_NEEDS_RESEARCH":
            name = issue.location.removeprefix("item ").split(",")[0]
            problems.append(_(
                "The questionnaire has a very sensitive question (%(name)s) that may only be asked "
                "in research mode with an ethics approval reference. Use another questionnaire "
                "version, or run the consultation in research mode.", name=name))
    return problems


def open_consultation(consultation: Consultation, *, today: dt.date | None = None, actor: User | None = None,
                      demo: bool = False) -> tuple[str, ...]:
    """Open a consultation to children after every consent-side check; returns the warnings.

    The country profile must be a real one (only a demo may use an example profile) with every
    helpline checked within the profile's interval of ``today`` (the real date unless a test
    passes one); the permission rule must be allowed; every consent text must lint clean, render
    with the consultation's values and (outside a demo) be approved; and the questionnaire may
    not ask an exact age (or an S3 question) unless the consultation runs in research mode with
    an ethics reference.  The exact text versions are bound (C-06).
    """
    from survey.services.consent_rules import bindings_json, opening_check
    from survey.services.instrument_store import instrument_for

    if consultation.state not in ("draft", "closed"):
        raise ConsultationError(f"A {consultation.state} consultation cannot be opened.")
    instrument = instrument_for(consultation)
    check = opening_check(consultation, instrument, today or dt.date.today(), demo=demo)
    problems = [problem.message for problem in check.problems] + research_problems(consultation, instrument)
    if problems:
        raise OpeningRefused(problems)
    with write_transaction() as session:
        record = session.merge(consultation)
        record.text_bindings = bindings_json(check)
        record.state = "open"
        audit.record(actor, "consultation.open", f"consultation:{record.id}")
    return tuple(check.warnings)


def set_state(consultation: Consultation, state: str, *, actor: User | None = None) -> None:
    """Close and archive (opening goes through :func:`open_consultation`, which checks consent)."""
    allowed = {"open": {"closed"}, "closed": {"archived"}}
    if state not in allowed.get(consultation.state, set()):
        raise ConsultationError(f"A {consultation.state} consultation cannot become {state}.")
    if state == "archived":
        # P-06 asks for the Lundy checklist and the GC12 self-assessment before closing; they are
        # required here instead, because closing is how a self-completion consultation stops
        # taking children, and that must never wait for paperwork.
        from survey.services.programme import incomplete_checklists

        missing = incomplete_checklists(consultation.id)
        if missing:
            raise ConsultationError(_(
                "Before archiving, complete the Lundy process checklist and the General Comment 12 "
                "self-assessment on the programme page (%(count)s questions unanswered).",
                count=sum(missing.values())))
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


def create_from_form(data: dict, *, actor: User) -> Consultation:
    """Create a draft consultation from the staff form and make its creator its facilitator."""
    from consent.storage_policy import site_code_problem
    from survey.services import instrument_store
    from survey.services.safeguarding import country_profile

    try:
        record = instrument_store.resolve_choice(data["instrument"])
        profile = country_profile(data["country_profile"])
    except LookupError as error:
        raise ConsultationError(str(error)) from error
    problem = site_code_problem(data.get("site_code") or "", school_name_allowed=profile.school_name_as_site_code)
    if data.get("site_code") and problem:
        raise ConsultationError(problem)
    instrument = instrument_store.instrument_for_version(record)
    approved = {language.code for language in instrument.approved_languages}
    refused = [code for code in data["languages"] if code not in approved]
    if refused:
        raise ConsultationError(f"These languages are not approved in this questionnaire: {', '.join(refused)}.")
    details = {name: data[name] for name in DETAIL_FIELDS if name in data and name != "research_mode"}
    consultation = create_consultation(
        title=data["title"], instrument_id=record.instrument_id, instrument_version=record.version,
        instrument_hash=record.content_hash, languages=list(data["languages"]), age_bands=list(data["age_bands"]),
        country_profile=profile.id, consent_mode=data.get("consent_mode") or "",
        facilitated=bool(data.get("facilitated")), actor=actor, details=details,
    )
    if data.get("session_pin"):
        from survey.services.sessions import set_pin

        set_pin(consultation, data["session_pin"], actor)
    if actor.has_role("facilitator"):
        # The creator runs it and, until someone else is named, is its safeguarding lead.
        add_member(consultation, actor, "facilitator", actor=actor)
        add_member(consultation, actor, "safeguarding", actor=actor)
    return consultation

"""The consultation's consent rules, from its country profile and its fields (consent/ decides).

One place answers: which permission rule applies, which confidentiality wording, what values
fill the texts, and which exact text versions the consultation is bound to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json

import sqlalchemy as sa

from consent.bands import band_by_code
from consent.opening import OpeningCheck, check_opening, consultation_permission
from consent.permission import PermissionDecision, may_proceed_to_assent
from consent.profiles import ParentalPermission, helpline_label
from consent.texts import (
    ConfidentialityMode,
    ConsentText,
    TextKind,
    TextRef,
    TextRegistry,
    TextStatus,
    bundled_texts,
)
from instruments.model import Instrument
from instruments.validate import estimate_minutes
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, Participant, TextApproval, User
from survey.services import audit
from survey.services.safeguarding import country_profile


@functools.cache
def text_registry() -> TextRegistry:
    """The bundled consent texts, read from files once per process."""
    return bundled_texts()


def approved_registry() -> TextRegistry:
    """The bundled texts, with the versions administrators approved marked ``approved``."""
    registry = TextRegistry(list(text_registry()))
    for text_id, content_hash in db.session.execute(sa.select(TextApproval.text_id, TextApproval.content_hash)):
        # An approval binds to the exact content: a text changed since is not approved.
        if text_id in registry and registry.get(text_id).content_hash == content_hash:
            registry.with_status(text_id, TextStatus.APPROVED)
    return registry


def approve_text(text_id: str, actor: User) -> None:
    """Record an administrator's approval of one exact text version (its current hash)."""
    text = text_registry().get(text_id)
    with write_transaction() as session:
        exists = session.scalar(sa.select(TextApproval.id).where(
            TextApproval.text_id == text_id, TextApproval.content_hash == text.content_hash))
        if exists is None:
            session.add(TextApproval(text_id=text_id, content_hash=text.content_hash, approved_by=actor.username))
            audit.record(actor, "text.approve", f"text:{text_id}")


def permission_rule(consultation: Consultation) -> ParentalPermission:
    """The consultation's guardian-permission rule: its own mode, or the profile's, with its
    ethics reference attached (passive opt-out and waivers need one)."""
    profile = country_profile(consultation.country_profile)
    if consultation.consent_mode:
        return consultation_permission(profile, consultation.consent_mode,
                                       ethics_reference=consultation.ethics_reference or None)
    if consultation.ethics_reference and not profile.permission.ethics_reference:
        return dataclasses.replace(profile.permission, ethics_reference=consultation.ethics_reference)
    return profile.permission


def confidentiality_mode(consultation: Consultation) -> ConfidentialityMode:
    return ConfidentialityMode.FACILITATED if consultation.facilitated else ConfidentialityMode.ANONYMOUS


def research_allowed(consultation: Consultation) -> bool:
    return consultation.research_mode and bool(consultation.ethics_reference.strip())


def text_values(consultation: Consultation, instrument: Instrument, band: str | None = None) -> dict[str, object]:
    """The placeholder values of the consent texts (consent.texts.PLACEHOLDERS)."""
    profile = country_profile(consultation.country_profile)
    helpline = profile.helplines[0]
    research = research_allowed(consultation)
    bands = [band] if band else consultation.band_list
    pages = max(len(instrument.pages_for_band(b, research)) for b in bands)
    minutes = max(estimate_minutes(instrument, b, research) for b in bands)
    return {
        "organisation": consultation.organisation,
        "independent_contact": consultation.independent_contact,
        "contact": consultation.contact,
        "minutes": max(1, round(minutes)),
        "pages": pages,
        "audience": consultation.audience,
        "influence_scope": consultation.influence_scope,
        "feedback_date": consultation.feedback_due,
        "cutoff_date": consultation.analysis_cutoff,
        "helpline": helpline_label(helpline),
        "reporting_role": profile.mandatory_reporting.roles[0] if profile.mandatory_reporting.roles
        else "our safeguarding lead",
        "ethics_reference": consultation.ethics_reference or "-",
        "session_date": consultation.created_on,
        "return_by_date": consultation.created_on,
    }


def opening_check(consultation: Consultation, instrument: Instrument, today: dt.date, *, demo: bool) -> OpeningCheck:
    return check_opening(
        profile=country_profile(consultation.country_profile), today=today, texts=approved_registry(),
        languages=consultation.language_list, bands=consultation.band_list,
        values=text_values(consultation, instrument), mode=confidentiality_mode(consultation),
        permission=permission_rule(consultation), require_approved=not demo, demo=demo,
    )


def bindings_json(check: OpeningCheck) -> str:
    return json.dumps({slot: {"text_id": ref.text_id, "content_hash": ref.content_hash}
                       for slot, ref in check.bindings.items()}, sort_keys=True)


def bound_text(consultation: Consultation, kind: TextKind, language: str, band: str | None) -> ConsentText:
    """The exact version this consultation was opened with; refuses a text changed since."""
    bindings = json.loads(consultation.text_bindings or "{}")
    for lang in (language, *consultation.language_list):
        entry = bindings.get(f"{kind.value}/{lang}/{band or '-'}")
        if entry:
            # resolve() checks the content hash: a text edited in place is refused (C-06).
            return text_registry().resolve(TextRef(entry["text_id"], entry["content_hash"]))
    raise LookupError(f"no {kind.value} text is bound for band {band} in this consultation")


def may_proceed(participant: Participant) -> PermissionDecision:
    """Whether this card's guardian permission lets the child go on to the assent screen."""
    consultation = participant.consultation
    return may_proceed_to_assent(country_profile(consultation.country_profile), participant.permission,
                                 band=band_by_code(participant.band), permission=permission_rule(consultation))

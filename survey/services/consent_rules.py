"""The consultation's consent rules, from its country profile and its fields (consent/ decides).

One place answers: which permission rule applies, which confidentiality wording, what values
fill the texts, and which exact text versions the consultation is bound to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json

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
    bundled_texts,
)
from instruments.model import Instrument
from instruments.validate import estimate_minutes
from survey.child_cache import instrument_figures
from survey.models import Consultation, Participant
from survey.services.safeguarding import country_profile


@functools.cache
def text_registry() -> TextRegistry:
    """The bundled consent texts, read from files once per process."""
    return bundled_texts()


def approved_registry(*, demo: bool = False) -> TextRegistry:
    """The bundled texts, each marked ``approved`` exactly when its review says so (the review
    steps are kept by :mod:`survey.services.translations`)."""
    from survey.services.translations import reviewed_registry

    return reviewed_registry(text_registry(), demo=demo)


def permission_rule(consultation: Consultation) -> ParentalPermission:
    """The consultation's guardian-permission rule: its own mode, or the profile's, with its
    ethics reference attached (passive opt-out and waivers need one)."""
    profile = country_profile(consultation.country_profile)
    if consultation.consent_mode:
        return consultation_permission(
            profile, consultation.consent_mode, ethics_reference=consultation.ethics_reference or None
        )
    if consultation.ethics_reference and not profile.permission.ethics_reference:
        return dataclasses.replace(profile.permission, ethics_reference=consultation.ethics_reference)
    return profile.permission


def confidentiality_mode(consultation: Consultation) -> ConfidentialityMode:
    return ConfidentialityMode.FACILITATED if consultation.facilitated else ConfidentialityMode.ANONYMOUS


def research_allowed(consultation: Consultation) -> bool:
    return consultation.research_mode and bool(consultation.ethics_reference.strip())


def text_values(
    consultation: Consultation, instrument: Instrument, band: str | None = None, language: str | None = None
) -> dict[str, object]:
    """The placeholder values of the consent texts (consent.texts.PLACEHOLDERS), in ``language``
    where the consultation gives its words in it (:func:`survey.services.translations.wording_in`)."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from consent.profiles import helplines_for
    from survey.i18n import isolated
    from survey.services.translations import wording_in

    profile = country_profile(consultation.country_profile)
    helpline = helplines_for(profile, language)[0] if language else profile.helplines[0]
    research = research_allowed(consultation)
    bands = [band] if band else consultation.band_list
    pages, minutes = instrument_figures.get_or_build(
        ("pages and minutes", id(instrument), tuple(bands), research),
        sources=(instrument,),
        build=lambda: (
            max(len(instrument.pages_for_band(b, research)) for b in bands),
            max(estimate_minutes(instrument, b, research) for b in bands),
        ),
    )
    # Each filled-in value is set apart in a right-to-left text (a contact number keeps its order).
    words = {name: isolated(value, language) for name, value in wording_in(consultation, language).items()}
    with force_locale(language or consultation.language_list[0]):
        reporting_role = (
            profile.mandatory_reporting.roles[0] if profile.mandatory_reporting.roles else _("our safeguarding lead")
        )
    return {
        **words,
        "minutes": max(1, round(minutes)),
        "pages": pages,
        "feedback_date": consultation.feedback_due,
        "cutoff_date": consultation.analysis_cutoff,
        "helpline": isolated(helpline_label(helpline), language),
        "reporting_role": reporting_role,
        "ethics_reference": consultation.ethics_reference or "-",
        "session_date": consultation.created_on,
        "return_by_date": consultation.created_on,
    }


def opening_check(consultation: Consultation, instrument: Instrument, today: dt.date, *, demo: bool) -> OpeningCheck:
    return check_opening(
        profile=country_profile(consultation.country_profile),
        today=today,
        texts=approved_registry(demo=demo),
        languages=consultation.language_list,
        bands=consultation.band_list,
        values=text_values(consultation, instrument),
        mode=confidentiality_mode(consultation),
        permission=permission_rule(consultation),
        require_approved=not demo,
        demo=demo,
    )


def bindings_json(check: OpeningCheck) -> str:
    return json.dumps(
        {slot: {"text_id": ref.text_id, "content_hash": ref.content_hash} for slot, ref in check.bindings.items()},
        sort_keys=True,
    )


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
    return may_proceed_to_assent(
        country_profile(consultation.country_profile),
        participant.permission,
        band=band_by_code(participant.band),
        permission=permission_rule(consultation),
    )

"""Setting a consultation up: what still blocks it from opening, in plain words, and where to fix it.

``consent.opening.check_opening`` and the questionnaire checks report problems as stable codes
with internal names (text ids, profile fields); nobody setting up a consultation should read
those.  This module turns each one into a sentence that says what is missing and who can fix it,
and names the console page that fixes it (``Step.fix``: a symbolic page, so that this module
needs no request; ``survey/views/facilitate.py`` turns it into a link).

The same steps are the refusal when "Open for children" is pressed and the checklist on the
consultation's page, so the two can never disagree.  Steps with ``blocking=False`` are advice
shown on the checklist (a team without an analyst, a facilitated consultation without a PIN).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _

from consent.texts import TextKind
from survey.access import team_roles
from survey.models import Consultation

#: The console pages a step can point to (``fix``); ``target`` names the text or profile.
FIX_PAGES = ("settings", "team", "text", "texts", "profile", "profiles", "preview", "translations", "wording")

#: Fixing pages only an administrator reaches.
ADMIN_PAGES = frozenset({"text", "texts", "profile", "profiles", "translations"})


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing to do before (or when) opening: ``message`` in plain words, ``fix`` the page."""

    message: str
    fix: str
    target: str = ""
    blocking: bool = True
    admin_only: bool = False  # the fixing page is an administrator's


def language_name(code: str) -> str:
    """A language's name in the reader's language ("Swahili" for ``sw`` in English)."""
    try:
        return Locale.parse(code).get_display_name(str(get_locale() or "en")) or code
    except (UnknownLocaleError, ValueError):
        return code


def band_phrase(band: str | None) -> str:
    return {"A": _("aged 8 to 10"), "B": _("aged 11 to 13"), "C": _("aged 14 to 17")}.get(band or "", "")


def document_name(kind: str) -> str:
    return {
        TextKind.CHILD_INFORMATION.value: _("the information for children"),
        TextKind.ASSENT_SCRIPT.value: _("the script read aloud to children"),
        TextKind.GUARDIAN_INFORMATION.value: _("the letter to parents and carers"),
        TextKind.GUARDIAN_CONSENT_FORM.value: _("the reply slip for parents and carers"),
    }.get(kind, _("a consent text"))


def _describe(kind: str, language: str, band: str | None) -> str:
    """E.g. "the information for children aged 11 to 13, in English"."""
    phrase = band_phrase(band)
    return _(
        "%(document)s%(band)s, in %(language)s",
        document=document_name(kind),
        band=(" " + phrase) if phrase else "",
        language=language_name(language),
    )


def text_name(text_id: str) -> str:
    """A consent text in plain words ("the information for children aged 8 to 10, in English")."""
    parts = _text_parts(text_id)
    return _describe(*parts) if parts else _("a consent text")


def _text_parts(element: str | None) -> tuple[str, str, str | None] | None:
    """(kind, language, band) from a text id (``kind/lang/band/vN``) or a slot (``kind/lang/band``)."""
    parts = (element or "").split("/")
    if len(parts) < 3 or parts[0] not in {kind.value for kind in TextKind}:
        return None
    band = parts[2] if parts[2] not in ("-", "") else None
    return parts[0], parts[1], band


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


#: The consultation's details a consent text needs (consent.texts.PLACEHOLDERS), as the
#: settings page names them.
DETAIL_NAMES = {
    "organisation": lambda: _("who is asking"),
    "contact": lambda: _("how children can ask questions later"),
    "independent_contact": lambda: _("someone outside the team to contact with a concern"),
    "audience": lambda: _("who will hear the results"),
    "influence_scope": lambda: _("what the answers can change, and what they cannot"),
    "feedback_date": lambda: _("when children will hear back"),
    "cutoff_date": lambda: _("the last day a child can withdraw their answers"),
    "ethics_reference": lambda: _("the ethics approval reference"),
}


def plain_problem(issue, consultation: Consultation) -> Step:  # a consent.texts.Issue
    """One problem of ``consent.opening.check_opening`` as a step in plain words."""
    from survey.services.safeguarding import country_profile

    code, element = issue.code, issue.element
    if code == "example_profile":
        profile = country_profile(consultation.country_profile)
        return Step(
            _(
                "The country profile “%(name)s” is an example: its helplines and rules have not been "
                "checked for a real consultation. Choose your organisation's own country profile in the "
                "settings, or ask an administrator to add one under Country profiles.",
                name=profile.name,
            ),
            "settings",
        )
    if code == "helplines_stale":
        # consent.opening writes this one in plain words already: the interval, and each stale
        # helpline with the date of its last check.
        profile = country_profile(consultation.country_profile)
        return Step(issue.message, "profile", profile.id, admin_only=True)
    if code == "ethics_reference_missing":
        return Step(
            _(
                "The guardian permission rule you chose needs an ethics approval reference. Add the "
                "reference in the settings, or choose “As the country profile says”."
            ),
            "settings",
        )
    if code in ("substitute_protection_missing", "permission_incomplete"):
        return Step(
            _("The guardian permission rule you chose is not complete. Choose another rule in the settings."),
            "settings",
        )
    if code == "no_language":
        return Step(_("Choose at least one language for children in the settings."), "settings")
    if code == "no_band":
        return Step(_("Choose at least one age group in the settings."), "settings")
    parts = _text_parts(element)
    if code == "text_missing":
        if parts is None:
            return Step(
                _(
                    "There is no %(document)s in any of this consultation's languages. Remove the "
                    "languages that have none in the settings, or ask an administrator to add it.",
                    document=document_name(element or ""),
                ),
                "texts",
                admin_only=True,
            )
        return Step(
            _(
                "There is no %(what)s yet. Remove that language or age group in the settings, or ask "
                "an administrator to add the text.",
                what=_describe(*parts),
            ),
            "settings",
        )
    what = _describe(*parts) if parts else _("a consent text")
    if code == "text_not_approved":
        return Step(
            _(
                "%(what)s has not been approved yet. An administrator reads it and approves it before children see it.",
                what=_capital(what),
            ),
            "text",
            element or "",
            admin_only=True,
        )
    if code == "missing_value":
        missing = [
            DETAIL_NAMES[name]()
            for name in re.findall(r"(?:text: |; )([a-z_]+): ", issue.message)
            if name in DETAIL_NAMES
        ]
        return Step(
            _(
                "%(what)s needs details that are not filled in yet: %(details)s. Fill them in in the settings.",
                what=_capital(what),
                details=", ".join(missing) or _("who is asking, who will hear the results, the dates"),
            ),
            "settings",
        )
    return Step(
        _(
            "%(what)s has a problem that must be corrected before children see it. An administrator "
            "can see what is wrong on its review page.",
            what=_capital(what),
        ),
        "text" if parts else "texts",
        (element or "") if parts else "",
        admin_only=True,
    )


def plain_warning(warning: str) -> str:
    """A warning of ``check_opening`` without text ids or references to the guidance's sections."""
    if "must report abuse" in warning:
        return _(
            "In this country some adults must report abuse they learn of. If an adult runs the "
            "session in person, choose “An adult runs the session in the room”, so that children "
            "are told what happens if they tell that adult something."
        )
    draft = re.match(r"^(\S+/v\d+) is (\w+), not approved", warning)
    if draft and (parts := _text_parts(draft.group(1))):
        return _(
            "%(what)s is not approved yet: fine for a demonstration, not for a real consultation.",
            what=_capital(_describe(*parts)),
        )
    guardian = re.match(r"^no (\w+) in '(\w+)': guardians get (.*)$", warning)
    if guardian:
        return _(
            "There is no %(document)s in %(language)s: parents and carers get it in %(others)s.",
            document=document_name(guardian.group(1)),
            language=language_name(guardian.group(2)),
            others=", ".join(language_name(code.strip()) for code in guardian.group(3).split(",")),
        )
    return re.sub(r"\s*\((?:§[^)]*)\)", "", warning)


def opening_steps(consultation: Consultation, *, today: dt.date, demo: bool = False):
    """The blocking steps and the opening check itself: ``(steps, check)``."""
    from survey.services.consent_rules import opening_check
    from survey.services.consultations import research_problems
    from survey.services.instrument_store import instrument_for
    from survey.services.translations import language_steps

    instrument = instrument_for(consultation)
    check = opening_check(consultation, instrument, today, demo=demo)
    steps = [plain_problem(issue, consultation) for issue in check.problems]
    steps += [Step(message, "settings") for message in research_problems(consultation, instrument)]
    # Choices from a file attached to the form: the questionnaire waits for each file.
    from survey.services.attachments import opening_problems

    if instrument.settings.attachments:
        record_id, waiting = opening_problems(consultation)
        steps += [Step(message, "attachments", str(record_id), admin_only=True) for message in waiting]
    # Every language must be complete and approved: a child never meets a page in two languages.
    steps += [
        Step(message, fix, consultation.country_profile if fix == "profile" else "", admin_only=fix in ADMIN_PAGES)
        for message, fix in language_steps(consultation, instrument, demo=demo)
    ]
    return list(dict.fromkeys(steps)), check


def team_advice(consultation: Consultation) -> list[Step]:
    """What the team still lacks (advice: opening does not wait for it)."""
    held: dict[str, int] = {}
    for membership in consultation.memberships:
        if membership.role in team_roles(membership.user, consultation.id):
            held[membership.role] = held.get(membership.role, 0) + 1
    steps = []
    if consultation.facilitated and not held.get("facilitator"):
        steps.append(
            Step(
                _("No facilitator is on the team yet: add the adult who will run the sessions."), "team", blocking=False
            )
        )
    if not held.get("safeguarding"):
        steps.append(
            Step(
                _(
                    "No one is the safeguarding lead yet: concerns children raise would wait unseen. "
                    "Name one on the team page."
                ),
                "team",
                blocking=False,
            )
        )
    if not held.get("analyst"):
        steps.append(
            Step(
                _("No analyst is on the team yet: nobody will see the results. Add one on the team page."),
                "team",
                blocking=False,
            )
        )
    if consultation.facilitated and not consultation.session_pin_hash:
        steps.append(
            Step(
                _("Set a session PIN in the settings: a session with children cannot start without it."),
                "settings",
                blocking=False,
            )
        )
    return steps


def checklist(consultation: Consultation, *, today: dt.date) -> list[Step]:
    """Everything still to do on a draft (or closed) consultation, blocking steps first."""
    if consultation.state not in ("draft", "closed"):
        return []
    steps, _check = opening_steps(consultation, today=today)
    return steps + team_advice(consultation)


__all__ = ["FIX_PAGES", "Step", "checklist", "opening_steps", "plain_problem", "plain_warning"]

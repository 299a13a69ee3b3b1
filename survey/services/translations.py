"""Translations of questionnaires and consent texts: their review steps, and the language rules.

One owner for two questions:

* **Where is a translation in its review?**  Each questionnaire language (of one stored
  version) and each consent text goes draft → translated → back-translated → reviewed →
  approved; every step is a :class:`~survey.models.TranslationStep` (who said so and when) and
  an audit event.  The latest step for the exact content is the state; where there is none,
  the file's own status stands (the bundled English source is approved, the shipped
  translations are not).  An approval needs a reviewer's name.  ``demo_only`` approvals (what
  ``sauti demo --languages`` records) count only for a demonstration consultation.
* **May a consultation open in a language?**  :func:`language_problems`: only when everything a
  child reads in it exists in that language (Sauti's own pages, the questionnaire, the
  information and assent texts, the helplines) and the questionnaire language and texts are
  approved, so that a page mixing two languages can never be shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consent.texts import ConsentText, TextKind, TextRegistry, TextStatus
from instruments.model import Instrument, LanguageStatus
from survey.database import write_transaction
from survey.extensions import db
from survey.i18n import LANGUAGE_NAMES
from survey.models import InstrumentVersion, TextApproval, TranslationStep, User
from survey.services import audit

#: The review states, in order.  A step may go forward (skipping is allowed and shows in the
#: history) or back to draft; only ``approved`` lets a real consultation open.
STATES = ("draft", "translated", "back_translated", "reviewed", "approved")
STATE_LABELS = {
    "draft": _l("draft"),
    "translated": _l("translated"),
    "back_translated": _l("back-translated"),
    "reviewed": _l("reviewed"),
    "approved": _l("approved"),
}
#: The files' own status words, as review states.
_FROM_FILE = {
    "draft": "draft",
    "translated": "translated",
    "back_translated": "back_translated",
    "tested": "reviewed",
    "cognitively_tested": "reviewed",
    "approved": "approved",
}


class TranslationRefused(ValueError):
    """A review step that cannot be recorded; the message says why in plain words."""


@dataclasses.dataclass(frozen=True)
class State:
    """Where one translation stands: its state, and who said so when (``None`` for the file)."""

    state: str
    by: str = ""
    at: dt.datetime | None = None
    demo_only: bool = False
    note: str = ""

    @property
    def label(self) -> str:
        text = str(STATE_LABELS.get(self.state, self.state))
        return text + (" " + _("(for the demonstration only)") if self.demo_only else "")

    def approved_for(self, *, demo: bool) -> bool:
        return self.state == "approved" and (demo or not self.demo_only)


def language_name(code: str, instrument: Instrument | None = None) -> str:
    """A language's own name ("Kiswahili"), never a bare code where a name is known."""
    if instrument is not None:
        try:
            named = instrument.language(code).name
        except KeyError:
            named = ""
        if named:
            return named
    return LANGUAGE_NAMES.get(code, code)


# ----------------------------------------------------------------------------- subjects
def questionnaire_subject(instrument: Instrument) -> str:
    return f"questionnaire:{instrument.id}@{instrument.version}"


def consent_subject(text: ConsentText) -> str:
    return f"consent:{text.text_id}"


def _latest(subject: str, language: str, content_hash: str, *, demo: bool = True) -> TranslationStep | None:
    query = sa.select(TranslationStep).where(
        TranslationStep.subject == subject,
        TranslationStep.language == language,
        TranslationStep.content_hash == content_hash,
    )
    if not demo:
        # A real consultation reads past demonstration-only steps to the last real one.
        query = query.where(TranslationStep.demo_only.is_(False))
    return db.session.scalar(query.order_by(TranslationStep.id.desc()).limit(1))


def _state_of(step: TranslationStep | None, file_status: str) -> State:
    if step is None:
        return State(_FROM_FILE.get(file_status, "draft"))
    return State(step.state, step.by, step.at, step.demo_only, step.note)


def history(subject: str, language: str) -> list[TranslationStep]:
    """Every step of one translation, oldest first (all content versions)."""
    return list(
        db.session.scalars(
            sa.select(TranslationStep)
            .where(TranslationStep.subject == subject, TranslationStep.language == language)
            .order_by(TranslationStep.id)
        )
    )


# ----------------------------------------------------------------------------- questionnaires
def language_state(instrument: Instrument, language: str, *, demo: bool = True) -> State:
    """The review state of one questionnaire language (``demo=False``: demo steps ignored)."""
    file_status = instrument.language(language).status.value
    return _state_of(
        _latest(questionnaire_subject(instrument), language, instrument.content_hash, demo=demo), file_status
    )


def effective_instrument(instrument: Instrument, *, demo: bool = False) -> Instrument:
    """The instrument with each language approved exactly when its review says so."""
    result = instrument
    for language in instrument.languages:
        approved = language_state(instrument, language.code, demo=demo).approved_for(demo=demo)
        if approved != language.approved:
            result = result.with_language_status(
                language.code, LanguageStatus.APPROVED if approved else LanguageStatus.TRANSLATED
            )
    return result


def _check_step(state: str, by: str) -> str:
    if state not in STATES:
        raise TranslationRefused(_("The state must be one of: %(states)s.", states=", ".join(STATES)))
    by = " ".join((by or "").split())[:80]
    if not by:
        raise TranslationRefused(_("Give the name of the person who did this step (for an approval, the reviewer)."))
    return by


def _record(
    subject: str,
    language: str,
    content_hash: str,
    state: str,
    *,
    by: str,
    actor: User | None,
    note: str,
    demo_only: bool,
) -> TranslationStep:
    step = TranslationStep(
        subject=subject,
        language=language,
        content_hash=content_hash,
        state=state,
        by=by,
        note=(note or "")[:500],
        demo_only=demo_only,
    )
    db.session.add(step)
    audit.record(actor, "translation." + ("demo_approve" if demo_only else state), f"{subject} {language} by {by}")
    return step


def set_language_state(
    record: InstrumentVersion,
    language: str,
    state: str,
    *,
    by: str,
    actor: User | None = None,
    note: str = "",
    demo_only: bool = False,
) -> State:
    """Record a review step of one questionnaire language.  Approving checks that every text
    the children read is translated (and the other approval checks of the questionnaire)."""
    from instruments import InstrumentError
    from instruments.validate import approve_language
    from survey.services.instrument_store import instrument_for_version

    by = _check_step(state, by)
    instrument = instrument_for_version(record)
    if language not in instrument.language_codes:
        raise TranslationRefused(
            _(
                "This questionnaire has no %(language)s version. Its languages are: %(names)s.",
                language=language_name(language),
                names=", ".join(language_name(c, instrument) for c in instrument.language_codes),
            )
        )
    if state == "approved":
        missing = missing_texts(instrument, language)
        if missing:
            raise TranslationRefused(
                _(
                    "%(count)s texts of the questionnaire have no %(language)s translation yet (for example "
                    "%(where)s). Translate them, import the file again, then approve.",
                    count=len(missing),
                    language=language_name(language, instrument),
                    where="; ".join(missing[:3]),
                )
            )
        try:
            approve_language(instrument, language)
        except InstrumentError as error:
            raise TranslationRefused(
                _(
                    "It cannot be approved yet: %(problems)s",
                    problems=" ".join(issue.message for issue in error.issues[:3]),
                )
            ) from error
    with write_transaction():
        _record(
            questionnaire_subject(instrument),
            language,
            instrument.content_hash,
            state,
            by=by,
            actor=actor,
            note=note,
            demo_only=demo_only,
        )
    return language_state(instrument, language)


def missing_texts(instrument: Instrument, language: str) -> list[str]:
    """Where the questionnaire has a text in its source language but none in ``language``."""
    from instruments.model import NO_NAMES_NOTICE, RESERVED_LABELS, ItemType
    from instruments.validate import child_facing_texts

    default = instrument.settings.default_language
    missing = [where for where, text in child_facing_texts(instrument) if text.get(default) and not text.get(language)]
    if any(item.type is ItemType.TEXT for item in instrument.items) and not NO_NAMES_NOTICE.get(language):
        missing.append("the notice asking children not to write names")
    if any(not label.get(language) for label in RESERVED_LABELS.values()):
        missing.append('the answers "I\'d rather not say" and "I don\'t know"')
    return missing


# ----------------------------------------------------------------------------- consent texts
def text_state(text: ConsentText, *, demo: bool = True) -> State:
    """The review state of one consent-text version.  An approval recorded before the review
    steps existed (``text_approval``) still counts."""
    step = _latest(consent_subject(text), text.language, text.content_hash, demo=demo)
    legacy = None
    if step is None:
        legacy = db.session.scalar(
            sa.select(TextApproval).where(
                TextApproval.text_id == text.text_id, TextApproval.content_hash == text.content_hash
            )
        )
    return _text_state_of(text, step, legacy)


def _text_state_of(text: ConsentText, step: TranslationStep | None, legacy: TextApproval | None) -> State:
    if step is None and legacy is not None:
        return State("approved", legacy.approved_by, dt.datetime.combine(legacy.approved_on, dt.time()))
    return _state_of(step, text.status.value)


def _text_states(texts: list[ConsentText], *, demo: bool) -> list[State]:
    """:func:`text_state` of each text, in two queries (one per text cost ~0.5 s per opening)."""
    steps = sa.select(TranslationStep).where(TranslationStep.subject.in_({consent_subject(t) for t in texts}))
    if not demo:
        steps = steps.where(TranslationStep.demo_only.is_(False))
    latest = {
        (s.subject, s.language, s.content_hash): s for s in db.session.scalars(steps.order_by(TranslationStep.id))
    }
    approvals = sa.select(TextApproval).where(TextApproval.text_id.in_({t.text_id for t in texts}))
    legacy = {(a.text_id, a.content_hash): a for a in db.session.scalars(approvals)}  # unique pairs
    return [
        _text_state_of(
            text,
            latest.get((consent_subject(text), text.language, text.content_hash)),
            legacy.get((text.text_id, text.content_hash)),
        )
        for text in texts
    ]


def reviewed_registry(texts: TextRegistry, *, demo: bool = False) -> TextRegistry:
    """The texts, each ``approved`` exactly when its review says so."""
    registry = TextRegistry(list(texts))
    every = list(texts)
    for text, state in zip(every, _text_states(every, demo=demo), strict=True):
        approved = state.approved_for(demo=demo)
        if approved and text.status is not TextStatus.APPROVED:
            registry.with_status(text.text_id, TextStatus.APPROVED)
        elif not approved and text.status is TextStatus.APPROVED:
            registry.with_status(text.text_id, TextStatus.BACK_TRANSLATED)
    return registry


def set_text_state(
    text_id: str, state: str, *, by: str, actor: User | None = None, note: str = "", demo_only: bool = False
) -> State:
    """Record a review step of one consent-text version (its exact wording)."""
    from survey.services.consent_rules import text_registry

    by = _check_step(state, by)
    if text_id not in text_registry():
        raise TranslationRefused(_("There is no such text."))
    text = text_registry().get(text_id)
    with write_transaction() as session:
        _record(
            consent_subject(text),
            text.language,
            text.content_hash,
            state,
            by=by,
            actor=actor,
            note=note,
            demo_only=demo_only,
        )
        if state == "approved" and not demo_only:
            exists = session.scalar(
                sa.select(TextApproval.id).where(
                    TextApproval.text_id == text_id, TextApproval.content_hash == text.content_hash
                )
            )
            if exists is None:
                session.add(TextApproval(text_id=text_id, content_hash=text.content_hash, approved_by=by))
    return text_state(text)


# ----------------------------------------------------------------------------- consultation words
#: The consultation's own words that children read inside the information and assent texts.
#: They are written in the consultation's first language; each other language needs its own.
CHILD_WORDING = ("organisation", "independent_contact", "contact", "audience", "influence_scope")
#: Names that may stay as they are in every language (a translation is optional).
_NAMES = frozenset({"organisation"})


def _wording(consultation) -> dict:  # a Consultation or a ConsultationRow
    try:
        value = json.loads(consultation.wording or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def wording_in(consultation, language: str | None) -> dict[str, str]:
    """The consultation's child-facing words in ``language`` (its first language: the fields)."""
    words = {name: getattr(consultation, name) or "" for name in CHILD_WORDING}
    if language and language != consultation.language_list[0]:
        given = _wording(consultation).get(language) or {}
        words.update({name: str(given[name]) for name in CHILD_WORDING if str(given.get(name) or "").strip()})
    return words


def given_wording(consultation, language: str) -> dict[str, str]:
    """What has been written in ``language`` so far (nothing filled in from another language)."""
    given = _wording(consultation).get(language) or {}
    return {name: str(given.get(name) or "") for name in CHILD_WORDING}


def missing_wording(consultation, language: str) -> list[str]:
    """The fields a consultation has not yet given in ``language``."""
    if language == consultation.language_list[0]:
        return []
    given = _wording(consultation).get(language) or {}
    return [
        name
        for name in CHILD_WORDING
        if name not in _NAMES and (getattr(consultation, name) or "").strip() and not str(given.get(name) or "").strip()
    ]


def set_wording(consultation, language: str, values: dict[str, str], *, actor: User | None = None) -> None:
    """Keep the consultation's words in one of its other languages."""
    if language not in consultation.language_list[1:]:
        raise TranslationRefused(_("That is not one of this consultation's other languages."))
    with write_transaction() as session:
        record = session.merge(consultation)
        wording = _wording(record)
        wording[language] = {name: " ".join(str(values.get(name) or "").split())[:1000] for name in CHILD_WORDING}
        record.wording = json.dumps(wording, ensure_ascii=False, sort_keys=True)
        audit.record(actor, "consultation.wording", f"consultation:{record.id} {language}")


#: What each field is, for the people writing it.
WORDING_LABELS = {
    "organisation": _l("Who we are (the organisation)"),
    "independent_contact": _l("Someone independent children can tell about a worry"),
    "contact": _l("How to ask questions later"),
    "audience": _l("Who will hear the results"),
    "influence_scope": _l("What the answers can change, and what they cannot"),
}


# ----------------------------------------------------------------------------- opening rules
def interface_languages() -> tuple[str, ...]:
    """Languages Sauti's own pages (buttons, help, end pages) are translated into."""
    return tuple(current_app.config["SUPPORTED_LOCALES"])


def language_steps(consultation, instrument: Instrument, *, demo: bool = False) -> list[tuple[str, str]]:
    """What stops each of the consultation's languages, in plain words with what to do.

    A language may open only when a child choosing it reads every page in it: Sauti's own
    pages, the questionnaire (every text, approved), the information and assent texts for every
    age group, and the helplines.  (Whether the consent texts are approved is checked with the
    other consent rules, in :func:`survey.services.consent_rules.opening_check`.)
    """
    from consent.profiles import helplines_missing_language
    from survey.services.consent_rules import text_registry
    from survey.services.safeguarding import country_profile

    problems: list[tuple[str, str]] = []  # (message, the page that fixes it: see survey.services.setup)
    profile = country_profile(consultation.country_profile)
    texts = text_registry()
    for code in consultation.language_list:
        name = language_name(code, instrument)
        if code not in interface_languages():
            problems.append(
                (
                    _(
                        "Sauti's own pages (buttons, help and the last pages) are not translated into "
                        "%(language)s, so children cannot take part in it. Remove %(language)s from "
                        "the consultation's languages.",
                        language=name,
                    ),
                    "settings",
                )
            )
            continue
        if code not in instrument.language_codes:
            problems.append(
                (
                    _(
                        "The questionnaire has no %(language)s version. Choose a questionnaire "
                        "translated into %(language)s, or remove the language.",
                        language=name,
                    ),
                    "settings",
                )
            )
            continue
        missing = missing_texts(instrument, code)
        if missing:
            problems.append(
                (
                    _(
                        "%(count)s texts of the questionnaire are not translated into %(language)s "
                        "(for example %(where)s). Translate them and import the questionnaire again.",
                        count=len(missing),
                        language=name,
                        where="; ".join(missing[:3]),
                    ),
                    "translations",
                )
            )
        state = language_state(instrument, code, demo=demo)
        if not state.approved_for(demo=demo):
            problems.append(
                (
                    _(
                        "The %(language)s questionnaire is %(state)s, not approved. A reviewer who "
                        "reads %(language)s approves it under Translations.",
                        language=name,
                        state=state.label,
                    ),
                    "translations",
                )
            )
        for band in consultation.band_list:
            for kind, what in (
                (TextKind.CHILD_INFORMATION, _("information for children")),
                (TextKind.ASSENT_SCRIPT, _("assent script")),
            ):
                try:
                    texts.latest(kind, code, band)
                except LookupError:
                    problems.append(
                        (
                            _(
                                "There is no %(what)s in %(language)s for age group %(band)s. "
                                "Add the translation, or remove %(language)s.",
                                what=what,
                                language=name,
                                band=band,
                            ),
                            "texts",
                        )
                    )
        absent = missing_wording(consultation, code)
        if absent:
            problems.append(
                (
                    _(
                        "Children choosing %(language)s would read some of this consultation's own "
                        "words in another language: %(fields)s. Write them in %(language)s under "
                        "Translations, on the consultation's page.",
                        language=name,
                        fields="; ".join(str(WORDING_LABELS[field]) for field in absent),
                    ),
                    "wording",
                )
            )
        lacking = helplines_missing_language(profile, code)
        if lacking:
            problems.append(
                (
                    _(
                        "The country profile does not give the name and opening hours of %(names)s in "
                        "%(language)s. An administrator adds them to the country profile "
                        "(translations).",
                        names=", ".join(lacking),
                        language=name,
                    ),
                    "profile",
                )
            )
    return problems


def language_problems(consultation, instrument: Instrument, *, demo: bool = False) -> list[str]:
    """The messages of :func:`language_steps`."""
    return [message for message, _fix in language_steps(consultation, instrument, demo=demo)]

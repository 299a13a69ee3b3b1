"""`sauti demo`: everything needed to try Sauti on one computer, in one step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_migrate import upgrade

from survey.extensions import db
from survey.models import Consultation, User
from survey.services import accounts, consultations, instrument_store, participants, sessions

DEMO_TITLE = "Demo: how children would like to ask for help"
DEMO_USERS = (("demo-facilitator", "facilitator"), ("demo-analyst", "analyst"), ("demo-admin", "admin"))
#: The demo consultation's team: the facilitator owns and runs it and is its safeguarding lead.
DEMO_TEAM = (
    ("facilitator", "owner"),
    ("facilitator", "facilitator"),
    ("facilitator", "safeguarding"),
    ("analyst", "analyst"),
)


@dataclasses.dataclass
class DemoResult:
    consultation: Consultation
    cards: list[participants.CodeCard]
    new_credentials: dict[str, str]
    existing_users: list[str]
    instrument_note: str
    warnings: tuple[str, ...] = ()
    session_pin: str | None = None

    def describe(self, base_url: str, *, lan: bool = False) -> str:
        lines = [f"Demo consultation: {self.consultation.title} ({self.instrument_note})", ""]
        if self.warnings:
            lines += (
                ["Before a real consultation:"]
                + [f"  ! {w}" for w in self.warnings]
                + [
                    "  ! The demo's code cards are marked as having guardian permission, and the demo",
                    "    facilitator's safe-space checklist and training are taken as confirmed.",
                    "",
                ]
            )
        if self.new_credentials:
            lines.append("Staff accounts (passwords are shown once; write them down):")
            lines += [f"  {name}  password: {password}" for name, password in self.new_credentials.items()]
        for name in self.existing_users:
            lines.append(f"  {name} already exists (new password: sauti users set-password {name})")
        if self.session_pin:
            lines.append(f"A session is running (session PIN, shown once: {self.session_pin}).")
        lines += [
            "",
            f"Staff sign in at {base_url}/staff/sign-in",
            f"Children start at {base_url}/ with one of these codes (shown once;",
            "the second code of each card withdraws a finished response):",
        ]
        lines += [f"  {card.code}    withdrawal: {card.withdrawal_code}" for card in self.cards]
        if not lan:
            lines += [
                "",
                "Phones and tablets cannot reach this address: 127.0.0.1 is this computer itself.",
                "To let children's devices join over the room's Wi-Fi, run `sauti demo --lan`: it",
                "prints this computer's network address (and a QR code), and the code cards carry it.",
            ]
        return "\n".join(lines)


def _demo_details() -> dict:
    """What the children are told about the demo consultation (P-01 fields)."""
    today = dt.date.today()
    return {
        "organisation": "the Sauti demonstration team",
        "contact": "the adult who gave you your card",
        "independent_contact": "the demonstration's safeguarding lead (replace with a real, independent contact)",
        "purpose": "To learn how children would like to ask for help if something online or offline "
        "makes them feel unsafe.",
        "audience": "the people who run help services in this area",
        "influence_scope": "how help services explain themselves to children and how you can reach "
        "them; not the law, and not decisions about any one person",
        "feedback_due": today + dt.timedelta(days=60),
        "analysis_cutoff": today + dt.timedelta(days=30),
        "retention_until": today + dt.timedelta(days=365),
        "site_code": "DEMO-1",
    }


#: The demo consultation's own words in the shipped translations' languages (see _demo_details).
DEMO_WORDING = {
    "fr": {
        "organisation": "l'équipe de démonstration de Sauti",
        "contact": "l'adulte qui t'a donné ta carte",
        "independent_contact": "la personne chargée de la protection des enfants pour cette démonstration",
        "audience": "les personnes qui gèrent les services d'aide de cette région",
        "influence_scope": "la façon dont les services d'aide se présentent aux enfants et dont tu peux "
        "les joindre ; pas la loi, ni les décisions sur une personne en particulier",
    },
    "es": {
        "organisation": "el equipo de demostración de Sauti",
        "contact": "la persona adulta que te dio tu tarjeta",
        "independent_contact": "la persona responsable de la protección infantil de esta demostración",
        "audience": "las personas que dirigen los servicios de ayuda en esta zona",
        "influence_scope": "cómo los servicios de ayuda se explican a los niños y niñas y cómo puedes "
        "contactarlos; no las leyes ni las decisiones sobre una persona concreta",
    },
    "ar": {
        "organisation": "فريق العرض التجريبي",
        "contact": "الشخص البالغ الذي أعطاك بطاقتك",
        "independent_contact": "مسؤول حماية الأطفال في هذا العرض التجريبي",
        "audience": "الأشخاص الذين يديرون خدمات المساعدة في هذه المنطقة",
        "influence_scope": "طريقة تعريف خدمات المساعدة بنفسها للأطفال وكيف يمكنك الوصول إليها، "
        "وليس القانون، ولا القرارات المتعلقة بأي شخص بعينه",
    },
    "sw": {
        "organisation": "timu ya maonyesho ya Sauti",
        "contact": "mtu mzima aliyekupa kadi yako",
        "independent_contact": "mlinzi wa usalama wa watoto wa maonyesho haya",
        "audience": "watu wanaoendesha huduma za msaada katika eneo hili",
        "influence_scope": "jinsi huduma za msaada zinavyojieleza kwa watoto na jinsi unavyoweza "
        "kuzifikia; si sheria, na si maamuzi kuhusu mtu yeyote mmoja",
    },
}
#: Who the demo's approvals name: they count for the demonstration only.
DEMO_REVIEWER = "Sauti demo (not reviewed)"


class DemoLanguageError(ValueError):
    """A language the demonstration consultation cannot run in; the message says which can."""


def demo_languages(instrument, requested: list[str] | None) -> list[str]:  # an Instrument
    """The demo's languages: the requested ones (each one the bundled questionnaire, Sauti's pages
    and the demo's own words have), else the questionnaire's approved ones."""
    from flask import current_app

    if not requested:
        return [language.code for language in instrument.approved_languages] or ["en"]
    source = instrument.settings.default_language
    possible = [
        code
        for code in instrument.language_codes
        if code in current_app.config["SUPPORTED_LOCALES"] and (code == source or code in DEMO_WORDING)
    ]
    wrong = [code for code in requested if code not in possible]
    if wrong:
        raise DemoLanguageError(
            f"The demonstration cannot run in {', '.join(wrong)}; it can run in {', '.join(possible)}."
        )
    return list(dict.fromkeys(requested))


def approve_for_demo(instrument, record, languages: list[str], bands: list[str]) -> list[str]:
    """Approve the shipped translations for the demonstration only (labelled so; they never
    count for a real consultation), and return what to tell the person running the demo."""
    from survey.services import translations
    from survey.services.consent_rules import text_registry

    labelled, texts = [], 0
    for code in languages:
        if not translations.language_state(instrument, code, demo=True).approved_for(demo=True):
            translations.set_language_state(
                record, code, "approved", by=DEMO_REVIEWER, demo_only=True, note="sauti demo --languages"
            )
            labelled.append(translations.language_name(code, instrument))
        for band in bands:
            for kind in ("child_information", "assent_script"):
                text = text_registry().latest(kind, code, band)
                if not translations.text_state(text, demo=True).approved_for(demo=True):
                    translations.set_text_state(
                        text.text_id, "approved", by=DEMO_REVIEWER, demo_only=True, note="sauti demo"
                    )
                    texts += 1
    notes = []
    if labelled:
        notes.append(
            f"{', '.join(labelled)}: the shipped questionnaire translations are approved for this "
            "demonstration only. They are not reviewed, and cannot open a real consultation until a "
            "reviewer approves them (Translations, or sauti instruments approve-language)."
        )
    if texts:
        notes.append(
            "The children's information and assent texts are approved for this demonstration only; "
            "a reviewer approves each one before a real consultation (Translations, or sauti texts "
            "approve)."
        )
    return notes


def example_text_values(language: str) -> dict[str, object]:
    """The demo consultation's values for the consent texts' placeholders, in ``language``: how a
    text reads with real words in it (the review pages show texts filled in with these)."""
    from consent.profiles import helpline_label, helplines_for
    from survey.i18n import isolated
    from survey.services.safeguarding import country_profile

    details = _demo_details()
    words = {
        name: details[name]
        for name in ("organisation", "contact", "independent_contact", "audience", "influence_scope")
    }
    words.update(DEMO_WORDING.get(language, {}))
    helpline = helplines_for(country_profile("generic"), language)[0]
    return {
        **words,
        "minutes": 15,
        "pages": 12,
        "feedback_date": details["feedback_due"],
        "cutoff_date": details["analysis_cutoff"],
        "helpline": isolated(helpline_label(helpline), language),
        "reporting_role": _("our safeguarding lead"),
        "ethics_reference": "-",
        "session_date": dt.date.today(),
        "return_by_date": dt.date.today(),
    }


def set_up_demo(code_count: int = 30, languages: list[str] | None = None) -> DemoResult:
    upgrade()
    credentials: dict[str, str] = {}
    existing: list[str] = []
    users: dict[str, User] = {}
    for username, role in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            password = secrets.token_urlsafe(12)
            user = accounts.create_user(username, password, [role], display_name=f"Demo {role}")
            credentials[username] = password
        else:
            existing.append(username)
        users[role] = user
    stored = instrument_store.store_bundled()
    instrument = instrument_store.instrument_for_version(stored)
    languages = demo_languages(instrument, languages)
    from survey.services.translations import language_name

    title = (
        DEMO_TITLE
        if languages == ["en"]
        else f"{DEMO_TITLE} ({', '.join(language_name(code, instrument) for code in languages)})"
    )
    consultation = db.session.scalar(sa.select(Consultation).where(Consultation.title == title))
    note = f"{instrument.title.get_for('en') or instrument.id}, version {instrument.version}"
    bands = ["A", "B", "C"]
    labels = approve_for_demo(instrument, stored, languages, bands)
    if consultation is None:
        from survey.services.translations import set_wording

        consultation = consultations.create_consultation(
            title=title,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=languages,
            age_bands=bands,
            details=_demo_details(),
        )
        for code in languages[1:]:
            set_wording(consultation, code, DEMO_WORDING[code])
        for account, role in DEMO_TEAM:
            consultations.add_member(consultation, users[account], role)
        warnings = consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
    else:
        warnings = ()
    warnings = tuple(labels) + tuple(warnings)
    pin = _start_demo_session(consultation, users["facilitator"])
    cards = participants.issue_codes(consultation, code_count, permission_seen=True)
    return DemoResult(consultation, cards, credentials, existing, note, warnings, pin)


def _start_demo_session(consultation: Consultation, facilitator: User) -> str | None:
    """A running session, so that the demo's children can use their codes at once."""
    if sessions.open_session(consultation.id) is not None:
        return None
    pin = f"{secrets.randbelow(10**6):06d}"
    sessions.set_pin(consultation, pin, facilitator)
    sessions.start(
        db.session.get(Consultation, consultation.id),
        pin=pin,
        checklist=list(sessions.CHECKLIST),
        trained_on=dt.date.today(),
        today=dt.date.today(),
        actor=facilitator,
    )
    return pin

"""`sauti demo`: everything needed to try Sauti on one computer, in one step."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import sqlalchemy as sa
from flask_migrate import upgrade

from survey.extensions import db
from survey.models import Consultation, User
from survey.services import accounts, consultations, instrument_store, participants, sessions

DEMO_TITLE = "Demo: how children would like to ask for help"
DEMO_USERS = (("demo-facilitator", "facilitator"), ("demo-analyst", "analyst"), ("demo-admin", "admin"))
#: The demo consultation's team: the facilitator owns and runs it and is its safeguarding lead.
DEMO_TEAM = (("facilitator", "owner"), ("facilitator", "facilitator"), ("facilitator", "safeguarding"),
             ("analyst", "analyst"))


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
            lines += ["Before a real consultation:"] + [f"  ! {w}" for w in self.warnings] + [
                "  ! The demo's code cards are marked as having guardian permission, and the demo",
                "    facilitator's safe-space checklist and training are taken as confirmed.", ""]
        if self.new_credentials:
            lines.append("Staff accounts (passwords are shown once; write them down):")
            lines += [f"  {name}  password: {password}" for name, password in self.new_credentials.items()]
        for name in self.existing_users:
            lines.append(f"  {name} already exists (new password: sauti users set-password {name})")
        if self.session_pin:
            lines.append(f"A session is running (session PIN, shown once: {self.session_pin}).")
        lines += ["", f"Staff sign in at {base_url}/staff/sign-in",
                  f"Children start at {base_url}/ with one of these codes (shown once;",
                  "the second code of each card withdraws a finished response):"]
        lines += [f"  {card.code}    withdrawal: {card.withdrawal_code}" for card in self.cards]
        if not lan:
            lines += ["", "Phones and tablets cannot reach this address: 127.0.0.1 is this computer itself.",
                      "To let children's devices join over the room's Wi-Fi, run `sauti demo --lan`: it",
                      "prints this computer's network address (and a QR code), and the code cards carry it."]
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


def set_up_demo(code_count: int = 30) -> DemoResult:
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
    consultation = db.session.scalar(sa.select(Consultation).where(Consultation.title == DEMO_TITLE))
    stored = instrument_store.store_bundled()
    instrument = instrument_store.instrument_for_version(stored)
    languages = [language.code for language in instrument.approved_languages] or ["en"]
    note = f"{instrument.title.get_for('en') or instrument.id}, version {instrument.version}"
    if consultation is None:
        consultation = consultations.create_consultation(
            title=DEMO_TITLE, instrument_id=instrument.id, instrument_version=instrument.version,
            instrument_hash=instrument.content_hash, languages=languages, age_bands=["A", "B", "C"],
            details=_demo_details(),
        )
        for account, role in DEMO_TEAM:
            consultations.add_member(consultation, users[account], role)
        warnings = consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
    else:
        warnings = ()
    pin = _start_demo_session(consultation, users["facilitator"])
    cards = participants.issue_codes(consultation, code_count, permission_seen=True)
    return DemoResult(consultation, cards, credentials, existing, note, warnings, pin)


def _start_demo_session(consultation: Consultation, facilitator: User) -> str | None:
    """A running session, so that the demo's children can use their codes at once."""
    if sessions.open_session(consultation.id) is not None:
        return None
    pin = f"{secrets.randbelow(10**6):06d}"
    sessions.set_pin(consultation, pin, facilitator)
    sessions.start(db.session.get(Consultation, consultation.id), pin=pin, checklist=list(sessions.CHECKLIST),
                   trained_on=dt.date.today(), today=dt.date.today(), actor=facilitator)
    return pin

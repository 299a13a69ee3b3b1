"""`sauti demo`: everything needed to try Sauti on one computer, in one step."""

from __future__ import annotations

import dataclasses
import secrets

import sqlalchemy as sa
from flask_migrate import upgrade

from survey.extensions import db
from survey.models import Consultation, User
from survey.services import accounts, consultations, participants

DEMO_TITLE = "Demo: how should reporting work for children?"
DEMO_USERS = (("demo-facilitator", "facilitator"), ("demo-analyst", "analyst"))


@dataclasses.dataclass
class DemoResult:
    consultation: Consultation
    codes: list[str]
    new_credentials: dict[str, str]
    existing_users: list[str]
    instrument_note: str

    def describe(self, base_url: str) -> str:
        lines = [f"Demo consultation: {self.consultation.title} ({self.instrument_note})", ""]
        if self.new_credentials:
            lines.append("Staff accounts (passwords are shown once; write them down):")
            lines += [f"  {name}  password: {password}" for name, password in self.new_credentials.items()]
        for name in self.existing_users:
            lines.append(f"  {name} already exists (new password: sauti users set-password {name})")
        lines += ["", f"Staff sign in at {base_url}/staff/sign-in",
                  f"Children start at {base_url}/ with one of these codes (shown once):"]
        lines += [f"  {code}" for code in self.codes]
        return "\n".join(lines)


def _demo_instrument() -> tuple[str, str, str, list[str], str]:
    """The bundled consultation when the instruments package ships it."""
    try:
        from instruments import load_bundled

        instrument = load_bundled("reporting-mechanisms")
    except (ImportError, LookupError):
        return "demo", "0", "", ["en"], "a small demo instrument"
    languages = [lang.code for lang in instrument.languages if lang.status == "approved"] or ["en"]
    return instrument.id, str(instrument.version), instrument.content_hash, languages, "bundled instrument"


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
    instrument_id, version, content_hash, languages, note = _demo_instrument()
    if consultation is None:
        consultation = consultations.create_consultation(
            title=DEMO_TITLE, instrument_id=instrument_id, instrument_version=version,
            instrument_hash=content_hash, languages=languages, age_bands=["A", "B", "C"],
        )
        for role, user in users.items():
            consultations.add_member(consultation, user, role)
        consultations.set_state(consultation, "open")
    codes = participants.issue_codes(consultation, code_count)
    return DemoResult(consultation, codes, credentials, existing, note)

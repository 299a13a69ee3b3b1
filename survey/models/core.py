"""Accounts, consultations, children and what they answer, safeguarding signals and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from survey.extensions import Model
from survey.states import (
    CardState,
    ConcernStatus,
    ConsultationState,
    SessionState,
    SignalStatus,
    State,
    enum_column,
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


class User(UserMixin, Model):
    """A staff account (administrator, facilitator or analyst).  Never a child."""

    __tablename__ = "staff_user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    # Space-separated roles from survey.config.ROLES; a small team may hold several.
    roles: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    sessions: so.Mapped[list[StaffSession]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    memberships: so.Mapped[list[Membership]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Set at sign-in or when a session is loaded: Flask-Login stores get_id() in the cookie,
    # and what it stores is the server-side session token, not the user id (alternative tokens).
    session_token = None  # not a column: see above

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str | None:  # Flask-Login
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.username} {self.roles}>"


class StaffSession(Model):
    """A signed-in staff session, so that sign-out and idle time-out end it on the server."""

    __tablename__ = "staff_session"

    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    user: so.Mapped[User] = so.relationship(back_populates="sessions")


class Consultation(Model):
    """One consultation with a group of children, run from one instrument version."""

    __tablename__ = "consultation"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    instrument_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    instrument_version: so.Mapped[str] = so.mapped_column(sa.String(40))
    instrument_hash: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # Names the screening removes from open answers (class lists are never stored: staff may
    # type the first names that are likely to come up, such as teachers' or local places').
    screening_deny_list: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # Space-separated language codes and age-band codes offered to children.
    languages: so.Mapped[str] = so.mapped_column(sa.String(100), default="en")
    age_bands: so.Mapped[str] = so.mapped_column(sa.String(20), default="A B C")
    country_profile: so.Mapped[str] = so.mapped_column(sa.String(60), default="generic")
    # The guardian-permission mode; empty means the country profile's own rule.
    consent_mode: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    facilitated: so.Mapped[bool] = so.mapped_column(default=True)
    # A shared device (tablet passed round, school laptop): nothing kept in the browser, and
    # every ending returns to a neutral start screen.
    shared_device: so.Mapped[bool] = so.mapped_column(default=False)
    # school | community | online
    setting: so.Mapped[str] = so.mapped_column(sa.String(20), default="school")
    site_code: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    research_mode: so.Mapped[bool] = so.mapped_column(default=False)
    ethics_reference: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # What children are told before they choose (P-01, P-02).
    organisation: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    purpose: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    audience: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    influence_scope: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    contact: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # Someone outside the team a child or parent can go to with a concern.
    independent_contact: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # Those words in the consultation's other languages (its first language is the columns'
    # own), as JSON: {"sw": {"audience": ..., "influence_scope": ...}, ...}; see
    # survey.services.translations (a consultation opens in a language only with them).
    wording: so.Mapped[str] = so.mapped_column(sa.Text, default="{}", server_default="{}")
    # argon2 hash of the PIN a facilitator enters to start a session with children (F-01).
    session_pin_hash: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    # The exact consent-text versions bound when the consultation opened (C-06), as JSON:
    # {"child_information/en/B": {"text_id": ..., "content_hash": ...}, ...}
    text_bindings: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    feedback_due: so.Mapped[dt.date | None] = so.mapped_column()
    analysis_cutoff: so.Mapped[dt.date | None] = so.mapped_column()
    retention_until: so.Mapped[dt.date | None] = so.mapped_column()
    # The feedback tracker (P-04): when children actually heard back, and in which formats
    # (e.g. "feedback sheet, class visit"); overdue = due date passed with no date here.
    feedback_given_on: so.Mapped[dt.date | None] = so.mapped_column()
    feedback_formats: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    state: so.Mapped[str] = so.mapped_column(
        enum_column(ConsultationState, "state", 20), default=ConsultationState.DRAFT
    )
    created_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())

    memberships: so.Mapped[list[Membership]] = so.relationship(
        back_populates="consultation", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def language_list(self) -> list[str]:
        return self.languages.split()

    @property
    def band_list(self) -> list[str]:
        return self.age_bands.split()


#: A consultation's settings: what a copy takes (services.consultations.clone) and, but the site, what
#: a field package carries (services.sync); never children's data, bindings, state or feedback records.
CLONED_FIELDS = (
    "instrument_id",
    "instrument_version",
    "instrument_hash",
    "screening_deny_list",
    "languages",
    "age_bands",
    "country_profile",
    "consent_mode",
    "facilitated",
    "shared_device",
    "setting",
    "site_code",
    "research_mode",
    "ethics_reference",
    "organisation",
    "purpose",
    "audience",
    "influence_scope",
    "contact",
    "independent_contact",
    "wording",
    "session_pin_hash",
    "feedback_due",
    "analysis_cutoff",
    "retention_until",
)


class Membership(Model):
    """The consultation's team: which staff member works on it, and as what."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "consultation_id", "role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    # owner | facilitator | analyst | safeguarding (survey.access.TEAM_ROLES)
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    # Who put this person on the team, and on which day (the audit log has the full history).
    added_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="", server_default="")
    added_on: so.Mapped[dt.date | None] = so.mapped_column(default=lambda: utcnow().date())

    user: so.Mapped[User] = so.relationship(back_populates="memberships")
    consultation: so.Mapped[Consultation] = so.relationship(back_populates="memberships")


class Participant(Model):
    """A code card and the child who uses it: no identity, only a state and an age band."""

    __tablename__ = "participant"

    # Random, so insertion order cannot be recovered from ids (DP-02).
    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    # HMAC of the normalised code, keyed with the app secret: indexable, never reversible.
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # issued -> assented -> answering -> completed | withdrawn | declined | expired
    state: so.Mapped[str] = so.mapped_column(enum_column(State, "state", 20), default=State.ISSUED)
    band: so.Mapped[str | None] = so.mapped_column(sa.String(4))
    # The number printed on the card, so a facilitator can mark a card without any name.
    card_number: so.Mapped[int] = so.mapped_column(default=0)
    # Guardian permission for this card: issued | permission_seen | withheld (consent.permission).
    permission: so.Mapped[str] = so.mapped_column(enum_column(CardState, "permission", 20), default=CardState.ISSUED)
    # Keyed hash of the withdrawal code on the card's tear-off (C-09).
    withdrawal_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    language: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    # A seat or station label the child may give in facilitated sessions, never a name.
    seat_label: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    # The site a field card was assigned to (a field laptop's school or centre; "" otherwise):
    # a disaggregation of the results, suppressed like any other small group.
    site: so.Mapped[str] = so.mapped_column(sa.String(60), default="", server_default="")
    # Where to resume: the index of the page among those shown to this child.
    page_index: so.Mapped[int] = so.mapped_column(default=0)
    issued_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    last_active_on: so.Mapped[dt.date | None] = so.mapped_column()

    consultation: so.Mapped[Consultation] = so.relationship()
    answers: so.Mapped[list[Answer]] = so.relationship(
        back_populates="participant", cascade="all, delete-orphan", passive_deletes=True
    )


class AssentEvent(Model):
    """An affirmative assent: which text version a child saw, and the date (C-02, C-06).

    Kept apart from answers with no link to the participant (C-10): the participant's
    ``assented`` state is the gate, and this record documents that the gate was passed with
    this exact text.  A "No" stores no event, only the card's ``declined`` state (a count), and
    a later withdrawal leaves the record (it holds nothing the child said).
    """

    __tablename__ = "assent_event"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    text_id: so.Mapped[str] = so.mapped_column(sa.String(80))
    text_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10))
    method: so.Mapped[str] = so.mapped_column(sa.String(20), default="screen")
    recorded_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    holder_tag: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)


class Answer(Model):
    """One item's answer: a choice code, a number, text, or a JSON list for multi/rank/matrix.

    An answer given in a repeat's instance carries its number (``instance`` from 1; 0 outside
    repeats) and, in a repeat inside another, the outer instance's number
    (``parent_instance``). A repeat the child sizes keeps its number of instances as an
    answer under the repeat's own name.
    """

    __tablename__ = "answer"
    __table_args__ = (sa.UniqueConstraint("participant_id", "item", "parent_instance", "instance"),)

    # Random ids: the order answers were saved in cannot be read back (DP-02).
    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    participant_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    item: so.Mapped[str] = so.mapped_column(sa.String(120))
    value: so.Mapped[str] = so.mapped_column(sa.Text)
    saved_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    instance: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    parent_instance: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    participant: so.Mapped[Participant] = so.relationship(back_populates="answers")


class PageSave(Model):
    """A page submission already applied: a repeated POST of the same token stores nothing twice."""

    __tablename__ = "page_save"

    token: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    participant_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))


class FacilitationSession(Model):
    """One facilitated session with a group, and its non-identifying log (F-01, F-03).

    Kept apart from responses: no link to any participant; the log holds counts, a setting and
    a referral category, never free text.
    """

    __tablename__ = "facilitation_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    facilitator_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    started_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    training_attested_on: so.Mapped[dt.date]
    # The safe-space checklist items confirmed at the start, space-separated.
    checklist: so.Mapped[str] = so.mapped_column(sa.String(200))
    state: so.Mapped[str] = so.mapped_column(enum_column(SessionState, "state", 10), default=SessionState.OPEN)
    closed_on: so.Mapped[dt.date | None] = so.mapped_column()
    number_present: so.Mapped[int | None] = so.mapped_column()
    incident: so.Mapped[bool] = so.mapped_column(default=False)
    referral_category: so.Mapped[str] = so.mapped_column(sa.String(30), default="")
    # Counts at closing, as JSON: by band, declined, stopped early, completed, signals.
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")


class Signal(Model):
    """ "I'd like to talk to someone": a seat label and a time for the facilitator, nothing else.

    Deliberately not linked to the participant, so no path leads from a signal to answers (S-07);
    ``holder_tag`` (as on :class:`AssentEvent`) lets the child's own deletion find it.
    """

    __tablename__ = "signal"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    seat_label: so.Mapped[str] = so.mapped_column(sa.String(20), default="")
    # Minutes are enough for "a child at table 3 asked two minutes ago".
    raised_at: so.Mapped[dt.datetime] = so.mapped_column(default=lambda: utcnow().replace(second=0, microsecond=0))
    status: so.Mapped[str] = so.mapped_column(enum_column(SignalStatus, "status", 20), default=SignalStatus.OPEN)
    holder_tag: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)


class ConcernFlag(Model):
    """A screened open answer that matched a concern term, for the safeguarding lead (S-06).

    It keeps only what the lead needs to help: the concern categories, the date, the question,
    the redacted excerpt and, in a facilitated session, the session and the seat label the child
    gave.  It is not linked to the participant, so it outlives the child's stop-and-delete (the
    child is told a short note may be kept so that someone can help), and it is deleted
    ``retention.safeguarding_days`` after the lead resolves it (:mod:`survey.services.retention`).
    """

    __tablename__ = "concern_flag"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    item: so.Mapped[str] = so.mapped_column(sa.String(120))
    excerpt: so.Mapped[str] = so.mapped_column(sa.Text)
    concerns: so.Mapped[str] = so.mapped_column(sa.String(400), default="")
    flagged_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # reviewed: resolved by the lead on resolved_on
    status: so.Mapped[str] = so.mapped_column(enum_column(ConcernStatus, "status", 20), default=ConcernStatus.OPEN)
    resolved_on: so.Mapped[dt.date | None] = so.mapped_column()
    session_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("facilitation_session.id", ondelete="SET NULL"))
    seat_label: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")


class TextApproval(Model):
    """An administrator approved this exact consent-text version (kind, language, band, hash)."""

    __tablename__ = "text_approval"
    __table_args__ = (sa.UniqueConstraint("text_id", "content_hash"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    text_id: so.Mapped[str] = so.mapped_column(sa.String(80))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    approved_by: so.Mapped[str] = so.mapped_column(sa.String(80))
    approved_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())


class InstrumentVersion(Model):
    """An instrument version stored in the database, in the native YAML format."""

    __tablename__ = "instrument_version"
    __table_args__ = (sa.UniqueConstraint("instrument_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    instrument_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    version: so.Mapped[str] = so.mapped_column(sa.String(40))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    document: so.Mapped[str] = so.mapped_column(sa.Text)
    approved: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class AuditEvent(Model):
    """Staff actions (who did what to which object, when).  Never children's answers."""

    __tablename__ = "audit_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    actor_name: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    target: so.Mapped[str] = so.mapped_column(sa.String(200), default="")

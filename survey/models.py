"""Database models (SQLAlchemy 2 typed).  No commits here and no request access.

What is deliberately absent: no column anywhere holds a child's name, date of birth, contact
details, IP address, user agent or exact timestamp (BRIEF non-negotiable 2).  Children appear
only as a :class:`Participant`: a random id, the hash of their card's code, a state and an age
band.  ``tests/survey/test_schema_privacy.py`` checks the schema for such columns.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from survey.extensions import Model
from survey.states import (
    CardState,
    ChecklistStatus,
    ConcernStatus,
    ConsultationState,
    Decision,
    SessionState,
    SheetState,
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


# ----------------------------------------------------------------------------- programme records
# What the programme team records about a consultation (P-03, P-04, P-06, A-04, A-05).  None of
# these tables holds anything a child said: staff write them, and the audit log keeps who
# changed what.  Staff are named by username text, not by a key, so no join path leads from
# them to a staff account and the records survive an account's removal.


class ChecklistAnswer(Model):
    """One answer of the Lundy process checklist or the GC12 self-assessment (P-06)."""

    __tablename__ = "checklist_answer"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "checklist", "question"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    # lundy | gc12
    checklist: so.Mapped[str] = so.mapped_column(sa.String(10))
    # The key of the question or requirement (survey.services.programme.LUNDY_QUESTIONS, GC12).
    question: so.Mapped[str] = so.mapped_column(sa.String(40))
    status: so.Mapped[str] = so.mapped_column(enum_column(ChecklistStatus, "status", 10))
    evidence: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    updated_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")


class InfluenceEntry(Model):
    """One child-derived recommendation and what was decided about it (P-03)."""

    __tablename__ = "influence_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    recommendation: so.Mapped[str] = so.mapped_column(sa.Text)
    # The released finding it comes from, in the team's words (never a child's quote).
    source_finding: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    decision: so.Mapped[str] = so.mapped_column(enum_column(Decision, "decision", 10), default=Decision.PENDING)
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    owner: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    decided_on: so.Mapped[dt.date | None] = so.mapped_column()
    recorded_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    recorded_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")


class FeedbackSheetRecord(Model):
    """The staff-written parts of one child-friendly feedback sheet, and its sign-off (A-05).

    "What you told us" is not stored: it is computed from released tables whenever the sheet
    is shown.  Editing a released sheet returns it to draft, so a release always covers the
    exact text that was signed off.
    """

    __tablename__ = "feedback_sheet"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "band", "language"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    band: so.Mapped[str] = so.mapped_column(sa.String(4))
    language: so.Mapped[str] = so.mapped_column(sa.String(12))
    # One point per line.
    will_change: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # One point per line, "what | why".
    cant_change: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    next_update: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    state: so.Mapped[str] = so.mapped_column(enum_column(SheetState, "state", 10), default=SheetState.DRAFT)
    updated_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    # The sign-off record (analysis.feedback.SignOff), set when the sheet is released.
    reviewer: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    reviewer_role: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    signed_on: so.Mapped[dt.date | None] = so.mapped_column()
    trauma_screen_done: so.Mapped[bool] = so.mapped_column(default=False)
    readability_override: so.Mapped[str] = so.mapped_column(sa.Text, default="")


class StoredProfile(Model):
    """A country profile uploaded by an administrator (YAML, validated by consent.profiles).

    Takes precedence over a bundled profile of the same id; consultations name profiles by id.
    """

    __tablename__ = "country_profile_document"

    profile_id: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    document: so.Mapped[str] = so.mapped_column(sa.Text)
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    updated_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")


class SigninFailure(Model):
    """Failed staff sign-ins under one key (an account, an account from one client, or one
    client), kept in the database so that every worker process counts the same failures.

    The key is a keyed hash (HMAC with the app's secret key): no username or address is stored.
    Rows are deleted once their failures are forgotten (survey/services/accounts.py).
    """

    __tablename__ = "signin_failure"

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    # The account's own key, so an administrator's unlock can find every row of the account.
    account_key: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)
    last_failure_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    blocked_until: so.Mapped[dt.datetime | None] = so.mapped_column()


class Release(Model):
    """One frozen release of a consultation's results (the release ledger, issue 15).

    Pages, reports and feedback sheets show a release, never the live answers.  ``content`` is
    the JSON of :func:`analysis.release.build_release`: every published table exactly as it was
    published, so a release is reproducible and the next one can be checked against it.  Staff
    metadata only: nothing here identifies a child.
    """

    __tablename__ = "release"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int] = so.mapped_column()
    # A date, like every other date stored beside children's answers (no time of day).
    made_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    made_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    # Who the release is for (e.g. "programme team"), and why it was made (analyst | closed | cli).
    audience: so.Mapped[str] = so.mapped_column(sa.String(120), default="programme team")
    reason: so.Mapped[str] = so.mapped_column(sa.String(20), default="analyst")
    n_children: so.Mapped[int] = so.mapped_column(default=0)
    rules: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    content: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")

    tables: so.Mapped[list[ReleaseTable]] = so.relationship(
        back_populates="release", cascade="all, delete-orphan", passive_deletes=True
    )


class ReleaseTable(Model):
    """One table published in a release: its population, size and released cells (JSON)."""

    __tablename__ = "release_table"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    release_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("release.id", ondelete="CASCADE"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    title: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    population: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    n: so.Mapped[int] = so.mapped_column(default=0)
    cells: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")

    release: so.Mapped[Release] = so.relationship(back_populates="tables")


class ExportApproval(Model):
    """Approval of record-level exports that hold answers to sensitive (S2/S3) questions (DP-07).

    Who approved, why and when (the day; the audit log's ``export.approve`` event has the
    time); the export is allowed until ``valid_until``.  Staff are named by username text, as in the other
    programme records.
    """

    __tablename__ = "export_approval"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    approved_by: so.Mapped[str] = so.mapped_column(sa.String(80))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    approved_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    valid_until: so.Mapped[dt.date] = so.mapped_column()


class WrittenAnswerRead(Model):
    """The safeguarding lead has read this written answer as it now stands.

    Screening catches most disclosures but not all (a child may describe what happened without a
    word any rule knows), so every written answer also waits in the lead's reading list until it
    has been read.  The digest is of the value that was read: an answer the child changes after
    that is unread again.  The row goes with the answer (a child's deletion removes both).
    """

    __tablename__ = "written_answer_read"

    answer_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    value_digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    read_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())


class ApiToken(Model):
    """A personal access token for the API (issue 23), created by a staff member in the console.

    Only the SHA-256 of the token is kept (the token itself is shown once, when it is made);
    ``prefix`` is its first characters, so its owner can tell tokens apart.  A token acts for its
    owner with at most its ``scopes`` (space-separated, :data:`survey.services.api_tokens.SCOPES`)
    and never more than the owner's current roles allow; it stops working at ``expires_on``, on
    revocation, or when the account is disabled.
    """

    __tablename__ = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    scopes: so.Mapped[str] = so.mapped_column(sa.String(120))
    created_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    expires_on: so.Mapped[dt.date] = so.mapped_column()
    revoked_on: so.Mapped[dt.date | None] = so.mapped_column()
    last_used_on: so.Mapped[dt.date | None] = so.mapped_column()

    user: so.Mapped[User] = so.relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class TranslationStep(Model):
    """One step of a translation's review (D-07): a questionnaire language or a consent text
    reached ``state`` (draft, translated, back_translated, reviewed, approved), said by whom and
    when.  The latest step for the exact content (``content_hash``) is the translation's state;
    a ``demo_only`` approval counts for a demonstration consultation and never for a real one.
    The rules live in :mod:`survey.services.translations`; the audit log has each step too."""

    __tablename__ = "translation_step"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # "questionnaire:<instrument id>@<version>" or "consent:<text id>"
    subject: so.Mapped[str] = so.mapped_column(sa.String(200), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(12))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    state: so.Mapped[str] = so.mapped_column(sa.String(20))
    demo_only: so.Mapped[bool] = so.mapped_column(default=False)
    by: so.Mapped[str] = so.mapped_column(sa.String(80))
    at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), default="")


# ----------------------------------------------------------------------------- field laptops
# Issue 22: laptops in schools run `sauti serve` on SQLite without internet and hand their data
# to the central server in signed, encrypted bundles (survey/sync/, survey/services/sync/).
# The first four tables live on the central server, the last two on a laptop; both sides have
# them all (one schema).  No table holds anything identifying a child.


class SyncPackage(Model):
    """Central: a field package made for one consultation and one site (and one laptop)."""

    __tablename__ = "sync_package"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    site: so.Mapped[str] = so.mapped_column(sa.String(60))
    made_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    expires_on: so.Mapped[dt.date] = so.mapped_column()
    made_by: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    # SHA-256 of the enrolment token the laptop shows once to register its device key.
    enrol_hash: so.Mapped[str] = so.mapped_column(sa.String(64))


class SyncDevice(Model):
    """Central: a field laptop's registered signing key (Ed25519), for one package."""

    __tablename__ = "sync_device"

    # The hex of the first 16 bytes of SHA-256 of the public key.
    id: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    public_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    package_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_package.id", ondelete="CASCADE"), unique=True)
    # active | revoked
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="active")
    registered_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # The newest bundle imported from this device (bundles must come in increasing order).
    last_sequence: so.Mapped[int] = so.mapped_column(default=0)


class FieldCard(Model):
    """Central: a code card assigned to a site, with its code hashes under the site's key.

    The field package carries these hashes (the laptop checks typed codes against them); the
    participant row keeps the central server's own hashes.  ``laptop_id`` is the laptop whose
    bundle first used the card: the central server is the authority, so no other device's
    answers for the card are accepted.
    """

    __tablename__ = "field_card"

    participant_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True
    )
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    site: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    withdrawal_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    laptop_id: so.Mapped[str | None] = so.mapped_column(sa.String(32))


class SyncImport(Model):
    """Central: one bundle imported from a device, with the counts of what it changed."""

    __tablename__ = "sync_import"
    __table_args__ = (sa.UniqueConstraint("laptop_id", "sequence"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    laptop_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_device.id", ondelete="CASCADE"))
    sequence: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    imported_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    counts: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")


class SyncedRecord(Model):
    """Central: a row made from a bundle, by its global id (``device:kind:local id``).

    Concern records, session logs and audit entries have local integer ids on the laptop; this
    table maps each to the row made for it, so the same or an overlapping bundle never makes a
    second one.  (Participants, answers, page saves and assent events carry global ids already.)
    """

    __tablename__ = "synced_record"

    global_id: so.Mapped[str] = so.mapped_column(sa.String(120), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    local_id: so.Mapped[str] = so.mapped_column(sa.String(64))


class SyncUpload(Model):
    """Central: a bundle arriving in chunks (``sauti sync push``), resumable from ``received``."""

    __tablename__ = "sync_upload"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    laptop_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("sync_device.id", ondelete="CASCADE"))
    size: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    received: so.Mapped[int] = so.mapped_column(default=0)
    started_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())


class FieldPackage(Model):
    """Laptop: an imported field package, and where this laptop's hand-over stands."""

    __tablename__ = "field_package"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    consultation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    central_consultation_id: so.Mapped[int] = so.mapped_column()
    site: so.Mapped[str] = so.mapped_column(sa.String(60))
    central_url: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # The central server's public keys (hex): Ed25519 for signatures, X25519 for sealed boxes.
    central_sign_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    central_box_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The site's key for code hashes (hex), so typed codes can be checked here.
    code_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    expires_on: so.Mapped[dt.date] = so.mapped_column()
    imported_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # The enrolment token, kept only until the central server registered this laptop's key.
    enrol_token: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    # The device id (from this laptop's key), and whether the central server registered it.
    laptop_id: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    registered: so.Mapped[bool] = so.mapped_column(default=False)
    # The newest bundle made, and the newest the central server confirmed with a signed receipt.
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    confirmed: so.Mapped[int] = so.mapped_column(default=0)


class FieldBundle(Model):
    """Laptop: one bundle made here, and what its signed receipt allows this laptop to delete."""

    __tablename__ = "field_bundle"
    __table_args__ = (sa.UniqueConstraint("package_id", "sequence"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    package_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("field_package.id", ondelete="CASCADE"))
    sequence: so.Mapped[int] = so.mapped_column()
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
    made_on: so.Mapped[dt.date] = so.mapped_column(default=lambda: utcnow().date())
    # JSON: [participant, state] of the responses this bundle carried finished (or ended), and
    # the concern records it carried; deleted here ``field_copy_days`` after the receipt (a
    # participant only if still in the state sent: a later withdrawal waits for its bundle).
    finished: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    concerns: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    receipt: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    confirmed_on: so.Mapped[dt.date | None] = so.mapped_column()
    purged: so.Mapped[bool] = so.mapped_column(default=False)

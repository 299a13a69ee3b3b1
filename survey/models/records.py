"""What staff record: programme records, stored profiles, releases, export approvals, API tokens,
translation review."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.extensions import Model
from survey.models.core import User, utcnow
from survey.states import (
    ChecklistStatus,
    Decision,
    SheetState,
    enum_column,
)

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

"""Approval records for record-level exports of sensitive items (DP-07).

Record-level (de-identified) exports always pass the microdata risk check.  When the export
holds answers to sensitive questions (sensitivity S2 or S3: feelings about telling, harm
scenarios), it also needs an approval: an administrator records who approves, why, and when;
the approval lasts :data:`APPROVAL_DAYS` days.  The record is kept in the database and the
audit log (``export.approve``); each export it allows is audited with the approval's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from analysis.exports import sensitive_items
from analysis.frames import ItemMeta
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, ExportApproval, User, utcnow
from survey.services import audit

#: How long an approval allows sensitive record-level exports (days, the approval day included).
APPROVAL_DAYS = 30
#: The shortest reason accepted: a reason is a sentence, not "ok".
MIN_REASON = 20


class ApprovalError(ValueError):
    """The approval could not be recorded (the message is for the person who tried)."""


class ApprovalRequired(PermissionError):
    """A sensitive record-level export was asked for without a current approval."""

    def __init__(self, consultation_id: int, items: tuple[str, ...]) -> None:
        super().__init__(f"consultation {consultation_id}: sensitive items {', '.join(items)}")
        self.consultation_id = consultation_id
        self.items = items

    def __reduce__(self):  # comes back from the report helper process as itself
        return (type(self), (self.consultation_id, self.items))


def approvals(consultation_id: int) -> list[ExportApproval]:
    """Every approval recorded for the consultation, newest first."""
    query = (
        sa.select(ExportApproval)
        .where(ExportApproval.consultation_id == consultation_id)
        .order_by(ExportApproval.approved_on.desc(), ExportApproval.id.desc())
    )
    return list(db.session.scalars(query))


def current(consultation_id: int, today: dt.date | None = None) -> ExportApproval | None:
    """The newest approval still valid ``today``, if any."""
    today = today or utcnow().date()
    query = (
        sa.select(ExportApproval)
        .where(ExportApproval.consultation_id == consultation_id, ExportApproval.valid_until >= today)
        .order_by(ExportApproval.approved_on.desc(), ExportApproval.id.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def require(
    consultation_id: int, codebook: Mapping[str, ItemMeta], today: dt.date | None = None
) -> ExportApproval | None:
    """The approval a record-level export of ``codebook``'s items needs (None when none does).

    Raises :class:`ApprovalRequired` when the export holds sensitive items and no approval
    is current.
    """
    items = tuple(sensitive_items(codebook))
    if not items:
        return None
    approval = current(consultation_id, today)
    if approval is None:
        raise ApprovalRequired(consultation_id, items)
    return approval


def approve(consultation: Consultation, *, reason: str, actor: User, today: dt.date | None = None) -> ExportApproval:
    """Record an administrator's approval (who, why, when), in the database and the audit log."""
    if actor is None or not actor.has_role("admin"):
        raise ApprovalError(_l("Only an administrator can approve exports of sensitive answers."))
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ApprovalError(
            _l("Write why the export is needed and who will use it (at least %(n)s characters).", n=MIN_REASON)
        )
    today = today or utcnow().date()
    with write_transaction() as session:
        record = ExportApproval(
            consultation_id=consultation.id,
            approved_by=actor.username,
            reason=reason[:2000],
            approved_on=today,
            valid_until=today + dt.timedelta(days=APPROVAL_DAYS - 1),
        )
        session.add(record)
        session.flush()
        audit.record(
            actor, "export.approve", f"consultation:{consultation.id} approval:{record.id} until:{record.valid_until}"
        )
    return record

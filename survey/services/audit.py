"""The staff audit log: who did what to which object.  Nothing of children's answers."""

from __future__ import annotations

from survey.extensions import db
from survey.models import AuditEvent, User


def record(actor: User | None, action: str, target: str = "") -> None:
    """Add an audit event to the current transaction (the caller's service commits it)."""
    db.session.add(
        AuditEvent(
            actor_id=actor.id if actor is not None else None,
            actor_name=actor.username if actor is not None else "",
            action=action,
            target=target[:200],
        )
    )


def recent(*, page: int = 1, per_page: int = 50, action: str = "") -> tuple[list[AuditEvent], bool]:
    """A page of audit events, newest first; ``action`` filters by prefix (e.g. ``signin``)."""
    import sqlalchemy as sa

    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    rows = list(db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page

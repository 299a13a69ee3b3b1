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

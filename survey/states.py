"""Every state and decision a record can be in: one enum each, the only place its values are written.

The models store them through :func:`enum_column` (a ``VARCHAR`` with a ``CHECK`` constraint, the
same on SQLite and PostgreSQL), so the database refuses any other value.  A participant's state and
their card's permission are the consent rules' own :class:`consent.states.State` and
:class:`consent.permission.CardState` (the rules own them).  Each is a
``StrEnum``: a member equals its value, so ``record.state == "open"`` and JSON keep working.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from consent.permission import CardState
from consent.states import State

__all__ = [
    "CardState",
    "ChecklistStatus",
    "ConcernStatus",
    "ConsultationState",
    "Decision",
    "SessionState",
    "SheetState",
    "SignalStatus",
    "State",
    "enum_column",
]


class ConsultationState(StrEnum):
    """A consultation: draft -> open -> closed -> archived."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class SessionState(StrEnum):
    """A facilitated session: open -> closed."""

    OPEN = "open"
    CLOSED = "closed"


class SignalStatus(StrEnum):
    """An "I'd like to talk to someone" signal: open -> acknowledged -> resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class ConcernStatus(StrEnum):
    """A screened open answer for the safeguarding lead: open -> reviewed."""

    OPEN = "open"
    REVIEWED = "reviewed"


class ChecklistStatus(StrEnum):
    """An answer to a checklist question (Lundy model, GC12)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Decision(StrEnum):
    """What was decided about a child-derived recommendation (the influence log)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    PARTLY = "partly"
    REJECTED = "rejected"


class SheetState(StrEnum):
    """A feedback sheet: draft -> released (editing a released sheet makes it a draft again)."""

    DRAFT = "draft"
    RELEASED = "released"


def enum_column(enum: type[StrEnum], name: str, length: int) -> sa.Enum:
    """The column type that stores ``enum``'s values in a ``VARCHAR(length)`` with a ``CHECK``.

    ``name`` names the constraint (``ck_<table>_<name>`` by the naming convention).
    """
    return sa.Enum(
        enum,
        name=name,
        length=length,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=_values,
    )


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]

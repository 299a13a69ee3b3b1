"""The child's session on this device: which participant it is, read once per request.

:mod:`survey.access` (the consent gate) and :mod:`survey.services.participants` (entering a code,
leaving) both use it; it imports neither, so they do not import each other.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa
from flask import g, session

from consent.states import RESUMABLE_STATES
from survey import child_connection
from survey.models import Consultation, Participant

#: The session key that holds the participant's id (nothing else about the child is kept there).
CHILD_SESSION_KEY = "child"


def _row_class(
    model: type[Any], name: str, *, extra: tuple[tuple[str, Any], ...] = (), properties: tuple[str, ...] = ()
) -> Any:  # a dataclass made at run time
    """A frozen dataclass with one field per column of ``model`` (same names, same order), plus
    ``extra`` fields and the model's own read-only ``properties``."""
    columns: list[tuple[str, Any]] = [(prop.key, object) for prop in sa.inspect(model).column_attrs]
    namespace = {prop: model.__dict__[prop] for prop in properties}
    cls = dataclasses.make_dataclass(name, [*columns, *extra], frozen=True, slots=True, namespace=namespace)
    cls.__doc__ = f"A {model.__name__} row as one request read it: read-only, in no ORM session."
    return cls


#: What a child's request reads of their consultation (``band_list`` and ``language_list`` are
#: the model's own properties).  Services take it wherever they take a Consultation to read.
_CONSULTATION_ROW = _row_class(Consultation, "ConsultationRow", properties=("band_list", "language_list"))
#: What a child's request reads of the participant, with their consultation.  To change the
#: participant, a service loads the ORM record inside its write transaction
#: (:func:`survey.services.participants.record_of`).
_PARTICIPANT_ROW = _row_class(Participant, "ParticipantRow", extra=(("consultation", _CONSULTATION_ROW),))
if TYPE_CHECKING:
    # To a type checker a row reads like the model it copies: the same names and types.
    ConsultationRow: TypeAlias = Consultation
    ParticipantRow: TypeAlias = Participant
else:
    ConsultationRow, ParticipantRow = _CONSULTATION_ROW, _PARTICIPANT_ROW
# Where a row of _live_participant() splits: the participant's columns, then the consultation's.
_PARTICIPANT_COLUMNS = len(dataclasses.fields(_PARTICIPANT_ROW)) - 1
_STATE_COLUMN = [field.name for field in dataclasses.fields(_PARTICIPANT_ROW)].index("state")


@functools.cache
def _live_participant() -> sa.Select:
    """Built once: every child's request runs it.  The consultation comes in the same query."""
    participant, consultation = Participant.__table__, Consultation.__table__
    return (
        sa.select(
            *(
                participant.c[field.name]
                for field in dataclasses.fields(_PARTICIPANT_ROW)
                if field.name != "consultation"
            ),
            *(consultation.c[field.name] for field in dataclasses.fields(_CONSULTATION_ROW)),
        )
        .join_from(participant, consultation, participant.c.consultation_id == consultation.c.id)
        .where(participant.c.id == sa.bindparam("participant_id"), consultation.c.state == "open")
    )


def current_participant() -> ParticipantRow | None:
    """The participant of this request's child session, if it is still live.

    Read as plain rows, not ORM objects: every child's request starts here, and loading two
    mapped objects cost more than the rest of a question page's database work together.
    """
    here = g._get_current_object()  # one look-up through the proxy, not six
    participant_id = session._get_current_object().get(CHILD_SESSION_KEY)  # type: ignore[attr-defined]
    kept = here.__dict__
    if "participant" in kept and kept.get("participant_id") == participant_id:
        return kept["participant"]  # read already, for the same child session (not one entered since)
    participant = None
    if isinstance(participant_id, str):
        found = child_connection.rows(_live_participant(), {"participant_id": participant_id})
        row = found[0] if found else None
        if row is not None and row[_STATE_COLUMN] in RESUMABLE_STATES:
            participant = _PARTICIPANT_ROW(*row[:_PARTICIPANT_COLUMNS], _CONSULTATION_ROW(*row[_PARTICIPANT_COLUMNS:]))
    here.participant, here.participant_id = participant, participant_id
    return participant


def leave() -> None:
    """Forget the child's session on this device (quick exit, stop, end)."""
    session.pop(CHILD_SESSION_KEY, None)
    session.pop("repeat_step", None)  # where the child was in a repeat (views.participate)
    g.pop("participant", None)

"""The facilitator's live view: counts by stage and "talk to someone" signals by seat label."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from survey.database import write_transaction
from survey.extensions import db
from survey.models import ConcernFlag, Participant, Signal, User, utcnow
from survey.services import audit
from survey.services.retention import clear_deleted_from_log, holder_tag
from survey.states import SignalStatus

SIGNAL_STATES: tuple[str, ...] = tuple(SignalStatus)


class SignalError(ValueError):
    """A signal change that is not possible."""


def raise_signal(participant: Participant) -> None:
    """A child asks to talk to someone: the facilitator sees the seat label, never answers."""
    with write_transaction() as session:
        session.add(
            Signal(
                consultation_id=participant.consultation_id,
                seat_label=participant.seat_label,
                holder_tag=holder_tag(participant.id),
            )
        )


def signals(consultation_id: int, *, include_resolved: bool = False) -> list[Signal]:
    query = sa.select(Signal).where(Signal.consultation_id == consultation_id)
    if not include_resolved:
        query = query.where(Signal.status != "resolved")
    return list(db.session.scalars(query.order_by(Signal.raised_at, Signal.id)))


def update_signal(consultation_id: int, signal_id: int, status: str, actor: User) -> None:
    if status not in SIGNAL_STATES[1:]:
        raise SignalError("A signal can be acknowledged or resolved.")
    with write_transaction() as session:
        signal = session.get(Signal, signal_id)
        # The consultation comes from the URL the access rule checked: a facilitator cannot
        # reach another consultation's signals by changing the signal number.
        if signal is None or signal.consultation_id != consultation_id:
            raise SignalError("There is no such signal in this consultation.")
        signal.status = status
        audit.record(actor, f"signal.{status}", f"consultation:{consultation_id} signal:{signal_id}")


def signal_counts(consultation_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Signal.status, sa.func.count())
        .where(Signal.consultation_id == consultation_id)
        .group_by(Signal.status)
    )
    counts = dict.fromkeys(SIGNAL_STATES, 0)
    counts.update(dict(rows.all()))
    return counts


class CardError(ValueError):
    """A card action that is not possible; the message is for the facilitator."""


def card_states(consultation_id: int) -> list[tuple[int, str]]:
    """(card number, guardian permission) for every card, in card order.

    Only what handing cards out needs: cards are matched to named guardian slips, so a card's
    participant state would tell the facilitator what that child decided.
    """
    rows = db.session.execute(
        sa.select(Participant.card_number, Participant.permission)
        .where(Participant.consultation_id == consultation_id)
        .order_by(Participant.card_number)
    )
    return [tuple(row) for row in rows.all()]


def _card_after(session: so.Session, consultation_id: int, card_number: int, action: str) -> tuple[Participant, str]:
    """The card and its permission after ``action``; :class:`CardError` where it is refused.

    Only the card's permission and the consultation's rule decide the answer, never what the
    child did with the card: the same action gets the same response on a card that was used
    and one that was not, so trying card numbers tells the facilitator nothing.
    """
    from consent.permission import CardActionRefused, apply_card_action
    from survey.models import Consultation
    from survey.services.consent_rules import permission_rule

    participant = session.scalar(
        sa.select(Participant).where(
            Participant.consultation_id == consultation_id, Participant.card_number == card_number
        )
    )
    if participant is None:
        raise CardError(f"There is no card number {card_number} in this consultation.")
    mode = permission_rule(session.get(Consultation, consultation_id)).mode
    try:
        return participant, apply_card_action(participant.permission, action, mode).value
    except (CardActionRefused, ValueError) as error:
        raise CardError(str(error)) from error


def check_card(consultation_id: int, card_number: int, action: str) -> None:
    """Raise :class:`CardError` as :func:`apply_card` would, changing nothing (before a confirmation)."""
    _card_after(db.session(), consultation_id, card_number, action)
    db.session.rollback()  # end the read


def apply_card(consultation_id: int, card_number: int, action: str, actor: User) -> str:
    """Mark a card's guardian permission (active opt-in: form seen; passive: withheld)."""
    from consent.permission import CardState
    from survey.services import journey

    with write_transaction() as session:
        participant, permission = _card_after(session, consultation_id, card_number, action)
        participant.permission = permission
        if participant.permission == CardState.WITHHELD:
            # A guardian's No is honoured on a card already in use too: the child is stopped
            # and their answers deleted as a withdrawal deletes them.  Undoing it later gives
            # the card its permission back, not the deleted answers (the card stays used up).
            journey.guardian_withheld(session, participant)
        audit.record(actor, f"card.{action}", f"consultation:{consultation_id} card:{card_number}")
        permission = participant.permission
    if permission == CardState.WITHHELD:
        clear_deleted_from_log()  # whatever was deleted leaves SQLite's log too (and costs a used card nothing visible)
    return permission


def concern_flags(consultation_id: int) -> list[ConcernFlag]:
    return list(
        db.session.scalars(
            sa.select(ConcernFlag)
            .where(ConcernFlag.consultation_id == consultation_id)
            .order_by(ConcernFlag.status, ConcernFlag.id)
        )
    )


def review_concern(consultation_id: int, flag_id: int, actor: User) -> None:
    with write_transaction() as session:
        flag = session.get(ConcernFlag, flag_id)
        if flag is not None and flag.consultation_id == consultation_id:
            flag.status = "reviewed"
            flag.resolved_on = utcnow().date()  # kept retention.safeguarding_days from here
            audit.record(actor, "concern.review", f"consultation:{consultation_id} flag:{flag_id}")


def open_concern_counts(consultation_ids: list[int]) -> dict[int, int]:
    """How many concerns still wait for the safeguarding lead, per consultation."""
    rows = db.session.execute(
        sa.select(ConcernFlag.consultation_id, sa.func.count())
        .where(ConcernFlag.consultation_id.in_(consultation_ids), ConcernFlag.status == "open")
        .group_by(ConcernFlag.consultation_id)
    )
    return {consultation_id: count for consultation_id, count in rows}  # noqa: C416 - rows, not pairs

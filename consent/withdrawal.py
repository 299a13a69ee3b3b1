"""Withdrawal and deletion as plain decisions: what to delete, never how (C-07, C-08, C-09, DP-06).

The survey app owns the database; these functions only say *what* must go and which state the
participant moves to.  The app deletes every listed kind of row in **one transaction** and then
records the new state.

Three withdrawal routes (§3.5):

1. "Stop and delete my answers", any time before completion → everything is deleted;
2. the end-of-survey re-affirmation, "No, please delete them" → everything is deleted;
3. the withdrawal code after completion → deleted up to and including the analysis cut-off
   date; after it the answers are "already combined" and nothing can be separated.

The cut-off date is inclusive: a code entered *on* the cut-off date still deletes, matching the
child-facing wording "until {cutoff_date}".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from consent.states import ANSWERING_STATES, Event, State, transition

__all__ = [
    "COUNT_ONLY_STATES",
    "DELETE_ON_WITHDRAWAL",
    "DataKind",
    "KEPT_AFTER_WITHDRAWAL",
    "RetentionDecision",
    "RetentionReason",
    "WithdrawalDecision",
    "WithdrawalOutcome",
    "concern_record_expired",
    "reaffirmation_decision",
    "retention_decision",
    "retention_until",
    "stop_and_delete",
    "withdraw_by_code",
]


class DataKind(StrEnum):
    """Kinds of stored data tied to one participant, named for deletion decisions."""

    ANSWERS = "answers"
    """Every answer row of the response, free text included."""
    RESPONSE = "response"
    """The response row itself (band, language, dates, state)."""
    PAGE_PROGRESS = "page_progress"
    """Page positions, autosave drafts and any resume token."""
    WITHDRAWAL_CODE_HASH = "withdrawal_code_hash"
    """The withdrawal code's hash: once the response is gone, the code has nothing to reach."""
    BROWSER_SESSION = "browser_session"
    """The child's server-side session (the cookie is cleared too)."""
    ASSENT_EVENTS = "assent_events"
    """The record that the child said yes to a text version: it goes with what it documented."""
    SIGNALS = "signals"
    """The child's "I'd like to talk to someone" signals that the facilitator has resolved.

    One still open or acknowledged stays until resolved: the child asked for a person, and
    deleting their answers must not take that request away from the facilitator."""


#: Deleted in one transaction whenever a participant's answers are deleted.
DELETE_ON_WITHDRAWAL: frozenset[DataKind] = frozenset(DataKind)

#: Kept after a withdrawal: the card's state (``withdrawn``, a count with no content), a signal
#: the facilitator has not yet resolved (see :attr:`DataKind.SIGNALS`), and the safeguarding
#: lead's concern record of a flagged open answer, which holds only a redacted excerpt, the
#: concern categories, the date and, in a facilitated session, the session and seat label.  It
#: is not linked to the participant; :func:`concern_record_expired` says when it goes.  The
#: child is told that such a short note may be kept so that someone can help.
KEPT_AFTER_WITHDRAWAL: tuple[str, ...] = ("card_state", "unresolved_signal", "concern_record")

#: States in which a card is a count and nothing more: a No at the information step, a
#: withdrawal, an expiry.  The participant row keeps its state and dates, never what the child
#: gave on the way (age band, language, seat label, page position), which goes as the card
#: enters the state: the page after a No says "nothing you did here has been kept".
COUNT_ONLY_STATES: frozenset[State] = frozenset({State.DECLINED, State.WITHDRAWN, State.EXPIRED})


class WithdrawalOutcome(StrEnum):
    """What the child should be told, in plain words, by the app."""

    DELETED = "deleted"
    """Everything listed in :attr:`WithdrawalDecision.delete` must be deleted now."""
    KEPT = "kept"
    """The child chose to keep taking part; nothing is deleted."""
    ALREADY_COMBINED = "already_combined"
    """After the analysis cut-off: answers are already combined with everyone else's."""
    NOTHING_TO_DELETE = "nothing_to_delete"
    """The participant has no answers (declined, expired, already withdrawn)."""
    NOT_AVAILABLE = "not_available"
    """This route does not apply in this state (e.g. "stop" after completion: use the code)."""


@dataclass(frozen=True, slots=True)
class WithdrawalDecision:
    """The result of a withdrawal request.

    Attributes
    ----------
    outcome : WithdrawalOutcome
    new_state : State or None
        The participant's state afterwards; ``None`` when the state does not change.
    delete : frozenset of DataKind
        What the app must delete, in one transaction, before recording ``new_state``.
    event : Event or None
        The state-machine event applied (recorded as a consent event of type withdrawal).
    """

    outcome: WithdrawalOutcome
    new_state: State | None = None
    delete: frozenset[DataKind] = field(default_factory=frozenset)
    event: Event | None = None

    @property
    def deletes(self) -> bool:
        """Whether anything must be deleted."""
        return bool(self.delete)


def _delete(state: State, event: Event) -> WithdrawalDecision:
    return WithdrawalDecision(WithdrawalOutcome.DELETED, transition(state, event), DELETE_ON_WITHDRAWAL, event)


def _no_answers(state: State) -> bool:
    return state in (State.ISSUED, State.DECLINED, State.EXPIRED, State.WITHDRAWN)


def stop_and_delete(state: State | str) -> WithdrawalDecision:
    """Decide a "Stop and delete my answers" request (C-07).

    Allowed any time after assent and before completion.  After completion the child uses the
    withdrawal code (:func:`withdraw_by_code`), which knows the cut-off.

    Examples
    --------
    >>> d = stop_and_delete("answering")
    >>> d.outcome.value, d.new_state.value, d.deletes
    ('deleted', 'withdrawn', True)
    >>> stop_and_delete("completed").outcome.value
    'not_available'
    """
    state = State(state)
    if state in ANSWERING_STATES:
        return _delete(state, Event.WITHDRAW)
    if _no_answers(state):
        return WithdrawalDecision(WithdrawalOutcome.NOTHING_TO_DELETE)
    return WithdrawalDecision(WithdrawalOutcome.NOT_AVAILABLE)


def reaffirmation_decision(state: State | str, *, happy_to_use: bool) -> WithdrawalDecision:
    """Decide the end-of-survey question "Are you happy for us to use your answers?" (C-08).

    "Yes" completes the response; "No" deletes it exactly like stop-and-delete.

    Raises
    ------
    consent.states.TransitionRefused
        If the participant is not in an answering state (e.g. a double submit after completion).

    Examples
    --------
    >>> reaffirmation_decision("answering", happy_to_use=True).new_state.value
    'completed'
    >>> reaffirmation_decision("answering", happy_to_use=False).outcome.value
    'deleted'
    """
    state = State(state)
    if happy_to_use:
        return WithdrawalDecision(
            WithdrawalOutcome.KEPT, transition(state, Event.COMPLETE), frozenset(), Event.COMPLETE
        )
    return _delete(state, Event.REAFFIRM_NO)


def withdraw_by_code(state: State | str, *, cutoff: date, today: date) -> WithdrawalDecision:
    """Decide a withdrawal-code request for the participant the code's hash points to (C-09).

    Parameters
    ----------
    state : State
        The state of the participant whose withdrawal-code hash matched.
    cutoff : date
        The consultation's analysis cut-off date, the **last** day deletion works.
    today : date
        The date of the request (passed in, never read from the clock here).

    Notes
    -----
    A guardian who withholds permission for a card already in use is decided the same way
    (the facilitator marks the card withheld): a guardian's No reaches exactly as far as the
    child's own withdrawal code.

    A code entered before completion (e.g. after a quick exit) deletes like "stop and delete".
    For an unknown code, or ``NOTHING_TO_DELETE``, show the same neutral message so the page
    does not reveal which codes exist.

    Examples
    --------
    >>> from datetime import date
    >>> withdraw_by_code("completed", cutoff=date(2027, 3, 1), today=date(2027, 3, 1)).outcome.value
    'deleted'
    >>> withdraw_by_code("completed", cutoff=date(2027, 3, 1), today=date(2027, 3, 2)).outcome.value
    'already_combined'
    """
    state = State(state)
    if state is State.COMPLETED:
        if today > cutoff:
            return WithdrawalDecision(WithdrawalOutcome.ALREADY_COMBINED)
        return _delete(state, Event.WITHDRAW_BY_CODE)
    if state in ANSWERING_STATES:
        return _delete(state, Event.WITHDRAW)
    return WithdrawalDecision(WithdrawalOutcome.NOTHING_TO_DELETE)


class RetentionReason(StrEnum):
    """Why the retention job deletes (logged as a count per reason, never content)."""

    KEEP = "keep"
    INCOMPLETE_WINDOW_PASSED = "incomplete_window_passed"
    RETENTION_DATE_PASSED = "retention_date_passed"


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    """What the retention job must do with one participant (DP-06).

    Attributes
    ----------
    reason : RetentionReason
    delete : frozenset of DataKind
    new_state : State or None
        ``expired`` for incomplete responses; ``None`` when the state is kept or the whole
        participant record goes with the retention date.
    """

    reason: RetentionReason
    delete: frozenset[DataKind] = field(default_factory=frozenset)
    new_state: State | None = None

    @property
    def deletes(self) -> bool:
        """Whether anything must be deleted."""
        return bool(self.delete)


def retention_decision(
    state: State | str,
    *,
    last_activity: date,
    today: date,
    incomplete_days: int = 7,
    retention_until: date | None = None,
) -> RetentionDecision:
    """Decide what the retention job does with one participant.

    * After ``retention_until`` (the consultation's retention date, inclusive last day),
      everything goes, whatever the state.
    * An incomplete response (``assented``/``answering``, including after a quick exit) whose
      last activity is more than ``incomplete_days`` days ago is deleted and the participant
      becomes ``expired``; exactly ``incomplete_days`` days old is still kept.

    Examples
    --------
    >>> from datetime import date
    >>> retention_decision("answering", last_activity=date(2026, 11, 1),
    ...                    today=date(2026, 11, 9)).reason.value
    'incomplete_window_passed'
    >>> retention_decision("answering", last_activity=date(2026, 11, 1),
    ...                    today=date(2026, 11, 8)).deletes
    False
    """
    state = State(state)
    if incomplete_days < 0:
        raise ValueError("incomplete_days must not be negative")
    if retention_until is not None and today > retention_until:
        return RetentionDecision(RetentionReason.RETENTION_DATE_PASSED, DELETE_ON_WITHDRAWAL)
    if state in ANSWERING_STATES and (today - last_activity).days > incomplete_days:
        return RetentionDecision(
            RetentionReason.INCOMPLETE_WINDOW_PASSED,
            DELETE_ON_WITHDRAWAL,
            transition(state, Event.EXPIRE),
        )
    return RetentionDecision(RetentionReason.KEEP)


def retention_until(closed_on: date, raw_responses_days: int) -> date:
    """The last day raw responses are kept: ``raw_responses_days`` after the close date.

    Pass the profile's (or the consultation's) ``retention.raw_responses_days``; the result is
    the ``retention_until`` of :func:`retention_decision`.

    Examples
    --------
    >>> from datetime import date
    >>> retention_until(date(2026, 12, 3), 365)
    datetime.date(2027, 12, 3)
    """
    if raw_responses_days < 1:
        raise ValueError("raw_responses_days must be at least 1")
    return closed_on + timedelta(days=raw_responses_days)


def concern_record_expired(resolved_on: date | None, *, today: date, safeguarding_days: int) -> bool:
    """Whether a concern record must now be deleted (the profile's ``retention.safeguarding_days``).

    A concern is kept while the safeguarding lead has not resolved it, whatever its age (a
    child's disclosure is never lost to a clock), and for ``safeguarding_days`` days after the
    day it was resolved (inclusive), so the lead can check the referral was taken up.

    Examples
    --------
    >>> from datetime import date
    >>> concern_record_expired(None, today=date(2030, 1, 1), safeguarding_days=30)
    False
    >>> concern_record_expired(date(2027, 1, 1), today=date(2027, 1, 31), safeguarding_days=30)
    False
    >>> concern_record_expired(date(2027, 1, 1), today=date(2027, 2, 1), safeguarding_days=30)
    True
    """
    if safeguarding_days < 0:
        raise ValueError("safeguarding_days must not be negative")
    return resolved_on is not None and (today - resolved_on).days > safeguarding_days

"""The participant state machine: one code card's journey, as pure data.

Allowed transitions (every other pair is refused)::

    from                  event                          to
    issued                assent_yes                     assented
    issued                assent_no                      declined
    issued                quick_exit                     (unchanged)
    issued                expire                         expired
    assented, answering   start_answering, save_page     answering
    assented, answering   complete                       completed
    assented, answering   withdraw, reaffirm_no          withdrawn
    assented, answering   quick_exit                     (unchanged)
    assented, answering   expire                         expired
    completed             withdraw_by_code               withdrawn

Rules worth stating (C-02, C-07, C-08, C-09, §4.4):

* only ``assent_yes`` leaves ``issued`` towards answering; silence, closing or a quick exit
  before assent is not assent, and not a No either: ``quick_exit`` from ``issued`` changes
  nothing, so the card still works when the child comes back (only ``assent_no`` records a
  decline: a child who fled a page has decided nothing);
* answers may be stored only in ``assented`` and ``answering`` (:func:`may_store_answers`);
* a quick exit after assent is *not* a withdrawal: the response stays incomplete and the
  retention rules delete it (``expire``) after the incomplete-response window (7 days default);
* ``withdraw`` (stop and delete) and ``reaffirm_no`` work any time before completion;
* after completion only ``withdraw_by_code`` leaves ``completed``; whether the analysis
  cut-off still allows it is decided by :mod:`consent.withdrawal`, not here;
* ``withdrawn``, ``declined`` and ``expired`` are final.

Every refused pair raises :class:`TransitionRefused`; nothing is silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ANSWERING_STATES",
    "Event",
    "FINAL_STATES",
    "RESUMABLE_STATES",
    "State",
    "TRANSITIONS",
    "TransitionRefused",
    "allowed_events",
    "may_store_answers",
    "transition",
]


class State(StrEnum):
    """Where one participant (one code card) is.  Values are stored as-is."""

    ISSUED = "issued"
    ASSENTED = "assented"
    ANSWERING = "answering"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    EXPIRED = "expired"


class Event(StrEnum):
    """Something that happened to a participant."""

    ASSENT_YES = "assent_yes"
    """The child pressed "Yes, I want to take part"."""
    ASSENT_NO = "assent_no"
    """The child pressed "No, thank you" (only a count is kept)."""
    START_ANSWERING = "start_answering"
    """The first question page was shown."""
    SAVE_PAGE = "save_page"
    """A page of answers (possibly all skipped) was saved."""
    COMPLETE = "complete"
    """End-of-survey re-affirmation answered "Yes, you can use my answers"."""
    REAFFIRM_NO = "reaffirm_no"
    """End-of-survey re-affirmation answered "No, please delete them" (C-08)."""
    WITHDRAW = "withdraw"
    """"Stop and delete my answers" before completion (C-07)."""
    WITHDRAW_BY_CODE = "withdraw_by_code"
    """The withdrawal code was entered after completion (C-09)."""
    QUICK_EXIT = "quick_exit"
    """The quick-exit button or Shift x3 was used (§4.4)."""
    EXPIRE = "expire"
    """The card was never used before the session closed, or the incomplete window passed."""


_S, _E = State, Event

_TABLE: dict[tuple[State, Event], State] = {
    (_S.ISSUED, _E.ASSENT_YES): _S.ASSENTED,
    (_S.ISSUED, _E.ASSENT_NO): _S.DECLINED,
    (_S.ISSUED, _E.QUICK_EXIT): _S.ISSUED,
    (_S.ISSUED, _E.EXPIRE): _S.EXPIRED,
    (_S.ASSENTED, _E.START_ANSWERING): _S.ANSWERING,
    (_S.ASSENTED, _E.SAVE_PAGE): _S.ANSWERING,
    (_S.ASSENTED, _E.COMPLETE): _S.COMPLETED,
    (_S.ASSENTED, _E.REAFFIRM_NO): _S.WITHDRAWN,
    (_S.ASSENTED, _E.WITHDRAW): _S.WITHDRAWN,
    (_S.ASSENTED, _E.QUICK_EXIT): _S.ASSENTED,
    (_S.ASSENTED, _E.EXPIRE): _S.EXPIRED,
    (_S.ANSWERING, _E.START_ANSWERING): _S.ANSWERING,
    (_S.ANSWERING, _E.SAVE_PAGE): _S.ANSWERING,
    (_S.ANSWERING, _E.COMPLETE): _S.COMPLETED,
    (_S.ANSWERING, _E.REAFFIRM_NO): _S.WITHDRAWN,
    (_S.ANSWERING, _E.WITHDRAW): _S.WITHDRAWN,
    (_S.ANSWERING, _E.QUICK_EXIT): _S.ANSWERING,
    (_S.ANSWERING, _E.EXPIRE): _S.EXPIRED,
    (_S.COMPLETED, _E.WITHDRAW_BY_CODE): _S.WITHDRAWN,
}

#: Every allowed ``(state, event) -> new state``; any pair not listed is refused.
TRANSITIONS: Mapping[tuple[State, Event], State] = MappingProxyType(_TABLE)

#: States in which answers may be written (the gate's core rule, C-02).
ANSWERING_STATES: frozenset[State] = frozenset({State.ASSENTED, State.ANSWERING})

#: States in which the card's code lets a child (back) in: before assent, and while answering.
RESUMABLE_STATES: frozenset[State] = frozenset({State.ISSUED, *ANSWERING_STATES})

#: States no event leaves.
FINAL_STATES: frozenset[State] = frozenset({State.WITHDRAWN, State.DECLINED, State.EXPIRED})


class TransitionRefused(Exception):
    """An event that is not allowed in the participant's current state.

    Attributes
    ----------
    state : State
    event : Event
    """

    def __init__(self, state: State, event: Event) -> None:
        self.state = state
        self.event = event
        allowed = ", ".join(sorted(e.value for e in allowed_events(state))) or "none (final)"
        super().__init__(
            f"event {event.value!r} is not allowed in state {state.value!r}; allowed events there: {allowed}"
        )


def transition(state: State | str, event: Event | str) -> State:
    """Return the state after ``event``, or raise :class:`TransitionRefused`.

    Parameters
    ----------
    state : State or str
        The current state (a stored string is accepted).
    event : Event or str

    Raises
    ------
    TransitionRefused
        The pair is not in :data:`TRANSITIONS`.
    ValueError
        ``state`` or ``event`` is not a known value.

    Examples
    --------
    >>> transition("issued", "assent_yes")
    <State.ASSENTED: 'assented'>
    >>> transition(State.COMPLETED, Event.SAVE_PAGE)
    Traceback (most recent call last):
    ...
    consent.states.TransitionRefused: event 'save_page' is not allowed in state 'completed'; \
allowed events there: withdraw_by_code
    """
    state, event = State(state), Event(event)
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionRefused(state, event) from None


def allowed_events(state: State | str) -> frozenset[Event]:
    """Events allowed in ``state``.

    Examples
    --------
    >>> sorted(allowed_events("declined"))
    []
    """
    state = State(state)
    return frozenset(e for (s, e) in TRANSITIONS if s is state)


def may_store_answers(state: State | str) -> bool:
    """Whether answers may be written for a participant in ``state`` (C-02).

    Only after an affirmative assent and before completion or withdrawal.

    Examples
    --------
    >>> may_store_answers("issued"), may_store_answers("answering")
    (False, True)
    """
    return State(state) in ANSWERING_STATES

"""The participant state machine: every (state, event) pair, allowed and refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.states import (
    FINAL_STATES,
    TRANSITIONS,
    Event,
    State,
    TransitionRefused,
    allowed_events,
    may_store_answers,
    transition,
)

R = None  # refused
ISS, ASS, ANS, COM, WDR, DEC, EXP = ("issued", "assented", "answering", "completed", "withdrawn", "declined", "expired")

# Written out by hand from the rules in child-participation.md (C-02, C-07, C-08, C-09, §4.4);
# deliberately not derived from TRANSITIONS, so the table checks the implementation.
# columns:  assent_yes assent_no start save complete reaffirm_no withdraw by_code quick_exit expire
EXPECTED = {
    ISS: (ASS, DEC, R,   R,   R,   R,   R,   R,   ISS, EXP),
    ASS: (R,   R,   ANS, ANS, COM, WDR, WDR, R,   ASS, EXP),
    ANS: (R,   R,   ANS, ANS, COM, WDR, WDR, R,   ANS, EXP),
    COM: (R,   R,   R,   R,   R,   R,   R,   WDR, R,   R),
    WDR: (R,) * 10,
    DEC: (R,) * 10,
    EXP: (R,) * 10,
}  # fmt: skip
EVENT_ORDER = (
    "assent_yes",
    "assent_no",
    "start_answering",
    "save_page",
    "complete",
    "reaffirm_no",
    "withdraw",
    "withdraw_by_code",
    "quick_exit",
    "expire",
)

CASES = [(state, event, EXPECTED[state][i]) for state in EXPECTED for i, event in enumerate(EVENT_ORDER)]


def test_table_covers_every_state_and_event():
    assert set(EXPECTED) == {s.value for s in State}
    assert set(EVENT_ORDER) == {e.value for e in Event}
    assert len(CASES) == len(State) * len(Event) == 70


@pytest.mark.parametrize(("state", "event", "expected"), CASES, ids=[f"{s}-{e}" for s, e, _ in CASES])
def test_every_pair(state, event, expected):
    if expected is None:
        with pytest.raises(TransitionRefused) as info:
            transition(state, event)
        assert info.value.state == State(state)
        assert info.value.event == Event(event)
        assert event in str(info.value) and state in str(info.value)
    else:
        assert transition(state, event) is State(expected)
        assert transition(State(state), Event(event)) is State(expected)


def test_allowed_count_matches_table():
    allowed = sum(1 for *_, exp in CASES if exp is not None)
    assert allowed == len(TRANSITIONS) == 19


def test_final_states_allow_nothing():
    for s in FINAL_STATES:
        assert allowed_events(s) == frozenset()


def test_only_assent_yes_leads_towards_answers():
    # C-02: from issued, no event other than assent_yes reaches a state where answers are stored
    for event in Event:
        try:
            after = transition(State.ISSUED, event)
        except TransitionRefused:
            continue
        assert may_store_answers(after) == (event is Event.ASSENT_YES)


@pytest.mark.parametrize("state", list(State))
def test_may_store_answers(state):
    assert may_store_answers(state) == (state in (State.ASSENTED, State.ANSWERING))


def test_refused_error_lists_allowed_events():
    with pytest.raises(TransitionRefused, match="allowed events there: withdraw_by_code"):
        transition("completed", "withdraw")
    with pytest.raises(TransitionRefused, match=r"none \(final\)"):
        transition("declined", "assent_yes")


@pytest.mark.parametrize(("state", "event"), [("nope", "assent_yes"), ("issued", "nope")])
def test_unknown_values_are_value_errors(state, event):
    with pytest.raises(ValueError):
        transition(state, event)


# ---------------------------------------------------------------- random journeys


@given(st.lists(st.sampled_from(list(Event)), max_size=25))
def test_random_journeys_keep_the_invariants(events):
    state = State.ISSUED
    assented = False
    for event in events:
        try:
            new = transition(state, event)
        except TransitionRefused:
            assert (state, event) not in TRANSITIONS
            continue
        if event is Event.ASSENT_YES:
            assented = True
        # answers can only ever be stored after an explicit assent_yes (C-02)
        if may_store_answers(new):
            assert assented
        # nothing leaves a final state
        assert state not in FINAL_STATES
        # completion needs the end re-affirmation "Yes"
        if new is State.COMPLETED and state is not State.COMPLETED:
            assert event is Event.COMPLETE
        state = new

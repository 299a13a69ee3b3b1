"""Withdrawal and retention decisions, around the cut-off and retention dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from consent.states import State, TransitionRefused
from consent.withdrawal import (
    DELETE_ON_WITHDRAWAL,
    DataKind,
    RetentionReason,
    WithdrawalOutcome,
    reaffirmation_decision,
    retention_decision,
    stop_and_delete,
    withdraw_by_code,
)

CUTOFF = date(2027, 1, 15)
EVERYTHING = frozenset(DataKind)


def test_delete_means_every_kind_of_participant_data():
    assert DELETE_ON_WITHDRAWAL == EVERYTHING
    assert {DataKind.ANSWERS, DataKind.RESPONSE, DataKind.PAGE_PROGRESS} <= EVERYTHING


@pytest.mark.parametrize(
    ("state", "outcome", "new_state"),
    [
        ("issued", "nothing_to_delete", None),
        ("assented", "deleted", "withdrawn"),
        ("answering", "deleted", "withdrawn"),
        ("completed", "not_available", None),
        ("withdrawn", "nothing_to_delete", None),
        ("declined", "nothing_to_delete", None),
        ("expired", "nothing_to_delete", None),
    ],
)
def test_stop_and_delete(state, outcome, new_state):
    d = stop_and_delete(state)
    assert d.outcome is WithdrawalOutcome(outcome)
    assert d.new_state == (State(new_state) if new_state else None)
    assert d.delete == (EVERYTHING if outcome == "deleted" else frozenset())
    assert d.deletes is (outcome == "deleted")


@pytest.mark.parametrize("state", ["assented", "answering"])
def test_reaffirmation(state):
    yes = reaffirmation_decision(state, happy_to_use=True)
    assert (yes.outcome, yes.new_state, yes.delete) == (WithdrawalOutcome.KEPT, State.COMPLETED, frozenset())
    no = reaffirmation_decision(state, happy_to_use=False)  # C-08
    assert (no.outcome, no.new_state, no.delete) == (WithdrawalOutcome.DELETED, State.WITHDRAWN, EVERYTHING)


@pytest.mark.parametrize("state", ["issued", "completed", "withdrawn", "declined", "expired"])
@pytest.mark.parametrize("happy", [True, False])
def test_reaffirmation_refused_outside_answering(state, happy):
    with pytest.raises(TransitionRefused):
        reaffirmation_decision(state, happy_to_use=happy)


@pytest.mark.parametrize(
    ("today", "outcome"),
    [
        (CUTOFF - timedelta(days=60), "deleted"),
        (CUTOFF - timedelta(days=1), "deleted"),
        (CUTOFF, "deleted"),  # the cut-off date is the last day it works
        (CUTOFF + timedelta(days=1), "already_combined"),
        (CUTOFF + timedelta(days=400), "already_combined"),
    ],
)
def test_withdrawal_code_around_the_cutoff(today, outcome):
    d = withdraw_by_code("completed", cutoff=CUTOFF, today=today)
    assert d.outcome is WithdrawalOutcome(outcome)
    if outcome == "deleted":
        assert d.new_state is State.WITHDRAWN and d.delete == EVERYTHING
    else:
        assert d.new_state is None and d.delete == frozenset()


@pytest.mark.parametrize("today", [CUTOFF, CUTOFF + timedelta(days=30)])
@pytest.mark.parametrize("state", ["assented", "answering"])
def test_withdrawal_code_before_completion_always_deletes(state, today):
    d = withdraw_by_code(state, cutoff=CUTOFF, today=today)
    assert d.outcome is WithdrawalOutcome.DELETED and d.new_state is State.WITHDRAWN


@pytest.mark.parametrize("state", ["issued", "withdrawn", "declined", "expired"])
def test_withdrawal_code_with_nothing_to_delete(state):
    d = withdraw_by_code(state, cutoff=CUTOFF, today=CUTOFF)
    assert d.outcome is WithdrawalOutcome.NOTHING_TO_DELETE and not d.deletes


# ---------------------------------------------------------------- retention

DAY = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("state", "days_since", "reason"),
    [
        ("answering", 0, "keep"),
        ("answering", 7, "keep"),
        ("answering", 8, "incomplete_window_passed"),
        ("assented", 8, "incomplete_window_passed"),
        ("completed", 300, "keep"),
        ("issued", 300, "keep"),
    ],
)
def test_incomplete_window(state, days_since, reason):
    d = retention_decision(state, last_activity=DAY, today=DAY + timedelta(days=days_since))
    assert d.reason is RetentionReason(reason)
    if reason == "keep":
        assert not d.deletes and d.new_state is None
    else:
        assert d.delete == EVERYTHING and d.new_state is State.EXPIRED


def test_incomplete_window_configurable():
    today = DAY + timedelta(days=3)
    assert retention_decision("answering", last_activity=DAY, today=today, incomplete_days=2).deletes
    assert not retention_decision("answering", last_activity=DAY, today=today, incomplete_days=3).deletes
    with pytest.raises(ValueError):
        retention_decision("answering", last_activity=DAY, today=today, incomplete_days=-1)


@pytest.mark.parametrize("state", list(State))
def test_retention_date(state):
    until = date(2027, 12, 31)
    on = retention_decision(state, last_activity=DAY, today=until, retention_until=until)
    after = retention_decision(state, last_activity=DAY, today=until + timedelta(days=1), retention_until=until)
    assert after.reason is RetentionReason.RETENTION_DATE_PASSED and after.delete == EVERYTHING
    if state in (State.ASSENTED, State.ANSWERING):
        assert on.reason is RetentionReason.INCOMPLETE_WINDOW_PASSED
    else:
        assert on.reason is RetentionReason.KEEP


def test_retention_until():
    from consent.withdrawal import retention_until

    assert retention_until(date(2026, 12, 3), 365) == date(2027, 12, 3)
    assert retention_until(date(2028, 2, 28), 1) == date(2028, 2, 29)
    with pytest.raises(ValueError):
        retention_until(date(2026, 12, 3), 0)

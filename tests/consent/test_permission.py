"""Guardian permission by mode: who may proceed to assent, on card states alone."""

from __future__ import annotations

import dataclasses

import pytest

from consent.bands import DEFAULT_BANDS, band_by_code
from consent.permission import (
    CARD_ACTIONS,
    CardAction,
    CardActionRefused,
    CardState,
    PermissionCounts,
    PermissionReason,
    apply_card_action,
    effective_mode,
    may_proceed_to_assent,
    permission_counts,
)
from consent.profiles import ParentalPermission, PermissionMode, load_profile

GENERIC = load_profile("generic")  # active opt-in, own consent from 16


def profile(mode: str, own_consent_age: int = 16, **perm):
    return dataclasses.replace(
        GENERIC,
        own_consent_age=own_consent_age,
        permission=ParentalPermission(PermissionMode(mode), **perm),
    )


ACTIVE = profile("active_opt_in")
PASSIVE = profile("passive_opt_out")
WAIVED = profile("waived_with_substitute_protection", ethics_reference="REC-1", substitute_protection="assent monitor")
FROM_13_ACTIVE = profile("not_required_from_age", not_required_from_age=13, below_age_mode=PermissionMode.ACTIVE_OPT_IN)
FROM_13_PASSIVE = profile(
    "not_required_from_age", not_required_from_age=13, below_age_mode=PermissionMode.PASSIVE_OPT_OUT
)
ACTIVE_18 = profile("active_opt_in", own_consent_age=18)

Y, N = True, False
# (profile, age, {card state: (allowed, reason)})
CASES = [
    (
        "active",
        ACTIVE,
        12,
        {"issued": (N, "awaiting_permission"), "permission_seen": (Y, "permission_seen"), "withheld": (N, "withheld")},
    ),
    (
        "active-15",
        ACTIVE,
        15,
        {"issued": (N, "awaiting_permission"), "permission_seen": (Y, "permission_seen"), "withheld": (N, "withheld")},
    ),
    (
        "active-16-own",
        ACTIVE,
        16,
        {"issued": (Y, "own_consent_age"), "permission_seen": (Y, "own_consent_age"), "withheld": (N, "withheld")},
    ),
    (
        "active18-17",
        ACTIVE_18,
        17,
        {"issued": (N, "awaiting_permission"), "permission_seen": (Y, "permission_seen"), "withheld": (N, "withheld")},
    ),
    (
        "passive",
        PASSIVE,
        9,
        {"issued": (Y, "not_opted_out"), "permission_seen": (Y, "not_opted_out"), "withheld": (N, "withheld")},
    ),
    (
        "passive-17",
        PASSIVE,
        17,
        {"issued": (Y, "own_consent_age"), "permission_seen": (Y, "own_consent_age"), "withheld": (N, "withheld")},
    ),
    ("waived", WAIVED, 10, {"issued": (Y, "waived"), "permission_seen": (Y, "waived"), "withheld": (N, "withheld")}),
    (
        "from13-active-12",
        FROM_13_ACTIVE,
        12,
        {"issued": (N, "awaiting_permission"), "permission_seen": (Y, "permission_seen"), "withheld": (N, "withheld")},
    ),
    (
        "from13-active-13",
        FROM_13_ACTIVE,
        13,
        {"issued": (Y, "not_required"), "permission_seen": (Y, "not_required"), "withheld": (N, "withheld")},
    ),
    (
        "from13-passive-8",
        FROM_13_PASSIVE,
        8,
        {"issued": (Y, "not_opted_out"), "permission_seen": (Y, "not_opted_out"), "withheld": (N, "withheld")},
    ),
]
FLAT = [
    (cid, prof, age, state, allowed, reason)
    for cid, prof, age, table in CASES
    for state, (allowed, reason) in table.items()
]


@pytest.mark.parametrize(
    ("prof", "age", "state", "allowed", "reason"), [f[1:] for f in FLAT], ids=[f"{f[0]}-{f[3]}" for f in FLAT]
)
def test_decision_table(prof, age, state, allowed, reason):
    decision = may_proceed_to_assent(prof, state, age=age)
    assert decision.allowed is allowed
    assert bool(decision) is allowed
    assert decision.reason is PermissionReason(reason)


def test_a_withheld_card_never_proceeds():
    for prof in (ACTIVE, PASSIVE, WAIVED, FROM_13_ACTIVE, FROM_13_PASSIVE, ACTIVE_18):
        for age in range(8, 18):
            assert not may_proceed_to_assent(prof, CardState.WITHHELD, age=age)


@pytest.mark.parametrize(
    ("band", "state", "allowed"),
    [
        ("A", "issued", False),
        ("B", "issued", False),
        # band C (14-17) straddles own-consent age 16: treated as its youngest (14)
        ("C", "issued", False),
        ("C", "permission_seen", True),
    ],
)
def test_band_uses_its_lowest_age(band, state, allowed):
    assert may_proceed_to_assent(ACTIVE, state, band=band_by_code(band)).allowed is allowed


def test_age_wins_over_band():
    c = band_by_code("C")
    assert may_proceed_to_assent(ACTIVE, "issued", age=16, band=c).allowed


def test_age_or_band_required():
    with pytest.raises(ValueError):
        may_proceed_to_assent(ACTIVE, "issued")


def test_effective_mode():
    assert effective_mode(ACTIVE, min_age=15) is PermissionMode.ACTIVE_OPT_IN
    assert effective_mode(ACTIVE, min_age=16) is None
    assert effective_mode(WAIVED, min_age=8) is None
    assert effective_mode(FROM_13_PASSIVE, min_age=12) is PermissionMode.PASSIVE_OPT_OUT
    assert effective_mode(FROM_13_PASSIVE, min_age=13) is None


def test_bundled_profiles_decide():
    uk = load_profile("example-uk")
    assert may_proceed_to_assent(uk, "issued", band=DEFAULT_BANDS[0]).reason.value == ("not_opted_out")
    ke = load_profile("example-ke")
    assert not may_proceed_to_assent(ke, "issued", age=17)


# ---------------------------------------------------------------- card actions

ACTION_CASES = [
    # (state, action, mode, expected state or None for refused)
    ("issued", "mark_permission_seen", "active_opt_in", "permission_seen"),
    ("issued", "mark_permission_seen", "not_required_from_age", "permission_seen"),
    ("issued", "mark_permission_seen", "passive_opt_out", None),
    ("issued", "mark_permission_seen", "waived_with_substitute_protection", None),
    ("issued", "mark_withheld", "active_opt_in", "withheld"),
    ("issued", "mark_withheld", "passive_opt_out", "withheld"),
    ("issued", "mark_withheld", "waived_with_substitute_protection", "withheld"),
    ("issued", "undo", "active_opt_in", None),
    ("permission_seen", "mark_permission_seen", "active_opt_in", None),
    ("permission_seen", "mark_withheld", "active_opt_in", "withheld"),
    ("permission_seen", "undo", "active_opt_in", "issued"),
    ("withheld", "mark_permission_seen", "active_opt_in", None),
    ("withheld", "mark_withheld", "passive_opt_out", None),
    ("withheld", "undo", "passive_opt_out", "issued"),
]


@pytest.mark.parametrize(("state", "action", "mode", "expected"), ACTION_CASES)
def test_card_actions(state, action, mode, expected):
    if expected is None:
        with pytest.raises(CardActionRefused):
            apply_card_action(state, action, mode)
    else:
        assert apply_card_action(state, action, mode) is CardState(expected)


def test_every_state_action_pair_is_covered():
    covered = {(s, a) for s, a, *_ in ACTION_CASES}
    assert covered == {(s.value, a.value) for s in CardState for a in CardAction}
    assert len(CARD_ACTIONS) == 5


def test_counts_only():
    counts = permission_counts(["issued", "permission_seen", "withheld", "permission_seen"])
    assert counts == PermissionCounts(issued=1, permission_seen=2, withheld=1)
    assert counts.total == 4
    assert permission_counts([]) == PermissionCounts()
    # the record holds counts, nothing else
    assert [f.name for f in dataclasses.fields(PermissionCounts)] == ["issued", "permission_seen", "withheld"]


def test_consultation_rule_overrides_the_profile():
    from consent.opening import consultation_permission

    stricter = consultation_permission(PASSIVE, "active_opt_in")
    assert may_proceed_to_assent(PASSIVE, "issued", age=12).allowed
    decision = may_proceed_to_assent(PASSIVE, "issued", age=12, permission=stricter)
    assert decision.reason is PermissionReason.AWAITING_PERMISSION
    waived = consultation_permission(
        ACTIVE, "waived_with_substitute_protection", ethics_reference="REC", substitute_protection="monitor"
    )
    decision = may_proceed_to_assent(ACTIVE, "issued", age=9, permission=waived)
    assert decision.reason is PermissionReason.WAIVED

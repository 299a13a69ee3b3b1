"""Guardian permission by mode, without a single name (C-01, C-03, §3.3).

The system never holds a parent's or child's name.  Permission is tracked on the **code card**:

* ``active_opt_in``: the facilitator marks each card whose signed paper form they have seen
  (``permission_seen``); the signed forms stay with the school;
* ``passive_opt_out``: the school keeps back the cards of children whose parents opted out;
  the facilitator marks them ``withheld`` so they cannot be used and can be counted (a card
  already in use is stopped and its answers deleted, as the child's withdrawal code would:
  :func:`consent.withdrawal.withdraw_by_code`);
* ``waived_with_substitute_protection``: no permission step; the substitute protection in the
  profile applies;
* ``not_required_from_age``: from that age no permission step; below it, ``below_age_mode``.

Whatever the mode, a child who has reached the profile's ``own_consent_age`` consents for
themselves, and a ``withheld`` card never proceeds.  Only card states and their counts are kept.

The check runs after the child has entered the card code and their age (mapped to a band), and
before the assent screen.  The exact age is used for the decision and then dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from consent.bands import Band
from consent.profiles import CountryProfile, ParentalPermission, PermissionMode

__all__ = [
    "CARD_ACTIONS",
    "CardAction",
    "CardActionRefused",
    "CardState",
    "PermissionCounts",
    "PermissionDecision",
    "PermissionReason",
    "apply_card_action",
    "effective_mode",
    "may_proceed_to_assent",
    "permission_counts",
]


class CardState(StrEnum):
    """The permission state of one printed code card."""

    ISSUED = "issued"
    """Printed and handed to the school/facilitator; no permission recorded."""
    PERMISSION_SEEN = "permission_seen"
    """Active opt-in: the facilitator saw the signed paper form for this card."""
    WITHHELD = "withheld"
    """Passive opt-out (or a refused active form): the card must not be used."""


class CardAction(StrEnum):
    """What a facilitator can do to a card on the cards screen."""

    MARK_PERMISSION_SEEN = "mark_permission_seen"
    MARK_WITHHELD = "mark_withheld"
    UNDO = "undo"
    """Back to ``issued`` (a mis-tap).  It changes the card's permission only: answers deleted
    because the card was withheld stay deleted, and a card used up stays used up."""


_ACTIONS: dict[tuple[CardState, CardAction], CardState] = {
    (CardState.ISSUED, CardAction.MARK_PERMISSION_SEEN): CardState.PERMISSION_SEEN,
    (CardState.ISSUED, CardAction.MARK_WITHHELD): CardState.WITHHELD,
    (CardState.PERMISSION_SEEN, CardAction.MARK_WITHHELD): CardState.WITHHELD,
    (CardState.PERMISSION_SEEN, CardAction.UNDO): CardState.ISSUED,
    (CardState.WITHHELD, CardAction.UNDO): CardState.ISSUED,
}

#: Allowed card actions: ``(state, action) -> new state``.
CARD_ACTIONS: Mapping[tuple[CardState, CardAction], CardState] = MappingProxyType(_ACTIONS)


class CardActionRefused(Exception):
    """A card action that is not allowed in this state or permission mode."""


def effective_mode(
    profile: CountryProfile, *, min_age: int, permission: ParentalPermission | None = None
) -> PermissionMode | None:
    """The permission rule that applies to a child whose age is at least ``min_age``.

    Returns ``None`` when no guardian permission is needed: the child has reached the profile's
    own-consent age, permission is not required from that age, or it was waived.
    ``permission`` is the consultation's own rule when it differs from the profile's (see
    :func:`consent.opening.consultation_permission`).

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> effective_mode(load_profile("generic"), min_age=12).value
    'active_opt_in'
    >>> effective_mode(load_profile("generic"), min_age=16) is None
    True
    """
    perm = permission or profile.permission
    if min_age >= profile.own_consent_age:
        return None
    if perm.mode is PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION:
        return None
    if perm.mode is PermissionMode.NOT_REQUIRED_FROM_AGE:
        if perm.not_required_from_age is not None and min_age >= perm.not_required_from_age:
            return None
        return perm.below_age_mode or PermissionMode.ACTIVE_OPT_IN
    return perm.mode


def apply_card_action(state: CardState | str, action: CardAction | str, mode: PermissionMode | str) -> CardState:
    """Return a card's state after a facilitator's action.

    ``mark_permission_seen`` is meaningful only where forms are collected (``active_opt_in``,
    or ``not_required_from_age`` whose younger children need active permission).  Marking a
    card withheld is allowed in every mode: a child or family may always opt out.

    Raises
    ------
    CardActionRefused
        The action is not allowed from this state or in this mode.

    Examples
    --------
    >>> apply_card_action("issued", "mark_permission_seen", "active_opt_in").value
    'permission_seen'
    >>> apply_card_action("issued", "mark_permission_seen", "passive_opt_out")
    Traceback (most recent call last):
    ...
    consent.permission.CardActionRefused: in passive_opt_out mode no signed form is collected; \
mark a card withheld if the family opted out
    """
    state, action, mode = CardState(state), CardAction(action), PermissionMode(mode)
    if action is CardAction.MARK_PERMISSION_SEEN and mode in (
        PermissionMode.PASSIVE_OPT_OUT,
        PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION,
    ):
        raise CardActionRefused(
            f"in {mode.value} mode no signed form is collected; mark a card withheld if the family opted out"
        )
    try:
        return CARD_ACTIONS[(state, action)]
    except KeyError:
        raise CardActionRefused(f"a card in state {state.value!r} cannot be changed with {action.value!r}") from None


class PermissionReason(StrEnum):
    """Why a child may or may not go on to the assent screen (for the app's wording)."""

    OWN_CONSENT_AGE = "own_consent_age"
    NOT_REQUIRED = "not_required"
    WAIVED = "waived"
    PERMISSION_SEEN = "permission_seen"
    NOT_OPTED_OUT = "not_opted_out"
    WITHHELD = "withheld"
    AWAITING_PERMISSION = "awaiting_permission"
    """Active opt-in and no form seen for this card: ask the child to see the facilitator."""


@dataclass(frozen=True, slots=True)
class PermissionDecision:
    """Whether the child may proceed to the assent screen.  Truthiness follows ``allowed``."""

    allowed: bool
    reason: PermissionReason
    mode: PermissionMode | None

    def __bool__(self) -> bool:
        return self.allowed


def may_proceed_to_assent(
    profile: CountryProfile,
    card_state: CardState | str,
    *,
    age: int | None = None,
    band: Band | None = None,
    permission: ParentalPermission | None = None,
) -> PermissionDecision:
    """Decide whether a child holding a card may go on to the assent screen.

    Give the child's ``age`` (whole years, used here and then dropped) or their ``band``; with
    only a band the band's lowest age is used, so a band that straddles the own-consent age
    (band C, 14-17, against 16) is treated as its youngest members.

    Parameters
    ----------
    profile : CountryProfile
    card_state : CardState
    age : int, optional
    band : Band, optional
    permission : ParentalPermission, optional
        The consultation's rule, if it differs from the profile's.

    Raises
    ------
    ValueError
        If neither ``age`` nor ``band`` is given.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> generic = load_profile("generic")   # active opt-in, own consent from 16
    >>> may_proceed_to_assent(generic, "issued", age=12).reason.value
    'awaiting_permission'
    >>> bool(may_proceed_to_assent(generic, "permission_seen", age=12))
    True
    >>> may_proceed_to_assent(generic, "issued", age=16).reason.value
    'own_consent_age'
    """
    card_state = CardState(card_state)
    if age is None and band is None:
        raise ValueError("give the child's age or band")
    min_age = age if age is not None else band.min_age  # type: ignore[union-attr]
    perm = permission or profile.permission
    mode = effective_mode(profile, min_age=min_age, permission=perm)
    if card_state is CardState.WITHHELD:
        return PermissionDecision(False, PermissionReason.WITHHELD, mode)
    if mode is None:
        if min_age >= profile.own_consent_age:
            reason = PermissionReason.OWN_CONSENT_AGE
        elif perm.mode is PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION:
            reason = PermissionReason.WAIVED
        else:
            reason = PermissionReason.NOT_REQUIRED
        return PermissionDecision(True, reason, None)
    if mode is PermissionMode.PASSIVE_OPT_OUT:
        return PermissionDecision(True, PermissionReason.NOT_OPTED_OUT, mode)
    if card_state is CardState.PERMISSION_SEEN:
        return PermissionDecision(True, PermissionReason.PERMISSION_SEEN, mode)
    return PermissionDecision(False, PermissionReason.AWAITING_PERMISSION, mode)


@dataclass(frozen=True, slots=True)
class PermissionCounts:
    """Counts of cards by permission state: the only permission record kept."""

    issued: int = 0
    permission_seen: int = 0
    withheld: int = 0

    @property
    def total(self) -> int:
        """All cards."""
        return self.issued + self.permission_seen + self.withheld


def permission_counts(states: Iterable[CardState | str]) -> PermissionCounts:
    """Count cards by state.

    Examples
    --------
    >>> permission_counts(["issued", "withheld", "issued"])
    PermissionCounts(issued=2, permission_seen=0, withheld=1)
    """
    c = Counter(CardState(s) for s in states)
    return PermissionCounts(c[CardState.ISSUED], c[CardState.PERMISSION_SEEN], c[CardState.WITHHELD])

"""What the gate applies and what it makes: :class:`DisclosurePolicy` (k, denominators, the
sensitive rule), :class:`ReleasedTable` (only :func:`~analysis.disclosure.disclose` makes one),
the footnotes, and how counts and percentages are written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.release_rules import DEFAULT_FLAG_DENOMINATOR, DEFAULT_K, DEFAULT_MIN_DENOMINATOR, MIN_K

# MIN_K (the smallest threshold the gate accepts) is owned by analysis.release_rules.
#: Marker shown for a suppressed count or estimate.
SUPPRESSED = "s"
#: Marker for an estimate whose denominator is under the reliability minimum.
UNRELIABLE = "*"
_GATE = object()

FOOTNOTES = {
    "s": (
        "s: hidden to protect children's privacy - a count from 1 to {k_1}, or another cell "
        "hidden so that such a count cannot be worked out from the totals."
    ),
    "*": "*: not shown, based on fewer than {min_den} children.",
    "()": "( ): based on {min_den} to {flag_den_1} children; read with care.",
    "sens": "Shares under {low:g} % or over {high:g} % are shown as '<{low:g} %' / '>{high:g} %'.",
}


class DisclosureError(ValueError):
    """Raised when something would be released that the rules do not allow."""


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds of the gate (per consultation; defaults from the reference).

    Parameters
    ----------
    k : int
        Counts 1 .. k-1 are suppressed. Refused below :data:`MIN_K`.
    min_denominator : int
        Estimates with a smaller denominator are not shown.
    flag_denominator : int
        Estimates with a denominator under this (and >= ``min_denominator``) are
        shown in parentheses.
    sensitive_low, sensitive_high : float
        Percent bounds coded as "<low %" / ">high %" for sensitive items.
    protection : float, optional
        Required width of the interval an intruder can derive for a primary-suppressed
        cell from the published totals (default: k).

    Examples
    --------
    >>> DisclosurePolicy(k=5).k
    5
    >>> DisclosurePolicy(k=3)
    Traceback (most recent call last):
    ...
    analysis.disclosure.policy.DisclosureError: k=3 is below the minimum of 5 ...
    """

    k: int = DEFAULT_K
    min_denominator: int = DEFAULT_MIN_DENOMINATOR
    flag_denominator: int = DEFAULT_FLAG_DENOMINATOR
    sensitive_low: float = 5.0
    sensitive_high: float = 95.0
    protection: float | None = None

    @property
    def min_interval(self) -> float:
        """Width an intruder's interval for a primary cell must reach (default k)."""
        return float(self.k if self.protection is None else self.protection)

    def __post_init__(self) -> None:
        if int(self.k) < MIN_K:
            raise DisclosureError(
                f"k={self.k} is below the minimum of {MIN_K} that Sauti allows for "
                "children's data; use 5 or more (10 is the default)"
            )
        if self.min_denominator < self.k:
            raise DisclosureError("min_denominator must be at least k")
        if self.flag_denominator < self.min_denominator:
            raise DisclosureError("flag_denominator must be at least min_denominator")

    def footnotes(self, sensitive: bool = False) -> tuple[str, ...]:
        """The standard footnotes for a table released under this policy."""
        fmt = {
            "k_1": self.k - 1,
            "min_den": self.min_denominator,
            "flag_den_1": self.flag_denominator - 1,
            "low": self.sensitive_low,
            "high": self.sensitive_high,
        }
        keys = ["s", "*", "()"] + (["sens"] if sensitive else [])
        return tuple(FOOTNOTES[k].format(**fmt) for k in keys)


@dataclass(frozen=True, eq=False)
class ReleasedTable:
    """A table that passed :func:`disclose`; the only input charts and exports accept.

    It holds released values only: suppressed cells are missing in :attr:`data`, so the
    true small numbers never travel further.

    Attributes
    ----------
    data : DataFrame
        Released numbers (nullable; suppressed/hidden values are ``<NA>``).
    display : DataFrame
        The same table as strings, with the markers "s", "*", "( )", "<5 %", ">95 %".
    kind : {"counts", "frequencies", "estimates"}
    title : str
    policy : DisclosurePolicy
    sensitive : bool
    notes : tuple of str
        Footnotes to print with the table.
    meta : dict
        Free-form context (item, breakdown, ...).
    """

    data: pd.DataFrame
    display: pd.DataFrame
    kind: str
    title: str
    policy: DisclosurePolicy
    sensitive: bool = False
    notes: tuple[str, ...] = ()
    n_primary: int = 0
    n_secondary: int = 0
    meta: Mapping[str, Any] = field(default_factory=dict)
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("a ReleasedTable can only be produced by analysis.disclose()")


def require_released(obj: Any, what: str = "this output") -> ReleasedTable:
    """Return ``obj`` if it passed the gate, else raise ``TypeError``."""
    if not isinstance(obj, ReleasedTable):
        raise TypeError(f"{what} accepts only a ReleasedTable from analysis.disclose(), not {type(obj).__name__}")
    return obj


# --------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------


def format_percent(pct: float, denominator: float, policy: DisclosurePolicy, sensitive: bool = False) -> str:
    """One percentage as released: reliability and sensitivity coding applied.

    Examples
    --------
    >>> p = DisclosurePolicy()
    >>> [format_percent(40.0, n, p) for n in (24, 25, 49, 50)]
    ['*', '(40.0 %)', '(40.0 %)', '40.0 %']
    >>> format_percent(100.0, 80, p, sensitive=True), format_percent(2.5, 80, p, True)
    ('>95 %', '<5 %')
    """
    if denominator is None or pd.isna(denominator) or denominator == 0:
        return "-"
    if denominator < policy.min_denominator:
        return UNRELIABLE
    if pct is None or pd.isna(pct):
        return SUPPRESSED
    if sensitive and pct < policy.sensitive_low:
        text = f"<{policy.sensitive_low:g} %"
    elif sensitive and pct > policy.sensitive_high:
        text = f">{policy.sensitive_high:g} %"
    else:
        text = f"{pct:.1f} %"
    if denominator < policy.flag_denominator:
        text = f"({text})"
    return text


def _fmt_count(v) -> str:
    return SUPPRESSED if pd.isna(v) else f"{int(v)}"

"""Differencing: :class:`DifferencingGuard` leaves out a table whose group is nested in another
published group and differs from it by 1 to k-1 children; released cells read back from a release."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.disclosure.policy import _GATE, SUPPRESSED, DisclosureError, DisclosurePolicy, ReleasedTable


class DifferencingGuard:
    """Refuses a published group size whose difference from another exposes a small group (A13).

    Every published population is a filter ``{column: set of values}`` (a column left out
    means "everyone") with its number of children. When one population is nested in
    another, the children in the larger but not the smaller are a group too; if that
    difference is between 1 and k-1 the new publication is refused (Wisconsin's "indirect
    disclosure").

    Examples
    --------
    >>> g = DifferencingGuard(DisclosurePolicy())
    >>> g.publish({}, 120)
    >>> g.publish({"disability": {"no"}}, 116)
    Traceback (most recent call last):
    ...
    analysis.disclosure.policy.DisclosureError: publishing 116 for disability in ['no'] would expose 4 children ...
    """

    def __init__(self, policy: DisclosurePolicy | None = None):
        self.policy = policy or DisclosurePolicy()
        self._published: list[tuple[dict[str, frozenset], int]] = []

    @staticmethod
    def _norm(filt: Mapping[str, Any]) -> dict[str, frozenset]:
        out = {}
        for col, vals in filt.items():
            if isinstance(vals, str | int | float):
                vals = [vals]
            out[col] = frozenset(str(v) for v in vals)
        return out

    @staticmethod
    def _within(small: Mapping[str, frozenset], big: Mapping[str, frozenset]) -> bool:
        for col, vals in big.items():
            if col not in small or not small[col] <= vals:
                return False
        return True

    def check(self, filt: Mapping[str, Any], n: int) -> None:
        """Raise :class:`DisclosureError` if publishing ``n`` for ``filt`` is unsafe."""
        f = self._norm(filt)
        k = self.policy.k
        for other, m in self._published:
            if self._within(f, other):
                diff = m - n
            elif self._within(other, f):
                diff = n - m
            else:
                continue
            if 0 < diff < k:
                desc = ", ".join(f"{c} in {sorted(v)}" for c, v in f.items()) or "everyone"
                raise DisclosureError(
                    f"publishing {n} for {desc} would expose {diff} children by difference "
                    f"with a published count of {m}; merge groups or leave this out"
                )

    def publish(self, filt: Mapping[str, Any], n: int) -> None:
        """Check, then record a published population size."""
        self.check(filt, n)
        self._published.append((self._norm(filt), int(n)))


def released_from_release(
    display: pd.DataFrame,
    title: str,
    policy: DisclosurePolicy,
    notes: Sequence[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> ReleasedTable:
    """Wrap a table of :mod:`analysis.release` (its cells already protected) for the renderers.

    ``display`` holds the published text of every cell ("s" for a hidden one); nothing in it
    is recomputed here, so the report shows exactly what the release published.
    """
    if not isinstance(display, pd.DataFrame):
        raise TypeError("released_from_release needs the release table's display frame")
    return ReleasedTable(
        display.copy(),
        display.copy(),
        "counts",
        title,
        policy,
        False,
        tuple(notes),
        int((display == SUPPRESSED).to_numpy().sum()),
        0,
        dict(meta or {}),
        _GATE,
    )

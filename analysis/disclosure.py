"""The one disclosure-control gate (A-01, A-02, A11, A12).

Everything that leaves the analysis package -- tables, charts, exports, feedback sheets --
is built from a :class:`ReleasedTable`, and only :func:`disclose` can make one. Charts,
reports and exports refuse anything else (``TypeError``).

Rules applied by :func:`disclose` (all configurable in :class:`DisclosurePolicy`):

* primary suppression of counts 1 .. k-1 (k = 10 by default, never below 5); 0 is shown;
* secondary (complementary) suppression so that no suppressed cell can be worked out from
  the published row and column totals: a suppressed cell is determined exactly when it is a
  *bridge* in the bipartite graph of suppressed cells over the table's row and column
  constraints, so cells are added until no bridge is left (cheapest 4-cycle first);
* sensitive items: a share under 5 % or over 95 % is shown as "<5 %" / ">95 %" and its count
  is suppressed;
* reliability (MICS convention): an estimate with a denominator under 25 is not shown
  ("*"), 25-49 is shown in parentheses.

Examples
--------
>>> t = pd.DataFrame({"yes": [40, 3, 25], "no": [30, 20, 2]}, index=["A", "B", "C"])
>>> rel = disclose(t, title="Heard of the helpline, by band")
>>> rel.display
      yes  no Total
A      40  30    70
B       s   s    23
C       s   s    27
Total  68  52   120
>>> rel.n_primary, rel.n_secondary
(2, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .frames import DK, RNS, ItemMeta, _as_codebook
from .release_rules import DEFAULT_FLAG_DENOMINATOR, DEFAULT_K, DEFAULT_MIN_DENOMINATOR, MIN_K

__all__ = [
    "MIN_K",
    "SUPPRESSED",
    "DifferencingGuard",
    "DisclosureError",
    "DisclosurePolicy",
    "ReleasedTable",
    "disclose",
    "format_percent",
    "released_from_release",
    "require_released",
    "secondary_suppression",
]

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
    analysis.disclosure.DisclosureError: k=3 is below the minimum of 5 ...
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
# secondary suppression
# --------------------------------------------------------------------------------------


def _bridges(mask: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells that lie on no cycle of the row/column graph (= recoverable)."""
    R, C = mask.shape
    cells = [tuple(x) for x in np.argwhere(mask)]
    adj: dict[int, list[tuple[int, int]]] = {}
    for e, (i, j) in enumerate(cells):
        adj.setdefault(i, []).append((R + j, e))
        adj.setdefault(R + j, []).append((i, e))
    # Tarjan's bridge finding (iterative)
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    out = []
    timer = 0
    for root in adj:
        if root in disc:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, parent_edge, it = stack[-1]
            advanced = False
            for nxt, e in it:
                if e == parent_edge:
                    continue
                if nxt in disc:
                    low[node] = min(low[node], disc[nxt])
                else:
                    disc[nxt] = low[nxt] = timer
                    timer += 1
                    stack.append((nxt, e, iter(adj[nxt])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        out.append(cells[parent_edge])
    return sorted(out)


def suppression_intervals(
    values: np.ndarray, mask: np.ndarray, cells: Sequence[tuple[int, int]] | None = None
) -> dict[tuple[int, int], tuple[float, float]]:
    """What an intruder can learn: [min, max] of each suppressed cell by linear programming.

    ``values`` has the margins as its last row and column; every row and column sum is
    taken as published, every unsuppressed cell as known, all cells as non-negative.
    """
    from scipy.optimize import linprog

    values = np.asarray(values, dtype=float)
    R, C = values.shape
    var = {tuple(x): k for k, x in enumerate(np.argwhere(mask))}
    if not var:
        return {}
    A, b = [], []
    for i in range(R):  # row i: interior cells - total cell = 0
        row, rhs = np.zeros(len(var)), 0.0
        for j in range(C):
            coef = -1.0 if j == C - 1 else 1.0
            if (i, j) in var:
                row[var[(i, j)]] += coef
            else:
                rhs -= coef * values[i, j]
        if row.any():
            A.append(row)
            b.append(rhs)
    for j in range(C):
        col, rhs = np.zeros(len(var)), 0.0
        for i in range(R):
            coef = -1.0 if i == R - 1 else 1.0
            if (i, j) in var:
                col[var[(i, j)]] += coef
            else:
                rhs -= coef * values[i, j]
        if col.any():
            A.append(col)
            b.append(rhs)
    out = {}
    for cell in cells if cells is not None else list(var):
        if not A:  # nothing published constrains the hidden cells
            out[tuple(cell)] = (0.0, float("inf"))
            continue
        c = np.zeros(len(var))
        c[var[tuple(cell)]] = 1
        lo = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        # An unbounded maximum (a hidden row total, say) means the intruder learns no upper
        # bound at all: the widest possible interval, which protects the cell.
        low = float(lo.fun) if lo.status == 0 and lo.fun is not None else 0.0
        high = float(-hi.fun) if hi.status == 0 and hi.fun is not None else float("inf")
        out[tuple(cell)] = (low, high)
    return out


def secondary_suppression(
    values: np.ndarray,
    primary: np.ndarray,
    cost: np.ndarray | None = None,
    protection: float = 0,
    start: np.ndarray | None = None,
    max_lp_cells: int = 40,
) -> np.ndarray:
    """Complementary suppression for a table whose every row and column sums are known.

    ``values`` must already include the margins as its last row and column (so that
    totals can be suppressed too). Cells are added, cheapest 4-cycle first, until every
    suppressed cell lies on a cycle of suppressed cells; then no suppressed value follows
    from the published ones, and each can move by at least the smallest value on its cycle.

    Parameters
    ----------
    values : ndarray, shape (R, C)
        Non-negative counts with margins.
    primary : ndarray of bool
        Cells that must be suppressed.
    cost : ndarray, optional
        Cost of suppressing each cell (default: the value, zeros and margins dearer).
    protection : float
        Minimum width of every primary cell's feasible interval (A11: the threshold k).
        After the cycle rule holds, an LP audit (:func:`suppression_intervals`) finds the
        primary cells an intruder could pin down more narrowly, and a further cycle through
        each, with cells large enough to widen it, is suppressed (best effort: a table too
        small to give that much cover keeps its widest possible pattern).
    start : ndarray of bool, optional
        Cells already suppressed (default: ``primary``).
    max_lp_cells : int
        Above this many primary cells the LP width audit is skipped (the cycle rule still
        guarantees no cell can be recovered exactly); break such tables down less finely.

    Returns
    -------
    ndarray of bool
        The full suppression pattern (primary + secondary).

    Examples
    --------
    >>> v = np.array([[3, 20, 23], [30, 40, 70], [33, 60, 93]])
    >>> secondary_suppression(v, v == 3).astype(int)
    array([[1, 1, 0],
           [1, 1, 0],
           [0, 0, 0]])
    """
    values = np.asarray(values, dtype=float)
    mask = np.asarray(primary if start is None else start, dtype=bool) | np.asarray(primary)
    R, C = values.shape
    if cost is None:
        big = float(values.max() if values.size else 1) + 1
        cost = np.where(values > 0, values, 4 * big)
        cost[-1, :] += 2 * big
        cost[:, -1] += 2 * big
    if R < 2 or C < 2:
        raise ValueError("secondary_suppression needs a table with margins (>= 2 x 2)")
    mask = _close_cycles(values, mask, cost)
    primary = np.asarray(primary, dtype=bool)
    if protection <= 0 or int((primary & mask).sum()) > max_lp_cells:
        # very large tables (e.g. hundreds of sites) keep the cycle rule only: no cell is
        # recoverable, but the LP width audit would take minutes
        return mask
    # adding suppression only widens intervals, so a cell found wide enough stays so
    pending = [tuple(x) for x in np.argwhere(primary & mask)]
    for _ in range(R * C):
        narrow = [
            (c, lo, hi)
            for c, (lo, hi) in suppression_intervals(values, mask, pending).items()
            if hi - lo < protection - 1e-9
        ]
        pending = [c for c, _, _ in narrow]
        if not narrow:
            break
        (i, j), lo, hi = narrow[0]
        need = protection - (hi - lo)
        extra = np.where(mask, 0.0, cost)
        # a new cycle (i,j) -> (i,j2) -> (i2,j2) -> (i2,j) whose cells next to (i,j) can
        # absorb at least `need`; already-suppressed cells are free
        big = (values >= need) | mask
        total = extra[i, :][None, :] + extra + extra[:, j][:, None]
        ok = big[i, :][None, :] & big[:, j][:, None] & (values > 0)
        ok[i, :] = False
        ok[:, j] = False
        new = ok & ~(mask[i, :][None, :] & mask & mask[:, j][:, None])
        if not new.any():
            break  # nothing left to add: keep the best pattern found
        total = np.where(new, total, np.inf)
        i2, j2 = np.unravel_index(np.argmin(total), total.shape)
        mask[i, j2] = mask[i2, j2] = mask[i2, j] = True
        mask = _close_cycles(values, mask, cost)
    return mask


def _close_cycles(values: np.ndarray, mask: np.ndarray, cost: np.ndarray) -> np.ndarray:
    R, C = values.shape
    for _ in range(R * C):
        bridges = _bridges(mask)
        if not bridges:
            return mask
        i, j = bridges[0]
        extra = np.where(mask, 0.0, cost)
        # cost of closing the cycle (i,j) -> (i,j2) -> (i2,j2) -> (i2,j)
        total = extra[i, :][None, :] + extra + extra[:, j][:, None]
        total[i, :] = np.inf
        total[:, j] = np.inf
        i2, j2 = np.unravel_index(np.argmin(total), total.shape)
        mask[i, j2] = mask[i2, j2] = mask[i2, j] = True
    raise RuntimeError("secondary suppression did not converge")  # pragma: no cover


def _with_margins(counts: np.ndarray) -> np.ndarray:
    ext = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1), dtype=np.int64)
    ext[:-1, :-1] = counts
    ext[:-1, -1] = counts.sum(axis=1)
    ext[-1, :-1] = counts.sum(axis=0)
    ext[-1, -1] = counts.sum()
    return ext


def _primary(ext: np.ndarray, k: int) -> np.ndarray:
    return (ext >= 1) & (ext < k)


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


# --------------------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------------------


def disclose(
    table: pd.DataFrame | pd.Series,
    policy: DisclosurePolicy | None = None,
    *,
    title: str = "",
    sensitive: bool = False,
    kind: str | None = None,
    codebook: Mapping[str, ItemMeta] | None = None,
    n_column: str = "n",
    value_columns: Sequence[str] | None = None,
    count_column: str | None = None,
    meta: Mapping[str, Any] | None = None,
    margins: bool = True,
) -> ReleasedTable:
    """The disclosure-control gate: the only way to make a :class:`ReleasedTable`.

    Parameters
    ----------
    table : DataFrame or Series
        * ``kind="counts"`` (default for a numeric 2-D frame or a Series): a table of
          counts; margins are added and published.
        * ``kind="frequencies"`` (default when ``count`` and ``denominator`` columns exist):
          the output of :func:`analysis.descriptives.frequencies`.
        * ``kind="estimates"``: one row per estimate with a denominator column
          ``n_column`` (Borda scores, Likert summaries, test results).
    policy : DisclosurePolicy, optional
        Thresholds (default :class:`DisclosurePolicy()`).
    title : str
        Table title (kept with the release).
    sensitive : bool
        Apply the "<5 %" / ">95 %" coding (frequencies use the codebook's ``sensitive``).
    codebook : mapping, optional
        Item metadata for ``kind="frequencies"``.
    n_column, value_columns : str, list of str
        For ``kind="estimates"``: the denominator and the estimate columns to hide.
    count_column : str, optional
        For ``kind="estimates"`` of a proportion: its numerator. A numerator of 1..k-1 is
        suppressed like a count (the estimate and the numerator are hidden), since
        estimate x denominator would give it back.
    meta : mapping, optional
        Context stored with the release.
    margins : bool
        Counts only: publish row/column totals (and protect cells against them). Use
        ``False`` only for stages that are not parts of a whole (a participation funnel);
        then only primary suppression applies and no total is shown.

    Returns
    -------
    ReleasedTable
    """
    policy = policy or DisclosurePolicy()
    if kind is None:
        if isinstance(table, pd.Series):
            kind = "counts"
        elif {"count", "denominator"} <= set(table.columns):
            kind = "frequencies"
        else:
            kind = "counts"
    meta = dict(meta or {})
    if kind == "counts":
        return _disclose_counts(table, policy, title, sensitive, meta, margins)
    if kind == "frequencies":
        return _disclose_frequencies(table, policy, title, codebook, meta, sensitive)
    if kind == "estimates":
        return _disclose_estimates(table, policy, title, n_column, value_columns, meta, sensitive, count_column)
    raise ValueError("kind must be 'counts', 'frequencies' or 'estimates'")


def _disclose_counts(table, policy, title, sensitive, meta, margins=True) -> ReleasedTable:
    one_d = isinstance(table, pd.Series)
    frame = table.to_frame().T if one_d else table
    if one_d:
        frame.index = [table.name if table.name is not None else "count"]
    values = frame.to_numpy()
    if values.size and (np.any(pd.isna(values)) or np.any(values < 0) or not np.all(np.equal(np.mod(values, 1), 0))):
        raise DisclosureError("a counts table must hold non-negative whole numbers")
    counts = values.astype(np.int64)
    ext = _with_margins(counts)
    primary = _primary(ext, policy.k)
    if sensitive:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = 100 * ext / ext[:, -1:]
        extreme = (share < policy.sensitive_low) | (share > policy.sensitive_high)
        extreme[:, -1] = False
        primary |= extreme & (ext[:, -1:] > 0)
    if margins:
        mask = secondary_suppression(ext, primary, protection=policy.min_interval) if primary.any() else primary
    else:
        mask = primary
    released = pd.DataFrame(
        ext, columns=[*map(str, frame.columns), "Total"], index=[*map(str, frame.index), "Total"]
    ).astype("Int64")
    released = released.mask(mask)
    if not margins:
        released = released.iloc[:-1, :-1]
        mask, primary = mask[:-1, :-1], primary[:-1, :-1]
    if one_d:
        released = released.iloc[:1]
        mask_shown = mask[:1]
    else:
        mask_shown = mask
    display = released.map(_fmt_count)
    notes = policy.footnotes(sensitive) if mask.any() else ()
    return ReleasedTable(
        data=released,
        display=display,
        kind="counts",
        title=title,
        policy=policy,
        sensitive=sensitive,
        notes=notes,
        n_primary=int(primary[: mask_shown.shape[0]].sum()),
        n_secondary=int((mask_shown & ~primary[: mask_shown.shape[0]]).sum()),
        meta=meta,
        _gate=_GATE,
    )


def _disclose_frequencies(freq, policy, title, codebook, meta, sensitive) -> ReleasedTable:
    cb = _as_codebook(codebook, freq)
    meta.setdefault("codebook", cb)
    group_cols = [
        c
        for c in freq.columns
        if c not in ("item", "answer", "kind", "count", "denominator", "percent", "ci_low", "ci_high")
    ]
    out_parts = []
    n_primary = n_secondary = 0
    for item, block in freq.groupby("item", sort=False, observed=True):
        meta_i = cb.get(item) or ItemMeta(str(item))
        sens = sensitive or meta_i.sensitive
        block = block.copy()
        gkey = (
            block[group_cols].astype(str).agg(" / ".join, axis=1) if group_cols else pd.Series("all", index=block.index)
        )
        block["_g"] = gkey.to_numpy()
        groups = list(dict.fromkeys(block["_g"]))
        valid = block[block["kind"] == "valid"]
        codes = list(dict.fromkeys(valid["answer"]))
        vt = valid.pivot(index="_g", columns="answer", values="count").loc[groups, codes]
        valid_n = valid.groupby("_g", sort=False)["denominator"].first().loc[groups]
        res = block[block["kind"] != "valid"]
        rt = res.pivot(index="_g", columns="answer", values="count").reindex(index=groups, columns=[RNS, DK]).fillna(0)
        any_n = res.groupby("_g", sort=False)["denominator"].first().reindex(groups).fillna(0)
        # table 1: groups x substantive codes (margins = valid denominators)
        t1 = vt.to_numpy(dtype=np.int64)
        ext1 = _with_margins(t1)
        if meta_i.type != "multi" and not (ext1[:-1, -1] == valid_n.to_numpy()).all():
            raise DisclosureError(f"item {item!r}: counts do not add up to the denominators")
        prim1 = _primary(ext1, policy.k)
        if sens:
            dens = np.r_[valid_n.to_numpy(), valid_n.sum()].astype(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = 100 * ext1[:, :-1] / dens[:, None]
            extreme = (share < policy.sensitive_low) | (share > policy.sensitive_high)
            prim1[:, :-1] |= extreme & (dens[:, None] > 0)
        # table 2: groups x [substantive n, rns, dk] (margins = any-answer denominators)
        t2 = np.column_stack([valid_n.to_numpy(), rt.to_numpy()]).astype(np.int64)
        ext2 = _with_margins(t2)
        prim2 = _primary(ext2, policy.k)
        m1, m2 = prim1.copy(), prim2.copy()
        linked = meta_i.type != "multi"
        for _ in range(20):
            m1 = secondary_suppression(ext1, prim1, protection=policy.min_interval, start=m1) if m1.any() else m1
            m2 = secondary_suppression(ext2, prim2, protection=policy.min_interval, start=m2) if m2.any() else m2
            if not linked:
                break
            # the substantive denominators appear in both tables
            shared1, shared2 = m1[:, -1].copy(), m2[:, 0].copy()
            if (shared1 == shared2).all():
                break
            m1[:, -1] |= shared2
            m2[:, 0] |= shared1
        if meta_i.type == "multi":
            # the valid denominator is also the base of every choice's percentage
            m1[:-1, :-1] |= m2[:-1, 0][:, None]
        n_primary += int(prim1[:-1, :-1].sum() + prim2[:-1, 1:].sum())
        n_secondary += int((m1[:-1, :-1] & ~prim1[:-1, :-1]).sum() + (m2[:-1, 1:] & ~prim2[:-1, 1:]).sum())
        rows = []
        for r, g in enumerate(groups):
            vn = valid_n.loc[g]
            an = any_n.loc[g]
            vn_hidden = bool(m1[r, -1] or m2[r, 0])
            an_hidden = bool(m2[r, -1])
            for c, code in enumerate(codes):
                rows.append((g, code, "valid", t1[r, c], bool(m1[r, c]), vn, vn_hidden, bool(prim1[r, c]) and sens))
            for c, code in enumerate((RNS, DK)):
                rows.append(
                    (g, code, "rns" if code == RNS else "dk", t2[r, c + 1], bool(m2[r, c + 1]), an, an_hidden, False)
                )
        out = pd.DataFrame(
            rows, columns=["_g", "answer", "kind", "count", "hidden", "denominator", "den_hidden", "coded"]
        )
        src = block.set_index(["_g", "answer"])
        pct = src["percent"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        lo = src["ci_low"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        hi = src["ci_high"].reindex(pd.MultiIndex.from_frame(out[["_g", "answer"]]))
        out["percent"], out["ci_low"], out["ci_high"] = (pct.to_numpy(), lo.to_numpy(), hi.to_numpy())
        out.insert(0, "item", item)
        first = block.drop_duplicates("_g").set_index("_g")
        for gc in group_cols:
            out.insert(1 + group_cols.index(gc), gc, first.loc[out["_g"], gc].to_numpy())
        out["sensitive"] = sens
        out_parts.append(out)
    full = pd.concat(out_parts, ignore_index=True) if out_parts else pd.DataFrame()
    if full.empty:
        data = freq.iloc[:0].copy()
        return ReleasedTable(data, data.astype(str), "frequencies", title, policy, sensitive, (), 0, 0, meta, _GATE)
    hide_est = full["hidden"] | full["den_hidden"] | (full["denominator"] < policy.min_denominator)
    data = full[["item", *group_cols, "answer", "kind"]].copy()
    data["count"] = full["count"].astype("Int64").mask(full["hidden"])
    data["denominator"] = full["denominator"].astype("Int64").mask(full["den_hidden"])
    for col in ("percent", "ci_low", "ci_high"):
        data[col] = full[col].astype("Float64").mask(hide_est)
    data["flag"] = np.select(
        [
            full["den_hidden"] | (full["hidden"] & ~full["coded"]),
            full["denominator"] < policy.min_denominator,
            full["denominator"] < policy.flag_denominator,
        ],
        [SUPPRESSED, UNRELIABLE, "()"],
        "",
    )
    disp = data[["item", *group_cols]].copy().astype(object)
    disp["answer"] = [
        (cb.get(i) or ItemMeta(str(i))).label_of(a) for i, a in zip(data["item"], data["answer"], strict=True)
    ]
    disp["n"] = data["count"].map(_fmt_count)
    disp["of"] = data["denominator"].map(_fmt_count)
    texts = []
    for p, n_true, hidden, dh, coded, sens, kind in zip(
        full["percent"],
        full["denominator"],
        full["hidden"],
        full["den_hidden"],
        full["coded"],
        full["sensitive"],
        full["kind"],
        strict=True,
    ):
        # "<5 %" coding is for the sensitive answers themselves; a count of "I'd rather not
        # say" shown beside "<5 %" would only contradict it.
        sens = sens and kind == "valid"
        if dh:
            texts.append(SUPPRESSED)
        elif hidden and not coded:
            texts.append(UNRELIABLE if n_true < policy.min_denominator else SUPPRESSED)
        else:
            texts.append(format_percent(p, n_true, policy, sensitive=bool(sens)))
    disp["percent"] = texts
    ci = []
    for lo, hi, hide in zip(data["ci_low"], data["ci_high"], hide_est | full["coded"], strict=True):
        ci.append("" if hide or pd.isna(lo) else f"{lo:.1f}-{hi:.1f}")
    disp["95% CI"] = ci
    any_sens = bool(full["sensitive"].any())
    return ReleasedTable(
        data,
        disp.reset_index(drop=True),
        "frequencies",
        title,
        policy,
        any_sens,
        policy.footnotes(any_sens),
        n_primary,
        n_secondary,
        meta,
        _GATE,
    )


def _disclose_estimates(frame, policy, title, n_column, value_columns, meta, sensitive, count_column=None):
    if n_column not in frame.columns:
        raise DisclosureError(f"an estimates table needs its denominator column {n_column!r}")
    n = pd.to_numeric(frame[n_column])
    values = (
        list(value_columns)
        if value_columns is not None
        else [c for c in frame.columns if c != n_column and pd.api.types.is_numeric_dtype(frame[c])]
    )
    small = n < policy.k
    unreliable = n < policy.min_denominator
    values = [c for c in values if c != count_column]
    small_num = pd.Series(False, index=frame.index)
    if count_column is not None:
        cnum = pd.to_numeric(frame[count_column])
        small_num = (cnum >= 1) & (cnum < policy.k)
    data = frame.copy()
    for col in values:
        data[col] = data[col].astype("Float64").mask(unreliable | small_num)
    if count_column is not None:
        data[count_column] = pd.to_numeric(frame[count_column]).astype("Int64").mask(small_num | small)
    data[n_column] = n.astype("Int64").mask(small)
    data["flag"] = np.select(
        [small | small_num, unreliable, n < policy.flag_denominator], [SUPPRESSED, UNRELIABLE, "()"], ""
    )
    disp = data.astype(object).where(data.notna(), SUPPRESSED)
    for col in values:
        disp[col] = [
            (SUPPRESSED if f == SUPPRESSED else UNRELIABLE if u else (f"({v:.2f})" if f == "()" else f"{v:.2f}"))
            for v, u, f in zip(data[col], unreliable, data["flag"], strict=True)
        ]
    return ReleasedTable(
        data,
        disp,
        "estimates",
        title,
        policy,
        sensitive,
        policy.footnotes(sensitive),
        int((small | small_num).sum()),
        0,
        meta,
        _GATE,
    )


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
    analysis.disclosure.DisclosureError: publishing 116 for disability in ['no'] would expose 4 children ...
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

"""Secondary (complementary) suppression: a hidden cell is worked out exactly when it is a bridge
in the bipartite graph of hidden cells, so cells are added until no bridge is left."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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

"""Tests of association and group differences (B3, B4, B5).

* :func:`crosstab` -- chi-square with Cochran's check; Fisher's exact test when it fails
  (exact enumeration for R x C tables up to a size budget, seeded Monte Carlo beyond);
  Cramér's V always.
* :func:`mann_whitney`, :func:`kruskal_wallis` -- computed from the table of counts of an
  ordinal item (tie-corrected normal approximation, as ``scipy.stats`` does for tied
  data), with rank-biserial r / CLES and epsilon-squared.
* :func:`adjust_pvalues` -- Holm and Benjamini-Hochberg, always by explicit name.
* :func:`crosstabs`, :func:`compare_groups` -- all items at once from one counting pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from .descriptives import frame_counts
from .frames import RESERVED, ItemMeta, _as_codebook, infer_codebook

__all__ = [
    "CrosstabResult",
    "KruskalResult",
    "MannWhitneyResult",
    "adjust_pvalues",
    "compare_groups",
    "cramers_v",
    "cramers_v_corrected",
    "crosstab",
    "crosstabs",
    "fisher_exact_rxc",
    "kruskal_wallis",
    "mann_whitney",
]


@dataclass(frozen=True)
class CrosstabResult:
    """Result of :func:`crosstab` (scipy-style field names).

    Attributes
    ----------
    table : DataFrame
        Counts, groups x answers (reserved codes excluded unless asked for).
    test : str
        ``"chi-square"``, ``"fisher"`` (exact) or ``"fisher-montecarlo"``.
    statistic : float
        Pearson chi-square (also given when Fisher is used).
    pvalue : float
        p-value of the test named in ``test``.
    dof : int
    cramers_v : float
        Plain Cramér's V (as ``scipy.stats.contingency.association(method="cramer")``).
    n : int
    min_expected : float
    share_expected_below_5 : float
    cramers_v_corrected : float
        Bias-corrected Cramér's V (Bergsma 2013); plain V is biased upwards in small or
        sparse tables (it is above 0 even when there is no association).
    """

    table: pd.DataFrame
    test: str
    statistic: float
    pvalue: float
    dof: int
    cramers_v: float
    n: int
    min_expected: float
    share_expected_below_5: float
    cramers_v_corrected: float = float("nan")


@dataclass(frozen=True)
class MannWhitneyResult:
    """Mann-Whitney U for two groups.

    ``statistic`` is U of the first group (pairs where it is higher, ties counted half);
    ``rank_biserial`` = 2 U / (n1 n2) - 1 is positive when the first group tends to give
    higher codes; ``cles`` = U / (n1 n2) is the probability that a random child of the
    first group answers higher than one of the second (ties count half).
    """

    statistic: float
    pvalue: float
    rank_biserial: float
    cles: float
    n1: int
    n2: int
    z: float


@dataclass(frozen=True)
class KruskalResult:
    """Kruskal-Wallis H with epsilon-squared = H / (n - 1)."""

    statistic: float
    pvalue: float
    dof: int
    epsilon_squared: float
    n: int


# --------------------------------------------------------------------------------------
# contingency tables
# --------------------------------------------------------------------------------------


def _expected(t: np.ndarray) -> np.ndarray:
    return np.outer(t.sum(1), t.sum(0)) / t.sum()


def cramers_v(table) -> float:
    """Cramér's V (no bias correction, no continuity correction).

    Examples
    --------
    >>> round(cramers_v([[10, 20], [30, 5]]), 4)
    0.5367
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(1) > 0][:, t.sum(0) > 0]
    if t.size == 0 or min(t.shape) < 2:
        return float("nan")
    e = _expected(t)
    chi2 = float(((t - e) ** 2 / e).sum())
    return math.sqrt(chi2 / (t.sum() * (min(t.shape) - 1)))


def cramers_v_corrected(table) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013, *J Korean Stat Soc* 42:323-328).

    With :math:`\\varphi^2 = \\chi^2 / n` (Pearson, no continuity correction) for an
    r x k table:

    .. math:: \\tilde\\varphi^2 = \\max\\left(0, \\varphi^2 - \\frac{(k-1)(r-1)}{n-1}\\right),\\;
              \\tilde r = r - \\frac{(r-1)^2}{n-1},\\; \\tilde k = k - \\frac{(k-1)^2}{n-1},\\;
              \\tilde V = \\sqrt{\\frac{\\tilde\\varphi^2}{\\min(\\tilde k - 1, \\tilde r - 1)}}

    Examples
    --------
    >>> round(cramers_v_corrected([[10, 20], [30, 5]]), 4)  # plain V: 0.5367
    0.5261
    >>> cramers_v_corrected([[5, 5], [5, 5]])
    0.0
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(1) > 0][:, t.sum(0) > 0]
    n = t.sum()
    if t.size == 0 or min(t.shape) < 2 or n < 2:
        return float("nan")
    e = _expected(t)
    phi2 = float(((t - e) ** 2 / e).sum()) / n
    r, k = t.shape
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_t = r - (r - 1) ** 2 / (n - 1)
    k_t = k - (k - 1) ** 2 / (n - 1)
    denom = min(k_t - 1, r_t - 1)
    return math.sqrt(phi2 / denom) if denom > 0 else float("nan")


def _log_table_prob(t: np.ndarray) -> float:
    rows, cols, n = t.sum(1), t.sum(0), t.sum()
    return float(
        special.gammaln(rows + 1).sum()
        + special.gammaln(cols + 1).sum()
        - special.gammaln(n + 1)
        - special.gammaln(t + 1).sum()
    )


def fisher_exact_rxc(table, max_tables: int = 20_000, seed: int = 0) -> tuple[float, str]:
    """Fisher's exact test for an R x C table: p = P(tables no more likely than observed).

    Tables with the observed margins are enumerated exactly while there are at most
    ``max_tables`` of them; beyond that a Monte Carlo p-value (9,999 draws from
    ``scipy.stats.random_table``, fixed seed) is returned.

    Returns
    -------
    (pvalue, method) : tuple of float and str
        ``method`` is ``"exact"`` or ``"montecarlo"``.

    Examples
    --------
    >>> p, how = fisher_exact_rxc([[3, 1, 2], [1, 4, 0]])
    >>> round(p, 4), how
    (0.1126, 'exact')

    Notes
    -----
    The reference note quotes p = 0.1105 for this table, but ``scipy.stats.fisher_exact``
    without ``method`` estimates R x C p-values by simulation (repeated calls give
    0.109-0.117); full enumeration with exact fractions gives 0.112554.
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(1) > 0][:, t.sum(0) > 0]
    if t.size == 0 or min(t.shape) < 2:
        return 1.0, "exact"
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows, cols = t.sum(1), t.sum(0)
    lp_obs = _log_table_prob(t)
    # constant part of every table's log probability
    const = float(special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum() - special.gammaln(rows.sum() + 1))
    R, C = t.shape
    lgam = special.gammaln(np.arange(rows.sum() + 2) + 1)
    total = 0.0
    count = 0
    tol = 1e-7

    def compositions(n, caps):
        """All vectors v with 0 <= v <= caps and sum(v) = n."""
        if len(caps) == 1:
            if n <= caps[0]:
                yield (n,)
            return
        rest = sum(caps[1:])
        for first in range(max(0, n - rest), min(n, caps[0]) + 1):
            for tail in compositions(n - first, caps[1:]):
                yield (first, *tail)

    def walk(col, remaining, acc):
        nonlocal total, count
        if col == C - 1:
            count += 1
            if count > max_tables:
                raise OverflowError
            lp = const - acc - lgam[remaining].sum()
            if lp <= lp_obs + tol:
                total += math.exp(lp)
            return
        for v in compositions(int(cols[col]), tuple(int(x) for x in remaining)):
            arr = np.asarray(v)
            walk(col + 1, remaining - arr, acc + lgam[arr].sum())

    try:
        walk(0, rows.copy(), 0.0)
    except OverflowError:
        res = stats.fisher_exact(t, method=stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(seed)))
        return float(res.pvalue), "montecarlo"
    return min(1.0, total), "exact"


def _contingency_test(t: np.ndarray, correction: bool = False):
    t = np.asarray(t, dtype=np.int64)
    t = t[t.sum(1) > 0][:, t.sum(0) > 0]
    n = int(t.sum())
    if t.size == 0 or min(t.shape) < 2:
        return "none", float("nan"), float("nan"), 0, float("nan"), n, float("nan"), float("nan"), float("nan")
    e = _expected(t)
    chi = stats.chi2_contingency(t, correction=correction)
    v = cramers_v(t)
    vc = cramers_v_corrected(t)
    min_e = float(e.min())
    share5 = float((e < 5).mean())
    if min_e >= 1 and share5 <= 0.2:
        return "chi-square", float(chi.statistic), float(chi.pvalue), int(chi.dof), v, n, min_e, share5, vc
    if t.shape == (2, 2):
        p = float(stats.fisher_exact(t).pvalue)
        test = "fisher"
    else:
        p, how = fisher_exact_rxc(t)
        test = "fisher" if how == "exact" else "fisher-montecarlo"
    return test, float(chi.statistic), p, int(chi.dof), v, n, min_e, share5, vc


def _item_group_tables(long, by, items, codebook, include_reserved=False):
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    counts, cats = frame_counts(long, ["item", by, "answer"])
    item_cats, group_cats, answer_cats = cats
    a_pos = {a: j for j, a in enumerate(answer_cats)}
    out = {}
    for item in items:
        if item not in item_cats:
            raise KeyError(f"item {item!r} is not in the frame")
        meta = cb.get(item) or ItemMeta(item)
        codes = list(meta.choices) + (list(RESERVED) if include_reserved else [])
        idx = [a_pos[c] for c in codes if c in a_pos]
        block = counts[item_cats.index(item)][:, idx]
        table = pd.DataFrame(block, index=pd.Index(group_cats, name=by), columns=[c for c in codes if c in a_pos])
        # children who would rather not say their gender (etc.) are not a comparison group
        table = table[~table.index.isin(RESERVED)]
        out[item] = (table, meta)
    return out


def crosstab(
    long: pd.DataFrame,
    item: str,
    by: str,
    codebook: Mapping[str, ItemMeta] | None = None,
    include_reserved: bool = False,
) -> CrosstabResult:
    """Cross-tabulate one single-choice item by a respondent column and test association.

    Chi-square is used when Cochran's rule holds (no expected count below 1 and at most
    20 % below 5); otherwise Fisher's exact test. Empty rows/columns are dropped first, and
    so are groups coded "I'd rather not say" / "I don't know" in ``by``.

    Examples
    --------
    >>> from analysis.frames import make_long
    >>> long = make_long(pd.DataFrame({
    ...     "response_id": range(65), "item": "q", "gender": ["girl"] * 30 + ["boy"] * 35,
    ...     "answer": ["yes"] * 10 + ["no"] * 20 + ["yes"] * 30 + ["no"] * 5}),
    ...     codebook=[ItemMeta("q", "single", ("yes", "no"))])
    >>> r = crosstab(long, "q", "gender")
    >>> r.test, round(r.cramers_v, 4), r.n
    ('chi-square', 0.5367, 65)
    """
    table, _ = _item_group_tables(long, by, [item], codebook, include_reserved)[item]
    return _result(table)


def _result(table: pd.DataFrame) -> CrosstabResult:
    test, stat, p, dof, v, n, min_e, share5, vc = _contingency_test(table.to_numpy())
    return CrosstabResult(table, test, stat, p, dof, v, n, min_e, share5, vc)


def crosstabs(
    long: pd.DataFrame,
    by: str | Sequence[str],
    items: Iterable[str] | None = None,
    codebook: Mapping[str, ItemMeta] | None = None,
    adjust: str = "fdr_bh",
) -> pd.DataFrame:
    """Crosstab tests for many single/scale items and breakdowns, from one counting pass each.

    Returns a tidy frame ``item, by, test, statistic, dof, pvalue, p_adjusted, cramers_v,
    cramers_v_corrected, n, min_expected`` with p-values adjusted across the whole frame (``adjust``: "fdr_bh"
    or "holm"; B5: BH across a report section).
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    bys = [by] if isinstance(by, str) else list(by)
    wanted = (
        list(items)
        if items is not None
        else [i for i in long["item"].cat.categories if cb.get(i) and cb[i].type in ("single", "scale")]
    )
    rows = []
    for b in bys:
        for item, (table, _) in _item_group_tables(long, b, wanted, cb).items():
            r = _result(table)
            rows.append(
                (item, b, r.test, r.statistic, r.dof, r.pvalue, r.cramers_v, r.cramers_v_corrected, r.n, r.min_expected)
            )
    out = pd.DataFrame(
        rows,
        columns=[
            "item",
            "by",
            "test",
            "statistic",
            "dof",
            "pvalue",
            "cramers_v",
            "cramers_v_corrected",
            "n",
            "min_expected",
        ],
    )
    out.insert(6, "p_adjusted", adjust_pvalues(out["pvalue"].to_numpy(), adjust))
    return out


# --------------------------------------------------------------------------------------
# rank tests from count tables
# --------------------------------------------------------------------------------------


def _midranks(level_totals: np.ndarray) -> np.ndarray:
    cum = np.cumsum(level_totals)
    return cum - (level_totals - 1) / 2.0


def _tie_term(level_totals: np.ndarray) -> float:
    t = level_totals.astype(float)
    return float((t**3 - t).sum())


def mann_whitney_counts(c1, c2) -> MannWhitneyResult:
    """Mann-Whitney U from counts per ordered level for two groups (two-sided).

    Tie-corrected normal approximation with continuity correction, as
    ``scipy.stats.mannwhitneyu(..., method="asymptotic")``.
    """
    c1 = np.asarray(c1, dtype=float)
    c2 = np.asarray(c2, dtype=float)
    n1, n2 = c1.sum(), c2.sum()
    N = n1 + n2
    if n1 == 0 or n2 == 0:
        nan = float("nan")
        return MannWhitneyResult(nan, nan, nan, nan, int(n1), int(n2), nan)
    ranks = _midranks(c1 + c2)
    R1 = float((c1 * ranks).sum())
    U1 = R1 - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    var = n1 * n2 / 12 * ((N + 1) - _tie_term(c1 + c2) / (N * (N - 1)))
    if var <= 0:
        z, p = 0.0, 1.0
    else:
        z = (abs(U1 - mu) - 0.5) / math.sqrt(var)
        z = max(z, 0.0)
        p = float(min(1.0, 2 * stats.norm.sf(z)))
        z = math.copysign(z, U1 - mu)
    return MannWhitneyResult(
        float(U1), p, float(2 * U1 / (n1 * n2) - 1), float(U1 / (n1 * n2)), int(n1), int(n2), float(z)
    )


def mann_whitney(x, y) -> MannWhitneyResult:
    """Mann-Whitney U test with rank-biserial r and CLES for two samples of ordinal codes.

    Examples
    --------
    >>> r = mann_whitney([1, 2, 3, 4], [3, 4, 5, 5])
    >>> r.statistic, round(r.pvalue, 4), r.rank_biserial
    (2.0, 0.1059, -0.75)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    levels = np.unique(np.concatenate([x, y]))
    c1 = np.array([(x == v).sum() for v in levels])
    c2 = np.array([(y == v).sum() for v in levels])
    return mann_whitney_counts(c1, c2)


def kruskal_counts(table) -> KruskalResult:
    """Kruskal-Wallis H from a groups x ordered-levels table of counts (tie-corrected)."""
    t = np.asarray(table, dtype=float)
    t = t[t.sum(1) > 0]
    N = t.sum()
    if t.shape[0] < 2 or N < 2:
        nan = float("nan")
        return KruskalResult(nan, nan, 0, nan, int(N))
    ranks = _midranks(t.sum(0))
    R = (t * ranks).sum(1)
    n = t.sum(1)
    H = 12 / (N * (N + 1)) * float((R**2 / n).sum()) - 3 * (N + 1)
    ties = 1 - _tie_term(t.sum(0)) / (N**3 - N)
    if ties <= 0:
        return KruskalResult(0.0, 1.0, t.shape[0] - 1, 0.0, int(N))
    H /= ties
    dof = t.shape[0] - 1
    return KruskalResult(float(H), float(stats.chi2.sf(H, dof)), dof, float(H / (N - 1)), int(N))


def kruskal_wallis(*groups) -> KruskalResult:
    """Kruskal-Wallis H test with epsilon-squared effect size.

    Examples
    --------
    >>> r = kruskal_wallis([1, 2, 3], [3, 4, 5], [5, 5, 4])
    >>> round(r.statistic, 3), round(r.pvalue, 4), round(r.epsilon_squared, 3)
    (5.544, 0.0625, 0.693)
    """
    arrs = [np.asarray(g, dtype=float) for g in groups]
    arrs = [a[~np.isnan(a)] for a in arrs]
    levels = np.unique(np.concatenate(arrs))
    table = np.array([[(a == v).sum() for v in levels] for a in arrs])
    return kruskal_counts(table)


def compare_groups(
    long: pd.DataFrame,
    by: str | Sequence[str],
    items: Iterable[str] | None = None,
    codebook: Mapping[str, ItemMeta] | None = None,
    adjust: str = "fdr_bh",
) -> pd.DataFrame:
    """Compare scale items across groups: Mann-Whitney for 2 groups, Kruskal-Wallis for more.

    Reserved codes and skips are left out; groups with no answers are dropped.

    Returns
    -------
    DataFrame
        ``item, by, test, groups, n, statistic, pvalue, p_adjusted, effect, effect_size``
        (``effect`` is "rank-biserial" or "epsilon-squared").
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    bys = [by] if isinstance(by, str) else list(by)
    wanted = (
        list(items)
        if items is not None
        else [i for i in long["item"].cat.categories if cb.get(i) and cb[i].type == "scale"]
    )
    rows = []
    for b in bys:
        for item, (table, _) in _item_group_tables(long, b, wanted, cb).items():
            t = table[table.sum(axis=1) > 0]
            if len(t) == 2:
                r = mann_whitney_counts(t.iloc[0].to_numpy(), t.iloc[1].to_numpy())
                rows.append(
                    (
                        item,
                        b,
                        "mann-whitney",
                        f"{t.index[0]} vs {t.index[1]}",
                        r.n1 + r.n2,
                        r.statistic,
                        r.pvalue,
                        "rank-biserial",
                        r.rank_biserial,
                    )
                )
            elif len(t) > 2:
                kw = kruskal_counts(t.to_numpy())
                rows.append(
                    (
                        item,
                        b,
                        "kruskal-wallis",
                        ", ".join(map(str, t.index)),
                        kw.n,
                        kw.statistic,
                        kw.pvalue,
                        "epsilon-squared",
                        kw.epsilon_squared,
                    )
                )
    out = pd.DataFrame(
        rows, columns=["item", "by", "test", "groups", "n", "statistic", "pvalue", "effect", "effect_size"]
    )
    out.insert(7, "p_adjusted", adjust_pvalues(out["pvalue"].to_numpy(), adjust))
    return out


# --------------------------------------------------------------------------------------
# multiplicity
# --------------------------------------------------------------------------------------


def adjust_pvalues(pvalues, method: str) -> np.ndarray:
    """Adjust p-values for multiple testing; the method must be named (B5).

    Parameters
    ----------
    pvalues : array_like
        NaN entries are kept as NaN and not counted.
    method : {"holm", "fdr_bh"}
        Holm step-down (FWER) or Benjamini-Hochberg (FDR). ``"bh"`` is an alias.

    Examples
    --------
    >>> adjust_pvalues([.01, .02, .03, .04, .2], "fdr_bh").round(3).tolist()
    [0.05, 0.05, 0.05, 0.05, 0.2]
    >>> adjust_pvalues([.01, .02, .03, .04, .2], "holm").round(3).tolist()
    [0.05, 0.08, 0.09, 0.09, 0.2]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    ranked = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method in ("fdr_bh", "bh"):
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
    else:
        raise ValueError("method must be 'holm' or 'fdr_bh'")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out

"""Clustering by site: one-way ANOVA ICC and the design effect (B9).

The design effect allows for sites of unequal size (Kish 1965; Eldridge, Ashby & Kerry 2006,
*Int J Epidemiol* 35:1292):

.. math:: deff = 1 + \\left((cv^2 + 1)\\,\\bar m - 1\\right) ICC

with :math:`\\bar m` the mean site size and :math:`cv` the coefficient of variation of the site
sizes (standard deviation over the sites, ``ddof=0``, divided by the mean), which equals
``1 + (sum(m_j**2) / N - 1) * ICC``: exactly the variance of the overall mean of N children
under a random-intercept model over its variance for N independent children. With equal sites
it is the familiar ``1 + (m - 1) * ICC``; the mean-size formula alone understates it when
sites differ (sites of 40, 5, 5, 5, 5 children and ICC 0.1: 3.73, not 2.10, so the effective
sample is 16 children, not 29). The ICC is the one-way random-effects ICC(1) with the
unequal-cluster-size correction ``n0``:

.. math:: ICC = \\frac{MSB - MSW}{MSB + (n_0 - 1) MSW}, \\quad
          n_0 = \\frac{N - \\sum n_j^2 / N}{J - 1}

Examples
--------
>>> r = icc_oneway([9, 2, 5, 8, 6, 1, 3, 2, 8, 4, 6, 8, 7, 1, 2, 6, 10, 5, 6, 9, 6, 2, 4, 7],
...                [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [6] * 4)
>>> round(r.icc, 2)  # Shrout & Fleiss (1979), Table 4: ICC(1,1) = .17
0.17
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .frames import ItemMeta, _as_codebook

__all__ = ["DesignEffect", "ICCResult", "design_effect", "design_effects", "icc_oneway", "kish_deff"]


@dataclass(frozen=True)
class ICCResult:
    """One-way ANOVA intraclass correlation."""

    icc: float
    msb: float
    msw: float
    n0: float
    groups: int
    n: int
    statistic: float
    pvalue: float


@dataclass(frozen=True)
class DesignEffect:
    """Design effect of a clustered estimate."""

    deff: float
    icc: float
    mean_cluster_size: float
    n: int
    n_effective: float
    clusters: int
    cluster_size_cv: float = 0.0


def icc_oneway(values, groups) -> ICCResult:
    """ICC(1) from a one-way ANOVA of ``values`` by ``groups`` (NaN values dropped)."""
    y = np.asarray(values, dtype=float)
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype):
        codes = groups.cat.codes.to_numpy().astype(np.int64)
    else:
        codes, _ = pd.factorize(np.asarray(groups))
    keep = ~np.isnan(y) & (codes >= 0)
    y, codes = y[keep], codes[keep]
    present = np.bincount(codes) > 0 if len(codes) else np.zeros(0, bool)
    codes = (np.cumsum(present) - 1)[codes] if len(codes) else codes
    J = int(present.sum())
    N = len(y)
    if J < 2 or N <= J:
        nan = float("nan")
        return ICCResult(nan, nan, nan, nan, J, N, nan, nan)
    nj = np.bincount(codes, minlength=J).astype(float)
    sums = np.bincount(codes, weights=y, minlength=J)
    means = sums / nj
    grand = y.mean()
    ssb = float((nj * (means - grand) ** 2).sum())
    ssw = float(((y - means[codes]) ** 2).sum())
    msb = ssb / (J - 1)
    msw = ssw / (N - J)
    n0 = (N - (nj**2).sum() / N) / (J - 1)
    denom = msb + (n0 - 1) * msw
    icc = (msb - msw) / denom if denom > 0 else float("nan")
    F = msb / msw if msw > 0 else float("inf")
    p = float(stats.f.sf(F, J - 1, N - J)) if np.isfinite(F) else 0.0
    return ICCResult(float(icc), msb, msw, float(n0), J, N, float(F), p)


def kish_deff(sizes, icc: float) -> float:
    """Design effect for clusters of unequal ``sizes``: ``1 + ((cv**2 + 1) * mean - 1) * icc``.

    ``cv`` is the coefficient of variation of the sizes (``ddof=0``); see the module notes.

    Examples
    --------
    >>> round(kish_deff([40, 5, 5, 5, 5], 0.1), 4)  # the mean-size formula gives 2.1
    3.7333
    >>> kish_deff([10, 10, 10], 0.2)  # equal sizes: 1 + (m - 1) * icc
    2.8
    """
    m = np.asarray(sizes, dtype=float)
    m = m[m > 0]
    if len(m) == 0 or np.isnan(icc):
        return float("nan")
    mean = m.mean()
    cv = m.std(ddof=0) / mean
    return float(1 + ((cv**2 + 1) * mean - 1) * icc)


def design_effect(values, clusters, truncate: bool = True) -> DesignEffect:
    """Design effect of the mean of ``values`` under clustering, for unequal cluster sizes.

    ``deff = 1 + ((cv**2 + 1) * m - 1) * ICC`` (:func:`kish_deff`), counting only children
    with an answer. A negative ICC estimate is truncated at 0 (deff = 1) unless
    ``truncate=False``.

    Examples
    --------
    >>> d = design_effect([1, 1, 1, 0, 0, 0], ["a", "a", "a", "b", "b", "b"])
    >>> d.icc, d.deff, d.n_effective
    (1.0, 3.0, 2.0)
    """
    y = np.asarray(values, dtype=float)
    r = icc_oneway(y, clusters)
    icc = max(r.icc, 0.0) if truncate and not np.isnan(r.icc) else r.icc
    m = r.n / r.groups if r.groups else float("nan")
    if isinstance(clusters, pd.Series) and isinstance(clusters.dtype, pd.CategoricalDtype):
        codes = clusters.cat.codes.to_numpy().astype(np.int64)
    else:
        codes, _ = pd.factorize(np.asarray(clusters))
    keep = ~np.isnan(y) & (codes >= 0)
    sizes = np.bincount(codes[keep]) if keep.any() else np.zeros(0)
    sizes = sizes[sizes > 0]
    deff = kish_deff(sizes, icc) if len(sizes) else float("nan")
    cv = float(sizes.std(ddof=0) / sizes.mean()) if len(sizes) else float("nan")
    return DesignEffect(float(deff), float(icc), float(m), r.n, float(r.n / deff), r.groups, cv)


def design_effects(
    wide: pd.DataFrame,
    items: Iterable[str] | None = None,
    cluster: str = "site",
    codebook: Mapping[str, ItemMeta] | None = None,
) -> pd.DataFrame:
    """Design effect of each scale item's headline indicator (% positive) by ``cluster``.

    Returns ``item, indicator, n, clusters, mean_cluster_size, icc, deff, n_effective``.
    """
    cb = _as_codebook(codebook, wide)
    wanted = (
        list(items)
        if items is not None
        else [i for i, m in cb.items() if m.type == "scale" and m.positive and i in wide.columns]
    )
    rows = []
    clusters = wide[cluster]
    for item in wanted:
        meta = cb[item]
        s = wide[item]
        cats = list(s.cat.categories)
        valid_lut = np.array([c in meta.choices for c in cats] + [False])
        pos_lut = np.array([c in meta.positive for c in cats] + [False], dtype=float)
        codes = s.cat.codes.to_numpy()
        y = np.where(valid_lut[codes], pos_lut[codes], np.nan)
        d = design_effect(y, clusters)
        rows.append((item, "% positive", d.n, d.clusters, d.mean_cluster_size, d.icc, d.deff, d.n_effective))
    return pd.DataFrame(
        rows, columns=["item", "indicator", "n", "clusters", "mean_cluster_size", "icc", "deff", "n_effective"]
    )

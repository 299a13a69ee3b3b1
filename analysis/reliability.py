"""Scale reliability: Cronbach's alpha with a Feldt confidence interval (B7).

Examples
--------
>>> items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
>>> r = cronbach_alpha(items)
>>> round(r.alpha, 4), r.n, r.k
(0.9538, 5, 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .frames import ItemMeta, _as_codebook

__all__ = ["AlphaResult", "cronbach_alpha", "scale_scores"]


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of a scale.

    Attributes
    ----------
    alpha : float
    ci_low, ci_high : float
        Feldt (1965) interval from the F distribution (as pingouin and psych do).
    n : int
        Complete cases used (listwise deletion).
    k : int
        Number of items.
    item_rest : Series
        Correlation of each item with the sum of the other items.
    flagged : bool
        True when alpha < 0.70 (B7).
    """

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    item_rest: pd.Series
    flagged: bool


def scale_scores(
    wide: pd.DataFrame,
    items: Sequence[str],
    codebook: Mapping[str, ItemMeta] | None = None,
) -> pd.DataFrame:
    """Scale items as numbers 1..L in choice order; reserved codes and skips become NaN.

    Examples
    --------
    >>> w = pd.DataFrame({"q": pd.Categorical(["lo", "hi", "_rns"],
    ...                                       categories=["lo", "mid", "hi", "_rns", "_dk"])})
    >>> scale_scores(w, ["q"], {"q": ItemMeta("q", "scale", ("lo", "mid", "hi"))})["q"].tolist()
    [1.0, 3.0, nan]
    """
    cb = _as_codebook(codebook, wide)
    out = {}
    for item in items:
        meta = cb.get(item)
        s = wide[item]
        if meta is None:
            raise KeyError(f"no metadata for item {item!r}")
        pos = {c: i + 1.0 for i, c in enumerate(meta.choices)}
        out[item] = s.astype(object).map(pos).astype(float)
    return pd.DataFrame(out, index=wide.index)


def cronbach_alpha(data: pd.DataFrame, ci: float = 0.95) -> AlphaResult:
    """Cronbach's alpha of the columns of ``data`` (numeric item scores), listwise.

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\sum_i s_i^2}{s_X^2}\\right)

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one numeric column per item (see :func:`scale_scores`).
    ci : float
        Confidence level of the Feldt interval.

    Returns
    -------
    AlphaResult
    """
    x = data.dropna().to_numpy(dtype=float)
    n, k = x.shape
    if k < 2 or n < 2:
        raise ValueError("Cronbach's alpha needs at least 2 items and 2 complete cases")
    item_var = x.var(axis=0, ddof=1)
    total = x.sum(axis=1)
    total_var = total.var(ddof=1)
    alpha = k / (k - 1) * (1 - item_var.sum() / total_var) if total_var > 0 else np.nan
    df1 = n - 1
    df2 = df1 * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.isf((1 - ci) / 2, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.isf(1 - (1 - ci) / 2, df1, df2)
    rest = {}
    for j, col in enumerate(data.columns):
        other = total - x[:, j]
        if x[:, j].std() == 0 or other.std() == 0:
            rest[col] = np.nan
        else:
            rest[col] = float(np.corrcoef(x[:, j], other)[0, 1])
    return AlphaResult(float(alpha), float(lo), float(hi), int(n), int(k), pd.Series(rest), bool(alpha < 0.70))

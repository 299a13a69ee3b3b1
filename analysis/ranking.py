"""Ranked items: Borda score, mean rank and % ranked first (B8).

Weights: with ``m`` options, 1st place scores ``m``, 2nd ``m - 1`` ... last 1; an option a
child did not rank scores 0 (top-k designs). Ties keep the rank given (two options both
ranked 2nd both score ``m - 1``). Averages are over the children who ranked anything.

Examples
--------
>>> ranks = pd.DataFrame({"chat": [1, 2, 1], "phone": [2, 1, None], "app": [None, 3, 2]})
>>> borda(ranks)[["option", "borda_total", "borda_score", "mean_rank", "pct_first", "n_ranked"]]
  option  borda_total  borda_score  mean_rank  pct_first  n_ranked
0   chat            8        2.667      1.333     66.667         3
1  phone            5        1.667      1.500     33.333         2
2    app            3        1.000      2.500      0.000         2
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import ItemMeta, _as_codebook

__all__ = ["borda", "rank_frame"]


def rank_frame(wide: pd.DataFrame, item: str, codebook=None) -> pd.DataFrame:
    """The ``item/option`` rank columns of a wide frame, renamed to the option codes."""
    cb = _as_codebook(codebook, wide)
    meta = cb.get(item) or ItemMeta(item, "rank")
    cols = (
        {f"{item}/{c}": c for c in meta.choices}
        if meta.choices
        else {c: c.split("/", 1)[1] for c in wide.columns if c.startswith(f"{item}/")}
    )
    return wide[list(cols)].rename(columns=cols)


def borda(ranks: pd.DataFrame, n_options: int | None = None) -> pd.DataFrame:
    """Borda score and mean rank of each option.

    Parameters
    ----------
    ranks : DataFrame
        One row per respondent, one column per option, the rank given (1 = top) or NaN.
    n_options : int, optional
        ``m`` in the weights (default: the number of columns).

    Returns
    -------
    DataFrame
        ``option, borda_total, borda_score, mean_rank, pct_first, n_ranked, n``, sorted by
        Borda score (highest first); ``n`` is the number of children who ranked anything,
        the denominator of ``borda_score`` and ``pct_first``.
    """
    r = ranks.to_numpy(dtype=float)
    m = n_options or r.shape[1]
    if np.nanmin(r, initial=1) < 1 or np.nanmax(r, initial=1) > m:
        raise ValueError(f"ranks must lie between 1 and {m}")
    ranked_any = ~np.all(np.isnan(r), axis=1)
    r = r[ranked_any]
    n = int(r.shape[0])
    weights = np.where(np.isnan(r), 0.0, m + 1 - r)
    total = weights.sum(axis=0)
    n_ranked = (~np.isnan(r)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rank = np.where(n_ranked > 0, np.nansum(r, axis=0) / n_ranked, np.nan)
        score = total / n if n else np.full(r.shape[1], np.nan)
        first = 100 * (r == 1).sum(axis=0) / n if n else np.full(r.shape[1], np.nan)
    out = pd.DataFrame(
        {
            "option": [str(c) for c in ranks.columns],
            "borda_total": total.astype(np.int64),
            "borda_score": np.round(score, 3),
            "mean_rank": np.round(mean_rank, 3),
            "pct_first": np.round(first, 3),
            "n_ranked": n_ranked.astype(np.int64),
            "n": n,
        }
    )
    return out.sort_values(["borda_score", "option"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

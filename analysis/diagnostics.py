"""Item diagnostics: skip, "I'd rather not say" and "I don't know" rates (A-06).

An item is *eligible* for a respondent of a band when the item is asked in that band (its
``bands`` metadata, or, without it, when anyone in the band has a row for it). A respondent
*skipped* an eligible item when they have no answer for it (no row, or a row with a
missing answer). Rates above ``flag`` (20 % by default) are flagged for review. A child
with no row at all is not in the long frame; the survey should store the shown-and-skipped
rows (missing ``answer``) or at least one row per participant.

Examples
--------
>>> from analysis.frames import make_long
>>> long = make_long(pd.DataFrame({
...     "response_id": [1, 2, 3, 1, 2], "band": ["A", "A", "A", "A", "A"],
...     "item": ["q", "q", "q", "r", "r"], "answer": ["yes", "_rns", None, "no", "no"]}),
...     codebook=[ItemMeta("q", "single", ("yes", "no")), ItemMeta("r", "single", ("yes", "no"))])
>>> item_diagnostics(long)[["item", "band", "eligible", "skipped", "rns", "skip_rate", "flag"]]
  item band  eligible  skipped  rns  skip_rate  flag
0    q    A         3        1    1      0.333  True
1    r    A         3        1    0      0.333  True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .frames import DK, RNS, ItemMeta, _as_codebook, infer_codebook

__all__ = ["item_diagnostics"]


def item_diagnostics(
    long: pd.DataFrame,
    by: str = "band",
    codebook: Mapping[str, ItemMeta] | None = None,
    flag: float = 0.20,
) -> pd.DataFrame:
    """Skip and reserved-code rates per item and group, with review flags.

    Returns
    -------
    DataFrame
        ``item, <by>, eligible, answered, skipped, rns, dk, skip_rate, rns_rate, dk_rate,
        flag`` where ``answered`` counts substantive answers and ``flag`` is True when the
        skip or "rather not say" rate exceeds ``flag``.
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    rid_codes, _ = pd.factorize(long["response_id"])
    g_codes = long[by].cat.codes.to_numpy().astype(np.int64)
    groups = list(long[by].cat.categories)
    G = len(groups)
    n_resp = len(np.unique(rid_codes)) if len(rid_codes) else 0
    # respondents per group
    first = np.full(n_resp, -1, dtype=np.int64)
    first[rid_codes] = g_codes
    per_group = np.bincount(first[first >= 0], minlength=G)
    items = list(long["item"].cat.categories)
    i_codes = long["item"].cat.codes.to_numpy().astype(np.int64)
    answers = long["answer"]
    kind = np.zeros(len(long), dtype=np.int64)  # 0 substantive, 1 rns, 2 dk, 3 missing
    kind[(answers == RNS).to_numpy()] = 1
    kind[(answers == DK).to_numpy()] = 2
    kind[answers.isna().to_numpy()] = 3
    ok = g_codes >= 0
    # distinct (respondent, item, kind) so that multi-select rows count once
    key = ((rid_codes.astype(np.int64) * len(items) + i_codes) * 4 + kind)[ok]
    multi = np.array([cb.get(i, ItemMeta(i)).type == "multi" for i in items])
    is_multi_row = multi[i_codes[ok]]
    uniq = np.concatenate([key[~is_multi_row], np.unique(key[is_multi_row])])
    k = uniq % 4
    item_of = (uniq // 4) % len(items)
    rid_of = uniq // 4 // len(items)
    grp = first[rid_of]
    counts = np.bincount((item_of * G + grp) * 4 + k, minlength=len(items) * G * 4)
    counts = counts.reshape(len(items), G, 4)
    rows = []
    for i, item in enumerate(items):
        meta = cb.get(item) or ItemMeta(item)
        if meta.type == "text":
            continue
        for j, g in enumerate(groups):
            asked = (g in meta.bands) if (meta.bands and by == "band") else counts[i, j].sum() > 0
            if not asked:
                continue
            sub, rns, dk = (int(x) for x in counts[i, j, :3])
            if meta.type == "multi":
                # a child may tick options and also "rather not say": count the child once
                sub = min(sub, int(per_group[j]))
            eligible = int(per_group[j])
            answered_any = min(eligible, sub + rns + dk)
            skipped = eligible - answered_any
            rows.append((item, g, eligible, sub, skipped, rns, dk))
    out = pd.DataFrame(rows, columns=["item", by, "eligible", "answered", "skipped", "rns",
                                      "dk"])
    den = out["eligible"].where(out["eligible"] > 0)
    out["skip_rate"] = (out["skipped"] / den).round(3)
    out["rns_rate"] = (out["rns"] / den).round(3)
    out["dk_rate"] = (out["dk"] / den).round(3)
    out["flag"] = (out["skip_rate"] > flag) | (out["rns_rate"] > flag)
    return out

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

from .frames import DK, RNS, ItemMeta, _as_codebook, infer_codebook, respondent_codes

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
    rid_codes, ids = respondent_codes(long)
    g_codes = long[by].cat.codes.to_numpy()
    groups = list(long[by].cat.categories)
    G = len(groups)
    first = np.full(len(ids), -1, dtype=np.int64)
    first[rid_codes] = g_codes
    seen = np.zeros(len(ids), dtype=bool)
    seen[rid_codes] = True
    per_group = np.bincount(first[seen & (first >= 0)], minlength=G)
    items = list(long["item"].cat.categories)
    i_codes = long["item"].cat.codes.to_numpy()
    answers = list(long["answer"].cat.categories)
    # kind of each answer code: 0 substantive, 1 rns, 2 dk; code -1 (missing) -> 3
    kind_of = np.array([1 if a == RNS else 2 if a == DK else 0 for a in answers] + [3])
    kind = kind_of.astype(np.int8)[long["answer"].cat.codes.to_numpy()]
    # one row per (respondent, item, kind) except multi-select choices: bincount the rows,
    # then recount substantive answers of multi-select items with a respondent bitmap
    # slot 0 of each dimension takes the missing codes (-1), dropped after counting
    flat = long["item"].cat.codes.to_numpy().astype(np.int32)
    flat += 1
    flat *= G + 1
    flat += long[by].cat.codes.to_numpy()
    flat += 1
    flat *= 4
    flat += kind.astype(np.int32)
    counts = np.bincount(flat, minlength=(len(items) + 1) * (G + 1) * 4)
    counts = counts.reshape(len(items) + 1, G + 1, 4)[1:, 1:]
    multi = [j for j, it in enumerate(items) if cb.get(it, ItemMeta(it)).type == "multi"]
    for j in multi:
        sel = (i_codes == j) & (kind == 0) & (g_codes >= 0)
        chose = np.zeros(len(ids), dtype=bool)
        chose[rid_codes[sel]] = True
        counts[j, :, 0] = np.bincount(first[chose & (first >= 0)], minlength=G)
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
    out = pd.DataFrame(rows, columns=["item", by, "eligible", "answered", "skipped", "rns", "dk"])
    den = out["eligible"].where(out["eligible"] > 0)
    out["skip_rate"] = (out["skipped"] / den).round(3)
    out["rns_rate"] = (out["rns"] / den).round(3)
    out["dk_rate"] = (out["dk"] / den).round(3)
    out["flag"] = (out["skip_rate"] > flag) | (out["rns_rate"] > flag)
    return out

"""Building a release (:func:`build_release`): participation, one headline row per question,
the breakdowns that need no hidden cell, and the tests of what is published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.frames import ItemMeta, _as_codebook, split_band_variants, to_wide
from analysis.release.cells import (
    DIM_LABELS,
    DIMENSIONS,
    FORMAT_VERSION,
    NONE,
    ReleaseRefused,
    _cell_json,
    _dim_values,
    _dimension_groups,
    _group_label,
    _group_label_of,
    _headline,
    _item_vectors,
    _single_columns,
    _small,
)
from analysis.release.intruder import _finish, _protect_pinned
from analysis.release.ledger import _difference_checks, _nested_population_checks
from analysis.release_rules import ReleaseRules


# ----------------------------------------------------------------------------- build
def build_release(
    long: pd.DataFrame,
    codebook: Mapping[str, ItemMeta] | None,
    rules: ReleaseRules,
    *,
    funnel: Mapping[str, int] | None = None,
    previous: Sequence[Mapping[str, Any]] = (),
    bands: Sequence[str] = (),
    audit: bool = True,
) -> dict[str, Any]:
    """Build a release (a JSON-ready dict) from the long frame.

    Parameters
    ----------
    long, codebook
        The consultation's answers (:func:`analysis.frames.make_long`) and item metadata.
        Demographic (``DM``) and free-text items are not released as results.
    rules : ReleaseRules
    funnel : mapping, optional
        Participation stages (protected: counts from 1 to k-1 are hidden).
    previous : sequence of releases
        Every earlier release of this consultation (oldest first), for the differencing
        checks and the intruder audit.
    bands : sequence of str
        The instrument's age-group codes in order (merging small groups keeps them adjacent).
    audit : bool
        Run :func:`intruder_audit` and protect what it pins (on by default).

    Raises
    ------
    ReleaseRefused
        Fewer than ``k`` children, or fewer than ``k`` new children since the last release.
    """
    cb_all = _as_codebook(codebook, long)
    cb_all = {n: m for n, m in cb_all.items() if m.type != "text" and m.domain != "DM"}
    original = dict(cb_all)
    long2, cb = split_band_variants(long, cb_all)
    cb = {n: m for n, m in cb.items() if m.type != "text" and m.domain != "DM"}
    wide = to_wide(long2, cb)
    k = int(rules.k)
    n = len(wide)
    if n < k:
        # No small count in the message (it reaches logs): below k a count is shown only as "s".
        raise ReleaseRefused(f"Fewer than {k} children have finished; at least {k} are needed for a release.")
    if previous:
        last = int(previous[-1]["n"])
        if n - last < k:
            raise ReleaseRefused(
                f"Fewer than {k} more children have finished since the last release; "
                f"at least {k} new children are needed before the next one, so that "
                "nobody's answers can be worked out by comparing the two."
            )
    dims = {d: _dim_values(wide, d) for d in DIMENSIONS}
    band_order = list(bands) or sorted(dims["band"].unique())
    band_groups = _dimension_groups(dims["band"], "band", k, band_order) or [sorted(dims["band"].unique())]
    participation = [
        {
            "dim": "all",
            "title": "Children who took part",
            "rows": [{"label": "All children", "population": {}, "count": n}],
        }
    ]
    groups_of: dict[str, list[list[str]]] = {}
    for dim in DIMENSIONS:
        groups = band_groups if dim == "band" else _dimension_groups(dims[dim], dim, k)
        if dim == "band" and len(groups) < 2:
            groups = None
        if not groups:
            continue
        groups_of[dim] = groups
        participation.append(
            {
                "dim": dim,
                "title": f"Children by {DIM_LABELS[dim]}",
                "rows": [
                    {
                        "label": _group_label_of(dim, g),
                        "population": {dim: list(g)},
                        "count": int(dims[dim].isin(g).sum()),
                    }
                    for g in groups
                ],
            }
        )
    withheld: list[str] = []
    items = []
    for name, meta in cb.items():
        base = name.split("[")[0]
        asked = set(meta.bands) if meta.bands else set(dims["band"].unique()) | set(band_order)
        if name == base and original.get(base) is not None and original[base].band_choices:
            asked -= set(original[base].band_choices)
        elig_bands = sorted({b for g in band_groups if asked & set(g) for b in g})
        rows = np.flatnonzero(dims["band"].isin(elig_bands).to_numpy())
        if len(rows) == 0:
            continue
        items.append(_item_release(name, meta, wide, rows, dims, elig_bands, sorted(asked), groups_of, rules))
    release = {
        "version": FORMAT_VERSION,
        "made_on": dt.date.today().isoformat(),
        "n": n,
        "rules": rules.as_dict(),
        "dimensions": dict(groups_of.items()),
        "participation": participation,
        "items": items,
        "funnel": _funnel(funnel, k),
        "withheld": withheld,
    }
    _difference_checks(release, previous, k)
    _nested_population_checks(release, rules)
    if audit:
        _protect_pinned(release, previous, wide, dims, cb, rules)
    _finish(release)
    return release


def _funnel(funnel, k):
    """Participation stages, counts from 1 to k-1 hidden. Children who said yes either finished,
    withdrew or stopped: when "withdrew" is hidden, "assented" is hidden too, or the difference
    with "completed" would give it back once nobody is still answering."""
    if not funnel:
        return []
    out = [{"stage": str(s), "count": None if 0 < int(v) < k else int(v)} for s, v in funnel.items()]
    stages = {row["stage"]: row for row in out}
    withdrew = stages.get("withdrew after submitting")
    if withdrew is not None and withdrew["count"] is None and "assented" in stages:
        stages["assented"]["count"] = None
    return out


def _item_release(name, meta, wide, rows, dims, elig_bands, asked, groups_of, rules):
    sens = bool(meta.sensitive)
    k = rules.k_for(sens)
    total = len(rows)
    labels = [meta.label_of(c) for c in meta.choices]
    out = {
        "item": name,
        "question": meta.label or name,
        "type": meta.type,
        "domain": meta.domain,
        "sensitive": sens,
        "k": k,
        "asked_bands": list(asked),
        "population": {"band": list(elig_bands)},
        "total": total,
        "breakdowns": [],
    }
    if meta.type == "multi":
        chosen, none = _item_vectors(wide, name, meta, rows)
        counts = chosen.sum(axis=0)
        cells = []
        for j, code in enumerate(meta.choices):
            c = int(counts[j])
            hide = _small(c, k, sens) or _small(total - c, k, sens)
            cells.append([labels[j], [code], c, hide])
        nn = int(none.sum())
        cells.append(["No answer", [NONE], nn, _small(nn, k) or _small(total - nn, k)])
        out["cells"] = _cell_json(cells, total, rules, sens)
        out["headline"] = _headline(out["cells"], "chose")
        for dim, groups in groups_of.items():
            if dim == "band" and len(groups) < 2:
                continue
            gvals = dims[dim].to_numpy()[rows]
            brows = []
            for j, code in enumerate(meta.choices):
                if cells[j][3]:
                    continue
                rowcells = []
                for g in groups:
                    m = np.isin(gvals, g)
                    tg, cg = int(m.sum()), int(chosen[m, j].sum())
                    rowcells.append((tg, cg))
                if all(not _small(cg, k, sens) and not _small(tg - cg, k, sens) for tg, cg in rowcells):
                    brows.append({"label": labels[j], "codes": [code], "counts": [cg for _, cg in rowcells]})
            if brows:
                out["breakdowns"].append(_breakdown_json(dim, groups, gvals, elig_bands, brows, rules, multi=True))
        return out
    values = _item_vectors(wide, name, meta, rows)
    counts = [int((values == c).sum()) for c in meta.choices]
    none = int((values == NONE).sum())
    cols = _single_columns(list(meta.choices), counts, none, k, meta.ordinal, sens, labels)
    out["cells"] = _cell_json(cols, total, rules, sens)
    out["headline"] = _headline(out["cells"], "first" if meta.type == "rank" else "said")
    if any(c[3] for c in cols):
        return out
    for dim, groups in groups_of.items():
        gvals = dims[dim].to_numpy()[rows]
        bd = _single_breakdown(
            values, gvals, groups, cols, k, meta.ordinal, sens, {c: meta.label_of(c) for c in meta.choices}
        )
        if bd is not None:
            out["breakdowns"].append(_breakdown_json(dim, groups, gvals, elig_bands, bd, rules))
    return out


def _single_breakdown(values, gvals, groups, cols, k, ordinal, sens, code_label):
    """Columns for a breakdown in which every cell passes (merging further), or None."""
    subst = [c for c in cols if c[1] != [NONE]]
    none_col = [c for c in cols if c[1] == [NONE]]
    colsets = [list(c[1]) for c in subst]
    labels = [c[0] for c in subst]
    masks = [np.isin(gvals, g) for g in groups]

    def table(sets):
        return np.array([[int(np.isin(values[m], s).sum()) for s in sets] for m in masks])

    while True:
        sets = colsets + ([[NONE]] if none_col else [])
        t = table(sets)
        bad = np.vectorize(lambda v: _small(int(v), k, sens))(t)
        if not bad.any():
            break
        if len(colsets) <= 1:
            return None
        if bad[:, -1].any() and none_col and not ordinal:
            # the small "no answer" joins the last (other) answers
            colsets[-1] = colsets[-1] + [NONE]
            labels[-1] = "Other answers or no answer"
            none_col = []
            continue
        if bad[:, -1].any() and none_col:
            return None
        tot = t[:, : len(colsets)].sum(axis=0)
        if ordinal:
            j = int(np.argwhere(bad[:, : len(colsets)])[0][1]) if bad[:, : len(colsets)].any() else 0
            if j == 0:
                other = 1
            elif j == len(colsets) - 1 or tot[j - 1] <= tot[j + 1]:
                other = j - 1
            else:
                other = j + 1
            a, b = sorted((j, other))
        else:
            a, b = sorted(int(x) for x in np.argsort(tot, kind="stable")[:2])
        colsets[a] = colsets[a] + colsets[b]
        del colsets[b]
        if ordinal:
            labels[a] = _group_label([code_label[c] for c in colsets[a]], True)
        else:
            labels[a] = "Other answers"
        del labels[b]
    sets = colsets + ([[NONE]] if none_col else [])
    labs = labels + (["No answer"] if none_col else [])
    t = table(sets)
    return [
        {"label": lab, "codes": s, "counts": [int(v) for v in t[:, j]]}
        for j, (lab, s) in enumerate(zip(labs, sets, strict=True))
    ]


def _breakdown_json(dim, groups, gvals, elig_bands, cols, rules, multi=False):
    totals = [int(np.isin(gvals, g).sum()) for g in groups]
    rows = []
    for gi, g in enumerate(groups):
        pop = {"band": list(elig_bands)}
        if dim == "band":
            pop = {"band": [b for b in g if b in elig_bands]}
        else:
            pop[dim] = list(g)
        cells = []
        for c in cols:
            v = c["counts"][gi]
            pct = int(round(100 * v / totals[gi])) if totals[gi] >= rules.min_denominator else None
            cells.append({"label": c["label"], "codes": c["codes"], "count": v, "percent": pct})
        rows.append({"label": _group_label_of(dim, g), "population": pop, "total": totals[gi], "cells": cells})
    out = {"dim": dim, "multi": multi, "rows": rows}
    if not multi:
        out["test"] = _test_of(rows)
    return out


def _test_of(rows):
    """A chi-square test of the published breakdown, from its published cells only."""
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    t = np.array([[c["count"] for c in r["cells"]] for r in rows], dtype=float)
    t = t[:, t.sum(axis=0) > 0]
    t = t[t.sum(axis=1) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return None
    chi2, p, df, _ = chi2_contingency(t, correction=False)
    return {
        "test": "chi-square",
        "n": int(t.sum()),
        "statistic": round(float(chi2), 2),
        "df": int(df),
        "p": float(p),
        "cramers_v": round(float(association(t.astype(int), method="cramer")), 2),
    }

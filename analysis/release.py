"""Releases: the frozen, protected set of tables a programme team may see (issue 15).

A *release* is built once from the answers (:func:`build_release`), checked against every
earlier release of the same consultation, and then stored (as the JSON :func:`build_release`
returns). Pages, reports, feedback sheets and exports show a release, never the live answers,
so asking again does not reveal the child who finished a minute ago.

What a release holds, and the rules that make it safe by construction
---------------------------------------------------------------------
* **Participation**: the number of children, and children by age group, gender and site.
  A breakdown is published only when every group is 0 or at least ``k`` children (small
  age groups are merged with their neighbours, small sites into "other sites", rare gender
  answers into one group); otherwise it is left out, never shown with holes.
* **One headline row per question**, over every child the question was meant for (all age
  groups together): one cell per answer plus "no answer" (skipped, "rather not say",
  "don't know", or not shown), summing to the number of children asked. Small categories
  are merged first (adjacent answers of a scale: "Very hard or hard"; rare answers of a
  list: "Other answers"); what is still small is hidden together with at least one other
  cell of the row, so no hidden cell follows from the total.
* **Breakdowns** (age group, gender, site) of a question only when its headline row has
  no hidden cell and *every* cell of the breakdown is 0 or at least ``k``: nothing in a
  breakdown is hidden, so nothing can be worked out from it.
* **Every other number is derived from these cells**: percentages (whole numbers, of the
  children asked, shown only from ``min_denominator`` children), the plain-language
  headline ("About 7 in 10 children ..."), "% first" of ranked questions, and the tests of
  the published breakdowns (computed from the published cells themselves).

Checks against the ledger (A13): a release is refused while fewer than ``k`` new children
have finished since the last one, and a table whose population changed by 1 to k-1 children
since an earlier release is withheld (a question keeps its last published numbers). Inside the
release, :class:`~analysis.disclosure.DifferencingGuard` leaves out any table whose group is
nested in another published group and differs from it by 1 to k-1 children. Then
:func:`intruder_audit` (integer programming over this release and every earlier one,
assuming counts only grow between releases) looks for any hidden cell it can pin to one value;
such cells and a partner are hidden too, until nothing is pinned.

Examples
--------
>>> from analysis.frames import ItemMeta
>>> from analysis.release_rules import ReleaseRules
>>> from analysis.synthetic import skewed_from_codebook
>>> cb = {"q1": ItemMeta("q1", "single", ("yes", "no"), label="Have you heard of it?")}
>>> long = skewed_from_codebook(cb, 30, seed=1, bands=("B",))
>>> rel = build_release(long, cb, ReleaseRules())
>>> rel["n"], rel["items"][0]["headline"]["tenths"] > 0
(30, True)
>>> intruder_audit([rel])
[]
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .frames import DK, RNS, ItemMeta, _as_codebook, split_band_variants, to_wide
from .release_rules import ReleaseRules

__all__ = [
    "NONE",
    "ReleaseRefused",
    "build_release",
    "headline_share",
    "intruder_audit",
    "items_with_headline",
]

#: The "no answer" column (skipped, rather not say, don't know, or not shown).
NONE = "_none"
MISSING = "_missing"
FORMAT_VERSION = 1
#: Respondent columns a release may break results down by, in this order.
DIMENSIONS = ("band", "gender", "site")
DIM_LABELS = {"band": "age group", "gender": "gender", "site": "site"}
_GENDER_MAIN = ("girl", "boy")


class ReleaseRefused(ValueError):
    """No release can be made now (too few children, or too few new since the last one)."""


# ----------------------------------------------------------------------------- merging rules
def _small(value: int, k: int, sensitive: bool = False) -> bool:
    return 0 < value < k or (sensitive and value == 0)


def _merge_adjacent(counts: Sequence[int], k: int, sensitive: bool = False) -> list[list[int]]:
    """Merge neighbouring categories until none is small (1 .. k-1); returns index groups.

    >>> _merge_adjacent([2, 5, 12, 20, 1], 10)
    [[0, 1, 2], [3, 4]]
    """
    groups = [[i] for i in range(len(counts))]
    sums = [int(c) for c in counts]
    while len(groups) > 1:
        bad = [j for j, s in enumerate(sums) if _small(s, k, sensitive)]
        if not bad:
            break
        j = min(bad, key=lambda x: (sums[x], x))
        if j == 0:
            other = 1
        elif j == len(groups) - 1:
            other = j - 1
        else:
            # the smaller neighbour; on a tie the one holding fewer answers (keeps ends apart)
            left, right = (sums[j - 1], len(groups[j - 1])), (sums[j + 1], len(groups[j + 1]))
            other = j - 1 if left <= right else j + 1
        a, b = sorted((j, other))
        groups[a : b + 1] = [groups[a] + groups[b]]
        sums[a : b + 1] = [sums[a] + sums[b]]
    return groups


def _group_label(labels: Sequence[str], ordinal: bool) -> str:
    if len(labels) == 1:
        return labels[0]
    if ordinal:
        first, last = labels[0], labels[-1]
        return (
            f"{first} or {last[:1].lower() + last[1:]}"
            if len(labels) == 2
            else f"{first} to {last[:1].lower() + last[1:]}"
        )
    return "Other answers"


# ----------------------------------------------------------------------------- groups
def _dim_values(wide: pd.DataFrame, dim: str) -> pd.Series:
    if dim not in wide.columns:
        return pd.Series(MISSING, index=wide.index)
    s = wide[dim].astype("string").fillna(MISSING)
    return s.replace("", MISSING).astype(str)


def _dimension_groups(values: pd.Series, dim: str, k: int, order: Sequence[str] = ()) -> list[list[str]] | None:
    """Publishable groups of a dimension (each 0 or >= k children), or None."""
    counts = values.value_counts()
    if dim == "band":
        codes = [c for c in order if c in counts.index] + sorted(c for c in counts.index if c not in order)
        idx = _merge_adjacent([int(counts.get(c, 0)) for c in codes], k)
        groups = [[codes[i] for i in g] for g in idx]
        if any(_small(sum(int(counts.get(c, 0)) for c in g), k) for g in groups):
            return None
        return groups
    if dim == "gender":
        groups = [[g] for g in _GENDER_MAIN if g in counts.index]
        rest = [c for c in counts.index if c not in _GENDER_MAIN]
        if rest:
            groups.append(sorted(rest))
    else:  # sites: small ones together as "other sites"
        big = [c for c in sorted(counts.index) if counts[c] >= k and c != MISSING]
        rest = [c for c in sorted(counts.index) if c not in big]
        while rest and _small(int(counts[rest].sum()), k) and big:
            smallest = min(big, key=lambda c: counts[c])
            big.remove(smallest)
            rest.append(smallest)
        groups = [[c] for c in big] + ([sorted(rest)] if rest else [])
    if len(groups) < 2 or any(_small(int(counts.reindex(g).fillna(0).sum()), k) for g in groups):
        return None
    return groups


def _group_label_of(dim: str, group: Sequence[str]) -> str:
    if dim == "band":
        return " and ".join(group)
    if dim == "gender":
        if len(group) == 1 and group[0] in _GENDER_MAIN:
            return {"girl": "Girls", "boy": "Boys"}[group[0]]
        return "Another answer or not given"
    if len(group) == 1 and group[0] != MISSING:
        return group[0]
    return "Other sites"


# ----------------------------------------------------------------------------- per-item cells
def _item_vectors(wide: pd.DataFrame, name: str, meta: ItemMeta, rows: np.ndarray):
    """Per child (``rows`` of ``wide``): the answer code (NONE when none), or for a multi
    item a boolean matrix of choices and the "no answer" vector."""
    if meta.type in ("single", "scale"):
        col = wide[name].astype(object).to_numpy()[rows] if name in wide else np.full(len(rows), None)
        out = np.array(
            [
                c
                if (
                    c is not None
                    and not (isinstance(c, float) and np.isnan(c))
                    and c not in (RNS, DK)
                    and c in meta.choices
                )
                else NONE
                for c in col
            ],
            dtype=object,
        )
        return out
    if meta.type == "rank":
        ranks = np.column_stack(
            [
                wide[f"{name}/{c}"].to_numpy()[rows] if f"{name}/{c}" in wide else np.full(len(rows), np.nan)
                for c in meta.choices
            ]
        )
        first = np.where(ranks == 1, 1, 0)
        out = np.full(len(rows), NONE, dtype=object)
        has = first.sum(axis=1) == 1
        out[has] = np.array(meta.choices, dtype=object)[first[has].argmax(axis=1)]
        return out
    chosen = np.column_stack(
        [
            wide[f"{name}/{c}"].to_numpy()[rows] if f"{name}/{c}" in wide else np.zeros(len(rows), bool)
            for c in meta.choices
        ]
    )
    return chosen.astype(bool), ~chosen.any(axis=1)


def _single_columns(codes, counts, none, k, ordinal, sensitive, labels):
    """The headline row's columns: (label, codes, count, hidden) for answers, then "no answer"."""
    cols = []
    if ordinal:
        groups = _merge_adjacent(counts, k, sensitive)
        if len(groups) == 1 and len(codes) > 1:
            # one group says nothing: merge only runs of small neighbours (hidden if still small)
            groups = []
            for i in range(len(codes)):
                if groups and _small(counts[i], k, sensitive) and _small(counts[groups[-1][-1]], k, sensitive):
                    groups[-1].append(i)
                else:
                    groups.append([i])
        for g in groups:
            cols.append(
                [
                    _group_label([labels[i] for i in g], True),
                    [codes[i] for i in g],
                    int(sum(counts[i] for i in g)),
                    False,
                ]
            )
    else:
        order = sorted(range(len(codes)), key=lambda i: -counts[i])
        small = [i for i in order if _small(counts[i], k, sensitive)]
        big = [i for i in order if i not in small]
        other = int(sum(counts[i] for i in small))
        none_small = _small(none, k)
        absorbed = list(big)
        extra = other + (none if none_small else 0)
        while 0 < extra < k and absorbed:
            extra += counts[absorbed.pop()]
        if small and absorbed and (other >= k or (none_small and other + none >= k)):
            # merge rare answers (and a small "no answer") into one column
            while 0 < other + (none if none_small else 0) < k and big:
                i = big.pop()
                small.append(i)
                other += counts[i]
            for i in big:
                cols.append([labels[i], [codes[i]], int(counts[i]), False])
            label = "Other answers" + (" or no answer" if none_small else "")
            members = [codes[i] for i in small] + ([NONE] if none_small else [])
            cols.append([label, members, other + (none if none_small else 0), False])
            if none_small:
                return cols
        else:
            for i in sorted(range(len(codes)), key=lambda i: i):
                if counts[i] == 0 and not sensitive:
                    cols.append([labels[i], [codes[i]], 0, False])
                elif i in big:
                    cols.append([labels[i], [codes[i]], int(counts[i]), False])
                else:
                    cols.append([labels[i], [codes[i]], int(counts[i]), True])
    cols.append(["No answer", [NONE], int(none), _small(none, k)])
    for c in cols:
        if c[2] > 0 and _small(c[2], k, sensitive and c[1] != [NONE]):
            c[3] = True
    _complete_hiding(cols)
    return cols


def _complete_hiding(cols) -> None:
    """A row whose total is published needs 0 or >= 2 hidden cells (hide the smallest other)."""
    hidden = [c for c in cols if c[3]]
    if len(hidden) == 1:
        rest = [c for c in cols if not c[3] and c[2] > 0]
        if not rest:
            rest = [c for c in cols if not c[3]]
        if rest:
            min(rest, key=lambda c: c[2])[3] = True


def _cell_json(cols, total, rules, sensitive):
    out = []
    for label, members, count, hidden in cols:
        pct = None
        if not hidden and total >= rules.min_denominator and total > 0:
            pct = int(round(100 * count / total))
        out.append(
            {
                "label": label,
                "codes": list(members),
                "count": None if hidden else int(count),
                "percent": pct,
                "coded": _coded(pct, sensitive) if pct is not None else None,
                "other": label.startswith("Other answers"),
            }
        )
    return out


def _coded(pct: int, sensitive: bool) -> str | None:
    if not sensitive:
        return None
    if pct < 5:
        return "<5 %"
    if pct > 95:
        return ">95 %"
    return None


def headline_share(percent: float) -> int:
    """The share in tenths for "About 7 in 10" (0 means "fewer than 1 in 10").

    >>> headline_share(67), headline_share(4), headline_share(96)
    (7, 0, 10)
    """
    return int(np.floor(percent / 10 + 0.5))


def _headline(cells, kind: str):
    best = None
    for c in cells:
        if NONE in c["codes"] or c.get("other") or c["percent"] is None or c["count"] is None:
            continue
        if best is None or c["count"] > best["count"]:
            best = c
    if best is None or best["count"] == 0:
        return None
    return {
        "answer": best["label"],
        "percent": best["percent"],
        "tenths": headline_share(best["percent"]),
        "kind": kind,
        "coded": best["coded"],
    }


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
        raise ReleaseRefused(f"Only {n} children have finished; at least {k} are needed for a release.")
    if previous:
        last = int(previous[-1]["n"])
        if n - last < k:
            raise ReleaseRefused(
                f"Only {max(n - last, 0)} more children have finished since the last release "
                f"({last}); at least {k} new children are needed before the next one, so that "
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


# ----------------------------------------------------------------------------- ledger checks
def _population_sizes(release) -> dict[tuple, int]:
    out = {}
    for tab in release["participation"]:
        for r in tab["rows"]:
            out[_pkey(r["population"])] = int(r["count"])
    for it in release["items"]:
        out[_pkey(it["population"])] = int(it["total"])
        for bd in it["breakdowns"]:
            for r in bd["rows"]:
                out[_pkey(r["population"])] = int(r["total"])
    return out


def _pkey(pop: Mapping[str, Sequence[str]]) -> tuple:
    return tuple(sorted((d, tuple(sorted(v))) for d, v in pop.items()))


def _difference_checks(release, previous, k) -> None:
    """Withhold tables whose population changed by 1 .. k-1 children since an earlier release."""
    if not previous:
        return
    before: dict[tuple, set[int]] = {}
    for old in previous:
        for key, size in _population_sizes(old).items():
            before.setdefault(key, set()).add(size)

    def risky(pop, size):
        return any(0 < abs(size - s) < k for s in before.get(_pkey(pop), ()))

    for tab in release["participation"]:
        if any(risky(r["population"], r["count"]) for r in tab["rows"]):
            tab["rows"] = [] if tab["dim"] != "all" else tab["rows"]
            release["withheld"].append(f"participation by {tab['dim']}")
    release["participation"] = [t for t in release["participation"] if t["rows"]]
    for n, it in enumerate(release["items"]):
        if risky(it["population"], it["total"]):
            # Not updated: the last published version stays (it tells nothing new); none: withheld.
            earlier = next(
                (
                    i
                    for old in reversed(previous)
                    for i in old["items"]
                    if i["item"] == it["item"] and not i.get("withheld")
                ),
                None,
            )
            if earlier is not None:
                carried = json.loads(json.dumps(earlier))
                carried["carried"] = True
                release["items"][n] = carried
            else:
                _hide_item(it)
            release["withheld"].append(it["item"])
            continue
        keep = []
        for bd in it["breakdowns"]:
            if any(risky(r["population"], r["total"]) for r in bd["rows"]):
                release["withheld"].append(f"{it['item']} by {bd['dim']}")
            else:
                keep.append(bd)
        it["breakdowns"] = keep


def _nested_population_checks(release, rules) -> None:
    """Within the release: no two published groups, one inside the other, may differ by 1 to k-1
    children (:class:`~analysis.disclosure.DifferencingGuard`); a table that would is left out."""
    from .disclosure import DifferencingGuard, DisclosureError

    guard = DifferencingGuard(rules.policy())
    seen: dict[tuple, int] = {}

    def publish_all(rows) -> bool:
        fresh = {}
        for pop, n in rows:
            key = _pkey(pop)
            if key in seen or key in fresh:
                continue
            fresh[key] = (pop, n)
        try:
            for pop, n in fresh.values():
                guard.check(pop, n)
        except DisclosureError:
            return False
        for key, (pop, n) in fresh.items():
            guard.publish(pop, n)
            seen[key] = n
        return True

    publish_all([({}, release["n"])])
    kept = []
    for tab in release["participation"]:
        if publish_all([(r["population"], r["count"]) for r in tab["rows"]]):
            kept.append(tab)
        else:
            release["withheld"].append(f"participation by {tab['dim']}")
    release["participation"] = kept
    for it in release["items"]:
        if it.get("carried"):
            continue
        if not publish_all([(it["population"], it["total"])]):
            _hide_item(it)
            release["withheld"].append(it["item"])
            continue
        keep = []
        for bd in it["breakdowns"]:
            if publish_all([(r["population"], r["total"]) for r in bd["rows"]]):
                keep.append(bd)
            else:
                release["withheld"].append(f"{it['item']} by {bd['dim']}")
        it["breakdowns"] = keep


def _hide_item(it) -> None:
    for c in it["cells"]:
        c["count"] = c["percent"] = c["coded"] = None
    it["headline"] = None
    it["breakdowns"] = []
    it["withheld"] = True


# ----------------------------------------------------------------------------- the intruder
def _atoms(releases):
    """The intruder's unknowns: one per (group of every dimension's finest codes)."""
    codes: dict[str, set[str]] = {d: set() for d in DIMENSIONS}
    for rel in releases:
        for tab in rel["participation"]:
            for r in tab["rows"]:
                for d, v in r["population"].items():
                    codes[d].update(v)
        for it in rel["items"]:
            codes["band"].update(it["population"]["band"])
            codes["band"].update(it.get("asked_bands", ()))
            for bd in it["breakdowns"]:
                for r in bd["rows"]:
                    for d, v in r["population"].items():
                        codes[d].update(v)
    used = [d for d in DIMENSIONS if codes[d]]
    groups = list(itertools.product(*[sorted(codes[d]) for d in used]))
    return used, groups


def _match(groups, used, pop) -> np.ndarray:
    m = np.ones(len(groups), bool)
    for di, d in enumerate(used):
        if d in pop:
            allowed = set(pop[d])
            m &= np.array([g[di] in allowed for g in groups])
    return m


def intruder_audit(
    releases: Sequence[Mapping[str, Any]], monotone: bool = True, items: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Every hidden cell an intruder can pin to one value from the published releases.

    The intruder sees every table of every release (oldest first) and solves integer
    programmes (:func:`scipy.optimize.milp`): unknowns are the counts of children of each
    combination of the published groups (age group x gender x site) and, per question, of
    each answer within them; every published number is a linear equation; counts are
    non-negative and whole; a question is only asked in its age groups; with ``monotone``
    the counts of a later release are at least those of an earlier one (children are added,
    not removed). For each hidden cell of the newest release and of the earlier ones, the
    minimum and maximum over all feasible solutions are computed; a cell is *pinned* when
    they are equal.

    Returns a list of ``{"release", "item", "cell", "value"}`` (empty: nothing pinned).
    """
    releases = list(releases)
    used, groups = _atoms(releases)
    names = []
    for rel in releases:
        for it in rel["items"]:
            if it["item"] not in names and (items is None or it["item"] in items):
                names.append(it["item"])
    pinned: list[dict[str, Any]] = []
    for name in names:
        per_rel = [
            next((it for it in rel["items"] if it["item"] == name and not it.get("carried")), None) for rel in releases
        ]
        if not any(it is not None and any(c["count"] is None for c in it["cells"]) for it in per_rel):
            continue
        try:
            _audit_item(name, per_rel, releases, used, groups, monotone, pinned)
        except _Infeasible:
            return intruder_audit(releases, monotone=False, items=items)
    return pinned


class _Infeasible(Exception):
    pass


def _audit_item(name, per_rel, releases, used, groups, monotone, pinned) -> None:
    from scipy.optimize import Bounds, LinearConstraint, milp

    G, R = len(groups), len(releases)
    meta = next(it for it in per_rel if it is not None)
    multi = meta["type"] == "multi"
    codes = []
    for it in per_rel:
        if it is None:
            continue
        for c in it["cells"]:
            for code in c["codes"]:
                if code not in codes:
                    codes.append(code)
        for bd in it["breakdowns"]:
            for r in bd["rows"][:1]:
                for c in r["cells"]:
                    for code in c["codes"]:
                        if code not in codes:
                            codes.append(code)
    if NONE not in codes:
        codes.append(NONE)
    C = len(codes)
    # variables: P[r, g] then X[r, g, c]
    nP = R * G
    nvar = nP + R * G * C

    def p_idx(r, g):
        return r * G + g

    def x_idx(r, g, c):
        return nP + (r * G + g) * C + c

    rows_A, lo, hi = [], [], []

    def add(coefs: dict[int, float], low: float, high: float):
        v = np.zeros(nvar)
        for i, a in coefs.items():
            v[i] += a
        rows_A.append(v)
        lo.append(low)
        hi.append(high)

    upper = np.full(nvar, np.inf)
    for r, rel in enumerate(releases):
        for tab in rel["participation"]:
            for row in tab["rows"]:
                if row["count"] is None:
                    continue
                m = np.flatnonzero(_match(groups, used, row["population"]))
                add({p_idx(r, g): 1 for g in m}, row["count"], row["count"])
        it = per_rel[r]
        if it is None:
            continue
        asked = set(it.get("asked_bands") or [])
        bi = used.index("band") if "band" in used else None
        for g, grp in enumerate(groups):
            if bi is not None and asked and grp[bi] not in asked:
                for c, code in enumerate(codes):
                    if code != NONE:
                        upper[x_idx(r, g, c)] = 0
            if multi:
                # a choice and "no answer" never together; every answerer chose something
                for c, code in enumerate(codes):
                    if code != NONE:
                        add({x_idx(r, g, c): 1, x_idx(r, g, codes.index(NONE)): 1, p_idx(r, g): -1}, -np.inf, 0)
                add({**{x_idx(r, g, c): 1 for c in range(C)}, p_idx(r, g): -1}, 0, np.inf)
            else:
                add({**{x_idx(r, g, c): 1 for c in range(C)}, p_idx(r, g): -1}, 0, 0)
        m_pop = np.flatnonzero(_match(groups, used, it["population"]))
        add({p_idx(r, g): 1 for g in m_pop}, it["total"], it["total"])
        for cell in it["cells"]:
            if cell["count"] is None:
                continue
            cs = [codes.index(c) for c in cell["codes"]]
            add({x_idx(r, g, c): 1 for g in m_pop for c in cs}, cell["count"], cell["count"])
        for bd in it["breakdowns"]:
            for row in bd["rows"]:
                m = np.flatnonzero(_match(groups, used, row["population"]))
                add({p_idx(r, g): 1 for g in m}, row["total"], row["total"])
                for cell in row["cells"]:
                    cs = [codes.index(c) for c in cell["codes"]]
                    add({x_idx(r, g, c): 1 for g in m for c in cs}, cell["count"], cell["count"])
    if monotone:
        for r in range(1, R):
            for g in range(G):
                add({p_idx(r, g): 1, p_idx(r - 1, g): -1}, 0, np.inf)
                for c in range(C):
                    add({x_idx(r, g, c): 1, x_idx(r - 1, g, c): -1}, 0, np.inf)
    A = np.array(rows_A)
    cons = LinearConstraint(A, np.array(lo), np.array(hi))
    bounds = Bounds(np.zeros(nvar), upper)
    integrality = np.ones(nvar)
    for r, it in enumerate(per_rel):
        if it is None:
            continue
        m_pop = np.flatnonzero(_match(groups, used, it["population"]))
        for cell in it["cells"]:
            if cell["count"] is not None:
                continue
            cs = [codes.index(c) for c in cell["codes"]]
            obj = np.zeros(nvar)
            for g in m_pop:
                for c in cs:
                    obj[x_idx(r, g, c)] = 1
            a = milp(obj, constraints=cons, integrality=integrality, bounds=bounds)
            b = milp(-obj, constraints=cons, integrality=integrality, bounds=bounds)
            if a.status != 0:
                if monotone:  # e.g. a child withdrew: counts did not only grow
                    raise _Infeasible
                continue
            low = round(a.fun)
            high = np.inf if b.status != 0 else round(-b.fun)
            if low == high:
                pinned.append({"release": r, "item": name, "cell": cell["label"], "value": int(low)})


def _protect_pinned(release, previous, wide, dims, cb, rules) -> None:
    """Hide what the intruder pins -- in this release or, through this one, in an earlier one --
    until nothing is pinned; a question still pinned after that is withheld."""
    here = len(previous)
    for _ in range(6):
        found = intruder_audit([*previous, release])
        if not found:
            return
        for p in found:
            it = next((i for i in release["items"] if i["item"] == p["item"]), None)
            if it is None or it.get("carried"):
                continue
            source = release if p["release"] == here else previous[p["release"]]
            old = next((i for i in source["items"] if i["item"] == p["item"]), None)
            codes = set()
            for c in (old or {}).get("cells", ()):
                if c["label"] == p["cell"]:
                    codes = set(c["codes"])
            shown = [c for c in it["cells"] if c["count"] is not None]
            # the cells of this release that bound the pinned one, else the largest shown
            targets = [c for c in shown if set(c["codes"]) & codes] if p["release"] != here else []
            if not targets and shown:
                targets = [max(shown, key=lambda c: c["count"])]
            for c in targets:
                c["count"] = c["percent"] = c["coded"] = None
            still = [c for c in it["cells"] if c["count"] is not None]
            if it["type"] != "multi" and sum(c["count"] is None for c in it["cells"]) == 1 and still:
                part = max(still, key=lambda c: c["count"])
                part["count"] = part["percent"] = part["coded"] = None
            it["breakdowns"] = []
            kind = it["headline"]["kind"] if it.get("headline") else ("chose" if it["type"] == "multi" else "said")
            it["headline"] = _headline(it["cells"], kind)
    for p in intruder_audit([*previous, release]):
        it = next((i for i in release["items"] if i["item"] == p["item"]), None)
        if it is not None and not it.get("withheld") and not it.get("carried"):
            _hide_item(it)
            release["withheld"].append(it["item"])


def _finish(release) -> None:
    for it in release["items"]:
        it["has_headline"] = it.get("headline") is not None
        it["hidden_cells"] = sum(c["count"] is None for c in it["cells"])


# ----------------------------------------------------------------------------- summaries
def items_with_headline(release: Mapping[str, Any]) -> float:
    """Share of the release's questions that show a headline figure (0 .. 1)."""
    items = release.get("items") or []
    if not items:
        return 0.0
    return sum(1 for it in items if it.get("headline")) / len(items)


# ----------------------------------------------------------------------------- the report model
def share_words(tenths: int) -> str:
    """ "About 7 in 10" (English; the web page translates its own).

    >>> share_words(7), share_words(0), share_words(10)
    ('About 7 in 10', 'Fewer than 1 in 10', 'Almost all')
    """
    if tenths <= 0:
        return "Fewer than 1 in 10"
    if tenths >= 10:
        return "Almost all"
    return f"About {tenths} in 10"


def headline_text(item: Mapping[str, Any]) -> str | None:
    """The plain-language headline of a released question, in English.

    >>> headline_text({"headline": {"tenths": 7, "answer": "Yes", "kind": "said", "percent": 68}})
    'About 7 in 10 children said “Yes” (68 %).'
    """
    h = item.get("headline")
    if not h:
        return None
    verb = {"said": "said", "chose": "chose", "first": "put"}[h["kind"]]
    tail = " first" if h["kind"] == "first" else ""
    pct = h.get("coded") or f"{h['percent']} %"
    return f"{share_words(h['tenths'])} children {verb} “{h['answer']}”{tail} ({pct})."


def cell_text(cell: Mapping[str, Any]) -> tuple[str, str]:
    """(count, percent) as published: "s" for a hidden count, "" for a percentage not shown."""
    if cell["count"] is None:
        return "s", ""
    pct = cell.get("coded") or ("" if cell.get("percent") is None else f"{cell['percent']} %")
    return f"{cell['count']:,}", pct


def test_rows(release: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tests of published breakdowns, p-values adjusted (Benjamini-Hochberg) across them."""
    from scipy.stats import false_discovery_control

    rows = []
    for it in release["items"]:
        for bd in it["breakdowns"]:
            t = bd.get("test")
            if t:
                rows.append({"item": it["item"], "question": it["question"], "by": DIM_LABELS[bd["dim"]], **t})
    if rows:
        adj = false_discovery_control([r["p"] for r in rows], method="bh")
        for r, a in zip(rows, adj, strict=True):
            r["p_adjusted"] = float(a)
    return rows


def release_to_report(
    release: Mapping[str, Any],
    title: str = "Consultation report",
    number: int | None = None,
    records: Sequence[Any] = (),
    charts: bool = False,
):
    """The programme report of a release: every number is a published cell of the release.

    ``records`` are further sections that hold no answers (the programme records of
    :func:`analysis.report.programme_sections`), added after the participation section.
    ``charts`` adds a bar chart of each question's published shares after its table
    (:func:`analysis.charts.release_item_chart`: hidden answers get no bar, only words).
    """
    from .charts import release_item_chart
    from .disclosure import DisclosurePolicy, released_from_release
    from .report import DOMAIN_TITLES, ProgrammeRecord, ProgrammeReport, Section

    r = release["rules"]
    policy = DisclosurePolicy(k=r["k"], min_denominator=r["min_denominator"], flag_denominator=r["flag_denominator"])
    note_s = (
        f"s: hidden to protect children's privacy - a count from 1 to {r['k'] - 1} "
        f"(1 to {r['k_low'] - 1} for questions that are not sensitive), or another cell hidden "
        "so that it cannot be worked out from the total."
    )
    method = Section(
        "About these results",
        [
            ProgrammeRecord(
                "Method",
                ("", ""),
                (
                    ("Release", f"Release {number} of {release['made_on']}" if number else release["made_on"]),
                    ("Children", f"{release['n']:,} children finished the consultation."),
                    (
                        "Percentages",
                        "Whole numbers, of all children each question was meant for (all age groups "
                        f"together); not shown when fewer than {r['min_denominator']} children were asked.",
                    ),
                    (
                        "Small numbers",
                        f"Counts from 1 to {r['k'] - 1} are not published: small answers are merged "
                        "('Very hard or hard', 'Other answers') or hidden ('s').",
                    ),
                    ("Breakdowns", "By age group, gender or site only where every number passes."),
                ),
            )
        ],
    )
    sections = [method]
    who = Section("Who took part")
    for tab in release["participation"]:
        disp = pd.DataFrame(
            {"children": [f"{row['count']:,}" for row in tab["rows"]]}, index=[row["label"] for row in tab["rows"]]
        )
        who.blocks.append(released_from_release(disp, tab["title"], policy))
    if release.get("funnel"):
        disp = pd.DataFrame(
            {"children": ["s" if s["count"] is None else f"{s['count']:,}" for s in release["funnel"]]},
            index=[s["stage"] for s in release["funnel"]],
        )
        who.blocks.append(
            released_from_release(disp, "Participation funnel", policy, [note_s] if (disp == "s").any().any() else [])
        )
    sections.append(who)
    sections.extend(records)
    heads = [
        (it["question"], headline_text(it) or "No figure: the answers were too spread out or too few.")
        for it in release["items"]
    ]
    sections.append(
        Section("Headlines", [ProgrammeRecord("One line per question", ("question", "headline"), tuple(heads))])
    )
    domains: dict[str, list] = {}
    for it in release["items"]:
        domains.setdefault(it["domain"] or "Items", []).append(it)
    for dom, items in domains.items():
        sec = Section(f"Results: {DOMAIN_TITLES.get(dom, dom)}")
        for it in items:
            texts = [cell_text(c) for c in it["cells"]]
            disp = pd.DataFrame(
                {"children": [t[0] for t in texts], "%": [t[1] for t in texts]}, index=[c["label"] for c in it["cells"]]
            )
            notes = [note_s] if any(t[0] == "s" for t in texts) else []
            sec.blocks.append(
                released_from_release(disp, f"{it['question']} ({it['total']:,} children asked)", policy, notes)
            )
            if charts and any(c["count"] is not None for c in it["cells"]):
                sec.blocks.append(release_item_chart(it))
            for bd in it["breakdowns"]:
                cols = [c["label"] for c in bd["rows"][0]["cells"]]
                disp = pd.DataFrame(
                    [
                        [
                            f"{c['count']:,}" + (f" ({c['percent']} %)" if c["percent"] is not None else "")
                            for c in row["cells"]
                        ]
                        + [f"{row['total']:,}"]
                        for row in bd["rows"]
                    ],
                    columns=[*cols, "children asked"],
                    index=[row["label"] for row in bd["rows"]],
                )
                sec.blocks.append(released_from_release(disp, f"{it['question']}, by {DIM_LABELS[bd['dim']]}", policy))
        sections.append(sec)
    tests = test_rows(release)
    if tests:
        sections.append(
            Section(
                "Differences between groups",
                [
                    ProgrammeRecord(
                        "Chi-square tests of the published breakdowns",
                        ("question", "by", "children", "chi-square", "df", "p (adjusted)", "Cramér's V"),
                        tuple(
                            (
                                t["question"],
                                t["by"],
                                f"{t['n']:,}",
                                f"{t['statistic']:.2f}",
                                str(t["df"]),
                                "<0.001" if t["p_adjusted"] < 0.001 else f"{t['p_adjusted']:.3f}",
                                f"{t['cramers_v']:.2f}",
                            )
                            for t in tests
                        ),
                        "Computed from the published numbers only; p-values adjusted (Benjamini-Hochberg).",
                    )
                ],
                intro="Only breakdowns in which every number could be published are tested.",
            )
        )
    return ProgrammeReport(title, release["made_on"], policy, sections, int(release["n"]))

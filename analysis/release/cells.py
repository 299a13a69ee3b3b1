"""The cells of a release: the merging rules (small adjacent answers and groups merged, the rest
hidden with a partner), the groups of each breakdown, and one question's headline cells."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.frames import DK, RNS, ItemMeta

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

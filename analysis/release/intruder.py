"""The intruder audit (:func:`intruder_audit`): integer programming over this release and every
earlier one looks for a hidden cell it can pin to one value; such cells are hidden with a partner."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analysis.release.cells import DIMENSIONS, NONE, _headline
from analysis.release.ledger import _hide_item


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

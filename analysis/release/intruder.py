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


def _item_codes(per_rel) -> list[str]:
    """Every answer code the question's published cells name (headline and first breakdown row)."""
    codes: list[str] = []
    for it in per_rel:
        if it is None:
            continue
        rows = [it["cells"]] + [r["cells"] for bd in it["breakdowns"] for r in bd["rows"][:1]]
        for cells in rows:
            for c in cells:
                for code in c["codes"]:
                    if code not in codes:
                        codes.append(code)
    if NONE not in codes:
        codes.append(NONE)
    return codes


class _Programme:
    """The intruder's integer programme for one question: variables ``P[r, g]`` (children of
    group ``g`` in release ``r``), then ``X[r, g, c]`` (of them, those with answer ``c``); each
    published number is a row of equations."""

    def __init__(self, releases, groups, used, codes) -> None:
        self.groups, self.used, self.codes = groups, used, codes
        self.G, self.R, self.C = len(groups), len(releases), len(codes)
        self.nP = self.R * self.G
        self.nvar = self.nP + self.R * self.G * self.C
        self.rows_A: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.upper = np.full(self.nvar, np.inf)

    def p_idx(self, r, g):
        return r * self.G + g

    def x_idx(self, r, g, c):
        return self.nP + (r * self.G + g) * self.C + c

    def add(self, coefs: dict[int, float], low: float, high: float) -> None:
        v = np.zeros(self.nvar)
        for i, a in coefs.items():
            v[i] += a
        self.rows_A.append(v)
        self.lo.append(low)
        self.hi.append(high)

    def match(self, pop) -> np.ndarray:
        return np.flatnonzero(_match(self.groups, self.used, pop))

    def add_participation(self, r, rel) -> None:
        """The published counts of children, by group."""
        for tab in rel["participation"]:
            for row in tab["rows"]:
                if row["count"] is None:
                    continue
                self.add({self.p_idx(r, g): 1 for g in self.match(row["population"])}, row["count"], row["count"])

    def add_answerers(self, r, it, multi: bool) -> None:
        """Only the asked age groups answer; each child gives one answer (several with ``multi``)."""
        codes, C = self.codes, self.C
        asked = set(it.get("asked_bands") or [])
        bi = self.used.index("band") if "band" in self.used else None
        none = codes.index(NONE)
        for g, grp in enumerate(self.groups):
            if bi is not None and asked and grp[bi] not in asked:
                for c, code in enumerate(codes):
                    if code != NONE:
                        self.upper[self.x_idx(r, g, c)] = 0
            everyone = {**{self.x_idx(r, g, c): 1 for c in range(C)}, self.p_idx(r, g): -1}
            if multi:
                # a choice and "no answer" never together; every answerer chose something
                for c, code in enumerate(codes):
                    if code != NONE:
                        self.add({self.x_idx(r, g, c): 1, self.x_idx(r, g, none): 1, self.p_idx(r, g): -1}, -np.inf, 0)
                self.add(everyone, 0, np.inf)
            else:
                self.add(everyone, 0, 0)

    def add_cells(self, r, it) -> None:
        """The question's published total, headline cells and breakdowns."""
        m_pop = self.match(it["population"])
        self.add({self.p_idx(r, g): 1 for g in m_pop}, it["total"], it["total"])
        for cell in it["cells"]:
            if cell["count"] is None:
                continue
            cs = [self.codes.index(c) for c in cell["codes"]]
            self.add({self.x_idx(r, g, c): 1 for g in m_pop for c in cs}, cell["count"], cell["count"])
        for bd in it["breakdowns"]:
            for row in bd["rows"]:
                m = self.match(row["population"])
                self.add({self.p_idx(r, g): 1 for g in m}, row["total"], row["total"])
                for cell in row["cells"]:
                    cs = [self.codes.index(c) for c in cell["codes"]]
                    self.add({self.x_idx(r, g, c): 1 for g in m for c in cs}, cell["count"], cell["count"])

    def add_growth(self) -> None:
        """Counts only grow from one release to the next."""
        for r in range(1, self.R):
            for g in range(self.G):
                self.add({self.p_idx(r, g): 1, self.p_idx(r - 1, g): -1}, 0, np.inf)
                for c in range(self.C):
                    self.add({self.x_idx(r, g, c): 1, self.x_idx(r - 1, g, c): -1}, 0, np.inf)


def _audit_item(name, per_rel, releases, used, groups, monotone, pinned) -> None:
    meta = next(it for it in per_rel if it is not None)
    prog = _Programme(releases, groups, used, _item_codes(per_rel))
    for r, rel in enumerate(releases):
        prog.add_participation(r, rel)
        it = per_rel[r]
        if it is None:
            continue
        prog.add_answerers(r, it, meta["type"] == "multi")
        prog.add_cells(r, it)
    if monotone:
        prog.add_growth()
    pinned.extend(_pinned_cells(prog, per_rel, name, monotone))


def _pinned_cells(prog: _Programme, per_rel, name, monotone) -> list[dict[str, Any]]:
    """Each hidden cell whose smallest and largest feasible values are equal."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    cons = LinearConstraint(np.array(prog.rows_A), np.array(prog.lo), np.array(prog.hi))
    bounds = Bounds(np.zeros(prog.nvar), prog.upper)
    integrality = np.ones(prog.nvar)
    found = []
    for r, it in enumerate(per_rel):
        if it is None:
            continue
        m_pop = prog.match(it["population"])
        for cell in it["cells"]:
            if cell["count"] is not None:
                continue
            obj = np.zeros(prog.nvar)
            for g in m_pop:
                for c in [prog.codes.index(c) for c in cell["codes"]]:
                    obj[prog.x_idx(r, g, c)] = 1
            a = milp(obj, constraints=cons, integrality=integrality, bounds=bounds)
            b = milp(-obj, constraints=cons, integrality=integrality, bounds=bounds)
            if a.status != 0:
                if monotone:  # e.g. a child withdrew: counts did not only grow
                    raise _Infeasible
                continue
            low = round(a.fun)
            high = np.inf if b.status != 0 else round(-b.fun)
            if low == high:
                found.append({"release": r, "item": name, "cell": cell["label"], "value": int(low)})
    return found


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

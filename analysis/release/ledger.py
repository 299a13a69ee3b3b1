"""The checks against the ledger (A13): a table whose population changed by 1 to k-1 children
since an earlier release, or is nested in another published group by that much, is withheld."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


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

    _withhold_changed_participation(release, risky)
    for n, it in enumerate(release["items"]):
        if risky(it["population"], it["total"]):
            release["items"][n] = _carried_or_hidden(it, previous)
            release["withheld"].append(it["item"])
            continue
        keep = []
        for bd in it["breakdowns"]:
            if any(risky(r["population"], r["total"]) for r in bd["rows"]):
                release["withheld"].append(f"{it['item']} by {bd['dim']}")
            else:
                keep.append(bd)
        it["breakdowns"] = keep


def _withhold_changed_participation(release, risky) -> None:
    """A participation table with a changed group is withheld (the overall count stays)."""
    for tab in release["participation"]:
        if any(risky(r["population"], r["count"]) for r in tab["rows"]):
            tab["rows"] = [] if tab["dim"] != "all" else tab["rows"]
            release["withheld"].append(f"participation by {tab['dim']}")
    release["participation"] = [t for t in release["participation"] if t["rows"]]


def _carried_or_hidden(it, previous):
    """A question whose population changed too little: its last published version stays (it tells
    nothing new), marked ``carried``; never published before, it is hidden."""
    earlier = next(
        (i for old in reversed(previous) for i in old["items"] if i["item"] == it["item"] and not i.get("withheld")),
        None,
    )
    if earlier is None:
        _hide_item(it)
        return it
    carried = json.loads(json.dumps(earlier))
    carried["carried"] = True
    return carried


class _NestedGroups:
    """The groups published so far in this release, each checked against the others by a
    :class:`~analysis.disclosure.DifferencingGuard` before it is published."""

    def __init__(self, rules) -> None:
        from analysis.disclosure import DifferencingGuard

        self.guard = DifferencingGuard(rules.policy())
        self.seen: dict[tuple, int] = {}

    def publish_all(self, rows) -> bool:
        """Publish every new group of a table, or none when one would differ from another by too few."""
        from analysis.disclosure import DisclosureError

        fresh = {}
        for pop, n in rows:
            key = _pkey(pop)
            if key in self.seen or key in fresh:
                continue
            fresh[key] = (pop, n)
        try:
            for pop, n in fresh.values():
                self.guard.check(pop, n)
        except DisclosureError:
            return False
        for key, (pop, n) in fresh.items():
            self.guard.publish(pop, n)
            self.seen[key] = n
        return True


def _nested_population_checks(release, rules) -> None:
    """Within the release: no two published groups, one inside the other, may differ by 1 to k-1
    children (:class:`~analysis.disclosure.DifferencingGuard`); a table that would is left out."""
    groups = _NestedGroups(rules)
    groups.publish_all([({}, release["n"])])
    kept = []
    for tab in release["participation"]:
        if groups.publish_all([(r["population"], r["count"]) for r in tab["rows"]]):
            kept.append(tab)
        else:
            release["withheld"].append(f"participation by {tab['dim']}")
    release["participation"] = kept
    for it in release["items"]:
        if it.get("carried"):
            continue
        if not groups.publish_all([(it["population"], it["total"])]):
            _hide_item(it)
            release["withheld"].append(it["item"])
            continue
        keep = []
        for bd in it["breakdowns"]:
            if groups.publish_all([(r["population"], r["total"]) for r in bd["rows"]]):
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

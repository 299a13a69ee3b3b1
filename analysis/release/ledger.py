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
    from analysis.disclosure import DifferencingGuard, DisclosureError

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

"""Releases (issue 15): one owner of the rules, consistent suppression, and an intruder who
pins nothing -- on synthetic classes, schools and districts answering the bundled consultation."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.frames import ItemMeta, codebook_from_instrument
from analysis.release import (
    NONE,
    ReleaseRefused,
    build_release,
    headline_text,
    intruder_audit,
    items_with_headline,
    release_to_report,
)
from analysis.release_rules import MIN_K, ReleaseRules, ReleaseRulesError, rules_from_config
from analysis.synthetic import skewed_from_codebook
from instruments.bundled import load_bundled

BANDS = ("A", "B", "C")


@pytest.fixture(scope="module")
def cb():
    return codebook_from_instrument(load_bundled())


def _release(cb, n, bands, sites=1, seed=3, **kw):
    long = skewed_from_codebook(cb, n, seed=seed, bands=bands, n_sites=sites)
    return long, build_release(long, cb, ReleaseRules(), bands=BANDS, **kw)


def _every_number_consistent(rel):
    """Every shown row sums to its total when nothing in it is hidden; no % beside a hidden count."""
    k = rel["rules"]["k"]
    for it in rel["items"]:
        for c in it["cells"]:
            if c["count"] is None:
                assert c["percent"] is None and c["coded"] is None
            elif 0 < c["count"] < it["k"]:
                pytest.fail(f"{it['item']}: a published count of {c['count']} (< {it['k']})")
        if it["type"] != "multi":
            hidden = [c for c in it["cells"] if c["count"] is None]
            assert len(hidden) != 1, f"{it['item']}: one hidden cell follows from the total"
            if not hidden:
                assert sum(c["count"] for c in it["cells"]) == it["total"]
        for bd in it["breakdowns"]:
            assert not any(c["count"] is None for c in it["cells"]) or it["type"] == "multi"
            for row in bd["rows"]:
                for c in row["cells"]:
                    assert c["count"] == 0 or c["count"] >= it["k"]
    for tab in rel["participation"]:
        for row in tab["rows"]:
            assert row["count"] == 0 or row["count"] >= k


@pytest.mark.parametrize(
    ("n", "bands", "sites", "target"),
    [
        (30, ("B",), 1, 0.70),  # a class
        (120, ("B", "C"), 1, 0.90),  # a school year
        (2000, BANDS, 8, 0.90),  # a district
    ],
)
def test_headlines_at_real_sizes_and_the_intruder_pins_nothing(cb, n, bands, sites, target) -> None:
    long, rel = _release(cb, n, bands, sites)
    share = items_with_headline(rel)
    assert share >= target, f"{n} children: only {share:.0%} of questions have a headline"
    _every_number_consistent(rel)
    assert intruder_audit([rel]) == []
    # every question appears by its text, never by its code
    for it in rel["items"]:
        assert it["question"] and it["question"] != it["item"].split("[")[0]


def test_the_class_of_30_report_has_question_text_and_plain_headlines(cb) -> None:
    _, rel = _release(cb, 30, ("B",))
    texts = [headline_text(it) for it in rel["items"] if it["headline"]]
    assert texts and all(
        t.startswith(("About", "Almost", "Fewer")) and " in 10 children " in t or t.startswith("Almost all")
        for t in texts
    )
    from analysis.report import render_html

    html = render_html(release_to_report(rel, "Class"))
    for code in ("EV1", "TR4[A]", "another_way"):
        assert f">{code}<" not in html and f"{code}:" not in html


def test_rates_are_never_shown_beside_a_hidden_count(cb) -> None:
    _, rel = _release(cb, 30, ("B",))
    rep = release_to_report(rel, "Class")
    for table in rep.released_tables():
        d = table.display
        if "children" in d.columns and "%" in d.columns:
            assert not ((d["children"] == "s") & (d["%"] != "")).any(), table.title


def test_small_categories_are_merged_before_anything_is_hidden() -> None:
    cb = {
        "q": ItemMeta(
            "q",
            "scale",
            ("1", "2", "3", "4"),
            label="How hard?",
            labels={"1": "Very hard", "2": "Hard", "3": "Easy", "4": "Very easy"},
        )
    }
    import pandas as pd

    from analysis.frames import make_long

    answers = ["1"] * 4 + ["2"] * 8 + ["3"] * 6 + ["4"] * 12
    long = make_long(pd.DataFrame({"response_id": range(1, 31), "item": "q", "answer": answers, "band": "B"}), cb)
    rel = build_release(long, cb, ReleaseRules())
    cells = {c["label"]: c["count"] for c in rel["items"][0]["cells"]}
    assert cells == {"Very hard or hard": 12, "Easy or very easy": 18, "No answer": 0}
    assert rel["items"][0]["headline"]["tenths"] == 6


def test_a_hidden_count_cannot_be_worked_out_from_the_total() -> None:
    """The review's case: "Very hard | s | of 28 | (7.1 %)" gave 2 children back."""
    import pandas as pd

    from analysis.frames import make_long

    cb = {"q": ItemMeta("q", "single", ("yes", "no", "unsure"), label="Heard of it?")}
    answers = ["yes"] * 20 + ["no"] * 8 + ["unsure"] * 0 + [None] * 2
    long = make_long(
        pd.DataFrame(
            {"response_id": range(1, 31), "item": "q", "answer": [a if a else "_rns" for a in answers], "band": "B"}
        ),
        cb,
    )
    rel = build_release(long, cb, ReleaseRules())
    cells = {c["label"]: c["count"] for c in rel["items"][0]["cells"]}
    assert cells == {"yes": 20, "unsure": 0, "Other answers or no answer": 10}  # merged: nothing to work out
    # with fewer others the small ones are hidden, at least two together
    long = make_long(
        pd.DataFrame(
            {"response_id": range(1, 29), "item": "q", "answer": ["yes"] * 22 + ["no"] * 4 + ["_rns"] * 2, "band": "B"}
        ),
        cb,
    )
    rel = build_release(long, cb, ReleaseRules())
    cells = {c["label"]: c["count"] for c in rel["items"][0]["cells"]}
    assert cells["yes"] == 22 and sum(v is None for v in cells.values()) >= 2
    assert all(v is None or v == 0 or v >= 10 for v in cells.values())
    assert intruder_audit([rel]) == []


def test_a_release_waits_for_k_new_children_and_never_pins_the_newest(cb) -> None:
    """The review's case: between 10 and 11 children the page pinned the 11th child's answers."""
    long = skewed_from_codebook(cb, 45, seed=5, bands=("B",))
    first = long[long["response_id"] <= 10]
    r1 = build_release(first, cb, ReleaseRules(), bands=BANDS)
    with pytest.raises(ReleaseRefused, match="at least 10 new children"):
        build_release(long[long["response_id"] <= 11], cb, ReleaseRules(), bands=BANDS, previous=[r1])
    r2 = build_release(long[long["response_id"] <= 30], cb, ReleaseRules(), bands=BANDS, previous=[r1])
    r3 = build_release(long, cb, ReleaseRules(), bands=BANDS, previous=[r1, r2])
    assert intruder_audit([r1, r2, r3]) == []
    for rel in (r1, r2, r3):
        _every_number_consistent(rel)


def test_the_intruder_finds_what_an_unprotected_release_gives_away(cb) -> None:
    """The audit is real: publishing the same row with one hidden cell is caught."""
    _, rel = _release(cb, 30, ("B",), audit=False)
    it = next(i for i in rel["items"] if not any(c["count"] is None for c in i["cells"]) and i["type"] != "multi")
    it["cells"][0]["count"] = None
    pins = intruder_audit([rel])
    assert pins and pins[0]["item"] == it["item"]


def test_a_subgroup_that_grew_by_fewer_than_k_is_withheld(cb) -> None:
    """20 new children (>= k) since the last release, but only 5 of them at site S02: every table
    with a group that changed by 1 to k-1 children is withheld, the rest is published."""
    long = skewed_from_codebook(cb, 2100, seed=2, bands=BANDS, n_sites=4)
    r1 = build_release(long[long["response_id"] <= 2000], cb, ReleaseRules(), bands=BANDS)
    late = long[long["response_id"] > 2000].drop_duplicates("response_id")
    new = list(late[late["site"] == "S01"]["response_id"][:15]) + list(late[late["site"] == "S02"]["response_id"][:5])
    r2 = build_release(
        long[(long["response_id"] <= 2000) | long["response_id"].isin(new)],
        cb,
        ReleaseRules(),
        bands=BANDS,
        previous=[r1],
    )
    assert r2["n"] == 2020 and "participation by site" in r2["withheld"]
    assert not any(bd["dim"] == "site" for it in r2["items"] if not it.get("carried") for bd in it["breakdowns"])
    assert any(bd["dim"] == "site" for it in r1["items"] for bd in it["breakdowns"])
    carried = [it for it in r2["items"] if it.get("carried")]  # questions of small age groups: as before
    assert carried and all(
        it == next(i for i in r1["items"] if i["item"] == it["item"]) | {"carried": True} for it in carried
    )
    assert sum(it["headline"] is not None for it in r2["items"]) / len(r2["items"]) >= 0.9
    assert intruder_audit([r1, r2]) == []


def test_the_threshold_is_owned_in_one_place_and_refused_below_its_minimum() -> None:
    with pytest.raises(ReleaseRulesError, match="below the minimum of 5"):
        rules_from_config({"DISCLOSURE_K": "3"})
    with pytest.raises(ReleaseRulesError):
        rules_from_config({"DISCLOSURE_K_LOW": 4})
    assert rules_from_config({"DISCLOSURE_K": "12"}).policy().k == 12
    assert MIN_K == 5
    low = rules_from_config({"DISCLOSURE_K_LOW": "5"})
    assert low.k_for(sensitive=True) == 10 and low.k_for(sensitive=False) == 5


def test_a_sensitive_item_keeps_k_with_a_lower_threshold_for_the_others(cb) -> None:
    long = skewed_from_codebook(cb, 30, seed=3, bands=("B",))
    rel = build_release(long, cb, ReleaseRules(k_low=5), bands=BANDS)
    for it in rel["items"]:
        assert it["k"] == (10 if it["sensitive"] else 5)
        for c in it["cells"]:
            assert c["count"] is None or c["count"] == 0 or c["count"] >= it["k"]
    assert intruder_audit([rel]) == []


def test_no_answer_column_is_always_accounted_for(cb) -> None:
    _, rel = _release(cb, 120, ("B", "C"))
    for it in rel["items"]:
        assert any(NONE in c["codes"] for c in it["cells"]), it["item"]


def test_a_2000_release_breaks_most_questions_down(cb) -> None:
    # How fast it is built (under 20 s) is measured in bench/guard_speed.py.
    long = skewed_from_codebook(cb, 2000, seed=3, bands=BANDS, n_sites=8)
    rel = build_release(long, cb, ReleaseRules(), bands=BANDS)
    assert intruder_audit([rel]) == []
    assert np.mean([len(it["breakdowns"]) > 0 for it in rel["items"]]) > 0.5


def test_a_new_release_that_would_pin_an_earlier_hidden_cell_is_protected() -> None:
    """Counts only grow between releases: a "no answer" of 0 now would pin the hidden one before."""
    import pandas as pd

    from analysis.frames import make_long

    cb = {"q": ItemMeta("q", "single", ("yes", "no", "unsure"), label="Heard of it?")}

    def frame(answers):
        return make_long(
            pd.DataFrame({"response_id": range(1, len(answers) + 1), "item": "q", "answer": answers, "band": "B"}), cb
        )

    r1 = build_release(frame(["yes"] * 22 + ["no"] * 6 + ["_rns"] * 2), cb, ReleaseRules())
    assert {c["label"]: c["count"] for c in r1["items"][0]["cells"]} == {
        "yes": 22,
        "no": None,
        "unsure": 0,
        "No answer": None,
    }
    later = frame(["yes"] * 22 + ["no"] * 8 + ["no"] * 10)  # 10 new children; nobody left unanswered
    raw = build_release(later, cb, ReleaseRules(), previous=[r1], audit=False)
    assert intruder_audit([r1, raw]), "the unprotected release pins the earlier hidden cells"
    safe = build_release(later, cb, ReleaseRules(), previous=[r1])
    assert intruder_audit([r1, safe]) == []
    assert any(c["count"] is not None for c in safe["items"][0]["cells"])


def test_a_breakdown_that_differs_from_a_published_group_by_a_few_children_is_left_out() -> None:
    """The DifferencingGuard at work inside one release: boys asked a question of the older age
    groups (47) against all boys (50) would expose the 3 boys of the youngest group."""
    import pandas as pd

    from analysis.frames import make_long

    cb = {
        "q": ItemMeta("q", "single", ("yes", "no"), label="Heard of it?", bands=("B", "C")),
        "p": ItemMeta("p", "single", ("yes", "no"), label="Feel safe?"),
    }
    kids = (
        [("A", "girl")] * 20
        + [("A", "boy")] * 3
        + [("B", "girl")] * 15
        + [("B", "boy")] * 23
        + [("C", "girl")] * 15
        + [("C", "boy")] * 24
    )
    rows = []
    for rid, (band, gender) in enumerate(kids, start=1):
        rows.append((rid, "p", "yes" if rid % 2 else "no", band, gender))
        if band != "A":
            rows.append((rid, "q", "yes" if rid % 3 else "no", band, gender))
    long = make_long(
        pd.DataFrame(rows, columns=["response_id", "item", "answer", "band", "gender"]),
        cb,
        categories={"band": ["A", "B", "C"]},
    )
    rel = build_release(long, cb, ReleaseRules(), bands=("A", "B", "C"))
    q = next(it for it in rel["items"] if it["item"] == "q")
    p = next(it for it in rel["items"] if it["item"] == "p")
    assert [bd["dim"] for bd in p["breakdowns"]] == ["band", "gender"]  # all boys (50): fine
    assert "gender" not in [bd["dim"] for bd in q["breakdowns"]]  # 47 of 50 boys: left out
    assert "q by gender" in rel["withheld"]
    assert intruder_audit([rel]) == []


def test_the_release_funnel_hides_small_stages_and_what_gives_them_back(cb) -> None:
    long = skewed_from_codebook(cb, 30, seed=3, bands=("B",))
    funnel = {"invited": 40, "declined assent": 2, "assented": 33, "completed": 30, "withdrew after submitting": 3}
    rel = build_release(long, cb, ReleaseRules(), bands=BANDS, funnel=funnel)
    shown = {row["stage"]: row["count"] for row in rel["funnel"]}
    assert shown == {
        "invited": 40,
        "declined assent": None,
        "assented": None,
        "completed": 30,
        "withdrew after submitting": None,
    }


def test_the_report_charts_draw_only_published_shares(cb, tmp_path) -> None:
    """Issue 15: charts show what is released and say plainly what is hidden: no bar, and no
    percentage, for a hidden count; every drawn share is a published one."""
    from analysis.charts import ChartResult
    from analysis.report import write_report_pdf

    _, rel = _release(cb, 30, ("B",))
    rep = release_to_report(rel, "Class", charts=True)
    drawn = [b for s in rep.sections for b in s.blocks if isinstance(b, ChartResult)]
    by_question = {it["question"]: it for it in rel["items"]}
    assert len(drawn) >= len(rel["items"]) // 2
    hidden_named = 0
    for chart in drawn:
        item = by_question[chart.title]
        published = {c["label"]: c for c in item["cells"] if c["count"] is not None}
        for row in chart.data.itertuples():
            cell = published[row.answer]  # a drawn bar is a published cell
            assert cell["coded"] or row.percent == cell["percent"]
        hidden = [c["label"] for c in item["cells"] if c["count"] is None]
        assert not set(chart.data["answer"]) & set(hidden)
        if hidden:
            hidden_named += 1
            assert all(label in chart.caption and label in chart.alt_text for label in hidden)
    assert hidden_named, "a class of 30 has some hidden answer to name"
    assert write_report_pdf(rep, tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"

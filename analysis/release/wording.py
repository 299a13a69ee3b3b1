"""What a release says: the plain-language headline shares, cell texts, the tests' rows, and the
report model built from a release (:func:`release_to_report`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.release.cells import DIM_LABELS


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
    from analysis.charts import release_item_chart
    from analysis.disclosure import DisclosurePolicy, released_from_release
    from analysis.report import DOMAIN_TITLES, ProgrammeRecord, ProgrammeReport, Section

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

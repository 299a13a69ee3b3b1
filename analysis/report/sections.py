"""Building the report: every section computed from the long frame, every table through
:func:`~analysis.disclosure.disclose` (:func:`build_report`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from .. import charts
from ..descriptives import frequencies, shared_counts
from ..design import design_effects
from ..diagnostics import item_diagnostics
from ..disclosure import DisclosurePolicy, disclose
from ..frames import ItemMeta, _as_codebook, infer_codebook, split_band_variants, to_wide
from ..inference import compare_groups, crosstabs
from ..ranking import borda, rank_frame
from .model import (
    _RESERVED_LABELS,
    DOMAIN_TITLES,
    FUNNEL_ORDER,
    LUNDY_DEFAULT,
    NOT_RECORDED,
    ProgrammeRecord,
    ProgrammeReport,
    ReportInputs,
    Section,
)


def _record(title, columns, rows, note=""):
    clean = tuple(tuple(NOT_RECORDED if (v is None or v == "") else v for v in r) for r in rows)
    return ProgrammeRecord(title, tuple(columns), clean, note)


def _participation(long, wide, inputs, policy) -> Section:
    sec = Section("Who took part")
    funnel = dict(inputs.funnel or {})
    funnel.setdefault("started", len(wide))
    stages = [s for s in FUNNEL_ORDER if s in funnel] + [s for s in funnel if s not in FUNNEL_ORDER]
    missing = [s for s in FUNNEL_ORDER if s not in funnel]
    rel = disclose(
        pd.Series({s: int(funnel[s]) for s in stages}, name="children"),
        policy,
        margins=False,
        title="Participation funnel",
    )
    sec.blocks.append(charts.funnel_chart(rel, title="Participation funnel"))
    sec.blocks.append(rel)
    if missing:
        sec.blocks.append(_record("Stages not recorded", ("stage", "count"), [(s, None) for s in missing]))
    by = [b for b in inputs.breakdowns if b in wide.columns and wide[b].notna().any()]
    for b in by:
        counts = wide.groupby(b, observed=False).size()
        counts = counts[counts.index.astype(str) != "nan"]
        counts.index = [_RESERVED_LABELS.get(str(v), str(v)) for v in counts.index]
        title = f"Children by {b}"
        if b == "disability" and "disability_method" in wide:
            methods = ", ".join(sorted(wide["disability_method"].dropna().astype(str).unique()))
            title += f" (asked as: {methods or NOT_RECORDED})"
        sec.blocks.append(disclose(counts.rename("children"), policy, title=title))
    if "band" in by and "gender" in by:
        t = wide.groupby(["band", "gender"], observed=False).size().unstack(fill_value=0)
        t.columns = [_RESERVED_LABELS.get(str(v), str(v)) for v in t.columns]
        rel = disclose(t, policy, title="Children by band and gender")
        sec.blocks.append(rel)
        sec.blocks.append(charts.breakdown_chart(rel, title="Children by band and gender"))
    return sec


def _lundy(long, cb, inputs, policy) -> Section:
    sec = Section(
        "Quality of participation (Lundy model)",
        intro="Share of children giving a positive answer to the evaluation questions, by band.",
    )
    items = dict(inputs.lundy_items or LUNDY_DEFAULT)
    if inputs.lundy_items is None and not any(i in cb for i in items.values()):
        ev = [i for i, m in cb.items() if m.domain == "EV" and m.type == "scale"]
        if ev:
            items = dict(zip(("Space", "Voice", "Audience", "Influence"), ev, strict=False))
    item_cats = set(long["item"].cat.categories)
    present = {e: i for e, i in items.items() if i in cb and i in item_cats}
    rows = [(e, items[e], None) for e in items if e not in present]
    if present:
        variants = {e: [i] + [v for v in cb if v.startswith(f"{i}[")] for e, i in present.items()}
        wanted = [v for vs in variants.values() for v in vs if v in item_cats]
        freq = frequencies(long, items=wanted, by="band", codebook=cb)
        out = []
        for element, names in variants.items():
            for band, g in freq[freq["kind"] == "valid"].groupby("band", observed=True, sort=False):
                num = n = 0
                for name in names:
                    meta = cb[name]
                    # A yes/no item counts "yes"; a scale without marked levels its top level.
                    pos = set(meta.positive) or ({"yes"} if "yes" in meta.choices else set(meta.choices[-1:]))
                    f = g[g["item"] == name]
                    if f.empty or int(f["denominator"].iloc[0]) == 0:
                        continue
                    num += int(f.loc[f["answer"].isin(pos), "count"].sum())
                    n += int(f["denominator"].iloc[0])
                if n:  # bands the item was not asked in are left out
                    out.append((element, present[element], band, num, n, 100 * num / n))
        est = pd.DataFrame(out, columns=["element", "item", "band", "positive", "n", "% positive"])
        sec.blocks.append(
            disclose(
                est,
                policy,
                kind="estimates",
                value_columns=["% positive"],
                count_column="positive",
                title="Lundy indicators",
            )
        )
    if rows:
        sec.blocks.append(_record("Indicators not recorded", ("element", "item", "value"), rows))
    return sec


def _programme_sections(inputs) -> list[Section]:
    out = []
    chk = inputs.lundy_checklist
    out.append(
        Section(
            "Lundy process checklist",
            [
                _record(
                    "Process checklist",
                    ("question", "answer and evidence"),
                    list(chk.items()) if chk else [("checklist", None)],
                )
            ],
        )
    )
    gc = inputs.gc12
    out.append(
        Section(
            "General Comment 12: the nine requirements",
            [
                _record(
                    "GC12 self-assessment",
                    ("requirement", "status", "evidence"),
                    [(k, *v) for k, v in gc.items()] if gc else [("self-assessment", None, None)],
                )
            ],
        )
    )
    log = inputs.influence_log
    cols = ("recommendation", "decision", "reason", "date", "owner")
    rows = [tuple(r.get(c) for c in cols) for r in log] if log else [(None,) * 5]
    note = ""
    if log:
        decided = pd.Series([r.get("decision") for r in log]).value_counts()
        note = ", ".join(f"{k}: {v}" for k, v in decided.items())
    out.append(Section("Influence log", [_record("Influence log", cols, rows, note)]))
    fb = dict(inputs.feedback or {})
    days = None
    if fb.get("closed_on") and fb.get("feedback_on"):
        days = (pd.Timestamp(fb["feedback_on"]) - pd.Timestamp(fb["closed_on"])).days
    out.append(
        Section(
            "Feedback to children",
            [
                _record(
                    "Feedback loop",
                    ("measure", "value"),
                    [
                        ("consultation closed", fb.get("closed_on")),
                        ("feedback given", fb.get("feedback_on")),
                        ("days from close to feedback", days),
                        ("formats", fb.get("formats")),
                    ],
                    "Target: feedback within 8 weeks of closing.",
                )
            ],
        )
    )
    return out


def programme_sections(inputs: ReportInputs, policy: DisclosurePolicy) -> list[Section]:
    """The report's sections that hold no answers: process checklist, GC12, influence log,
    feedback loop, and the safeguarding counts (small counts hidden)."""
    return [*_programme_sections(inputs), _safeguarding(inputs, policy)]


def _safeguarding(inputs, policy) -> Section:
    sec = Section("Safeguarding (counts only)")
    sg = inputs.safeguarding
    if sg:
        sec.blocks.append(
            disclose(
                pd.Series({k: int(v) for k, v in sg.items()}, name="count"),
                policy,
                margins=False,
                title="Safeguarding signals",
            )
        )
    else:
        sec.blocks.append(_record("Safeguarding signals", ("signal", "count"), [("safeguarding log", None)]))
    return sec


def _items(long, wide, cb, inputs, policy, with_charts) -> list[Section]:
    out = []
    scale = [i for i, m in cb.items() if m.type == "scale"]
    select = [i for i, m in cb.items() if m.type in ("single", "multi")]
    freq = frequencies(long, items=scale + select, codebook=cb)
    by = [b for b in ("band", "gender") if b in wide.columns and wide[b].notna().any()]
    tests = pd.DataFrame()
    if by and scale:
        tests = compare_groups(long, by, items=scale, codebook=cb)
    ct = (
        crosstabs(long, by, items=[i for i in select if cb[i].type == "single"], codebook=cb)
        if by and select
        else pd.DataFrame()
    )
    domains: dict[str, list[str]] = {}
    for i in scale + select:
        domains.setdefault(cb[i].domain or "Items", []).append(i)
    for dom, items in domains.items():
        sec = Section(f"Results: {DOMAIN_TITLES.get(dom, dom)}")
        scales: dict[tuple, list[str]] = {}
        for i in items:
            if cb[i].type == "scale":
                scales.setdefault(cb[i].choices, []).append(i)
        for same in scales.values() if with_charts else ():  # one chart per answer scale
            rel = disclose(
                freq[freq["item"].isin(same)], policy, codebook={i: cb[i] for i in same}, title=f"{dom} scale items"
            )
            sec.blocks.append(charts.likert_chart(rel, {i: cb[i] for i in same}, title=f"{dom}: how children answered"))
        for item in items:
            meta = cb[item]
            rel = disclose(
                freq[freq["item"] == item], policy, codebook={item: meta}, title=f"{item}: {meta.label or item}"
            )
            if with_charts and meta.type != "scale":
                sec.blocks.append(charts.bar_chart(rel, item, {item: meta}))
            sec.blocks.append(rel)
        out.append(sec)
    sec = Section(
        "Differences between groups",
        intro="Scale items: Mann-Whitney (2 groups) or Kruskal-Wallis; choice "
        "items: chi-square or Fisher's exact test. p-values adjusted with "
        "Benjamini-Hochberg across this section.",
    )
    if not tests.empty:
        sec.blocks.append(
            disclose(
                tests[["item", "by", "test", "n", "statistic", "p_adjusted", "effect", "effect_size"]],
                policy,
                kind="estimates",
                value_columns=["statistic", "p_adjusted", "effect_size"],
                title="Scale items by group",
            )
        )
    if not ct.empty:
        sec.blocks.append(
            disclose(
                ct[["item", "by", "test", "n", "statistic", "p_adjusted", "cramers_v"]],
                policy,
                kind="estimates",
                value_columns=["statistic", "p_adjusted", "cramers_v"],
                title="Choice items by group",
            )
        )
    out.append(sec)
    ranked = [i for i, m in cb.items() if m.type == "rank"]
    if ranked:
        sec = Section("Ranked items")
        for item in ranked:
            b = borda(rank_frame(wide, item, cb))
            rel = disclose(
                b,
                policy,
                kind="estimates",
                n_column="n_ranked",
                value_columns=["borda_score", "mean_rank", "pct_first"],
                title=f"{item}: {cb[item].label or item}",
            )
            if with_charts:
                sec.blocks.append(charts.ranking_chart(rel, labels=dict(cb[item].labels), title=cb[item].label or item))
            sec.blocks.append(rel)
        out.append(sec)
    return out


def _quality_sections(long, wide, cb, policy) -> list[Section]:
    diag = item_diagnostics(long, by="band", codebook=cb)
    flagged = diag[diag["flag"]]
    sec = Section(
        "Item diagnostics",
        intro="Items skipped or answered 'I'd rather not say' by more than 20 % "
        "of the children they were shown to are flagged for review.",
    )
    tab = flagged if not flagged.empty else diag.head(0)
    sec.blocks.append(
        disclose(
            tab[["item", "band", "eligible", "skip_rate", "rns_rate", "dk_rate"]],
            policy,
            kind="estimates",
            n_column="eligible",
            value_columns=["skip_rate", "rns_rate", "dk_rate"],
            title=f"Flagged items ({len(flagged)} of {len(diag)})",
        )
    )
    out = [sec]
    if "site" in wide.columns and wide["site"].nunique() > 1:
        de = design_effects(wide, cluster="site", codebook=cb)
        if not de.empty:
            out.append(
                Section(
                    "Clustering by site",
                    [
                        disclose(
                            de,
                            policy,
                            kind="estimates",
                            value_columns=["icc", "deff", "n_effective"],
                            title="Design effects of % positive",
                        )
                    ],
                    intro="Children in the same site answer alike; the design effect tells how "
                    "much wider intervals would be if this were a cluster sample.",
                )
            )
    return out


def build_report(
    long: pd.DataFrame,
    inputs: ReportInputs | None = None,
    codebook: Mapping[str, ItemMeta] | None = None,
    policy: DisclosurePolicy | None = None,
    charts_on: bool = True,
) -> ProgrammeReport:
    """Assemble the programme report from the long frame and the programme records.

    Parameters
    ----------
    long : DataFrame
        Long frame of the consultation (:func:`analysis.frames.make_long`).
    inputs : ReportInputs, optional
    codebook : mapping, optional
        Item metadata (default: the frame's, else inferred).
    policy : DisclosurePolicy, optional
    charts_on : bool
        Draw charts (off for a fast tables-only run).
    """
    with shared_counts():
        return _build_report(long, inputs, codebook, policy, charts_on)


def _build_report(long, inputs, codebook, policy, charts_on) -> ProgrammeReport:
    inputs = inputs or ReportInputs()
    policy = policy or DisclosurePolicy()
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    long, cb = split_band_variants(long, cb)  # e.g. band A's face scale is its own item
    wide = to_wide(long, cb)
    method = Section(
        "About these results",
        [
            _record(
                "Method",
                ("", ""),
                [
                    ("Sample", "Everyone who took part (a convenience sample; see the note above)."),
                    ("Intervals", "95 % Wilson score intervals."),
                    (
                        "Small numbers",
                        f"Counts from 1 to {policy.k - 1} are hidden ('s'), and other "
                        "cells are hidden where needed so that they cannot be worked out "
                        "from totals.",
                    ),
                    (
                        "Reliability",
                        f"Percentages based on fewer than {policy.min_denominator} children "
                        f"are not shown ('*'); {policy.min_denominator} to "
                        f"{policy.flag_denominator - 1} are in brackets.",
                    ),
                    (
                        "Tests",
                        "Chi-square (Fisher's exact test when expected counts are small), "
                        "Mann-Whitney, Kruskal-Wallis; p-values adjusted (Benjamini-Hochberg).",
                    ),
                ],
            )
        ],
    )
    sections = [
        method,
        _participation(long, wide, inputs, policy),
        _lundy(long, cb, inputs, policy),
        *_programme_sections(inputs),
        _safeguarding(inputs, policy),
        *_items(long, wide, cb, inputs, policy, charts_on),
        *_quality_sections(long, wide, cb, policy),
    ]
    if inputs.quotes:
        sections.append(Section("In children's words", list(inputs.quotes)))
    return ProgrammeReport(inputs.title, dt.date.today().isoformat(), policy, sections, len(wide))

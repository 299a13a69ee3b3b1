"""The programme report: a model of released blocks, rendered to one self-contained HTML file.

:func:`build_report` computes everything from the long frame and the programme records the
web app passes in (:class:`ReportInputs`), sends every table through
:func:`~analysis.disclosure.disclose` and every chart through the chart functions (which
accept only released tables), and returns a :class:`ProgrammeReport`. :func:`render_html`
refuses any block that is not a released table, a chart, a released quote or a programme
record, so nothing unreleased can reach the page.

Sections (A-03, A-04, B11): method and caveat, participation (funnel and breakdowns),
quality (Lundy indicators from the evaluation items), process checklist, GC12
self-assessment, influence log, feedback loop, safeguarding counts, item results (tables
with Wilson intervals, charts, tests with BH-adjusted p-values), ranked items, item
diagnostics, clustering (design effects). Missing programme records say "not recorded".
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from . import charts
from .descriptives import frequencies, shared_counts
from .design import design_effects
from .diagnostics import item_diagnostics
from .disclosure import SUPPRESSED, UNRELIABLE, DisclosurePolicy, ReleasedTable, disclose
from .frames import ItemMeta, _as_codebook, infer_codebook, split_band_variants, to_wide
from .inference import compare_groups, crosstabs
from .ranking import borda, rank_frame
from .textscreen import ReleasedQuote

__all__ = [
    "CAVEAT",
    "NOT_RECORDED",
    "ProgrammeRecord",
    "ProgrammeReport",
    "ReportInputs",
    "Section",
    "build_report",
    "programme_sections",
    "render_html",
    "write_html",
    "write_report_pdf",
]

NOT_RECORDED = "not recorded"
#: The convenience-sample caveat printed in every report (A-03).
CAVEAT = (
    "These results describe the children who took part in this consultation. They were not "
    "chosen at random, so the numbers do not tell us how many children in the whole "
    "population think or experience something, and they must not be used as prevalence "
    "estimates. Percentages leave out 'I'd rather not say', 'I don't know' and skipped "
    "questions, which are reported separately."
)
_RESERVED_LABELS = {"_rns": "rather not say", "_dk": "don't know"}
#: The bundled instrument's evaluation items (child-participation.md §8): feeling safe, getting to
#: say what they wanted, knowing who will hear, expecting it to help.
LUNDY_DEFAULT = {"Space": "EV1", "Voice": "EV2b", "Audience": "EV3", "Influence": "EV3b"}
#: Headings for the default question bank's domains (child-participation.md §6.2); another
#: instrument's domain codes are shown as they are.
DOMAIN_TITLES = {
    "CX": "Context: devices and private access",
    "TR": "Trusted people and who children would tell",
    "AW": "Awareness of help and reporting routes",
    "CH": "Channel preferences and features",
    "BA": "Barriers to telling or reporting",
    "TC": "Trust, confidentiality and control",
    "AF": "What should happen after reporting",
    "ID": "Design ideas and information",
    "EV": "Children's evaluation of the consultation",
    "DM": "About the children who took part",
}
FUNNEL_ORDER = (
    "invited",
    "parent opt-outs",
    "declined assent",
    "assented",
    "started",
    "completed",
    "stopped early",
    "quick exits",
    "withdrew after submitting",
)


@dataclass(frozen=True)
class ProgrammeRecord:
    """Programme information that is not about children's answers (checklists, logs).

    ``rows`` is a list of (label, value...) tuples; ``None`` or "" values show as
    "not recorded".
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class ReportInputs:
    """What the web app passes in besides the answers.

    Attributes
    ----------
    title, consultation : str
    funnel : mapping of stage -> count
        Stages of :data:`FUNNEL_ORDER` (others allowed); missing stages are "not recorded".
    lundy_items : mapping of Lundy element -> item name
        Evaluation items whose % positive is the indicator (default EV1, EV2b, EV3, EV3b).
    lundy_checklist : mapping of question -> answer/evidence
    gc12 : mapping of requirement -> (yes | partly | no, evidence)
    influence_log : list of mappings with recommendation, decision, reason, date, owner
    feedback : mapping with ``closed_on``, ``feedback_on`` (dates), ``formats``
    safeguarding : mapping of signal -> count (talk-to-someone, distress path, flagged free
        text, referrals); small counts are suppressed.
    quotes : list of ReleasedQuote
    breakdowns : respondent columns for participation tables and tests
    """

    title: str = "Consultation report"
    consultation: str = ""
    funnel: Mapping[str, int] | None = None
    lundy_items: Mapping[str, str] | None = None
    lundy_checklist: Mapping[str, str] | None = None
    gc12: Mapping[str, tuple[str, str]] | None = None
    influence_log: Sequence[Mapping[str, Any]] | None = None
    feedback: Mapping[str, Any] | None = None
    safeguarding: Mapping[str, int] | None = None
    quotes: Sequence[ReleasedQuote] = ()
    breakdowns: tuple[str, ...] = ("band", "gender", "disability", "setting", "language")


@dataclass
class Section:
    """A titled list of blocks (released tables, charts, quotes, records, paragraphs)."""

    title: str
    blocks: list = field(default_factory=list)
    intro: str = ""


@dataclass
class ProgrammeReport:
    """The report model (also what the XLSX export writes)."""

    title: str
    generated_on: str
    policy: DisclosurePolicy
    sections: list[Section]
    n_respondents: int

    def released_tables(self) -> list[ReleasedTable]:
        """Every released table in the report, in order (for the XLSX workbook)."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, ReleasedTable)]


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


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ report.title }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7rem}h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:2px solid #0072B2}
h3{font-size:1.05rem}table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
.num{text-align:right}td.num,.date{white-space:nowrap}
thead th{background:#eef3f8}tbody th{text-align:left}
.caveat{background:#fff8e1;border-left:4px solid #E69F00;padding:.6rem 1rem}
.notes{font-size:.8rem;color:#444}figure{margin:1rem 0}figcaption{font-size:.85rem}
img{max-width:100%;height:auto}blockquote{border-left:4px solid #009E73;margin-left:0;
padding-left:1rem}
</style></head><body>
<h1>{{ report.title }}</h1>
<p>Generated {{ report.generated_on }} from the answers of {{ "{:,}".format(report.n_respondents) }} children.</p>
<p class="caveat">{{ caveat }}</p>
{% for s in report.sections %}
<section><h2>{{ s.title }}</h2>{% if s.intro %}<p>{{ s.intro }}</p>{% endif %}
{% for b in s.blocks %}{{ render(b) }}{% endfor %}</section>
{% endfor %}
</body></html>
"""


def _used_notes(df: pd.DataFrame, notes: Sequence[str]) -> list[str]:
    cells = {str(v) for v in df.to_numpy().ravel()}
    used = []
    for n in notes:
        if n.startswith("s:") and "s" in cells:
            used.append(n)
        elif n.startswith("*:") and "*" in cells:
            used.append(n)
        elif n.startswith("( )") and any(c.startswith("(") for c in cells):
            used.append(n)
        elif n.startswith("Shares") and any(c[:1] in "<>" for c in cells):
            used.append(n)
    return used


#: Column names of the statistics frames as a reader would say them (HTML and PDF only).
HEADERS = {
    "p_adjusted": "p (adjusted)",
    "p_value": "p",
    "effect_size": "effect size",
    "cramers_v": "Cramér's V",
    "cramers_v_corrected": "Cramér's V (bias-corrected)",
    "skip_rate": "% skipped",
    "rns_rate": "% rather not say",
    "dk_rate": "% don't know",
    "eligible": "shown to",
    "borda_score": "Borda score",
    "mean_rank": "mean rank",
    "pct_first": "% ranked first",
    "n_ranked": "children who ranked",
    "icc": "ICC",
    "deff": "design effect",
    "clusters": "sites",
    "mean_cluster_size": "children per site",
    "n_effective": "effective n",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
}
_RATES = {"skip_rate", "rns_rate", "dk_rate"}  # proportions shown as percentages
_WHOLE = {"n_effective"}  # estimates shown as whole numbers
_PERCENTS = {"% positive", "pct_first", "percent"}
_NUM_CLASS = " class='num'"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: An item name as instruments write them (EV1, TR4b, TR4[A]): a code, not words for a reader.
_ITEM_CODE = re.compile(r"[A-Z]{1,4}\d+[a-z]?(\[[^\]]+\])?")
_NUMBER = re.compile(r"^([(<>]?)(-?\d+(?:\.\d+)?)( ?%?\)?)$")


def _format_cell(column: str, value: Any) -> tuple[str, bool]:
    """One released cell as text, and whether it is numeric (right-aligned).

    Markers ("s", "*", "<5 %") are kept as they are; counts get thousands separators,
    percentages one decimal, p-values three ("<0.001"), rates become percentages.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "", False
    text = str(value)
    if text in ("s", "*", "-"):
        return text, True
    m = _NUMBER.match(text.strip())
    if not m:
        return text, text[:1] in "<>" and text.rstrip().endswith("%")
    pre, num, post = m.groups()
    x = float(num)
    if column in _RATES:
        out = f"{100 * x:.0f} %"
    elif column in _PERCENTS or post.strip(" )") == "%":
        out = f"{x:.1f} %"
    elif column.startswith("p_") or column == "p":
        # Released p-values are already rounded: keep their digits; a zero means "below
        # half the last digit" (0.00 -> "<0.005"), never an exact 0.
        places = len(num.partition(".")[2])
        if places > 3:  # a raw value (see _precise)
            out = "<0.001" if x < 0.001 else f"{x:.3f}"
        else:
            out = f"<{0.5 * 10**-places:.{places + 1}f}" if x == 0 and places else num
    elif column == "icc":
        out = f"{x:.3f}"
    elif column in _WHOLE:
        out = f"{round(x):,}"
    elif "." not in num:
        out = f"{int(num):,}"
    elif abs(x) >= 1000:
        out = f"{x:,.0f}"
    else:
        out = f"{x:.2f}"
    if out.startswith("-") and float(out.replace(",", "")) == 0:
        out = out[1:]  # "-0.00" is a rounded zero
    if pre == "(":
        out = f"({out})"
    elif pre in "<>" and pre:
        out = pre + out
    return out, True


def _precise(block: ReleasedTable) -> pd.DataFrame:
    """The display of an estimates table with its released values unrounded where shown.

    The gate's display rounds every estimate to 2 decimals, which turns an ICC of 0.004 into
    0.00 beside a design effect of 1.62; the page formats the released value itself instead
    (cells the gate hid or flagged keep their marker or brackets).
    """
    disp = block.display
    if block.kind != "estimates":
        return disp
    disp = disp.copy()
    for col in disp.columns:
        if col not in block.data.columns or not pd.api.types.is_float_dtype(block.data[col]):
            continue
        raw = block.data[col]
        shown = disp[col].astype(str)
        keep = raw.notna() & ~shown.isin([SUPPRESSED, UNRELIABLE])
        disp[col] = [
            (f"({float(v):.10f})" if t.startswith("(") else f"{float(v):.10f}") if k else t
            for v, t, k in zip(raw, shown, keep, strict=True)
        ]
    return disp


def _present(df: pd.DataFrame) -> pd.DataFrame:
    """Drop an all-empty reliability ``flag`` column (nothing to explain)."""
    if "flag" in df.columns and df["flag"].fillna("").astype(str).str.strip().eq("").all():
        df = df.drop(columns="flag")
    return df


def _table_html(df: pd.DataFrame, caption: str, notes: Sequence[str], index: bool) -> str:
    esc = escape
    # The same texts and numeric columns as the PDF (:func:`_table_cells`); a numeric column is
    # right-aligned, header too.
    header, rows, numeric = _table_cells(df, index)
    head = "".join(
        f"<th scope='col'{_NUM_CLASS if num else ''}>{esc(h)}</th>" for h, num in zip(header, numeric, strict=True)
    )
    body = []
    for row in rows:
        cells = []
        for j, text in enumerate(row):
            if index and j == 0:
                cells.append(f"<th scope='row'>{esc(text)}</th>")
                continue
            if numeric[j]:
                cls = " class='num'"
            elif _DATE.match(text):
                cls = " class='date'"
            else:
                cls = ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = "".join(f"<div>{esc(n)}</div>" for n in notes)
    return f"<h3>{esc(caption)}</h3><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>" + (
        f"<div class='notes'>{note}</div>" if note else ""
    )


def _render_block(block, names: _Names | None = None) -> str:
    esc = escape
    if isinstance(block, ReleasedTable):
        disp = _block_display(block)
        title = block.title
        if names is not None:
            disp, title = _readable(disp, names), _readable_title(title, names)
        return _table_html(disp, title, _used_notes(disp, block.notes), index=block.kind == "counts")
    if isinstance(block, charts.ChartResult):
        if block.empty:
            return f"<p class='notes'>{esc(block.empty_text())}</p>"
        with _readable_chart_title(block, names) if names is not None else nullcontext():
            png = base64.b64encode(block.to_png()).decode("ascii")
        cap = f"<figcaption>{esc(block.caption)}</figcaption>" if block.caption else ""
        return f"<figure><img src='data:image/png;base64,{png}' alt='{esc(block.alt_text)}'>{cap}</figure>"
    if isinstance(block, ProgrammeRecord):
        df = pd.DataFrame(list(block.rows), columns=list(block.columns))
        html = _table_html(df, block.title, [block.note] if block.note else [], index=False)
        return html
    if isinstance(block, ReleasedQuote):
        return f"<blockquote>{esc(block.text)} <small>(band {esc(block.band)})</small></blockquote>"
    raise TypeError(f"the report renders only released blocks, not {type(block).__name__}")


def render_html(report: ProgrammeReport) -> str:
    """The report as one self-contained HTML page (inline CSS and PNG charts, no links)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string(_TEMPLATE)

    def render(block):
        return Markup(_render_block(block))  # noqa: S704 # nosec B704 - _render_block escapes every value

    return tpl.render(report=report, caveat=CAVEAT, render=render)


def write_html(report: ProgrammeReport, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_report_pdf(report: ProgrammeReport, path: str | Path, rows_per_page: int = 28) -> Path:
    """The report as an A4 PDF, drawn by the one PDF renderer (:mod:`analysis.pdf`).

    Blocks flow down the pages like the HTML report: the caveat first, then each section's
    heading, tables (formatted as in the HTML; questions and answers by their text, not their
    codes; the header row repeated on every page a table crosses) and charts (vector
    graphics; a chart whose every number is hidden is replaced by a sentence saying so).
    Only released blocks are accepted, as for HTML. ``rows_per_page`` is kept for
    compatibility; tables fill the page.
    """
    from .pdf import PdfDocument

    for section in report.sections:  # refuse before drawing anything
        for block in section.blocks:
            if not isinstance(block, ReleasedTable | charts.ChartResult | ProgrammeRecord | ReleasedQuote):
                raise TypeError(f"the report renders only released blocks, not {type(block).__name__}")
    names = _readable_names(report)
    doc = PdfDocument(title=report.title, footer=f"Generated {report.generated_on}")
    doc.title(report.title)
    doc.paragraph(f"Generated {report.generated_on} from the answers of {report.n_respondents:,} children.")
    doc.paragraph(CAVEAT, box=True)
    for section in report.sections:
        doc.heading(section.title)
        if section.intro:
            doc.paragraph(section.intro)
        for block in section.blocks:
            if isinstance(block, ReleasedTable):
                disp = _readable(_block_display(block), names)
                caption = _readable_title(block.title, names)
                columns, rows, numeric = _table_cells(disp, block.kind == "counts")
                doc.table(
                    columns,
                    rows,
                    numeric=numeric,
                    caption=caption,
                    notes=_used_notes(disp, block.notes),
                    row_headers=block.kind == "counts",
                )
            elif isinstance(block, charts.ChartResult):
                name = _readable_title(block.title, names) if block.title else ""
                with _readable_chart_title(block, names):
                    doc.chart(block, replace(block, title=name).empty_text() if name else "")
            elif isinstance(block, ProgrammeRecord):
                df = pd.DataFrame(list(block.rows), columns=list(block.columns))
                columns, rows, numeric = _table_cells(df, False)
                doc.table(columns, rows, numeric=numeric, caption=block.title, notes=[block.note] if block.note else [])
            else:
                doc.paragraph(f"\u201c{block.text}\u201d (age group {block.band})", style="I")
    return doc.save(path)


@contextmanager
def _readable_chart_title(chart: charts.ChartResult, names: _Names):
    """Draw the chart with its heading in words ("TR: how..." -> "How..."), then put it back."""
    axes = chart.figure.axes[:1]
    before = axes[0].get_title(loc="left") if axes else ""
    after = _readable_title(before, names) if before else before
    if after != before:
        axes[0].set_title(after, loc="left")
    try:
        yield
    finally:
        if after != before:
            axes[0].set_title(before, loc="left")


def _block_display(block: ReleasedTable) -> pd.DataFrame:
    disp = _precise(block)
    if block.kind == "frequencies" and "item" in disp and disp["item"].nunique() == 1:
        disp = disp.drop(columns="item")
    return disp


def _table_cells(df: pd.DataFrame, index: bool) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header texts, formatted rows and which columns are numeric (shared by HTML and PDF)."""
    df = _present(df)
    columns = [str(c) for c in df.columns]
    formatted = [[_format_cell(c, v) for c, v in zip(columns, row, strict=True)] for row in df.itertuples(index=False)]
    numeric = [
        all(num for text, num in (r[j] for r in formatted) if text)
        and any(text for text, _ in (r[j] for r in formatted))
        for j in range(len(columns))
    ]
    header = [HEADERS.get(c, c) for c in columns]
    rows = [[text for text, _ in r] for r in formatted]
    if index:
        header = [str(df.index.name or "")] + header
        rows = [[str(i)] + r for i, r in zip(df.index, rows, strict=True)]
        numeric = [False] + numeric
    return header, rows, numeric


#: Codes of the respondent columns (band, gender, ...) as a reader would say them, for
#: breakdowns the report's codebook does not describe.
ATTRIBUTE_LABELS = {
    "another_way": "another way",
    "another": "another way",
    "_rns": "rather not say",
    "_dk": "don't know",
}


@dataclass(frozen=True)
class _Names:
    items: Mapping[str, str]
    answers: Mapping[str, Mapping[str, str]]
    codes: Mapping[str, str]


def _readable_names(report: ProgrammeReport) -> _Names:
    """Question texts and answer labels from the codebooks the released tables carry."""
    items: dict[str, str] = {}
    answers: dict[str, dict[str, str]] = {}
    seen: dict[str, set[str]] = {}
    codebooks = [getattr(report, "codebook", None) or {}]
    codebooks += [b.meta.get("codebook") or {} for b in report.released_tables()]
    for cb in codebooks:
        for name, meta in cb.items():
            if not isinstance(meta, ItemMeta):
                continue
            label = meta.label or ""
            m = re.match(r"^(.*)\[([^\]]+)\]$", name)
            if label and m:
                label = f"{label} (age group {m.group(2)})"
            if label:
                items.setdefault(name, label)
            answers.setdefault(name, {c: meta.label_of(c) for c in meta.choices})
            for code in meta.choices:
                seen.setdefault(code, set()).add(meta.label_of(code))
    # A code that means one thing everywhere (never a bare number) is relabelled anywhere.
    codes = {
        c: next(iter(labs)) for c, labs in seen.items() if len(labs) == 1 and not c.isdigit() and next(iter(labs)) != c
    }
    codes = {**{k: v for k, v in ATTRIBUTE_LABELS.items() if k not in codes}, **codes}
    return _Names(items, answers, codes)


def _readable(df: pd.DataFrame, names: _Names) -> pd.DataFrame:
    """A display table with item codes as question texts and answer codes as their labels."""
    df = df.copy()
    answer_item = None
    if "answer" in df.columns:
        if "item" in df.columns:
            df["answer"] = [
                names.answers.get(str(i), {}).get(str(a), names.codes.get(str(a), a))
                for i, a in zip(df["item"], df["answer"], strict=True)
            ]
        else:
            answer_item = next(
                (
                    i
                    for i in names.answers
                    if set(map(str, df["answer"]))
                    <= set(names.answers[i]) | {"_rns", "_dk", "I'd rather not say", "I don't know"}
                ),
                None,
            )
            lookup = names.answers.get(answer_item, {}) if answer_item else {}
            df["answer"] = [lookup.get(str(a), names.codes.get(str(a), a)) for a in df["answer"]]
    for col in ("item", "option"):
        if col in df.columns:
            df[col] = [names.items.get(str(v), names.codes.get(str(v), v)) for v in df[col]]
    for col in df.columns:
        if col in ("item", "answer", "option") or pd.api.types.is_numeric_dtype(df[col]):
            continue
        if col in ("by", "band", "gender", "group", "element", "stage", "level"):
            df[col] = [names.codes.get(str(v), v) for v in df[col]]
    df.columns = [names.codes.get(str(c), c) for c in df.columns]
    df.index = pd.Index([names.codes.get(str(i), i) for i in df.index], name=df.index.name)
    return df


def _readable_title(title: str, names: _Names) -> str:
    """ "EV1: How safe did you feel?" -> "How safe did you feel?" (the code says nothing)."""
    code, sep, rest = title.partition(": ")
    if sep and rest and (code in names.items or code in DOMAIN_TITLES or _ITEM_CODE.fullmatch(code)):
        return rest[:1].upper() + rest[1:]
    return title

"""Rendering the report: one self-contained HTML file (:func:`render_html`), and the PDF."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from .. import charts
from ..disclosure import SUPPRESSED, UNRELIABLE, ReleasedTable
from ..frames import ItemMeta
from ..textscreen import ReleasedQuote
from .model import CAVEAT, DOMAIN_TITLES, ProgrammeRecord, ProgrammeReport

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
    from ..pdf import PdfDocument

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

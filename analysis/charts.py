"""Charts as matplotlib ``Figure`` objects (never pyplot), from released tables only.

Every function takes a :class:`~analysis.disclosure.ReleasedTable` (anything else raises
``TypeError``) and returns a :class:`ChartResult` holding the figure, alt text and the
numbers drawn. Rows whose numbers were suppressed or are unreliable are not drawn; the
alt text and the caption say so.

Palettes: ColorBrewer BrBG (diverging, colour-blind safe) for scales, Okabe-Ito for
categories.

Examples
--------
>>> import pandas as pd
>>> from analysis.disclosure import disclose
>>> stages = pd.Series({"invited": 400, "assented": 352, "started": 350, "completed": 301})
>>> chart = funnel_chart(disclose(stages, margins=False), title="Who took part")
>>> chart.alt_text
'Bar chart: Who took part. invited 400; assented 352; started 350; completed 301.'
>>> chart.to_png()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .disclosure import ReleasedTable, require_released
from .frames import ItemMeta, _as_codebook

__all__ = [
    "BRBG",
    "OKABE_ITO",
    "ChartResult",
    "bar_chart",
    "breakdown_chart",
    "diverging_colors",
    "funnel_chart",
    "likert_chart",
    "ranking_chart",
    "release_item_chart",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: ColorBrewer BrBG diverging classes (colour-blind safe), low -> high.
BRBG = {
    2: ("#d8b365", "#5ab4ac"),
    3: ("#d8b365", "#d9d9d9", "#5ab4ac"),
    4: ("#a6611a", "#dfc27d", "#80cdc1", "#018571"),
    5: ("#a6611a", "#dfc27d", "#d9d9d9", "#80cdc1", "#018571"),
    6: ("#8c510a", "#d8b365", "#f6e8c3", "#c7eae5", "#5ab4ac", "#01665e"),
    7: ("#8c510a", "#d8b365", "#f6e8c3", "#d9d9d9", "#c7eae5", "#5ab4ac", "#01665e"),
}
NOT_SHOWN = "not shown (small numbers)"
#: Funnel stages where children left (drawn in a second colour).
_LEFT_STAGES = ("opt-out", "declined", "stopped", "quick exit", "withdrew")


def _count_tick(x: float, _pos=None) -> str:
    """A count axis tick: whole numbers with thousands separators, never "-0".

    >>> [_count_tick(v) for v in (-0.04, -0.0, 1234.0, 0.4)]
    ['0', '0', '1,234', '0']
    """
    text = f"{x:,.0f}"
    return "0" if text in ("-0", "0") else text


_THOUSANDS = FuncFormatter(_count_tick)


def _count_axis(ax) -> None:
    """Whole-number ticks on a count axis (no "0, 0, 0, 1" on a small or empty chart)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.xaxis.set_major_formatter(_THOUSANDS)
    lo, hi = ax.get_xlim()
    if lo < 0:
        ax.set_xlim(0, max(hi, 1))


def diverging_colors(n: int) -> tuple[str, ...]:
    """BrBG colours for an n-point scale (neutral middle in light grey).

    >>> diverging_colors(3)
    ('#d8b365', '#d9d9d9', '#5ab4ac')
    """
    if n not in BRBG:
        raise ValueError("scales of 2 to 7 points are supported")
    return BRBG[n]


@dataclass(frozen=True, eq=False)
class ChartResult:
    """A chart ready for a report: the figure, its alt text and the data drawn."""

    figure: Figure
    alt_text: str
    data: pd.DataFrame
    caption: str = ""
    title: str = ""

    @property
    def empty(self) -> bool:
        """True when the chart draws no number (every one was hidden or there were none).

        A report shows :meth:`empty_text` instead of empty axes.
        """
        values = self.data.select_dtypes("number")
        return values.empty or bool(values.isna().all().all())

    def empty_text(self) -> str:
        """The sentence a report prints in place of a chart with nothing to draw.

        It starts in English words (a left-to-right sentence), the chart's title quoted
        inside, so that a title in Arabic does not turn the sentence around.
        """
        reason = (
            "every number in it comes from a group too small to show without risking that a child could be recognised."
        )
        if not self.title:
            return f"This chart is not drawn: {reason}"
        return f"No chart is drawn for \u201c{self.title}\u201d: {reason}"

    def to_png(self, dpi: int = 110) -> bytes:
        """The chart as PNG bytes (Agg canvas, no pyplot)."""
        buf = io.BytesIO()
        FigureCanvasAgg(self.figure)
        with warnings.catch_warnings():  # layout hints only; the figure is still drawn
            warnings.filterwarnings("ignore", message="constrained_layout not applied")
            self.figure.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()

    def to_pdf(self) -> bytes:
        """The chart as a one-page vector PDF (text shaped by matplotlib, Arabic included)."""
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="constrained_layout not applied")
            self.figure.savefig(buf, format="pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
        return buf.getvalue()

    def to_svg(self) -> str:
        """The chart as an SVG string (for self-contained HTML)."""
        buf = io.StringIO()
        # The same chart gives the same bytes (no date, ids from a fixed salt): a report made
        # twice, or in the helper process, is identical.
        with warnings.catch_warnings(), matplotlib.rc_context({"svg.hashsalt": "sauti"}):
            warnings.filterwarnings("ignore", message="constrained_layout not applied")
            self.figure.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()


def _figure(n_rows: int, width: float = 9.0) -> tuple[Figure, Axes]:
    # About 0.4 inch a bar: tall enough for two lines of label, short enough to read at a glance.
    fig = Figure(figsize=(width, max(1.8, 0.4 * n_rows + 1.2)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _wrap(text: str, width: int = 40, lines: int = 3) -> str:
    return textwrap.fill(str(text), width=width, max_lines=lines, placeholder="...")


def _row_label(item_label: str, group: str | None, n, flag: str) -> str:
    text = item_label if not group else f"{item_label} - {group}"
    n_text = f"n={int(n):,}" if pd.notna(n) else "n=s"
    if flag == "()":
        n_text = f"({n_text})"
    return _wrap(f"{text} [{n_text}]")


def likert_chart(
    released: ReleasedTable,
    codebook: Mapping[str, ItemMeta] | None = None,
    title: str = "",
    sort: bool = False,
) -> ChartResult:
    """Diverging stacked bars of scale items, like R ``likert`` (Heiberger & Robbins 2014).

    Bars are centred on zero: low categories to the left, high to the right, the neutral
    category split across zero. Widths are the released counts over the released valid
    denominator, so each drawn bar sums to 100 %.

    Parameters
    ----------
    released : ReleasedTable
        ``kind="frequencies"`` release of scale items (optionally by one group column).
    codebook : mapping, optional
        Item metadata (choices order, neutral code, labels).
    sort : bool
        Order bars by % in the high categories.
    """
    rel = require_released(released, "likert_chart")
    if rel.kind != "frequencies":
        raise ValueError("likert_chart needs a released frequency table")
    cb = _as_codebook(codebook) or dict(rel.meta.get("codebook", {}))
    d = rel.data[rel.data["kind"] == "valid"]
    group_cols = [
        c
        for c in d.columns
        if c not in ("item", "answer", "kind", "count", "denominator", "percent", "ci_low", "ci_high", "flag")
    ]
    rows, hidden = [], []
    for keys, block in d.groupby(["item", *group_cols], sort=False, observed=True):
        keys = keys if isinstance(keys, tuple) else (keys,)
        item = keys[0]
        group = " / ".join(map(str, keys[1:])) or None
        meta = cb.get(item) or ItemMeta(str(item), "scale", tuple(block["answer"]))
        levels = list(meta.choices)
        b = block.set_index("answer").reindex(levels)
        n = b["denominator"].iloc[0]
        label = _row_label(meta.label or str(item), group, n, b["flag"].iloc[0] if "flag" in b else "")
        if b["count"].isna().any() or b["percent"].isna().any() or pd.isna(n) or n == 0:
            hidden.append(label)
            continue
        pct = 100 * b["count"].to_numpy(dtype=float) / float(n)
        rows.append((label, item, levels, pct, meta))
    if sort:
        rows.sort(key=lambda r: _high(r[2], r[3], r[4]))
    fig, ax = _figure(len(rows) or 1)
    drawn = []
    legend_done = set()
    for y, (label, item, levels, pct, meta) in enumerate(rows):
        L = len(levels)
        colors = diverging_colors(L)
        mid = levels.index(meta.neutral) if meta.neutral in levels else None
        low_idx = range(mid if mid is not None else L // 2)
        left = -(sum(pct[i] for i in low_idx) + (pct[mid] / 2 if mid is not None else 0))
        for i, code in enumerate(levels):
            lab = meta.label_of(code) if code not in legend_done else None
            ax.barh(
                y, pct[i], left=left, color=colors[i], edgecolor="white", linewidth=0.5, label=lab, gid=f"{item}|{code}"
            )
            legend_done.add(code)
            drawn.append((label, code, pct[i], left))
            left += pct[i]
    ax.axvline(0, color="#444444", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlim(-100, 100)
    ax.set_xticks([-100, -50, 0, 50, 100], ["100 %", "50 %", "0", "50 %", "100 %"])
    ax.invert_yaxis()
    if rows:
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(rows[0][2]), frameon=False, fontsize="small"
        )
    ax.set_title(_wrap(title or rel.title, 70, 2), loc="left")
    data = pd.DataFrame(drawn, columns=["row", "answer", "percent", "left"])
    parts = []
    for label, _, levels, pct, meta in rows:
        lo, neu, hi = _split(levels, pct, meta)
        parts.append(f"{label}: {hi:.0f} % high, {neu:.0f} % neutral, {lo:.0f} % low")
    alt = f"Diverging bar chart: {title or rel.title}. " + "; ".join(parts) + "."
    caption = ""
    if hidden:
        alt += f" Not shown (small numbers): {', '.join(hidden)}."
        caption = f"{NOT_SHOWN}: {', '.join(hidden)}"
    return ChartResult(fig, alt, data, caption, title or rel.title)


def _split(levels, pct, meta):
    mid = levels.index(meta.neutral) if meta.neutral in levels else None
    cut = mid if mid is not None else len(levels) // 2
    lo = float(sum(pct[:cut]))
    neu = float(pct[mid]) if mid is not None else 0.0
    hi = float(sum(pct[(mid + 1 if mid is not None else cut) :]))
    return lo, neu, hi


def _high(levels, pct, meta) -> float:
    return -_split(levels, pct, meta)[2]


def bar_chart(
    released: ReleasedTable,
    item: str,
    codebook: Mapping[str, ItemMeta] | None = None,
    title: str = "",
) -> ChartResult:
    """Horizontal bars of one select item (% of respondents; the denominator in the title).

    For a multi-select item the bars need not sum to 100 % (a child may choose several).
    """
    rel = require_released(released, "bar_chart")
    cb = _as_codebook(codebook) or dict(rel.meta.get("codebook", {}))
    meta = cb.get(item) or ItemMeta(item)
    d = rel.data[(rel.data["item"] == item) & (rel.data["kind"] == "valid")]
    group_cols = [
        c
        for c in d.columns
        if c not in ("item", "answer", "kind", "count", "denominator", "percent", "ci_low", "ci_high", "flag")
    ]
    if group_cols:
        raise ValueError("bar_chart draws an overall table; release it without a breakdown")
    fig, ax = _figure(len(d))
    shown, hidden = [], []
    r: Any  # a namedtuple of the table's columns: no stub can type its fields
    for y, r in enumerate(d.itertuples()):
        label = meta.label_of(r.answer)
        if pd.isna(r.percent):
            ax.text(0.5, y, "s", va="center", fontsize="small")
            hidden.append(label)
            continue
        ax.barh(y, r.percent, color=OKABE_ITO[0], gid=f"{item}|{r.answer}")
        if pd.notna(r.ci_low):
            ax.errorbar(
                r.percent,
                y,
                xerr=[[r.percent - r.ci_low], [r.ci_high - r.percent]],
                fmt="none",
                ecolor="#333333",
                capsize=3,
                linewidth=0.8,
            )
        ax.text(r.percent + 1, y + 0.25, f"{r.percent:.0f} %", fontsize="small")
        shown.append((label, float(r.percent)))
    ax.set_yticks(range(len(d)), [_wrap(meta.label_of(a), 30, 2) for a in d["answer"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel("% of children who answered")
    den = d["denominator"].dropna()
    n_text = f"n = {int(den.iloc[0]):,}" if len(den) else "n = s"
    head = title or meta.label or item
    # "(n = 1,615)" stays on one line (no-break spaces).
    ax.set_title(_wrap(f"{head} ({n_text.replace(' ', chr(0xA0))})", 70, 2), loc="left")
    alt = (
        f"Bar chart: {head}, {n_text}"
        + (" (children could choose more than one)" if meta.type == "multi" else "")
        + ". "
        + "; ".join(f"{lab} {p:.0f} %" for lab, p in shown)
        + "."
    )
    if hidden:
        alt += f" Not shown (small numbers): {', '.join(hidden)}."
    data = pd.DataFrame(shown, columns=["answer", "percent"])
    return ChartResult(fig, alt, data, f"{NOT_SHOWN}: {', '.join(hidden)}" if hidden else "", head)


def release_item_chart(item: Mapping[str, Any]) -> ChartResult:
    """Horizontal bars of one question of a release: each published share, hidden answers named.

    Draws only what the release published (:mod:`analysis.release`): a hidden count gets no bar
    and no percentage, only the words "hidden (small number)"; a sensitive share published as
    "<5 %" or ">95 %" is drawn at that bound, never at its exact value.

    >>> item = {"question": "Would you tell a friend?", "total": 30, "cells": [
    ...     {"label": "Yes", "count": 21, "percent": 70, "coded": None},
    ...     {"label": "No", "count": None, "percent": None, "coded": None}]}
    >>> chart = release_item_chart(item)
    >>> chart.data.to_dict("records"), chart.caption
    ([{'answer': 'Yes', 'percent': 70.0}], 'not shown (small numbers): No')
    """
    cells = list(item["cells"])
    fig, ax = _figure(len(cells))
    shown, hidden = [], []
    for y, cell in enumerate(cells):
        label = str(cell["label"])
        if cell.get("count") is None or cell.get("percent") is None:
            ax.text(1, y, "hidden (small number)", va="center", fontsize="small", color="#444444")
            hidden.append(label)
            continue
        coded = cell.get("coded")
        value = float(cell["percent"])
        if coded:  # a sensitive share near 0 or 100 is published as a bound only
            value = 0.0 if coded.startswith("<") else 95.0
        ax.barh(y, value, color=OKABE_ITO[0])
        ax.text(value + 1, y, coded or f"{value:.0f} %", va="center", fontsize="small")
        shown.append((label, value))
    ax.set_yticks(range(len(cells)), [_wrap(str(c["label"]), 30, 2) for c in cells])
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel("% of the children asked")
    head = str(item["question"])
    asked = f"{int(item['total']):,}\u00a0children asked"
    ax.set_title(_wrap(f"{head} ({asked})", 70, 2), loc="left")
    alt = f"Bar chart: {head}, {asked}. " + "; ".join(f"{lab} {p:.0f} %" for lab, p in shown) + "."
    if hidden:
        alt += f" Not shown (small numbers): {', '.join(hidden)}."
    data = pd.DataFrame(shown, columns=["answer", "percent"])
    return ChartResult(fig, alt, data, f"{NOT_SHOWN}: {', '.join(hidden)}" if hidden else "", head)


def funnel_chart(released: ReleasedTable, title: str = "Participation") -> ChartResult:
    """Participation funnel from a released 1-row count table (stages as columns)."""
    rel = require_released(released, "funnel_chart")
    if rel.kind != "counts":
        raise ValueError("funnel_chart needs a released table of counts")
    row = rel.data.iloc[0].drop(labels=["Total"], errors="ignore")
    fig, ax = _figure(len(row))
    top = row.max(skipna=True)
    parts = []
    for y, (stage, v) in enumerate(row.items()):
        if pd.isna(v):
            ax.text(0, y, " s", va="center")
            parts.append(f"{stage} s")
            continue
        # One colour for the stages children pass through, another for those who left: the
        # bars are steps of one path, not categories to tell apart.
        left = any(w in str(stage) for w in _LEFT_STAGES)
        ax.barh(y, float(v), color=OKABE_ITO[5] if left else OKABE_ITO[0], gid=str(stage))
        ax.text(float(v), y, f" {int(v):,}", va="center", fontsize="small")
        parts.append(f"{stage} {int(v):,}")
    ax.set_yticks(range(len(row)), [str(s) for s in row.index])
    ax.invert_yaxis()
    ax.set_xlim(0, float(top) * 1.15 if pd.notna(top) and top > 0 else 1)
    _count_axis(ax)
    ax.set_xlabel("children")
    ax.set_title(title, loc="left")
    alt = f"Bar chart: {title}. " + "; ".join(parts) + "."
    return ChartResult(fig, alt, row.to_frame("count"), title=title)


def breakdown_chart(released: ReleasedTable, title: str = "") -> ChartResult:
    """Grouped bars of a released 2-D count table (rows = groups, columns = categories)."""
    rel = require_released(released, "breakdown_chart")
    if rel.kind != "counts":
        raise ValueError("breakdown_chart needs a released table of counts")
    t = rel.data.drop(index="Total", errors="ignore").drop(columns="Total", errors="ignore")
    fig, ax = _figure(len(t) * max(1, len(t.columns)) // 2 + 2)
    width = 0.8 / max(1, len(t.columns))
    parts = []
    for j, col in enumerate(t.columns):
        vals = t[col].to_numpy(dtype=float, na_value=np.nan)
        ys = np.arange(len(t)) + j * width
        ax.barh(
            ys[~np.isnan(vals)],
            vals[~np.isnan(vals)],
            height=width,
            color=OKABE_ITO[j % len(OKABE_ITO)],
            label=str(col),
        )
        for y, v in zip(ys, vals, strict=True):
            if np.isnan(v):
                ax.text(0, y, " s", va="center", fontsize="x-small")
    for g, r in t.iterrows():
        parts.append(f"{g}: " + ", ".join(f"{c} {'s' if pd.isna(v) else format(int(v), ',')}" for c, v in r.items()))
    ax.set_yticks(np.arange(len(t)) + 0.4 - width / 2, [str(i) for i in t.index])
    ax.invert_yaxis()
    # Legend from explicit swatches (a category hidden everywhere draws no bar to copy a
    # colour from), below the bars so it never covers one; "s" marks hidden cells.
    from matplotlib.patches import Patch

    handles = [Patch(color=OKABE_ITO[j % len(OKABE_ITO)], label=str(c)) for j, c in enumerate(t.columns)]
    ax.legend(
        handles=handles,
        frameon=False,
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.6 / max(1.0, fig.get_figheight())),
        ncol=min(len(handles), 5),
    )
    top, bottom = -width / 2 - 0.15, len(t) - 1 + (len(t.columns) - 0.5) * width + 0.15
    ax.set_ylim(bottom, top)
    _count_axis(ax)
    ax.set_xlabel("children")
    ax.set_title(title or rel.title, loc="left")
    alt = f"Grouped bar chart: {title or rel.title}. " + "; ".join(parts) + "."
    return ChartResult(fig, alt, t, title=title or rel.title)


def ranking_chart(
    released: ReleasedTable,
    labels: Mapping[str, str] | None = None,
    title: str = "",
    value: str = "borda_score",
) -> ChartResult:
    """Bars of Borda scores from a released ``borda()`` table (``kind="estimates"``)."""
    rel = require_released(released, "ranking_chart")
    if rel.kind != "estimates":
        raise ValueError("ranking_chart needs released estimates (disclose(..., kind='estimates'))")
    d = rel.data
    labels = labels or {}
    fig, ax = _figure(len(d))
    parts = []
    names: Sequence[str] = [labels.get(o, o) for o in d["option"]]
    for y, (name, v, mr) in enumerate(zip(names, d[value], d.get("mean_rank", d[value]), strict=True)):
        if pd.isna(v):
            ax.text(0, y, " s", va="center")
            parts.append(f"{name} not shown")
            continue
        ax.barh(y, float(v), color=OKABE_ITO[2], gid=str(name))
        ax.text(float(v), y, f" {float(v):.2f} (mean rank {float(mr):.1f})", va="center", fontsize="small")
        parts.append(f"{name} {float(v):.2f}")
    ax.set_yticks(range(len(d)), list(names))
    ax.invert_yaxis()
    ax.set_xlabel("Borda score (higher = ranked higher)")
    ax.set_title(title or rel.title, loc="left")
    alt = f"Bar chart of ranking scores: {title or rel.title}. " + "; ".join(parts) + "."
    return ChartResult(fig, alt, d[["option", value]], title=title or rel.title)

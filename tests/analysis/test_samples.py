"""The sample programme report and feedback sheets (what bench/render_samples.py renders)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from analysis.disclosure import DisclosureError
from analysis.feedback import BAND_GRADE, HEADINGS, SignOff, release_feedback, render_feedback_html
from analysis.report import render_html
from analysis.samples import sample_consultation, sample_feedback, sample_report


class _Page(HTMLParser):
    """Headings, table cells (with the column they sit in) and images of a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.h1: list[str] = []
        self.h2: list[str] = []
        self.h3: list[str] = []
        self.imgs: list[dict] = []
        self.cells: list[tuple[str, str, str]] = []  # (table caption, column header, text)
        self._tag: str | None = None
        self._text = ""
        self._caption = ""
        self._header: list[str] = []
        self._col = 0
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag in ("h1", "h2", "h3", "td", "th"):
            self._tag, self._text = tag, ""
        if tag == "thead":
            self._in_head, self._header = True, []
        if tag == "tr":
            self._col = 0

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        if tag != self._tag:
            return
        text = self._text.strip()
        if tag == "h1":
            self.h1.append(text)
        elif tag == "h2":
            self.h2.append(text)
        elif tag == "h3":
            self.h3.append(text)
            self._caption = text
        elif self._in_head:
            self._header.append(text)
        else:
            column = self._header[self._col] if self._col < len(self._header) else ""
            self.cells.append((self._caption, column, text))
            self._col += 1
        self._tag = None

    def handle_data(self, data):
        if self._tag:
            self._text += data


@pytest.fixture(scope="module")
def sample():
    return sample_consultation(n=2000, seed=7)


@pytest.fixture(scope="module")
def html(sample):
    return render_html(sample_report(sample))


@pytest.fixture(scope="module")
def page(html):
    parser = _Page()
    parser.feed(html)
    return parser


def test_the_sample_report_has_every_section(page):
    for section in (
        "About these results",
        "Who took part",
        "Quality of participation (Lundy model)",
        "Lundy process checklist",
        "General Comment 12: the nine requirements",
        "Influence log",
        "Feedback to children",
        "Safeguarding (counts only)",
        "Differences between groups",
        "Ranked items",
        "Item diagnostics",
        "Clustering by site",
    ):
        assert section in page.h2, section
    assert sum(h.startswith("Results: ") for h in page.h2) >= 5
    # the bundled instrument's domains are named, not shown as codes
    assert "Results: Barriers to telling or reporting" in page.h2 and "Results: BA" not in page.h2
    assert {
        "Participation funnel",
        "Children by band and gender",
        "Lundy indicators",
        "Influence log",
        "GC12 self-assessment",
        "Safeguarding signals",
    } <= set(page.h3)


def test_no_count_from_1_to_9_is_visible_and_suppression_is_explained(page):
    # Programme records (checklists, logs, method) are not counts of children.
    records = {
        "Method",
        "Process checklist",
        "GC12 self-assessment",
        "Influence log",
        "Feedback loop",
        "Stages not recorded",
        "Indicators not recorded",
    }
    counts = [
        (cap, col, text)
        for cap, col, text in page.cells
        if cap not in records and col not in ("sites", "children per site")
    ]
    small = [c for c in counts if re.fullmatch(r"\(?[1-9]\)?", c[2])]
    assert not small, small[:5]
    hidden = [c for c in counts if c[2] == "s"]
    assert len(hidden) >= 3  # the small groups of the sample are there, and hidden
    tables_with_s = {cap for cap, _, text in counts if text == "s"}
    assert "Children by band and gender" in tables_with_s
    html_notes = " ".join(cap for cap, _, _ in page.cells)
    assert html_notes  # the footnote follows each table that hides a cell (see the next test)


def test_every_chart_has_alt_text_and_numbers_are_formatted(html, page):
    assert len(page.imgs) >= 15
    for img in page.imgs:
        assert img.get("src", "").startswith("data:image/png;base64,")
        assert len(img.get("alt", "").strip()) > 20, img.get("alt")
    assert "from the answers of 2,000 children" in html
    assert "&lt;th" not in html and "&lt;td" not in html  # no markup escaped twice
    assert html.count("s: hidden to protect children&#39;s privacy") >= 2
    # Percentages carry one decimal and a % sign; p-values three decimals; no raw proportions.
    percents = [t for cap, col, t in page.cells if col == "percent" and t not in ("s", "*", "")]
    assert percents and all(re.fullmatch(r"\(?(<|>)?\d+\.\d %\)?|<5 %|>95 %", t) for t in percents), percents[:5]
    p_values = [t for _, col, t in page.cells if col == "p (adjusted)" and t not in ("s", "*", "")]
    assert p_values and all(re.fullmatch(r"<0\.0+5|[01]\.\d+", t) for t in p_values), p_values[:5]
    assert not [t for _, _, t in page.cells if re.fullmatch(r"-0(\.0+)?", t)]
    assert not [c for c in page.cells if c[1] in ("skip_rate", "p_adjusted", "effect_size")]


@pytest.mark.parametrize("band", ["A", "B", "C"])
def test_feedback_sheets_read_easily_in_two_languages(sample, band):
    for lang in ("en", "sw"):
        sheet = sample_feedback(sample, band, lang)
        parser = _Page()
        parser.feed(render_feedback_html(sheet))
        assert parser.h2 == list(HEADINGS[lang][:5])
        assert not parser.imgs or all(i.get("alt") for i in parser.imgs)
        text = " ".join(sheet.told_us)
        # Shares in words ("about 7 out of 10"), never a count or a percentage.
        assert not re.search(r"\d", re.sub(r"\d (out of|kati ya) 10", "", text)), text
        if lang == "en":
            assert "out of 10" in text or "everyone" in text or "anyone" in text
            assert sheet.grade <= BAND_GRADE[band], (band, sheet.grade, sheet.text())
            assert not sheet.warnings
        else:
            assert "out of 10" not in text and "kati ya 10" in text
        assert "DRAFT" in render_feedback_html(sheet)
        with pytest.raises(DisclosureError):
            release_feedback(sheet, None)
        import datetime as dt

        released = release_feedback(sheet, SignOff("M. Otieno", "programme lead", dt.date(2026, 6, 1), True))
        assert "DRAFT" not in render_feedback_html(released)

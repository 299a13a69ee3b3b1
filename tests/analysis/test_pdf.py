"""The one PDF renderer (issue 15 item 5): what a reader of the printed report and sheets sees.

The PDFs are read back with pypdf, as a screen reader or a copy-and-paste would: question texts
instead of item codes, no "-0" axis ticks, Arabic extractable in reading order, a table's
header row on every page it crosses, a sentence in place of a chart with nothing to draw.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.charts import breakdown_chart, funnel_chart
from analysis.disclosure import DisclosurePolicy, disclose
from analysis.feedback import feedback_sheet
from analysis.report import write_report_pdf
from analysis.samples import sample_consultation, sample_report


def _pages(data: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def small_report_pdf(tmp_path_factory) -> tuple[bytes, object]:
    """The report of 40 children answering the bundled instrument (most cells hidden)."""
    sample = sample_consultation(n=40, seed=3)
    report = sample_report(sample)
    path = write_report_pdf(report, tmp_path_factory.mktemp("pdf") / "report.pdf")
    return path.read_bytes(), sample


def test_report_shows_question_texts_not_item_codes(small_report_pdf):
    data, sample = small_report_pdf
    text = "\n".join(_pages(data))
    cb = sample.codebook
    # The Lundy table and the item tables name the questions in words.
    assert cb["EV1"].label in text
    assert cb["TR3"].label in text
    words = set(re.findall(r"[A-Za-z_][\w\[\]/]*", text))
    codes = set(cb) | {"another_way"}
    assert not (words & codes), sorted(words & codes)[:10]
    assert not re.search(r"\b[A-Z]{2}\d+[a-z]?\[[A-C/]+\]", text)  # TR4[A] and the like


def test_report_has_no_negative_zero_and_no_empty_chart(small_report_pdf):
    data, _ = small_report_pdf
    text = "\n".join(_pages(data))
    assert not re.search(r"(?<![\w.])[-\u2212]0(?![\d.,])", text)
    # Every chart of 40 children is hidden: each is replaced by a sentence saying so.
    assert "No chart is drawn for" in text


def test_report_pdf_draws_charts_as_vectors(small_report_pdf):
    data, _ = small_report_pdf
    reader = PdfReader(io.BytesIO(data))
    images = sum(len(p.images) for p in reader.pages)
    assert images == 0  # no raster picture anywhere: charts are vector drawings
    assert "Participation funnel" in "\n".join(_pages(data))


def test_table_header_repeats_on_every_page():
    from analysis.pdf import PdfDocument

    doc = PdfDocument(title="Long table")
    rows = [[f"group {i:03d}", f"{i * 7:,}", "a longer description that wraps in its cell"] for i in range(160)]
    doc.table(
        ["group name", "children counted", "what the group is"],
        rows,
        numeric=[False, True, False],
        caption="Children by group",
    )
    pages = _pages(doc.output())
    assert len(pages) >= 3
    for text in pages:
        assert "children counted" in text and "group name" in text
    assert all(f"group {i:03d}" in "\n".join(pages) for i in range(160))


def test_long_heading_wraps_inside_the_page():
    from analysis.pdf import PdfDocument

    doc = PdfDocument()
    long = (
        "Results: what children said should happen after they report something that made "
        "them feel unsafe online or offline, by age group and setting"
    )
    doc.heading(long)
    reader = PdfReader(io.BytesIO(doc.output()))
    page = reader.pages[0]
    width = float(page.mediabox.width)
    xs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            xs.append((tm[4] * cm[0] + cm[4], text))

    page.extract_text(visitor_text=visit)
    assert len(xs) >= 2  # on two lines or more
    assert all(0 <= x < width for x, _ in xs)
    words = " ".join(t.strip() for _, t in xs).split()
    assert words[: len(long.split())] == long.split()  # then the page number


def test_arabic_feedback_sheet_is_extractable_in_reading_order():
    from analysis.feedback import render_feedback_pdf

    sheet = feedback_sheet(
        band="C",
        language="ar",
        told_us=["حوالي 7 من كل 10 منكم لديهم شخص بالغ يثقون به."],
        will_change=["سيُفتح خط دردشة مجاني للمساعدة في المساء."],
        cant_change=[("صندوق للمخاوف في كل مدرسة", "لا يوجد مال كافٍ بعد")],
        next_update="سنعود إلى مدرستكم في يونيو.",
        helplines=[("خط مساعدة الأطفال", "116")],
    )
    text = "\n".join(_pages(render_feedback_pdf(sheet)))
    assert "ما قلتموه لنا" in text  # the first heading, in logical order
    assert "لديهم شخص بالغ يثقون به" in text
    assert "116" in text


def test_served_feedback_pdf_uses_the_renderer():
    """The feedback sheet a programme team downloads (survey.services.programme.sheet_pdf)."""
    from survey.services.programme import sheet_pdf

    sheet = feedback_sheet(
        band="B",
        language="ar",
        told_us=["شكرًا لكم على مشاركتكم."],
        will_change=["خط دردشة جديد."],
        cant_change=[("صندوق", "لا مال")],
        next_update="في يونيو.",
        helplines=[("خط المساعدة", "116")],
    )
    text = "\n".join(_pages(sheet_pdf(sheet)))
    assert "متى ستسمعون منّا مرة أخرى" in text
    assert "شكرًا لكم على مشاركتكم" in text


def test_count_axes_never_show_negative_zero():
    policy = DisclosurePolicy()
    hidden = disclose(
        pd.DataFrame({"girl": [3, 4], "boy": [2, 1]}, index=["A", "B"]), policy, title="Children by band and gender"
    )
    chart = breakdown_chart(hidden)
    chart.figure.canvas.draw()
    ticks = [t.get_text() for t in chart.figure.axes[0].get_xticklabels()]
    assert not any(t.replace("\u2212", "-") in ("-0", "-0.0") for t in ticks), ticks
    assert chart.empty
    funnel = funnel_chart(disclose(pd.Series({"invited": 40, "started": 38}), margins=False))
    assert not funnel.empty


def test_arabic_in_an_italic_sentence_is_not_dropped():
    """DejaVu Sans Oblique has no Arabic: such text is set upright rather than left out."""
    from analysis.pdf import PdfDocument

    doc = PdfDocument()
    doc.paragraph("No chart is drawn for \u201cما قلتموه لنا\u201d: every number is hidden.", style="I")
    text = "\n".join(_pages(doc.output()))
    assert "ما قلتموه لنا" in text

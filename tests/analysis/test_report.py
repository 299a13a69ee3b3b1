"""Programme report: sections, caveat, 'not recorded', only released blocks rendered."""

import re

import pandas as pd
import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.report import (
    CAVEAT,
    NOT_RECORDED,
    ProgrammeReport,
    ReportInputs,
    Section,
    build_report,
    render_html,
)
from analysis.synthetic import synthetic_long
from analysis.textscreen import release_quote, screen_text


@pytest.fixture(scope="module")
def report():
    long = synthetic_long(1500, n_items=12, n_sites=6, seed=31)
    quote = release_quote(screen_text("A chat that answers fast"), released=True, reviewer="dsl", band="C")
    inputs = ReportInputs(
        title="Reporting mechanisms <consultation>",
        funnel={"invited": 1800, "assented": 1550, "completed": 1400, "quick exits": 3},
        gc12={"Transparent and informative": ("yes", "info sheet v2")},
        influence_log=[
            {
                "recommendation": "24/7 chat",
                "decision": "accepted",
                "reason": "budget found",
                "date": "2026-10-01",
                "owner": "NGO",
            }
        ],
        feedback={"closed_on": "2026-09-01", "feedback_on": "2026-10-06"},
        safeguarding={"talk to someone": 14, "referrals": 2},
        quotes=[quote],
    )
    return build_report(long, inputs, charts_on=True)


def test_sections_and_not_recorded(report):
    titles = [s.title for s in report.sections]
    for needed in (
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
        "In children's words",
    ):
        assert needed in titles
    html = render_html(report)
    assert CAVEAT.replace("'", "&#39;") in html
    assert NOT_RECORDED in html  # the Lundy checklist was not given
    assert "35" in html  # days from close to feedback
    assert "<consultation>" not in html and "&lt;consultation&gt;" in html
    assert not re.search(r"(src|href)=['\"]https?://", html)  # self-contained
    assert html.count("data:image/png;base64,") >= 5
    alts = re.findall(r"alt='([^']*)'", html)
    assert alts and all(a.strip() for a in alts)


def test_small_counts_never_reach_the_page(report):
    html = render_html(report)
    sg = next(s for s in report.sections if s.title.startswith("Safeguarding"))
    table = sg.blocks[0]
    assert pd.isna(table.data.loc["count", "referrals"])
    funnel = next(s for s in report.sections if s.title == "Who took part").blocks[1]
    assert pd.isna(funnel.data.loc["children", "quick exits"])
    assert ">2<" not in html.split("Safeguarding signals")[1].split("</table>")[0]


def test_renderer_refuses_unreleased_blocks():
    bad = ProgrammeReport("x", "2026-11-29", DisclosurePolicy(), [Section("raw", [pd.DataFrame({"a": [3]})])], 1)
    with pytest.raises(TypeError, match="released"):
        render_html(bad)


def test_every_table_block_is_released(report):
    from analysis.charts import ChartResult
    from analysis.disclosure import ReleasedTable
    from analysis.report import ProgrammeRecord
    from analysis.textscreen import ReleasedQuote

    for s in report.sections:
        for b in s.blocks:
            assert isinstance(b, ReleasedTable | ChartResult | ProgrammeRecord | ReleasedQuote)


def test_pdf_report(report, tmp_path):
    from analysis.report import write_report_pdf

    path = write_report_pdf(report, tmp_path / "report.pdf")
    data = path.read_bytes()
    assert data[:5] == b"%PDF-"
    from analysis.charts import ChartResult

    n_charts = sum(isinstance(b, ChartResult) for s in report.sections for b in s.blocks)
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= n_charts
    bad = ProgrammeReport("x", "2026-11-29", DisclosurePolicy(), [Section("raw", [pd.DataFrame({"a": [3]})])], 1)
    with pytest.raises(TypeError):
        write_report_pdf(bad, tmp_path / "bad.pdf")

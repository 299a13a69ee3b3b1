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

from .model import (
    CAVEAT,
    DOMAIN_TITLES,
    NOT_RECORDED,
    ProgrammeRecord,
    ProgrammeReport,
    ReportInputs,
    Section,
)
from .render import render_html, write_html, write_report_pdf
from .sections import build_report, programme_sections

__all__ = [
    "CAVEAT",
    "DOMAIN_TITLES",
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

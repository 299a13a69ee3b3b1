"""The analyst's programme view of one consultation, built on :mod:`analysis`.

Data flow (BRIEF): answers in the database -> :func:`analysis.frames.read_database` (the tidy
long frame, read in chunks with pandas, no Python loop over rows) -> JSON answers of
select-multiple, rank and matrix items turned into analysis rows (vectorised over the distinct
stored values) -> :func:`analysis.report.build_report`, whose every table and chart passed
:func:`analysis.disclosure.disclose`.

Nothing here is cached between requests: each report is built from this consultation's rows
and thrown away.  Participant ids never reach the analysis: they are replaced by integers in a
random order as soon as the frame is read, so neither the page nor a download can carry one.

Two parts: :mod:`~survey.services.reporting.frame` (the answers as the analysis reads them) and
:mod:`~survey.services.reporting.results` (the results page and the downloads, from releases).
"""

from __future__ import annotations

from analysis.disclosure import DisclosureError as DisclosureError
from survey.services.progress import funnel as funnel
from survey.services.released import ASSENTED_STATES as ASSENTED_STATES
from survey.services.released import funnel_counts as funnel_counts
from survey.services.released import policy as policy
from survey.services.reporting.frame import (
    _COLUMNS as _COLUMNS,
)
from survey.services.reporting.frame import (
    _VIEW as _VIEW,
)
from survey.services.reporting.frame import (
    FORMATS as FORMATS,
)
from survey.services.reporting.frame import (
    RESPONDENT_ITEMS as RESPONDENT_ITEMS,
)
from survey.services.reporting.frame import (
    RESPONSE_STATE as RESPONSE_STATE,
)
from survey.services.reporting.frame import (
    NotEnoughResponses as NotEnoughResponses,
)
from survey.services.reporting.frame import (
    ReportFailed as ReportFailed,
)
from survey.services.reporting.frame import (
    _decode as _decode,
)
from survey.services.reporting.frame import (
    _expand as _expand,
)
from survey.services.reporting.frame import (
    _long_frame as _long_frame,
)
from survey.services.reporting.frame import (
    _report_funnel as _report_funnel,
)
from survey.services.reporting.frame import (
    _respondent_items as _respondent_items,
)
from survey.services.reporting.frame import (
    codebook_for as codebook_for,
)
from survey.services.reporting.frame import (
    export_frame as export_frame,
)
from survey.services.reporting.frame import (
    export_items as export_items,
)
from survey.services.reporting.frame import (
    export_repeats as export_repeats,
)
from survey.services.reporting.frame import (
    log as log,
)
from survey.services.reporting.frame import (
    long_frame as long_frame,
)
from survey.services.reporting.frame import (
    read_answers as read_answers,
)
from survey.services.reporting.frame import (
    read_repeat_answers as read_repeat_answers,
)
from survey.services.reporting.frame import (
    safeguarding_counts as safeguarding_counts,
)
from survey.services.reporting.results import (
    DOMAIN_TITLES as DOMAIN_TITLES,
)
from survey.services.reporting.results import (
    CellView as CellView,
)
from survey.services.reporting.results import (
    ItemView as ItemView,
)
from survey.services.reporting.results import (
    ReleaseInfo as ReleaseInfo,
)
from survey.services.reporting.results import (
    ResultsOverview as ResultsOverview,
)
from survey.services.reporting.results import (
    TableView as TableView,
)
from survey.services.reporting.results import (
    _consultation as _consultation,
)
from survey.services.reporting.results import (
    _dim_label as _dim_label,
)
from survey.services.reporting.results import (
    _item_view as _item_view,
)
from survey.services.reporting.results import (
    download as download,
)
from survey.services.reporting.results import (
    headline_sentence as headline_sentence,
)
from survey.services.reporting.results import (
    programme_records as programme_records,
)
from survey.services.reporting.results import (
    release_report as release_report,
)
from survey.services.reporting.results import (
    render_download as render_download,
)
from survey.services.reporting.results import (
    results_overview as results_overview,
)
from survey.services.reporting.results import (
    share_phrase as share_phrase,
)

__all__ = [
    "FORMATS",
    "DisclosureError",
    "NotEnoughResponses",
    "ReportFailed",
    "ResultsOverview",
    "download",
    "funnel",
    "funnel_counts",
    "long_frame",
    "read_answers",
    "release_report",
    "render_download",
    "results_overview",
]

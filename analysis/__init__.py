"""Sauti analysis: tidy frames, statistics, disclosure control, charts and reports.

A pure library: it never imports Flask or ``survey``. Every table, chart, export and
feedback sheet goes through :func:`analysis.disclosure.disclose` (the one gate): charts,
the report renderer and the exporters accept only its :class:`ReleasedTable`.
"""

from .descriptives import count_codes, frequencies, likert_summary, proportion_ci
from .disclosure import (
    DifferencingGuard,
    DisclosureError,
    DisclosurePolicy,
    ReleasedTable,
    disclose,
)
from .frames import (
    DK,
    LONG_COLUMNS,
    RESERVED,
    RESPONDENT_COLUMNS,
    RNS,
    ItemMeta,
    codebook_from_dict,
    codebook_from_instrument,
    codebook_to_dict,
    infer_codebook,
    make_long,
    read_database,
    read_export,
    to_wide,
    write_parquet,
)
from .inference import adjust_pvalues, compare_groups, crosstab, crosstabs
from .sdc import release_microdata, risk_report

__all__ = [
    "DK",
    "LONG_COLUMNS",
    "RESERVED",
    "RESPONDENT_COLUMNS",
    "RNS",
    "DifferencingGuard",
    "DisclosureError",
    "DisclosurePolicy",
    "ItemMeta",
    "ReleasedTable",
    "adjust_pvalues",
    "codebook_from_dict",
    "codebook_from_instrument",
    "codebook_to_dict",
    "compare_groups",
    "count_codes",
    "crosstab",
    "crosstabs",
    "disclose",
    "frequencies",
    "infer_codebook",
    "likert_summary",
    "make_long",
    "proportion_ci",
    "read_database",
    "read_export",
    "release_microdata",
    "risk_report",
    "to_wide",
    "write_parquet",
]

"""Sauti analysis: tidy frames, statistics, disclosure control, charts and reports.

A pure library: it never imports Flask or ``survey``. Every table, chart, export and
feedback sheet goes through :func:`analysis.disclosure.disclose` (the one gate).
"""

from .descriptives import count_codes, frequencies, proportion_ci
from .frames import (
    DK,
    LONG_COLUMNS,
    RESERVED,
    RESPONDENT_COLUMNS,
    RNS,
    ItemMeta,
    codebook_from_instrument,
    infer_codebook,
    make_long,
    read_database,
    read_export,
    to_wide,
    write_parquet,
)

__all__ = [
    "DK",
    "LONG_COLUMNS",
    "RESERVED",
    "RESPONDENT_COLUMNS",
    "RNS",
    "ItemMeta",
    "codebook_from_instrument",
    "count_codes",
    "frequencies",
    "infer_codebook",
    "make_long",
    "proportion_ci",
    "read_database",
    "read_export",
    "to_wide",
    "write_parquet",
]

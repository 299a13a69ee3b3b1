"""Sauti analysis: tidy frames, statistics, disclosure control, charts and reports.

A pure library: it never imports Flask or ``survey``. Every table, chart, export and
feedback sheet goes through :func:`analysis.disclosure.disclose` (the one gate): charts,
the report renderer and the exporters accept only its :class:`ReleasedTable`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Where each name of the package's own surface lives.  They are imported when first asked for
#: (PEP 562): importing one module of the package, ``analysis.release_rules`` say, as the web
#: app does at start-up, does not load SciPy and pandas with the statistics (about 2 s).
_SOURCES = {
    **dict.fromkeys(("count_codes", "frequencies", "likert_summary", "proportion_ci"), "descriptives"),
    **dict.fromkeys(
        ("DifferencingGuard", "DisclosureError", "DisclosurePolicy", "ReleasedTable", "disclose"), "disclosure"
    ),
    **dict.fromkeys(
        (
            "DK",
            "LONG_COLUMNS",
            "RESERVED",
            "RESPONDENT_COLUMNS",
            "RNS",
            "ItemMeta",
            "codebook_from_dict",
            "codebook_from_instrument",
            "codebook_to_dict",
            "infer_codebook",
            "make_long",
            "read_database",
            "read_export",
            "to_wide",
            "write_parquet",
        ),
        "frames",
    ),
    **dict.fromkeys(("adjust_pvalues", "compare_groups", "crosstab", "crosstabs"), "inference"),
    **dict.fromkeys(("release_microdata", "risk_report"), "sdc"),
}


def __getattr__(name: str) -> Any:  # PEP 562: the package's names, imported when first used
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{source}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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

"""Sauti instruments: the model, native YAML format, XLSForm import/export,
the expression language, validation and the bundled consultations.

Pure Python: importing this package never imports Flask or ``survey``.

Examples
--------
>>> import instruments
>>> inst = instruments.load_bundled()
>>> [p.name for p in inst.pages_for_band("A")][:3]
['CX1', 'TR1', 'TR3']
>>> instruments.validate(inst).ok
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from instruments.bundled import bundled_names, load_bundled
from instruments.errors import (
    ExpressionError,
    InstrumentError,
    Issue,
    IssueCode,
    Report,
    Severity,
)
from instruments.expressions import evaluate, evaluate_bool, parse
from instruments.loading import LoadResult
from instruments.model import (
    DEFAULT_BANDS,
    DONT_KNOW,
    NO_NAMES_NOTICE,
    RATHER_NOT_SAY,
    RESERVED_CODES,
    RESERVED_LABELS,
    AgeBand,
    Choice,
    Direction,
    Instrument,
    Item,
    ItemType,
    Language,
    LanguageStatus,
    Media,
    Page,
    Repeat,
    Section,
    Sensitivity,
    Settings,
    Text,
    band_at_least,
    band_for_age,
    instance_key,
    matrix_key,
)
from instruments.native import dump_native, load_native
from instruments.preview import preview_text
from instruments.runtime import (
    calculate_all,
    check_answer,
    context,
    instance_count,
    instance_values,
    is_relevant,
    visible_choices,
    visible_items,
)
from instruments.validate import approve_language, estimate_minutes, validate
from instruments.xlsform import export_xlsform, import_xlsform

__all__ = [
    "DEFAULT_BANDS",
    "DONT_KNOW",
    "NO_NAMES_NOTICE",
    "RATHER_NOT_SAY",
    "RESERVED_CODES",
    "RESERVED_LABELS",
    "AgeBand",
    "Choice",
    "Direction",
    "ExpressionError",
    "Instrument",
    "InstrumentError",
    "Issue",
    "IssueCode",
    "Item",
    "ItemType",
    "Language",
    "LanguageStatus",
    "LoadResult",
    "Media",
    "Page",
    "Repeat",
    "Report",
    "Section",
    "Sensitivity",
    "Settings",
    "Severity",
    "Text",
    "approve_language",
    "band_at_least",
    "band_for_age",
    "bundled_names",
    "calculate_all",
    "check_answer",
    "context",
    "dump_native",
    "estimate_minutes",
    "evaluate",
    "evaluate_bool",
    "export_xlsform",
    "import_xlsform",
    "instance_count",
    "instance_key",
    "instance_values",
    "is_relevant",
    "load_bundled",
    "load_instrument",
    "load_native",
    "matrix_key",
    "parse",
    "preview_text",
    "validate",
    "visible_choices",
    "visible_items",
]


def load_instrument(path: str | os.PathLike[str], **kwargs: Any) -> LoadResult:
    """Load a native (.yaml/.yml) or XLSForm (.xlsx/.xls/.csv/.md) file by extension.

    Raises
    ------
    InstrumentError
        ``FILE_TYPE_UNSUPPORTED`` for other extensions, else the loader's codes.

    Examples
    --------
    >>> load_instrument("form.pdf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    instruments.errors.InstrumentError: error FILE_TYPE_UNSUPPORTED at form.pdf: ...
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_native(Path(path), **kwargs)
    if suffix in (".xlsx", ".xlsm", ".xls", ".csv", ".md"):
        return import_xlsform(Path(path), **kwargs)
    raise InstrumentError.single(
        IssueCode.FILE_TYPE_UNSUPPORTED,
        Path(path).name,
        f"'{suffix or 'no extension'}' is not an instrument format.",
        "Use a native .yaml file or an XLSForm (.xlsx, .xls, .csv, .md).",
    )

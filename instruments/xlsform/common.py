"""Limits, column names and small helpers shared by the XLSForm reader, converter and writer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from instruments.errors import InstrumentError, IssueCode, Severity

if TYPE_CHECKING:
    pass


#: Largest upload accepted, in bytes.
MAX_XLSFORM_BYTES = 10 * 1024 * 1024
#: Largest total uncompressed size of an .xlsx, in bytes.
MAX_UNCOMPRESSED_BYTES = 30 * 1024 * 1024
#: Highest compression ratio accepted for one .xlsx part.
MAX_COMPRESSION_RATIO = 200
#: Most zip entries in an .xlsx.
MAX_ZIP_ENTRIES = 500
#: Most rows on the survey sheet (questions a child is asked).
MAX_ROWS = 5000
#: Most rows on the choices sheet, and in any one worksheet: long location lists are common.
MAX_CHOICE_ROWS = 50_000
#: Most cells in any sheet.
MAX_CELLS = 400_000
#: Most cells per row, on average over a sheet (a form has tens of columns, not thousands).
MAX_CELLS_PER_ROW = 1_000
#: Longest cell (a label or hint longer than this is an attack or a mistake).
MAX_CELL_CHARS = 10_000
#: Longest line in a CSV or Markdown form.
MAX_LINE_CHARS = 100_000
#: Parts that carry other files or controls: a questionnaire never needs them.
_ACTIVE_PARTS = re.compile(r"(^|/)(activeX/|embeddings/)", re.IGNORECASE)
#: Macro parts: never run or read (the sheets are read as plain data), only reported.
_MACRO_PARTS = re.compile(r"(^|/)(vbaProject[^/]*\.bin|vbaData\.xml|vbaProjectSignature[^/]*)$", re.IGNORECASE)

E, W = Severity.ERROR, Severity.WARNING
FIX_XLSFORM = "See https://xlsform.org/en/ for the expected layout."

_SUPPORTED_TYPES = {
    "select_one",
    "select one",
    "select_multiple",
    "select multiple",
    "select all that apply",
    "rank",
    "text",
    "string",
    "integer",
    "int",
    "decimal",
    "range",
    "note",
    "calculate",
    # choices from a file attached to the form: the list waits for the file (see
    # instruments.attachments)
    "select_one_from_file",
    "select_multiple_from_file",
    "xml-external",
    "csv-external",
}
_GROUP_BEGIN = {"begin group", "begin_group"}
_GROUP_END = {"end group", "end_group"}
_REPEAT_BEGIN = {"begin repeat", "begin_repeat"}
_REPEAT_END = {"end repeat", "end_repeat"}
_LOOPED = {"begin looped group", "end looped group", "looped group"}
_KNOWN_SURVEY_COLUMNS = {
    "type",
    "name",
    "label",
    "hint",
    "relevant",
    "relevance",
    "constraint",
    "constraint_message",
    "constraint message",
    "required",
    "appearance",
    "choice_filter",
    "choice filter",
    "default",
    "calculation",
    "parameters",
    "media",
    "image",
    "audio",
    "sensitivity",
    "min_band",
    "max_band",
    "research_only",
    "max_choices",
    "allow_dont_know",
    "shared",
    "band_choices",
    "matrix_rows",
    "minutes",
    "notice",
    "skippable",
    "sauti_context",
    "repeat_count",
    "max_repeats",
}
_LANG_RE = re.compile(r"^\s*(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)\s*$")
_KNOWN_LANGUAGE_NAMES = {
    "english": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "arabic": "ar",
    "العربية": "ar",
    "swahili": "sw",
    "kiswahili": "sw",
    "portuguese": "pt",
    "português": "pt",
    "hindi": "hi",
    "bengali": "bn",
    "russian": "ru",
    "chinese": "zh",
    "german": "de",
    "deutsch": "de",
    "italian": "it",
    "amharic": "am",
    "somali": "so",
    "hausa": "ha",
    "yoruba": "yo",
    "igbo": "ig",
    "zulu": "zu",
    "ukrainian": "uk",
    "turkish": "tr",
    "urdu": "ur",
    "farsi": "fa",
    "persian": "fa",
    "dari": "prs",
    "pashto": "ps",
    "nepali": "ne",
    "burmese": "my",
    "tagalog": "tl",
    "indonesian": "id",
    "kinyarwanda": "rw",
    "luganda": "lg",
    "tigrinya": "ti",
    "oromo": "om",
}
_FIELD_COLUMNS = {
    "relevance": "relevant",
    "label": "label",
    "hint": "hint",
    "constraint": "constraint",
    "constraint_message": "constraint_message",
    "choice_filter": "choice_filter",
    "calculation": "calculation",
    "choices": "type",
    "min_band": "min_band",
    "max_band": "max_band",
    "sensitivity": "sensitivity",
    "max_choices": "max_choices",
    "parameters": "parameters",
    "rows": "matrix_rows",
    "band_choices": "band_choices",
    "label_bands": "label_<band>",
    "hint_bands": "hint_<band>",
}
_TRUE = {"yes", "true", "true()", "1", "y"}
_FALSE = {"", "no", "false", "false()", "0", "n"}
_ALT_RE = re.compile(r"^alt_([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)$")
_MAX_SELECTED_RE = re.compile(r"^\s*count-selected\(\s*\.\s*\)\s*<=\s*(\d+)\s*$")


def _err(code: IssueCode, location: str, message: str, fix: str = FIX_XLSFORM) -> InstrumentError:
    return InstrumentError.single(code, location, message, fix)


def _base_type(raw: str) -> str:
    text = re.sub(r"\s+", " ", str(raw).strip().lower())
    for prefix in ("select all that apply", "select one", "select multiple"):
        if text.startswith(prefix):
            return prefix
    return text.split(" ")[0] if not text.startswith(("begin ", "end ", "looped ")) else text


def _rows_text(rows: Iterable[int]) -> str:
    rows = sorted(set(rows))
    shown = ", ".join(str(r) for r in rows[:20])
    return shown + (f" and {len(rows) - 20} more" if len(rows) > 20 else "")


def _column_base(header: str) -> str:
    return str(header).split("::")[0].strip().lower()


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in _TRUE


def _longest_text(value: Any) -> int:
    if isinstance(value, Mapping):
        return max((_longest_text(v) for v in value.values()), default=0)
    if isinstance(value, list | tuple):
        return max((_longest_text(v) for v in value), default=0)
    return len(value) if isinstance(value, str) else 0


def _lang_code(key: str, default_code: str) -> tuple[str, str]:
    """(code, name) for a pyxform language key such as ``'English (en)'``."""
    if key == "default":
        return default_code, ""
    match = _LANG_RE.match(key)
    if match:
        name = match.group("name")
        code = match.group("code")
        return code, "" if name == code else name
    lowered = key.strip().lower()
    if lowered in _KNOWN_LANGUAGE_NAMES:
        return _KNOWN_LANGUAGE_NAMES[lowered], key.strip()
    slug = re.sub(r"[^a-z]", "", lowered)[:8] or "xx"
    return slug, key.strip()


def _first_label_language(definition: Any, fallback: str) -> str:
    """The language of the first label column, when the settings name none.

    A form with only ``label::Français (fr)`` columns is French, not English.
    """
    headers: list[str] = []
    for row in (definition.survey_header or [])[:1]:
        headers += [str(k) for k in (row or {})]
    for row in definition.survey or []:
        headers += [str(k) for k in row if str(k) not in headers]
    for header in headers:
        base, _, lang = header.partition("::")
        if base.strip().lower() == "label":
            return _lang_code(lang, fallback)[0] if lang else fallback
    return fallback


def _parse_pairs(value: Any) -> dict[str, str]:
    """``"A=faces3 B=agree5"`` -> ``{"A": "faces3", "B": "agree5"}``."""
    pairs = {}
    for part in str(value or "").replace(",", " ").split():
        if "=" in part:
            key, _, val = part.partition("=")
            pairs[key.strip()] = val.strip()
    return pairs


def _media_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """The media of a row: ``media::audio`` and ``media::image`` columns. A bare ``media`` column
    (which pyxform ignores) gives a plain text instead of a mapping, and is ignored too."""
    media = node.get("media")
    return media if isinstance(media, Mapping) else {}


def _and(first: str | None, second: str | None) -> str | None:
    if not first:
        return second
    if not second:
        return first
    return f"({first}) and ({second})"

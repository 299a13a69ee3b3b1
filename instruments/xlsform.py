"""XLSForm import (through pyxform) and export (to .xlsx with openpyxl).

Import pipeline (each step its own function):

1. :func:`_read_source` - bytes and file type, size limit (``MAX_XLSFORM_BYTES``);
2. :func:`_precheck` - before any parser runs: zip entry count, uncompressed
   size and compression ratio (zip bombs), ``<!DOCTYPE``/``<!ENTITY`` in any
   XML part (XXE, billion laughs), worksheet row and cell counts; line counts
   for CSV and Markdown; row counts for ``.xls``;
3. ``pyxform.xls2json_backends.get_xlsform`` - the sheets as raw rows;
4. :func:`_screen_rows` - repeats (rejected), unsupported types and metadata
   (dropped, with a warning listing the rows), ``required`` (dropped with a
   warning, or an error with ``strict_required=True``), duplicate choice
   names (an error naming the row), unknown columns (warning);
5. ``pyxform.xls2json.workbook_to_json`` and ``pyxform.builder`` - pyxform's
   own checks, errors mapped to ``XLSFORM_INVALID`` with the row;
6. :class:`_Converter` - the pyxform dict becomes an
   :class:`~instruments.model.Instrument`; validation issues get sheet, row
   and column locations.

Any failure is an :class:`~instruments.errors.InstrumentError`; nothing else
escapes, whatever the file holds.

Mapping
-------
* a top-level group is a section; a ``field-list`` group is one page; an
  item outside a field-list group is a page of its own; top-level items
  outside groups form an implicit section (``grouped=False``);
* a ``table-list`` group whose select_one children share a list and are named
  ``<group>_<row>`` is a matrix item (answers keyed ``<group>_<row>``);
* ``select_one`` with appearance ``likert`` is a likert item;
* ``label::English (en)`` gives the language code ``en`` (also bare names such
  as ``label::French``); the plain ``label`` column is the default language;
* Sauti's own columns: ``sensitivity`` (S0-S3), ``min_band``, ``max_band``,
  ``research_only``, ``max_choices``, ``allow_dont_know``, ``shared``,
  ``band_choices`` (``A=faces3 B=agree5``), ``matrix_rows`` (matrix row list),
  ``minutes``, ``label_A::...``/``hint_A::...`` (band variants),
  ``notice::...`` and ``skippable`` (on a section's begin group row),
  ``alt::...`` (choices sheet), and ``sauti_*`` settings columns.

Examples
--------
>>> md = '''
... | survey |
... | | type | name | label | relevant | sensitivity |
... | | select_one yn | likes | Do you like school? | | S1 |
... | | text | why | Why? | ${likes} = 'yes' | |
... | choices |
... | | list_name | name | label |
... | | yn | yes | Yes |
... | | yn | no | No |
... '''
>>> result = import_xlsform(md)
>>> inst = result.instrument
>>> [i.name for i in inst.items], inst.item("likes").sensitivity.name
(['likes', 'why'], 'S1')
>>> inst.item("why").relevance
"${likes} = 'yes'"
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from instruments.errors import InstrumentError, Issue, IssueCode, Report, Severity
from instruments.loading import LoadResult, finish_load
from instruments.model import (
    DEFAULT_BANDS,
    DEFAULT_MAX_REPEATS,
    DEFAULT_TIME_BUDGET,
    MAX_REPEAT_DEPTH,
    MAX_REPEATS,
    RTL_LANGUAGES,
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
    matrix_key,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "MAX_CELLS",
    "MAX_CHOICE_ROWS",
    "MAX_ROWS",
    "MAX_XLSFORM_BYTES",
    "export_xlsform",
    "import_xlsform",
]

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


# ---------------------------------------------------------------------------
# 1. reading
# ---------------------------------------------------------------------------
def _err(code: IssueCode, location: str, message: str, fix: str = FIX_XLSFORM) -> InstrumentError:
    return InstrumentError.single(code, location, message, fix)


def _read_source(source: str | os.PathLike[str] | bytes | BinaryIO, file_type: str | None) -> tuple[bytes, str, str]:
    """Return (data, file_type, origin)."""
    origin = "<upload>"
    if isinstance(source, str) and "\n" in source:
        data = _encode(source, origin)
        file_type = file_type or "md"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        origin = path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _err(
                IssueCode.FILE_UNREADABLE, origin, f"The file cannot be read: {exc.strerror}.", "Check the path."
            ) from None
        if size > MAX_XLSFORM_BYTES:
            raise _too_large(origin, size)
        data = path.read_bytes()
        file_type = file_type or path.suffix.lower().lstrip(".")
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        try:
            data = source.read(MAX_XLSFORM_BYTES + 1)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a clear error
            raise _err(
                IssueCode.FILE_UNREADABLE, origin, f"The upload cannot be read: {exc}.", "Upload the file again."
            ) from None
        origin = Path(getattr(source, "name", "") or "<upload>").name
        if isinstance(data, str):
            data = _encode(data, origin)
    if len(data) > MAX_XLSFORM_BYTES:
        raise _too_large(origin, len(data))
    if not data.strip():
        raise _err(
            IssueCode.FILE_UNREADABLE, origin, "The file is empty.", "Upload an XLSForm (.xlsx, .xls, .csv or .md)."
        )
    file_type = (file_type or _sniff(data)).lower().lstrip(".")
    if file_type == "xlsm":
        file_type = "xlsx"
    if file_type not in ("xlsx", "xls", "csv", "md"):
        raise _err(
            IssueCode.FILE_TYPE_UNSUPPORTED,
            origin,
            f"'.{file_type}' files are not XLSForms.",
            "Upload .xlsx, .xls, .csv or .md (or a native .yaml instrument).",
        )
    return data, file_type, origin


def _encode(text: str, origin: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The text holds an invalid character at position {exc.start}.",
            "Save the form as UTF-8 text.",
        ) from None


def _too_large(origin: str, size: int) -> InstrumentError:
    return _err(
        IssueCode.FILE_TOO_LARGE,
        origin,
        f"The file is {size:,} bytes; the limit is {MAX_XLSFORM_BYTES:,}.",
        "Remove unused sheets, images and formatting, or split the form.",
    )


def _sniff(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    head = data[:2000].lstrip()
    if head.startswith(b"|") or b"\n|" in head[:200]:
        return "md"
    return "csv"


# ---------------------------------------------------------------------------
# 2. pre-checks, before any parser sees the data
# ---------------------------------------------------------------------------
def _precheck(data: bytes, file_type: str, origin: str) -> list[Issue]:
    """Refuse hostile files; return warnings (macros ignored) for readable ones."""
    if file_type == "xlsx":
        return _precheck_xlsx(data, origin)
    if file_type == "xls":
        _precheck_xls(data, origin)
        return []
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _err(
                IssueCode.FILE_UNREADABLE,
                origin,
                f"The file is not UTF-8 text (byte {exc.start}).",
                "Save the CSV/Markdown file as UTF-8.",
            ) from None
        lines = text.count("\n") + 1
        if lines > _MAX_TEXT_LINES:
            raise _err(
                IssueCode.TOO_MANY_ROWS,
                origin,
                f"The file has {lines:,} lines; the limit is {_MAX_TEXT_LINES:,}.",
                "Remove unused rows or split the form.",
            )
        if "\x00" in text:
            raise _err(
                IssueCode.FILE_UNREADABLE,
                origin,
                "The file contains binary data.",
                "Upload the XLSForm itself, saved as .xlsx, .csv or .md.",
            )
        longest = max(len(line) for line in text.splitlines() or [""])
        if longest > MAX_LINE_CHARS:
            raise _err(
                IssueCode.FILE_UNREADABLE,
                origin,
                f"A line has {longest:,} characters; the limit is {MAX_LINE_CHARS:,}.",
                "Shorten the long labels or hints.",
            )
    return []


#: Lines in a CSV or Markdown form: every sheet's rows, headers and sheet names.
_MAX_TEXT_LINES = MAX_ROWS + MAX_CHOICE_ROWS + 1_000


def _precheck_xlsx(data: bytes, origin: str) -> list[Issue]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The file is not a readable .xlsx workbook ({exc}).",
            "Open it in a spreadsheet program and save it again as .xlsx.",
        ) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _err(
            IssueCode.ARCHIVE_UNSAFE,
            origin,
            f"The workbook has {len(infos)} parts; the limit is {MAX_ZIP_ENTRIES}.",
            "Save the form as a plain .xlsx without embedded objects.",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _err(
            IssueCode.ARCHIVE_UNSAFE,
            origin,
            f"The workbook unpacks to {total:,} bytes; the limit is {MAX_UNCOMPRESSED_BYTES:,} (a zip bomb?).",
            "Upload the real form; remove huge or hidden sheets.",
        )
    for info in infos:
        ratio = info.file_size // max(1, info.compress_size)
        if info.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO:
            raise _err(
                IssueCode.ARCHIVE_UNSAFE,
                origin,
                f"The part {info.filename} is compressed {ratio}:1, which only zip bombs do.",
                "Upload the real form.",
            )
    for info in infos:
        _check_member(info, origin)
    names = {i.filename for i in infos}
    macros = sorted(n for n in names if _MACRO_PARTS.search(n))
    if "xl/workbook.xml" not in names:
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            "The file is a zip but not an .xlsx workbook (no xl/workbook.xml).",
            "Save the form as .xlsx.",
        )
    try:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            if info.filename.startswith("xl/worksheets/"):
                continue  # after the small parts: their row limit depends on the sheet's name
            if _scan_xml_part(archive, info, origin) and not macros:
                macros = [info.filename]
        survey_parts = _survey_parts(archive, names)
        for info in infos:
            if not info.filename.startswith("xl/worksheets/") or not info.filename.endswith(".xml"):
                continue
            survey = info.filename in survey_parts
            if (
                _scan_xml_part(
                    archive, info, origin, MAX_ROWS + 1 if survey else MAX_CHOICE_ROWS, "survey sheet" if survey else ""
                )
                and not macros
            ):
                macros = [info.filename]
    except InstrumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt archives raise many kinds
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The workbook is damaged ({type(exc).__name__}).",
            "Open it in a spreadsheet program and save it again.",
        ) from None
    if not macros:
        return []
    return [
        Issue(
            IssueCode.UNSUPPORTED_COLUMN,
            W,
            origin,
            "The workbook is macro-enabled; its macros were ignored (never run) and only its sheets were read.",
            "Nothing to do; to silence this, save the form as a plain .xlsx workbook.",
        )
    ]


def _check_member(info: zipfile.ZipInfo, origin: str) -> None:
    """Refuse parts no spreadsheet program writes: escaping names, links, macros, embedded files."""
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise _err(
            IssueCode.ARCHIVE_UNSAFE,
            origin,
            f"The workbook holds a part with an unsafe name ({name[:80]!r}).",
            "Upload a workbook saved by a spreadsheet program.",
        )
    if info.create_system == 3 and ((info.external_attr >> 16) & 0o170000) == 0o120000:
        raise _err(
            IssueCode.ARCHIVE_UNSAFE,
            origin,
            f"The part {name[:80]} is a symbolic link, which workbooks never hold.",
            "Upload a workbook saved by a spreadsheet program.",
        )
    if _ACTIVE_PARTS.search(name):
        raise _err(
            IssueCode.ARCHIVE_UNSAFE,
            origin,
            f"The workbook contains embedded objects or controls ({name[:80]}); questionnaires never need them.",
            "Save the form as a plain .xlsx without embedded objects.",
        )


def _survey_parts(archive: zipfile.ZipFile, names: set[str]) -> set[str]:
    """The worksheet part(s) of the sheet called ``survey`` (its rows are limited before any
    parser reads them). Called once every small part has been checked for DTDs and size."""
    from defusedxml import ElementTree

    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in names:
        return set()
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read(rels_name))
    targets = {r.get("Id"): str(r.get("Target") or "") for r in rels}
    parts = set()
    for sheet in book.iter():
        if not str(sheet.tag).endswith("}sheet") or str(sheet.get("name", "")).strip().lower() != ("survey"):
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        parts.add(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
    return parts


def _scan_xml_part(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, max_rows: int = MAX_CHOICE_ROWS, sheet: str = ""
) -> bool:
    """Refuse DTDs, entities and oversized sheets; True when the part says "macro-enabled"."""
    macro_enabled = False
    is_sheet = info.filename.startswith("xl/worksheets/")
    rows = cells = 0
    tail = b""
    read = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            read += len(chunk)
            if read > MAX_UNCOMPRESSED_BYTES:
                raise _err(
                    IssueCode.ARCHIVE_UNSAFE,
                    origin,
                    f"The part {info.filename} unpacks beyond the size limit.",
                    "Upload the real form.",
                )
            window = tail + chunk
            upper = window.upper()
            if info.filename == "[Content_Types].xml" and b"MACROENABLED" in upper:
                macro_enabled = True
            if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
                raise _err(
                    IssueCode.XML_UNSAFE,
                    origin,
                    f"The part {info.filename} declares a DTD or entities, which "
                    "spreadsheets never need (an XXE or entity-expansion attack?).",
                    "Save the form again from a spreadsheet program.",
                )
            if is_sheet:
                rows += window.count(b"<row ") + window.count(b"<row>") - (tail.count(b"<row ") + tail.count(b"<row>"))
                cells += window.count(b"<c ") + window.count(b"<c>") - (tail.count(b"<c ") + tail.count(b"<c>"))
                if rows > max_rows or cells > MAX_CELLS or cells > MAX_CELLS_PER_ROW * max(rows, 1):
                    raise _err(
                        IssueCode.TOO_MANY_ROWS,
                        f"{origin}, {sheet or info.filename}",
                        f"A sheet has more than {max_rows - bool(sheet):,} rows, "
                        f"{MAX_CELLS:,} cells or {MAX_CELLS_PER_ROW:,} cells in a row.",
                        "Delete unused rows and columns (including formatted empty ones) or split the form.",
                    )
            tail = chunk[-16:]
    return macro_enabled


def _precheck_xls(data: bytes, origin: str) -> None:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        try:
            for index in range(book.nsheets):
                sheet = book.sheet_by_index(index)
                if sheet.nrows > MAX_CHOICE_ROWS or sheet.nrows * sheet.ncols > MAX_CELLS:
                    raise _err(
                        IssueCode.TOO_MANY_ROWS,
                        f"{origin}, sheet {sheet.name}",
                        f"The sheet has {sheet.nrows:,} rows and {sheet.ncols:,} columns; "
                        f"the limits are {MAX_CHOICE_ROWS:,} rows and {MAX_CELLS:,} "
                        "cells.",
                        "Delete unused rows or split the form.",
                    )
                book.unload_sheet(index)
        finally:
            book.release_resources()
    except InstrumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds on bad files
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The file is not a readable .xls workbook ({type(exc).__name__}: {exc}).",
            "Open it in a spreadsheet program and save it as .xlsx.",
        ) from None


# ---------------------------------------------------------------------------
# 3-4. raw rows and screening
# ---------------------------------------------------------------------------
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


def _screen_rows(
    definition: Any, origin: str, strict_required: bool, band_codes: Iterable[str]
) -> tuple[list[Issue], list[Issue]]:
    """Check and clean the raw rows in place. Returns (errors, warnings)."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    survey = list(definition.survey or [])
    choices = list(definition.choices or [])
    for sheet, rows, limit, fix in (
        ("survey", survey, MAX_ROWS, "Delete unused rows or split the form."),
        (
            "choices",
            choices,
            MAX_CHOICE_ROWS,
            "Delete unused rows, or keep only the places the consultation needs in a long list.",
        ),
    ):
        if len(rows) > limit:
            raise _err(
                IssueCode.TOO_MANY_ROWS,
                f"{origin}, {sheet} sheet, row {limit + 2}",
                f"The {sheet} sheet has {len(rows):,} rows; the limit is {limit:,}.",
                fix,
            )
    for sheet, rows in (("survey", survey), ("choices", choices), ("settings", list(definition.settings or []))):
        for index, row in enumerate(rows):
            longest = _longest_text(row)
            if longest > MAX_CELL_CHARS:
                raise _err(
                    IssueCode.XLSFORM_INVALID,
                    f"{origin}, {sheet} sheet, row {index + 2}",
                    f"A cell has {longest:,} characters; the limit is {MAX_CELL_CHARS:,}.",
                    "Shorten the label or hint; long explanations belong in a notice.",
                )
    if not survey:
        raise _err(
            IssueCode.MISSING_SHEET,
            origin,
            "The form has no 'survey' sheet (or it is empty).",
            "Add a sheet called 'survey' with type, name and label columns.",
        )
    bands = {b.lower() for b in band_codes}
    repeats, unsupported, required, acknowledged = [], defaultdict(list), [], []
    dropped: dict[str, int] = {}
    unknown_columns: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(survey):
        rownum = index + 2
        raw_type = row.get("type")
        if raw_type is None:
            continue
        base = _base_type(raw_type)
        if base in _LOOPED or base.startswith("begin looped"):
            repeats.append(rownum)
            continue
        if base in ("trigger", "acknowledge"):
            # an "OK" to tap: shown as a note, nothing is stored
            row = survey[index] = dict(row, type="note")
            acknowledged.append(rownum)
            base = "note"
        if base not in _SUPPORTED_TYPES and base not in _GROUP_BEGIN | _GROUP_END | (_REPEAT_BEGIN | _REPEAT_END):
            unsupported[str(raw_type).split()[0]].append(rownum)
            if row.get("name") not in (None, ""):
                dropped[str(row["name"]).strip()] = rownum
            survey[index] = {}
            continue
        if "required" in row:
            if str(row["required"]).strip().lower() not in _FALSE:
                required.append(rownum)
            row = dict(row)
            row.pop("required")
            survey[index] = row
        for header in row:
            base_col = _column_base(header)
            if base_col in _KNOWN_SURVEY_COLUMNS:
                continue
            match = re.match(r"^(label|hint)_(\w+)$", base_col)
            if match and match.group(2) in bands:
                continue
            unknown_columns[str(header)].append(rownum)
    if repeats:
        errors.append(
            Issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                f"{origin}, survey sheet, rows {_rows_text(repeats)}",
                "Looped groups are not supported.",
                "Write the looped group as begin repeat/end repeat rows, or as a fixed list of items.",
            )
        )
    for raw_type, rows in unsupported.items():
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column type, rows {_rows_text(rows)}",
                f"The type '{raw_type}' is not supported (Sauti asks children no dates, locations, "
                "photos, recordings or device metadata); these rows were left out.",
                "Remove the rows, or replace them with a supported type.",
            )
        )
    if acknowledged:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column type, rows {_rows_text(acknowledged)}",
                'A trigger (an "OK" to tap) is shown as a note: Sauti stores nothing for it.',
                "Use the type note to silence this warning.",
            )
        )
    if required:
        location = f"{origin}, survey sheet, column required, rows {_rows_text(required)}"
        if strict_required:
            errors.append(
                Issue(
                    IssueCode.REQUIRED_ITEM,
                    E,
                    location,
                    "Items are marked required, but nothing a child answers may be mandatory (S-04).",
                    "Clear the 'required' column.",
                )
            )
        else:
            warnings.append(
                Issue(
                    IssueCode.REQUIRED_DROPPED,
                    W,
                    location,
                    "'required' was dropped: nothing a child answers may be mandatory (S-04); "
                    'every item offers "I\'d rather not say".',
                    "Clear the 'required' column to silence this warning.",
                )
            )
    for header, rows in unknown_columns.items():
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_COLUMN,
                W,
                f"{origin}, survey sheet, column {header}, rows {_rows_text(rows)}",
                f"The column '{header}' is not used by Sauti and was ignored.",
                "Remove the column if it is not needed.",
            )
        )
    settings_row = (definition.settings or [{}])[0] or {}
    allow_duplicates = _truthy(settings_row.get("allow_choice_duplicates", ""))
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(choices):
        rownum = index + 2
        list_name = row.get("list_name", row.get("list name"))
        name = row.get("name")
        if list_name is None or name is None:
            continue
        key = (str(list_name), str(name))
        if key not in seen:
            seen[key] = rownum
            continue
        where = f"{origin}, choices sheet, row {rownum}, column name"
        first = choices[seen[key] - 2]
        differs = sorted(
            str(k)
            for k in set(row) | set(first)
            if _column_base(k) not in ("list_name", "list name", "name", "label")
            and not _column_base(k).startswith(("label", "media", "image", "audio", "alt"))
            and str(row.get(k) or "") != str(first.get(k) or "")
        )
        if not allow_duplicates:
            errors.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    E,
                    where,
                    f"The choice '{name}' appears twice in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}); answers would be ambiguous.",
                    "Give each choice in a list its own name, or allow repeated names with "
                    "allow_choice_duplicates = yes on the settings sheet.",
                )
            )
        elif differs:
            errors.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    E,
                    f"{origin}, choices sheet, row {rownum}, column {differs[0]}",
                    f"The choice '{name}' appears twice in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}) with different values in the column "
                    f"'{differs[0]}'; Sauti keeps one choice per name, so one of them would be "
                    "lost.",
                    f"Give the choice on row {rownum} its own name (for example '{name}_{rownum}').",
                )
            )
        else:
            # pyxform allows it (allow_choice_duplicates): both rows store the same answer
            warnings.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    W,
                    where,
                    f"The choice '{name}' appears again in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}); the settings allow it and both give the same "
                    f"answer, so row {rownum} was merged into row {seen[key]} and its label is "
                    "not shown.",
                    "Remove the repeated row, or give it its own name.",
                )
            )
            choices[index] = {}
    definition.choices = choices
    _forget_last_saved(survey, origin, warnings)
    _qualify_reused_names(survey, origin, warnings)
    placeholders = _placeholders_for_dropped(survey, dropped, origin, warnings)
    if _add_context_rows(survey) or placeholders:
        header = dict((definition.survey_header or [{}])[0] or {})
        for column in ("type", "name", "calculation", "sauti_context"):
            header.setdefault(column, None)
        definition.survey_header = [header]
    definition.survey = survey
    return errors, warnings


_REF_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_LAST_SAVED_RE = re.compile(r"\$\{\s*last-saved#[^}]*\}")
_TEXT_COLUMNS = ("label", "hint", "constraint_message", "constraint message", "guidance_hint")


def _forget_last_saved(survey: list[dict[str, Any]], origin: str, warnings: list[Issue]) -> None:
    """``${last-saved#q}`` reads the answers last saved on the device: another child's. Sauti
    never reads them; such a reference is read as empty, as on a device where no form was saved
    yet (a default made of one is dropped), and a warning names the rows."""
    rows: list[int] = []
    for index, row in enumerate(survey):
        changed = dict(row)
        for key, value in row.items():
            if not isinstance(value, str) or not _LAST_SAVED_RE.search(value):
                continue
            base = _column_base(key)
            if base == "default" and _LAST_SAVED_RE.fullmatch(value.strip()):
                changed.pop(key)
            else:
                changed[key] = _LAST_SAVED_RE.sub("" if base in _TEXT_COLUMNS else "''", value)
        if changed != row:
            survey[index] = changed
            rows.append(index + 2)
    if rows:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_COLUMN,
                W,
                f"{origin}, survey sheet, row{'s' if len(rows) > 1 else ''} {_rows_text(rows)}",
                "${last-saved#...} reads the answers last saved on the device, which would be another "
                "child's: Sauti never reads them, so it is read as empty here (as on a device where "
                "nothing was saved yet).",
                "Remove the ${last-saved#...} references; ask the question instead.",
            )
        )


def _qualify_reused_names(survey: list[dict[str, Any]], origin: str, warnings: list[Issue]) -> None:
    """pyxform accepts one name in different groups (each is its group's own); Sauti keys an
    answer by the item's name alone, so a name met again is qualified with its group's name."""
    path: list[str] = []
    taken = {str(row.get("name")).strip() for row in survey if row.get("name") is not None}
    first: dict[str, tuple[int, tuple[str, ...]]] = {}
    for index, row in enumerate(survey):
        if row.get("type") is None:
            continue
        base = _base_type(row["type"])
        name = str(row.get("name") or "").strip()
        if base in _GROUP_END | _REPEAT_END:
            if path:
                path.pop()
            continue
        if not name:
            continue
        if name in first and first[name][1] != tuple(path):
            group = path[-1] if path else "main"
            new = f"{group}_{name}"
            while new in taken:
                new += "_"
            taken.add(new)
            survey[index] = dict(row, name=new)
            warnings.append(
                Issue(
                    IssueCode.DUPLICATE_NAME,
                    W,
                    f"{origin}, survey sheet, row {index + 2}, column name",
                    f"The name '{name}' is also used on row {first[name][0]} in another group; "
                    f"this one is called '{new}' in Sauti (answers are kept by name, and "
                    f"${{{name}}} means the one on row {first[name][0]}).",
                    f"Give the item its own name (for example '{new}') to silence this.",
                )
            )
        elif name not in first:
            first[name] = (index + 2, tuple(path))
        if base in _GROUP_BEGIN | _REPEAT_BEGIN:
            path.append(name)


def _placeholders_for_dropped(
    survey: list[dict[str, Any]], dropped: Mapping[str, int], origin: str, warnings: list[Issue]
) -> bool:
    """A label may show ${today} or ${deviceid}, rows Sauti leaves out: pyxform would find
    them, so keep an empty value under that name (a label shows nothing there) and say so.
    An expression that reads one is refused later, by the validator, with its row."""
    used: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(survey):
        for key, value in row.items():
            if isinstance(value, str) and "${" in value:
                for ref in _REF_RE.findall(value):
                    if ref in dropped and _column_base(key) in ("label", "hint"):
                        used[ref].append(index + 2)
    for name, rows in used.items():
        survey.append({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column label, row{'s' if len(set(rows)) > 1 else ''} {_rows_text(rows)}",
                f"The text shows ${{{name}}}, which is row {dropped[name]}, left out; it shows nothing there.",
                f"Remove ${{{name}}} from the text.",
            )
        )
    return bool(used)


def _add_context_rows(survey: list[dict[str, Any]]) -> bool:
    """pyxform insists every ${name} exists: give engine context values such as
    ${_setting} a placeholder calculate row (after the real rows, so row numbers stay)."""
    from instruments.expressions import CONTEXT_NAMES

    defined = {str(row.get("name")) for row in survey if row.get("name") is not None}
    used: set[str] = set()
    for row in survey:
        for value in row.values():
            if isinstance(value, str) and "${_" in value:
                used |= {m for m in re.findall(r"\$\{\s*(_[A-Za-z]+)\s*\}", value) if m in CONTEXT_NAMES}
    for name in sorted(used - defined):
        survey.append({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
    return bool(used - defined)


# ---------------------------------------------------------------------------
# 6. pyxform dict -> model
# ---------------------------------------------------------------------------
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


class _Converter:
    """Turns pyxform's dict into an Instrument, collecting issues by row."""

    def __init__(self, form: dict[str, Any], definition: Any, default_language: str, origin: str):
        self.form = form
        self.origin = origin
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.rows: dict[str, int] = {}
        for index, row in enumerate(definition.survey or []):
            if row.get("name") is not None and str(row.get("name")) not in self.rows:
                self.rows[str(row["name"])] = index + 2
        self.choice_rows: dict[tuple[str, str], int] = {}
        self.choice_columns: set[str] = {str(k) for row in (definition.choices_header or [])[:1] for k in (row or {})}
        for index, row in enumerate(definition.choices or []):
            self.choice_columns |= {str(k) for k in row}
            list_name = row.get("list_name", row.get("list name"))
            if list_name is not None and row.get("name") is not None:
                self.choice_rows.setdefault((str(list_name), str(row["name"])), index + 2)
        self.settings_row = dict((definition.settings or [{}])[0] or {})
        default_key = self.settings_row.get("default_language") or form.get("default_language")
        if default_key and default_key != "default":
            self.default_code, _ = _lang_code(str(default_key), default_language)
        else:
            self.default_code = _first_label_language(definition, default_language)
        self.lang_names: dict[str, str] = {}
        self.lang_order: list[str] = []
        self.bands = self._bands()
        self.band_lookup = {b.code.lower(): b.code for b in self.bands}
        self.extra_lists: dict[str, tuple[Choice, ...]] = {}
        self.matrix_group_names: set[str] = set()
        self.repeats: list[Repeat] = []
        self.repeat_counts: dict[str, str] = {}
        self.generated_counts: set[str] = set()
        self._find_generated_counts(form.get("children", []))

    def _find_generated_counts(self, children: Iterable[Mapping[str, Any]]) -> None:
        """pyxform turns a fixed ``repeat_count`` (or an expression) into a calculate row of its
        own, ``<repeat>_count``, before the repeat: the count goes back onto the repeat."""
        children = list(children)
        calculations = {
            str(c.get("name")): (c.get("bind") or {}).get("calculate") for c in children if c.get("type") == "calculate"
        }
        for child in children:
            if child.get("type") == "repeat":
                count = str((child.get("control") or {}).get("jr:count") or "")
                match = re.fullmatch(r"\$\{([^}]+)\}", count.strip())
                if match and match.group(1) not in self.rows and match.group(1) in calculations:
                    self.generated_counts.add(match.group(1))
                    self.repeat_counts[str(child.get("name"))] = str(calculations[match.group(1)]).strip()
            if child.get("children"):
                self._find_generated_counts(child["children"])

    # helpers ---------------------------------------------------------------
    def _see_lang(self, key: str) -> str:
        code, name = _lang_code(key, self.default_code)
        if code not in self.lang_order:
            self.lang_order.append(code)
        if name and not self.lang_names.get(code):
            self.lang_names[code] = name
        return code

    def text(self, value: Any) -> Text:
        if value is None:
            return Text()
        if isinstance(value, Mapping):
            return Text({self._see_lang(str(k)): str(v) for k, v in value.items() if v not in (None, "")})
        self._see_lang("default")
        return Text({self.default_code: str(value)})

    def where(self, name: str, column: str | None = None) -> str:
        row = self.rows.get(name)
        text = f"{self.origin}, survey sheet"
        if row:
            text += f", row {row}"
        if column:
            text += f", column {column}"
        return text + f" ({name})"

    def error(self, code: IssueCode, name: str, column: str, message: str, fix: str) -> None:
        self.errors.append(Issue(code, E, self.where(name, column), message, fix))

    def _bands(self) -> tuple[AgeBand, ...]:
        spec = self.settings_row.get("sauti_bands")
        if not spec:
            return DEFAULT_BANDS
        bands = []
        for code, ages in _parse_pairs(spec).items():
            low, _, high = ages.partition("-")
            try:
                bands.append(AgeBand(code, int(low), int(high)))
            except ValueError:
                self.errors.append(
                    Issue(
                        IssueCode.INVALID_BAND,
                        E,
                        f"{self.origin}, settings sheet, sauti_bands",
                        f"'{code}={ages}' is not a band.",
                        "Write e.g. A=8-10 B=11-13 C=14-17.",
                    )
                )
        return tuple(bands) or DEFAULT_BANDS

    def band(self, value: Any, name: str, column: str) -> str | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        return self.band_lookup.get(text.lower(), text)

    def band_texts(self, node: Mapping[str, Any], prefix: str) -> dict[str, Text]:
        out = {}
        for key, value in node.items():
            match = re.match(rf"^{prefix}_(\w+)$", str(key), re.I)
            if match and match.group(1).lower() in self.band_lookup:
                out[self.band_lookup[match.group(1).lower()]] = self.text(value)
        return out

    # items -----------------------------------------------------------------
    def item(self, node: Mapping[str, Any]) -> Item | None:
        name = str(node.get("name"))
        kind = node.get("type")
        bind = node.get("bind") or {}
        control = node.get("control") or {}
        appearance = control.get("appearance")
        tokens = str(appearance or "").split()
        type_map = {
            "select one": ItemType.SELECT_ONE,
            "select all that apply": ItemType.SELECT_MULTIPLE,
            "rank": ItemType.RANK,
            "text": ItemType.TEXT,
            "string": ItemType.TEXT,
            "integer": ItemType.INTEGER,
            "int": ItemType.INTEGER,
            "decimal": ItemType.DECIMAL,
            "range": ItemType.RANGE,
            "note": ItemType.NOTE,
            "calculate": ItemType.CALCULATE,
        }
        if kind not in type_map:
            self.warnings.append(
                Issue(
                    IssueCode.UNSUPPORTED_TYPE,
                    W,
                    self.where(name, "type"),
                    f"The type '{kind}' is not supported; the row was left out.",
                    "Use a supported type.",
                )
            )
            return None
        item_type = type_map[kind]
        if (
            item_type in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.TEXT)
            and bind.get("calculate")
            and not node.get("label")
        ):
            # a question with a calculation and no label asks nothing: ODK shows only its value
            item_type = ItemType.CALCULATE
        source = str(node.get("itemset") or node.get("list_name") or "")
        if item_type.has_choices and source.startswith("${"):
            self.error(
                IssueCode.MISSING_CHOICE_LIST,
                name,
                "type",
                f"The choices come from the answers given in a repeat ({source}): they "
                "would be the child's own words, which Sauti never offers back as "
                "choices; its choice lists are fixed, written on the choices sheet.",
                "Write the choices on the choices sheet and name that list, or ask with a text question.",
            )
            return None
        if item_type.has_choices and "search(" in str(appearance or "").replace(" ", ""):
            self.error(
                IssueCode.MISSING_CHOICE_LIST,
                name,
                "appearance",
                f"The choices come from a file attached to the form ({appearance}), which Sauti does not take.",
                "Write the choices on the choices sheet and remove search() from the appearance.",
            )
            return None
        if item_type is ItemType.SELECT_ONE and "likert" in tokens:
            item_type = ItemType.LIKERT
            tokens = [t for t in tokens if t != "likert"]
        appearance = " ".join(tokens) or None
        sensitivity = Sensitivity.S0
        if node.get("sensitivity") not in (None, ""):
            try:
                sensitivity = Sensitivity.parse(node["sensitivity"])
            except ValueError:
                self.error(
                    IssueCode.INVALID_SENSITIVITY,
                    name,
                    "sensitivity",
                    f"'{node['sensitivity']}' is not a sensitivity level.",
                    "Use S0, S1, S2 or S3.",
                )
        max_choices = None
        constraint = bind.get("constraint")
        if node.get("max_choices") not in (None, ""):
            try:
                max_choices = int(str(node["max_choices"]).strip())
                if max_choices < 1:
                    raise ValueError
            except ValueError:
                self.error(
                    IssueCode.MAX_CHOICES_INVALID,
                    name,
                    "max_choices",
                    f"'{node['max_choices']}' is not a whole number above 0.",
                    "Write e.g. 3.",
                )
                max_choices = None
        if item_type is ItemType.SELECT_MULTIPLE and constraint:
            match = _MAX_SELECTED_RE.match(str(constraint))
            if match and (max_choices is None or int(match.group(1)) == max_choices):
                max_choices = int(match.group(1))
                constraint = None
        minutes = None
        if node.get("minutes") not in (None, ""):
            try:
                minutes = float(node["minutes"])
            except ValueError:
                self.warnings.append(
                    Issue(
                        IssueCode.UNSUPPORTED_COLUMN,
                        W,
                        self.where(name, "minutes"),
                        f"'{node['minutes']}' is not a number of minutes; ignored.",
                        "Write e.g. 1.5.",
                    )
                )
        media = _media_of(node)
        parameters = node.get("parameters") or {}
        relevance = bind.get("relevant")
        if relevance and name not in self.rows:
            # a row pyxform generated (or_other): its relevance uses a relative path
            relevance = re.sub(r"\.\./([A-Za-z_][A-Za-z0-9_.\-]*)", r"${\1}", relevance)
        if item_type is ItemType.RANGE:
            parameters = {k: v for k, v in parameters.items() if k in ("start", "end", "step")}
        label = node.get("label") or (node.get("hint") if item_type.answerable else None)
        if not label and item_type.answerable and not self.band_texts(node, "label"):
            # pyxform takes a question without words (ODK shows only its media, if any)
            label = name
            self.warnings.append(
                Issue(
                    IssueCode.MISSING_LABEL,
                    W,
                    self.where(name, "label"),
                    f"The question has no label (words to read), only a name: Sauti shows '{name}'"
                    + (" beside its picture or recording." if media else "."),
                    "Write the question in the label column.",
                )
            )
        choice_filter = node.get("choice_filter")
        if choice_filter and item_type.has_choices:
            choice_filter = self._known_filter(name, str(choice_filter), node)
        return Item(
            name=name,
            type=item_type,
            # a question with only a hint (pyxform takes either) shows the hint as its words
            label=self.text(label),
            hint=self.text(node.get("hint") if node.get("label") or not item_type.answerable else None),
            label_bands=self.band_texts(node, "label"),
            hint_bands=self.band_texts(node, "hint"),
            shared=str(node.get("shared", "")).strip().lower() not in _FALSE - {""},
            choices=node.get("list_name") or node.get("itemset") if item_type.has_choices else None,
            band_choices={
                self.band_lookup.get(k.lower(), k): v for k, v in _parse_pairs(node.get("band_choices")).items()
            },
            rows=None,
            relevance=relevance,
            constraint=constraint,
            constraint_message=self.text(bind.get("jr:constraintMsg")),
            choice_filter=choice_filter,
            appearance=appearance,
            default=None if node.get("default") is None else str(node.get("default")),
            calculation=bind.get("calculate"),
            parameters={k: str(v) for k, v in parameters.items()},
            min_band=self.band(node.get("min_band"), name, "min_band"),
            max_band=self.band(node.get("max_band"), name, "max_band"),
            sensitivity=sensitivity,
            research_only=_truthy(node.get("research_only", "")),
            media=Media(audio=self.text(media.get("audio")), image=self.text(media.get("image"))),
            max_choices=max_choices,
            allow_dont_know=_truthy(node.get("allow_dont_know", "")),
            minutes=minutes,
        )

    def _known_filter(self, name: str, choice_filter: str, node: Mapping[str, Any]) -> str | None:
        """The choice filter, or None when it reads a column the choices sheet does not have:
        ODK would read that column as empty, so the filter would hide every choice; Sauti shows
        them all and says so."""
        from instruments.expressions import ExpressionError, parse

        try:
            bare = parse(choice_filter).bare_names
        except ExpressionError:
            return choice_filter  # the validator names the problem
        missing = sorted(bare - self.choice_columns - {"name"})
        if not missing:
            return choice_filter
        self.warnings.append(
            Issue(
                IssueCode.UNKNOWN_REFERENCE,
                W,
                self.where(name, "choice_filter"),
                f"The choice filter reads '{missing[0]}', which is not a column of the choices sheet, so "
                "it would hide every choice; Sauti leaves the filter out and shows all the choices.",
                f"Add a '{missing[0]}' column to the choices sheet, or write ${{{missing[0]}}} to read an answer.",
            )
        )
        return None

    def matrix(self, group: Mapping[str, Any]) -> Item | None:
        """A table-list group of select_ones named <group>_<row>, else None.

        pyxform expands ``table-list`` into a ``field-list`` group holding a
        generated note (the group label), a reserved label row and the rows.
        """
        name = str(group.get("name"))
        control = group.get("control") or {}
        all_children = list(group.get("children", []))
        generated = [c for c in all_children if str(c.get("name", "")).startswith("generated_table_list_label_")]
        reserved = [
            c for c in all_children if str(c.get("name", "")).startswith("reserved_name_for_field_list_labels_")
        ]
        if "table-list" not in str(control.get("appearance") or "").split() and not reserved:
            return None
        label = group.get("label") or (generated[0].get("label") if generated else None)
        children = [
            c
            for c in all_children
            if c not in generated
            and c not in reserved
            and "label" not in str((c.get("control") or {}).get("appearance") or "").split()
        ]
        if not children or any(c.get("type") != "select one" for c in children):
            return None
        lists = {c.get("list_name") or c.get("itemset") for c in children}
        prefix = f"{name}_"
        if len(lists) != 1 or not all(str(c.get("name")).startswith(prefix) for c in children):
            return None
        rows_list = group.get("matrix_rows")
        row_names = [str(c["name"])[len(prefix) :] for c in children]
        known_rows = self.form.get("choices", {}).get(rows_list) if rows_list else None
        if not known_rows or [str(r.get("name")) for r in known_rows] != row_names:
            rows_list = f"{name}_rows"
            while rows_list in self.form.get("choices", {}):
                rows_list += "_"
            self.extra_lists[rows_list] = tuple(
                Choice(row, self.text(c.get("label"))) for row, c in zip(row_names, children, strict=True)
            )
        group = dict(group, label=label)
        first = self.item(
            dict(
                children[0],
                name=name,
                label=group.get("label"),
                hint=group.get("hint"),
                bind=group.get("bind") or {},
                control={"appearance": None},
                **{
                    k: v
                    for k, v in group.items()
                    if k
                    in (
                        "sensitivity",
                        "min_band",
                        "max_band",
                        "research_only",
                        "allow_dont_know",
                        "shared",
                        "band_choices",
                        "minutes",
                    )
                    or re.match(r"^(label|hint)_", str(k))
                },
            )
        )
        if first is None:  # pragma: no cover - children are select one
            return None
        self.matrix_group_names.add(name)
        for child in children:
            self.rows.setdefault(str(child["name"]), self.rows.get(name, 0))
        return replace(
            first,
            type=ItemType.MATRIX,
            rows=rows_list,
            relevance=((group.get("bind") or {}).get("relevant")),
            appearance=None,
            media=Media(**{k: self.text(v) for k, v in _media_of(group).items() if k in ("audio", "image")}),
        )

    # structure ---------------------------------------------------------------
    def _flatten(self, children: Iterable[Mapping[str, Any]], relevance: str | None) -> list[Item]:
        items: list[Item] = []
        for child in children:
            if str(child.get("name", "")).startswith("reserved_name_for_field_list_labels_"):
                continue  # pyxform's table-list header row
            if child.get("type") == "repeat":
                self.error(
                    IssueCode.REPEAT_UNSUPPORTED,
                    str(child.get("name")),
                    "type",
                    "A repeat sits inside a group shown as one page (field-list); a page cannot hold a repeat.",
                    "Move the begin repeat/end repeat rows out of the field-list group, "
                    "or remove the group's field-list appearance.",
                )
                continue
            if child.get("type") == "group":
                if child.get("label"):
                    self.warnings.append(
                        Issue(
                            IssueCode.UNSUPPORTED_COLUMN,
                            W,
                            self.where(str(child["name"]), "label"),
                            "A group nested inside a page was flattened; its label is not shown.",
                            "Move the label to a note item.",
                        )
                    )
                inner = (child.get("bind") or {}).get("relevant")
                items += self._flatten(child.get("children", []), _and(relevance, inner))
                continue
            item = self.item(child)
            if item is not None:
                if relevance:
                    item = replace(item, relevance=_and(relevance, item.relevance))
                items.append(item)
        return items

    def _pages(
        self, children: Iterable[Mapping[str, Any]], relevance: str | None, repeat: str | None = None
    ) -> list[Page]:
        pages: list[Page] = []
        for child in children:
            name = str(child.get("name"))
            if name in self.generated_counts:
                continue  # pyxform's calculate holding a repeat's fixed count
            if child.get("type") == "repeat":
                pages += self._repeat(child, relevance, repeat)
                continue
            if child.get("type") == "group":
                matrix = self.matrix(child)
                group_rel = (child.get("bind") or {}).get("relevant")
                appearance = str((child.get("control") or {}).get("appearance") or "").split()
                if matrix is not None:
                    pages.append(Page(name, (matrix,), relevance=relevance, repeat=repeat))
                elif "field-list" in appearance or "table-list" in appearance:
                    items = self._flatten(child.get("children", []), None)
                    if items:
                        pages.append(
                            Page(name, tuple(items), self.text(child.get("label")), _and(relevance, group_rel), repeat)
                        )
                else:
                    if child.get("label"):
                        self.warnings.append(
                            Issue(
                                IssueCode.UNSUPPORTED_COLUMN,
                                W,
                                self.where(name, "label"),
                                "A group nested inside a section was merged into the section; its label is not shown.",
                                "Move the label to a note item.",
                            )
                        )
                    pages += self._pages(child.get("children", []), _and(relevance, group_rel), repeat)
                continue
            item = self.item(child)
            if item is not None:
                if relevance:
                    item = replace(item, relevance=_and(relevance, item.relevance))
                pages.append(Page(item.name, (item,), repeat=repeat))
        return pages

    def _repeat(self, node: Mapping[str, Any], relevance: str | None, parent: str | None) -> list[Page]:
        """A ``begin repeat`` group: its pages carry the repeat's name (one level of nesting)."""
        name = str(node.get("name"))
        chain = [r for r in self.repeats if r.name == parent]
        depth = 1 + (chain[0].depth_in(self.repeats) if chain else 0)
        if depth > MAX_REPEAT_DEPTH:
            self.error(
                IssueCode.REPEAT_UNSUPPORTED,
                name,
                "type",
                f"The repeat '{name}' sits inside the repeat '{parent}', which is itself "
                "inside a repeat; Sauti takes one repeat inside another, no deeper.",
                f"Move the rows of '{name}' out of '{parent}' (end repeat before its "
                "begin repeat), or ask its questions once, without begin repeat.",
            )
            return []
        count = self.repeat_counts.get(name, (node.get("control") or {}).get("jr:count"))
        maximum = DEFAULT_MAX_REPEATS
        raw_max = node.get("max_repeats")
        if raw_max not in (None, ""):
            try:
                maximum = int(str(raw_max).strip())
                if not 1 <= maximum <= MAX_REPEATS:
                    raise ValueError
            except ValueError:
                self.error(
                    IssueCode.REPEAT_UNSUPPORTED,
                    name,
                    "max_repeats",
                    f"'{raw_max}' is not a number of times from 1 to {MAX_REPEATS}.",
                    "Write e.g. 5.",
                )
        if count is not None and str(count).strip().isdigit() and int(count) > MAX_REPEATS:
            self.error(
                IssueCode.REPEAT_UNSUPPORTED,
                name,
                "repeat_count",
                f"The repeat is asked {count} times; the most is {MAX_REPEATS}.",
                f"Write a repeat_count of at most {MAX_REPEATS}.",
            )
        repeat = Repeat(
            name, self.text(node.get("label")), None if count in (None, "") else str(count), maximum, parent
        )
        self.repeats.append(repeat)
        group_rel = (node.get("bind") or {}).get("relevant")
        appearance = str((node.get("control") or {}).get("appearance") or "").split()
        if "field-list" in appearance:
            items = self._flatten(node.get("children", []), None)
            pages = [Page(name, tuple(items), Text(), _and(relevance, group_rel), name)] if items else []
        else:
            pages = self._pages(node.get("children", []), _and(relevance, group_rel), name)
        if not pages:
            self.repeats.remove(repeat)
            self.warnings.append(
                Issue(
                    IssueCode.UNSUPPORTED_TYPE,
                    W,
                    self.where(name, "type"),
                    "The repeat asks no question (it holds no row Sauti shows); it was left out.",
                    "Add questions to the repeat, or remove its begin repeat and end repeat rows.",
                )
            )
        return pages

    def sections(self) -> tuple[Section, ...]:
        sections: list[Section] = []
        loose: list[Page] = []
        used = {str(c.get("name")) for c in self.form.get("children", [])}

        def flush() -> None:
            if loose:
                name = "main"
                n = 1
                while name in used:
                    n += 1
                    name = f"main_{n}"
                used.add(name)
                sections.append(Section(name, tuple(loose), grouped=False))
                loose.clear()

        for child in self.form.get("children", []):
            control = child.get("control") or {}
            if child.get("type") == "group" and control.get("bodyless"):
                continue  # pyxform's meta group
            if _truthy(child.get("sauti_context", "")):
                continue  # placeholder for an engine context value such as ${_setting}
            if child.get("type") == "repeat":
                flush()
                relevance = (child.get("bind") or {}).get("relevant")
                pages = self._repeat(
                    dict(child, bind={k: v for k, v in (child.get("bind") or {}).items() if k != "relevant"}),
                    None,
                    None,
                )
                sections.append(
                    Section(
                        str(child["name"]),
                        tuple(pages),
                        self.text(child.get("label")),
                        self.text(child.get("notice")),
                        _truthy(child.get("skippable", "")),
                        relevance,
                    )
                )
                continue
            if child.get("type") != "group":
                loose.extend(self._pages([child], None))
                continue
            flush()
            name = str(child["name"])
            appearance = str(control.get("appearance") or "").split()
            relevance = (child.get("bind") or {}).get("relevant")
            common: dict[str, Any] = {
                "title": self.text(child.get("label")),
                "notice": self.text(child.get("notice")),
                "skippable": _truthy(child.get("skippable", "")),
                "relevance": relevance,
            }
            matrix = self.matrix(child)
            if matrix is not None:
                common["title"] = Text()
                sections.append(Section(name, (Page(name, (replace(matrix, relevance=None),)),), **common))
            elif "field-list" in appearance or "table-list" in appearance:
                items = tuple(self._flatten(child.get("children", []), None))
                sections.append(Section(name, (Page(name, items, common["title"]),), **common))
            else:
                sections.append(Section(name, tuple(self._pages(child.get("children", []), None)), **common))
        flush()
        return tuple(s for s in sections if s.pages)

    def _filter_columns(self) -> set[str]:
        """Choices-sheet columns that a choice filter reads by bare name."""
        from instruments.expressions import ExpressionError, parse

        found: set[str] = set()
        stack = list(self.form.get("children", []))
        while stack:
            node = stack.pop()
            stack += node.get("children", []) or []
            if node.get("choice_filter"):
                try:
                    found |= set(parse(str(node["choice_filter"])).bare_names)
                except ExpressionError:
                    continue
        return found & self.choice_columns - {"name", "label", "list_name", "list name"}

    def choice_lists(self) -> dict[str, tuple[Choice, ...]]:
        lists: dict[str, tuple[Choice, ...]] = {}
        # A filter column left empty on every row of a list is still a column (pyxform reads
        # it as ''): keep it, so that "filter = ${x}" shows no choice rather than failing.
        filter_columns = self._filter_columns()
        for list_name, choices in (self.form.get("choices") or {}).items():
            out = []
            for choice in choices:
                choice = {**dict.fromkeys(filter_columns, ""), **choice}
                media = _media_of(choice)
                extra = {
                    k: str(v)
                    for k, v in choice.items()
                    if k not in ("name", "label", "media", "alt")
                    and not isinstance(v, dict)
                    and not _ALT_RE.match(str(k))
                }
                alt = self.text(choice.get("alt"))
                alt = Text(
                    dict(alt, **{match.group(1): str(v) for k, v in choice.items() if (match := _ALT_RE.match(str(k)))})
                )
                for code in alt:
                    if code not in self.lang_order:
                        self.lang_order.append(code)
                out.append(
                    Choice(
                        name=str(choice.get("name")),
                        label=self.text(choice.get("label")),
                        media=Media(audio=self.text(media.get("audio")), image=self.text(media.get("image"))),
                        alt=alt,
                        extra=extra,
                    )
                )
            lists[str(list_name)] = tuple(out)
        lists.update(self.extra_lists)
        return lists

    def settings_text(self, prefix: str) -> Text:
        values = {}
        for key, value in self.settings_row.items():
            if str(key).startswith(prefix + "::") and value not in (None, ""):
                values[str(key).split("::", 1)[1]] = value
        return self.text(values) if values else Text()

    def instrument(self, fallback_id: str) -> Instrument:
        sections = self.sections()
        choice_lists = self.choice_lists()
        row = self.settings_row
        title = self.settings_text("sauti_title")
        if not title and (row.get("form_title") or self.form.get("title")):
            title = Text({self.default_code: str(row.get("form_title") or self.form["title"])})
        description = self.settings_text("sauti_description")
        statuses = _parse_pairs(row.get("sauti_languages"))
        declared: list[str] = list(statuses)
        for key, value in row.items():
            if str(key).startswith("sauti_language::") and value not in (None, ""):
                code, name = _lang_code(str(key).split("::", 1)[1], self.default_code)
                statuses[code] = str(value).strip()
                if name and not self.lang_names.get(code):
                    self.lang_names[code] = name
                declared.append(code)
        if self.default_code not in self.lang_order:
            self.lang_order.insert(0, self.default_code)
        seen = [c for c in declared + self.lang_order if c != self.default_code]
        order = [self.default_code] + list(dict.fromkeys(seen))
        languages = []
        for code in order:
            status = statuses.get(code, "draft")
            if status not in {"draft", "translated", "back_translated", "tested", "approved"}:
                status = "draft"
            direction = "rtl" if code.split("-")[0] in RTL_LANGUAGES else "ltr"
            languages.append(
                Language(code, self.lang_names.get(code, ""), Direction(direction), LanguageStatus(status))
            )
        budget = {k: int(v) for k, v in _parse_pairs(row.get("sauti_time_budget")).items() if v.isdigit()} or dict(
            DEFAULT_TIME_BUDGET
        )
        mode = str(row.get("sauti_mode") or "consultation")
        settings = Settings(
            default_language=self.default_code,
            mode=mode if mode in ("consultation", "research") else "consultation",
            ethics_reference=row.get("sauti_ethics_reference") or None,
            bands=self.bands,
            time_budget=budget,
            audio_fallback="tts" if str(row.get("sauti_audio_fallback", "")).lower() == "tts" else "none",
        )
        return Instrument(
            id=str(row.get("form_id") or fallback_id),
            version=str(row.get("version") or self.form.get("version") or "1"),
            title=title,
            description=description,
            languages=tuple(languages),
            settings=settings,
            sections=sections,
            choice_lists=choice_lists,
            repeats=tuple(self.repeats),
        )

    def relocate(self, issue: Issue) -> Issue:
        """Rewrite a validator location to sheet, row and column."""
        issue = _explain_function(issue)
        loc = issue.location
        match = re.match(r"^item ([^,]+)(?:, (\w+)(?:\[(\w+)\])?)?$", loc)
        if match:
            name, field, band = match.groups()
            column = _FIELD_COLUMNS.get(field or "", field)
            if column and band and "<band>" in column:
                column = column.replace("<band>", band)
            return replace(issue, location=self.where(name, column))
        match = re.match(r"^repeat ([^,]+)(?:, (\w+))?$", loc)
        if match and match.group(1) in self.rows:
            column = {"count": "repeat_count", "maximum": "max_repeats"}.get(match.group(2) or "", "type")
            return replace(issue, location=self.where(match.group(1), column))
        match = re.match(r"^(section|page) ([^,]+)(?:, (\w+))?$", loc)
        if match:
            kind, name, field = match.groups()
            if name in self.rows:
                return replace(issue, location=self.where(name, _FIELD_COLUMNS.get(field or "", field)))
        match = re.match(r"^choice list ([^,]+), choice ([^,]+)", loc)
        if match:
            row = self.choice_rows.get((match.group(1), match.group(2)))
            if row:
                return replace(
                    issue, location=f"{self.origin}, choices sheet, row {row} ({match.group(1)}/{match.group(2)})"
                )
        return replace(issue, location=f"{self.origin}: {loc}")


#: Functions of ODK forms that read what Sauti never has: attached files, the device, the
#: server. The fix says what to do instead.
_FOREIGN_FUNCTIONS = {
    "pulldata": "it reads a CSV file attached to the form, which Sauti does not take; put "
    "the values in the form (a choice list or a calculate row) instead",
    "instance": "it reads an attached or external list; use a choice list on the choices sheet",
    "digest": "it computes a checksum on the device; remove it",
    "uuid": "it makes an identifier on the device; Sauti gives each answer sheet its own",
    "random": "Sauti does not randomise in expressions; remove it",
    "randomize": "Sauti does not randomise in expressions; remove it",
    "now": "Sauti records no times from children; remove it",
    "decimal-date-time": "Sauti records no times from children; remove it",
    "decimal-time": "Sauti records no times from children; remove it",
    "format-date-time": "Sauti records no times from children; remove it",
    "date-time": "Sauti records no times from children; remove it",
    "property": "it reads the device's properties; remove it",
    "position": "only position(..), the number of the repeat instance, is supported; write position(..) or remove it",
}


def _explain_function(issue: Issue) -> Issue:
    """An expression using a function Sauti cannot run: say which, why, and what to do."""
    if "answers last saved on this device" in issue.message:
        return replace(issue, fix="Remove the ${last-saved#...} reference; ask the question instead.")
    match = re.match(r"^unknown function ([\w:\-]+)\(\)", issue.message)
    if not match:
        return issue
    name = match.group(1)
    why = _FOREIGN_FUNCTIONS.get(name, "Sauti cannot run it")
    return replace(issue, fix=f"Rewrite the expression without {name}(): {why}.")


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


def _pyxform_issue(exc: Exception, origin: str) -> Issue:
    message = str(exc).strip() or type(exc).__name__
    match = re.search(r"\[row\s*:\s*(\d+)\]", message)
    named = re.search(r"on the '(\w+)' sheet", message, re.I)
    sheet = named.group(1).lower() if named else "survey"
    location = f"{origin}, {sheet} sheet" + (f", row {match.group(1)}" if match else "")
    message = re.sub(r"\[row\s*:\s*\d+\]\s*", "", message)
    return Issue(IssueCode.XLSFORM_INVALID, E, location, message, FIX_XLSFORM)


def import_xlsform(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    file_type: str | None = None,
    default_language: str = "en",
    strict_required: bool = False,
    check: bool = True,
) -> LoadResult:
    """Import an XLSForm (.xlsx, .xls, .csv or Markdown) as an instrument.

    Parameters
    ----------
    source : path, bytes, binary file or str
        A path; the file's bytes or a binary file object; or Markdown text
        (a ``str`` containing a newline).
    file_type : {"xlsx", "xls", "csv", "md"}, optional
        Forces the reader; by default taken from the extension or the content.
    default_language : str
        The language code of unlabelled ``label``/``hint`` columns when the
        settings sheet names no ``default_language``.
    strict_required : bool
        ``required`` on an item is reported and dropped with a
        ``REQUIRED_DROPPED`` warning by default (forms from KoboToolbox often
        have it); with ``strict_required=True`` it is a ``REQUIRED_ITEM`` error.
    check : bool
        Validate the result; structural errors raise.

    Returns
    -------
    LoadResult

    Raises
    ------
    InstrumentError
        For any unreadable, unsafe or invalid form; every issue names the
        sheet, row and column and the fix.
    """
    data, kind, origin = _read_source(source, file_type)
    precheck_warnings = _precheck(data, kind, origin)
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        definition = get_xlsform(io.BytesIO(data), file_type=f".{kind}")
    except PyXFormError as exc:
        raise InstrumentError([_pyxform_issue(exc, origin)]) from None
    except Exception as exc:  # noqa: BLE001 - hostile files make readers raise anything
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The {kind} file cannot be read ({type(exc).__name__}).",
            "Open it in a spreadsheet program and save it again as .xlsx.",
        ) from None
    bands = DEFAULT_BANDS
    settings_row = (definition.settings or [{}])[0] or {}
    if settings_row.get("sauti_bands"):
        bands = tuple(AgeBand(k, 0, 0) for k in _parse_pairs(settings_row["sauti_bands"]))
    errors, warnings = _screen_rows(definition, origin, strict_required, [b.code for b in bands])
    warnings[:0] = precheck_warnings
    if errors:
        raise InstrumentError(errors)
    form = _run_pyxform(definition, origin, warnings, _fallback_id(origin))
    _rewrite_absolute_paths(form)
    converter = _Converter(form, definition, default_language, origin)
    try:
        instrument = converter.instrument(_fallback_id(origin))
    except InstrumentError:
        raise
    except RecursionError:
        raise _err(IssueCode.XLSFORM_INVALID, origin, "Groups are nested too deeply.", "Flatten the groups.") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _err(IssueCode.XLSFORM_INVALID, origin, f"The form could not be converted: {exc}.", FIX_XLSFORM) from None
    if converter.errors:
        raise InstrumentError(converter.errors)
    if not instrument.sections:
        raise _err(
            IssueCode.XLSFORM_INVALID,
            f"{origin}, survey sheet",
            "Nothing is left to ask: every row is of a kind Sauti leaves out (device "
            "data, dates, locations, photos or recordings).",
            "Add questions of the kinds Sauti asks (select, text, number, note).",
        )
    warnings += converter.warnings
    try:
        result = finish_load(instrument, warnings, check=check)
    except InstrumentError as exc:
        raise InstrumentError([converter.relocate(i) for i in exc.issues]) from None
    report = Report(tuple(converter.relocate(i) for i in result.report.issues))
    return LoadResult(result.instrument, result.warnings, report)


_ABSOLUTE_PATH = re.compile(r"(?<![\w\])'\".])/(?:[A-Za-z_][\w.\-]*/)+([A-Za-z_][\w.\-]*)(?![\w\[(/])")
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")


def _rewrite_absolute_paths(form: dict[str, Any]) -> None:
    """Older forms write ``/data/group/q1`` where XLSForm now writes ``${q1}``: such a path to
    one of the form's own rows becomes the reference (text in quotes is left alone)."""
    names: set[str] = set()
    stack = [form]
    while stack:
        node = stack.pop()
        if node.get("name") is not None:
            names.add(str(node["name"]))
        stack += node.get("children", []) or []

    def fix(text: Any) -> Any:
        if not isinstance(text, str) or "/" not in text:
            return text
        parts = _QUOTED.split(text)
        for i in range(0, len(parts), 2):  # outside quotes
            parts[i] = _ABSOLUTE_PATH.sub(
                lambda m: f"${{{m.group(1)}}}" if m.group(1) in names else m.group(0), parts[i]
            )
        return "".join(parts)

    stack = list(form.get("children", []))
    while stack:
        node = stack.pop()
        stack += node.get("children", []) or []
        bind = node.get("bind")
        if isinstance(bind, dict):
            for key in ("relevant", "constraint", "calculate"):
                if key in bind:
                    bind[key] = fix(bind[key])
        if "choice_filter" in node:
            node["choice_filter"] = fix(node["choice_filter"])
        control = node.get("control")
        if isinstance(control, dict) and "jr:count" in control:
            control["jr:count"] = fix(control["jr:count"])


def _fallback_id(origin: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(origin).stem) if origin != "<upload>" else ""
    return stem if re.match(r"^[A-Za-z_]", stem) else "form"


def _run_pyxform(definition: Any, origin: str, warnings: list[Issue], fallback: str) -> dict[str, Any]:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json

    messages: list[str] = []
    try:
        form = workbook_to_json(definition, fallback_form_name=fallback, warnings=messages)
        create_survey_element_from_dict(form)
    except PyXFormError as exc:
        raise InstrumentError([_pyxform_issue(exc, origin)]) from None
    except RecursionError:
        raise _err(IssueCode.XLSFORM_INVALID, origin, "Groups are nested too deeply.", "Flatten the groups.") from None
    except Exception as exc:  # noqa: BLE001 - pyxform may raise other errors on odd input
        raise _err(
            IssueCode.XLSFORM_INVALID,
            origin,
            f"pyxform could not read the form ({type(exc).__name__}: {exc}).",
            FIX_XLSFORM,
        ) from None
    for message in messages:
        for line in str(message).splitlines():
            if not line.strip() or "is missing the survey column" in line and "default" in line:
                continue
            warnings.append(Issue(IssueCode.PYXFORM_WARNING, W, origin, line.strip(), FIX_XLSFORM))
    return dict(form)


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------
def _lang_header(inst: Instrument, code: str) -> str:
    try:
        name = inst.language(code).name or code
    except KeyError:
        name = code
    return f"{name} ({code})"


def _pairs(mapping: Mapping[str, object]) -> str | None:
    return " ".join(f"{k}={v}" for k, v in mapping.items()) or None


class _Sheet:
    """Rows with a growing header."""

    def __init__(self, first: list[str]):
        self.header = list(first)
        self.rows: list[dict[str, Any]] = []

    def add(self, row: Mapping[str, Any]) -> None:
        clean = {k: v for k, v in row.items() if v not in (None, "", {})}
        for key in clean:
            if key not in self.header:
                self.header.append(key)
        self.rows.append(clean)

    def write(self, ws: Worksheet) -> None:
        for r, values in enumerate([self.header] + [[row.get(h) for h in self.header] for row in self.rows], start=1):
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula


def _texts(inst: Instrument, prefix: str, text: Text) -> dict[str, str]:
    return {f"{prefix}::{_lang_header(inst, code)}": value for code, value in text.items()}


def _item_row(inst: Instrument, item: Item) -> dict[str, Any]:
    if item.type is ItemType.LIKERT:
        type_text = f"select_one {item.choices}"
        appearance: str | None = " ".join(filter(None, [item.appearance, "likert"]))
    elif item.type is ItemType.SELECT_MULTIPLE:
        type_text, appearance = f"select_multiple {item.choices}", item.appearance
    elif item.type in (ItemType.SELECT_ONE, ItemType.RANK):
        type_text, appearance = f"{item.type.value} {item.choices}", item.appearance
    else:
        type_text, appearance = item.type.value, item.appearance
    row: dict[str, Any] = {"type": type_text, "name": item.name}
    row.update(_texts(inst, "label", item.label))
    row.update(_texts(inst, "hint", item.hint))
    for band, text in item.label_bands.items():
        row.update(_texts(inst, f"label_{band}", text))
    for band, text in item.hint_bands.items():
        row.update(_texts(inst, f"hint_{band}", text))
    row.update(_texts(inst, "media::audio", item.media.audio))
    row.update(_texts(inst, "media::image", item.media.image))
    constraint = item.constraint
    if item.max_choices is not None and item.type is ItemType.SELECT_MULTIPLE and not constraint:
        constraint = f"count-selected(.) <= {item.max_choices}"
    row.update(
        {
            "relevant": item.relevance,
            "constraint": constraint,
            "appearance": appearance,
            "choice_filter": item.choice_filter,
            "default": item.default,
            "calculation": item.calculation,
            "parameters": " ".join(f"{k}={v}" for k, v in item.parameters.items()) or None,
            "sensitivity": item.sensitivity.name if item.sensitivity else None,
            "min_band": item.min_band,
            "max_band": item.max_band,
            "research_only": "yes" if item.research_only else None,
            "max_choices": item.max_choices,
            "allow_dont_know": "yes" if item.allow_dont_know else None,
            "shared": None if item.shared else "no",
            "band_choices": _pairs(item.band_choices),
            "minutes": item.minutes,
        }
    )
    row.update(_texts(inst, "constraint_message", item.constraint_message))
    return row


def _matrix_rows(inst: Instrument, item: Item) -> list[dict[str, Any]]:
    head = _item_row(inst, item)
    group = {
        k: v
        for k, v in head.items()
        if k
        not in (
            "type",
            "constraint",
            "choice_filter",
            "default",
            "calculation",
            "parameters",
            "max_choices",
            "appearance",
        )
    }
    group.update({"type": "begin_group", "appearance": "table-list", "matrix_rows": item.rows})
    rows = [group]
    for row_choice in inst.rows_for(item):
        child: dict[str, Any] = {"type": f"select_one {item.choices}", "name": matrix_key(item.name, row_choice.name)}
        child.update(_texts(inst, "label", row_choice.label))
        if item.band_choices:
            child["band_choices"] = _pairs(item.band_choices)
        rows.append(child)
    rows.append({"type": "end_group"})
    return rows


def _page_rows(inst: Instrument, page: Page, section: Section | None) -> list[dict[str, Any]]:
    if len(page.items) == 1 and page.items[0].name == page.name and not page.title and (not page.relevance):
        item = page.items[0]
        return _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
    head: dict[str, Any] = {
        "type": "begin_group",
        "name": page.name,
        "appearance": "field-list",
        "relevant": page.relevance,
    }
    head.update(_texts(inst, "label", page.title))
    rows = [head]
    for item in page.items:
        rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
    rows.append({"type": "end_group"})
    return rows


def _repeat_head(inst: Instrument, repeat: Repeat) -> dict[str, Any]:
    row: dict[str, Any] = {
        "type": "begin_repeat",
        "name": repeat.name,
        "repeat_count": repeat.count,
        "max_repeats": None if repeat.maximum == DEFAULT_MAX_REPEATS else repeat.maximum,
    }
    row.update(_texts(inst, "label", repeat.title))
    return row


def _pages_rows(inst: Instrument, pages: Iterable[Page], section: Section) -> list[dict[str, Any]]:
    """Rows of pages in order, with begin_repeat/end_repeat where their repeats change."""
    rows: list[dict[str, Any]] = []
    current: list[str] = []
    for page in pages:
        chain = [r.name for r in inst.repeat_chain(page.repeat)]
        while current and current != chain[: len(current)]:
            rows.append({"type": "end_repeat"})
            current.pop()
        while len(current) < len(chain):
            repeat = inst.repeat(chain[len(current)])
            rows.append(_repeat_head(inst, repeat))
            current.append(repeat.name)
        if page.name == page.repeat and not page.title:
            # a repeat shown as one page (field-list): its items sit right in the repeat
            rows[-1].update({"appearance": "field-list", "relevant": page.relevance})
            for item in page.items:
                rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
            continue
        rows += _page_rows(inst, page, section)
    rows += [{"type": "end_repeat"} for _ in current]
    return rows


def _section_rows(inst: Instrument, section: Section) -> list[dict[str, Any]]:
    extra: dict[str, Any] = {"skippable": "yes" if section.skippable else None}
    extra.update(_texts(inst, "notice", section.notice))
    if any(r.name == section.name and r.parent is None for r in inst.repeats):
        # a repeat at the top of the form
        rows = _pages_rows(inst, section.pages, section)
        rows[0].update(extra)
        rows[0]["relevant"] = _and(section.relevance, rows[0].get("relevant"))
        return rows
    if not section.grouped:
        return _pages_rows(inst, section.pages, section)
    if len(section.pages) == 1 and section.pages[0].name == section.name:
        page = section.pages[0]
        if len(page.items) == 1 and page.items[0].name == page.name and (page.items[0].type is ItemType.MATRIX):
            rows = _matrix_rows(inst, page.items[0])
            rows[0].update(extra)
            rows[0]["relevant"] = section.relevance
            return rows
        head = {
            "type": "begin_group",
            "name": section.name,
            "appearance": "field-list",
            "relevant": _and(section.relevance, page.relevance),
        }
        head.update(_texts(inst, "label", page.title or section.title))
        head.update(extra)
        rows = [head]
        for item in page.items:
            rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
        return [*rows, {"type": "end_group"}]
    head = {"type": "begin_group", "name": section.name, "relevant": section.relevance}
    head.update(_texts(inst, "label", section.title))
    head.update(extra)
    rows = [head, *_pages_rows(inst, section.pages, section)]
    return [*rows, {"type": "end_group"}]


def _context_names(inst: Instrument) -> set[str]:
    from instruments.expressions import CONTEXT_NAMES, ExpressionError, parse

    used: set[str] = set()
    texts = [s.relevance for s in inst.sections] + [p.relevance for p in inst.pages]
    for item in inst.items:
        texts += [item.relevance, item.constraint, item.choice_filter, item.calculation]
    for text in texts:
        if text:
            try:
                used |= parse(text).references & CONTEXT_NAMES
            except ExpressionError:
                continue
    return used


def export_xlsform(instrument: Instrument, target: str | os.PathLike[str] | BinaryIO) -> None:
    """Write ``instrument`` as an XLSForm workbook (.xlsx).

    The file opens in KoboToolbox and ODK (pyxform accepts it); Sauti's own
    columns carry what XLSForm lacks (sensitivity, bands, band variants,
    notices, language status), so importing the file again gives an
    instrument equal in meaning (and, for native instruments, equal).

    Examples
    --------
    >>> import io
    >>> from instruments import load_bundled
    >>> buffer = io.BytesIO()
    >>> export_xlsform(load_bundled(), buffer)
    >>> again = import_xlsform(buffer.getvalue()).instrument
    >>> again.content_hash == load_bundled().content_hash
    True
    """
    from openpyxl import Workbook

    inst = instrument
    survey = _Sheet(["type", "name"])
    for name in sorted(_context_names(inst)):
        # pyxform needs every ${name} to exist; the engine supplies these values
        survey.add({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
    for section in inst.sections:
        for row in _section_rows(inst, section):
            survey.add(row)
    choices = _Sheet(["list_name", "name"])
    for list_name, items in inst.choice_lists.items():
        for choice in items:
            choice_row: dict[str, Any] = {"list_name": list_name, "name": choice.name}
            choice_row.update(_texts(inst, "label", choice.label))
            choice_row.update(_texts(inst, "media::image", choice.media.image))
            choice_row.update(_texts(inst, "media::audio", choice.media.audio))
            # one plain column per language: pyxform cannot put translated custom
            # columns of the choices sheet into an XForm
            choice_row.update({f"alt_{code}": text for code, text in choice.alt.items()})
            choice_row.update(choice.extra)
            choices.add(choice_row)
    settings = _Sheet(["form_title", "form_id", "version", "default_language"])
    s = inst.settings
    settings_row: dict[str, Any] = {
        "form_title": inst.title.get_for(s.default_language) or inst.id,
        "form_id": inst.id,
        "version": inst.version,
        "default_language": _lang_header(inst, s.default_language),
        "sauti_mode": s.mode,
        "sauti_ethics_reference": s.ethics_reference,
        "sauti_audio_fallback": s.audio_fallback,
        "sauti_bands": " ".join(f"{b.code}={b.min_age}-{b.max_age}" for b in s.bands),
        "sauti_time_budget": _pairs(s.time_budget),
    }
    settings_row.update(
        {f"sauti_language::{_lang_header(inst, lang.code)}": lang.status.value for lang in inst.languages}
    )
    settings_row.update(_texts(inst, "sauti_title", inst.title))
    settings_row.update(_texts(inst, "sauti_description", inst.description))
    settings.add(settings_row)
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "survey"
    survey.write(sheet)
    choices.write(workbook.create_sheet("choices"))
    settings.write(workbook.create_sheet("settings"))
    workbook.save(target)

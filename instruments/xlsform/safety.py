"""Reading an XLSForm safely: size limits, then pre-checks before any parser sees the data
(zip bombs, XXE and entity expansion, row and cell counts, macros and embedded objects)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from instruments.errors import InstrumentError, Issue, IssueCode

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import (
    _ACTIVE_PARTS,
    _MACRO_PARTS,
    MAX_CELLS,
    MAX_CELLS_PER_ROW,
    MAX_CHOICE_ROWS,
    MAX_COMPRESSION_RATIO,
    MAX_LINE_CHARS,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_XLSFORM_BYTES,
    MAX_ZIP_ENTRIES,
    W,
    _err,
)


# ---------------------------------------------------------------------------
# 1. reading
# ---------------------------------------------------------------------------
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

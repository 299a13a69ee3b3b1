"""Helpers for the instrument tests: real workbooks written with openpyxl."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook


def workbook_bytes(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx with one sheet per key; each value is rows (header first)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def rewrite_zip(
    data: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """Copy an .xlsx, replacing or adding parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


SIMPLE_SHEETS = {
    "survey": [
        ["type", "name", "label", "relevant"],
        ["select_one yn", "likes", "Do you like school?", None],
        ["text", "why", "Why?", "${likes} = 'yes'"],
    ],
    "choices": [
        ["list_name", "name", "label"],
        ["yn", "yes", "Yes"],
        ["yn", "no", "No"],
    ],
}


@pytest.fixture
def simple_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "simple.xlsx"
    path.write_bytes(workbook_bytes(SIMPLE_SHEETS))
    return path

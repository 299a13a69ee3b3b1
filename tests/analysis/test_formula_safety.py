"""Spreadsheet formulas planted everywhere are neutralised in every export format.

Dangerous text (a leading =, +, -, @, tab or carriage return) is planted in answer codes,
answer labels, question texts, respondent values and table titles; the files are read back
with readers other than the ones that wrote them (the csv module, openpyxl, pyreadstat, and
DuckDB's Parquet reader: pyarrow is not a dependency). CSV, SPSS and Parquet cells carry a
leading apostrophe; XLSX cells are string cells, never formulas, and no sheet name starts with
a dangerous character. The report-from-export reader gets the original values back.
"""

from __future__ import annotations

import csv

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from analysis.disclosure import disclose
from analysis.exportfile import read_sauti_export
from analysis.exports import export_deidentified, write_csv, write_xlsx
from analysis.frames import ItemMeta, make_long
from analysis.sdc import MicrodataPolicy

DANGER = ("=", "+", "-", "@", "\t", "\r")
CODES = ("=1+1", "+2", "-3", "@4", "\tfive", "\rsix")
CB = {
    "q1": ItemMeta(
        "q1",
        "single",
        CODES,
        label="=SUM(A1:A9)",
        labels={c: f'=HYPERLINK("http://x/{i}","{i}")' for i, c in enumerate(CODES)},
    ),
    "m1": ItemMeta("m1", "multi", ("-x", "@y"), labels={"-x": "+minus", "@y": "@at"}, label="-pick"),
    "r1": ItemMeta("r1", "rank", ("=a", "+b", "ok"), labels={"=a": "\tA"}, label="@rank"),
    "s1": ItemMeta(
        "s1",
        "scale",
        ("1", "2", "3"),
        labels={"1": "-low", "3": "+high"},
        label="\rscale",
        positive=("3",),
        neutral="2",
    ),
}


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(9)
    n = 240
    rows = []
    for rid in range(1, n + 1):
        rows.append((rid, "q1", CODES[rid % len(CODES)], np.nan))
        rows += [(rid, "m1", c, np.nan) for c in ("-x", "@y") if rng.random() < 0.6]
        for pos, c in enumerate(rng.permutation(["=a", "+b", "ok"])[:2], start=1):
            rows.append((rid, "r1", c, float(pos)))
        rows.append((rid, "s1", str(1 + rid % 3), np.nan))
    df = pd.DataFrame(rows, columns=["response_id", "item", "answer", "rank"])
    who = pd.DataFrame(
        {
            "response_id": range(1, n + 1),
            "band": ["=A" if i % 2 else "+B" for i in range(n)],
            "gender": ["@girl" if i % 3 else "-boy" for i in range(n)],
            "site": ["=cmd|' /C calc'!A0" if i % 2 else "@site" for i in range(n)],
        }
    )
    return make_long(df.merge(who, on="response_id"), codebook=CB)


def _bad(text) -> bool:
    return isinstance(text, str) and text.startswith(DANGER)


def test_csv_export_codebook_risk_and_log(tmp_path, planted):
    files, _ = export_deidentified(
        planted, tmp_path, fmt="csv", codebook=CB, keys=("band", "gender"), policy=MicrodataPolicy(k=5), seed=1
    )
    assert {f.name for f in files} >= {"sauti_export.csv", "sauti_export_codebook.csv", "sauti_export_risk.csv"}
    seen = 0
    for f in files:
        with f.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not _bad(cell), (f.name, cell)
                    seen += cell.startswith("'") and cell[1:].startswith(DANGER)
    assert seen > 200  # the planted text is there, neutralised
    back, cb = read_sauti_export(files[0])
    assert set(back["answer"].dropna().astype(str)) >= set(CODES) | {"-x", "@y", "=a", "+b"}
    assert set(back["band"].dropna().astype(str)) == {"=A", "+B"}
    assert cb["q1"].label == "=SUM(A1:A9)" and cb["m1"].labels["-x"] == "+minus"


def test_xlsx_export_has_no_formula_and_no_dangerous_sheet_name(tmp_path, planted):
    files, _ = export_deidentified(
        planted, tmp_path, fmt="xlsx", codebook=CB, keys=("band", "gender"), policy=MicrodataPolicy(k=5), seed=1
    )
    report = write_xlsx(
        tmp_path / "tables.xlsx",
        [
            disclose(pd.DataFrame({"=x": [40, 50]}, index=["@a", "+b"]), title="=cmd|' /C calc'!A0"),
            disclose(pd.DataFrame({"y": [40]}), title="-2+3"),
        ],
        notes={"=note": "@x"},
    )
    strings = 0
    for path in (files[0], report):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            assert not ws.title.startswith(DANGER + ("'",)), ws.title
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate, cell.value)
                    strings += _bad(cell.value) and cell.data_type == "s"
    assert strings > 100  # dangerous text stays as plain string cells (never evaluated)
    back, _ = read_sauti_export(files[0])
    assert set(back["gender"].dropna().astype(str)) == {"@girl", "-boy"}


def test_spss_values_and_labels(tmp_path, planted):
    files, _ = export_deidentified(
        planted, tmp_path, fmt="sav", codebook=CB, keys=("band", "gender"), policy=MicrodataPolicy(k=5), seed=1
    )
    frame, meta = pyreadstat.read_sav(str(files[0]))
    for label in meta.column_labels:
        assert not _bad(label), label
    for column in frame.columns:
        if frame[column].dtype == object:
            bad = [v for v in frame[column] if _bad(v)]
            assert not bad, (column, bad[:3])
    assert {"'=1+1", "'+2", "'\rsix"} <= set(frame["q1"]) and {"'=A", "'+B"} == set(frame["band"])
    back, _ = read_sauti_export(files[0])
    assert set(back["answer"].dropna().astype(str)) >= set(CODES)


def test_parquet_text_columns_and_names(tmp_path, planted):
    files, _ = export_deidentified(
        planted, tmp_path, fmt="parquet", codebook=CB, keys=("band", "gender"), policy=MicrodataPolicy(k=5), seed=1
    )
    with duckdb.connect() as con:
        rel = con.execute("SELECT * FROM read_parquet(?)", [str(files[0])])
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    assert not [n for n in names if _bad(n)]
    bad = [v for row in rows for v in row if _bad(v)]
    assert not bad, bad[:5]
    assert any(v == "'=1+1" for row in rows for v in row)
    back, _ = read_sauti_export(files[0])
    assert set(back["band"].dropna().astype(str)) == {"=A", "+B"}


def test_released_table_csv(tmp_path):
    path = write_csv(tmp_path / "t.csv", disclose(pd.DataFrame({"=x": [40, 50]}, index=["@a", "\tb"]), title="+t"))
    with path.open(newline="", encoding="utf-8") as fh:
        assert not [c for row in csv.reader(fh) for c in row if _bad(c)]

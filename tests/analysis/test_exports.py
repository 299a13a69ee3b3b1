"""Exports: formula neutralisation in every cell, released-only, microdata with codebook."""

import csv

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest

from analysis.disclosure import disclose
from analysis.exports import (
    codebook_frame,
    export_deidentified,
    neutralise,
    write_csv,
    write_microdata,
    write_report_xlsx,
    write_xlsx,
)
from analysis.frames import ItemMeta
from analysis.sdc import release_microdata

EVIL = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x","y")']


def evil_table():
    t = pd.DataFrame({e: [40 + i, 30 + i] for i, e in enumerate(EVIL[:4])}, index=["=A1", "@row"])
    return disclose(t, title="=cmd|' /C calc'!A0")


@pytest.mark.parametrize("value", EVIL)
def test_neutralise(value):
    assert neutralise(value) == "'" + value
    assert neutralise(12) == 12 and neutralise("safe") == "safe"


def test_xlsx_cells_are_never_formulas(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [evil_table()], notes={"=note": "@x"})
    wb = openpyxl.load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@\t\r":
                    seen += 1
    assert seen >= 6  # the dangerous texts are there, as plain strings
    ws = wb.worksheets[0]
    assert ws["A1"].value == "=cmd|' /C calc'!A0" and ws["A1"].data_type == "s"


def test_csv_cells_get_an_apostrophe(tmp_path):
    path = write_csv(tmp_path / "t.csv", evil_table())
    with path.open(newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")), repr(c)
    assert "'=1+1" in cells and "'@row" in cells


def test_unreleased_tables_cannot_be_exported(tmp_path):
    raw = pd.DataFrame({"yes": [3, 40], "no": [50, 60]})
    with pytest.raises(TypeError):
        write_xlsx(tmp_path / "x.xlsx", [raw])
    with pytest.raises(TypeError):
        write_csv(tmp_path / "x.csv", raw)
    rel = disclose(raw)
    write_xlsx(tmp_path / "ok.xlsx", [rel])
    ws = openpyxl.load_workbook(tmp_path / "ok.xlsx").worksheets[0]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert 3 not in values and "s" in values


def test_microdata_export_with_codebook(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "band": rng.choice(["A", "B"], n),
            "gender": rng.choice(["girl", "boy"], n),
            "site": rng.choice(["x", "y"], n),
            "q1": rng.choice(["yes", "no", "=evil"], n),
        }
    )
    cb = {"q1": ItemMeta("q1", "single", ("yes", "no", "=evil"), label="Heard of it?")}
    rel = release_microdata(df, ["band", "gender", "site"], seed=3)
    files = write_microdata(rel, tmp_path / "csv", cb, fmt="csv")
    assert [f.name for f in files] == ["sauti_export.csv", "sauti_export_codebook.csv", "sauti_export_risk.csv"]
    text = files[0].read_text()
    assert "'=evil" in text and "\n=evil" not in text and ",=evil" not in text
    book = pd.read_csv(files[1])
    assert set(book["variable"]) == {"band", "gender", "site", "q1"}
    assert book.set_index("variable").loc["band", "class"] == "quasi_identifier"
    (x,) = write_microdata(rel, tmp_path / "xlsx", cb, fmt="xlsx")
    wb = openpyxl.load_workbook(x)
    assert wb.sheetnames == ["data", "codebook", "risk"]
    assert all(c.data_type != "f" for ws in wb.worksheets for r in ws.iter_rows() for c in r)
    pq = write_microdata(rel, tmp_path / "pq", cb, fmt="parquet")[0]
    back = duckdb.execute("SELECT count(*) FROM read_parquet(?)", [str(pq)]).fetchone()[0]
    assert back == n
    with pytest.raises(TypeError):
        write_microdata(df, tmp_path, cb)


def test_codebook_frame_multi_and_rank():
    cb = {"m": ItemMeta("m", "multi", ("a", "b"), labels={"a": "Alpha"}, label="Pick")}
    f = codebook_frame(cb, ["band", "m/a", "m/_rns"])
    assert f["label"].tolist() == ["band", "Pick: Alpha", "Pick: I'd rather not say"]


def test_report_workbook(tmp_path):
    from analysis.report import build_report
    from analysis.synthetic import synthetic_long

    rep = build_report(synthetic_long(600, n_items=6, seed=2), charts_on=False)
    path = write_report_xlsx(rep, tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames) == len(rep.released_tables()) + 2
    assert "SDC log" in wb.sheetnames


def test_export_deidentified_end_to_end(tmp_path):
    from analysis.disclosure import DisclosureError
    from analysis.sdc import risk_report
    from analysis.synthetic import synthetic_long

    long = synthetic_long(3000, n_items=6, n_sites=10, seed=8)
    # with the site as a key, 3,000 children spread over ~270 keys: global risk > 3 %
    with pytest.raises(DisclosureError, match="global risk"):
        export_deidentified(long, tmp_path / "refused", seed=1)
    files, rel = export_deidentified(long, tmp_path, fmt="csv", seed=1, keys=("band", "gender", "disability"))
    names = [f.name for f in files]
    assert names[:3] == ["sauti_export.csv", "sauti_export_codebook.csv", "sauti_export_risk.csv"]
    assert "sauti_export_treatment_log.csv" in names
    data = pd.read_csv(files[0], dtype=str)
    assert len(data) == 3000 and "response_id" not in data.columns
    assert "site" not in data.columns and "language" not in data.columns  # not risk-checked
    assert "another or rather not say" in set(data["gender"].dropna())
    rep = risk_report(rel.frame, ["band", "gender", "disability"])
    assert rep.k_violations[5] == 0 and rep.global_risk < 0.03


def test_spss_export_reads_back_with_pyreadstat(tmp_path):
    import pyreadstat

    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame(
        {
            "band": rng.choice(["A", "B"], n),
            "gender": rng.choice(["girl", "boy"], n),
            "site": rng.choice(["x", "y"], n),
            "TR1/friend": rng.choice(["0", "1"], n),
            "q1": rng.choice(["yes", "no", "_rns"], n),
        }
    )
    cb = {"q1": ItemMeta("q1", "single", ("yes", "no"), label="Heard of it?")}
    rel = release_microdata(df, ["band", "gender", "site"], seed=3)
    files = write_microdata(rel, tmp_path / "sav", cb, fmt="sav")
    assert [f.name for f in files] == ["sauti_export.sav", "sauti_export_codebook.csv", "sauti_export_risk.csv"]
    back, meta = pyreadstat.read_sav(str(files[0]))
    assert len(back) == n
    # SPSS names are plain; the original names travel as variable labels.
    assert "TR1_friend" in back.columns
    assert meta.column_names_to_labels["TR1_friend"] == "TR1/friend"
    released = rel.frame.reset_index(drop=True)
    assert list(back["q1"]) == list(released["q1"].astype(str))

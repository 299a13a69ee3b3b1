"""`sauti report --from-export`: the report from a file `sauti export` wrote, through the same gate."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from tests.conftest import World
from tests.survey.test_reports import answered_many, approve_exports  # noqa: F401 - a fixture


def _sheets(path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()


def _item_sheets(sheets: dict[str, list[tuple]], items: set[str]) -> dict[str, list[tuple]]:
    # A question's table is titled "<question> (<n> children asked)"; band or gender breakdowns
    # ("<question>, by gender") are not compared, since the export merges and locally suppresses
    # those key columns.
    return {
        rows[0][0]: rows
        for rows in sheets.values()
        if rows and isinstance(rows[0][0], str) and rows[0][0].endswith(" children asked)")
    }


def test_report_from_each_export_format_matches_the_database_report(
    app,
    runner,
    answered_many: World,  # noqa: F811 - the fixture
    tmp_path,
) -> None:
    consultation = answered_many.consultation
    assert runner.invoke(args=["release", "make", str(consultation)]).exit_code == 0
    approve_exports(answered_many)  # the test instrument has S2 items (DP-07)
    db_report = runner.invoke(args=["report", str(consultation), "--format", "xlsx", "--out", str(tmp_path)])
    assert db_report.exit_code == 0, db_report.output
    want = _sheets(tmp_path / f"consultation-{consultation}-report.xlsx")
    compared = 0
    for fmt in ("csv", "xlsx", "sav", "parquet"):
        folder = tmp_path / fmt
        exported = runner.invoke(args=["export", str(consultation), "--format", fmt, "--out", str(folder)])
        assert exported.exit_code == 0, exported.output
        export = folder / f"consultation-{consultation}-export.{fmt}"
        codebook = [] if fmt == "xlsx" else ["--codebook", str(folder / f"consultation-{consultation}-codebook.csv")]
        result = runner.invoke(
            args=["report", "--from-export", str(export), *codebook, "--format", "xlsx", "--out", str(folder / "out")]
        )
        assert result.exit_code == 0, result.output
        assert "Read " in result.output and "children" in result.output  # progress on stderr
        got = _sheets(folder / "out" / f"consultation-{consultation}-export-report.xlsx")
        items = set(pd.read_csv(tmp_path / "csv" / f"consultation-{consultation}-codebook.csv")["item"].dropna())
        want_items, got_items = _item_sheets(want, items), _item_sheets(got, items)
        assert want_items and set(got_items) == set(want_items), fmt
        for title, rows in want_items.items():
            assert got_items[title] == rows, (fmt, title)
        compared += len(want_items)
    assert compared >= 4 * 6
    # The HTML and PDF come from the same file too (the codebook found next to the CSV).
    for fmt in ("html", "pdf"):
        result = runner.invoke(
            args=[
                "report",
                "--from-export",
                str(tmp_path / "csv" / f"consultation-{consultation}-export.csv"),
                "--format",
                fmt,
                "--out",
                str(tmp_path / "more"),
            ]
        )
        assert result.exit_code == 0, result.output
    html = (tmp_path / "more" / f"consultation-{consultation}-export-report.html").read_text(encoding="utf-8")
    assert "<h1>" in html and "participant" not in html.lower()
    assert (tmp_path / "more" / f"consultation-{consultation}-export-report.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not,a,sauti\nexport,at,all\n", "codebook was not found"),
        (b"\xff\xfe\x00garbage", "not a UTF-8 text file"),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message(app, runner, tmp_path, content, message) -> None:
    path = tmp_path / "thing.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["report", "--from-export", str(path), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "cannot be used for a report" in result.output
    assert message in result.output and "Traceback" not in result.output


def test_report_needs_exactly_one_source(app, runner, tmp_path) -> None:
    neither = runner.invoke(args=["report", "--out", str(tmp_path)])
    assert neither.exit_code == 2 and "either a CONSULTATION_ID or --from-export" in neither.output
    both = runner.invoke(args=["report", "1", "--from-export", str(tmp_path / "x.csv")])
    assert both.exit_code == 2
    stray = runner.invoke(args=["report", "1", "--codebook", str(tmp_path / "x.csv")])
    assert stray.exit_code == 2 and "--codebook goes with --from-export" in stray.output


def test_a_small_file_releases_nothing(app, runner, tmp_path) -> None:
    pd.DataFrame({"record": [1, 2, 3], "q": ["a", "b", "a"]}).to_csv(tmp_path / "few.csv", index=False)
    pd.DataFrame(
        {
            "variable": ["q"],
            "item": ["q"],
            "label": ["Q"],
            "type": ["single"],
            "values": ["a = A; b = B"],
            "class": ["other"],
        }
    ).to_csv(tmp_path / "few_codebook.csv", index=False)
    result = runner.invoke(args=["report", "--from-export", str(tmp_path / "few.csv"), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "Fewer than 10 children" in result.output
    assert not list(tmp_path.glob("*-report.*"))

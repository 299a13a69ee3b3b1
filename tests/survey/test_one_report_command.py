"""`sauti report --from-export` and `python -m analysis.cli report` read a file with one loader and
set k one way (the deployment's DISCLOSURE_K, or --k): the same file gives the same tables."""

from __future__ import annotations

import openpyxl
import pytest

from analysis.cli import main as analysis_main
from analysis.exports import export_deidentified
from analysis.sdc import MicrodataPolicy
from analysis.synthetic import synthetic_codebook, synthetic_long


def _tables(path) -> dict[str, list[tuple]]:
    """Every table of a report workbook by its title (the notes sheet names the file: left out)."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {
            ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)]
            for ws in book.worksheets
            if ws.title != "Notes"
        }
    finally:
        book.close()


@pytest.fixture(scope="module")
def export_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    files, _ = export_deidentified(
        synthetic_long(800, n_items=6, n_sites=3, seed=2),
        folder,
        fmt="csv",
        codebook=synthetic_codebook(6),
        policy=MicrodataPolicy(k=10),
        seed=1,
    )
    return files[0]


def _both(make_app, monkeypatch, tmp_path, export_file, k: int, args: list[str]):
    monkeypatch.setenv("SAUTI_DISCLOSURE_K", str(k))
    tmp_path.mkdir(exist_ok=True)
    analysis_xlsx = tmp_path / "analysis.xlsx"
    assert (
        analysis_main(
            [
                "report",
                "--input",
                str(export_file),
                "--out",
                str(tmp_path / "a.html"),
                "--xlsx",
                str(analysis_xlsx),
                *args,
            ]
        )
        == 0
    )
    app = make_app(DISCLOSURE_K=k)
    result = app.test_cli_runner().invoke(
        args=["report", "--from-export", str(export_file), "--format", "xlsx", "--out", str(tmp_path / "sauti"), *args]
    )
    assert result.exit_code == 0, result.output
    return _tables(analysis_xlsx), _tables(tmp_path / "sauti" / f"{export_file.stem}-report.xlsx")


def test_the_deployments_k_gives_the_same_tables_in_both_commands(make_app, monkeypatch, tmp_path, export_file) -> None:
    from_analysis, from_sauti = _both(make_app, monkeypatch, tmp_path, export_file, 20, [])
    assert len(from_sauti) >= 10 and from_analysis == from_sauti
    _, at_default = _both(make_app, monkeypatch, tmp_path / "ten", export_file, 10, [])
    assert at_default != from_sauti  # k changed what is shown


def test_k_on_the_command_line_is_the_same_option_in_both(make_app, monkeypatch, tmp_path, export_file) -> None:
    from_analysis, from_sauti = _both(make_app, monkeypatch, tmp_path, export_file, 10, ["--k", "20"])
    deployment_20, _ = _both(make_app, monkeypatch, tmp_path / "env", export_file, 20, [])
    assert from_analysis == from_sauti == deployment_20

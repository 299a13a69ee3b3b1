"""The analysis command line, end to end on a synthetic export."""

import json

import openpyxl

from analysis.cli import main


def test_demo_then_report(tmp_path, capsys):
    export = tmp_path / "export.csv"
    cb = tmp_path / "codebook.json"
    assert main(["demo", "--out", str(export), "--codebook", str(cb), "--n", "700"]) == 0
    inputs = tmp_path / "inputs.json"
    inputs.write_text(
        json.dumps({"funnel": {"invited": 900, "completed": 650}, "safeguarding": {"talk to someone": 3}})
    )
    out = tmp_path / "report.html"
    xlsx = tmp_path / "report.xlsx"
    assert (
        main(
            [
                "report",
                "--input",
                str(export),
                "--codebook",
                str(cb),
                "--out",
                str(out),
                "--xlsx",
                str(xlsx),
                "--inputs",
                str(inputs),
                "--title",
                "Demo",
            ]
        )
        == 0
    )
    html = out.read_text()
    assert "<h1>Demo</h1>" in html and "not recorded" in html
    assert openpyxl.load_workbook(xlsx).sheetnames[-1] == "SDC log"
    err = capsys.readouterr().err
    assert "wrote" in err and "s]" in err  # progress lines
    assert main(["risk", "--input", str(export), "--codebook", str(cb)]) == 0
    assert "global risk" in capsys.readouterr().out


def test_report_refuses_low_k(tmp_path, capsys):
    export = tmp_path / "e.csv"
    main(["demo", "--out", str(export), "--n", "100"])
    assert main(["report", "--input", str(export), "--out", str(tmp_path / "r.html"), "--k", "3"]) == 2
    assert "minimum of 5" in capsys.readouterr().err


def test_export_command(tmp_path, capsys):
    export = tmp_path / "e.csv"
    main(["demo", "--out", str(export), "--n", "2500"])
    assert main(["export", "--input", str(export), "--out-dir", str(tmp_path / "out"), "--format", "xlsx"]) == 0
    assert (tmp_path / "out" / "sauti_export.xlsx").exists()
    assert "global risk" in capsys.readouterr().out
    assert (
        main(["export", "--input", str(export), "--out-dir", str(tmp_path / "o2"), "--keys", "band", "gender", "site"])
        == 2
    )  # too risky: refused


def test_report_from_a_sauti_export_file(tmp_path, capsys):
    from analysis.exports import export_deidentified
    from analysis.sdc import MicrodataPolicy
    from analysis.synthetic import synthetic_codebook, synthetic_long

    files, _ = export_deidentified(
        synthetic_long(800, n_items=8, n_sites=3, seed=2),
        tmp_path,
        fmt="sav",
        codebook=synthetic_codebook(8),
        policy=MicrodataPolicy(k=10),
        seed=1,
    )
    out = tmp_path / "report.html"
    assert main(["report", "--input", str(files[0]), "--out", str(out), "--no-charts"]) == 0
    html = out.read_text()
    assert "How easy would it be? (q01)" in html and "from the answers of 800 children" in html
    (tmp_path / "broken.sav").write_bytes(b"not spss")
    assert main(["report", "--input", str(tmp_path / "broken.sav"), "--out", str(out)]) == 2
    assert "not a readable SPSS" in capsys.readouterr().err

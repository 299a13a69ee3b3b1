"""A report from an export file: every format Sauti writes reads back to the same item tables."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.exportfile import read_codebook_file, read_sauti_export
from analysis.exports import export_deidentified
from analysis.frames import ItemMeta, make_long
from analysis.report import build_report
from analysis.sdc import MicrodataPolicy
from analysis.synthetic import synthetic_codebook, synthetic_long

POLICY = DisclosurePolicy(k=10)


@pytest.fixture(scope="module")
def consultation():
    long = synthetic_long(1500, n_items=12, n_sites=4, seed=11)
    cb = synthetic_codebook(12)
    ref = build_report(long, codebook=cb, policy=POLICY, charts_on=False)
    return long, cb, {t.title: t for t in ref.released_tables()}


def _item_tables(tables: dict) -> dict:
    # Overall item tables: frequencies, the ranked item, design effects by site.
    return {
        k: t.display for k, t in tables.items() if t.kind == "frequencies" or k.startswith(("q10:", "Design effects"))
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "parquet"])
def test_every_export_format_gives_back_the_same_item_tables(tmp_path, consultation, fmt):
    long, cb, ref = consultation
    files, released = export_deidentified(long, tmp_path, fmt=fmt, codebook=cb, policy=MicrodataPolicy(k=10), seed=5)
    back, cb_back = read_sauti_export(files[0])
    assert back["response_id"].nunique() == long["response_id"].nunique() == len(released.frame)
    # The codebook travels whole: positive/neutral codes, sensitivity and domain are kept.
    assert cb_back == cb
    assert all(cb_back[n].positive == cb[n].positive and cb_back[n].domain == cb[n].domain for n in cb)
    rep = build_report(back, codebook=cb_back, policy=POLICY, charts_on=False)
    got = _item_tables({t.title: t for t in rep.released_tables()})
    want = _item_tables(ref)
    assert len(want) == 13 and set(got) == set(want)
    for title, table in want.items():
        pd.testing.assert_frame_equal(got[title], table, obj=title)


def test_neutralised_codes_and_band_variants_survive_the_round_trip(tmp_path):
    cb = {
        "EV1": ItemMeta(
            "EV1", "scale", ("no", "bit", "some", "most", "all"), band_choices={"A": ("nah", "lot")}, label="=SUM(A1)"
        ),
        "X": ItemMeta("X", "single", ("-1", "+2", "@3"), labels={"-1": "=minus"}),
    }
    n = 90
    df = pd.DataFrame(
        {
            "response_id": list(range(1, n + 1)) * 2,
            "item": ["EV1"] * n + ["X"] * n,
            "answer": [("lot" if i % 2 else "nah") if i < 30 else "most" for i in range(n)]
            + [("-1", "+2", "@3")[i % 3] for i in range(n)],
            "band": [("A" if i < 30 else "B") for i in range(n)] * 2,
        }
    )
    long = make_long(df, codebook=cb)
    for fmt in ("csv", "xlsx", "sav", "parquet"):
        files, _ = export_deidentified(
            long, tmp_path / fmt, fmt=fmt, codebook=cb, keys=("band",), policy=MicrodataPolicy(k=10), seed=1
        )
        back, cb_back = read_sauti_export(files[0])
        assert cb_back["EV1"].band_choices == {"A": ("nah", "lot")}
        assert cb_back["EV1"].label == "=SUM(A1)" and cb_back["X"].labels["-1"] == "=minus"
        counts = back.groupby(["item", "answer"], observed=True).size().to_dict()
        assert counts == {
            ("EV1", "nah"): 15,
            ("EV1", "lot"): 15,
            ("EV1", "most"): 60,
            ("X", "-1"): 30,
            ("X", "+2"): 30,
            ("X", "@3"): 30,
        }, fmt


def test_wrong_or_mangled_files_are_refused_with_a_reason(tmp_path, consultation):
    long, cb, _ = consultation
    files, _ = export_deidentified(long, tmp_path, fmt="csv", codebook=cb, policy=MicrodataPolicy(k=10), seed=5)
    data, codebook = files[0], files[1]
    cases = {}
    (tmp_path / "notes.txt").write_text("hello")
    cases["notes.txt"] = "a Sauti export is a"
    cases["missing.csv"] = "no such file"
    (tmp_path / "junk.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    cases["junk.xlsx"] = "not a readable .xlsx"
    (tmp_path / "junk.sav").write_bytes(b"$FL2 broken")
    cases["junk.sav"] = "not a readable SPSS"
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 broken")
    cases["junk.parquet"] = "not a readable Parquet"
    (tmp_path / "long.csv").write_text("response_id,item,answer\n1,q01,3\n")
    cases["long.csv"] = "codebook was not found"
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message):
            read_sauti_export(tmp_path / name)
    # A codebook that is not one, a codebook of another consultation, a changed answer code.
    with pytest.raises(ValueError, match="not a Sauti codebook"):
        read_sauti_export(data, codebook=tmp_path / "long.csv")
    other = tmp_path / "other_codebook.csv"
    pd.DataFrame({"variable": ["zz"], "item": ["zz"], "type": ["single"], "values": ["a = A"]}).to_csv(
        other, index=False
    )
    with pytest.raises(ValueError, match="none of its columns are items"):
        read_sauti_export(data, codebook=other)
    frame = pd.read_csv(data, dtype=str)
    frame.loc[3, "q01"] = "7"
    frame.to_csv(tmp_path / "changed.csv", index=False)
    with pytest.raises(ValueError, match="does not match its codebook"):
        read_sauti_export(tmp_path / "changed.csv", codebook=codebook)
    frame = pd.read_csv(data, dtype=str).drop(columns="record")
    frame.to_csv(tmp_path / "norecord.csv", index=False)
    with pytest.raises(ValueError, match="no 'record' column"):
        read_sauti_export(tmp_path / "norecord.csv", codebook=codebook)
    assert set(read_codebook_file(codebook)) == set(cb)

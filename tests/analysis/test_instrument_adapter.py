"""The bundled instrument through the adapter, band variants, and a full report."""

import re

import pandas as pd
import pytest

from analysis.frames import ItemMeta, codebook_from_instrument, make_long, split_band_variants
from analysis.report import ReportInputs, build_report, render_html
from analysis.synthetic import synthetic_from_codebook


@pytest.fixture(scope="module")
def codebook():
    # The bundled instrument is ours: if it cannot be loaded, these tests fail (never skip).
    from instruments.bundled import load_bundled

    return codebook_from_instrument(load_bundled())


def test_adapter_maps_types_rows_and_band_lists(codebook):
    assert codebook["CX1"].type == "multi"
    assert codebook["EV1"].type == "scale" and codebook["EV1"].band_choices["A"]
    assert codebook["EV1"].positive == codebook["EV1"].choices[3:]
    assert "CH2_chat" in codebook and codebook["CH2_chat"].type == "scale"
    assert codebook["CH2_chat"].domain == "CH"
    assert all(not set(m.choices) & {"_rns", "_dk"} for m in codebook.values())


def test_split_band_variants_counts():
    cb = {
        "EV1": ItemMeta("EV1", "scale", ("no", "bit", "some", "most", "all"), band_choices={"A": ("no", "bit", "lot")})
    }
    df = pd.DataFrame(
        {
            "response_id": range(8),
            "item": "EV1",
            "band": ["A", "A", "A", "B", "B", "C", "C", "A"],
            "answer": ["lot", "no", "_rns", "most", "all", "no", "some", "bit"],
        }
    )
    long, cb2 = split_band_variants(make_long(df, cb))
    got = long.groupby(["item", "band"], observed=True).size().to_dict()
    assert got == {("EV1", "B"): 2, ("EV1", "C"): 2, ("EV1[A]", "A"): 4}
    assert cb2["EV1[A]"].neutral == "bit" and cb2["EV1[A]"].positive == ("lot",)
    assert not cb2["EV1"].band_choices


def test_full_report_on_the_bundled_instrument(codebook):
    long = synthetic_from_codebook(codebook, 1500, seed=4)
    rep = build_report(long, ReportInputs(title="Reporting mechanisms"), codebook=codebook)
    html = render_html(rep)
    lundy = next(s for s in rep.sections if s.title.startswith("Quality"))
    table = lundy.blocks[0].data
    assert set(table["band"]) == {"A", "B", "C"}  # band A counted through EV1[A]
    assert table["% positive"].notna().all()
    assert "EV1[A]" in html and len(re.findall(r"<figure>", html)) > 10


def test_lundy_indicators_on_the_bundled_instrument_use_its_evaluation_items(codebook):
    long = synthetic_from_codebook(codebook, 1500, seed=5)
    rep = build_report(long, ReportInputs(title="Reporting mechanisms"), codebook=codebook)
    lundy = next(s for s in rep.sections if s.title.startswith("Quality"))
    assert [b.title for b in lundy.blocks] == ["Lundy indicators"]  # nothing "not recorded"
    table = lundy.blocks[0].data
    assert set(table["element"]) == {"Space", "Voice", "Audience", "Influence"}
    # Audience is the yes/no item EV3: its indicator is the share of "yes" among valid answers.
    answers = long[long["item"] == "EV3"]
    for band, group in answers.groupby("band", observed=True):
        valid = group[~group["answer"].isin(["_rns", "_dk"]) & group["answer"].notna()]
        if len(valid) < 50:
            continue
        expected = 100 * (valid["answer"] == "yes").mean()
        row = table[(table["element"] == "Audience") & (table["band"] == band)]
        assert abs(float(row["% positive"].iloc[0]) - expected) < 0.51

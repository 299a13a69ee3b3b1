"""Frames and descriptives, checked against statsmodels and published values."""

import sqlite3

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import DK, RNS, ItemMeta, frequencies, make_long, proportion_ci, to_wide
from analysis.descriptives import count_codes
from analysis.frames import read_database, read_export, write_parquet
from analysis.synthetic import synthetic_long

CB = [
    ItemMeta("q1", "single", ("yes", "no", "not_sure")),
    ItemMeta("q2", "multi", ("tv", "radio", "phone")),
    ItemMeta("q3", "scale", ("1", "2", "3", "4", "5")),
]


def fixture_long():
    rows = [
        # id, band, gender, item, answer
        (1, "A", "girl", "q1", "yes"),
        (1, "A", "girl", "q2", "tv"),
        (1, "A", "girl", "q2", "radio"),
        (2, "A", "boy", "q1", "no"),
        (2, "A", "boy", "q2", RNS),
        (3, "B", "girl", "q1", RNS),
        (3, "B", "girl", "q2", "tv"),
        (3, "B", "girl", "q3", "4"),
        (4, "B", "boy", "q1", DK),
        (4, "B", "boy", "q3", "5"),
        (5, "B", "girl", "q1", "yes"),
        (5, "B", "girl", "q2", "phone"),
        (5, "B", "girl", "q3", None),
    ]
    df = pd.DataFrame(rows, columns=["response_id", "band", "gender", "item", "answer"])
    return make_long(df, codebook=CB)


@pytest.mark.parametrize("method,sm", [("wilson", "wilson"), ("exact", "beta")])
def test_proportion_ci_matches_statsmodels(method, sm):
    ks = np.array([0, 1, 3, 7, 12, 25, 50, 99, 100])
    ns = np.array([12, 10, 40, 50, 12, 25, 1000, 100, 100])
    low, high = proportion_ci(ks, ns, method=method)
    ref_low, ref_high = proportion_confint(ks, ns, alpha=0.05, method=sm)
    np.testing.assert_allclose(low, ref_low, atol=1e-10)
    np.testing.assert_allclose(high, ref_high, atol=1e-10)


def test_proportion_ci_published_values():
    # B1: k=7, n=50 Wilson [0.0695, 0.2619], exact [0.0582, 0.2674]; 0/12 upper 0.2425
    lo, hi = proportion_ci(7, 50)
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0695, 0.2619)
    lo, hi = proportion_ci(7, 50, method="exact")
    assert (round(float(lo), 4), round(float(hi), 4)) == (0.0582, 0.2674)
    lo, hi = proportion_ci(0, 12)
    assert float(lo) == 0 and round(float(hi), 4) == 0.2425
    lo, hi = proportion_ci(0, 0)
    assert np.isnan(lo) and np.isnan(hi)
    with pytest.raises(ValueError, match="Wald"):
        proportion_ci(1, 2, method="normal")


def test_long_frame_schema_and_reserved_codes():
    long = fixture_long()
    assert list(long.columns) == [
        "response_id",
        "consultation",
        "item",
        "answer",
        "band",
        "gender",
        "disability",
        "disability_method",
        "setting",
        "language",
        "site",
    ]
    assert list(long["answer"].cat.categories)[-2:] == [RNS, DK]
    assert isinstance(long["band"].dtype, pd.CategoricalDtype)
    with pytest.raises(ValueError, match="not choices"):
        make_long(pd.DataFrame({"response_id": [1], "item": ["q1"], "answer": ["maybe"]}), codebook=CB)
    with pytest.raises(ValueError, match="reserved"):
        ItemMeta("x", "single", ("a", RNS))


def test_reserved_codes_match_instruments():
    import instruments.model as model  # ours: a broken import fails this test, it never skips

    assert (model.RATHER_NOT_SAY, model.DONT_KNOW) == (RNS, DK)


def test_to_wide():
    wide = to_wide(fixture_long())
    assert list(wide.index) == [1, 2, 3, 4, 5]
    assert wide.loc[3, "q1"] == RNS and wide.loc[4, "q1"] == DK  # distinct, not missing
    assert pd.isna(wide.loc[5, "q3"]) and pd.isna(wide.loc[1, "q3"])
    assert wide["q2/tv"].tolist() == [True, False, True, False, False]
    assert wide["q2/_rns"].tolist() == [False, True, False, False, False]
    assert list(wide["q3"].cat.categories) == ["1", "2", "3", "4", "5", RNS, DK]
    assert wide.loc[2, "gender"] == "boy"


def test_frequencies_known_mix():
    t = frequencies(fixture_long()).set_index(["item", "answer"])
    # q1: yes 2, no 1, rns 1, dk 1 -> valid denominator 3, any denominator 5 (B2)
    assert t.loc[("q1", "yes"), ["count", "denominator"]].tolist() == [2, 3]
    assert t.loc[("q1", RNS), ["count", "denominator", "kind"]].tolist() == [1, 5, "rns"]
    assert t.loc[("q1", DK), ["count", "denominator", "kind"]].tolist() == [1, 5, "dk"]
    assert t.loc[("q1", "not_sure"), "count"] == 0
    # q2 multi: respondents 1,3,5 chose something (3), respondent 2 said rns
    assert t.loc[("q2", "tv"), ["count", "denominator", "percent"]].tolist() == [2, 3, 66.7]
    assert t.loc[("q2", RNS), ["count", "denominator"]].tolist() == [1, 4]
    # q3: 4 and 5; respondent 5 skipped (missing answer) is in no denominator
    assert t.loc[("q3", "4"), ["count", "denominator"]].tolist() == [1, 2]
    low, high = proportion_confint(2, 3, method="wilson")
    assert t.loc[("q1", "yes"), "ci_low"] == round(100 * low, 1)
    assert t.loc[("q1", "yes"), "ci_high"] == round(100 * high, 1)


def test_frequencies_by_group_matches_pandas_and_statsmodels():
    long = synthetic_long(3000, n_items=8, seed=3)
    t = frequencies(long, by=["band", "gender"])
    sub = long[long["item"] == "q03"]
    ref = sub.groupby(["band", "gender", "answer"], observed=False).size()
    got = t[t["item"] == "q03"].set_index(["band", "gender", "answer"])["count"]
    for key, val in got.items():
        assert val == ref.get(key, 0)
    valid = t[(t["kind"] == "valid") & (t["denominator"] > 0)]
    low, high = proportion_confint(valid["count"], valid["denominator"], method="wilson")
    np.testing.assert_allclose(valid["ci_low"], np.round(100 * low, 1))
    np.testing.assert_allclose(valid["ci_high"], np.round(100 * high, 1))
    # multi-select denominators: respondents with >= 1 substantive choice, per group
    m = long[(long["item"] == "q05") & ~long["answer"].isin([RNS, DK])]
    ref_den = m.groupby(["band", "gender"], observed=False)["response_id"].nunique()
    got_den = t[(t["item"] == "q05") & (t["answer"] == "phone")].set_index(["band", "gender"])["denominator"]
    for key, val in got_den.items():
        assert val == ref_den.get(key, 0)


def test_count_codes_matches_groupby():
    long = synthetic_long(500, n_items=4, seed=5)
    arr, cats = count_codes([long["gender"], long["answer"]])
    ref = long.groupby(["gender", "answer"], observed=False).size()
    for (g, a), v in ref.items():
        assert arr[cats[0].index(g), cats[1].index(a)] == v


def test_read_export_csv_and_parquet(tmp_path):
    long = fixture_long()
    path = tmp_path / "export.csv"
    long.to_csv(path, index=False)
    back = read_export(path, codebook=CB)  # ids stay strings: they may be UUIDs
    assert back["response_id"].tolist() == [str(r) for r in long["response_id"]]
    for col in ("item", "answer", "band", "gender"):
        assert back[col].astype(object).tolist() == long[col].astype(object).tolist()
    pq = write_parquet(long, tmp_path / "snap.parquet")
    back = read_export(pq, codebook=CB)
    assert back["answer"].astype(str).tolist() == long["answer"].astype(str).tolist()


def _sqlite_db(path):
    long = fixture_long()
    con = sqlite3.connect(path)
    ans = long[["response_id", "item", "answer"]].astype({"item": str, "answer": object})
    ans.columns = ["resp", "question", "value"]
    ans.to_sql("answer_row", con, index=False)
    resp = long.drop_duplicates("response_id")[["response_id", "band", "gender"]].astype(str)
    resp["response_id"] = resp["response_id"].astype(int)
    resp["consultation_id"] = ["c1", "c1", "c1", "c1", "c2"]
    resp.columns = ["resp", "band", "gender", "consultation_id"]
    resp.to_sql("response", con, index=False)
    con.commit()
    return con


def test_read_database_dbapi_and_url(tmp_path):
    db = tmp_path / "survey.sqlite"
    con = _sqlite_db(db)
    cols = {"response_id": "resp", "item": "question", "answer": "value", "consultation": "consultation_id"}
    long = read_database(con, "answer_row", "response", columns=cols, codebook=CB, chunksize=4)
    assert len(long) == len(fixture_long())
    assert long.loc[long["response_id"] == 3, "band"].iloc[0] == "B"
    only = read_database(f"sqlite:///{db}", "answer_row", "response", columns=cols, consultation="c1", codebook=CB)
    assert sorted(only["response_id"].unique()) == [1, 2, 3, 4]
    con.close()
    with pytest.raises(ValueError, match="identifier"):
        read_database(sqlite3.connect(db), "answer; DROP TABLE x", codebook=CB)


def test_parquet_snapshot_keeps_codes_and_foreign_parquet_reads(tmp_path):
    import duckdb

    long = synthetic_long(400, n_items=6, seed=9)
    back = read_export(write_parquet(long, tmp_path / "s.parquet"))
    for col in ("item", "answer", "band", "site"):
        assert back[col].astype(object).tolist() == long[col].astype(object).tolist()
    # a Parquet file from elsewhere (plain strings) is read through DuckDB ENUMs
    plain = long.astype(dict.fromkeys(("item", "answer", "band", "gender"), "string"))
    con = duckdb.connect()
    con.register("p", plain[["response_id", "item", "answer", "band", "gender"]])
    con.execute(f"COPY p TO '{tmp_path / 'plain.parquet'}' (FORMAT parquet)")
    back = read_export(tmp_path / "plain.parquet", codebook=long.attrs["codebook"])
    assert isinstance(back["answer"].dtype, pd.CategoricalDtype)
    assert back["answer"].astype(object).tolist() == long["answer"].astype(object).tolist()


def test_likert_summary_hand_computed_and_numpy():
    from analysis.descriptives import likert_summary

    long = synthetic_long(1200, n_items=4, seed=12)
    out = likert_summary(long, items=["q01"], by="band").set_index("band")
    sub = long[(long["item"] == "q01") & long["answer"].isin(list("12345"))]
    for band, g in sub.groupby("band", observed=True):
        x = g["answer"].astype(str).astype(int).to_numpy()
        row = out.loc[band]
        assert row["n"] == len(x)
        assert row["mean"] == pytest.approx(x.mean())
        assert row["sd"] == pytest.approx(x.std(ddof=1))
        assert row["low"] == pytest.approx(100 * (x < 3).mean())
        assert row["neutral"] == pytest.approx(100 * (x == 3).mean())
        assert row["high"] == pytest.approx(100 * (x > 3).mean())
    # a centre between levels has no neutral category
    out = likert_summary(long, items=["q01"], center=2.5)
    assert pd.isna(out.loc[0, "neutral"]) and out.loc[0, "low"] + out.loc[0, "high"] == pytest.approx(100)
    with pytest.raises(ValueError):
        likert_summary(long, items=["q01"], center=5)

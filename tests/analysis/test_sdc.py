"""sdcMicro-style risk measures: the SDC Practice Guide example and brute-force checks."""

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import DisclosureError
from analysis.sdc import (
    MicrodataPolicy,
    ReleasedMicrodata,
    frequency_counts,
    local_suppression,
    merge_rare,
    release_microdata,
    risk_report,
)

# SDC Practice Guide, Table 4.1: (f_k, F_k) of 10 weighted records and the published r_k
GUIDE = [(2, 360), (2, 360), (1, 215), (2, 152), (1, 186), (2, 152), (1, 180), (1, 215), (2, 262), (2, 262)]
GUIDE_RISK = [0.0054, 0.0054, 0.0251, 0.0126, 0.0282, 0.0126, 0.0290, 0.0251, 0.0074, 0.0074]


def guide_frame():
    # one key per distinct (f_k, F_k) group; records 3 and 8 are different keys with equal F_k
    key_of = {0: "a", 1: "a", 2: "b", 3: "c", 4: "d", 5: "c", 6: "e", 7: "f", 8: "g", 9: "g"}
    rows = []
    for i, (f, F) in enumerate(GUIDE):
        key = key_of[i]
        rows.append({"region": key[0], "sex": "x", "weight": F / f})
    return pd.DataFrame(rows)


def test_sdc_practice_guide_example():
    df = guide_frame()
    rep = risk_report(df, ["region", "sex"], weights="weight", k_levels=(2, 3))
    assert rep.records["fk"].tolist() == [f for f, _ in GUIDE]
    np.testing.assert_allclose(rep.records["Fk"], [F for _, F in GUIDE])
    assert rep.records["risk"].round(4).tolist() == GUIDE_RISK
    assert round(rep.expected_reidentifications, 4) == 0.1582
    assert round(rep.global_risk, 5) == 0.01582
    assert rep.k_violations == {2: 4, 3: 10}


def test_unweighted_global_risk_is_distinct_keys_over_n():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"band": rng.integers(0, 3, 5000), "gender": rng.integers(0, 4, 5000), "site": rng.integers(0, 60, 5000)}
    )
    rep = risk_report(df, ["band", "gender", "site"])
    distinct = len(df.drop_duplicates())
    assert rep.global_risk == pytest.approx(distinct / len(df), rel=1e-12)
    ref = df.groupby(["band", "gender", "site"])["band"].transform("size")
    assert (rep.records["fk"].to_numpy() == ref.to_numpy()).all()
    assert rep.k_violations[5] == int((ref < 5).sum())


def test_missing_values_are_wildcards_guide_semantics():
    df = pd.DataFrame(
        {"region": ["r1", "r1", "r1"], "gender": ["f", "f", "f"], "education": ["primary", "secondary", None]}
    )
    fk, _ = frequency_counts(df, ["region", "gender", "education"])
    assert fk.tolist() == [2, 2, 3]  # the NA record matches both keys
    fk_cat, _ = frequency_counts(df, ["region", "gender", "education"], missing="category")
    assert fk_cat.tolist() == [1, 1, 1]


def test_wildcard_counts_match_brute_force():
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({c: rng.integers(0, 3, n).astype(float) for c in "abc"})
    for c in "abc":
        df.loc[rng.random(n) < 0.1, c] = np.nan
    w = rng.uniform(1, 5, n)
    fk, Fk = frequency_counts(df, list("abc"), weights=w)
    x = df.to_numpy()
    compat = np.ones((n, n), dtype=bool)
    for j in range(3):
        a, b = x[:, j][:, None], x[:, j][None, :]
        compat &= (a == b) | np.isnan(a) | np.isnan(b)
    assert (fk == compat.sum(1)).all()
    np.testing.assert_allclose(Fk, compat @ w)


def test_l_diversity_against_groupby():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"band": rng.integers(0, 3, 400), "site": rng.integers(0, 20, 400), "q": rng.integers(0, 2, 400)})
    df.loc[(df["band"] == 0) & (df["site"] == 0), "q"] = 1
    rep = risk_report(df, ["band", "site"], sensitive=["q"])
    assert rep.l_diversity["q"] == df.groupby(["band", "site"])["q"].nunique().min() == 1


def test_local_suppression_reaches_k_anonymity():
    rng = np.random.default_rng(3)
    n = 4000
    df = pd.DataFrame(
        {
            "band": pd.Categorical(rng.choice(["A", "B", "C"], n)),
            "gender": pd.Categorical(rng.choice(["girl", "boy", "another", "_rns"], n, p=[0.48, 0.48, 0.02, 0.02])),
            "site": pd.Categorical(rng.choice([f"s{i}" for i in range(40)], n)),
        }
    )
    before = risk_report(df, ["band", "gender", "site"]).k_violations[5]
    assert before > 0
    out, log = local_suppression(df, ["band", "gender", "site"], k=5, importance=[3, 1, 2])
    after = risk_report(out, ["band", "gender", "site"])
    assert after.k_violations[5] == 0
    assert sum(log.values()) <= 1.5 * before
    assert log["gender"] == 0  # importance 1: suppressed last


def test_merge_rare_then_risk_drops():
    s = pd.Series(["girl"] * 40 + ["boy"] * 40 + ["another"] * 3 + ["_rns"] * 2)
    out, log = merge_rare(s, 5, rules={"another": "another or rns", "_rns": "another or rns"})
    assert out.value_counts()["another or rns"] == 5 and len(log) == 2


def test_microdata_gate_refuses_then_releases():
    rng = np.random.default_rng(4)
    n = 3000
    df = pd.DataFrame(
        {
            "band": rng.choice(["A", "B", "C"], n),
            "gender": rng.choice(["girl", "boy"], n),
            "site": rng.choice(["north", "south", "east"], n),
            "q1": rng.choice(["yes", "no"], n),
            "text": ["free text"] * n,
        }
    )
    df.loc[0, "gender"] = "another"
    with pytest.raises(DisclosureError, match="anonymity.*gender=another"):
        release_microdata(df, ["band", "gender", "site"], drop=["text"])
    ok = df.drop(index=0)
    rel = release_microdata(ok, ["band", "gender", "site"], sensitive=["q1"], drop=["text"], seed=1)
    assert isinstance(rel, ReleasedMicrodata)
    assert "text" not in rel.frame.columns and rel.dropped == ("text",)
    assert set(rel.frame["site"].astype(str)) == {"site 1", "site 2", "site 3"}
    assert sorted(rel.frame["record"]) == list(range(1, n))
    with pytest.raises(TypeError):
        ReleasedMicrodata(ok, rel.risk, rel.policy, ())
    with pytest.raises(ValueError):
        MicrodataPolicy(k=4)
    assert MicrodataPolicy(k=3, level="partner").k == 3

"""Reliability, ranking, design effect and item diagnostics against independent references."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from analysis.design import design_effect, design_effects, icc_oneway
from analysis.diagnostics import item_diagnostics
from analysis.frames import DK, RNS, ItemMeta, make_long, to_wide
from analysis.ranking import borda, rank_frame
from analysis.reliability import cronbach_alpha, scale_scores
from analysis.synthetic import synthetic_long

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


def test_alpha_identical_items_is_one():
    x = np.array([1, 2, 2, 3, 5, 4])
    r = cronbach_alpha(pd.DataFrame({"a": x, "b": x, "c": x}))
    assert r.alpha == pytest.approx(1.0)
    assert not r.flagged


def test_alpha_equals_hoyt_anova_from_statsmodels():
    rng = np.random.default_rng(0)
    trait = rng.normal(size=80)
    data = pd.DataFrame({f"i{j}": np.round(trait + rng.normal(scale=1.0, size=80) + j) for j in range(5)})
    r = cronbach_alpha(data)
    long = data.reset_index().melt(id_vars="index", var_name="item", value_name="y")
    fit = smf.ols("y ~ C(index) + C(item)", data=long).fit()
    table = sm.stats.anova_lm(fit)
    ms_subj = table.loc["C(index)", "mean_sq"]
    ms_err = table.loc["Residual", "mean_sq"]
    assert r.alpha == pytest.approx(1 - ms_err / ms_subj, rel=1e-10)
    assert r.ci_low < r.alpha < r.ci_high
    # item-rest correlation by hand for the first item
    rest = data.drop(columns="i0").sum(axis=1)
    assert r.item_rest["i0"] == pytest.approx(np.corrcoef(data["i0"], rest)[0, 1])


def test_alpha_of_independent_items_is_flagged():
    rng = np.random.default_rng(1)
    r = cronbach_alpha(pd.DataFrame(rng.integers(1, 6, size=(500, 6))))
    assert abs(r.alpha) < 0.15 and r.flagged


def test_scale_scores_drop_reserved_codes():
    long = synthetic_long(300, n_items=4, seed=2)
    wide = to_wide(long)
    s = scale_scores(wide, ["q01", "q02"])
    assert set(np.unique(s["q01"].dropna())) <= {1, 2, 3, 4, 5}
    assert s["q01"].isna().sum() == (~wide["q01"].isin(["1", "2", "3", "4", "5"])).sum()


def test_icc_shrout_fleiss_published_and_anova():
    y = SHROUT_FLEISS.ravel()
    g = np.repeat(np.arange(6), 4)
    r = icc_oneway(y, g)
    assert round(r.icc, 2) == 0.17  # Shrout & Fleiss (1979), ICC(1,1)
    fit = smf.ols("y ~ C(g)", data=pd.DataFrame({"y": y, "g": g})).fit()
    table = sm.stats.anova_lm(fit)
    assert r.msb == pytest.approx(table.loc["C(g)", "mean_sq"])
    assert r.msw == pytest.approx(table.loc["Residual", "mean_sq"])
    assert r.pvalue == pytest.approx(table.loc["C(g)", "PR(>F)"])


def test_design_effect_recovers_known_icc():
    rng = np.random.default_rng(3)
    J, m, rho = 200, 30, 0.1
    g = np.repeat(np.arange(J), m)
    y = rng.normal(0, np.sqrt(rho), J)[g] + rng.normal(0, np.sqrt(1 - rho), J * m)
    d = design_effect(y, g)
    target = 1 + (m - 1) * rho
    assert abs(d.deff - target) / target < 0.2
    assert d.mean_cluster_size == m and d.n_effective == pytest.approx(J * m / d.deff)
    # no clustering: clusters of size 1 -> deff 1 is impossible to estimate; random labels
    d0 = design_effect(rng.normal(size=3000), rng.integers(0, 100, 3000))
    assert d0.deff == pytest.approx(1.0, abs=0.2)


def test_design_effects_by_site_on_synthetic():
    long = synthetic_long(2000, n_items=6, n_sites=12, seed=4, icc=0.2)
    out = design_effects(to_wide(long), cluster="site")
    assert set(out["item"]) == {"q01", "q02", "q03", "q04", "q06"}
    assert (out["deff"] > 1.5).all() and (out["clusters"] == 12).all()


def test_borda_hand_computed_with_partial_rankings_and_ties():
    # 4 options (m = 4): weights 4, 3, 2, 1; unranked 0
    ranks = pd.DataFrame(
        {
            "chat": [1, 1, 2, np.nan, 1, np.nan],
            "phone": [2, 3, 1, np.nan, 2, np.nan],
            "teacher": [3, 2, 2, np.nan, np.nan, 1],  # tie at 2 for respondent 3
            "app": [4, np.nan, np.nan, np.nan, np.nan, 2],
        }
    )
    out = borda(ranks).set_index("option")
    # chat: 4+4+3+4 = 15; phone: 3+2+4+3 = 12; teacher: 2+3+3+4 = 12; app: 1+3 = 4
    assert out["borda_total"].to_dict() == {"chat": 15, "phone": 12, "teacher": 12, "app": 4}
    assert (out["n"] == 5).all()  # respondent 4 ranked nothing
    assert out.loc["chat", "borda_score"] == 3.0
    assert out.loc["teacher", "mean_rank"] == pytest.approx((3 + 2 + 2 + 1) / 4)
    assert out.loc["chat", "pct_first"] == 60.0
    assert out.loc["app", "n_ranked"] == 2
    assert list(out.index) == ["chat", "phone", "teacher", "app"]
    with pytest.raises(ValueError):
        borda(pd.DataFrame({"a": [5], "b": [1]}))


def test_rank_frame_from_long():
    long = synthetic_long(200, n_items=10, seed=6)
    rf = rank_frame(to_wide(long), "q10")
    assert list(rf.columns) == ["chat", "phone", "teacher", "app"]
    out = borda(rf)
    assert out["n"].iloc[0] == rf.notna().any(axis=1).sum()


def test_item_diagnostics_fixture():
    cb = [
        ItemMeta("q", "single", ("y", "n")),
        ItemMeta("m", "multi", ("a", "b")),
        ItemMeta("c", "single", ("y", "n"), bands=("B",)),
    ]
    rows = []
    # band A: 10 children; q: 6 answer, 2 rns, 1 dk, 1 skipped; m: 5 children tick a and b
    for i in range(10):
        rid = i + 1
        if i < 6:
            rows.append((rid, "A", "q", "y"))
        elif i < 8:
            rows.append((rid, "A", "q", RNS))
        elif i < 9:
            rows.append((rid, "A", "q", DK))
        if i < 5:
            rows += [(rid, "A", "m", "a"), (rid, "A", "m", "b")]
        if i == 9:  # a child with no row at all would be invisible in the long frame
            rows.append((rid, "A", "m", RNS))
    # band B: 4 children, all answer c and q
    for i in range(4):
        rid = 100 + i
        rows += [(rid, "B", "c", "n"), (rid, "B", "q", "n")]
    long = make_long(pd.DataFrame(rows, columns=["response_id", "band", "item", "answer"]), codebook=cb)
    d = item_diagnostics(long).set_index(["item", "band"])
    assert d.loc[("q", "A"), ["eligible", "answered", "skipped", "rns", "dk"]].tolist() == [10, 6, 1, 2, 1]
    assert d.loc[("q", "A"), "rns_rate"] == 0.2 and not d.loc[("q", "A"), "flag"]
    assert d.loc[("m", "A"), ["answered", "skipped", "rns"]].tolist() == [5, 4, 1]
    assert d.loc[("m", "A"), "flag"]
    assert ("c", "A") not in d.index and d.loc[("c", "B"), "skip_rate"] == 0


def test_design_effect_against_anova_icc_and_cluster_robust_variance():
    """deff = 1 + (m - 1) ICC with the ICC worked out here from statsmodels' one-way ANOVA
    (balanced sites), and close to the ratio of statsmodels' cluster-robust to simple-random-
    sampling variance of the mean, its definition (B9: Var_cluster / Var_SRS)."""
    rng = np.random.default_rng(21)
    J, m = 60, 25
    g = np.repeat(np.arange(J), m)
    y = (rng.normal(0, 0.5, J)[g] + rng.normal(0, 1, J * m) > 0.3).astype(float)  # % positive
    frame = pd.DataFrame({"y": y, "g": g})
    table = sm.stats.anova_lm(smf.ols("y ~ C(g)", data=frame).fit())
    msb, msw = table.loc["C(g)", "mean_sq"], table.loc["Residual", "mean_sq"]
    icc = (msb - msw) / (msb + (m - 1) * msw)
    d = design_effect(y, g)
    assert d.icc == pytest.approx(icc, rel=1e-10)
    assert d.deff == pytest.approx(1 + (m - 1) * icc, rel=1e-10)
    assert d.n_effective == pytest.approx(J * m / d.deff)
    naive = smf.ols("y ~ 1", data=frame).fit()
    robust = smf.ols("y ~ 1", data=frame).fit(cov_type="cluster", cov_kwds={"groups": g})
    ratio = robust.bse.iloc[0] ** 2 / naive.bse.iloc[0] ** 2
    assert d.deff > 2 and ratio == pytest.approx(d.deff, rel=0.15)

"""Inference checked against scipy / statsmodels called here and published values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association
from statsmodels.stats.multitest import multipletests

from analysis.frames import ItemMeta, make_long
from analysis.inference import (
    adjust_pvalues,
    compare_groups,
    cramers_v,
    crosstab,
    crosstabs,
    fisher_exact_rxc,
    kruskal_counts,
    kruskal_wallis,
    mann_whitney,
    mann_whitney_counts,
)
from analysis.synthetic import synthetic_long


def long_from_table(table, rows, cols, item="q", by="gender"):
    recs = []
    rid = 0
    for i, g in enumerate(rows):
        for j, a in enumerate(cols):
            for _ in range(table[i][j]):
                rid += 1
                recs.append((rid, item, g, a))
    df = pd.DataFrame(recs, columns=["response_id", "item", by, "answer"])
    return make_long(df, codebook=[ItemMeta(item, "single", tuple(cols))], categories={by: list(rows)})


def test_cramers_v_published_and_scipy():
    assert round(cramers_v([[10, 20], [30, 5]]), 4) == 0.5367
    rng = np.random.default_rng(0)
    for _ in range(20):
        t = rng.integers(1, 60, size=(rng.integers(2, 5), rng.integers(2, 6)))
        assert cramers_v(t) == pytest.approx(association(t, method="cramer"), abs=1e-12)


def test_crosstab_chi_square_matches_scipy():
    t = [[30, 20, 10], [15, 25, 40], [22, 18, 20]]
    r = crosstab(long_from_table(t, ["a", "b", "c"], ["x", "y", "z"]), "q", "gender")
    ref = stats.chi2_contingency(np.array(t), correction=False)
    assert r.test == "chi-square"
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.dof == ref.dof and r.n == 200
    assert r.table.to_numpy().tolist() == t


def test_crosstab_switches_to_fisher_for_small_2x2():
    t = [[3, 1], [1, 4]]
    r = crosstab(long_from_table(t, ["a", "b"], ["x", "y"]), "q", "gender")
    assert r.test == "fisher"
    assert r.pvalue == pytest.approx(stats.fisher_exact(t).pvalue, rel=1e-12)


def exact_by_fractions(t):
    """Independent brute force: every 2 x C table with the same margins, exact arithmetic."""
    from fractions import Fraction
    from itertools import product
    from math import factorial as f

    t = [list(r) for r in t]
    rows = [sum(r) for r in t]
    cols = [sum(c) for c in zip(*t, strict=True)]

    def prob(tab):
        num = 1
        for v in rows + cols:
            num *= f(v)
        den = f(sum(rows))
        for r in tab:
            for x in r:
                den *= f(x)
        return Fraction(num, den)

    obs = prob(t)
    total = Fraction(0)
    for top in product(*(range(c + 1) for c in cols)):
        if sum(top) != rows[0]:
            continue
        tab = [list(top), [c - x for c, x in zip(cols, top, strict=True)]]
        p = prob(tab)
        if p <= obs:
            total += p
    return float(total)


def test_fisher_rxc_exact_value_and_2x2():
    # the reference note's 0.1105 came from scipy's simulated R x C p-value; exact is 0.112554
    p, how = fisher_exact_rxc([[3, 1, 2], [1, 4, 0]])
    assert how == "exact"
    assert p == pytest.approx(exact_by_fractions([[3, 1, 2], [1, 4, 0]]), rel=1e-12)
    assert round(p, 4) == 0.1126
    rng = np.random.default_rng(3)
    for _ in range(10):
        t = rng.integers(0, 6, size=(2, 4))
        if (t.sum(0) == 0).any():
            continue
        assert fisher_exact_rxc(t)[0] == pytest.approx(exact_by_fractions(t), rel=1e-9)
    rng = np.random.default_rng(2)
    for _ in range(15):
        t = rng.integers(0, 8, size=(2, 2))
        if (t.sum(0) == 0).any() or (t.sum(1) == 0).any():
            continue
        assert fisher_exact_rxc(t)[0] == pytest.approx(stats.fisher_exact(t).pvalue, rel=1e-9)


def test_fisher_rxc_agrees_with_scipy_monte_carlo():
    t = np.array([[2, 0, 3, 1], [1, 4, 0, 2], [0, 1, 2, 5]])
    p, how = fisher_exact_rxc(t)
    assert how == "exact"
    mc = stats.fisher_exact(t, method=stats.MonteCarloMethod(n_resamples=40000, rng=np.random.default_rng(1)))
    assert p == pytest.approx(mc.pvalue, abs=0.01)


def test_sparse_rxc_crosstab_names_fisher():
    t = [[3, 1, 2], [1, 4, 0]]
    r = crosstab(long_from_table(t, ["a", "b"], ["x", "y", "z"]), "q", "gender")
    assert r.test == "fisher" and round(r.pvalue, 4) == 0.1126


def test_mann_whitney_reference_and_scipy():
    r = mann_whitney([1, 2, 3, 4], [3, 4, 5, 5])
    assert r.statistic == 2 and round(r.pvalue, 4) == 0.1059
    rng = np.random.default_rng(4)
    for _ in range(10):
        x = rng.integers(1, 6, rng.integers(5, 300))
        y = rng.integers(1, 6, rng.integers(5, 300)) + rng.integers(0, 2)
        r = mann_whitney(x, y)
        ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        assert r.statistic == pytest.approx(ref.statistic)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
        # effect sizes by their definitions, computed from all pairs
        diff = np.sign(x[:, None] - y[None, :])
        cles = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size
        assert r.cles == pytest.approx(cles)
        assert r.rank_biserial == pytest.approx(2 * cles - 1)


def test_kruskal_reference_and_scipy():
    r = kruskal_wallis([1, 2, 3], [3, 4, 5], [5, 5, 4])
    assert round(r.statistic, 3) == 5.544 and round(r.pvalue, 4) == 0.0625
    assert r.epsilon_squared == pytest.approx(r.statistic / 8)
    rng = np.random.default_rng(5)
    groups = [rng.integers(1, 6, n) for n in (40, 55, 70, 12)]
    r = kruskal_wallis(*groups)
    ref = stats.kruskal(*groups)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert kruskal_counts([[0, 0], [0, 0]]).dof == 0


def test_mann_whitney_counts_edge_cases():
    assert np.isnan(mann_whitney_counts([0, 0], [1, 2]).pvalue)
    assert mann_whitney_counts([3, 0], [2, 0]).pvalue == 1.0


@pytest.mark.parametrize("method,sm", [("holm", "holm"), ("fdr_bh", "fdr_bh")])
def test_adjust_pvalues_matches_statsmodels(method, sm):
    rng = np.random.default_rng(6)
    for size in (1, 2, 5, 40):
        p = rng.random(size) ** 3
        ref = multipletests(p, method=sm)[1]
        np.testing.assert_allclose(adjust_pvalues(p, method), ref, rtol=1e-12)
    p = np.array([0.01, np.nan, 0.04, 0.03])
    got = adjust_pvalues(p, method)
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], multipletests(p[[0, 2, 3]], method=sm)[1])
    bh = stats.false_discovery_control([0.01, 0.02, 0.03, 0.04, 0.2], method="bh")
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.2], "bh"), bh)
    with pytest.raises(ValueError):
        adjust_pvalues(p, "hs")


def test_bulk_crosstabs_and_compare_groups_match_direct_calls():
    long = synthetic_long(1500, n_items=8, seed=8)
    ct = crosstabs(long, ["band", "gender"])
    row = ct[(ct["item"] == "q01") & (ct["by"] == "band")].iloc[0]
    wide = long[long["item"] == "q01"]
    wide = wide[~wide["answer"].isin(["_rns", "_dk"]) & wide["answer"].notna()]
    tab = wide.groupby(["band", "answer"], observed=False).size().unstack()
    tab = tab.loc[:, (tab.sum() > 0)]
    ref = stats.chi2_contingency(tab.to_numpy(), correction=False)
    assert row["statistic"] == pytest.approx(ref.statistic)
    assert ct["p_adjusted"].tolist() == pytest.approx(multipletests(ct["pvalue"], method="fdr_bh")[1].tolist())
    cg = compare_groups(long, "band")
    r = cg[cg["item"] == "q01"].iloc[0]
    scores = wide["answer"].astype(str).astype(int)
    ref = stats.kruskal(*[scores[wide["band"] == b] for b in ["A", "B", "C"]])
    assert r["test"] == "kruskal-wallis"
    assert r["statistic"] == pytest.approx(ref.statistic)
    cg2 = compare_groups(long[long["band"].isin(["A", "B"])], "band", items=["q02"])
    sub = long[(long["item"] == "q02") & long["band"].isin(["A", "B"]) & ~long["answer"].isin(["_rns", "_dk"])]
    s = sub["answer"].astype(str).astype(int)
    ref = stats.mannwhitneyu(s[sub["band"] == "A"], s[sub["band"] == "B"], method="asymptotic")
    assert cg2.iloc[0]["test"] == "mann-whitney"
    assert cg2.iloc[0]["pvalue"] == pytest.approx(ref.pvalue)

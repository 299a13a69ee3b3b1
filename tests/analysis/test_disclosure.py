"""The disclosure gate: primary + secondary suppression, attacked with linear programming."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from analysis import frequencies, make_long
from analysis.disclosure import (
    DisclosureError,
    DisclosurePolicy,
    ReleasedTable,
    disclose,
    format_percent,
    require_released,
    secondary_suppression,
)
from analysis.frames import ItemMeta
from analysis.synthetic import synthetic_long


def attack(constraints, n_vars, published, masked):
    """Feasible [min, max] of each masked variable given the published values.

    constraints: list of (coefficient dict {var: coef}) meaning sum(coef * x) == 0.
    published: {var: value}. All variables are >= 0. This is the intruder's view.
    """
    A, b = [], []
    for con in constraints:
        row = np.zeros(n_vars)
        for v, c in con.items():
            row[v] = c
        A.append(row)
        b.append(0.0)
    for v, val in published.items():
        row = np.zeros(n_vars)
        row[v] = 1
        A.append(row)
        b.append(val)
    out = {}
    for v in masked:
        c = np.zeros(n_vars)
        c[v] = 1
        lo = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        assert lo.status == 0 and hi.status == 0
        out[v] = (lo.fun, -hi.fun)
    return out


def table_constraints(R, C):
    """Row and column sums of an (R+1) x (C+1) table whose last row/col are the totals."""
    idx = lambda i, j: i * (C + 1) + j  # noqa: E731
    cons = []
    for i in range(R + 1):
        con = {idx(i, j): 1 for j in range(C)}
        con[idx(i, C)] = -1
        cons.append(con)
    for j in range(C + 1):
        con = {idx(i, j): 1 for i in range(R)}
        con[idx(R, j)] = -1
        cons.append(con)
    return cons, idx


def attack_released(true_counts, released):
    R, C = true_counts.shape
    cons, idx = table_constraints(R, C)
    data = released.data.to_numpy()
    ext = np.zeros((R + 1, C + 1))
    ext[:R, :C] = true_counts
    ext[:R, C] = true_counts.sum(1)
    ext[R, :C] = true_counts.sum(0)
    ext[R, C] = true_counts.sum()
    published = {idx(i, j): float(data[i, j]) for i in range(R + 1) for j in range(C + 1) if not pd.isna(data[i, j])}
    masked = [idx(i, j) for i in range(R + 1) for j in range(C + 1) if pd.isna(data[i, j])]
    bounds = attack(cons, (R + 1) * (C + 1), published, masked)
    return {(v // (C + 1), v % (C + 1)): b for v, b in bounds.items()}, ext


def test_policy_refuses_k_below_five():
    with pytest.raises(DisclosureError, match="minimum of 5"):
        DisclosurePolicy(k=4)
    assert DisclosurePolicy(k=5).k == 5
    with pytest.raises(DisclosureError):
        DisclosurePolicy(k=10, min_denominator=8)


def test_only_the_gate_makes_released_tables():
    with pytest.raises(TypeError, match="disclose"):
        ReleasedTable(pd.DataFrame(), pd.DataFrame(), "counts", "", DisclosurePolicy())
    with pytest.raises(TypeError, match="ReleasedTable"):
        require_released(pd.DataFrame({"a": [1]}))


def test_a11_fixture_3x3_needs_complementary_suppression():
    # without secondary suppression the 4 would follow from the row total (4 + 30 + 40 = 74)
    t = pd.DataFrame([[4, 30, 40], [20, 25, 35], [33, 12, 50]])
    rel = disclose(t)
    assert pd.isna(rel.data.iloc[0, 0])
    bounds, ext = attack_released(t.to_numpy(), rel)
    for (i, j), (lo, hi) in bounds.items():
        assert lo <= ext[i, j] + 1e-9 and ext[i, j] <= hi + 1e-9
        assert hi - lo >= 1 - 1e-9, f"cell {(i, j)} recoverable: [{lo}, {hi}]"
    assert bounds[(0, 0)][1] - bounds[(0, 0)][0] >= 10
    assert rel.n_primary == 1 and rel.n_secondary >= 3


def test_zero_is_shown_and_k_is_configurable():
    t = pd.DataFrame([[0, 50], [60, 70]])
    assert disclose(t).data.notna().all().all()
    t = pd.DataFrame([[7, 50], [60, 70]])
    assert pd.isna(disclose(t).data.iloc[0, 0])
    assert disclose(t, DisclosurePolicy(k=5)).data.notna().all().all()


@pytest.mark.parametrize("seed", range(60))
def test_no_masked_cell_recoverable_from_margins_random(seed):
    rng = np.random.default_rng(seed)
    R, C = rng.integers(2, 6), rng.integers(2, 6)
    # mix of small and large cells, some zeros
    t = rng.choice([0, 1, 2, 3, 5, 8, 9, 12, 20, 40, 75], size=(R, C))
    rel = disclose(pd.DataFrame(t))
    bounds, ext = attack_released(t, rel)
    primary = (ext >= 1) & (ext < 10)
    assert set(bounds) >= {tuple(x) for x in np.argwhere(primary)}
    for (i, j), (lo, hi) in bounds.items():
        assert lo - 1e-7 <= ext[i, j] <= hi + 1e-7
        assert hi - lo >= 1 - 1e-7, f"seed {seed}: cell {(i, j)}={ext[i, j]} in [{lo}, {hi}]"
        if primary[i, j]:  # A11: a small cell's interval is at least k wide
            assert hi - lo >= 10 - 1e-7, f"seed {seed}: {(i, j)}={ext[i, j]} in [{lo}, {hi}]"


def test_one_dimensional_series():
    s = pd.Series({"phone": 40, "chat": 3, "sms": 25, "box": 60}, name="count")
    rel = disclose(s)
    assert rel.data.shape == (1, 5)
    masked = rel.data.iloc[0].isna()
    assert masked["chat"] and masked.sum() >= 2  # a lone hidden cell = total minus the rest


def test_secondary_suppression_prefers_cheap_cycle():
    v = np.array([[3, 20, 23], [30, 40, 70], [33, 60, 93]])
    m = secondary_suppression(v, v == 3)
    assert m.sum() == 4 and not m[-1].any() and not m[:, -1].any()


def test_reliability_and_sensitive_formatting():
    p = DisclosurePolicy()
    assert [format_percent(40.0, n, p) for n in (0, 24, 25, 49, 50)] == ["-", "*", "(40.0 %)", "(40.0 %)", "40.0 %"]
    assert format_percent(96.0, 200, p, sensitive=True) == ">95 %"
    assert format_percent(0.0, 200, p, sensitive=True) == "<5 %"
    assert format_percent(0.0, 200, p) == "0.0 %"


def test_sensitive_counts_table_codes_extremes():
    t = pd.DataFrame({"yes": [0, 30], "no": [120, 60]}, index=["girls", "boys"])
    rel = disclose(t, sensitive=True)
    assert pd.isna(rel.data.loc["girls", "yes"]) and pd.isna(rel.data.loc["girls", "no"])
    assert "<5 %" in " ".join(rel.notes)


def _freq_fixture():
    cb = [ItemMeta("q", "single", ("yes", "no", "not_sure"))]
    rows = []
    rid = 0
    for band, counts in {"A": (40, 3, 30, 2, 12), "B": (50, 45, 20, 15, 1), "C": (8, 10, 9, 0, 0)}.items():
        for code, n in zip(("yes", "no", "not_sure", "_rns", "_dk"), counts, strict=True):
            for _ in range(n):
                rid += 1
                rows.append((rid, band, "q", code))
    df = pd.DataFrame(rows, columns=["response_id", "band", "item", "answer"])
    return make_long(df, codebook=cb)


def test_frequencies_gate_protects_linked_tables():
    long = _freq_fixture()
    freq = frequencies(long, by="band")
    rel = disclose(freq)
    d = rel.data.set_index(["band", "answer"])
    assert pd.isna(d.loc[("A", "no"), "count"]) and pd.isna(d.loc[("A", "_rns"), "count"])
    assert pd.isna(d.loc[("B", "_dk"), "count"])
    # band C: 27 substantive answers (<= 49 flagged), yes = 8 suppressed
    shown = rel.display.set_index(["band", "answer"])
    assert shown.loc[("C", "no"), "percent"] in ("s", "(37.0 %)")
    # intruder: unknowns are the 3 x 5 cells; published: counts, valid and any denominators
    truth = (
        long.groupby(["band", "answer"], observed=False)
        .size()
        .unstack()[["yes", "no", "not_sure", "_rns", "_dk"]]
        .to_numpy()
    )
    R, C = truth.shape
    n_vars = R * C
    pub = {}
    # extra variables for each published denominator would be redundant: use equalities
    A_eq, b_eq = [], []
    for r, band in enumerate(["A", "B", "C"]):
        for c, code in enumerate(["yes", "no", "not_sure", "_rns", "_dk"]):
            v = d.loc[(band, code), "count"]
            if not pd.isna(v):
                pub[r * C + c] = float(v)
        vn = d.loc[(band, "yes"), "denominator"]
        if not pd.isna(vn):
            A_eq.append([1.0 if (i // C == r and i % C < 3) else 0.0 for i in range(n_vars)])
            b_eq.append(float(vn))
        an = d.loc[(band, "_rns"), "denominator"]
        if not pd.isna(an):
            A_eq.append([1.0 if i // C == r else 0.0 for i in range(n_vars)])
            b_eq.append(float(an))
    for v, val in pub.items():
        row = [0.0] * n_vars
        row[v] = 1.0
        A_eq.append(row)
        b_eq.append(val)
    widths = []
    for v in range(n_vars):
        if v in pub:
            continue
        c = np.zeros(n_vars)
        c[v] = 1
        lo = linprog(c, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs").fun
        hi = -linprog(-c, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs").fun
        true = truth.ravel()[v]
        assert lo - 1e-7 <= true <= hi + 1e-7
        assert hi - lo >= 1 - 1e-7, f"cell {divmod(v, C)} = {true} recoverable"
        if 1 <= true < 10:
            widths.append(hi - lo)
    assert min(widths) >= 10, widths


def test_frequencies_gate_on_synthetic_by_site_is_attack_proof():
    long = synthetic_long(900, n_items=3, n_sites=8, seed=11)
    freq = frequencies(long, items=["q01"], by="site")
    rel = disclose(freq)
    assert rel.n_primary > 0
    d = rel.data
    valid = d[d["kind"] == "valid"]
    hidden_pct = valid["percent"].isna()
    assert (hidden_pct | valid["count"].notna()).all()


def test_estimates_gate():
    est = pd.DataFrame({"choice": ["a", "b", "c", "d"], "mean_rank": [1.5, 2.0, 2.5, 3.0], "n": [8, 24, 30, 80]})
    rel = disclose(est, kind="estimates", value_columns=["mean_rank"])
    assert pd.isna(rel.data.loc[0, "n"]) and pd.isna(rel.data.loc[1, "mean_rank"])
    assert rel.display["mean_rank"].tolist() == ["s", "*", "(2.50)", "3.00"]
    assert rel.data["flag"].tolist() == ["s", "*", "()", ""]


def test_estimates_gate_hides_small_numerators():
    est = pd.DataFrame({"band": ["A", "B", "C"], "positive": [3, 30, 0], "n": [60, 60, 60]})
    est["pct"] = 100 * est["positive"] / est["n"]
    rel = disclose(est, kind="estimates", value_columns=["pct"], count_column="positive")
    assert pd.isna(rel.data.loc[0, "pct"]) and pd.isna(rel.data.loc[0, "positive"])
    assert rel.data.loc[1, "pct"] == 50 and rel.data.loc[2, "pct"] == 0
    assert rel.display.loc[0, "pct"] == "s"


def test_differencing_guard_a13():
    from analysis.disclosure import DifferencingGuard

    g = DifferencingGuard()
    g.publish({}, 120)
    with pytest.raises(DisclosureError, match="expose 4"):
        g.publish({"disability": ["no"]}, 116)
    g.publish({"disability": ["no"]}, 100)  # the other group has 20: fine
    with pytest.raises(DisclosureError):
        g.publish({"disability": ["no"], "band": ["A"]}, 97)  # 3 by difference with 100
    g.publish({"band": ["A"]}, 40)  # not nested in the disability population
    g.publish({"disability": ["no"]}, 100)  # the same number again differs by 0


def test_a_large_table_is_still_not_recoverable():
    # How fast it is protected (under 5 s) is measured in bench/guard_speed.py.
    rng = np.random.default_rng(7)
    t = rng.choice([0, 2, 4, 7, 12, 15, 30], size=(40, 5))
    rel = disclose(pd.DataFrame(t))
    bounds, ext = attack_released(t, rel)
    assert len(bounds) > 40  # beyond the LP width audit: the cycle rule alone applies
    for (i, j), (lo, hi) in bounds.items():
        assert lo - 1e-7 <= ext[i, j] <= hi + 1e-7
        assert hi - lo >= 1 - 1e-7


def test_unbounded_intruder_interval_counts_as_protected() -> None:
    """A hidden row whose total is hidden too: no upper bound can be derived, and no crash."""
    import numpy as np

    from analysis.disclosure import suppression_intervals

    values = np.array([[4, 3, 3, 4, 3, 17]] * 2)
    intervals = suppression_intervals(values, np.ones((2, 6), bool))
    assert all(low == 0.0 and high == float("inf") for low, high in intervals.values())


def test_sensitive_coding_hides_the_count_it_codes_and_leaves_reserved_answers_exact():
    cb = {"BA1": ItemMeta("BA1", "single", ("yes", "no", "maybe"), sensitive=True)}
    answers = ["yes"] * 12 + ["no"] * 380 + ["maybe"] * 17
    df = pd.DataFrame({"response_id": range(len(answers)), "item": "BA1", "band": "C", "answer": answers})
    freq = frequencies(make_long(df, cb), items=["BA1"], codebook=cb)
    shown = disclose(freq, DisclosurePolicy(), kind="frequencies", codebook=cb).display
    rows = {r["answer"]: r for _, r in shown.iterrows()}
    # 12 of 409 is 2.9 %: coded "<5 %" and its count is not printed beside it
    assert rows["yes"]["percent"] == "<5 %" and rows["yes"]["n"] != "12" and rows["yes"]["95% CI"] == ""
    # nobody chose "rather not say": an exact 0.0 %, not a "<5 %" that contradicts its count 0
    assert rows["I'd rather not say"]["n"] == "0" and rows["I'd rather not say"]["percent"] == "0.0 %"

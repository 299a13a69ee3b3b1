"""Statistics checked against independent references (issue 15 item 7).

* design effect for sites of unequal size: Kish's formula, and a simulation of the model it
  describes (random site effects) as the independent reference;
* bias-corrected Cramér's V (Bergsma 2013) beside the plain one (scipy's ``association``);
* Likert "neutral" on a scale without a middle level is NA, not 0;
* ``make_long`` with a repeated index; ``from_wide`` for tables from other tools.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association

from analysis import design, frames, inference
from analysis.descriptives import frequencies, likert_summary
from analysis.design import design_effect
from analysis.frames import ItemMeta, make_long, to_wide
from analysis.inference import cramers_v, crosstabs

SIZES = [40, 5, 5, 5, 5]


def test_kish_deff_formula_for_unequal_sites():
    icc = 0.1
    m = np.array(SIZES, float)
    cv = m.std(ddof=0) / m.mean()
    expected = 1 + ((cv**2 + 1) * m.mean() - 1) * icc  # Kish (1965); Eldridge et al. (2006)
    assert design.kish_deff(SIZES, icc) == pytest.approx(expected)
    assert design.kish_deff(SIZES, icc) == pytest.approx(1 + (sum(m**2) / m.sum() - 1) * icc)
    # The mean-size formula (1 + (m - 1) * icc = 2.1) overstated the effective sample ~2x.
    n = m.sum()
    assert n / design.kish_deff(SIZES, icc) == pytest.approx(16.07, abs=0.01)
    assert n / (1 + (m.mean() - 1) * icc) == pytest.approx(28.57, abs=0.01)
    assert design.kish_deff([12] * 5, icc) == pytest.approx(1 + 11 * icc)  # equal sites


def test_kish_deff_matches_a_simulation_of_clustered_answers():
    """Var(mean of N children, random site effects) / Var(mean of N independent children)."""
    rng = np.random.default_rng(2026)
    icc, reps = 0.1, 40_000
    sites = np.repeat(np.arange(len(SIZES)), SIZES)
    site_effect = rng.normal(0, math.sqrt(icc), (reps, len(SIZES)))[:, sites]
    y = site_effect + rng.normal(0, math.sqrt(1 - icc), (reps, len(sites)))
    simulated = y.mean(axis=1).var() / (1 / len(sites))
    assert simulated == pytest.approx(design.kish_deff(SIZES, icc), rel=0.05)
    assert abs(simulated - (1 + (np.mean(SIZES) - 1) * icc)) > 1  # the old formula is far off


def test_design_effect_uses_site_sizes():
    rng = np.random.default_rng(4)
    sites = np.repeat(list("abcde"), SIZES)
    effect = dict(zip("abcde", rng.normal(0, 1, 5), strict=True))
    y = np.array([effect[s] for s in sites]) + rng.normal(0, 1, len(sites))
    d = design_effect(y, sites)
    assert d.icc > 0
    assert d.deff == pytest.approx(design.kish_deff(SIZES, d.icc))
    assert d.n_effective == pytest.approx(len(y) / d.deff)
    assert d.cluster_size_cv == pytest.approx(np.std(SIZES) / np.mean(SIZES))


def _bergsma(t: np.ndarray) -> float:
    """Bergsma (2013), written out from scipy's chi-square."""
    chi2 = stats.chi2_contingency(t, correction=False).statistic
    n = t.sum()
    r, k = t.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rt, kt = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / min(rt - 1, kt - 1))


@pytest.mark.parametrize(
    "table",
    [
        [[10, 20], [30, 5]],
        [[12, 7, 3], [4, 9, 11], [6, 6, 6]],
        [[30, 1, 2, 8], [5, 22, 3, 1]],
    ],
)
def test_cramers_v_plain_and_bias_corrected(table):
    t = np.array(table)
    assert cramers_v(t) == pytest.approx(association(t, method="cramer", correction=False))
    assert inference.cramers_v_corrected(t) == pytest.approx(_bergsma(t))
    assert inference.cramers_v_corrected(t) < cramers_v(t)


def test_bias_corrected_v_is_near_zero_without_association():
    rng = np.random.default_rng(0)
    plain, corrected = [], []
    for _ in range(200):
        t = rng.multinomial(60, [1 / 12] * 12).reshape(3, 4) + 0
        if (t.sum(0) == 0).any() or (t.sum(1) == 0).any():
            continue
        plain.append(cramers_v(t))
        corrected.append(inference.cramers_v_corrected(t))
    assert np.mean(plain) > 0.15  # plain V of independent data is far from 0
    assert np.mean(corrected) < np.mean(plain) / 2


def test_crosstabs_report_both_vs():
    long = make_long(
        pd.DataFrame(
            {
                "response_id": range(65),
                "item": "q",
                "gender": ["girl"] * 30 + ["boy"] * 35,
                "answer": ["yes"] * 10 + ["no"] * 20 + ["yes"] * 30 + ["no"] * 5,
            }
        ),
        codebook=[ItemMeta("q", "single", ("yes", "no"))],
    )
    row = crosstabs(long, "gender", items=["q"]).iloc[0]
    assert row["cramers_v"] == pytest.approx(0.5367, abs=1e-4)
    assert row["cramers_v_corrected"] == pytest.approx(_bergsma(np.array([[30, 5], [10, 20]])))


def test_likert_neutral_is_na_on_an_even_scale():
    cb = [ItemMeta("q", "scale", ("1", "2", "3", "4"))]
    long = make_long(
        pd.DataFrame({"response_id": range(8), "item": "q", "answer": ["1", "2", "2", "3", "3", "4", "4", "4"]}),
        codebook=cb,
    )
    row = likert_summary(long).iloc[0]
    assert pd.isna(row["neutral"])  # there is no middle level: not "0 % neutral"
    assert row["low"] == pytest.approx(37.5) and row["high"] == pytest.approx(62.5)
    odd = make_long(
        pd.DataFrame({"response_id": range(3), "item": "q", "answer": ["1", "2", "3"]}),
        codebook=[ItemMeta("q", "scale", ("1", "2", "3"))],
    )
    assert likert_summary(odd).iloc[0]["neutral"] == pytest.approx(100 / 3)


def test_make_long_accepts_a_repeated_index():
    part = pd.DataFrame(
        {"response_id": [1, 2, 3], "item": "q", "answer": ["yes", "no", "yes"], "band": ["A", "B", "B"]}
    )
    both = pd.concat([part, part.assign(response_id=[4, 5, 6])])  # index 0, 1, 2, 0, 1, 2
    long = make_long(both, codebook=[ItemMeta("q", "single", ("yes", "no"))])
    assert list(long["response_id"]) == [1, 2, 3, 4, 5, 6]
    assert list(long["answer"]) == ["yes", "no", "yes"] * 2
    assert list(long["band"]) == ["A", "B", "B"] * 2


def test_from_wide_round_trip_and_tool_layouts():
    cb = {"q1": ItemMeta("q1", "single", ("yes", "no")), "q2": ItemMeta("q2", "multi", ("tv", "radio", "phone"))}
    original = make_long(
        pd.DataFrame(
            {
                "response_id": [1, 1, 2, 2, 2, 3, 3],
                "item": ["q1", "q2", "q1", "q2", "q2", "q1", "q2"],
                "answer": ["yes", "tv", "_rns", "tv", "radio", None, "phone"],
                "band": ["A", "A", "B", "B", "B", "B", "B"],
            }
        ),
        codebook=cb,
    )
    # Kobo/ODK's default: one column, choices separated by spaces.
    spaced = pd.DataFrame(
        {
            "response_id": [1, 2, 3],
            "band": ["A", "B", "B"],
            "q1": ["yes", "_rns", None],
            "q2": ["tv", "tv radio", "phone"],
        }
    )
    # Their "split" option: one 0/1 column per choice.
    split = pd.DataFrame(
        {
            "response_id": [1, 2, 3],
            "band": ["A", "B", "B"],
            "q1": ["yes", "_rns", ""],
            "q2/tv": [1, 1, 0],
            "q2/radio": [0, 1, 0],
            "q2/phone": [0, 0, 1],
        }
    )
    want = frequencies(original, codebook=cb)
    for wide in (spaced, split):
        long = frames.from_wide(wide, codebook=cb)
        pd.testing.assert_frame_equal(frequencies(long, codebook=cb), want)
        assert list(to_wide(long, cb)["band"]) == ["A", "B", "B"]
    with pytest.raises(ValueError, match="repeats"):
        frames.from_wide(pd.concat([spaced, spaced]), codebook=cb)
    with pytest.raises(ValueError, match="not choices of their item"):
        frames.from_wide(spaced.assign(q1=["maybe", "yes", "no"]), codebook=cb)

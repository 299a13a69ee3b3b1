"""Charts: geometry and data of the drawn patches (Agg), not pixels."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis import frequencies
from analysis.charts import (
    BRBG,
    bar_chart,
    breakdown_chart,
    funnel_chart,
    likert_chart,
    ranking_chart,
)
from analysis.disclosure import disclose
from analysis.frames import to_wide
from analysis.ranking import borda, rank_frame
from analysis.synthetic import synthetic_long


@pytest.fixture(scope="module")
def long():
    return synthetic_long(2000, n_items=10, seed=21)


def bars(fig: Figure):
    ax = fig.axes[0]
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()]


def test_likert_geometry_matches_raw_data(long):
    items = ["q01", "q02", "q03"]
    rel = disclose(frequencies(long, items=items))
    chart = likert_chart(rel, title="How easy would it be")
    assert isinstance(chart.figure, Figure)
    assert chart.to_png()[:4] == b"\x89PNG"
    patches = bars(chart.figure)
    assert len(patches) == 15
    for item in items:
        ps = [p for p in patches if p.get_gid().startswith(item + "|")]
        widths = [p.get_width() for p in ps]
        assert sum(widths) == pytest.approx(100.0, abs=1e-9)
        # independent percentages straight from the long frame
        sub = long[(long["item"] == item) & long["answer"].isin(list("12345"))]
        ref = sub["answer"].astype(str).value_counts(normalize=True) * 100
        np.testing.assert_allclose(widths, [ref.get(c, 0) for c in "12345"], atol=1e-9)
        neutral = next(p for p in ps if p.get_gid() == f"{item}|3")
        assert neutral.get_x() + neutral.get_width() / 2 == pytest.approx(0.0, abs=1e-9)
        assert [p.get_x() for p in ps] == sorted(p.get_x() for p in ps)  # low -> high
        colours = [tuple(round(c, 3) for c in p.get_facecolor()[:3]) for p in ps]
        from matplotlib.colors import to_rgb

        assert colours == [tuple(round(c, 3) for c in to_rgb(h)) for h in BRBG[5]]
    assert "Diverging bar chart" in chart.alt_text and "% high" in chart.alt_text


def test_likert_by_site_hides_suppressed_rows(long):
    rel = disclose(frequencies(long, items=["q01"], by="site"))
    chart = likert_chart(rel)
    hidden_rows = (
        rel.data[(rel.data["kind"] == "valid")].groupby("site", observed=True)["count"].apply(lambda s: s.isna().any())
    )
    drawn = len(bars(chart.figure)) // 5
    assert drawn == int((~hidden_rows).sum())
    if hidden_rows.any():
        assert "Not shown (small numbers)" in chart.alt_text


def test_charts_refuse_unreleased_input(long):
    freq = frequencies(long, items=["q01"])
    with pytest.raises(TypeError, match="ReleasedTable"):
        likert_chart(freq)
    with pytest.raises(TypeError):
        funnel_chart(pd.Series({"a": 1}))


def test_bar_chart_multi_select(long):
    rel = disclose(frequencies(long, items=["q05"]))
    chart = bar_chart(rel, "q05")
    d = rel.data[(rel.data["kind"] == "valid")]
    widths = {p.get_gid().split("|")[1]: p.get_width() for p in bars(chart.figure)}
    for r in d.itertuples():
        if pd.notna(r.percent):
            assert widths[r.answer] == pytest.approx(r.percent)
    assert f"n = {int(d['denominator'].iloc[0]):,}" in chart.alt_text
    assert "more than one" in chart.alt_text


def test_funnel_and_breakdown():
    stages = pd.Series({"invited": 400, "assented": 352, "started": 350, "completed": 301, "withdrew": 4})
    # as parts of a whole, a lone hidden stage would follow from the total: two are hidden
    assert disclose(stages).data.iloc[0].isna().sum() == 2
    rel = disclose(stages, margins=False)  # a funnel's stages are nested, not a partition
    assert "Total" not in rel.data.columns
    chart = funnel_chart(rel)
    widths = {p.get_gid(): p.get_width() for p in bars(chart.figure)}
    assert widths == {"invited": 400, "assented": 352, "started": 350, "completed": 301}
    assert "withdrew s" in chart.alt_text
    t = pd.DataFrame({"girl": [120, 90, 80], "boy": [110, 3, 70]}, index=["A", "B", "C"])
    rel = disclose(t, title="Band by gender")
    bc = breakdown_chart(rel)
    assert "B: girl s, boy s" in bc.alt_text
    shown = rel.data.drop(index="Total", columns="Total").stack().dropna()
    assert sorted(p.get_width() for p in bc.figure.axes[0].patches) == sorted(shown.tolist())
    assert 120 in shown.tolist()


def test_ranking_chart(long):
    out = borda(rank_frame(to_wide(long), "q10"))
    rel = disclose(out, kind="estimates", value_columns=["borda_score", "mean_rank"], title="Ways to ask for help")
    chart = ranking_chart(rel)
    widths = [p.get_width() for p in bars(chart.figure)]
    np.testing.assert_allclose(widths, out["borda_score"])
    assert widths == sorted(widths, reverse=True)

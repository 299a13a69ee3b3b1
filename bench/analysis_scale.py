"""Benchmark: 1,000,000 synthetic responses x 30 items through the full report pipeline.

Times loading, the statistics, disclosure control, charts and the whole report (HTML +
XLSX), and the same core aggregation (answer counts by item x gender) in DuckDB on the same
data in the same run. Prints the figures and writes bench/results/analysis_scale.json.

Run alone (it uses ~3 GB and both cores for DuckDB):
    .venv/bin/python bench/analysis_scale.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.charts import likert_chart  # noqa: E402
from analysis.descriptives import frame_counts, frequencies, shared_counts  # noqa: E402
from analysis.disclosure import disclose  # noqa: E402
from analysis.exports import write_report_xlsx  # noqa: E402
from analysis.frames import read_export, to_wide, write_parquet  # noqa: E402
from analysis.inference import compare_groups, crosstabs  # noqa: E402
from analysis.report import ReportInputs, build_report, write_html  # noqa: E402
from analysis.sdc import risk_report  # noqa: E402
from analysis.synthetic import synthetic_long  # noqa: E402


def timed(fn, repeat=1):
    """Median wall time of ``repeat`` runs (after the first when repeat > 1) and the result."""
    times, out = [], None
    runs = repeat + (1 if repeat > 1 else 0)
    for i in range(runs):
        t = time.perf_counter()
        out = fn()
        if repeat == 1 or i > 0:
            times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "analysis_scale.json")
    args = ap.parse_args(argv)
    res: dict = {
        "n_respondents": args.n,
        "n_items": 30,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": __import__("os").cpu_count(),
    }

    t_gen, long = timed(lambda: synthetic_long(args.n, n_items=30, n_sites=500, seed=42))
    cb = long.attrs["codebook"]
    res["answer_rows"] = len(long)
    res["generate_s"] = round(t_gen, 3)
    print(f"generated {len(long):,} answer rows for {args.n:,} children in {t_gen:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        snap = Path(tmp) / "snapshot.parquet"
        res["parquet_write_s"] = round(timed(lambda: write_parquet(long, snap))[0], 3)
        t_load, loaded = timed(lambda: read_export(snap, codebook=cb))
        res["load_parquet_s"] = round(t_load, 3)
        assert len(loaded) == len(long)
        del loaded
    res["to_wide_s"], wide = (lambda r: (round(r[0], 3), r[1]))(timed(lambda: to_wide(long)))

    # --- the core aggregation: answer counts by item x gender, ours vs DuckDB ---------------
    def ours():
        return frame_counts(long, ["item", "gender", "answer"])

    t_ours, (cube, cats) = timed(ours, repeat=3)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    view = long[["item", "gender", "answer"]]
    con.register("long_view", view)
    sql = (
        "SELECT item, gender, answer, count(*) AS n FROM {} "
        "WHERE answer IS NOT NULL AND gender IS NOT NULL GROUP BY ALL"
    )
    t_duck_view, ref = timed(lambda: con.execute(sql.format("long_view")).df(), repeat=3)
    con.execute("CREATE TABLE long_tbl AS SELECT * FROM long_view")
    t_duck_tbl, _ = timed(lambda: con.execute(sql.format("long_tbl")).df(), repeat=3)
    # same numbers?
    ii = [cats[0].index(x) for x in ref["item"].astype(str)]
    gg = [cats[1].index(x) for x in ref["gender"].astype(str)]
    aa = [cats[2].index(x) for x in ref["answer"].astype(str)]
    assert np.array_equal(cube[ii, gg, aa], ref["n"].to_numpy()), "counts differ from DuckDB"
    assert int(cube.sum()) == int(ref["n"].sum())
    res["aggregation"] = {
        "what": "answer counts by item x gender over the long frame",
        "ours_numpy_s": round(t_ours, 4),
        "duckdb_on_pandas_view_s": round(t_duck_view, 4),
        "duckdb_native_table_s": round(t_duck_tbl, 4),
        "ratio_vs_duckdb_view": round(t_ours / t_duck_view, 2),
        "ratio_vs_duckdb_table": round(t_ours / t_duck_tbl, 2),
    }
    print("aggregation", res["aggregation"], flush=True)

    # --- the statistics pass (90 tables: 30 items x overall/band/gender) -------------------
    def stats_pass():
        # as in the report: the count cubes are shared between tables and tests
        with shared_counts():
            f0 = frequencies(long)
            f1 = frequencies(long, by="band")
            f2 = frequencies(long, by="gender")
            ct = crosstabs(long, ["band", "gender", "site"])
            cg = compare_groups(long, ["band", "gender"])
        return f0, f1, f2, ct, cg

    t_stats, (f0, f1, f2, ct, cg) = timed(stats_pass)
    res["statistics_s"] = round(t_stats, 3)
    res["statistics_tables"] = int(f0["item"].nunique() * 3 + len(ct) + len(cg))

    def duck_stats():
        for by in ("1", "band", "gender"):
            con.execute(
                f"SELECT item, {by} AS g, answer, count(*) FROM long_all WHERE answer IS NOT NULL GROUP BY ALL"
            ).fetchall()
        for by in ("band", "gender", "site"):
            con.execute(
                f"SELECT item, {by}, answer, count(*) FROM long_all WHERE answer IS NOT NULL GROUP BY ALL"
            ).fetchall()

    con.register("long_all_view", long[["item", "band", "gender", "site", "answer"]])
    con.execute("CREATE TABLE long_all AS SELECT * FROM long_all_view")
    t_duck_stats, _ = timed(duck_stats, repeat=3)
    res["duckdb_same_groupbys_s"] = round(t_duck_stats, 3)
    res["statistics_ratio_vs_duckdb_groupbys"] = round(t_stats / t_duck_stats, 2)
    print(
        f"statistics {t_stats:.2f} s ({res['statistics_tables']} tables and tests); "
        f"DuckDB same group-bys {t_duck_stats:.2f} s",
        flush=True,
    )

    # --- disclosure control ---------------------------------------------------------------
    def sdc():
        rels = [disclose(f1[f1["item"] == i]) for i in f1["item"].unique()]
        rels += [disclose(f2[f2["item"] == i]) for i in f2["item"].unique()]
        rep = risk_report(wide, ["band", "gender", "disability", "site"])
        return rels, rep

    t_sdc, (rels, rep) = timed(sdc)
    res["disclosure_s"] = round(t_sdc, 3)
    res["risk"] = {"global_risk": round(rep.global_risk, 5), "violating_5_anonymity": rep.k_violations[5]}
    t_risk, _ = timed(lambda: risk_report(wide, ["band", "gender", "disability", "site"]), repeat=3)
    res["risk_report_s"] = round(t_risk, 3)

    # --- charts ---------------------------------------------------------------------------
    scale = [i for i, m in cb.items() if m.type == "scale"]

    def draw():
        pngs = []
        for item in scale:
            rel = disclose(f1[f1["item"] == item])
            pngs.append(likert_chart(rel, cb).to_png())
        return pngs

    t_charts, pngs = timed(draw)
    res["charts_s"] = round(t_charts, 3)
    res["charts"] = len(pngs)

    # --- the whole report -----------------------------------------------------------------
    del cube, ref, ct, cg, rels
    con.close()
    inputs = ReportInputs(
        title="Benchmark consultation",
        funnel={"invited": int(args.n * 1.2), "assented": args.n},
        safeguarding={"talk to someone": 120, "referrals": 4},
    )
    with tempfile.TemporaryDirectory() as tmp:

        def full():
            rep = build_report(long, inputs)
            write_html(rep, Path(tmp) / "report.html")
            write_report_xlsx(rep, Path(tmp) / "report.xlsx")
            return rep

        t_full, report = timed(full)
        res["full_report_html_xlsx_s"] = round(t_full, 3)
        res["report_html_bytes"] = (Path(tmp) / "report.html").stat().st_size
        res["report_tables"] = len(report.released_tables())
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    res["targets"] = {
        "full_report_under_30s": res["full_report_html_xlsx_s"] < 30,
        "aggregation_within_2x_duckdb": res["aggregation"]["ratio_vs_duckdb_view"] <= 2,
        "statistics_within_2x_duckdb": res["statistics_ratio_vs_duckdb_groupbys"] <= 2,
        "peak_under_4gb": res["peak_rss_mb"] < 4096,
    }
    print(json.dumps(res, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

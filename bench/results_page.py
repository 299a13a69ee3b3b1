"""Benchmark: the analyst's results page for 2,000 children, built from a release (issue 15).

Seeds a SQLite database with 2,000 completed children answering the bundled consultation
(3 age groups, 8 sites, realistically skewed answers), makes a release (the analysis, the
ledger checks and the intruder audit), then times GET requests of every part of the results
page through the Flask test client (signed in as an analyst): one warm-up, then the median of
5. Prints the figures and writes bench/results/results_page.json.

    .venv/bin/python bench/results_page.py [--n 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args(argv)
    from flask_migrate import upgrade

    from analysis.release import items_with_headline
    from survey import create_app
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import accounts, consultations, releases
    from tests.release_seed import bundled_consultation, seed_completed

    folder = tempfile.mkdtemp(prefix="sauti-bench-")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench" * 8,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
        },
        instance_path=folder,
    )
    out: dict = {"n_children": args.n, "machine": platform.platform(), "python": platform.python_version()}
    with app.app_context():
        upgrade()
        cid = bundled_consultation("District consultation")
        user = accounts.create_user("bench-analyst", "a long bench password 1", ["analyst"])
        consultations.add_member(db.session.get(Consultation, cid), user, "analyst")
        t = time.perf_counter()
        seed_completed(cid, args.n, bands=("A", "B", "C"), n_sites=8)
        out["seed_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        rel = releases.make_release(db.session.get(Consultation, cid), user)
        out["make_release_s"] = round(time.perf_counter() - t, 2)
        content = releases.content_of(rel)
        out["items_with_headline"] = round(items_with_headline(content), 3)
        out["hidden_cells"] = sum(c["count"] is None for it in content["items"] for c in it["cells"])
    client = app.test_client()
    signed = client.post("/staff/sign-in", data={"username": "bench-analyst", "password": "a long bench password 1"})
    assert signed.status_code in (302, 303), signed.status_code
    first = client.get(f"/reports/{cid}/")
    assert first.status_code == 200, first.status_code
    slugs = list(dict.fromkeys(re.findall(r"\?part=([a-z_]+)", first.get_data(as_text=True))))
    timings = {}
    for slug in slugs:
        url = f"/reports/{cid}/?part={slug}"
        client.get(url)  # warm-up
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            response = client.get(url)
            runs.append(time.perf_counter() - t)
            assert response.status_code == 200
        timings[slug] = {
            "median_s": round(statistics.median(runs), 4),
            "max_s": round(max(runs), 4),
            "html_bytes": len(response.get_data()),
        }
    out["parts"] = timings
    out["slowest_part_median_s"] = max(v["median_s"] for v in timings.values())
    print(json.dumps(out, indent=2))
    target = ROOT / "bench" / "results" / "results_page.json"
    target.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

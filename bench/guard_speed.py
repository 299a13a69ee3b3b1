"""How fast the guards against hostile input answer: the speed checks that were once unit tests.

Three figures, each with its target (tests only check what the guards decide; speed is measured
here, on the machine at hand, and written to bench/results/guard_speed.json):

* hostile XLSForm uploads (garbage, a fake zip, an empty file, an 80 MB zip bomb) are refused
  within 5 s each;
* the regex() guard: safe patterns answer and a nested repeat ("(a+)+$") is refused, all three
  within 1 s;
* free-text screening runs at 500 or more answers a second;
* a 40 x 5 table is protected (primary and secondary suppression) within 5 s;
* the release of 2,000 children of the bundled consultation is built and audited within 20 s.

    .venv/bin/python bench/guard_speed.py
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.disclosure import disclose  # noqa: E402
from analysis.frames import codebook_from_instrument  # noqa: E402
from analysis.release import build_release, intruder_audit  # noqa: E402
from analysis.release_rules import ReleaseRules  # noqa: E402
from analysis.synthetic import skewed_from_codebook  # noqa: E402
from analysis.textscreen import screen_texts  # noqa: E402
from instruments.bundled import load_bundled  # noqa: E402
from instruments.errors import ExpressionError, InstrumentError  # noqa: E402
from instruments.expressions import evaluate  # noqa: E402
from instruments.xlsform import import_xlsform  # noqa: E402
from tests.analysis.test_textscreen import NAMES, SCHOOLS, corpus  # noqa: E402
from tests.instruments.conftest import SIMPLE_SHEETS, rewrite_zip, workbook_bytes  # noqa: E402


def _seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _refusal(source: bytes) -> None:
    try:
        import_xlsform(source)
    except InstrumentError:
        return
    raise AssertionError("a hostile upload was accepted")


def _regexes() -> None:
    assert evaluate("regex(., '^[a-z]+(-[a-z]+)?$')", {}, current="abc-def") is True
    assert evaluate("regex(., '^(ab)+$')", {}, current="ab" * 1000) is True
    try:
        evaluate("regex(., ${p})", {"p": "(a+)+$"}, current="a" * 40 + "b")
    except ExpressionError:
        return
    raise AssertionError("a nested repeat was allowed")


def main() -> int:
    bomb = rewrite_zip(workbook_bytes(SIMPLE_SHEETS), {}, add={"xl/media/padding.bin": b"\0" * (80 * 1024 * 1024)})
    uploads = {
        "garbage": bytes(range(256)) * 40,
        "fake zip": b"PK\x03\x04" + b"\xff" * 1000,
        "empty": b"",
        "zip bomb": bomb,
    }
    refusals = {name: _seconds(lambda data=data: _refusal(data)) for name, data in uploads.items()}
    regex = _seconds(_regexes)
    texts = [t for t, _, _ in corpus()] * 5
    screening = len(texts) / _seconds(lambda: screen_texts(texts, names=NAMES, schools=SCHOOLS))
    table = pd.DataFrame(np.random.default_rng(7).choice([0, 2, 4, 7, 12, 15, 30], size=(40, 5)))
    suppression = _seconds(lambda: disclose(table))
    bands = ("A", "B", "C")
    cb = codebook_from_instrument(load_bundled())
    long = skewed_from_codebook(cb, 2000, seed=3, bands=bands, n_sites=8)
    release = _seconds(lambda: intruder_audit([build_release(long, cb, ReleaseRules(), bands=bands)]))
    results = {
        "machine": platform.platform(),
        "xlsform_refusal_seconds": {name: round(s, 3) for name, s in refusals.items()},
        "xlsform_refusal_ok": max(refusals.values()) < 5,
        "regex_guard_seconds": round(regex, 3),
        "regex_guard_ok": regex < 1,
        "screening_texts_per_second": round(screening),
        "screening_ok": screening >= 500,
        "large_table_suppression_seconds": round(suppression, 3),
        "large_table_ok": suppression < 5,
        "release_2000_seconds": round(release, 2),
        "release_2000_ok": release < 20,
    }
    for name, s in refusals.items():
        print(f"XLSForm refusal, {name:9s} {s:7.3f} s   (target < 5 s)")
    print(f"regex() guard, 3 calls     {regex:7.3f} s   (target < 1 s)")
    print(f"free-text screening      {screening:7.0f} /s  (target >= 500 /s)")
    print(f"40 x 5 table protected     {suppression:7.3f} s   (target < 5 s)")
    print(f"release of 2,000 children  {release:7.3f} s   (target < 20 s)")
    out = ROOT / "bench" / "results" / "guard_speed.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    oks = [value for key, value in results.items() if key.endswith("_ok")]
    return 0 if all(oks) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Render the sample programme report and feedback sheets to PNG, to be looked at (issue 7).

    .venv/bin/python bench/render_samples.py [--out bench/results/samples] [--n 2000] [--full]

Writes, for a synthetic consultation of ``--n`` children (:mod:`analysis.samples`):

* ``report.html``, ``report.pdf`` and PNGs of the HTML report (headless Chromium through
  Playwright, ``/usr/bin/chromium``), one PNG per screen-height slice;
* ``report-pdf-<page>.png`` from the PDF (``pdftoppm`` from poppler-utils, when installed);
* ``feedback-<band>-<lang>.html`` / ``.png`` for bands A, B, C in English and Kiswahili.

Without ``--full`` only the first report slices, two PDF pages and the feedback sheets are
rendered (each PNG < 300 KB, small enough to commit); ``--full`` renders every slice of the
report and every PDF page. The .html and .pdf are removed afterwards unless ``--keep-sources``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"


def _screenshots(pages: list[tuple[Path, Path, int]], slice_height: int, max_slices: int) -> list[Path]:
    """Full-page screenshots of local HTML files, cut into slices of ``slice_height`` pixels."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for html, png, width in pages:
                page = browser.new_page(viewport={"width": width, "height": slice_height})
                page.goto(html.resolve().as_uri())
                # The content's own height (a short sheet gets no empty screen below it).
                height = int(page.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom) + 24"))
                n = min(max_slices, -(-height // slice_height))
                for i in range(n):
                    target = png if n == 1 else png.with_name(f"{png.stem}-{i + 1:02d}.png")
                    page.screenshot(
                        path=str(target),
                        clip={
                            "x": 0,
                            "y": i * slice_height,
                            "width": width,
                            "height": min(slice_height, height - i * slice_height),
                        },
                        full_page=True,
                    )
                    out.append(target)
                page.close()
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "samples")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--full", action="store_true", help="every report slice and PDF page")
    ap.add_argument(
        "--keep-sources", action="store_true", help="keep the rendered .html and .pdf next to the PNGs (several MB)"
    )
    args = ap.parse_args(argv)

    from analysis.feedback import render_feedback_html
    from analysis.report import render_html, write_report_pdf
    from analysis.samples import sample_consultation, sample_feedback, sample_report

    start = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    sample = sample_consultation(n=args.n, seed=args.seed)
    report = sample_report(sample)
    (out / "report.html").write_text(render_html(report), encoding="utf-8")
    write_report_pdf(report, out / "report.pdf")
    print(f"[{time.perf_counter() - start:5.1f} s] report of {report.n_respondents} children", file=sys.stderr)
    pages = [(out / "report.html", out / "report.png", 1000)]
    for band in ("A", "B", "C"):
        for lang in ("en", "sw"):
            sheet = sample_feedback(sample, band, lang)
            html = out / f"feedback-{band}-{lang}.html"
            html.write_text(render_feedback_html(sheet), encoding="utf-8")
            pages.append((html, out / f"feedback-{band}-{lang}.png", 800))
            for w in sheet.warnings:
                print(f"  feedback {band}/{lang}: {w}", file=sys.stderr)
    pngs = _screenshots(pages[:1], 1400, 99 if args.full else 3)
    pngs += _screenshots(pages[1:], 1600, 1)
    if shutil.which("pdftoppm"):
        last = [] if args.full else ["-l", "2"]
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", *last, str(out / "report.pdf"), str(out / "report-pdf")], check=True
        )
        pngs += sorted(out.glob("report-pdf-*.png"))
    else:
        print("pdftoppm not found (apt-get install poppler-utils): PDF pages not rendered", file=sys.stderr)
    for png in pngs:
        print(f"{png.relative_to(out)}\t{png.stat().st_size / 1024:.0f} KB")
    if not args.keep_sources:
        for source in [*out.glob("*.html"), out / "report.pdf"]:
            source.unlink(missing_ok=True)
    print(f"[{time.perf_counter() - start:5.1f} s] done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

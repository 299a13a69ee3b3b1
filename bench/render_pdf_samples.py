"""Render the programme report and feedback sheet PDFs to PNG, to be looked at (issue 15).

    .venv/bin/python bench/render_pdf_samples.py [--out bench/results/pdf-samples] [--sizes 30 120 2000]

For each size (synthetic children answering the bundled instrument, :mod:`analysis.samples`)
and each language (English, Arabic: the question and answer texts of the report, the whole
feedback sheet), writes ``report-<n>-<lang>.pdf`` and ``feedback-<n>-<band>-<lang>.pdf``, and
PNGs of their pages with ``pdftoppm`` (poppler-utils: ``apt-get install -y poppler-utils``).
Without ``--all-pages`` only the report's first 6 and last 2 pages are rendered. The PDFs are
left next to the PNGs (not committed; see the folder's .gitignore).
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


def _png(pdf: Path, pages: list[int] | None, dpi: int) -> list[Path]:
    if not shutil.which("pdftoppm"):
        print("pdftoppm not found (apt-get install -y poppler-utils): no PNGs", file=sys.stderr)
        return []
    out = []
    for page in pages or [None]:
        args = ["pdftoppm", "-png", "-r", str(dpi)]
        if page is not None:
            args += ["-f", str(page), "-l", str(page)]
        subprocess.run([*args, str(pdf), str(pdf.with_suffix(""))], check=True)
    out = sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))
    return out


def _page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pdf-samples")
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 120, 2000])
    ap.add_argument("--languages", nargs="+", default=["en", "ar"])
    ap.add_argument("--all-pages", action="store_true")
    ap.add_argument("--dpi", type=int, default=60)
    args = ap.parse_args(argv)

    from analysis.feedback import render_feedback_pdf
    from analysis.report import write_report_pdf
    from analysis.samples import sample_consultation, sample_feedback, sample_report

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        for lang in args.languages:
            for old in [*out.glob(f"report-{n}-{lang}-*.png"), *out.glob(f"feedback-{n}-*-{lang}-*.png")]:
                old.unlink()
            t = time.perf_counter()
            sample = sample_consultation(n=n, language=lang)
            report = sample_report(sample)
            built = time.perf_counter() - t
            pdf = write_report_pdf(report, out / f"report-{n}-{lang}.pdf")
            drawn = time.perf_counter() - t - built
            pages = _page_count(pdf)
            wanted = None if args.all_pages else sorted({*range(1, min(6, pages) + 1), max(1, pages - 1), pages})
            pngs = _png(pdf, wanted, args.dpi)
            print(f"report n={n} {lang}: {pages} pages, built {built:.1f} s, PDF {drawn:.1f} s, {len(pngs)} PNGs")
            for band in ("B", "C"):
                sheet = sample_feedback(sample, band, lang)
                path = out / f"feedback-{n}-{band}-{lang}.pdf"
                path.write_bytes(render_feedback_pdf(sheet))
                _png(path, None, args.dpi)
    return 0


if __name__ == "__main__":
    sys.exit(main())

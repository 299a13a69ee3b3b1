"""Command line of the analysis package (the ``sauti`` CLI can mount :func:`main`).

Examples
--------
``python -m analysis.cli demo --out export.csv --codebook codebook.json``
``python -m analysis.cli report --input export.csv --codebook codebook.json --out report.html``
``python -m analysis.cli risk --input export.csv --keys band gender site``
``python -m analysis.cli export --input export.csv --out-dir out --format xlsx``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .release_rules import DEFAULT_K, MICRODATA_K, MIN_K

__all__ = ["build_parser", "main"]


def _progress(msg: str, start: float) -> None:
    print(f"[{time.perf_counter() - start:6.1f} s] {msg}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so the ``sauti`` CLI can reuse it)."""
    p = argparse.ArgumentParser(prog="sauti-analysis", description="Reports and exports with disclosure control.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="programme report from an export file")
    r.add_argument(
        "--input",
        required=True,
        type=Path,
        help="long-format file (.csv/.parquet) or a sauti export (.csv/.xlsx/.sav/.parquet)",
    )
    r.add_argument("--out", required=True, type=Path, help="report .html (or a directory)")
    r.add_argument(
        "--codebook",
        type=Path,
        help="codebook JSON (long files) or the export's codebook CSV (default: found next to the export, or inferred)",
    )
    r.add_argument("--xlsx", type=Path, help="also write the tables to this .xlsx")
    r.add_argument("--pdf", type=Path, help="also write the report to this .pdf")
    r.add_argument("--title", default="Consultation report")
    r.add_argument("--inputs", type=Path, help="JSON with programme records (funnel, gc12, influence_log, ...)")
    r.add_argument(
        "--k",
        type=int,
        default=None,
        help=f"suppress counts below k (min {MIN_K}; default: SAUTI_DISCLOSURE_K, else {DEFAULT_K})",
    )
    r.add_argument("--no-charts", action="store_true")
    d = sub.add_parser("demo", help="write a synthetic export for trying things out")
    d.add_argument("--out", required=True, type=Path)
    d.add_argument("--codebook", type=Path)
    d.add_argument("--n", type=int, default=2000)
    d.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("export", help="de-identified export with codebook and risk report")
    e.add_argument("--input", required=True, type=Path)
    e.add_argument("--codebook", type=Path)
    e.add_argument("--out-dir", required=True, type=Path)
    e.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv")
    e.add_argument("--keys", nargs="+", default=["band", "gender", "disability"])
    e.add_argument("--k", type=int, default=MICRODATA_K)
    k = sub.add_parser("risk", help="quasi-identifier risk report (sdcMicro measures)")
    k.add_argument("--input", required=True, type=Path)
    k.add_argument("--codebook", type=Path)
    k.add_argument("--keys", nargs="+", default=["band", "gender", "disability", "site"])
    return p


def _load(args):
    from .exportfile import read_answers

    return read_answers(args.input, getattr(args, "codebook", None))


def _report(args) -> int:
    from .exports import write_report_xlsx
    from .release import build_release, release_to_report
    from .release_rules import rules_for_report
    from .report import ReportInputs, programme_sections, write_html

    start = time.perf_counter()
    rules = rules_for_report(k=args.k)  # as `sauti report`; refused below the minimum, never raised
    long, cb = _load(args)
    _progress(f"read {len(long):,} answers", start)
    extra = json.loads(args.inputs.read_text(encoding="utf-8")) if args.inputs else {}
    inputs = ReportInputs(title=args.title, **extra)
    release = build_release(long, cb, rules, funnel=inputs.funnel)
    rep = release_to_report(release, title=args.title, records=programme_sections(inputs, rules.policy()))
    _progress("release built and checked (disclosure control and intruder audit)", start)
    out = args.out / "report.html" if args.out.is_dir() else args.out
    write_html(rep, out)
    _progress(f"wrote {out}", start)
    if args.xlsx:
        write_report_xlsx(rep, args.xlsx)
        _progress(f"wrote {args.xlsx}", start)
    if args.pdf:
        from .report import write_report_pdf

        write_report_pdf(rep, args.pdf)
        _progress(f"wrote {args.pdf}", start)
    return 0


def _export(args) -> int:
    from .exports import export_deidentified
    from .sdc import MicrodataPolicy

    start = time.perf_counter()
    long, cb = _load(args)
    _progress(f"read {len(long):,} answers", start)
    files, rel = export_deidentified(
        long, args.out_dir, fmt=args.format, keys=args.keys, codebook=cb, policy=MicrodataPolicy(k=args.k)
    )
    for f in files:
        _progress(f"wrote {f}", start)
    print(f"global risk {rel.risk.global_risk:.3%}; {rel.risk.n} records")
    return 0


def _demo(args) -> int:
    from .frames import codebook_to_dict
    from .synthetic import synthetic_codebook, synthetic_long

    long = synthetic_long(args.n, seed=args.seed)
    long.to_csv(args.out, index=False)
    if args.codebook:
        args.codebook.write_text(json.dumps(codebook_to_dict(synthetic_codebook()), indent=1), encoding="utf-8")
    print(f"wrote {len(long):,} answers of {args.n:,} children to {args.out}")
    return 0


def _risk(args) -> int:
    from .frames import to_wide
    from .sdc import risk_report

    long, cb = _load(args)
    wide = to_wide(long, cb)
    keys = [k for k in args.keys if k in wide.columns]
    rep = risk_report(wide, keys)
    print(rep.summary().to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit status (0 success, 2 usage or data error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        commands = {"report": _report, "demo": _demo, "risk": _risk, "export": _export}
        return commands[args.command](args)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Benchmark: how many real, public XLSForms Sauti imports, of those pyxform itself accepts.

Reads every form under ``tests/instruments/data/corpus/`` (``.md``, ``.csv``, ``.xlsx``,
``.xls``), converts it with pyxform (``pyxform.xls2xform.convert``, without the Java
validator) and imports it with :func:`instruments.import_xlsform`. Prints the forms pyxform
accepts, the forms Sauti imports, the rate, and each refusal's reason grouped (the issue
code and the message with the form's own names taken out), and writes the figures to
``bench/results/xlsform_corpus.json``.

    .venv/bin/python bench/xlsform_corpus.py            # figures and the grouped refusals
    .venv/bin/python bench/xlsform_corpus.py --list     # also each refused form and why

The target the issue set: at least 95 % of the forms pyxform accepts.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "instruments" / "data" / "corpus"
OUT = ROOT / "bench" / "results" / "xlsform_corpus.json"
TYPES = {".md": "md", ".csv": "csv", ".xlsx": "xlsx", ".xls": "xls", ".xlsm": "xlsx"}
#: Refusals Sauti keeps on purpose (the issue: "a clear refusal is right for what Sauti cannot
#: do offline"): data from the device, times, the last answers saved on the device (another
#: child's), repeats deeper than one inside another, forms with nothing left to ask once device
#: data is left out, and the uses of attached files Sauti cannot do on its server. Forms that
#: read attached files it can (select_one_from_file, search(), xml-external look-ups,
#: pulldata()) import and wait for their files: they count as imported.
BY_DESIGN = re.compile(
    r"unknown function (instance|pulldata|now|decimal-date-time|decimal-time|date-time|"
    r"format-date-time|digest|uuid|random|randomize|property)\(\)"
    r"|a map file \(GeoJSON\)|cannot do on its server"
    r"|Nothing is left to ask|answers last saved on this device"
    r"|which is itself inside a repeat"
)


def forms(corpus: Path = CORPUS) -> list[Path]:
    """Every form of the corpus, sorted."""
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() in TYPES and p.is_file())


def pyxform_accepts(path: Path) -> tuple[bool, str]:
    """True when pyxform converts the form to an XForm (its own checks, no Java validator)."""
    from pyxform.xls2xform import convert

    try:
        convert(xlsform=path.read_bytes(), file_type=f".{TYPES[path.suffix.lower()]}", form_name="data", validate=False)
    except Exception as error:  # noqa: BLE001 - any refusal counts as one
        return False, f"{type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
    return True, ""


def _reason(issue) -> str:  # an instruments Issue
    """The refusal's reason without the form's own names and values, so that alike ones group."""
    message = re.sub(r"'[^']*'", "'…'", issue.message)
    message = re.sub(r"\$\{[^}]*\}", "${…}", message)
    message = re.sub(r"\b\d+\b", "N", message)
    return f"{issue.code.value}: {message[:140]}"


def sauti_imports(path: Path) -> tuple[bool, list[str], list]:
    """True when Sauti imports the form; the grouped reasons of its errors; the issues."""
    from instruments import InstrumentError, import_xlsform

    try:
        import_xlsform(path, file_type=TYPES[path.suffix.lower()])
    except InstrumentError as error:
        errors = [i for i in error.issues if i.severity.value == "error"] or list(error.issues)
        return False, sorted({_reason(i) for i in errors}), errors
    except Exception as error:  # noqa: BLE001 - a crash is the worst outcome: counted apart
        return False, [f"CRASH: {type(error).__name__}"], []
    return True, [], []


def _reasons_of(by_reason: dict[str, list[str]]) -> dict[str, list[str]]:
    """Form -> its grouped reasons (the inverse of the grouping)."""
    out: dict[str, list[str]] = collections.defaultdict(list)
    for reason, names in by_reason.items():
        for name in names:
            out[name].append(reason)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print each refused form and why")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = forms()
    accepted = imported = crashes = 0
    by_reason: dict[str, list[str]] = collections.defaultdict(list)
    pyxform_refused: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    for path in paths:
        name = str(path.relative_to(CORPUS))
        ok, why = pyxform_accepts(path)
        if not ok:
            pyxform_refused[name] = why
            continue
        accepted += 1
        done, reasons, issues = sauti_imports(path)
        if done:
            imported += 1
            continue
        crashes += any(r.startswith("CRASH") for r in reasons)
        refused[name] = [f"{i.location}: {i.message} Fix: {i.fix}" for i in issues] or reasons
        for reason in reasons:
            by_reason[reason].append(name)
    rate = imported / accepted if accepted else 0.0
    by_design = sorted(
        name for name, reasons in _reasons_of(by_reason).items() if any(BY_DESIGN.search(r) for r in reasons)
    )
    supportable = accepted - len(by_design)
    rate_supportable = imported / supportable if supportable else 0.0
    sources: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for path in paths:
        name = str(path.relative_to(CORPUS))
        if name in pyxform_refused:
            continue
        source = name.split("__")[0]
        sources[source][0] += 1
        sources[source][1] += name not in refused
    figures = {
        "forms": len(paths),
        "pyxform_accepts": accepted,
        "sauti_imports": imported,
        "rate": round(rate, 4),
        "refused_by_design": len(by_design),
        "rate_without_refusals_by_design": round(rate_supportable, 4),
        "by_source": {
            source: {"pyxform_accepts": n, "sauti_imports": ok} for source, (n, ok) in sorted(sources.items())
        },
        "crashes": crashes,
        "target": 0.95,
        "refusals": {
            reason: sorted(names) for reason, names in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        },
        "pyxform_refuses": len(pyxform_refused),
        "seconds": round(time.perf_counter() - started, 1),
        "python": sys.version.split()[0],
    }
    print(f"forms in the corpus:   {len(paths)}")
    print(f"pyxform accepts:       {accepted}  (refuses {len(pyxform_refused)})")
    print(f"Sauti imports:         {imported}")
    print(f"rate:                  {rate:.1%}  (target 95 %)  crashes: {crashes}")
    print(
        f"refused by design:     {len(by_design)} (device data, times, another child's answers, "
        "repeats three deep, attached files used in ways Sauti cannot follow offline)"
    )
    print(f"rate without those:    {rate_supportable:.1%}")
    print("by source (pyxform accepts / Sauti imports):")
    for source, (n, ok) in sorted(sources.items()):
        print(f"  {source:40s} {n:3d} {ok:3d}")
    if by_reason:
        print("refusals, grouped:")
        for reason, names in figures["refusals"].items():
            print(f"  {len(names):3d}  {reason}")
    if args.list:
        for name, lines in refused.items():
            print(f"\n{name}")
            for line in lines:
                print(f"    {line}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Recall and false-positive rate of the concern rules on the labelled sentences, per language.

Reads tests/analysis/data/screening/<lang>.tsv (label, category, text: written before the rules)
tests/analysis/data/screening/dev/<lang>.tsv (sentences written later, while tuning them) and
tests/analysis/data/screening/heldout/ and heldout-2/<lang>.tsv (written by reviewers who never saw
the rules; the first has since been tuned on),
screens each sentence with every shipped rule file (analysis/screening/*.yaml), prints recall on
the disclosures and the false-positive rate on the ordinary answers per language and set, and
writes bench/results/screening.json.

    .venv/bin/python bench/screening.py            # figures per language
    .venv/bin/python bench/screening.py --show     # and the sentences missed or wrongly flagged
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.concerns import evaluate  # noqa: E402

DATA = ROOT / "tests" / "analysis" / "data" / "screening"


def labelled(language: str, folder: Path = DATA) -> list[tuple[bool, str]]:
    with open(folder / f"{language}.tsv", encoding="utf-8", newline="") as handle:
        return [(row["label"] == "concern", row["text"])
                for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print the sentences missed or wrongly flagged")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    sets = (("evaluation", DATA), ("development", DATA / "dev"),
            ("first held-out, since tuned on", DATA / "heldout"), ("held-out", DATA / "heldout-2"))
    for name, folder in sets:
        print(f"{name} set ({folder.relative_to(ROOT)})")
        for path in sorted(folder.glob("*.tsv")):
            language = path.stem
            score = evaluate(labelled(language, folder))
            results.setdefault(name, {})[language] = {
                "concerns": score.concerns, "ordinary": score.ordinary, "recall": round(score.recall, 4),
                "false_positive_rate": round(score.false_positive_rate, 4)}
            print(f"  {language}: recall {score.recall:.1%} of {score.concerns} disclosures, "
                  f"false positives {score.false_positive_rate:.1%} of {score.ordinary} ordinary answers")
            if args.show:
                for text in score.missed:
                    print(f"     missed: {text}")
                for text in score.false_alarms:
                    print(f"     flagged: {text}")
    out = ROOT / "bench" / "results" / "screening.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

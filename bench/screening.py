"""Recall and false-positive rate of the concern screener per language and set, cross-validated.

Reads the labelled sets in tests/analysis/data/screening/ (see its README): the main files
<lang>.tsv, dev/, developers/, heldout/ to heldout-7/ and training-1/ to training-6/ (each <lang>.tsv: label,
[category,] text), and prints,
per set and language:

* as shipped: the rules and the model trained on every set (in-sample for the model, and the
  rules were tuned on these sets too: an upper bound, not a figure for unseen text);
* leave one set out: the model trained on the other sets and scored on this one, with the rules
  (the rules cannot be un-tuned: for them only a reviewer's set scored before any tuning on it
  says something about unseen wording; python -m analysis.concernmodel --cross-check prints
  the same per language for the reviewers' sets, rules alone, model alone and both);
* rules alone, for comparison;

then the time to screen one answer over 2,000 answers (screen_text: rules, model, name removal),
and writes bench/results/screening.json.  Training needs scikit-learn (pip install '.[train]').

    .venv/bin/python bench/screening.py            # figures per language and set
    .venv/bin/python bench/screening.py --show     # and the sentences missed or wrongly flagged
    .venv/bin/python bench/screening.py --sweep    # leave-one-set-out figures for other thresholds
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.concernmodel import ConcernModel, fit, labelled_sets, load_model  # noqa: E402
from analysis.concerns import find_concerns, rule_languages, rules_for  # noqa: E402
from analysis.textscreen import screen_text  # noqa: E402

DATA = ROOT / "tests" / "analysis" / "data" / "screening"
NAMES = {
    "main": "evaluation (written before the rules)",
    "dev": "development (written while tuning)",
    "heldout": "first held-out (since tuned on)",
    "heldout-2": "second held-out (since tuned on)",
    "heldout-3": "third held-out (model since trained on it)",
    "heldout-4": "fourth held-out (model since trained on it)",
    "heldout-5": "fifth held-out (model since trained on it)",
    "heldout-6": "sixth held-out (scored blind once, then trained on)",
    "training-1": "independent writer, training (scored blind once, then trained on)",
    "training-2": "independent writer, training (scored blind once, then trained on)",
    "training-3": "independent writer, everyday complaints (training only)",
    "training-4": "independent writer, hard negatives (scored blind once, then trained on)",
    "training-5": "independent writer, subtle disclosures and idioms (scored blind once, then trained on)",
    "heldout-7": "seventh held-out (scored blind once, then trained on)",
    "training-6": "independent writer, hard negatives fr/es/sw and Arabic (scored blind once, then trained on)",
    "training-7": "independent writer, Arabizi only (training only)",
    "training-8": "independent writer, short everyday sentences about family (training only)",
    "training-9": "five independent writers, hard negatives in every language (training only)",
    "training-10": "two independent writers, Arabic everyday life and opinions (training only)",
    "training-11": "two independent writers, hard negatives ar/fr/sw (scored blind once, then trained on)",
    "training-12": "two writers, hard negatives en/es, long answers ar/fr/sw (scored blind once, then trained on)",
    "training-13": "two writers, Arabic everyday life, en/fr/es/sw mixed answers (scored blind once, then trained on)",
    "training-14": "two writers, answers to the consultation's questions (scored blind once, then trained on)",
    "developers": "written by the developers (training only)",
}


def score(rows: list[tuple[str, bool, str, bool]]) -> dict:
    """rows: (language, is_concern, text, flagged) -> figures per language and for all."""
    out = {}
    for language in sorted({r[0] for r in rows}) + ["all"]:
        mine = [r for r in rows if language in ("all", r[0])]
        concerns = [r for r in mine if r[1]]
        ordinary = [r for r in mine if not r[1]]
        out[language] = {
            "concerns": len(concerns),
            "ordinary": len(ordinary),
            "recall": round(sum(r[3] for r in concerns) / len(concerns), 4) if concerns else 1.0,
            "false_positive_rate": round(sum(r[3] for r in ordinary) / len(ordinary), 4) if ordinary else 0.0,
            "missed": [r[2] for r in concerns if not r[3]],
            "false_alarms": [r[2] for r in ordinary if r[3]],
        }
    return out


def show(title: str, figures: dict, verbose: bool) -> None:
    print(f"  {title}")
    for language, f in figures.items():
        print(
            f"    {language}: recall {f['recall']:.1%} of {f['concerns']}, "
            f"false positives {f['false_positive_rate']:.1%} of {f['ordinary']}"
        )
        if verbose and language != "all":
            for text in f["missed"]:
                print(f"       missed: {text}")
            for text in f["false_alarms"]:
                print(f"       flagged: {text}")


def hypothetical(text: str, model) -> bool:
    """Whether a language's ``hypothetical`` words keep the model alone from flagging ``text``
    (looked for in its most worrying sentence, as analysis.concerns.find_concerns does)."""
    folded = model.strongest(text)[1]
    return any(
        rules_for(lang).applies(folded) and rules_for(lang).talks_hypothetically(folded, folded=True)
        for lang in rule_languages()
    )


def timing(n: int = 2000) -> dict:
    """Seconds per answer for screen_text over ``n`` answers drawn from the labelled sentences
    (with longer answers made by joining several)."""
    texts = [text for rows in labelled_sets(DATA).values() for _, _, text in rows]
    rng = random.Random(16)
    answers = [" ".join(rng.sample(texts, rng.choice((1, 1, 1, 2, 4)))) for _ in range(n)]
    screen_text("warm up")
    start, cpu = time.perf_counter(), time.process_time()
    for answer in answers:
        screen_text(answer, names=["Amina", "Mrs Achieng"])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    model = load_model()
    rules_cpu = time.process_time()
    for answer in answers:
        find_concerns(answer, model=None)
    rules_cpu = time.process_time() - rules_cpu
    model_cpu = time.process_time()
    for answer in answers:
        model.probability(answer)
    model_cpu = time.process_time() - model_cpu
    # wall time depends on what else the machine runs; CPU time less so
    return {
        "answers": n,
        "seconds": round(elapsed, 3),
        "ms_per_answer": round(1000 * elapsed / n, 3),
        "cpu_ms_per_answer": round(1000 * cpu / n, 3),
        "rules_cpu_ms_per_answer": round(1000 * rules_cpu / n, 3),
        "model_cpu_ms_per_answer": round(1000 * model_cpu / n, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print the sentences missed or wrongly flagged")
    parser.add_argument("--sweep", action="store_true", help="leave-one-set-out figures for other thresholds")
    args = parser.parse_args()
    sets = labelled_sets(DATA)
    shipped = load_model()
    results: dict = {
        "thresholds": {"flag_at": shipped.flag_at, "keep_rule_at": shipped.keep_rule_at},
        "shipped": {},
        "leave_one_set_out": {},
        "rules_alone": {},
    }
    probabilities: dict[str, list[tuple[float, bool]]] = {}
    for name, rows in sets.items():
        print(f"{NAMES.get(name, name)} set: {name}")
        rules = [bool(find_concerns(text, model=None)) for _, _, text in rows]
        flagged = [bool(find_concerns(text)) for _, _, text in rows]
        others = [(label, text) for other, more in sets.items() if other != name for _, label, text in more]
        model = fit(others, flag_at=shipped.flag_at, keep_rule_at=shipped.keep_rule_at)
        probabilities[name] = [
            (model.probability(text), rule, hypothetical(text, model))
            for (_, _, text), rule in zip(rows, rules, strict=True)
        ]
        crossed = [bool(find_concerns(text, model=model)) for _, _, text in rows]
        for key, title, decisions in (
            ("shipped", "as shipped (rules and model trained on every set)", flagged),
            ("leave_one_set_out", "leave this set out (model trained on the others)", crossed),
            ("rules_alone", "rules alone", rules),
        ):
            figures = score([(lang, label, text, d) for (lang, label, text), d in zip(rows, decisions, strict=True)])
            show(title, figures, args.show and key != "shipped")
            results[key][name] = {
                lang: {k: v for k, v in f.items() if args.show or k not in ("missed", "false_alarms")}
                for lang, f in figures.items()
            }
    if args.sweep:
        print("leave one set out, other thresholds (recall / false positives per set)")
        for flag_at in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
            for keep in (0.1, 0.2, 0.3):
                line = []
                for name, rows in sets.items():
                    d = [
                        ConcernModel.from_terms({}, 0.0, flag_at, keep).decide(p, rule, hypo)
                        for p, rule, hypo in probabilities[name]
                    ]
                    f = score([(lang, label, text, x) for (lang, label, text), x in zip(rows, d, strict=True)])["all"]
                    line.append(f"{name} {f['recall']:.2f}/{f['false_positive_rate']:.2f}")
                print(f"  flag_at {flag_at} keep_rule_at {keep}: " + "  ".join(line))
                results.setdefault("sweep_leave_one_set_out", {})[f"flag_at {flag_at} keep_rule_at {keep}"] = line
    results["timing"] = timing()
    t = results["timing"]
    print(
        f"screen_text: {t['ms_per_answer']} ms an answer ({t['cpu_ms_per_answer']} ms CPU: rules "
        f"{t['rules_cpu_ms_per_answer']}, model {t['model_cpu_ms_per_answer']}) over {t['answers']} answers"
    )
    out = ROOT / "bench" / "results" / "screening.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

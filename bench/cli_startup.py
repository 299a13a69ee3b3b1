"""Benchmark: how much CPU the ``sauti`` command line spends before it answers.

Runs ``sauti --help`` and ``sauti instruments validate`` of a small XLSForm (Markdown) and of
the bundled instrument, each in a fresh Python process, several times; reports the median
CPU time (user + system, from ``getrusage`` of the finished child), the median wall time and
the number of modules the command had imported when it finished (with the import rate:
modules per CPU second). Prints the figures and writes bench/results/cli_startup.json.

    .venv/bin/python bench/cli_startup.py                       # this checkout
    .venv/bin/python bench/cli_startup.py --root /tmp/old --out /tmp/old.json   # another one

The target the issue set: ``sauti --help`` and validating a small form each at most 1 s of CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL_FORM = """\
| survey |
| | type | name | label |
| | select_one yn | likes | Do you like school? |
| | text | why | Why? |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
"""
# Runs the command as the console script does, then writes how many modules it imported.
RUNNER = """\
import atexit, sys
root, count_file, *args = sys.argv[1:]
sys.path.insert(0, root)
atexit.register(lambda: open(count_file, "w").write(str(len(sys.modules))))
sys.argv = ["sauti", *args]
from survey.cli import main
main()
"""


def run(root: Path, args: list[str], repeat: int) -> dict:
    cpu, wall, modules, codes = [], [], [], set()
    with tempfile.TemporaryDirectory() as tmp:
        count_file = Path(tmp) / "modules"
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(  # our own interpreter and script
                [sys.executable, "-c", RUNNER, str(root), str(count_file), *args],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "SAUTI_INSTANCE_PATH": str(Path(tmp) / "instance")},
            )
            wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
            modules.append(int(count_file.read_text() or 0) if count_file.exists() else 0)
            codes.add(done.returncode)
    median_cpu = statistics.median(cpu)
    return {
        "command": "sauti " + " ".join(Path(a).name if os.sep in a else a for a in args),
        "exit_codes": sorted(codes),
        "cpu_s_median": round(median_cpu, 3),
        "cpu_s_min": round(min(cpu), 3),
        "wall_s_median": round(statistics.median(wall), 3),
        "modules": max(modules),
        "modules_per_cpu_s": round(max(modules) / median_cpu) if median_cpu else None,
        "runs": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose sauti to time")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cli_startup.json")
    options = parser.parse_args()
    root = options.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        form = Path(tmp) / "small.md"
        form.write_text(SMALL_FORM, encoding="utf-8")
        bundled = root / "instruments" / "bundled" / "reporting-mechanisms.yaml"
        cases = [["--help"], ["instruments", "validate", str(form)], ["instruments", "validate", str(bundled)]]
        results = [run(root, args, options.repeat) for args in cases]
    for r in results:
        print(
            f"{r['command']:<58} CPU {r['cpu_s_median']:.2f} s (min {r['cpu_s_min']:.2f}), "
            f"wall {r['wall_s_median']:.2f} s, {r['modules']} modules, "
            f"{r['modules_per_cpu_s']} modules/CPU-s, exit {r['exit_codes']}"
        )
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(
        json.dumps(
            {
                "root": str(root),
                "python": platform.python_version(),
                "machine": platform.machine(),
                "note": "2 shared cores; medians of fresh processes; CPU = user + system",
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()

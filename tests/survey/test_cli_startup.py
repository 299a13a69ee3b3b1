"""The command line answers at once: `sauti --help` and validating a form never build the app.

Issue 19: every `sauti` command loaded the whole application (about 2,000 modules, 2.5-4.5 s of
CPU) before printing anything. The timings are measured in bench/cli_startup.py; these tests
check the cause, in a fresh interpreter: which modules a command imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "instruments" / "bundled" / "reporting-mechanisms.yaml"
PROBE = """\
import json, sys
sys.argv = ["sauti", *sys.argv[1:]]
from survey.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
heavy = sorted(m for m in ("flask", "pandas", "sqlalchemy", "survey.models")
               if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy, "modules": len(sys.modules)}), file=sys.stderr)
"""


def _run(*args: str, tmp_path: Path) -> tuple[str, dict]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SAUTI_INSTANCE_PATH": str(tmp_path / "i"), "PYTHONPATH": str(ROOT)},
    )
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


def test_help_lists_every_command_without_importing_flask_or_pandas(tmp_path):
    out, probe = _run("--help", tmp_path=tmp_path)
    assert probe["code"] == 0
    for command in ("instruments", "users", "serve", "demo", "db", "translate", "report"):
        assert f"  {command} " in out
    assert probe["heavy"] == []
    assert probe["modules"] < 400
    assert not (tmp_path / "i").exists()  # no app was built, so no secret key was written


def test_validate_reads_the_form_without_the_application(tmp_path):
    form = tmp_path / "small.md"
    form.write_text("| survey |\n| | type | name | label |\n| | text | why | Why? |\n", encoding="utf-8")
    out, probe = _run("instruments", "validate", str(form), tmp_path=tmp_path)
    assert probe["code"] in (0, None) and "0 error(s)" in out
    assert probe["heavy"] == []
    out, probe = _run("instruments", "validate", str(BUNDLED), tmp_path=tmp_path)
    assert probe["code"] in (0, None) and "reporting-mechanisms" in out
    assert probe["heavy"] == []


def test_flask_commands_still_reach_the_application(tmp_path):
    out, probe = _run("db", "--help", tmp_path=tmp_path)
    assert probe["code"] == 0 and "upgrade" in out


APP_PROBE = """\
import json, sys
from survey import create_app
create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=sys.argv[1])
heavy = ("scipy", "statsmodels", "matplotlib", "pandas", "fpdf", "segno")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_building_the_app_leaves_the_statistics_and_card_libraries_unloaded(tmp_path):
    """A served worker, and every command that builds the app, starts without SciPy (about 2 s:
    the ``analysis`` package's names load when first used), fpdf or segno (code cards), which
    only reports and card sheets need."""
    done = subprocess.run(
        [sys.executable, "-c", APP_PROBE, str(tmp_path / "i")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert not {"scipy", "statsmodels", "matplotlib", "fpdf", "segno"} & set(loaded), loaded

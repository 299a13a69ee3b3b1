"""consent/ is pure: importing it pulls in no Flask, no survey, no instruments, no database."""

from __future__ import annotations

import subprocess
import sys

import consent


def test_import_in_a_fresh_interpreter_loads_no_forbidden_package():
    code = (
        "import sys, consent\n"
        "consent.bundled_texts(); consent.bundled_profiles()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_babel', 'flask_wtf', 'werkzeug', 'survey', 'instruments', "
        "'analysis', 'sqlalchemy'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_exported():
    for name in consent.__all__:
        assert hasattr(consent, name), name
    for name in (
        "load_profile",
        "helplines_fresh",
        "lint_assent",
        "render_text",
        "may_proceed_to_assent",
        "transition",
        "withdraw_by_code",
        "forbidden_columns",
        "hash_code",
        "normalize_code",
        "code_entropy_bits",
    ):
        assert name in consent.__all__

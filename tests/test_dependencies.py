"""The run-time dependencies are exactly what the four packages import (issue 21)."""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

import grimp
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = {canonicalize_name(Requirement(text).name): Requirement(text) for text in PROJECT["dependencies"]}


def _imported_distributions() -> set[str]:
    graph = grimp.build_graph("survey", "consent", "instruments", "analysis", include_external_packages=True)
    external = {
        module
        for module in graph.modules
        if module.split(".")[0] not in {"survey", "consent", "instruments", "analysis"}
    }
    found = set()
    providers = metadata.packages_distributions()
    for module in external:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names:
            continue
        found |= {canonicalize_name(name) for name in providers.get(top, [top])}
    return found


def test_every_imported_library_is_declared_and_every_declared_one_is_imported() -> None:
    imported = _imported_distributions()
    # The concern model's training (python -m analysis.concernmodel --write) imports scikit-learn
    # inside the function that trains; it is declared in the `train` extra, never needed to score.
    extras = {canonicalize_name(Requirement(text).name) for text in PROJECT["optional-dependencies"]["train"]}
    undeclared = imported - set(RUNTIME) - extras
    assert not undeclared, f"imported but not declared: {sorted(undeclared)}"
    # Declared for what they bring without being imported by name: drivers, fonts' shaping, servers.
    indirect = {
        "psycopg",
        "uharfbuzz",
        "waitress",
        "granian",
        "babel",
        "pyreadstat",
        "xlrd",
        "openpyxl",
        "xlsxwriter",
        "python-json-logger",
        "alembic",
        "wtforms",
    }
    unused = set(RUNTIME) - imported - indirect
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_statistics_references_are_for_the_tests_only() -> None:
    assert "statsmodels" not in RUNTIME
    assert any(Requirement(text).name == "statsmodels" for text in PROJECT["optional-dependencies"]["test"])


def test_libraries_whose_internals_are_used_have_an_upper_bound() -> None:
    for name in ("pyxform", "flask-babel"):
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in RUNTIME[name].specifier), name

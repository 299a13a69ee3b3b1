"""The pure packages never import Flask (or the app), and dependencies point one way."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# package -> packages it must never import (BRIEF.md: survey uses the others; analysis may read
# instruments; nothing points back).
FORBIDDEN = {
    "consent": {"flask", "survey", "instruments", "analysis"},
    "instruments": {"flask", "survey", "consent", "analysis"},
    "analysis": {"flask", "survey", "consent"},
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_pure_package_imports_without_forbidden_modules(package: str) -> None:
    script = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        package = importlib.import_module({package!r})
        for module in pkgutil.walk_packages(package.__path__, {package!r} + "."):
            importlib.import_module(module.name)
        loaded = sorted({{name.split(".")[0] for name in sys.modules}})
        print(" ".join(loaded))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert package in loaded
    assert loaded.isdisjoint(FORBIDDEN[package]), loaded & FORBIDDEN[package]

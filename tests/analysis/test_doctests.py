"""Run every numpydoc Example in analysis/ (also collected by --doctest-modules)."""

import doctest
import importlib
import pkgutil

import pytest

import analysis

MODULES = sorted(m.name for m in pkgutil.iter_modules(analysis.__path__, "analysis."))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL
    result = doctest.testmod(module, optionflags=flags, report=True)
    assert result.failed == 0


def test_analysis_never_imports_flask():
    import subprocess
    import sys

    code = (
        "import sys, importlib, pkgutil, analysis\n"
        "for m in pkgutil.iter_modules(analysis.__path__, 'analysis.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'survey')"
        " or m == 'matplotlib.pyplot']\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

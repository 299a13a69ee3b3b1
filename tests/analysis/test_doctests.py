"""analysis/ never imports Flask or pyplot.

Its numpydoc examples run once, collected by pytest's --doctest-modules (pyproject.toml), not
again here.
"""


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

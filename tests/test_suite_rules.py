"""Rules of the test suite itself (issue 21): doctests run once, nothing of ours hides behind a
skip, and unit tests do not time the machine (speed is measured in bench/)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = sorted((ROOT / "tests").rglob("*.py"))

pytest_plugins = ("pytester",)


def _calls(tree: ast.AST) -> list[tuple[ast.Call, str]]:
    return [(node, ast.unparse(node.func)) for node in ast.walk(tree) if isinstance(node, ast.Call)]


def test_doctests_are_collected_once_by_pytest() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"]
    assert {"consent", "instruments", "analysis"} <= set(options["testpaths"])
    for path in TESTS:
        names = {name for _, name in _calls(ast.parse(path.read_text(encoding="utf-8")))}
        assert not names & {"doctest.testmod", "doctest.DocTestSuite", "doctest.DocFileSuite"}, path


def test_no_test_skips_when_our_own_code_fails() -> None:
    """A skip inside ``except`` turns a breakage of ours into a quiet skip; fail instead."""
    for path in TESTS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                skips = [name for _, name in _calls(node) if name in ("pytest.skip", "skip")]
                assert not skips, f"{path.relative_to(ROOT)}:{node.lineno} skips on an exception"


def test_unit_tests_do_not_time_the_machine() -> None:
    for folder in ("consent", "instruments", "analysis"):
        for path in sorted((ROOT / "tests" / folder).rglob("test_*.py")):
            names = {name for _, name in _calls(ast.parse(path.read_text(encoding="utf-8")))}
            assert not names & {"time.perf_counter", "time.monotonic", "time.time"}, (
                f"{path.relative_to(ROOT)}: measure speed in bench/ (bench/guard_speed.py)"
            )


def test_every_test_that_can_touch_a_database_runs_on_postgresql(request: pytest.FixtureRequest) -> None:
    """CI's PostgreSQL run takes the tests marked ``database`` (``-m database``): every test that
    requests the test database through any fixture, and every test of the Flask app's folders."""
    items = request.session.items
    marked = {item.nodeid for item in items if item.get_closest_marker("database")}
    for item in items:
        folder = item.path.resolve().relative_to(ROOT).parts[:2]
        if "test_database" in getattr(item, "fixturenames", ()) or folder in (
            ("tests", "survey"),
            ("tests", "browser"),
        ):
            assert item.nodeid in marked, item.nodeid
    if len(items) > 1000 and marked:  # the whole suite: pure tests run once, on SQLite
        assert 0 < len(marked) < len(items) / 2
        assert any(nodeid.startswith("tests/survey/") for nodeid in marked)
        assert not any(nodeid.startswith("tests/consent/") for nodeid in marked)


PROBE = """
import sys
sys.path.insert(0, {root!r})
from tests.conftest import *  # noqa: F403 - the suite's fixtures and its collection hook
from tests.conftest import _database_free_tests_stay_free, pytest_collection_modifyitems  # noqa: F401
"""


def test_a_test_left_unmarked_that_builds_the_app_fails(pytester: pytest.Pytester) -> None:
    """The classification is checked while the tests run: a test the hook left unmarked (it asks
    for no database fixture, outside tests/survey and tests/browser) and that builds the Flask app
    fails, so it cannot quietly escape the PostgreSQL run; one that asks for ``app`` is marked."""
    pytester.makeconftest(PROBE.format(root=str(ROOT)))
    pytester.makeini("[pytest]\nmarkers =\n    database: can touch a database\n")
    pytester.makepyfile(
        test_probe="""
        import pytest
        from survey import create_app
        from tests.conftest import base_config

        def test_builds_the_app_by_hand(tmp_path):
            app = create_app(base_config("sqlite://"), instance_path=str(tmp_path))
            with app.app_context():
                pass

        def test_asks_for_the_app(app, request):
            assert request.node.get_closest_marker("database")
            with app.app_context():
                pass

        def test_pure():
            assert sum([1, 2]) == 3
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:schemathesis", "-m", "not database")
    result.assert_outcomes(passed=2, errors=1, deselected=1)  # the error: at its teardown
    result.stdout.fnmatch_lines(["*test_builds_the_app_by_hand is not marked database but pushed a context*"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:schemathesis", "-m", "database")
    result.assert_outcomes(passed=1, deselected=2)

"""Rules of the test suite itself (issue 21): doctests run once, nothing of ours hides behind a
skip, and unit tests do not time the machine (speed is measured in bench/)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = sorted((ROOT / "tests").rglob("*.py"))


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

"""docs/requirements.md lists every requirement ID that the code and the tests cite.

An ID is cited where it is written with its hyphen (``C-06``, ``DP-01``) anywhere, or without one
(``A13``, ``B9``) inside parentheses on one line, as the code writes its references: ``(A7-A10)``,
``(S-06, A15, A16)``.  ``S1``-``S3`` without a hyphen are sensitivity levels, not requirements.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "requirements.md"
SUFFIXES = {".py", ".html", ".md", ".yaml", ".yml", ".txt", ".toml", ".json", ".cfg"}
FOLDERS = ("survey", "consent", "instruments", "analysis", "tests", "bench", "docs")
HYPHENATED = re.compile(r"\b(?:DP|[PCSDFA])-\d{2}\b")
PARENTHESES = re.compile(r"\(([^()]*)\)")
PLAIN = re.compile(r"\b[ABRSP][1-9]\d?\b")
SENSITIVITY_LEVELS = {"S1", "S2", "S3"}


def cited_ids(text: str) -> set[str]:
    """The requirement IDs a text cites.

    >>> sorted(cited_ids("Merge rare categories (A10, B3); see C-06. Sensitive (S2/S3) items."))
    ['A10', 'B3', 'C-06']
    """
    found = set(HYPHENATED.findall(text))
    for line in text.splitlines():
        for group in PARENTHESES.findall(line):
            found |= set(PLAIN.findall(group)) - SENSITIVITY_LEVELS
    return found


def _sources() -> list[Path]:
    paths = [ROOT / "README.md"]
    for folder in FOLDERS:
        paths += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and p.suffix in SUFFIXES and "translations" not in p.parts
        ]
    return [p for p in paths if p != DOC]


def _listed() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"(?:DP|[PCSDFA])-\d{2}|[ABRSP]\d{1,2}", cells[0]):
            rows[cells[0]] = cells[2]
    return rows


def test_every_cited_requirement_is_explained() -> None:
    listed = _listed()
    missing: dict[str, list[str]] = {}
    for path in _sources():
        for requirement in cited_ids(path.read_text(encoding="utf-8", errors="replace")) - set(listed):
            missing.setdefault(requirement, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"cited but not in docs/requirements.md: {missing}"


def test_each_listed_requirement_names_tests_that_exist() -> None:
    listed = _listed()
    assert len(listed) >= 60
    for requirement, tests in listed.items():
        files = re.findall(r"`([^`]+\.py)`", tests)
        assert files, requirement
        for name in files:
            assert (ROOT / "tests" / name).is_file(), (requirement, name)

"""Shared by the checks: severities, the structural codes, word lists, locations, the texts a
child sees."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from instruments.errors import Issue, IssueCode, Severity
from instruments.model import (
    Instrument,
    Item,
    ItemType,
    Text,
)

E, W = Severity.ERROR, Severity.WARNING

#: Errors that make an instrument unusable; loaders raise on them.
STRUCTURAL_CODES = frozenset(
    {
        IssueCode.DUPLICATE_NAME,
        IssueCode.INVALID_NAME,
        IssueCode.REPEAT_UNSUPPORTED,
        IssueCode.MISSING_CHOICE_LIST,
        IssueCode.EMPTY_CHOICE_LIST,
        IssueCode.DUPLICATE_CHOICE,
        IssueCode.RESERVED_CHOICE_NAME,
        IssueCode.EXPRESSION_SYNTAX,
        IssueCode.UNKNOWN_REFERENCE,
        IssueCode.REFERENCE_CYCLE,
        IssueCode.INVALID_BAND,
        IssueCode.BAND_ORDER,
        IssueCode.MAX_CHOICES_INVALID,
        IssueCode.RANGE_INVALID,
        IssueCode.MISSING_LABEL,
        IssueCode.LANGUAGE_UNKNOWN,
    }
)

#: Flesch-Kincaid grade targets per band for English (D-02).
READING_TARGETS = {"A": 3.0, "B": 5.0, "C": 7.0}

#: Words flagged for bands A and B (D-02; child-participation.md §5.2).
JARGON_WORDS = frozenset(
    {
        "exploitation",
        "exploit",
        "exploited",
        "perpetrator",
        "perpetrators",
        "mechanism",
        "mechanisms",
        "disclose",
        "disclosure",
        "confidential",
        "confidentiality",
        "victimisation",
        "victimization",
        "abuse",
        "grooming",
        "prevalence",
        "safeguarding",
        "stakeholder",
        "stakeholders",
        "jurisdiction",
        "anonymity",
        "anonymous",
        "sextortion",
        "solicitation",
        "consent",
        "retaliation",
    }
)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_NEGATION_RE = re.compile(
    r"\b(not|never|no one|nobody|nothing|don't|doesn't|didn't|won't|"
    r"isn't|aren't|can't|cannot|wouldn't|shouldn't)\b",
    re.I,
)
_DOUBLE_BARREL_RE = re.compile(r"\?\s*\S.*\?|\b(and|or) (how|why|what|when|where|who)\b", re.I)
_WORD_RE = re.compile(r"[A-Za-z']+")

# seconds per item type (answering, excluding reading) for the time estimate
_TYPE_SECONDS = {
    ItemType.NOTE: 2,
    ItemType.SELECT_ONE: 6,
    ItemType.SELECT_MULTIPLE: 10,
    ItemType.RANK: 20,
    ItemType.TEXT: 30,
    ItemType.INTEGER: 6,
    ItemType.DECIMAL: 8,
    ItemType.RANGE: 6,
    ItemType.LIKERT: 5,
    ItemType.MATRIX: 3,
    ItemType.CALCULATE: 0,
}
# reading speed in words per minute per band (band A listens to the audio at a calm
# speaking pace; older bands read silently)
_WPM = {"A": 120.0, "B": 140.0, "C": 170.0}
# items shown only under a condition (relevance) count this much of their time
_CONDITIONAL_WEIGHT = 0.5


def _issue(
    code: IssueCode, severity: Severity, location: str, message: str, fix: str = "", blocks: bool = False
) -> Issue:
    return Issue(code, severity, location, message, fix, blocks)


def _loc(item: Item, field: str | None = None) -> str:
    return f"item {item.name}" + (f", {field}" if field else "")


def _few(places: Sequence[str], n: int = 5) -> str:
    shown = "; ".join(places[:n])
    return shown + (f"; and {len(places) - n} more" if len(places) > n else "")


def child_facing_texts(inst: Instrument) -> Iterator[tuple[str, Text]]:
    """Every child-facing text, with its location (titles, notices, labels, hints, band
    variants, constraint messages, choices and their alt texts).

    Examples
    --------
    >>> from instruments import load_bundled
    >>> dict(child_facing_texts(load_bundled()))["item EV5_help, label"]["en"][:26]
    'Thank you for telling us. '
    """
    yield "title", inst.title
    for section in inst.sections:
        yield f"section {section.name}, title", section.title
        yield f"section {section.name}, notice", section.notice
        for page in section.pages:
            if page.title:
                yield f"page {page.name}, title", page.title
            for item in page.items:
                for field, text in item.texts():
                    yield _loc(item, field), text
    for list_name, choices in inst.choice_lists.items():
        for choice in choices:
            yield f"choice list {list_name}, choice {choice.name}", choice.label
            if choice.alt:
                yield f"choice list {list_name}, choice {choice.name}, alt", choice.alt

"""Readability (grade level) and the time estimate per band."""

from __future__ import annotations

import re

from instruments.model import (
    Instrument,
    ItemType,
)
from instruments.validate.common import _CONDITIONAL_WEIGHT, _TYPE_SECONDS, _WORD_RE, _WPM


# ---------------------------------------------------------------------------
# readability helpers
# ---------------------------------------------------------------------------
def _syllables(word: str) -> int:
    word = word.lower().strip("'")
    if not word:
        return 0
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def grade_level(text: str) -> float:
    """Flesch-Kincaid grade of English ``text`` (offline, heuristic syllables).

    Short texts give rough values; the lint uses it only for warnings.

    Examples
    --------
    >>> grade_level("Do you like school?") < 3
    True
    >>> grade_level("Which organisational characteristics would increase your confidence "
    ...             "in institutional reporting mechanisms?") > 7
    True
    """
    words = _WORD_RE.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * (len(words) / sentences) + 11.8 * (syllables / len(words)) - 15.59


def _words(text: str) -> int:
    return len(text.split())


def estimate_minutes(instrument: Instrument, band: str, research_mode: bool = False) -> float:
    """Estimated completion time for ``band`` in minutes (D-05).

    Reading time of the label, hint and choices at the band's speed
    (band A at listening pace) plus a per-type answering time; matrix items
    count per row; items with a relevance condition count half (they are
    shown to some children only). An item's ``minutes`` overrides the
    estimate.
    """
    lang = instrument.settings.default_language
    wpm = _WPM.get(band, 130.0)
    total = 0.0
    for item in instrument.items_for_band(band, research_mode):
        if item.minutes is not None:
            total += item.minutes * 60 * (_CONDITIONAL_WEIGHT if item.relevance else 1.0)
            continue
        words = _words(item.label_for(lang, band, lang)) + _words(item.hint_for(lang, band, lang))
        choices = instrument.choices_for(item, band)
        words += sum(_words(c.label_for(lang, lang)) for c in choices)
        seconds = _TYPE_SECONDS[item.type]
        if item.type is ItemType.MATRIX:
            rows = instrument.rows_for(item)
            words += sum(_words(r.label_for(lang, lang)) for r in rows)
            seconds *= max(1, len(rows))
        if item.type.answerable:
            words += 6  # the "I'd rather not say" option and navigation
        weight = _CONDITIONAL_WEIGHT if item.relevance else 1.0
        total += weight * (seconds + words / wpm * 60)
    return total / 60

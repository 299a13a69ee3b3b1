"""The authoring lint: translations, design (bands, audio, time budget, scales), wording."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from instruments.errors import Issue, IssueCode
from instruments.model import (
    NO_NAMES_NOTICE,
    Instrument,
    ItemType,
    LanguageStatus,
)
from instruments.validate.common import (
    _DOUBLE_BARREL_RE,
    _NEGATION_RE,
    _WORD_RE,
    JARGON_WORDS,
    READING_TARGETS,
    E,
    W,
    _few,
    _issue,
    _loc,
    child_facing_texts,
)
from instruments.validate.readability import estimate_minutes, grade_level


def _check_translations(inst: Instrument, launch: Iterable[str]) -> Iterator[Issue]:
    default = inst.settings.default_language
    texts = [(where, t) for where, t in child_facing_texts(inst) if default in t]
    for lang in inst.languages:
        if lang.code == default:
            continue
        missing = [where for where, t in texts if lang.code not in t]
        if missing:
            severity = E if lang.approved else W
            yield _issue(
                IssueCode.MISSING_TRANSLATION,
                severity,
                f"language {lang.code}",
                f"{len(missing)} text(s) have no '{lang.code}' translation: {_few(missing)}.",
                f"Translate them, or keep '{lang.code}' below approved.",
                True,
            )
    if any(i.type is ItemType.TEXT for i in inst.items):
        for lang in inst.languages:
            if lang.code not in NO_NAMES_NOTICE:
                yield _issue(
                    IssueCode.TEXT_NAMES_NOTICE,
                    W,
                    f"language {lang.code}",
                    'The "please don\'t write names" notice has no translation in '
                    f"'{lang.code}'; open-text items will show it in English.",
                    "Add the translation to instruments.model.NO_NAMES_NOTICE.",
                    True,
                )
    for code in launch:
        try:
            lang = inst.language(code)
        except KeyError:
            yield _issue(
                IssueCode.LANGUAGE_UNKNOWN,
                E,
                f"language {code}",
                f"The instrument has no language '{code}'.",
                "Pick a declared language.",
            )
            continue
        if lang.status is not LanguageStatus.APPROVED:
            yield _issue(
                IssueCode.LANGUAGE_NOT_APPROVED,
                E,
                f"language {code}",
                f"'{code}' is {lang.status.value}, not approved; it cannot launch (D-07).",
                "Finish back-translation and piloting, then approve it.",
                True,
            )


def _band_variants(inst: Instrument, _research: bool) -> Iterator[Issue]:
    """D-01: an item not shared across bands has each band's wording."""
    codes = inst.settings.band_codes
    for item in inst.items:
        if item.shared or not item.type.answerable and item.type is not ItemType.NOTE:
            continue
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            variant = item.label_bands.get(band)
            langs = [lang for lang in item.label if variant is None or lang not in variant]
            if langs:
                yield _issue(
                    IssueCode.MISSING_BAND_VARIANT,
                    W,
                    _loc(item, f"label[{band}]"),
                    f"The item is not shared across bands but has no band-{band} wording in {', '.join(langs)} (D-01).",
                    "Add the band variant, or mark the item shared.",
                    True,
                )


def _audio(inst: Instrument, _research: bool) -> Iterator[Issue]:
    """D-04: recorded audio for every item in each approved language."""
    for lang in inst.approved_languages:
        missing = [
            i.name
            for i in inst.items
            if (i.type.answerable or i.type is ItemType.NOTE) and lang.code not in i.media.audio
        ]
        if missing:
            tts = inst.settings.audio_fallback == "tts"
            yield _issue(
                IssueCode.MISSING_AUDIO,
                W,
                f"language {lang.code}",
                f"{len(missing)} item(s) have no recorded audio in '{lang.code}'"
                + (" (text-to-speech reads them)" if tts else "")
                + f": {_few(missing)}.",
                "Record audio for each item and option (D-04).",
                not tts,
            )


def _time_budget(inst: Instrument, research: bool) -> Iterator[Issue]:
    """D-05: the estimated minutes within each band's budget."""
    codes = inst.settings.band_codes
    for band in codes:
        budget = inst.settings.time_budget.get(band)
        if budget is None:
            continue
        minutes = estimate_minutes(inst, band, research)
        if minutes > budget:
            yield _issue(
                IssueCode.OVER_TIME_BUDGET,
                W,
                f"band {band}",
                f"Estimated {minutes:.1f} minutes; the budget is {budget} (D-05).",
                "Remove or shorten items for this band, or record an override reason.",
                True,
            )


def _scales(inst: Instrument, _research: bool) -> Iterator[Issue]:
    """D-03: 3 points with faces for the youngest band, 4-5 for the others."""
    codes = inst.settings.band_codes
    for item in inst.items:
        if item.type not in (ItemType.LIKERT, ItemType.MATRIX):
            continue
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            choices = inst.choices_for(item, band)
            want = 3 if band == codes[0] else 5
            ok_sizes = (3,) if band == codes[0] else (4, 5)
            if choices and len(choices) not in ok_sizes:
                yield _issue(
                    IssueCode.LIKERT_SCALE,
                    W,
                    _loc(item, f"scale[{band}]"),
                    f"Band {band} sees a {len(choices)}-point scale; use {want} points (D-03).",
                    "Add a band_choices entry with the right scale.",
                )
            if band == codes[0] and choices and not all(c.media.image for c in choices):
                yield _issue(
                    IssueCode.LIKERT_SCALE,
                    W,
                    _loc(item, f"scale[{band}]"),
                    "The youngest band's scale should show faces with the text.",
                    "Use a 3-point list whose choices have face images.",
                )


def _defaults(inst: Instrument, _research: bool) -> Iterator[Issue]:
    """A pre-filled answer is one the child did not give (S-04)."""
    for item in inst.items:
        if item.default not in (None, "") and item.type.answerable:
            yield _issue(
                IssueCode.DEFAULT_ANSWER,
                W,
                _loc(item, "default"),
                "A default pre-fills an answer the child did not choose; Sauti "
                "stores only answers children give (S-04).",
                "Remove the default.",
            )


def _wording_in_english(inst: Instrument, _research: bool) -> Iterator[Issue]:
    """D-02: the wording lint (English only)."""
    if "en" in inst.language_codes:
        yield from _check_wording(inst)


#: The design lint, one small check a row, in the order its issues are reported; each takes the
#: instrument and whether the consultation runs in research mode.
_DESIGN_CHECKS: tuple[Callable[[Instrument, bool], Iterator[Issue]], ...] = (
    _band_variants,
    _audio,
    _time_budget,
    _scales,
    _defaults,
    _wording_in_english,
)


def _check_design(inst: Instrument, research_mode: bool | None) -> Iterator[Issue]:
    for check in _DESIGN_CHECKS:
        yield from check(inst, bool(research_mode))


def _check_wording(inst: Instrument) -> Iterator[Issue]:
    codes = inst.settings.band_codes
    for item in inst.items:
        if not (item.type.answerable or item.type is ItemType.NOTE):
            continue
        over: list[str] = []
        jargon_bands: dict[str, set[str]] = {}
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            text = item.label_for("en", band)
            if not text:
                continue
            target = READING_TARGETS.get(band)
            if target is not None:
                grade = grade_level(text)
                if grade > target:
                    over.append(f"{band} (grade {grade:.1f} > {target:g})")
            if band in codes[:2]:
                found = {w.lower() for w in _WORD_RE.findall(text)} & JARGON_WORDS
                if found:
                    jargon_bands[band] = found
        if over:
            yield _issue(
                IssueCode.READING_LEVEL,
                W,
                _loc(item, "label"),
                f"Reading level above target for band(s) {', '.join(over)} (D-02).",
                "Use shorter words and sentences, or add a band variant.",
            )
        for band, words in jargon_bands.items():
            yield _issue(
                IssueCode.JARGON,
                W,
                _loc(item, f"label[{band}]"),
                f"Band {band} wording uses jargon: {', '.join(sorted(words))}.",
                "Use everyday words (for example 'tell' instead of 'disclose').",
            )
        label = item.label_for("en")
        negation = _NEGATION_RE.search(label) if label else None
        if negation:
            yield _issue(
                IssueCode.NEGATION,
                W,
                _loc(item, "label"),
                f"The question uses a negation ({negation.group()}).",
                "Ask it the positive way if you can; avoid double negatives.",
            )
        if label and _DOUBLE_BARREL_RE.search(label):
            yield _issue(
                IssueCode.DOUBLE_BARRELLED,
                W,
                _loc(item, "label"),
                "The question may ask two things at once.",
                "Split it into two items.",
            )

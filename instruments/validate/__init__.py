"""Structural validation and the authoring lint.

One function, :func:`validate`, returns a :class:`~instruments.errors.Report`
of coded issues with locations and fixes. Loaders raise on the structural
codes (:data:`STRUCTURAL_CODES`); the others are policy checks the survey app
shows before approval and enforces at launch.

Locations have the form ``item NAME, FIELD`` / ``choice list L, choice C`` /
``section S`` / ``settings``; the XLSForm importer rewrites them to sheet,
row and column.

Examples
--------
>>> from instruments import load_bundled
>>> report = validate(load_bundled())
>>> report.ok
True
>>> round(estimate_minutes(load_bundled(), "A"), 1) <= 12
True
"""

from __future__ import annotations

from collections.abc import Iterable

from instruments.errors import Issue, IssueCode, Report, Severity
from instruments.model import Instrument, LanguageStatus
from instruments.validate.common import JARGON_WORDS, READING_TARGETS, STRUCTURAL_CODES, child_facing_texts
from instruments.validate.lint import _check_design, _check_translations
from instruments.validate.logic import _check_expressions, _check_labels, _check_repeats
from instruments.validate.readability import estimate_minutes, grade_level
from instruments.validate.safeguarding import _check_child_texts, _check_kept_age, _check_safeguarding, asks_exact_age
from instruments.validate.structure import _check_bands, _check_choices, _check_languages, _check_names

__all__ = [
    "JARGON_WORDS",
    "approve_language",
    "asks_exact_age",
    "child_facing_texts",
    "READING_TARGETS",
    "STRUCTURAL_CODES",
    "estimate_minutes",
    "grade_level",
    "validate",
]


def validate(
    instrument: Instrument,
    *,
    launch_languages: Iterable[str] = (),
    research_mode: bool | None = None,
    ethics_reference: str | None = None,
    lint: bool = True,
) -> Report:
    """Validate and lint an instrument.

    Parameters
    ----------
    instrument : Instrument
        What to check.
    launch_languages : iterable of str
        Languages a consultation wants to launch in; any that is not
        approved gives ``LANGUAGE_NOT_APPROVED`` (D-07).
    research_mode, ethics_reference
        The consultation's mode and ethics reference; default to the
        instrument settings (S-08).
    lint : bool
        Also run the authoring lint (translations, band variants, audio,
        time budget, scales, wording). Structural and safeguarding checks
        always run; the lint is skipped while structural errors remain.

    Returns
    -------
    Report
        Issues in a stable order: structure, safeguarding, then lint.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> codes = validate(load_bundled(), launch_languages=["fr"]).codes()
    >>> IssueCode.LANGUAGE_NOT_APPROVED in codes
    True
    """
    issues: list[Issue] = []
    issues += _check_names(instrument)
    issues += _check_choices(instrument)
    issues += _check_bands(instrument)
    issues += _check_languages(instrument)
    issues += _check_labels(instrument)
    issues += _check_expressions(instrument)
    issues += _check_repeats(instrument)
    issues += _check_safeguarding(instrument, research_mode, ethics_reference)
    issues += _check_kept_age(instrument, research_mode, ethics_reference)
    issues += _check_child_texts(instrument)
    launch = tuple(launch_languages)
    broken = any(i.code in STRUCTURAL_CODES for i in issues if i.severity is Severity.ERROR)
    if lint and not broken:
        issues += _check_translations(instrument, launch)
        issues += _check_design(instrument, research_mode)
    elif launch:
        issues += [
            i
            for i in _check_translations(instrument, launch)
            if i.code in (IssueCode.LANGUAGE_NOT_APPROVED, IssueCode.LANGUAGE_UNKNOWN)
        ]
    return Report(tuple(issues))


def approve_language(
    instrument: Instrument,
    code: str,
    *,
    research_mode: bool | None = None,
    ethics_reference: str | None = None,
) -> Instrument:
    """Return the instrument with ``code`` approved, if nothing blocks it (D-07).

    Raises
    ------
    InstrumentError
        Carrying the approval blockers (errors, missing translations, band
        variants, audio without a text-to-speech fallback, time budget ...)
        as they would stand once the language is approved.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> approved = approve_language(load_bundled(), "en")
    >>> approved.language("en").approved
    True
    """
    from instruments.errors import InstrumentError

    candidate = instrument.with_language_status(code, LanguageStatus.APPROVED)
    report = validate(
        candidate, launch_languages=[code], research_mode=research_mode, ethics_reference=ethics_reference
    )
    blockers = [
        i
        for i in report.approval_blockers
        if i.severity is Severity.ERROR or not i.location.startswith("language ") or i.location == f"language {code}"
    ]
    if blockers:
        raise InstrumentError(blockers)
    return candidate

"""The result object every loader returns, and the shared last step of loading."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from instruments.errors import InstrumentError, Issue, Report, Severity
from instruments.model import Instrument

__all__ = ["LoadResult", "finish_load"]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a loader returns.

    Attributes
    ----------
    instrument : Instrument
        The loaded instrument.
    warnings : tuple of Issue
        Problems found while reading (unsupported columns, dropped
        ``required`` flags ...), each listing the rows concerned.
    report : Report
        The full :func:`instruments.validate` report (errors that are policy
        rather than structure, such as a missing notice before a sensitive
        block, are here: they block launch, not loading).
    """

    instrument: Instrument
    warnings: tuple[Issue, ...] = ()
    report: Report = Report()

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Reading warnings followed by the validation issues."""
        return self.warnings + self.report.issues


def finish_load(instrument: Instrument, warnings: Iterable[Issue], *, check: bool = True) -> LoadResult:
    """Validate a freshly built instrument; raise on structural errors."""
    from instruments.validate import STRUCTURAL_CODES, validate

    warnings = tuple(warnings)
    if not check:
        return LoadResult(instrument, warnings, Report())
    report = validate(instrument)
    structural = [i for i in report.issues if i.severity is Severity.ERROR and i.code in STRUCTURAL_CODES]
    if structural:
        raise InstrumentError(structural)
    return LoadResult(instrument, warnings, report)

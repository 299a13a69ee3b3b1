"""Coded issues, the validation report and the library's exception.

Every problem the instruments package finds is an :class:`Issue` with an
:class:`IssueCode`, a severity, a location (sheet, row, column or item name),
a message and a fix. Loaders raise :class:`InstrumentError` carrying the
issues; the validator returns a :class:`Report`.

Examples
--------
>>> issue = Issue(IssueCode.DUPLICATE_NAME, Severity.ERROR, "item q1",
...               "The name 'q1' is used twice.", "Give each item its own name.")
>>> str(issue)
"error DUPLICATE_NAME at item q1: The name 'q1' is used twice. Fix: Give each item its own name."
>>> Report((issue,)).ok
False
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "ExpressionError",
    "InstrumentError",
    "Issue",
    "IssueCode",
    "Report",
    "Severity",
]


class Severity(enum.StrEnum):
    """How bad an issue is: errors stop loading or launching, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class IssueCode(enum.StrEnum):
    """Stable codes for every issue the package reports.

    The value is the code itself, so it can be stored, compared and translated.
    """

    # reading files
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_UNREADABLE = "FILE_UNREADABLE"
    FILE_TYPE_UNSUPPORTED = "FILE_TYPE_UNSUPPORTED"
    ARCHIVE_UNSAFE = "ARCHIVE_UNSAFE"
    XML_UNSAFE = "XML_UNSAFE"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    # XLSForm structure
    XLSFORM_INVALID = "XLSFORM_INVALID"
    MISSING_SHEET = "MISSING_SHEET"
    REPEAT_UNSUPPORTED = "REPEAT_UNSUPPORTED"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    UNSUPPORTED_COLUMN = "UNSUPPORTED_COLUMN"
    REQUIRED_DROPPED = "REQUIRED_DROPPED"
    DUPLICATE_CHOICE = "DUPLICATE_CHOICE"
    PYXFORM_WARNING = "PYXFORM_WARNING"
    ATTACHMENT_EXPECTED = "ATTACHMENT_EXPECTED"
    # native format
    SCHEMA_INVALID = "SCHEMA_INVALID"
    YAML_INVALID = "YAML_INVALID"
    # structure and references
    DUPLICATE_NAME = "DUPLICATE_NAME"
    INVALID_NAME = "INVALID_NAME"
    MISSING_CHOICE_LIST = "MISSING_CHOICE_LIST"
    EMPTY_CHOICE_LIST = "EMPTY_CHOICE_LIST"
    RESERVED_CHOICE_NAME = "RESERVED_CHOICE_NAME"
    EXPRESSION_SYNTAX = "EXPRESSION_SYNTAX"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    FORWARD_REFERENCE = "FORWARD_REFERENCE"
    REFERENCE_CYCLE = "REFERENCE_CYCLE"
    REQUIRED_ITEM = "REQUIRED_ITEM"
    INVALID_BAND = "INVALID_BAND"
    INVALID_SENSITIVITY = "INVALID_SENSITIVITY"
    BAND_ORDER = "BAND_ORDER"
    MAX_CHOICES_INVALID = "MAX_CHOICES_INVALID"
    RANGE_INVALID = "RANGE_INVALID"
    MISSING_LABEL = "MISSING_LABEL"
    LANGUAGE_UNKNOWN = "LANGUAGE_UNKNOWN"
    # safeguarding (child-participation.md S-08, S-09)
    S3_NEEDS_RESEARCH = "S3_NEEDS_RESEARCH"
    SENSITIVE_LAST_SECTION = "SENSITIVE_LAST_SECTION"
    SENSITIVE_WITHOUT_NOTICE = "SENSITIVE_WITHOUT_NOTICE"
    # what children are shown and what is kept (issue 16): helplines come from the country
    # profile through placeholders; only the age band is kept outside research mode
    PHONE_NUMBER = "PHONE_NUMBER"
    UNKNOWN_PLACEHOLDER = "UNKNOWN_PLACEHOLDER"
    PLACEHOLDER_MISMATCH = "PLACEHOLDER_MISMATCH"
    EXACT_AGE = "EXACT_AGE"
    # child-friendly design (D-01 .. D-09)
    MISSING_TRANSLATION = "MISSING_TRANSLATION"
    MISSING_BAND_VARIANT = "MISSING_BAND_VARIANT"
    MISSING_AUDIO = "MISSING_AUDIO"
    OVER_TIME_BUDGET = "OVER_TIME_BUDGET"
    READING_LEVEL = "READING_LEVEL"
    JARGON = "JARGON"
    NEGATION = "NEGATION"
    DOUBLE_BARRELLED = "DOUBLE_BARRELLED"
    LIKERT_SCALE = "LIKERT_SCALE"
    CHANNEL_PICTOGRAM = "CHANNEL_PICTOGRAM"
    TEXT_NAMES_NOTICE = "TEXT_NAMES_NOTICE"
    DEFAULT_ANSWER = "DEFAULT_ANSWER"
    LANGUAGE_NOT_APPROVED = "LANGUAGE_NOT_APPROVED"
    NO_APPROVED_LANGUAGE = "NO_APPROVED_LANGUAGE"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding.

    Parameters
    ----------
    code : IssueCode
        The stable code.
    severity : Severity
        ``error`` or ``warning``.
    location : str
        Where: ``"survey sheet, row 7, column relevant"`` or ``"item TR2"``.
    message : str
        What is wrong, in plain words.
    fix : str
        How to fix it.
    blocks_approval : bool
        True when the issue must be fixed before a language may be approved
        or a consultation launched (D-01, D-04, D-05, D-07), even if it is
        only a warning while authoring.
    """

    code: IssueCode
    severity: Severity
    location: str
    message: str
    fix: str = ""
    blocks_approval: bool = False

    def __str__(self) -> str:
        text = f"{self.severity.value} {self.code.value} at {self.location}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (for the CLI and the admin pages)."""
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "location": self.location,
            "message": self.message,
            "fix": self.fix,
            "blocks_approval": self.blocks_approval,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The result of :func:`instruments.validate`: an ordered tuple of issues."""

    issues: tuple[Issue, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Issue, ...]:
        """Issues with severity ``error``."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """Issues with severity ``warning``."""
        return tuple(i for i in self.issues if i.severity is Severity.WARNING)

    @property
    def approval_blockers(self) -> tuple[Issue, ...]:
        """Errors plus the warnings that block approval or launch."""
        return tuple(i for i in self.issues if i.severity is Severity.ERROR or i.blocks_approval)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings are allowed)."""
        return not self.errors

    def codes(self) -> set[IssueCode]:
        """The set of codes present, handy in tests."""
        return {i.code for i in self.issues}

    def by_code(self, code: IssueCode) -> tuple[Issue, ...]:
        """The issues with one code."""
        return tuple(i for i in self.issues if i.code is code)

    def __len__(self) -> int:
        return len(self.issues)

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def format(self) -> str:
        """One line per issue, errors first."""
        ordered = sorted(self.issues, key=lambda i: i.severity is not Severity.ERROR)
        return "\n".join(str(i) for i in ordered)


class InstrumentError(Exception):
    """Raised when an instrument cannot be read or built.

    Always carries at least one :class:`Issue`; ``code`` is the first one's.

    Examples
    --------
    >>> err = InstrumentError.single(IssueCode.FILE_TOO_LARGE, "upload", "Too big.", "Split it.")
    >>> err.code
    <IssueCode.FILE_TOO_LARGE: 'FILE_TOO_LARGE'>
    """

    def __init__(self, issues: Iterable[Issue]):
        self.issues: tuple[Issue, ...] = tuple(issues)
        if not self.issues:
            raise ValueError("InstrumentError needs at least one issue")
        super().__init__("\n".join(str(i) for i in self.issues))

    @property
    def code(self) -> IssueCode:
        """The code of the first issue."""
        return self.issues[0].code

    @property
    def codes(self) -> set[IssueCode]:
        """All codes carried."""
        return {i.code for i in self.issues}

    @classmethod
    def single(cls, code: IssueCode, location: str, message: str, fix: str = "") -> InstrumentError:
        """Build an error carrying one ``error`` issue."""
        return cls([Issue(code, Severity.ERROR, location, message, fix)])


class ExpressionError(ValueError):
    """A relevance, constraint or choice-filter expression is invalid.

    ``position`` is the 0-based character offset where the problem was found
    (or ``None``).
    """

    def __init__(self, message: str, expression: str = "", position: int | None = None):
        self.message = message
        self.expression = expression
        self.position = position
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where}")

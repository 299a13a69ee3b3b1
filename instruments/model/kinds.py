"""Item types, sensitivity, language status and direction, languages, age bands."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from instruments.model.texts import FrozenMap


class ItemType(enum.StrEnum):
    """The kinds of item Sauti knows."""

    NOTE = "note"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    RANK = "rank"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    RANGE = "range"
    LIKERT = "likert"
    MATRIX = "matrix"
    CALCULATE = "calculate"

    @property
    def answerable(self) -> bool:
        """True when a child gives an answer (everything but note and calculate)."""
        return self not in (ItemType.NOTE, ItemType.CALCULATE)

    @property
    def has_choices(self) -> bool:
        """True when the item needs a choice list (selects, rank, likert, matrix)."""
        return self in _CHOICE_TYPES


_CHOICE_TYPES = frozenset(
    {ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.RANK, ItemType.LIKERT, ItemType.MATRIX}
)


class Sensitivity(enum.IntEnum):
    """S0 neutral; S1 personal, not about harm; S2 hypothetical harm or feelings
    about telling; S3 explicit sexual-exploitation scenario (research mode only)."""

    S0 = 0
    S1 = 1
    S2 = 2
    S3 = 3

    @classmethod
    def parse(cls, value: object) -> Sensitivity:
        """Accept ``"S2"``, ``"s2"``, ``"2"`` or ``2``.

        >>> Sensitivity.parse("s2")
        <Sensitivity.S2: 2>
        """
        if isinstance(value, Sensitivity):
            return value
        text = str(value).strip().upper()
        if text.startswith("S"):
            text = text[1:]
        if text.isdigit() and int(text) in (0, 1, 2, 3):
            return cls(int(text))
        raise ValueError(f"sensitivity must be one of S0, S1, S2, S3, not {value!r}")

    def __str__(self) -> str:
        return self.name


class LanguageStatus(enum.StrEnum):
    """Translation workflow (D-07); only ``approved`` languages may launch."""

    DRAFT = "draft"
    TRANSLATED = "translated"
    BACK_TRANSLATED = "back_translated"
    TESTED = "tested"
    APPROVED = "approved"


class Direction(enum.StrEnum):
    """Script direction."""

    LTR = "ltr"
    RTL = "rtl"


RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})


@dataclass(frozen=True, slots=True)
class Language:
    """A language an instrument is written in."""

    code: str
    name: str = ""
    direction: Direction = Direction.LTR
    status: LanguageStatus = LanguageStatus.DRAFT

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "status", LanguageStatus(self.status))

    @property
    def approved(self) -> bool:
        """True when the language may be used to launch a consultation."""
        return self.status is LanguageStatus.APPROVED


@dataclass(frozen=True, slots=True, order=True)
class AgeBand:
    """A contiguous age band, e.g. ``AgeBand("A", 8, 10)``."""

    code: str
    min_age: int
    max_age: int

    def contains(self, age: int) -> bool:
        """True when ``min_age <= age <= max_age``."""
        return self.min_age <= age <= self.max_age


#: Default bands from child-participation.md §5.1.
DEFAULT_BANDS: tuple[AgeBand, ...] = (AgeBand("A", 8, 10), AgeBand("B", 11, 13), AgeBand("C", 14, 17))
#: Default time budgets in minutes (D-05).
DEFAULT_TIME_BUDGET: Mapping[str, int] = FrozenMap(A=12, B=20, C=25)


def _band_index(code: str, bands: Iterable[AgeBand]) -> int:
    for index, band in enumerate(bands):
        if band.code == code:
            return index
    raise ValueError(f"unknown age band {code!r}")


def band_at_least(
    band: str | AgeBand, min_band: str | AgeBand | None, bands: Iterable[AgeBand] = DEFAULT_BANDS
) -> bool:
    """True when ``band`` is ``min_band`` or older (``None`` means no minimum).

    Examples
    --------
    >>> band_at_least("C", "B"), band_at_least("A", None)
    (True, True)
    """
    if min_band is None:
        return True
    bands = tuple(bands)
    code = band.code if isinstance(band, AgeBand) else band
    minimum = min_band.code if isinstance(min_band, AgeBand) else min_band
    return _band_index(code, bands) >= _band_index(minimum, bands)


def band_for_age(age: int, bands: Iterable[AgeBand] = DEFAULT_BANDS) -> AgeBand | None:
    """The band containing ``age``, or ``None``.

    >>> band_for_age(12).code
    'B'
    """
    for band in bands:
        if band.contains(age):
            return band
    return None


def matrix_key(item_name: str, row_name: str) -> str:
    """The answer key of one matrix row: ``<item>_<row>``.

    >>> matrix_key("CH2", "phone")
    'CH2_phone'
    """
    return f"{item_name}_{row_name}"

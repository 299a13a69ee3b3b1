"""Age bands: the only form in which a child's age is kept by default (D-01, §5.1).

The default bands are A = 8-10, B = 11-13 and C = 14-17.  Consultations may configure other
contiguous bands; :func:`validate_bands` checks a configuration before it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Band", "DEFAULT_BANDS", "BAND_CODES", "band_by_code", "validate_bands"]


@dataclass(frozen=True, slots=True)
class Band:
    """An inclusive age range in whole years, identified by a short code.

    Parameters
    ----------
    code : str
        Short identifier stored with responses and texts (``"A"``, ``"B"``, ``"C"``).
    min_age, max_age : int
        Inclusive bounds in whole years.

    Examples
    --------
    >>> Band("A", 8, 10).contains(9)
    True
    >>> Band("A", 8, 10).label
    '8-10'
    """

    code: str
    min_age: int
    max_age: int

    def __post_init__(self) -> None:
        if not self.code or not self.code.isalnum():
            raise ValueError(f"band code {self.code!r} must be a short alphanumeric code such as 'A'")
        if self.min_age > self.max_age:
            raise ValueError(f"band {self.code}: min_age {self.min_age} is above max_age {self.max_age}; swap them")

    def contains(self, age: int) -> bool:
        """Whether ``age`` (whole years) falls in this band."""
        return self.min_age <= age <= self.max_age

    @property
    def label(self) -> str:
        """The age range as shown to people, e.g. ``'8-10'``."""
        return f"{self.min_age}-{self.max_age}"


#: The default bands of the reference (§5.1): A = 8-10, B = 11-13, C = 14-17.
DEFAULT_BANDS: tuple[Band, ...] = (Band("A", 8, 10), Band("B", 11, 13), Band("C", 14, 17))

#: The codes of :data:`DEFAULT_BANDS`, the bands the bundled texts are written for.
BAND_CODES: tuple[str, ...] = tuple(b.code for b in DEFAULT_BANDS)


def band_by_code(code: str, bands: Sequence[Band] = DEFAULT_BANDS) -> Band:
    """Return the band whose code is ``code``.

    Raises
    ------
    KeyError
        When no band has that code.

    Examples
    --------
    >>> band_by_code("B").label
    '11-13'
    """
    for band in bands:
        if band.code == code:
            return band
    raise KeyError(f"no age band with code {code!r}; known codes: {[b.code for b in bands]}")


def validate_bands(bands: Sequence[Band]) -> None:
    """Check that bands are non-empty, uniquely coded, ordered, contiguous and non-overlapping.

    Raises
    ------
    ValueError
        Naming the first problem found and how to fix it.

    Examples
    --------
    >>> validate_bands(DEFAULT_BANDS)
    >>> validate_bands([Band("A", 8, 10), Band("B", 12, 13)])
    Traceback (most recent call last):
    ...
    ValueError: age bands must be contiguous: A ends at 10 but B starts at 12; make B start at 11
    """
    if not bands:
        raise ValueError("at least one age band is needed")
    codes = [b.code for b in bands]
    if len(set(codes)) != len(codes):
        raise ValueError(f"age band codes must be unique, got {codes}")
    for prev, nxt in zip(bands, bands[1:], strict=False):
        if nxt.min_age != prev.max_age + 1:
            raise ValueError(
                f"age bands must be contiguous: {prev.code} ends at {prev.max_age} but "
                f"{nxt.code} starts at {nxt.min_age}; make {nxt.code} start at {prev.max_age + 1}"
            )

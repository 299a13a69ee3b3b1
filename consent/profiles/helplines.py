"""Helplines in use: freshness (:func:`helplines_fresh`, from the profile's check days), the
helplines of one language, and the ``{helpline}`` / ``{helplines}`` placeholders' text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consent.profiles.model import EXAMPLE_HELPLINES_WARNING, CountryProfile, Helpline

# --------------------------------------------------------------------------- freshness


@dataclass(frozen=True, slots=True)
class StaleHelpline:
    """A helpline whose verification is too old (or dated in the future)."""

    name: str
    number: str
    last_verified: date
    age_days: int


@dataclass(frozen=True, slots=True)
class FreshnessResult:
    """Whether a consultation may open as far as the helpline directory is concerned (S-01).

    Attributes
    ----------
    ok : bool
        ``False`` blocks opening.  Truthiness follows ``ok``.
    stale : tuple of StaleHelpline
        Entries verified more than ``max_age_days`` ago.
    future : tuple of StaleHelpline
        Entries whose verification date is after ``today`` (a typo, most likely).
    warnings : tuple of str
        Plain-language messages for the facilitator or administrator.
    is_example : bool
        The profile is a shipped example.
    """

    ok: bool
    stale: tuple[StaleHelpline, ...] = ()
    future: tuple[StaleHelpline, ...] = ()
    warnings: tuple[str, ...] = ()
    is_example: bool = False

    def __bool__(self) -> bool:
        return self.ok


def helplines_fresh(profile: CountryProfile, today: date, max_age_days: int | None = None) -> FreshnessResult:
    """Check that every helpline was verified within ``max_age_days`` days of ``today``.

    ``max_age_days`` defaults to the profile's ``helpline_check_days``.  Exactly that many days
    old is still fresh; one day more is stale.  The rule is the same for a shipped example
    profile (``is_example``), which also gets :data:`EXAMPLE_HELPLINES_WARNING`: whether a
    demonstration may still open on it is decided by :func:`consent.opening.check_opening`.
    Pass the real date: nothing here reads the clock.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> from datetime import date
    >>> result = helplines_fresh(load_profile("generic"), date(2040, 1, 1))
    >>> result.ok, "examples to replace" in result.warnings[0]
    (False, True)
    >>> helplines_fresh(load_profile("generic"), date(2026, 12, 1)).ok
    True
    """
    if max_age_days is None:
        max_age_days = profile.helpline_check_days
    if max_age_days < 0:
        raise ValueError("max_age_days must not be negative")
    stale, future = [], []
    for h in profile.helplines:
        age = (today - h.last_verified).days
        entry = StaleHelpline(h.name, h.number, h.last_verified, age)
        if age < 0:
            future.append(entry)
        elif age > max_age_days:
            stale.append(entry)
    warnings: list[str] = [EXAMPLE_HELPLINES_WARNING] if profile.is_example else []
    for s in stale:
        warnings.append(
            f"{s.name} ({s.number}) was last checked on {s.last_verified.isoformat()}, "
            f"{s.age_days} days ago; a check counts for {max_age_days} days. Call or check "
            "the helpline, then record the date of the check in the country profile."
        )
    for s in future:
        warnings.append(
            f"{s.name} ({s.number}) was checked on {s.last_verified.isoformat()}, which is "
            "after today: correct the date of the check in the country profile."
        )
    if not profile.helplines:
        warnings.append("The country profile lists no helpline: add at least one.")
    ok = not stale and not future and bool(profile.helplines)
    return FreshnessResult(ok, tuple(stale), tuple(future), tuple(warnings), profile.is_example)


def helplines_for(profile: CountryProfile, language: str) -> tuple[Helpline, ...]:
    """The profile's helplines for a help panel in ``language``: those answering in it first,
    each with its name and hours in that language where the profile gives them.

    Every helpline is kept (a child may still call one in another language); the order is
    otherwise the profile's.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> [(h.name, h.hours) for h in helplines_for(load_profile("example-ke"), "sw")]
    [('Childline Kenya', 'Saa 24')]
    """
    return tuple(h.in_language(language) for h in sorted(profile.helplines, key=lambda h: language not in h.languages))


def helplines_missing_language(profile: CountryProfile, language: str) -> tuple[str, ...]:
    """Names of the helplines whose name and hours the profile does not give in ``language``
    (they are written in the profile's first language; others need ``translations``).

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> helplines_missing_language(load_profile("example-ke"), "sw")
    ()
    >>> helplines_missing_language(load_profile("example-ke"), "pt")
    ('Childline Kenya',)
    """
    base = profile.languages[0] if profile.languages else "en"
    return tuple(h.name for h in profile.helplines if not h.written_in(language, base))


#: What an instrument's ``{helpline}`` and ``{helplines}`` placeholders become (see
#: :mod:`instruments.placeholders`); filled by :func:`helpline_placeholders`.
HELPLINE_PLACEHOLDERS = ("helpline", "helplines")


def helpline_label(helpline: Helpline) -> str:
    """A helpline as children read it in a sentence: "Name (number)".

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> helpline_label(load_profile("example-ke").helplines[0])
    'Childline Kenya (116)'
    """
    return f"{helpline.name} ({helpline.number})"


def helpline_placeholders(profile: CountryProfile, language: str) -> dict[str, str]:
    """The values of the ``{helpline}`` and ``{helplines}`` placeholders for ``language``.

    ``helpline`` is the first of :func:`helplines_for` (one answering in the language comes
    first); ``helplines`` lists them all, separated by commas.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> helpline_placeholders(load_profile("example-uk"), "en")
    {'helpline': 'Childline (0800 1111)', 'helplines': 'Childline (0800 1111)'}
    """
    ordered = helplines_for(profile, language)
    labels = [helpline_label(h) for h in ordered]
    return {"helpline": labels[0] if labels else "", "helplines": ", ".join(labels)}

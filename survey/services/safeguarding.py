"""What every child-facing page needs from the country profile: helplines and the quick exit."""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from flask import current_app
from flask_babel import gettext

from consent.profiles import CountryProfile, load_profile
from survey.models import Consultation


@functools.lru_cache(maxsize=32)
def _bundled_or_file(profile_id: str) -> CountryProfile:
    return load_profile(profile_id)


def country_profile(profile_id: str) -> CountryProfile:
    """A profile an administrator uploaded, else a bundled id or file path (each parsed once)."""
    from survey.services.profile_store import stored

    return stored(profile_id) or _bundled_or_file(profile_id)


#: The example profile a child-facing page falls back on when nothing better is known.
GENERIC_PROFILE = "generic"


def pre_code_profiles() -> tuple[CountryProfile, ...]:
    """The country profiles whose helplines a child-facing page shows before a code says which
    consultation the child is in (start page, help, "I feel upset", the withdrawal page).

    The one owner of that rule: when every consultation open to children uses one profile,
    that one; when they use several, the deployment's pinned profile (``DEFAULT_COUNTRY_PROFILE``)
    if set, else each of them; with none open, the pinned one.  The generic example only when
    nothing better is known, never in place of a known profile.
    """
    from survey.services.participants import open_consultation_profiles

    opened = open_consultation_profiles()
    pinned = current_app.config.get("DEFAULT_COUNTRY_PROFILE") or ""
    if len(opened) == 1:
        ids = opened
    elif pinned:
        ids = [pinned]
    else:
        ids = opened or [GENERIC_PROFILE]
    return tuple(country_profile(profile_id) for profile_id in ids)


def help_context_source(consultation: Consultation | None) -> CountryProfile:
    """The country profile a child-facing page takes its helplines and quick exit from (before
    a code: the first of :func:`pre_code_profiles`)."""
    if consultation is not None:
        return country_profile(consultation.country_profile)
    return pre_code_profiles()[0]


def country_name(profile: CountryProfile, language: str | None) -> str:
    """The profile's country by name in ``language`` (Babel's CLDR names); "Other countries" for
    a profile that names no country (the generic example: a child never reads a profile's
    internal name, such as "Generic profile (example, replace before use)")."""
    if profile.country:
        try:
            named = Locale.parse((language or "en").replace("-", "_")).territories.get(profile.country)
        except (ValueError, UnknownLocaleError):
            named = None
        if named:
            return named
    return gettext("Other countries")


def help_context(consultation: Consultation | None, language: str | None = None) -> dict:
    """Template values for the help panel and the quick exit of a child-facing page; the
    helplines' names and hours in ``language`` where the profile gives them.

    ``helpline_groups`` holds (country, helplines) for each country shown: one group with no
    heading when the page shows one profile's helplines, else one per country name.
    """
    from consent.profiles import helplines_for

    profiles = (country_profile(consultation.country_profile),) if consultation is not None else pre_code_profiles()
    groups: dict[str, list] = {}
    for profile in profiles:
        lines = groups.setdefault(country_name(profile, language) if len(profiles) > 1 else "", [])
        for line in helplines_for(profile, language) if language else profile.helplines:
            if all(line.number != kept.number for kept in lines):
                lines.append(line)
    helpline_groups = tuple((heading, tuple(lines)) for heading, lines in groups.items())
    return {
        "helplines": tuple(line for _heading, lines in helpline_groups for line in lines),
        "helpline_groups": helpline_groups,
        "helplines_are_examples": any(profile.is_example for profile in profiles),
        # A deployment may pin one address (e.g. an internal page where there is no internet).
        "quick_exit_url": current_app.config.get("QUICK_EXIT_URL") or profiles[0].quick_exit_url,
    }

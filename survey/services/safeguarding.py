"""What every child-facing page needs from the country profile: helplines and the quick exit."""

from __future__ import annotations

import functools

from flask import current_app

from consent.profiles import CountryProfile, load_profile
from survey.models import Consultation


@functools.lru_cache(maxsize=32)
def _bundled_or_file(profile_id: str) -> CountryProfile:
    return load_profile(profile_id)


def country_profile(profile_id: str) -> CountryProfile:
    """A profile an administrator uploaded, else a bundled id or file path (each parsed once)."""
    from survey.services.profile_store import stored

    return stored(profile_id) or _bundled_or_file(profile_id)


def help_context_source(consultation: Consultation | None) -> CountryProfile:
    """The country profile a child-facing page takes its helplines and quick exit from."""
    return country_profile(
        consultation.country_profile if consultation else current_app.config["DEFAULT_COUNTRY_PROFILE"]
    )


def help_context(consultation: Consultation | None, language: str | None = None) -> dict:
    """Template values for the help panel and the quick exit of a child-facing page; the
    helplines' names and hours in ``language`` where the profile gives them."""
    from consent.profiles import helplines_for

    profile = help_context_source(consultation)
    return {
        "helplines": helplines_for(profile, language) if language else profile.helplines,
        "helplines_are_examples": profile.is_example,
        # A deployment may pin one address (e.g. an internal page where there is no internet).
        "quick_exit_url": current_app.config.get("QUICK_EXIT_URL") or profile.quick_exit_url,
    }

"""The questionnaire as children see it: placeholders filled from the country profile.

An instrument never writes a helpline number (the validator refuses one); it writes
``{helpline}`` or ``{helplines}`` (:mod:`instruments.placeholders`).  Here they become the
helplines of the consultation's country profile, in each language of the instrument
(:func:`consent.profiles.helpline_placeholders`), so a child in Kenya reads 116 and a child in
the UK 0800 1111 in the same question.

The filled instrument is worked out once per stored instrument version and country profile in
each process, and kept while both are the very objects it was made from: an uploaded profile
(a new object) fills it afresh, and the band views and kept pages built from it follow.
"""

from __future__ import annotations

import threading

from consent.profiles import CountryProfile, helpline_placeholders
from instruments.model import Instrument
from instruments.placeholders import fill_instrument
from survey.models import Consultation

_FILLED: dict[tuple[int, int], tuple[Instrument, CountryProfile, Instrument]] = {}
_LOCK = threading.Lock()
_KEPT = 64


def filled_for(instrument: Instrument, profile: CountryProfile) -> Instrument:
    """``instrument`` with its placeholders filled from ``profile``'s helplines, per language."""
    key = (id(instrument), id(profile))
    kept = _FILLED.get(key)
    if kept is not None and kept[0] is instrument and kept[1] is profile:
        return kept[2]
    from survey.i18n import isolated

    values = {
        code: {name: isolated(value, code) for name, value in helpline_placeholders(profile, code).items()}
        for code in instrument.language_codes
    }
    filled = fill_instrument(instrument, values)
    with _LOCK:
        if len(_FILLED) >= _KEPT:
            _FILLED.clear()
        _FILLED[key] = (instrument, profile, filled)  # identity is checked on reading
    return filled


def instrument_for_children(consultation: Consultation) -> Instrument:
    """The consultation's instrument version, with the helplines of its country profile."""
    from survey.services.instrument_store import instrument_for
    from survey.services.safeguarding import country_profile

    return filled_for(instrument_for(consultation), country_profile(consultation.country_profile))

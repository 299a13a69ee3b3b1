"""Placeholders in child-facing text, and the phone numbers that must not be written there.

A helpline number depends on the country: 116 111 in much of Europe, 116 in Kenya, 0800 1111
in the UK.  An instrument therefore never writes one.  It writes a placeholder, and the survey
fills it in from the consultation's country profile (its checked helplines) when a child's page
is drawn, in the child's language:

``{helpline}``
    the helpline shown first to a child in that language, as "Name (number)";
``{helplines}``
    every helpline of the profile, in the same form, separated by commas.

:func:`placeholders_in` finds them, :func:`fill_instrument` fills every child-facing text of an
instrument, and :func:`phone_numbers_in` finds text that looks like a phone number (the
validator refuses it in child-facing text, see :mod:`instruments.validate`).

Examples
--------
>>> placeholders_in("Call {helpline} or {helplines}; ${AW1} is an answer, not a placeholder.")
('helpline', 'helplines')
>>> fill("Call {helpline}.", {"helpline": "Childline (0800 1111)"})
'Call Childline (0800 1111).'
>>> phone_numbers_in("Pick up to 3. Ages 8-10. Call 116 111 or 0800 1111.")
('116 111', '0800 1111')
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from instruments.model import Choice, Instrument, Item, Section, Text, _bandmap

__all__ = [
    "PLACEHOLDERS",
    "fill",
    "fill_instrument",
    "fill_text",
    "phone_numbers_in",
    "placeholders_in",
]

#: The placeholders a child-facing text may hold, with what each becomes.
PLACEHOLDERS: Mapping[str, str] = {
    "helpline": "the helpline shown first to children in that language, as 'Name (number)'",
    "helplines": "every helpline of the country profile, as 'Name (number)', separated by commas",
}

# {name} but not ${name} (an XLSForm reference to an answer).
_PLACEHOLDER_RE = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")

# A run of digits joined by at most three spaces, dots, dashes, slashes or brackets, with an
# optional leading "+".  \d also matches other scripts' digits (e.g. Arabic-Indic).
_NUMBER_RE = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d)*")
_RUN_RE = re.compile(r"\d+")


def placeholders_in(text: str) -> tuple[str, ...]:
    """The placeholder names in ``text``, in order of first use.

    Examples
    --------
    >>> placeholders_in("{helpline} and {helpline}, {unknown}")
    ('helpline', 'unknown')
    """
    return tuple(dict.fromkeys(_PLACEHOLDER_RE.findall(text or "")))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value (others are left as written).

    Examples
    --------
    >>> fill("{helpline} / {other}", {"helpline": "Childline Kenya (116)"})
    'Childline Kenya (116) / {other}'
    """
    if not text or "{" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def phone_numbers_in(text: str) -> tuple[str, ...]:
    """Parts of ``text`` that look like a phone number.

    A number with a run of three or more digits ("116", "0800 1111", "+44 20 7946 0958"), or
    six or more digits in all ("07 12 34 56 78"), counts; a year on its own (1900-2099), a
    choice like "8" or a range like "8-10" does not.

    Examples
    --------
    >>> phone_numbers_in("Ages 8-10 and 11-13, in 2026, pick up to 3")
    ()
    >>> phone_numbers_in("Ring 116, +254 722 178 177 or ١١٦ ١١١")
    ('116', '+254 722 178 177', '١١٦ ١١١')
    """
    found = []
    for match in _NUMBER_RE.finditer(text or ""):
        candidate = match.group(0).strip()
        runs = _RUN_RE.findall(candidate)
        digits = "".join(runs)
        if len(runs) == 1 and len(digits) == 4 and 1900 <= int(digits) <= 2099:
            continue  # a year
        if max(len(r) for r in runs) >= 3 or len(digits) >= 6:
            found.append(candidate)
    return tuple(found)


def fill_text(text: Text, values_by_language: Mapping[str, Mapping[str, str]]) -> Text:
    """A :class:`Text` with each language's placeholders filled with that language's values.

    Examples
    --------
    >>> t = Text(en="Call {helpline}.", fr="Appelle {helpline}.")
    >>> dict(fill_text(t, {"en": {"helpline": "A (1)"}, "fr": {"helpline": "B (2)"}}))
    {'en': 'Call A (1).', 'fr': 'Appelle B (2).'}
    """
    if not any("{" in value for value in text.values()):
        return text
    return Text({lang: fill(value, values_by_language.get(lang, {})) for lang, value in text.items()})


def _fill_item(item: Item, values: Mapping[str, Mapping[str, str]]) -> Item:
    return dataclasses.replace(
        item,
        label=fill_text(item.label, values),
        hint=fill_text(item.hint, values),
        constraint_message=fill_text(item.constraint_message, values),
        label_bands=_bandmap({b: fill_text(t, values) for b, t in item.label_bands.items()}),
        hint_bands=_bandmap({b: fill_text(t, values) for b, t in item.hint_bands.items()}),
    )


def _fill_choice(choice: Choice, values: Mapping[str, Mapping[str, str]]) -> Choice:
    return dataclasses.replace(choice, label=fill_text(choice.label, values), alt=fill_text(choice.alt, values))


def fill_instrument(instrument: Instrument, values_by_language: Mapping[str, Mapping[str, str]]) -> Instrument:
    """The instrument with every child-facing text's placeholders filled, per language.

    Titles, notices, labels, hints, band variants, constraint messages and choices are filled;
    names, expressions and settings are unchanged, so answers and page plans are the same.
    Returns ``instrument`` itself when no text holds a placeholder.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> inst = load_bundled()
    >>> "{helpline}" in inst.item("AW1").label["en"]
    True
    >>> filled = fill_instrument(inst, {"en": {"helpline": "Childline (0800 1111)",
    ...                                        "helplines": "Childline (0800 1111)"}})
    >>> filled.item("AW1").label["en"].endswith("like Childline (0800 1111)?")
    True
    """
    values = values_by_language

    def section(s: Section) -> Section:
        pages = tuple(
            dataclasses.replace(
                p, title=fill_text(p.title, values), items=tuple(_fill_item(i, values) for i in p.items)
            )
            for p in s.pages
        )
        return dataclasses.replace(s, pages=pages, title=fill_text(s.title, values), notice=fill_text(s.notice, values))

    def has_placeholder(text: Text) -> bool:
        return any(placeholders_in(value) for value in text.values())

    from instruments.validate import child_facing_texts

    if not any(has_placeholder(text) for _where, text in child_facing_texts(instrument)):
        return instrument
    return dataclasses.replace(
        instrument,
        title=fill_text(instrument.title, values),
        sections=tuple(section(s) for s in instrument.sections),
        choice_lists={
            name: tuple(_fill_choice(c, values) for c in choices) for name, choices in instrument.choice_lists.items()
        },
    )

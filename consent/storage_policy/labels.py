"""Labels and codes a facilitator types: station labels kept short and plain, and site codes that
name no school."""

from __future__ import annotations

import re
import unicodedata

# --------------------------------------------------------------------------- labels and codes

_LABEL_CHARS = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]*$")


def normalize_station_label(text: str, *, max_length: int = 8) -> str:
    """Check and tidy the seat or station label a child enters for "talk to someone" (S-07).

    The label is shown on the facilitator's live view, so it must never be a name.  Accepted:
    up to ``max_length`` letters, digits, spaces and hyphens, containing a digit (``"Seat 4"``,
    ``"T3"``) or no longer than two characters (``"B"``).  Anything else is refused.  Digits of
    any script (Arabic-Indic ``"١٢"``, Devanagari, ...) are the same numbers: they are stored as
    ASCII digits, as the facilitator's view shows them.

    Raises
    ------
    ValueError
        With a reason the page can turn into "use the number on your table".

    Examples
    --------
    >>> normalize_station_label("  seat 4 ")
    'SEAT 4'
    >>> normalize_station_label("١٢")
    '12'
    >>> normalize_station_label("Amina")
    Traceback (most recent call last):
    ...
    ValueError: a seat label is a number or one or two letters, never a name
    """
    label = " ".join(str(text).split()).upper()
    label = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in label)
    if not label or len(label) > max_length or not _LABEL_CHARS.match(label):
        raise ValueError(f"a seat label is up to {max_length} letters and numbers, like 'T3' or 'Seat 4'")
    if len(label) > 2 and not any(ch.isdigit() for ch in label):
        raise ValueError("a seat label is a number or one or two letters, never a name")
    return label


_SCHOOL_WORDS = frozenset(
    {
        "school",
        "academy",
        "primary",
        "secondary",
        "college",
        "high",
        "grammar",
        "shule",
        "msingi",
        "sekondari",
        "ecole",
        "école",
        "lycee",
        "lycée",
        "collège",
        "escuela",
        "colegio",
        "liceo",
        "instituto",
        "مدرسة",
    }
)


def site_code_problem(code: str, *, school_name_allowed: bool = False) -> str | None:
    """A reason to refuse a site code, or ``None`` if it is fine.

    A site code labels where a session happened (e.g. ``"NRB-07"``).  Unless the country
    profile's ``school_name_as_site_code`` allows it, a code that looks like a school's name is
    refused: with small groups, a school name plus age band can point to individual children.

    Examples
    --------
    >>> site_code_problem("NRB-07") is None
    True
    >>> site_code_problem("Kilimani Primary School")
    "this looks like a school's name; use a neutral code such as 'SITE-07'"
    """
    value = " ".join(str(code).split())
    if not value:
        return "the site code is empty"
    if len(value) > 40:
        return "keep the site code short (40 characters at most)"
    words = {w.lower() for w in re.split(r"[^\w]+", value) if w}
    if not school_name_allowed and words & _SCHOOL_WORDS:
        return "this looks like a school's name; use a neutral code such as 'SITE-07'"
    return None

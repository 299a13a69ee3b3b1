"""Participation and withdrawal codes: random, readable, stored only as keyed hashes.

A *participation code* is printed on the card a child receives; it lets one child start one
response (DP-05, C-03).  A *withdrawal code* is printed on the card's tear-off; it lets the child
delete a completed response until the analysis cut-off (C-09).  Neither is linked to identity.

Design (security-reliability.md §2.2 and Appendix A):

* 12 symbols from a 30-symbol alphabet without look-alikes (no ``0 O 1 I L``, and no ``U``),
  drawn with :mod:`secrets`: 12 x log2(30) ≈ 58.9 bits, above the 50-bit floor;
* shown in three groups of four (``K7QF-M3XR-P9TW``); typing ignores case, spaces and
  separators;
* stored as ``HMAC-SHA256(pepper, purpose || code)``: deterministic, so the database can index
  the lookup, but useless without the application secret; the purpose prefix means a
  participation-code hash can never match a withdrawal-code lookup, and vice versa.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from enum import StrEnum

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "GROUP_SIZE",
    "CodeKind",
    "InvalidCode",
    "code_entropy_bits",
    "format_code",
    "hash_code",
    "is_valid_code",
    "new_code",
    "new_codes",
    "new_participation_code",
    "new_withdrawal_code",
    "normalize_code",
]

#: Symbols used in codes: digits 2-9 and letters without I, L, O and U (30 symbols).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Number of symbols in a code.
CODE_LENGTH = 12
#: Symbols per group when a code is shown to people.
GROUP_SIZE = 4
#: Separator between groups when a code is shown.
SEPARATOR = "-"

# Anything a child might type between groups: spaces, hyphens and dashes of every kind, dots,
# underscores, slashes.  (NFKC folds full-width letters and digits before this runs.)
_SEPARATORS = re.compile(r"[\s\-‐-―−_./·]+")
_ALPHABET_SET = frozenset(ALPHABET)


class CodeKind(StrEnum):
    """What a code is for; part of the hashed message, so hashes never cross purposes."""

    PARTICIPATION = "participation"
    WITHDRAWAL = "withdrawal"


class InvalidCode(ValueError):
    """A typed code cannot be a code: wrong length or a symbol outside the alphabet."""


def code_entropy_bits(length: int = CODE_LENGTH, alphabet: str = ALPHABET) -> float:
    """Entropy in bits of a code of ``length`` symbols drawn uniformly from ``alphabet``.

    Examples
    --------
    >>> round(code_entropy_bits(), 1)
    58.9
    >>> code_entropy_bits(10, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")  # Crockford base32
    50.0
    """
    if length < 1:
        raise ValueError("length must be at least 1")
    return length * math.log2(len(set(alphabet)))


def new_code(length: int = CODE_LENGTH) -> str:
    """Return a fresh random code in canonical form (upper case, no separators).

    Uses :func:`secrets.choice` (a CSPRNG), one independent draw per symbol.

    Examples
    --------
    >>> code = new_code()
    >>> len(code), set(code) <= set(ALPHABET)
    (12, True)
    """
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_participation_code() -> str:
    """Return a fresh participation code (canonical form); see :func:`new_code`.

    Examples
    --------
    >>> is_valid_code(new_participation_code())
    True
    """
    return new_code()


def new_withdrawal_code() -> str:
    """Return a fresh withdrawal code (canonical form); see :func:`new_code`.

    Store only ``hash_code(code, secret, kind=CodeKind.WITHDRAWAL)``; print the code on the
    card's tear-off.

    Examples
    --------
    >>> len(format_code(new_withdrawal_code()))
    14
    """
    return new_code()


def new_codes(n: int, *, exclude: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Return ``n`` distinct fresh codes, none of them in ``exclude``.

    At ~59 bits a collision is vanishingly unlikely, but a print run must never contain the same
    card twice, so duplicates are redrawn rather than assumed away.  The database's unique index
    on the code hash remains the final guard.

    Examples
    --------
    >>> len(set(new_codes(30)))
    30
    """
    if n < 0:
        raise ValueError("n must not be negative")
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        code = new_code()
        if code in seen or code in exclude:
            continue
        seen.add(code)
        out.append(code)
    return out


def normalize_code(text: str, *, length: int = CODE_LENGTH) -> str:
    """Return the canonical form of a typed code, ignoring case, spaces and separators.

    Full-width characters are folded (NFKC).  The result is checked against the alphabet and
    the length, so a value that passes can be hashed and looked up.

    Raises
    ------
    InvalidCode
        If the text, once cleaned, has the wrong length or a symbol outside :data:`ALPHABET`.
        The message says which, in words a facilitator can relay.

    Examples
    --------
    >>> normalize_code(" k7qf m3xr-p9tw ")
    'K7QFM3XRP9TW'
    >>> normalize_code("K7QF-M3XR-P9T")
    Traceback (most recent call last):
    ...
    consent.codes.InvalidCode: a code has 12 letters and numbers; this one has 11
    """
    if not isinstance(text, str):
        raise InvalidCode("a code must be text")
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(cleaned) != length:
        raise InvalidCode(f"a code has {length} letters and numbers; this one has {len(cleaned)}")
    bad = sorted(set(cleaned) - _ALPHABET_SET)
    if bad:
        hint = ""
        if set(bad) & set("0O1IL"):
            hint = " (codes never use 0, O, 1, I or L; check the card again)"
        raise InvalidCode(f"a code cannot contain {''.join(bad)!r}{hint}")
    return cleaned


def is_valid_code(text: str, *, length: int = CODE_LENGTH) -> bool:
    """Whether ``text`` normalises to a well-formed code.

    Examples
    --------
    >>> is_valid_code("k7qf m3xr p9tw"), is_valid_code("K7QF-M3XR-P9T0")
    (True, False)
    """
    try:
        normalize_code(text, length=length)
    except InvalidCode:
        return False
    return True


def format_code(code: str, *, group: int = GROUP_SIZE, separator: str = SEPARATOR) -> str:
    """Return a code split into groups for printing on a card.

    Accepts any typed form (it is normalised first).

    Examples
    --------
    >>> format_code("k7qfm3xrp9tw")
    'K7QF-M3XR-P9TW'
    """
    canonical = normalize_code(code)
    return separator.join(canonical[i : i + group] for i in range(0, len(canonical), group))


def hash_code(code: str, pepper: bytes | str, *, kind: CodeKind | str = CodeKind.PARTICIPATION) -> str:
    """Return the hex HMAC-SHA256 of a code, keyed with the application secret (``pepper``).

    The code is normalised first, so every typed form of the same code hashes the same.  Store
    only this value; compare stored and computed hashes with :func:`hmac.compare_digest` if you
    ever compare outside an indexed lookup.

    Parameters
    ----------
    code : str
        The code as typed or printed.
    pepper : bytes or str
        The application's secret key (never stored with the data).
    kind : CodeKind
        What the code is for; a withdrawal-code hash differs from the participation-code hash
        of the same symbols.

    Examples
    --------
    >>> h = hash_code("K7QF-M3XR-P9TW", b"secret")
    >>> h == hash_code("k7qf m3xr p9tw", b"secret"), len(h)
    (True, 64)
    >>> h == hash_code("K7QF-M3XR-P9TW", b"secret", kind=CodeKind.WITHDRAWAL)
    False
    """
    if isinstance(pepper, str):
        pepper = pepper.encode("utf-8")
    if not pepper:
        raise ValueError("hash_code needs a non-empty pepper (the application secret)")
    message = f"{CodeKind(kind).value}:{normalize_code(code)}".encode("ascii")
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()

"""Free-text screening: personal information and safeguarding concerns (S-06, A15, A16).

Offline, regex and deny-list based (no model downloads, no network). The screener:

1. looks for **concerns** first (a multilingual keyword list: harm, abuse, self-harm,
   exploitation) so the safeguarding signal survives redaction; flagged answers go to the
   designated safeguarding lead, never into reports;
2. redacts personal information: e-mail, URL, social handles (dots and underscores),
   phone numbers (7+ digits), postcodes, street addresses, dates, class codes, names after
   "my name is" / "naitwa" / "je m'appelle" / "me llamo" / "meu nome é" and titles
   ("Mr", "Mwalimu", "Madame" ...), and the consultation's deny-lists (children's first
   names held in memory, staff, schools, places) -> ``<EMAIL>``, ``<NAME>`` ...

Free text is released only through :func:`release_quote`: screened by this module, reviewed
by a person (the reviewer's decision is passed in), with no concern flag, from band B or C,
and at most 25 words (A-02).

Examples
--------
>>> s = screen_text("Text me on 0712 345 678 or amina.k@mail.com, my name is Amina",
...                 names=["Amina"])
>>> s.redacted
'Text me on <PHONE> or <EMAIL>, my name is <NAME>'
>>> sorted(s.pii)
['EMAIL', 'NAME', 'PHONE']
>>> screen_text("he hurts me at home").concerns
('en:hurt',)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from .disclosure import DisclosureError

__all__ = [
    "CONCERN_TERMS",
    "ReleasedQuote",
    "ScreenedText",
    "release_quote",
    "screen_text",
    "screen_texts",
]

_GATE = object()

#: Concern keywords by language (stems; matched case-insensitively at word starts).
CONCERN_TERMS: dict[str, tuple[str, ...]] = {
    "en": ("abuse", "abusing", "rape", "molest", "hurt", "hit me",
           "hits me", "beat me", "beats me", "touched me", "touches me", "touching me",
           "kill myself", "suicide", "self harm", "self-harm", "cut myself", "want to die",
           "nude", "naked", "sextort", "blackmail", "groom", "scared to go home",
           "afraid to go home", "forced me", "threaten"),
    "sw": ("ananipiga", "wananipiga", "kunipiga", "ubakaji", "kubaka", "kunibaka",
           "ananigusa", "kunigusa", "unyanyasaji", "kunyanyaswa", "kujiua", "nataka kufa",
           "uchi", "picha za uchi", "ananitishia", "kunitishia", "dhuluma"),
    "fr": ("abus", "viol", "violé", "me frappe", "me bat", "me touche", "attouchement",
           "me suicider", "suicide", "me tuer", "envie de mourir", "nue", "chantage",
           "menace", "harcèle"),
    "es": ("abuso", "violación", "violó", "me pega", "me golpea", "me toca", "tocamiento",
           "suicid", "matarme", "quiero morir", "desnud", "chantaje", "amenaz", "acoso"),
    "pt": ("abuso", "estupro", "violência", "me bate", "me toca", "suicíd", "me matar",
           "quero morrer", "nua", "pelad", "chantagem", "ameaç", "assédio"),
}

_NAME_WORD = r"([A-ZÀ-ÖØ-Þ][\w'’-]+)"
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("URL", re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|co|"
                       r"ke|ug|tz|uk|io|me|tv|app|gg|info|africa|fr|es|pt|br)\b(?:/\S*)?",
                       re.IGNORECASE)),
    ("HANDLE", re.compile(r"(?<![\w.])@[A-Za-z0-9_.]{3,30}")),
    ("PHONE", re.compile(r"(?<![\w+])\+?\d(?:[\s().-]?\d){6,14}(?!\w)")),
    ("POSTCODE", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")),
    ("ADDRESS", re.compile(
        r"\b\d{1,5},?\s+(?:[A-Z][\w'-]+\s+){0,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|"
        r"Close|Drive|Way|Crescent)\b"
        r"|\b(?:P\.?\s?O\.?\s?Box|Sanduku la Posta)\s*\d+"
        r"|\b(?:Barabara ya|Mtaa wa)\s+[A-Z][\w'-]+"
        r"|\b\d{1,5},?\s+(?:rue|avenue|boulevard|calle|avenida|rua|travessa)\s+[\w' -]{2,30}"
        r"|\b(?:rue|calle|rua|avenida)\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?\s*,?\s*\d{1,5}",
        re.IGNORECASE)),
    ("DATE", re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")),
    ("CLASS", re.compile(r"\b(?:year|grade|class|std|standard|form|darasa|classe|grado|curso|"
                         r"turma|série)\s*\d+\s?[A-Za-z]?\b", re.IGNORECASE)),
    ("NAME", re.compile(
        r"(?i:\b(?:my name is|i am called|i'm called|call me|jina langu ni|naitwa|"
        r"je m'appelle|je m’appelle|mon nom est|me llamo|mi nombre es|meu nome é|me chamo|"
        r"mr|mrs|ms|miss|sir|teacher|mwalimu|bwana|bi|madame|monsieur|mme|m\.|señor|señora|"
        r"sr|sra|profesor|professora?|senhor|senhora|dona)\.?\s+)" + _NAME_WORD)),
]


@dataclass(frozen=True, eq=False)
class ScreenedText:
    """The screened form of one answer (the raw text is not kept).

    Attributes
    ----------
    redacted : str
        Text with personal information replaced by ``<KIND>`` tokens.
    pii : tuple of str
        Kinds of personal information found.
    concerns : tuple of str
        Concern terms matched, as ``"lang:term"``; non-empty means safeguarding review.
    words : int
    """

    redacted: str
    pii: tuple[str, ...]
    concerns: tuple[str, ...]
    words: int
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("ScreenedText is only produced by screen_text()")

    @property
    def safeguarding(self) -> bool:
        """True when the answer must go to the safeguarding lead."""
        return bool(self.concerns)


def _concern_regex(terms: Mapping[str, Iterable[str]]) -> list[tuple[str, re.Pattern]]:
    out = []
    for lang, words in terms.items():
        for w in words:
            out.append((f"{lang}:{w.strip()}",
                        re.compile(r"(?<!\w)" + re.escape(w.strip()), re.IGNORECASE)))
    return out


_DEFAULT_CONCERNS = _concern_regex(CONCERN_TERMS)


def _deny_regex(words: Iterable[str]) -> re.Pattern | None:
    words = sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)",
                      re.IGNORECASE)


def screen_text(
    text: str | None,
    names: Iterable[str] = (),
    schools: Iterable[str] = (),
    places: Iterable[str] = (),
    concern_terms: Mapping[str, Iterable[str]] | None = None,
) -> ScreenedText:
    """Screen one free-text answer (see the module notes).

    Parameters
    ----------
    text : str
    names, schools, places : iterable of str
        Deny-lists for this consultation (first names from the consent register are held
        in memory only, never stored with responses).
    concern_terms : mapping, optional
        Language -> terms, replacing :data:`CONCERN_TERMS`.
    """
    text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    concerns_re = _DEFAULT_CONCERNS if concern_terms is None else _concern_regex(concern_terms)
    concerns = tuple(dict.fromkeys(label for label, rx in concerns_re if rx.search(text)))
    out = text
    found: list[str] = []
    deny = [(kind, _deny_regex(words)) for kind, words in
            (("SCHOOL", schools), ("PLACE", places), ("NAME", names))]
    # contact details first (a name inside an e-mail address stays part of the address),
    # then the deny-lists, then the remaining patterns
    steps = _PATTERNS[:4] + [(k, rx) for k, rx in deny if rx is not None] + _PATTERNS[4:]
    for kind, rx in steps:
        if kind == "NAME" and rx.groups:
            def repl(m: re.Match) -> str:
                return m.group(0)[: m.start(1) - m.start(0)] + "<NAME>"
            new = rx.sub(repl, out)
        else:
            new = rx.sub(f"<{kind}>", out)
        if new != out:
            found.append(kind)
            out = new
    return ScreenedText(out, tuple(dict.fromkeys(found)), concerns, len(text.split()), _GATE)


def screen_texts(texts: Iterable[str], **kwargs) -> pd.DataFrame:
    """Screen many answers; a frame with ``redacted, pii, concerns, safeguarding, words``.

    Examples
    --------
    >>> screen_texts(["call 0700 111 222", "ok"])[["redacted", "safeguarding"]]
           redacted  safeguarding
    0  call <PHONE>         False
    1            ok         False
    """
    rows = []
    for t in texts:
        s = screen_text(t, **kwargs)
        rows.append((s.redacted, ",".join(s.pii), ",".join(s.concerns), s.safeguarding,
                     s.words))
    return pd.DataFrame(rows, columns=["redacted", "pii", "concerns", "safeguarding", "words"])


@dataclass(frozen=True, eq=False)
class ReleasedQuote:
    """A quote cleared for a report or feedback sheet (only :func:`release_quote` makes one)."""

    text: str
    band: str
    reviewer: str
    _gate: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._gate is not _GATE:
            raise TypeError("ReleasedQuote is only produced by release_quote()")


def release_quote(
    screened: ScreenedText,
    *,
    released: bool,
    reviewer: str,
    band: str,
    max_words: int = 25,
    young_bands: Iterable[str] = ("A",),
) -> ReleasedQuote:
    """Release one screened answer as a quote, after a person's review.

    Parameters
    ----------
    screened : ScreenedText
        From :func:`screen_text` (anything else is refused).
    released : bool
        The reviewer's decision, recorded by the web app.
    reviewer : str
        Who reviewed (kept with the quote for the audit trail).
    band : str
        The child's band; quotes from ``young_bands`` are never used.

    Raises
    ------
    DisclosureError
        Not screened, not released by a reviewer, a safeguarding concern, a young band,
        or too long.
    """
    if not isinstance(screened, ScreenedText):
        raise DisclosureError("free text must be screened with screen_text() first")
    if not released or not reviewer:
        raise DisclosureError("free text is released only after a person has reviewed it")
    if screened.safeguarding:
        raise DisclosureError("this answer raised a safeguarding concern; it goes to the "
                              "safeguarding lead, never into a report")
    if band in set(young_bands):
        raise DisclosureError(f"quotes from band {band} are not used")
    if screened.words > max_words:
        raise DisclosureError(f"quotes are at most {max_words} words; shorten it in review")
    return ReleasedQuote(screened.redacted, band, reviewer, _GATE)

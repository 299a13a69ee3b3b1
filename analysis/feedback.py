"""The child-friendly "what you told us" feedback sheet (A-05, §7.1).

Built only from released tables and released quotes, per band and language, with the fixed
structure "What you told us" -> "What will change" -> "What can't change yet, and why" ->
"When you'll hear from us next" -> "Where to get help". A sheet starts as a draft; it can
be marked released only with a sign-off record whose trauma-screen check is confirmed and
whose readability is within the band's target (or an override reason is recorded).

Examples
--------
>>> out_of_ten(68.0)
'about 7 out of 10'
>>> round(reading_grade("We asked you. You told us. Thank you."), 1) < 3
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import escape

from .disclosure import DisclosureError, ReleasedTable, require_released
from .frames import ItemMeta
from .textscreen import ReleasedQuote

__all__ = [
    "BAND_GRADE",
    "SHARE_WORDS",
    "FeedbackSheet",
    "SignOff",
    "feedback_sheet",
    "findings_from",
    "findings_from_release",
    "out_of_ten",
    "reading_grade",
    "release_feedback",
    "render_feedback_html",
    "render_feedback_pdf",
]

#: Readability targets (Flesch-Kincaid grade) per band (D-02).
BAND_GRADE = {"A": 3.0, "B": 5.0, "C": 7.0}

HEADINGS = {
    "en": (
        "What you told us",
        "What will change",
        "What can't change yet, and why",
        "When you'll hear from us next",
        "Where to get help",
        "Thank you for taking part",
    ),
    "sw": (
        "Mlichotuambia",
        "Kitakachobadilika",
        "Kisichoweza kubadilika bado, na kwa nini",
        "Mtasikia kutoka kwetu lini tena",
        "Mahali pa kupata msaada",
        "Asante kwa kushiriki",
    ),
    "fr": (
        "Ce que vous nous avez dit",
        "Ce qui va changer",
        "Ce qui ne peut pas encore changer, et pourquoi",
        "Quand vous aurez de nos nouvelles",
        "Où trouver de l'aide",
        "Merci d'avoir participé",
    ),
    "es": (
        "Lo que nos dijisteis",
        "Lo que va a cambiar",
        "Lo que aún no puede cambiar, y por qué",
        "Cuándo volveréis a saber de nosotros",
        "Dónde encontrar ayuda",
        "Gracias por participar",
    ),
    "ar": (
        "ما قلتموه لنا",
        "ما الذي سيتغيّر",
        "ما لا يمكن أن يتغيّر بعد، ولماذا",
        "متى ستسمعون منّا مرة أخرى",
        "أين تجد المساعدة",
        "شكرًا لمشاركتكم",
    ),
}

#: The draft warning printed at the top of an unreleased sheet (staff read it, not children).
DRAFT_NOTICE = "DRAFT - not signed off, do not share with children"

#: Languages written right to left (the sheet's page direction).
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "dv", "yi", "ckb"})


#: "about k out of 10", "hardly anyone", "almost everyone" per language.
SHARE_WORDS = {
    "en": ("about {k} out of 10", "hardly anyone", "almost everyone"),
    "sw": ("karibu {k} kati ya 10", "karibu hakuna mtu", "karibu kila mtu"),
    "fr": ("environ {k} sur 10", "presque personne", "presque tout le monde"),
    "es": ("unos {k} de cada 10", "casi nadie", "casi todos"),
    "ar": ("حوالي {k} من كل 10", "لا أحد تقريبًا", "الجميع تقريبًا"),
}


def out_of_ten(percent: float, language: str = "en") -> str:
    """A percentage as simple words for children ("about 7 out of 10").

    >>> out_of_ten(68.0, "sw"), out_of_ten(2.0, "fr")
    ('karibu 7 kati ya 10', 'presque personne')
    """
    some, none, everyone = SHARE_WORDS.get(language, SHARE_WORDS["en"])
    k = int(round(percent / 10))
    if k <= 0:
        return none
    if k >= 10:
        return everyone
    return some.format(k=k)


def _syllables(word: str) -> int:
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    groups = re.findall(r"[aeiouy]+", w)
    n = len(groups)
    if w.endswith("e") and n > 1 and not w.endswith(("le", "ee")):
        n -= 1
    return max(1, n)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level (English heuristic syllable count; a lint, not a verdict)."""
    sentences = max(1, len(re.findall(r"[.!?]+", text)) or 1)
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.0
    syl = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syl / len(words) - 15.59


def findings_from(
    released: ReleasedTable,
    item: str,
    template: str,
    codebook: Mapping[str, ItemMeta] | None = None,
    top: int = 1,
    language: str = "en",
) -> list[str]:
    """Short findings from a released frequency table (hidden numbers are never used).

    ``template`` gets ``{share}`` ("about 7 out of 10") and ``{answer}`` (the label), e.g.
    ``"{share} of you would tell {answer} first."``.
    """
    rel = require_released(released, "findings_from")
    cb = dict(codebook or rel.meta.get("codebook", {}))
    meta = cb.get(item) or ItemMeta(item)
    d = rel.data[(rel.data["item"] == item) & (rel.data["kind"] == "valid")]
    d = d[d["percent"].notna()].sort_values("percent", ascending=False).head(top)
    out = []
    r: Any  # a namedtuple of the table's columns: no stub can type its fields
    for r in d.itertuples():
        text = template.format(
            share=out_of_ten(float(r.percent), language), answer=_lower_first(meta.label_of(r.answer))
        )
        out.append(text[:1].upper() + text[1:])
    return out


def _lower_first(label: str) -> str:
    """A label inside a sentence: "A friend" -> "a friend", but "I'm not sure" and "TV" stay.

    >>> _lower_first("A friend"), _lower_first("I'm not sure"), _lower_first("TV")
    ('a friend', "I'm not sure", 'TV')
    """
    if (
        not label
        or (label[0] == "I" and (len(label) == 1 or not label[1].isalpha()))
        or (label[:2].isalpha() and label[:2].isupper())
    ):
        return label
    return label[0].lower() + label[1:]


@dataclass(frozen=True)
class SignOff:
    """The human sign-off a feedback sheet needs before release (A-05)."""

    reviewer: str
    role: str
    on: dt.date
    trauma_screen_done: bool
    readability_override: str = ""


@dataclass(frozen=True)
class FeedbackSheet:
    """A feedback sheet for one band and language (a draft until :func:`release_feedback`)."""

    title: str
    band: str
    language: str
    told_us: tuple[str, ...]
    will_change: tuple[str, ...]
    cant_change: tuple[tuple[str, str], ...]
    next_update: str
    helplines: tuple[tuple[str, str], ...]
    quotes: tuple[ReleasedQuote, ...] = ()
    signoff: SignOff | None = None
    released: bool = False
    warnings: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """All child-facing sentences, for the readability lint."""
        parts = [*self.told_us, *self.will_change, *(f"{a}. {b}" for a, b in self.cant_change), self.next_update]
        return " ".join(p if p.rstrip().endswith((".", "!", "?")) else p + "." for p in parts)

    @property
    def grade(self) -> float:
        return reading_grade(self.text())


def feedback_sheet(
    *,
    band: str,
    language: str = "en",
    told_us: Sequence[str],
    will_change: Sequence[str],
    cant_change: Sequence[tuple[str, str]],
    next_update: str,
    helplines: Sequence[tuple[str, str]],
    quotes: Sequence[ReleasedQuote] = (),
    title: str = "",
) -> FeedbackSheet:
    """A draft feedback sheet; every part of the fixed structure must be filled in."""
    missing = [
        name
        for name, v in (
            ("what you told us", told_us),
            ("what will change", will_change),
            ("what can't change yet", cant_change),
            ("when you'll hear from us", next_update),
            ("where to get help", helplines),
        )
        if not v
    ]
    if missing:
        raise ValueError("the feedback sheet needs: " + ", ".join(missing))
    for q in quotes:
        if not isinstance(q, ReleasedQuote):
            raise DisclosureError("quotes must come from release_quote()")
        if band in ("A",):
            raise DisclosureError("band A sheets carry no quotes")
    sheet = FeedbackSheet(
        title or HEADINGS.get(language, HEADINGS["en"])[5],
        band,
        language,
        tuple(told_us),
        tuple(will_change),
        tuple(cant_change),
        next_update,
        tuple(helplines),
        tuple(quotes),
    )
    warn = []
    target = BAND_GRADE.get(band)
    if language == "en" and target is not None and sheet.grade > target:
        warn.append(
            f"reading grade {sheet.grade:.1f} is above the band {band} target "
            f"{target:g}; use shorter sentences and words"
        )
    if language not in HEADINGS:
        warn.append(f"no headings for language {language!r}; English headings used")
    return replace(sheet, warnings=tuple(warn))


def release_feedback(sheet: FeedbackSheet, signoff: SignOff | None) -> FeedbackSheet:
    """Mark a sheet released; refused without a complete sign-off record.

    Raises
    ------
    DisclosureError
        No sign-off, no reviewer, trauma screen not done, or readability above target
        without an override reason.
    """
    if signoff is None or not signoff.reviewer:
        raise DisclosureError("a feedback sheet is released only with a sign-off record")
    if not signoff.trauma_screen_done:
        raise DisclosureError("the trauma-screen check must be done before release")
    if any(w.startswith("reading grade") for w in sheet.warnings) and not signoff.readability_override:
        raise DisclosureError(
            "readability is above the band's target; simplify the text or record why it is acceptable"
        )
    return replace(sheet, signoff=signoff, released=True)


def render_feedback_html(sheet: FeedbackSheet) -> str:
    """The sheet as one self-contained, printable HTML page (large text, no links out)."""
    h = HEADINGS.get(sheet.language, HEADINGS["en"])
    esc = escape

    def ul(items):
        return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"

    status = "" if sheet.released else f"<p class='draft'>{DRAFT_NOTICE}</p>"
    quotes = "".join(f"<blockquote>&ldquo;{esc(q.text)}&rdquo;</blockquote>" for q in sheet.quotes)
    cant = "<ul>" + "".join(f"<li><strong>{esc(a)}</strong> {esc(b)}</li>" for a, b in sheet.cant_change) + "</ul>"
    helps = (
        "<ul class='help'>"
        + "".join(f"<li>{esc(n)}: <strong>{esc(num)}</strong></li>" for n, num in sheet.helplines)
        + "</ul>"
    )
    direction = "rtl" if sheet.language.split("_")[0] in RTL_LANGUAGES else "ltr"
    return f"""<!doctype html><html lang="{esc(sheet.language)}" dir="{direction}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(sheet.title)}</title>
<style>body{{font-family:system-ui,sans-serif;font-size:1.35rem;line-height:1.5;max-width:42rem;
margin:1.5rem auto;padding:0 1rem;color:#111}}h1{{color:#0072B2}}h2{{margin-top:1.6rem;
border-bottom:3px solid #E69F00}}.help{{background:#e8f4fb;padding:1rem 2rem;border-radius:8px}}
.draft{{background:#D55E00;color:#fff;padding:.5rem}}blockquote{{border-inline-start:6px solid #009E73;
margin-inline-start:0;padding-inline-start:1rem}}</style></head><body>{status}
<h1>{esc(sheet.title)}</h1>
<h2>{esc(h[0])}</h2>{ul(sheet.told_us)}{quotes}
<h2>{esc(h[1])}</h2>{ul(sheet.will_change)}
<h2>{esc(h[2])}</h2>{cant}
<h2>{esc(h[3])}</h2><p>{esc(sheet.next_update)}</p>
<h2>{esc(h[4])}</h2>{helps}
</body></html>"""


def findings_from_release(release: Mapping, band: str, language: str = "en", top: int = 5) -> list[tuple]:
    """The biggest published shares of a release for one band's sheet: ``(share words, item, cell)``.

    Questions the band was asked (all age groups together, as published: a class of 25 is
    enough), answers that are not "no answer" or "other", shares of at least 10 % (a smaller
    one says nothing to a child). Only published cells are used (see :mod:`analysis.release`).

    >>> rel = {"items": [{"item": "q", "asked_bands": ["B"], "domain": "TR", "cells": [
    ...     {"label": "Yes", "codes": ["yes"], "count": 20, "percent": 67, "other": False}]}]}
    >>> [(s, c["label"]) for s, _, c in findings_from_release(rel, "B")]
    [('about 7 out of 10', 'Yes')]
    """
    found = []
    for item in release.get("items", ()):
        if item.get("domain") == "DM" or item.get("withheld"):
            continue
        asked = item.get("asked_bands") or []
        if asked and band not in asked:
            continue
        for cell in item["cells"]:
            if cell["count"] is None or cell.get("percent") is None or cell.get("other") or "_none" in cell["codes"]:
                continue
            if cell["percent"] >= 10:
                found.append((cell["percent"], item, cell))
    found.sort(key=lambda f: -f[0])
    seen, out = set(), []
    for pct, item, cell in found:
        if item["item"] in seen:
            continue
        seen.add(item["item"])
        out.append((out_of_ten(float(pct), language), item, cell))
        if len(out) >= top:
            break
    return out


def render_feedback_pdf(sheet: FeedbackSheet) -> bytes:
    """The sheet as an A4 PDF (:mod:`analysis.pdf`): large text, the same five parts as the HTML.

    Arabic and other right-to-left languages are shaped and set right to left; the text is
    extractable in reading order.

    >>> s = feedback_sheet(band="B", told_us=["Most of you would tell a friend."],
    ...                    will_change=["A new chat."], cant_change=[("A free phone", "No money yet")],
    ...                    next_update="In June.", helplines=[("Child helpline", "116 111")])
    >>> render_feedback_pdf(s)[:5]
    b'%PDF-'
    """
    from .pdf import PdfDocument

    h = HEADINGS.get(sheet.language, HEADINGS["en"])
    doc = PdfDocument(title=sheet.title, language=sheet.language, base_size=14)
    if not sheet.released:
        doc.paragraph(DRAFT_NOTICE, size=11, style="B", box=True)
    doc.title(sheet.title, size=22)
    doc.heading(h[0])
    doc.bullets(sheet.told_us)
    for q in sheet.quotes:
        doc.paragraph(f"\u201c{q.text}\u201d", style="I")
    doc.heading(h[1])
    doc.bullets(sheet.will_change)
    doc.heading(h[2])
    doc.bullets([f"{a} {b}" if a.rstrip()[-1:] in ".!?:\u061f" else f"{a}: {b}" for a, b in sheet.cant_change])
    doc.heading(h[3])
    doc.paragraph(sheet.next_update)
    doc.heading(h[4])
    doc.bullets([f"{n}: {num}" for n, num in sheet.helplines])
    return doc.output()

"""Is a page entirely in one language?  Words of other languages found in a page's visible text.

Each language's vocabulary is every word Sauti itself can show in it: its interface catalogue,
the bundled questionnaire's and consent texts' wording in it, the shipped country profiles'
helpline wording and the demo consultation's own words.  A word of the page is *foreign* when
it belongs to another language's vocabulary and not to the page's own ("Before", "Yes", "start"
on a Kiswahili page), so English that leaks into a Kiswahili or Arabic page is caught while a
word both languages share is not.  Text inside an element marked with another ``lang`` (the
language menu's "English") is the page saying so correctly, and is left out.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path

WORD = re.compile(r"[^\W\d_]+")
#: Markup that is not wording: {placeholders}, %(names)s, [section tags], "> yes:" etc.
_MARKUP = re.compile(r"\{[^}]*\}|%\([^)]*\)[sd]|^\s*\[[^\]]*\]\s*$|^\s*[>?+=*-]\s*(yes:|no:)?", re.M)
ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "fr", "es", "ar", "sw")


def words(text: str) -> set[str]:
    return {w.casefold() for w in WORD.findall(_MARKUP.sub(" ", text))}


@functools.cache
def vocabulary(language: str) -> frozenset[str]:
    """Every word Sauti can show in ``language``."""
    from babel.messages.pofile import read_po

    from consent.profiles import bundled_profiles
    from consent.texts import bundled_texts
    from instruments.bundled import load_bundled
    from instruments.model import NO_NAMES_NOTICE, RESERVED_LABELS
    from instruments.validate import child_facing_texts
    from survey.services.demo import DEMO_WORDING, _demo_details

    found: set[str] = set()
    if language == "en":
        catalogue = ROOT / "survey/translations/fr/LC_MESSAGES/messages.po"
        with catalogue.open("rb") as handle:
            for message in read_po(handle):
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                for text in ids:
                    found |= words(text or "")
        found |= words(" ".join(str(v) for v in _demo_details().values()))
    else:
        with (ROOT / f"survey/translations/{language}/LC_MESSAGES/messages.po").open("rb") as handle:
            for message in read_po(handle):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in strings:
                    found |= words(text or "")
        found |= words(" ".join(DEMO_WORDING.get(language, {}).values()))
    for _, text in child_facing_texts(load_bundled()):
        found |= words(text.get(language) or "")
    for text in (*RESERVED_LABELS.values(), NO_NAMES_NOTICE):
        found |= words(text.get(language) or "")
    for text in bundled_texts():
        if text.language == language:
            found |= words(text.title + "\n" + text.body)
    for profile in bundled_profiles().values():
        for helpline in profile.helplines:
            shown = helpline.in_language(language)
            if shown is not helpline or language == (profile.languages[0] if profile.languages else "en"):
                found |= words(f"{shown.name} {shown.hours}")
    return frozenset(found)


@functools.cache
def foreign_words(language: str) -> frozenset[str]:
    """Words of Sauti's other languages that are not also words of ``language``."""
    others: set[str] = set()
    for other in LANGUAGES:
        if other != language:
            others |= vocabulary(other)
    return frozenset(others - vocabulary(language))


class _Visible(HTMLParser):
    """The text a person sees or hears on a page (alt and aria-label too), leaving out scripts,
    hidden elements and elements marked as being in another language."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language
        self.stack: list[bool] = []  # per open element: is its content left out?
        self.parts: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        lang = a.get("lang", "").split("-")[0]
        skip = (
            self._skipped()
            or tag in ("script", "style", "template", "head", "title")
            or "hidden" in a
            or a.get("aria-hidden") == "true"
            or (lang and lang != self.language and tag != "html")
        )
        if not skip:
            for name in ("alt", "aria-label", "placeholder", "title"):
                if a.get(name):
                    self.parts.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.parts.append(a["value"])
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipped():
            self.parts.append(data)


def visible_text(html: str, language: str) -> str:
    parser = _Visible(language)
    parser.feed(html)
    return " ".join(parser.parts)


def foreign_in(text: str, language: str) -> list[str]:
    """The words of ``text`` that belong to another of Sauti's languages and not to ``language``."""
    strangers = foreign_words(language)
    return sorted({w for w in WORD.findall(text) if w.casefold() in strangers})

"""Read-aloud audio: which texts a child can hear, and the name of each text's audio file.

Pure (no Flask, no subprocess).  Every child-facing text is spoken from the exact words on the
screen; its audio file is named by a hash of those words, the voice and the synthesizer
settings (:func:`audio_name`), so changed wording never plays stale audio and rebuilding the
same text gives the same name.  The building itself (``espeak-ng`` and ``opusenc``) and the
serving live in ``survey.services.audio``.

:func:`instrument_texts` lists what an instrument says in one language, for every age band:
questions (label and hint as one text), options, matrix rows, the "don't write names" notice
and the notices before sensitive sections.  Texts that show a child's earlier answer
(``${name}``) are left out: they differ per child, are never written to disk, and are read by
the browser's own speech synthesis instead.  Texts with a placeholder (``{helpline}``) are
listed only when the instrument has been filled from a country profile.

Examples
--------
>>> from instruments import load_bundled
>>> inst = load_bundled()
>>> texts = instrument_texts(inst, "sw")
>>> len(texts) > 100
True
>>> audio_name(texts[0].text, VOICES["sw"]).endswith(".opus")
True
>>> [t.key for t in instrument_texts(inst, "en") if "{helpline}" in t.text][:1]
[]
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable

from instruments.model import Instrument, Item, ItemType
from instruments.placeholders import placeholders_in
from instruments.references import has_answer_references

__all__ = [
    "AUDIO_NAME_RE",
    "SYNTHESIS",
    "VOICES",
    "SpokenText",
    "Voice",
    "audio_name",
    "duration_range",
    "instrument_texts",
    "item_key",
    "question_text",
    "spoken",
    "voice_for",
    "word_count",
]


@dataclasses.dataclass(frozen=True)
class Voice:
    """An espeak-ng voice and how fast it speaks (words per minute, espeak-ng's ``-s``)."""

    language: str
    name: str
    speed: int = 140

    @property
    def tag(self) -> str:
        """What the file name's hash covers of the voice.

        >>> Voice("fr", "fr-fr").tag
        'espeak-ng:fr-fr:s140'
        """
        return f"espeak-ng:{self.name}:s{self.speed}"


#: A voice per shipped language (espeak-ng 1.51 in Debian has all five); a slower rate than
#: espeak-ng's default 175 for young listeners.
VOICES: dict[str, Voice] = {
    "en": Voice("en", "en-gb"),
    "fr": Voice("fr", "fr-fr"),
    "es": Voice("es", "es"),
    "ar": Voice("ar", "ar", speed=130),
    "sw": Voice("sw", "sw"),
}

#: How a file is made, as part of its name: a change here makes new names for every text.
SYNTHESIS = "opus:24k:mono:v1"

#: A synthetic file's name: 24 hex digits of SHA-256 and ``.opus``.
AUDIO_NAME_RE = re.compile(r"^[0-9a-f]{24}\.opus$")


def voice_for(language: str) -> Voice | None:
    """The voice for a language code (``"fr"``, ``"fr-CA"``), or ``None`` when there is none.

    >>> voice_for("fr-CA").name, voice_for("xx")
    ('fr-fr', None)
    """
    return VOICES.get((language or "").split("-")[0].split("_")[0].lower())


def spoken(text: str | None) -> str:
    """The words as spoken: whitespace runs made one space (as an HTML page shows them).

    >>> spoken("  Do you\\n feel   safe? ")
    'Do you feel safe?'
    """
    return " ".join((text or "").split())


def word_count(text: str) -> int:
    """Words in ``text`` (runs of letters or digits; Arabic included).

    >>> word_count("Je, unajua simu ya bure?"), word_count("116 111")
    (5, 2)
    """
    return len(re.findall(r"\w+", text))


def duration_range(text: str, voice: Voice) -> tuple[float, float]:
    """The shortest and longest plausible length in seconds of ``text`` spoken by ``voice``.

    Synthesizers speak numbers digit by digit and pause at punctuation, so the range is wide;
    it catches an empty, truncated or runaway file, not a slightly slow voice.

    >>> low, high = duration_range("Do you know a free phone line for children?", VOICES["en"])
    >>> round(low, 1), round(high, 1)
    (1.2, 16.2)
    """
    words = max(word_count(text), 1)
    per_word = 60 / voice.speed
    return 0.3 * words * per_word, 0.8 + 4.0 * words * per_word + 0.25 * len(re.findall(r"\d", text))


def audio_name(text: str, voice: Voice) -> str:
    """The file name of ``text`` spoken by ``voice``: a hash of the words, voice and settings.

    >>> a = audio_name("Hello", VOICES["en"])
    >>> a == audio_name(" Hello ", VOICES["en"]), a == audio_name("Hello!", VOICES["en"])
    (True, False)
    >>> bool(AUDIO_NAME_RE.match(a)), a != audio_name("Hello", VOICES["fr"])
    (True, True)
    """
    digest = hashlib.sha256(f"{SYNTHESIS}\n{voice.tag}\n{spoken(text)}".encode()).hexdigest()
    return digest[:24] + ".opus"


def question_text(label: str | None, hint: str | None = None) -> str:
    """What a question's play control says: its label, then its hint.

    >>> question_text("How safe do you feel?", "Pick one face.")
    'How safe do you feel? Pick one face.'
    """
    return spoken(" ".join(t for t in (label, hint) if t))


@dataclasses.dataclass(frozen=True)
class SpokenText:
    """One text a child can hear: ``key`` names it for a human recording (``AW1``, ``AW1@A``
    for band A's own wording, ``AW1.yes`` for an option, ``section.safety``), ``text`` is the words."""

    key: str
    text: str


def item_key(item: Item, band: str | None) -> str:
    """The key of a question's recording: ``AW1``, or ``AW1@A`` where band A has its own wording.

    >>> from instruments.model import Text
    >>> q = Item(name="q1", type="note", label=Text(en="Hi"), label_bands={"A": Text(en="Hello")})
    >>> item_key(q, "A"), item_key(q, "B")
    ('q1@A', 'q1')
    """
    if band and (band in item.label_bands or band in item.hint_bands):
        return f"{item.name}@{band}"
    return item.name


def _fixed(text: str) -> bool:
    return bool(text) and not has_answer_references(text) and not placeholders_in(text)


def _item_texts(inst: Instrument, item: Item, lang: str, band: str) -> Iterable[SpokenText]:
    default = inst.settings.default_language
    label = item.label_for(lang, band, default)
    hint = item.hint_for(lang, band, default)
    if not has_answer_references(label) and not has_answer_references(hint):
        yield SpokenText(item_key(item, band), question_text(label, hint))
    if item.type is ItemType.TEXT:
        yield SpokenText(f"{item.name}.notice", spoken(item.notice_for(lang, default)))
    for choice in inst.choices_for(item, band):
        yield SpokenText(f"{item.name}.{choice.name}", spoken(choice.label_for(lang, default)))
    if item.type is ItemType.MATRIX:
        for row in inst.rows_for(item):
            yield SpokenText(f"{item.name}.{row.name}", spoken(row.label_for(lang, default)))


def instrument_texts(inst: Instrument, lang: str, with_placeholders: bool = False) -> tuple[SpokenText, ...]:
    """Every fixed text of ``inst`` a child may hear in ``lang``, in every band, without repeats.

    Notes, questions and their options, matrix rows, the notice of open-text items and the
    notices before sections.  Texts with an earlier answer are left out, and so are texts with
    an unfilled placeholder unless ``with_placeholders`` (a human may record those).
    """
    default = inst.settings.default_language
    found: dict[tuple[str, str], SpokenText] = {}
    for band in inst.settings.band_codes:
        for section in inst.sections_for_band(band, research_mode=True):
            notice = spoken(section.notice.get_for(lang, (default,)) if section.notice else "")
            candidates: list[SpokenText] = [SpokenText(f"section.{section.name}", notice)]
            for item in section.items:
                if item.type.answerable or item.type is ItemType.NOTE:
                    candidates.extend(_item_texts(inst, item, lang, band))
            for one in candidates:
                if _fixed(one.text) or (with_placeholders and one.text and not has_answer_references(one.text)):
                    found.setdefault((one.key, one.text), one)
    return tuple(found.values())

"""Media, choices, items and pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from instruments.model.kinds import DEFAULT_BANDS, AgeBand, ItemType, Sensitivity, band_at_least
from instruments.model.texts import DONT_KNOW, RATHER_NOT_SAY, FrozenMap, Text, _bandmap, _text


@dataclass(frozen=True, slots=True)
class Media:
    """Media references per language: ``audio`` and ``image`` file names."""

    audio: Text = field(default_factory=Text)
    image: Text = field(default_factory=Text)

    def __post_init__(self) -> None:
        object.__setattr__(self, "audio", _text(self.audio))
        object.__setattr__(self, "image", _text(self.image))

    def __bool__(self) -> bool:
        return bool(self.audio or self.image)


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice list.

    ``extra`` holds extra choices-sheet columns (used by ``choice_filter``);
    ``alt`` is the alt text for the image (D-09).
    """

    name: str
    label: Text = field(default_factory=Text)
    media: Media = field(default_factory=Media)
    alt: Text = field(default_factory=Text)
    extra: Mapping[str, str] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _text(self.label))
        object.__setattr__(self, "alt", _text(self.alt))
        object.__setattr__(self, "extra", FrozenMap({k: str(v) for k, v in self.extra.items()}))

    def label_for(self, lang: str, default_language: str | None = None) -> str:
        """The label in ``lang``, else the default language, else the name."""
        found = self.label.get_for(lang, (default_language, *sorted(self.label)))
        return found if found is not None else self.name


#: Labels of the reserved answers, for instrument languages the app has no catalogue for.
RESERVED_LABELS: Mapping[str, Text] = FrozenMap(
    {
        RATHER_NOT_SAY: Text(
            en="I'd rather not say",
            fr="Je préfère ne pas répondre",
            es="Prefiero no decirlo",
            ar="أفضّل ألا أجيب",
            sw="Sipendi kusema",
        ),
        DONT_KNOW: Text(en="I don't know", fr="Je ne sais pas", es="No lo sé", ar="لا أعرف", sw="Sijui"),
    }
)

#: The notice every open-text item shows (child-participation.md §6.4 rule 3).
NO_NAMES_NOTICE = Text(
    en="Please don't write names, or anything that could show who you are.",
    fr="N'écris pas de noms, ni rien qui pourrait montrer qui tu es.",
    es="Por favor, no escribas nombres ni nada que pueda mostrar quién eres.",
    ar="من فضلك لا تكتب أسماء أو أي شيء قد يُظهر من أنت.",
    sw="Tafadhali usiandike majina, wala chochote kinachoweza kuonyesha wewe ni nani.",
)


@dataclass(frozen=True, slots=True)
class Item:
    """One question, note or calculation.

    Notes
    -----
    * ``choices`` names a choice list; ``band_choices`` overrides it per band
      (a likert item uses a 3-point faces list for band A, a 5-point list
      for B and C). ``rows`` names the list of matrix rows.
    * ``label_bands`` / ``hint_bands`` hold per-band variants; ``shared``
      says the base wording is meant for every band (D-01).
    * ``min_band``/``max_band`` bound the bands that see the item (S-08);
      ``research_only`` items appear only in research mode with an ethics
      reference.
    * Nothing is ever required: there is deliberately no ``required`` field.
    """

    name: str
    type: ItemType
    label: Text = field(default_factory=Text)
    hint: Text = field(default_factory=Text)
    label_bands: Mapping[str, Text] = field(default_factory=FrozenMap)
    hint_bands: Mapping[str, Text] = field(default_factory=FrozenMap)
    shared: bool = True
    choices: str | None = None
    band_choices: Mapping[str, str] = field(default_factory=FrozenMap)
    rows: str | None = None
    relevance: str | None = None
    constraint: str | None = None
    constraint_message: Text = field(default_factory=Text)
    choice_filter: str | None = None
    appearance: str | None = None
    default: str | None = None
    calculation: str | None = None
    parameters: Mapping[str, str] = field(default_factory=FrozenMap)
    min_band: str | None = None
    max_band: str | None = None
    sensitivity: Sensitivity = Sensitivity.S0
    research_only: bool = False
    media: Media = field(default_factory=Media)
    max_choices: int | None = None
    allow_dont_know: bool = False
    minutes: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", ItemType(self.type))
        object.__setattr__(self, "sensitivity", Sensitivity.parse(self.sensitivity))
        for name in ("label", "hint", "constraint_message"):
            object.__setattr__(self, name, _text(getattr(self, name)))
        object.__setattr__(self, "label_bands", _bandmap(self.label_bands))
        object.__setattr__(self, "hint_bands", _bandmap(self.hint_bands))
        object.__setattr__(self, "band_choices", FrozenMap(self.band_choices))
        object.__setattr__(self, "parameters", FrozenMap({k: str(v) for k, v in self.parameters.items()}))
        if not isinstance(self.media, Media):
            object.__setattr__(self, "media", Media(**self.media))

    @property
    def answerable(self) -> bool:
        """True when a child answers this item."""
        return self.type.answerable

    def label_for(self, lang: str, band: str | None = None, default_language: str | None = None) -> str:
        """The label a child in ``band`` sees in ``lang``.

        Fallback order: the band variant in ``lang``; the shared label in
        ``lang``; the band variant in the default language; the shared label
        in the default language; ``""``.
        """
        return _pick(self.label, self.label_bands, lang, band, default_language)

    def hint_for(self, lang: str, band: str | None = None, default_language: str | None = None) -> str:
        """The hint, with the same fallback rules as :meth:`label_for`."""
        return _pick(self.hint, self.hint_bands, lang, band, default_language)

    def notice_for(self, lang: str, default_language: str | None = "en") -> str:
        """The "please don't write names" notice for open-text items, else ``""``."""
        if self.type is not ItemType.TEXT:
            return ""
        return NO_NAMES_NOTICE.get_for(lang, (default_language, "en")) or ""

    def shown_to(self, band: str, bands: Iterable[AgeBand] = DEFAULT_BANDS) -> bool:
        """True when the band lies within ``min_band``..``max_band``."""
        bands = tuple(bands)
        if not band_at_least(band, self.min_band, bands):
            return False
        return self.max_band is None or band_at_least(self.max_band, band, bands)

    @property
    def answers_as_choices(self) -> str | None:
        """The item whose answers in a repeat's instances are this select's choices
        (XLSForm ``select_one ${name}``), else None: ``choices`` is then ``${name}``."""
        choices = self.choices or ""
        if choices.startswith("${") and choices.endswith("}"):
            return choices[2:-1].strip() or None
        return None

    def list_for(self, band: str | None = None) -> str | None:
        """The choice-list name used for ``band`` (band override or ``choices``)."""
        if band is not None and band in self.band_choices:
            return self.band_choices[band]
        return self.choices

    def texts(self) -> Iterator[tuple[str, Text]]:
        """Every child-facing text of the item, as ``(where, Text)`` pairs."""
        yield "label", self.label
        if self.hint:
            yield "hint", self.hint
        for band, text in self.label_bands.items():
            yield f"label[{band}]", text
        for band, text in self.hint_bands.items():
            yield f"hint[{band}]", text
        if self.constraint_message:
            yield "constraint_message", self.constraint_message


def _pick(base: Text, variants: Mapping[str, Text], lang: str, band: str | None, default: str | None) -> str:
    for code in (lang, default):
        if code is None:
            continue
        if band is not None and band in variants and code in variants[band]:
            return variants[band][code]
        if code in base:
            return base[code]
    return ""


@dataclass(frozen=True, slots=True)
class Page:
    """What one screen shows (an XLSForm ``field-list`` group, or one item)."""

    name: str
    items: tuple[Item, ...] = ()
    title: Text = field(default_factory=Text)
    relevance: str | None = None
    #: The innermost repeat this page belongs to (``None`` outside repeats).
    repeat: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "title", _text(self.title))

    @property
    def sensitivity(self) -> Sensitivity:
        """The highest item sensitivity on the page."""
        return max((i.sensitivity for i in self.items), default=Sensitivity.S0)

"""The instrument model: frozen, hashable dataclasses.

An :class:`Instrument` holds languages, settings, named choice lists and
sections; a :class:`Section` holds pages; a :class:`Page` holds items. All
child-facing text is a :class:`Text` (language code -> string), with optional
per-age-band variants.

Reserved answer codes
---------------------
The engine adds "I'd rather not say" to every answerable item and "I don't
know" where ``allow_dont_know`` is set. They are stored as the distinct codes
:data:`RATHER_NOT_SAY` and :data:`DONT_KNOW`, never as missing values, and no
choice list may use them as names.

Examples
--------
>>> item = Item(name="q1", type=ItemType.TEXT, label=Text(en="What would help?"),
...             label_bands={"A": Text(en="What helps?")})
>>> item.label_for("en", "A")
'What helps?'
>>> item.label_for("fr", "B", default_language="en")
'What would help?'
>>> band_at_least("B", "A"), band_at_least("A", "B")
(True, False)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from instruments.serialise import content_hash as _content_hash

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_MAX_REPEATS",
    "DEFAULT_TIME_BUDGET",
    "DONT_KNOW",
    "MAX_REPEATS",
    "MAX_REPEAT_DEPTH",
    "NO_NAMES_NOTICE",
    "OTHER",
    "RATHER_NOT_SAY",
    "RESERVED_CODES",
    "RESERVED_LABELS",
    "AgeBand",
    "Choice",
    "Direction",
    "FrozenMap",
    "Instrument",
    "Item",
    "ItemType",
    "Language",
    "LanguageStatus",
    "Media",
    "Page",
    "Repeat",
    "Section",
    "Sensitivity",
    "Settings",
    "Text",
    "band_at_least",
    "band_for_age",
    "instance_key",
    "matrix_key",
    "split_instance_key",
]

#: Stored when a child chooses "I'd rather not say" (or skips on purpose).
RATHER_NOT_SAY = "_rns"
#: Stored when a child chooses "I don't know".
DONT_KNOW = "_dk"
#: Codes no choice list may use; expressions treat them as "not answered" in arithmetic.
RESERVED_CODES = frozenset({RATHER_NOT_SAY, DONT_KNOW})
#: The conventional name of the "other" choice (XLSForm ``or_other``).
OTHER = "other"


K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable mapping that compares equal to any equal mapping.

    Examples
    --------
    >>> FrozenMap({"b": 2, "a": 1}) == {"a": 1, "b": 2}
    True
    >>> hash(FrozenMap(a=1)) == hash(FrozenMap({"a": 1}))
    True
    """

    __slots__ = ("_data", "_hash")
    _data: dict[K, V]
    _hash: int | None

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] | None = None, /, **kwargs: V) -> None:
        merged: dict[Any, V] = dict(data or {}, **kwargs)
        object.__setattr__(self, "_data", merged)
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            computed = hash(frozenset((k, v) for k, v in self._data.items()))
            object.__setattr__(self, "_hash", computed)
            return computed
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:  # pragma: no cover - immutability guard
        raise AttributeError("FrozenMap is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[K, V]:
        """A plain ``dict`` copy."""
        return dict(self._data)


class Text(FrozenMap[str, str]):
    """Translated text: language code -> string; empty strings are dropped.

    Examples
    --------
    >>> t = Text(en="Hello", fr="Bonjour", ar="")
    >>> t.get_for("fr"), t.get_for("sw", fallback=("en",))
    ('Bonjour', 'Hello')
    >>> sorted(t)
    ['en', 'fr']
    """

    __slots__ = ()

    def __init__(
        self, data: Mapping[str, object] | Iterable[tuple[str, object]] | None = None, /, **kwargs: object
    ) -> None:
        merged: dict[Any, object] = dict(data or {}, **kwargs)
        super().__init__({str(k): str(v) for k, v in merged.items() if v not in (None, "")})

    def get_for(self, lang: str | None, fallback: Iterable[str | None] = ()) -> str | None:
        """The text in ``lang``, else in the first fallback language that has it."""
        for code in (lang, *fallback):
            if code is not None and code in self:
                return self[code]
        return None


def _text(value: Mapping[str, object] | None) -> Text:
    if isinstance(value, Text):
        return value
    return Text(value or {})


def _bandmap(value: Mapping[str, Mapping[str, object]] | None) -> FrozenMap[str, Text]:
    return FrozenMap({str(k): _text(v) for k, v in (value or {}).items() if v})


class ItemType(enum.StrEnum):
    """The kinds of item Sauti knows."""

    NOTE = "note"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    RANK = "rank"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    RANGE = "range"
    LIKERT = "likert"
    MATRIX = "matrix"
    CALCULATE = "calculate"

    @property
    def answerable(self) -> bool:
        """True when a child gives an answer (everything but note and calculate)."""
        return self not in (ItemType.NOTE, ItemType.CALCULATE)

    @property
    def has_choices(self) -> bool:
        """True when the item needs a choice list (selects, rank, likert, matrix)."""
        return self in _CHOICE_TYPES


_CHOICE_TYPES = frozenset(
    {ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.RANK, ItemType.LIKERT, ItemType.MATRIX}
)


class Sensitivity(enum.IntEnum):
    """S0 neutral; S1 personal, not about harm; S2 hypothetical harm or feelings
    about telling; S3 explicit sexual-exploitation scenario (research mode only)."""

    S0 = 0
    S1 = 1
    S2 = 2
    S3 = 3

    @classmethod
    def parse(cls, value: object) -> Sensitivity:
        """Accept ``"S2"``, ``"s2"``, ``"2"`` or ``2``.

        >>> Sensitivity.parse("s2")
        <Sensitivity.S2: 2>
        """
        if isinstance(value, Sensitivity):
            return value
        text = str(value).strip().upper()
        if text.startswith("S"):
            text = text[1:]
        if text.isdigit() and int(text) in (0, 1, 2, 3):
            return cls(int(text))
        raise ValueError(f"sensitivity must be one of S0, S1, S2, S3, not {value!r}")

    def __str__(self) -> str:
        return self.name


class LanguageStatus(enum.StrEnum):
    """Translation workflow (D-07); only ``approved`` languages may launch."""

    DRAFT = "draft"
    TRANSLATED = "translated"
    BACK_TRANSLATED = "back_translated"
    TESTED = "tested"
    APPROVED = "approved"


class Direction(enum.StrEnum):
    """Script direction."""

    LTR = "ltr"
    RTL = "rtl"


RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})


@dataclass(frozen=True, slots=True)
class Language:
    """A language an instrument is written in."""

    code: str
    name: str = ""
    direction: Direction = Direction.LTR
    status: LanguageStatus = LanguageStatus.DRAFT

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "status", LanguageStatus(self.status))

    @property
    def approved(self) -> bool:
        """True when the language may be used to launch a consultation."""
        return self.status is LanguageStatus.APPROVED


@dataclass(frozen=True, slots=True, order=True)
class AgeBand:
    """A contiguous age band, e.g. ``AgeBand("A", 8, 10)``."""

    code: str
    min_age: int
    max_age: int

    def contains(self, age: int) -> bool:
        """True when ``min_age <= age <= max_age``."""
        return self.min_age <= age <= self.max_age


#: Default bands from child-participation.md §5.1.
DEFAULT_BANDS: tuple[AgeBand, ...] = (AgeBand("A", 8, 10), AgeBand("B", 11, 13), AgeBand("C", 14, 17))
#: Default time budgets in minutes (D-05).
DEFAULT_TIME_BUDGET: Mapping[str, int] = FrozenMap(A=12, B=20, C=25)


def _band_index(code: str, bands: Iterable[AgeBand]) -> int:
    for index, band in enumerate(bands):
        if band.code == code:
            return index
    raise ValueError(f"unknown age band {code!r}")


def band_at_least(
    band: str | AgeBand, min_band: str | AgeBand | None, bands: Iterable[AgeBand] = DEFAULT_BANDS
) -> bool:
    """True when ``band`` is ``min_band`` or older (``None`` means no minimum).

    Examples
    --------
    >>> band_at_least("C", "B"), band_at_least("A", None)
    (True, True)
    """
    if min_band is None:
        return True
    bands = tuple(bands)
    code = band.code if isinstance(band, AgeBand) else band
    minimum = min_band.code if isinstance(min_band, AgeBand) else min_band
    return _band_index(code, bands) >= _band_index(minimum, bands)


def band_for_age(age: int, bands: Iterable[AgeBand] = DEFAULT_BANDS) -> AgeBand | None:
    """The band containing ``age``, or ``None``.

    >>> band_for_age(12).code
    'B'
    """
    for band in bands:
        if band.contains(age):
            return band
    return None


def matrix_key(item_name: str, row_name: str) -> str:
    """The answer key of one matrix row: ``<item>_<row>``.

    >>> matrix_key("CH2", "phone")
    'CH2_phone'
    """
    return f"{item_name}_{row_name}"


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


#: Instances a child may add to a repeat when its form names no maximum.
DEFAULT_MAX_REPEATS = 10
#: The most instances any repeat may have (a higher maximum or count is cut to this).
MAX_REPEATS = 50
#: Repeats inside repeats: a repeat may hold one more (a household's members), no deeper.
MAX_REPEAT_DEPTH = 2


@dataclass(frozen=True, slots=True)
class Repeat:
    """A set of pages asked once per instance (an XLSForm ``begin repeat`` group).

    The pages that belong to it say so in :attr:`Page.repeat`; they follow one another.
    ``count`` (XLSForm ``repeat_count``: a number or an expression) fixes the number of
    instances; without it the child adds instances ("add another", "that's all") up to
    ``maximum``. ``parent`` names the repeat this one sits in (one level of nesting).
    Answers of an instance are kept under :func:`instance_key`.

    Examples
    --------
    >>> r = Repeat("friends", title=Text(en="A friend"), maximum=3)
    >>> r.child_controlled, r.depth_in(())
    (True, 1)
    """

    name: str
    title: Text = field(default_factory=Text)
    count: str | None = None
    maximum: int = DEFAULT_MAX_REPEATS
    parent: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _text(self.title))
        object.__setattr__(self, "maximum", max(1, min(int(self.maximum), MAX_REPEATS)))
        if self.count is not None:
            object.__setattr__(self, "count", str(self.count).strip() or None)

    @property
    def child_controlled(self) -> bool:
        """True when the child decides how many instances there are."""
        return self.count is None

    def depth_in(self, repeats: Iterable[Repeat]) -> int:
        """1 for a repeat at the top, 2 for a repeat inside another, and so on."""
        parents = {r.name: r.parent for r in repeats}
        depth, parent = 1, self.parent
        while parent is not None and depth <= len(parents) + 1:
            depth, parent = depth + 1, parents.get(parent)
        return depth


def instance_key(name: str, path: Iterable[int] = ()) -> str:
    """The key of an answer given in a repeat instance: ``name#2`` (``name#2.1`` nested).

    Outside repeats (an empty ``path``) the key is the name itself.

    >>> instance_key("age", (2,)), instance_key("age", (2, 1)), instance_key("age")
    ('age#2', 'age#2.1', 'age')
    """
    path = tuple(path)
    return f"{name}#{'.'.join(str(int(n)) for n in path)}" if path else name


def split_instance_key(key: str) -> tuple[str, tuple[int, ...]]:
    """The inverse of :func:`instance_key`.

    >>> split_instance_key("age#2.1"), split_instance_key("age")
    (('age', (2, 1)), ('age', ()))
    """
    name, sep, rest = key.partition("#")
    if not sep:
        return key, ()
    try:
        return name, tuple(int(n) for n in rest.split("."))
    except ValueError:
        return key, ()


@dataclass(frozen=True, slots=True)
class Section:
    """A block of pages. A sensitive block has a ``notice`` shown first with a
    "skip this part" option when ``skippable`` is true (S-09).

    ``grouped`` is False for the implicit section holding top-level XLSForm
    items that were not inside any group (export writes them back ungrouped).
    """

    name: str
    pages: tuple[Page, ...] = ()
    title: Text = field(default_factory=Text)
    notice: Text = field(default_factory=Text)
    skippable: bool = False
    relevance: str | None = None
    grouped: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", tuple(self.pages))
        object.__setattr__(self, "title", _text(self.title))
        object.__setattr__(self, "notice", _text(self.notice))

    @property
    def items(self) -> tuple[Item, ...]:
        """All items of the section, in order."""
        return tuple(item for page in self.pages for item in page.items)

    @property
    def sensitivity(self) -> Sensitivity:
        """The highest item sensitivity in the section."""
        return max((i.sensitivity for i in self.items), default=Sensitivity.S0)


@dataclass(frozen=True, slots=True)
class Settings:
    """Instrument-wide settings.

    ``mode`` is ``consultation`` (default) or ``research``; S3 items that are
    not ``research_only`` need ``research`` plus an ``ethics_reference``.
    ``audio_fallback`` is ``"none"`` or ``"tts"`` (text-to-speech reads any
    item without a recorded file, so missing audio does not block approval).
    """

    default_language: str = "en"
    mode: str = "consultation"
    ethics_reference: str | None = None
    bands: tuple[AgeBand, ...] = DEFAULT_BANDS
    time_budget: Mapping[str, int] = field(default_factory=lambda: FrozenMap(DEFAULT_TIME_BUDGET))
    audio_fallback: str = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        object.__setattr__(self, "time_budget", FrozenMap({k: int(v) for k, v in self.time_budget.items()}))

    @property
    def band_codes(self) -> tuple[str, ...]:
        """The band codes, youngest first."""
        return tuple(b.code for b in self.bands)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A whole consultation questionnaire.

    Examples
    --------
    >>> q = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    >>> inst = Instrument(
    ...     id="demo", version="1", title=Text(en="Demo"),
    ...     languages=(Language("en", "English", status="approved"),),
    ...     sections=(Section("s1", (Page("q1", (q,)),)),),
    ...     choice_lists={"yn": (Choice("yes", Text(en="Yes")), Choice("no", Text(en="No")))},
    ... )
    >>> [c.name for c in inst.choices_for(inst.item("q1"))]
    ['yes', 'no']
    >>> [i.name for i in inst.items_for_band("A")]
    ['q1']
    >>> len(inst.content_hash)
    64
    """

    id: str
    version: str
    title: Text = field(default_factory=Text)
    languages: tuple[Language, ...] = ()
    settings: Settings = field(default_factory=Settings)
    sections: tuple[Section, ...] = ()
    choice_lists: Mapping[str, tuple[Choice, ...]] = field(default_factory=FrozenMap)
    description: Text = field(default_factory=Text)
    repeats: tuple[Repeat, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "repeats", tuple(self.repeats))
        object.__setattr__(self, "version", str(self.version))
        object.__setattr__(self, "title", _text(self.title))
        object.__setattr__(self, "description", _text(self.description))
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(
            self,
            "choice_lists",
            FrozenMap({k: tuple(v) for k, v in self.choice_lists.items()}),
        )

    # navigation -----------------------------------------------------------------
    @property
    def pages(self) -> tuple[Page, ...]:
        """All pages of all sections, in order."""
        return tuple(page for section in self.sections for page in section.pages)

    @property
    def items(self) -> tuple[Item, ...]:
        """All items, in order."""
        return tuple(item for page in self.pages for item in page.items)

    def item(self, name: str) -> Item:
        """The item called ``name`` (``KeyError`` if absent)."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def section_of(self, page_or_item: str) -> Section:
        """The section that holds a page or an item, by name (``KeyError`` if absent)."""
        for section in self.sections:
            for page in section.pages:
                if page.name == page_or_item or any(i.name == page_or_item for i in page.items):
                    return section
        raise KeyError(page_or_item)

    def _visible(self, item: Item, band: str, research_mode: bool) -> bool:
        if item.research_only and not research_mode:
            return False
        return item.shown_to(band, self.settings.bands)

    def items_for_band(self, band: str, research_mode: bool = False) -> tuple[Item, ...]:
        """Items a child in ``band`` may see, in order.

        Items outside their ``min_band``..``max_band`` are never included (S-08);
        ``research_only`` items only when ``research_mode`` is true (the engine
        passes true only for consultations in research mode with an ethics
        reference).
        """
        self._check_band(band)
        return tuple(i for i in self.items if self._visible(i, band, research_mode))

    def pages_for_band(self, band: str, research_mode: bool = False) -> tuple[Page, ...]:
        """Pages with only the items visible to ``band``; empty pages are dropped."""
        self._check_band(band)
        result = []
        for page in self.pages:
            kept = tuple(i for i in page.items if self._visible(i, band, research_mode))
            if kept:
                result.append(Page(page.name, kept, page.title, page.relevance, page.repeat))
        return tuple(result)

    def sections_for_band(self, band: str, research_mode: bool = False) -> tuple[Section, ...]:
        """Sections with pages filtered as in :meth:`pages_for_band`; empty ones dropped."""
        self._check_band(band)
        result = []
        for section in self.sections:
            pages = []
            for page in section.pages:
                kept = tuple(i for i in page.items if self._visible(i, band, research_mode))
                if kept:
                    pages.append(Page(page.name, kept, page.title, page.relevance, page.repeat))
            if pages:
                result.append(
                    Section(
                        section.name,
                        tuple(pages),
                        section.title,
                        section.notice,
                        section.skippable,
                        section.relevance,
                        section.grouped,
                    )
                )
        return tuple(result)

    # repeats ----------------------------------------------------------------------
    def repeat(self, name: str) -> Repeat:
        """The :class:`Repeat` called ``name`` (``KeyError`` if absent)."""
        for repeat in self.repeats:
            if repeat.name == name:
                return repeat
        raise KeyError(name)

    def repeat_chain(self, name: str | None) -> tuple[Repeat, ...]:
        """The repeats from the outermost down to ``name`` (empty for ``None``)."""
        chain: list[Repeat] = []
        while name is not None and len(chain) <= len(self.repeats):
            repeat = self.repeat(name)
            chain.insert(0, repeat)
            name = repeat.parent
        return tuple(chain)

    def repeat_of(self, item: Item | str) -> str | None:
        """The innermost repeat holding an item, by name (``None`` outside repeats)."""
        name = item.name if isinstance(item, Item) else item
        for page in self.pages:
            if any(i.name == name for i in page.items):
                return page.repeat
        raise KeyError(name)

    def repeat_items(self, name: str) -> tuple[Item, ...]:
        """The items asked in each instance of a repeat (not those of a repeat inside it)."""
        return tuple(item for page in self.pages if page.repeat == name for item in page.items)

    def _check_band(self, band: str) -> None:
        if band not in self.settings.band_codes:
            raise ValueError(f"unknown age band {band!r}; this instrument has {self.settings.band_codes}")

    def choices_for(self, item: Item | str, band: str | None = None) -> tuple[Choice, ...]:
        """The choices of an item for a band (the band override, else ``choices``)."""
        if isinstance(item, str):
            item = self.item(item)
        list_name = item.list_for(band)
        if list_name is None:
            return ()
        return tuple(self.choice_lists.get(list_name, ()))

    def rows_for(self, item: Item | str) -> tuple[Choice, ...]:
        """The rows of a matrix item (empty for other types)."""
        if isinstance(item, str):
            item = self.item(item)
        return tuple(self.choice_lists.get(item.rows, ())) if item.rows else ()

    def answer_names(self) -> tuple[str, ...]:
        """Every key an answer may be stored under (matrix rows expanded)."""
        names: list[str] = []
        for item in self.items:
            if item.type is ItemType.MATRIX:
                names.extend(matrix_key(item.name, row.name) for row in self.rows_for(item))
            elif item.type is not ItemType.NOTE:
                names.append(item.name)
        return tuple(names)

    # languages -------------------------------------------------------------------
    @property
    def language_codes(self) -> tuple[str, ...]:
        """Codes of all languages, in declared order."""
        return tuple(lang.code for lang in self.languages)

    def language(self, code: str) -> Language:
        """The :class:`Language` with ``code`` (``KeyError`` if absent)."""
        for lang in self.languages:
            if lang.code == code:
                return lang
        raise KeyError(code)

    @property
    def approved_languages(self) -> tuple[Language, ...]:
        """Languages that may launch (status ``approved``)."""
        return tuple(lang for lang in self.languages if lang.approved)

    def with_language_status(self, code: str, status: LanguageStatus | str) -> Instrument:
        """A copy with one language's status changed (the content hash stays the same).

        Use :func:`instruments.validate.approve_language` to approve with the checks.
        """
        self.language(code)  # KeyError when absent
        languages = tuple(
            Language(lang.code, lang.name, lang.direction, LanguageStatus(status)) if lang.code == code else lang
            for lang in self.languages
        )
        return Instrument(
            self.id,
            self.version,
            self.title,
            languages,
            self.settings,
            self.sections,
            self.choice_lists,
            self.description,
            self.repeats,
        )

    def label(self, item: Item | str, lang: str, band: str | None = None) -> str:
        """Shortcut for ``item.label_for(lang, band, settings.default_language)``."""
        if isinstance(item, str):
            item = self.item(item)
        return item.label_for(lang, band, self.settings.default_language)

    # identity -------------------------------------------------------------------
    @property
    def content_hash(self) -> str:
        """SHA-256 over everything a child sees or hears, in order.

        Covers labels, hints, band variants, choices, media references,
        order, relevance, constraints, bands and settings that change what
        is shown. Language status, version and ethics/approval metadata are
        left out, so approving a translation does not change the hash.
        """
        return _content_hash(self)

"""The :class:`Instrument`: languages, settings, choice lists and sections, and what the engine asks of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from instruments.model.items import Choice, Item, Page
from instruments.model.kinds import ItemType, Language, LanguageStatus, matrix_key
from instruments.model.structure import Repeat, Section, Settings
from instruments.model.texts import FrozenMap, Text, _text
from instruments.serialise import content_hash as _content_hash


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

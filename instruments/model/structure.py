"""Repeats and their instance keys, sections, settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from instruments.model.items import Item, Page
from instruments.model.kinds import DEFAULT_BANDS, DEFAULT_TIME_BUDGET, AgeBand, Sensitivity
from instruments.model.texts import FrozenMap, Text, _text

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
    #: Choice lists whose choices come from a file attached to the form (ODK's
    #: ``select_one_from_file``, ``search()``, ``xml-external``/``csv-external``): list name ->
    #: the file's name and the columns read (see :mod:`instruments.attachments`). The lists wait
    #: for their files, uploaded in the console.
    attachments: Mapping[str, str] = field(default_factory=FrozenMap)
    #: In an instrument filled from its files (:func:`instruments.attachments.fill`): list name ->
    #: how many of its first choices the choices sheet gave (the rest came from the file), so
    #: that an export writes only the sheet's own. Not stored, not hashed, not compared.
    attached_from: Mapping[str, int] = field(default_factory=FrozenMap, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        object.__setattr__(self, "time_budget", FrozenMap({k: int(v) for k, v in self.time_budget.items()}))
        object.__setattr__(self, "attachments", FrozenMap({str(k): str(v) for k, v in self.attachments.items()}))
        object.__setattr__(self, "attached_from", FrozenMap({str(k): int(v) for k, v in self.attached_from.items()}))

    @property
    def band_codes(self) -> tuple[str, ...]:
        """The band codes, youngest first."""
        return tuple(b.code for b in self.bands)

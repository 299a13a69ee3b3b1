"""The body mark-up: sections by ``[tag]`` lines, paragraphs, lists, comprehension questions and
choice buttons, parsed into frozen blocks (:func:`parse_body`); which sections a mode keeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from consent.texts.kinds import _PERMISSION_VARIANTS, PRIVACY_VARIANTS, ConfidentialityMode

# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True, slots=True)
class BulletList:
    """A bulleted list."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """An answer to a comprehension question."""

    text: str
    correct: bool


@dataclass(frozen=True, slots=True)
class ComprehensionItem:
    """A comprehension question (C-05): a wrong answer shows ``explanation`` and moves on."""

    question: str
    options: tuple[Option, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice button: ``value`` is ``"yes"`` or ``"no"``."""

    value: str
    label: str


Block = Paragraph | BulletList | ComprehensionItem | Choice


@dataclass(frozen=True, slots=True)
class Section:
    """A tagged part of a document."""

    element: str | None
    variant: str | None
    blocks: tuple[Block, ...]


_TAG = re.compile(r"^\[([a-z_]+)(?:\s+([a-z_]+))?\]$")
_CHOICE = re.compile(r"^>\s*(yes|no)\s*:\s*(.+)$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class _SectionBuilder:
    def __init__(self, element: str | None, variant: str | None) -> None:
        self.element, self.variant = element, variant
        self.blocks: list[Block] = []
        self.para: list[str] = []
        self.bullets: list[str] = []
        self.question: str | None = None
        self.options: list[Option] = []

    def flush_text(self) -> None:
        if self.para:
            self.blocks.append(Paragraph(" ".join(self.para)))
            self.para = []
        if self.bullets:
            self.blocks.append(BulletList(tuple(self.bullets)))
            self.bullets = []

    def flush_question(self, explanation: str = "") -> None:
        if self.question is not None:
            self.blocks.append(ComprehensionItem(self.question, tuple(self.options), explanation))
        self.question, self.options = None, []

    def line(self, raw: str) -> None:
        line = raw.strip()
        if not line:
            self.flush_text()
            return
        if line.startswith("? "):
            self.flush_text()
            self.flush_question()
            self.question = line[2:].strip()
        elif line[:2] in ("+ ", "- ") and self.question is not None:
            self.options.append(Option(line[2:].strip(), line[0] == "+"))
        elif line.startswith("= ") and self.question is not None:
            self.flush_question(line[2:].strip())
        elif m := _CHOICE.match(line):
            self.flush_text()
            self.flush_question()
            self.blocks.append(Choice(m.group(1), m.group(2).strip()))
        elif line.startswith("* "):
            if self.para:
                self.blocks.append(Paragraph(" ".join(self.para)))
                self.para = []
            self.bullets.append(line[2:].strip())
        else:
            if self.bullets:
                self.flush_text()
            self.para.append(line)

    def build(self) -> Section:
        self.flush_text()
        self.flush_question()
        return Section(self.element, self.variant, tuple(self.blocks))


@lru_cache(maxsize=512)
def parse_body(body: str) -> tuple[Section, ...]:
    """Parse a body into sections (see the module docstring for the markup).

    The sections are immutable, so the parse of each body is kept (by the body itself): opening a
    consultation lints and renders every consent text, each parsing its body several times.

    Examples
    --------
    >>> s = parse_body("[choice]\\nDo you want to take part?\\n> yes: Yes\\n> no: No, thank you\\n")
    >>> s[0].element, [type(b).__name__ for b in s[0].blocks]
    ('choice', ['Paragraph', 'Choice', 'Choice'])
    """
    sections: list[Section] = []
    current = _SectionBuilder(None, None)
    for raw in body.split("\n"):
        m = _TAG.match(raw.strip())
        if m:
            built = current.build()
            if built.blocks or built.element is not None:
                sections.append(built)
            current = _SectionBuilder(m.group(1), m.group(2))
        else:
            current.line(raw)
    built = current.build()
    if built.blocks or built.element is not None:
        sections.append(built)
    return tuple(sections)


def _block_strings(block: Block) -> Iterator[str]:
    if isinstance(block, Paragraph):
        yield block.text
    elif isinstance(block, BulletList):
        yield from block.items
    elif isinstance(block, ComprehensionItem):
        yield block.question
        yield from (o.text for o in block.options)
        yield block.explanation
    elif isinstance(block, Choice):
        yield block.label


def _section_placeholders(section: Section) -> set[str]:
    found: set[str] = set()
    for block in section.blocks:
        for s in _block_strings(block):
            found.update(_PLACEHOLDER.findall(s))
    return found


def _keep(section: Section, mode: ConfidentialityMode, permission_mode: str | None) -> bool:
    if section.variant is None:
        return True
    if section.element == "privacy":
        return section.variant in PRIVACY_VARIANTS[mode]
    if section.variant in _PERMISSION_VARIANTS:
        return permission_mode is None or section.variant == permission_mode
    return True

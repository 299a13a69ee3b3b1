"""Consent and assent texts: immutable, versioned, content-hashed documents (C-04, C-06, P-02).

Four kinds of document, per language (and per age band for the child's documents):

* ``child_information``: the information screen the child reads (and hears) before choosing;
* ``assent_script``: what the facilitator reads aloud (facilitator mode, F-02);
* ``guardian_information``: the letter to parents and guardians, printed for the school;
* ``guardian_consent_form``: the reply slip (opt-in form or opt-out notice, by mode).

A :class:`ConsentText` never changes: :meth:`TextRegistry.revise` creates a new version, and
the ``content_hash`` (SHA-256 of kind, language, band, title and body) lets a consultation bind
to exact versions and refuse a mismatch (:func:`check_binding`).

Body markup
-----------
A body is plain text divided into sections by a tag alone on a line, ``[element]`` or
``[element variant]``.  Inside a section:

* paragraphs are separated by blank lines; ``* item`` lines make a bulleted list;
* ``{name}`` is a placeholder filled from the consultation (:data:`PLACEHOLDERS`);
* comprehension questions: ``? question``, then ``+ right answer`` / ``- other answer`` lines,
  then ``= explanation`` (shown again after a wrong answer; it never blocks, C-05);
* choice buttons: ``> yes: label`` and ``> no: label``.

Sections with a variant are kept only where it applies: ``[privacy anonymous]``,
``[privacy in_person]`` and ``[privacy identified]`` by :class:`ConfidentialityMode`, and the
guardian form's ``[reply active_opt_in]`` etc. by :class:`~consent.profiles.PermissionMode`.

The twelve assent elements of §3.4 are the tags of :data:`ASSENT_ELEMENTS`;
:func:`lint_assent` checks them, the mode's confidentiality wording and the P-02 placeholders.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Protocol

import yaml

from consent.profiles import PermissionMode

__all__ = [
    "ASSENT_ELEMENTS",
    "AssentElement",
    "FIRST_SHOWN",
    "CONTENT_HINTS",
    "BulletList",
    "CheckOutcome",
    "Choice",
    "ComprehensionItem",
    "ConfidentialityMode",
    "ConsentText",
    "GUARDIAN_ELEMENTS",
    "ImmutableTextError",
    "Issue",
    "MissingValues",
    "Option",
    "PLACEHOLDERS",
    "P02_PLACEHOLDERS",
    "Paragraph",
    "RenderedText",
    "Section",
    "TextKind",
    "TextRef",
    "TextRegistry",
    "TextStatus",
    "TextStore",
    "TextVersionMismatch",
    "bundled_texts",
    "check_answer",
    "check_binding",
    "content_hash",
    "lint_assent",
    "lint_guardian",
    "parse_body",
    "parse_text_file",
    "render_text",
]


class TextKind(StrEnum):
    """What a document is for."""

    CHILD_INFORMATION = "child_information"
    ASSENT_SCRIPT = "assent_script"
    GUARDIAN_INFORMATION = "guardian_information"
    GUARDIAN_CONSENT_FORM = "guardian_consent_form"

    @property
    def is_child_facing(self) -> bool:
        """Child documents have an age band; guardian documents do not."""
        return self in (TextKind.CHILD_INFORMATION, TextKind.ASSENT_SCRIPT)


class TextStatus(StrEnum):
    """Translation and review status (D-07).  Only ``approved`` texts should reach children
    in a real consultation; the app decides whether a demo may use drafts."""

    DRAFT = "draft"
    TRANSLATED = "translated"
    BACK_TRANSLATED = "back_translated"
    COGNITIVELY_TESTED = "cognitively_tested"
    APPROVED = "approved"


class ConfidentialityMode(StrEnum):
    """The consultation's confidentiality mode (§4.1 design resolution)."""

    ANONYMOUS = "anonymous"
    """Anonymous self-completion (default): nobody can tell whose answers are whose."""
    FACILITATED = "facilitated"
    """In person: answers stay anonymous, but what a child tells the facilitator may be acted on."""
    IDENTIFIED = "identified"
    """Identified research mode: needs ethics approval and the mandatory-reporting wording."""


#: Privacy-section variants each mode requires (and allows).
PRIVACY_VARIANTS: Mapping[ConfidentialityMode, frozenset[str]] = {
    ConfidentialityMode.ANONYMOUS: frozenset({"anonymous"}),
    ConfidentialityMode.FACILITATED: frozenset({"anonymous", "in_person"}),
    ConfidentialityMode.IDENTIFIED: frozenset({"identified"}),
}

#: Every placeholder a text may use, with what the consultation must supply.
PLACEHOLDERS: Mapping[str, str] = {
    "organisation": "the organisation running the consultation",
    "independent_contact": "someone independent to contact with a concern (e.g. the ethics "
    "committee or a named safeguarding lead)",
    "contact": "how to ask questions later (a phone number or address of the organisation)",
    "minutes": "about how many minutes the questions take",
    "pages": "about how many screens of questions there are",
    "audience": "who will hear the results (named decision-makers, P-01)",
    "influence_scope": "what the answers can change and what they cannot (P-01)",
    "feedback_date": "when children will hear back (P-01)",
    "cutoff_date": "the analysis cut-off date: the last day a withdrawal code works (C-09)",
    "helpline": "the helpline name and number from the country profile",
    "reporting_role": "who a facilitator must tell about a child in danger (e.g. 'our safeguarding lead')",
    "session_date": "when the consultation takes place (guardian documents)",
    "return_by_date": "the date the reply slip must reach the school (guardian documents)",
    "ethics_reference": "the ethics approval reference (guardian documents)",
}

#: The placeholders P-02 requires on the child information page and the assent script.
P02_PLACEHOLDERS: tuple[str, ...] = ("audience", "influence_scope", "feedback_date", "cutoff_date")


@dataclass(frozen=True, slots=True)
class AssentElement:
    """One of the twelve things a child must be told (§3.4)."""

    number: int
    tags: tuple[str, ...]
    title: str
    placeholders: tuple[str, ...] = ()


#: The twelve elements of §3.4, as section tags.  Element 8's wording depends on the mode.
ASSENT_ELEMENTS: tuple[AssentElement, ...] = (
    AssentElement(
        1, ("who_we_are",), "who we are, and an independent contact", ("organisation", "independent_contact")
    ),
    AssentElement(2, ("what_about",), "what it is about, in plain words"),
    AssentElement(3, ("what_you_do",), "what you will do and how long it takes", ("minutes", "pages")),
    AssentElement(
        4,
        ("your_choice",),
        "it is your choice: say no, stop, skip; nobody will be cross; you can say no even if your parent said yes",
    ),
    AssentElement(5, ("no_right_answers",), "there are no right or wrong answers"),
    AssentElement(6, ("who_sees",), "who will (and will not) see your answers"),
    AssentElement(
        7,
        ("what_happens",),
        "what we do with the answers, who hears them, what can change and when you hear back",
        ("audience", "influence_scope", "feedback_date"),
    ),
    AssentElement(8, ("privacy",), "privacy and its limits, in the wording of the mode"),
    AssentElement(9, ("might_worry",), "it might make you think about worrying things; how to get help", ("helpline",)),
    AssentElement(
        10,
        ("questions_and_withdrawal",),
        "how to ask questions and how to withdraw afterwards, with its limits",
        ("contact", "cutoff_date"),
    ),
    AssentElement(11, ("understanding_check", "choice"), "a check that you understood, then an explicit Yes or No"),
    AssentElement(12, ("reaffirmation",), "the end question: are you happy for us to use your answers?"),
)

#: The parts of the child information a child sees before the understanding check and the Yes
#: or No: what it is about, that it is their choice, who sees the answers and the limits of
#: privacy.  The other elements stay one tap away ("Tell me more") on the same page, so the
#: choice is within about two phone screens (issue 16).
FIRST_SHOWN: tuple[str, ...] = ("what_about", "your_choice", "who_sees", "privacy")

#: Sections of the guardian documents (checked by :func:`lint_guardian`).
GUARDIAN_ELEMENTS: Mapping[TextKind, tuple[str, ...]] = {
    TextKind.GUARDIAN_INFORMATION: (
        "who_we_are",
        "what_about",
        "what_children_do",
        "voluntary",
        "privacy",
        "safeguarding",
        "what_happens",
        "your_choice",
        "contact",
    ),
    TextKind.GUARDIAN_CONSENT_FORM: ("reply",),
}

_OTHER_TAGS = frozenset({"title_note", "facilitator_note", "intro", "help"})
_KNOWN_TAGS = (
    frozenset(t for e in ASSENT_ELEMENTS for t in e.tags)
    | frozenset(t for tags in GUARDIAN_ELEMENTS.values() for t in tags)
    | _OTHER_TAGS
)
_PERMISSION_VARIANTS = frozenset(m.value for m in PermissionMode)


# --------------------------------------------------------------------------- the document


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def content_hash(kind: str, language: str, band: str | None, title: str, body: str) -> str:
    """SHA-256 (hex) of a document's content: kind, language, band, title and body.

    Version, status and notes are not content: the same words hash the same.  Line endings,
    trailing spaces and Unicode composition are normalised first.

    Examples
    --------
    >>> a = content_hash("assent_script", "en", "A", "Hello", "Hi.\\r\\n")
    >>> a == content_hash("assent_script", "en", "A", "Hello", "Hi.  \\n")
    True
    """
    payload = json.dumps(
        [str(kind), language, band, unicodedata.normalize("NFC", title.strip()), _normalise(body)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TextRef:
    """What a consultation (and each consent event) stores: the version id and its hash."""

    text_id: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One immutable version of a consent or assent document.

    Attributes
    ----------
    kind : TextKind
    language : str
        Language code (``en``, ``fr``, ``es``, ``ar``, ``sw``...).
    band : str or None
        Age band code for child documents (``A``, ``B``, ``C``); ``None`` for guardian ones.
    version : int
        1, 2, 3... per (kind, language, band).
    title : str
    body : str
        The marked-up text (see the module docstring); normalised on creation.
    status : TextStatus
    note : str
        Honest notes on origin and review (not part of the hash).
    content_hash : str
        Computed; see :func:`content_hash`.

    Examples
    --------
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
    >>> t.text_id, len(t.content_hash)
    ('guardian_information/en/-/v1', 64)
    """

    kind: TextKind
    language: str
    band: str | None
    version: int
    title: str
    body: str
    status: TextStatus = TextStatus.DRAFT
    note: str = ""
    content_hash: str = field(init=False)

    def __post_init__(self) -> None:
        kind = TextKind(self.kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "status", TextStatus(self.status))
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", self.language or ""):
            raise ValueError(f"language {self.language!r} must be a code such as 'en' or 'sw'")
        if kind.is_child_facing and not self.band:
            raise ValueError(f"a {kind.value} text needs an age band such as 'A'")
        if not kind.is_child_facing and self.band is not None:
            raise ValueError(f"a {kind.value} text has no age band; use band=None")
        if self.band is not None and not re.fullmatch(r"[A-Za-z0-9]{1,8}", self.band):
            raise ValueError(f"band {self.band!r} must be a short code such as 'A'")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version must be a whole number from 1, got {self.version!r}")
        if not self.title.strip():
            raise ValueError("a text needs a title")
        if not self.body.strip():
            raise ValueError("a text needs a body")
        object.__setattr__(self, "title", unicodedata.normalize("NFC", self.title.strip()))
        object.__setattr__(self, "body", _normalise(self.body))
        object.__setattr__(
            self,
            "content_hash",
            content_hash(kind.value, self.language, self.band, self.title, self.body),
        )

    @property
    def key(self) -> tuple[TextKind, str, str | None]:
        """(kind, language, band): the versions of one document share a key."""
        return (self.kind, self.language, self.band)

    @property
    def text_id(self) -> str:
        """Stable id of this version: ``kind/language/band/vN`` (``-`` for no band)."""
        return f"{self.kind.value}/{self.language}/{self.band or '-'}/v{self.version}"

    @property
    def ref(self) -> TextRef:
        """The :class:`TextRef` a consultation binds to."""
        return TextRef(self.text_id, self.content_hash)

    @property
    def sections(self) -> tuple[Section, ...]:
        """The parsed body."""
        return parse_body(self.body)

    def to_record(self) -> dict[str, object]:
        """A plain dict for a database row or JSON (``content_hash`` included).

        Examples
        --------
        >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
        >>> ConsentText.from_record(t.to_record()) == t
        True
        """
        return {
            "kind": self.kind.value,
            "language": self.language,
            "band": self.band,
            "version": self.version,
            "title": self.title,
            "body": self.body,
            "status": self.status.value,
            "note": self.note,
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> ConsentText:
        """Rebuild a text from :meth:`to_record` output, refusing a body changed behind our back.

        Raises
        ------
        TextVersionMismatch
            If the stored ``content_hash`` does not match the stored content (someone edited
            the row instead of creating a new version).
        """
        # A stored row: its values are checked by the dataclass itself (__post_init__).
        fields_: dict[str, Any] = {k: record[k] for k in ("kind", "language", "band", "version", "title", "body")}
        fields_["status"] = record.get("status", "draft")
        fields_["note"] = record.get("note") or ""
        text = cls(**fields_)
        stored = record.get("content_hash")
        if stored is not None and stored != text.content_hash:
            raise TextVersionMismatch(
                f"{text.text_id}: stored hash {str(stored)[:12]}… does not match its content "
                f"({text.content_hash[:12]}…); the row was edited in place: restore it and "
                "create a new version instead"
            )
        return text


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


def parse_body(body: str) -> tuple[Section, ...]:
    """Parse a body into sections (see the module docstring for the markup).

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


# --------------------------------------------------------------------------- lint


@dataclass(frozen=True, slots=True)
class Issue:
    """A lint finding.  ``code`` is stable (tests and the app match on it)."""

    code: str
    message: str
    element: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"[{self.element}] " if self.element else ""
        return f"{self.severity}: {where}{self.message} ({self.code})"


def _body_and_kind(text: ConsentText | str) -> tuple[str, TextKind | None]:
    if isinstance(text, ConsentText):
        return text.body, text.kind
    return text, None


def _common_issues(sections: Iterable[Section]) -> list[Issue]:
    issues = []
    for s in sections:
        if s.element is not None and s.element not in _KNOWN_TAGS:
            issues.append(
                Issue(
                    "unknown_element",
                    f"section tag [{s.element}] is not a known element; check "
                    "the spelling (known: " + ", ".join(sorted(_KNOWN_TAGS)) + ")",
                    s.element,
                    "warning",
                )
            )
        for name in sorted(_section_placeholders(s) - set(PLACEHOLDERS)):
            issues.append(
                Issue(
                    "unknown_placeholder",
                    f"{{{name}}} is not a known placeholder; known: " + ", ".join(sorted(PLACEHOLDERS)),
                    s.element,
                )
            )
    return issues


def lint_assent(
    text: ConsentText | str, mode: ConfidentialityMode | str = ConfidentialityMode.ANONYMOUS
) -> list[Issue]:
    """Check a child information sheet or assent script before approval (C-04, C-05, P-02).

    Checks, for the consultation's confidentiality ``mode``:

    * each of the twelve elements of :data:`ASSENT_ELEMENTS` has a non-empty section
      (``missing_element`` / ``empty_element``);
    * element 8 has the mode's privacy wording (``privacy_wording_missing``).  A text may hold
      the wording of every mode (``[privacy anonymous]``, ``[privacy in_person]``,
      ``[privacy identified]``); :func:`render_text` shows only the sections of the
      consultation's mode, so a child never reads wording that is untrue for it;
    * the element placeholders, including the P-02 ones (audience, scope of influence,
      feedback date, analysis cut-off date), appear in the text (``missing_placeholder``),
      and identified/in-person wording names ``{reporting_role}``;
    * at least two complete comprehension questions (``comprehension_too_few``,
      ``comprehension_item_incomplete``) and Yes/No buttons for the choice and the end
      re-affirmation (``choice_incomplete``);
    * no unknown placeholders or section tags (typos).

    Returns
    -------
    list of Issue
        Empty when the text may be approved.

    Examples
    --------
    >>> from consent.texts import bundled_texts
    >>> text = bundled_texts().latest("assent_script", "en", "B")
    >>> lint_assent(text, "anonymous")
    []
    >>> [i.code for i in lint_assent("[who_we_are]\\nWe are {organisation}.\\n")][:2]
    ['missing_placeholder', 'missing_element']
    """
    mode = ConfidentialityMode(mode)
    body, kind = _body_and_kind(text)
    if kind is not None and not kind.is_child_facing:
        raise ValueError(f"lint_assent checks child documents; use lint_guardian for {kind.value}")
    all_sections = parse_body(body)
    issues = _common_issues(all_sections)
    sections = [s for s in all_sections if _keep(s, mode, None)]
    by_tag: dict[str, list[Section]] = {}
    for s in sections:
        by_tag.setdefault(s.element or "", []).append(s)
    present_placeholders: set[str] = set()
    for s in sections:
        present_placeholders |= _section_placeholders(s)

    for el in ASSENT_ELEMENTS:
        for p in el.placeholders:
            if p not in present_placeholders:
                issues.append(
                    Issue(
                        "missing_placeholder",
                        f"element {el.number} ({el.title}) needs {{{p}}}: {PLACEHOLDERS[p]}; add it to the text",
                        el.tags[0],
                    )
                )
        for tag in el.tags:
            if tag == "privacy":
                continue
            found = by_tag.get(tag)
            if not found:
                issues.append(
                    Issue(
                        "missing_element",
                        f"element {el.number} is missing: {el.title}; add a [{tag}] section",
                        tag,
                    )
                )
            elif not any(s.blocks for s in found):
                issues.append(Issue("empty_element", f"element {el.number} ([{tag}]) has no text; write it", tag))

    # element 8: privacy wording for the mode
    privacy = [s for s in all_sections if s.element == "privacy"]
    variants = {s.variant for s in privacy if s.blocks}
    required = PRIVACY_VARIANTS[mode]
    for v in sorted(required - variants):
        issues.append(
            Issue(
                "privacy_wording_missing",
                f"element 8 is missing: {mode.value} mode needs a [privacy {v}] section " + _PRIVACY_HINT[v],
                "privacy",
            )
        )
    for v in sorted({v for v in variants if v is not None} - set(_PRIVACY_HINT)):
        issues.append(
            Issue(
                "unknown_variant",
                f"[privacy {v}] is not a known variant; use anonymous, in_person or identified",
                "privacy",
            )
        )
    if None in variants:
        issues.append(
            Issue(
                "privacy_wording_missing",
                "a [privacy] section needs a mode variant: [privacy anonymous], "
                "[privacy in_person] or [privacy identified]",
                "privacy",
            )
        )
    for s in privacy:
        if s.variant == "anonymous" and "anonymous" in required:
            if "helpline" not in _section_placeholders(s):
                issues.append(
                    Issue(
                        "missing_placeholder",
                        "[privacy anonymous] must say where help is, since nobody can come to help: add {helpline}",
                        "privacy",
                    )
                )
        if s.variant in ("in_person", "identified") and s.variant in required:
            if "reporting_role" not in _section_placeholders(s):
                issues.append(
                    Issue(
                        "missing_placeholder",
                        f"[privacy {s.variant}] must say who would be told: add {{reporting_role}}",
                        "privacy",
                    )
                )

    # element 11: comprehension check and choice; element 12: re-affirmation
    items = [b for s in by_tag.get("understanding_check", []) for b in s.blocks if isinstance(b, ComprehensionItem)]
    if "understanding_check" in by_tag and len(items) < 2:
        issues.append(
            Issue(
                "comprehension_too_few",
                f"element 11 needs at least 2 comprehension questions, found {len(items)}; add "
                "'? question', '+ right answer', '- other answer', '= explanation' lines",
                "understanding_check",
            )
        )
    for i, item in enumerate(items, 1):
        problems = []
        if not any(o.correct for o in item.options):
            problems.append("a right answer ('+ ...')")
        if not any(not o.correct for o in item.options):
            problems.append("another answer ('- ...')")
        if not item.explanation:
            problems.append("an explanation ('= ...')")
        if problems:
            issues.append(
                Issue(
                    "comprehension_item_incomplete",
                    f"comprehension question {i} ({item.question!r}) needs " + ", ".join(problems),
                    "understanding_check",
                )
            )
    for tag in ("choice", "reaffirmation"):
        if tag not in by_tag:
            continue
        values = {b.value for s in by_tag[tag] for b in s.blocks if isinstance(b, Choice)}
        for v in ("yes", "no"):
            if v not in values:
                issues.append(
                    Issue(
                        "choice_incomplete",
                        f"[{tag}] needs a '> {v}: ...' button line",
                        tag,
                    )
                )
    if isinstance(text, ConsentText):
        issues.extend(_content_warnings(text.language, sections))
    return _ordered(issues)


#: Words the English wording of an element must contain (any word of each group), checked as
#: warnings: tags prove an element is there; these catch an element that lost its substance.
CONTENT_HINTS: Mapping[str, Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "en": {
        "your_choice": (
            ("say no",),
            ("stop",),
            ("skip",),
            ("cross", "annoyed", "angry"),
            ("marks",),
            ("parent", "carer", "grown-up"),
        ),
        "no_right_answers": (("right",), ("wrong",)),
        "who_sees": (("teacher",), ("not",)),
        "might_worry": (("upset",), ("skip",), ("stop",)),
    },
}


def _content_warnings(language: str, sections: Iterable[Section]) -> list[Issue]:
    hints = CONTENT_HINTS.get(language.split("-")[0])
    if not hints:
        return []
    texts: dict[str, str] = {}
    for s in sections:
        if s.element is not None and s.element in hints:
            texts[s.element] = (
                texts.get(s.element, "") + " " + " ".join(x for b in s.blocks for x in _block_strings(b)).lower()
            )
    issues = []
    for tag, groups in hints.items():
        if tag not in texts:
            continue  # reported as missing already
        for group in groups:
            if not any(word in texts[tag] for word in group):
                issues.append(
                    Issue(
                        "element_content_weak",
                        f"[{tag}] does not mention {' / '.join(repr(w) for w in group)}; check it "
                        "still says what §3.4 asks",
                        tag,
                        "warning",
                    )
                )
    return issues


_PRIVACY_HINT = {
    "anonymous": "(we don't ask your name and can't tell who gave which answers, so we "
    "can't come to help you because of an answer; here is how to get help: {helpline})",
    "in_person": "(if you tell the facilitator that someone is hurting you, they will have to "
    "tell {reporting_role}, and will talk to you first)",
    "identified": "(if you tell us someone is hurting you or you are in danger, we will have to "
    "tell {reporting_role}; we will talk to you first)",
}


def _ordered(issues: list[Issue]) -> list[Issue]:
    order = {t: e.number for e in ASSENT_ELEMENTS for t in e.tags}
    return sorted(issues, key=lambda i: order.get(i.element or "", 99))


def lint_guardian(text: ConsentText | str, permission_mode: PermissionMode | str | None = None) -> list[Issue]:
    """Check a guardian information letter or reply form.

    The letter needs each section of :data:`GUARDIAN_ELEMENTS`; the reply form needs a
    ``[reply <mode>]`` section for the profile's ``permission_mode`` (or any reply section when
    no mode is given).

    Examples
    --------
    >>> from consent.texts import bundled_texts
    >>> form = bundled_texts().latest("guardian_consent_form", "en", None)
    >>> lint_guardian(form, "passive_opt_out")
    []
    """
    body, kind = _body_and_kind(text)
    if kind is not None and kind.is_child_facing:
        raise ValueError(f"lint_guardian checks guardian documents; use lint_assent for {kind.value}")
    sections = parse_body(body)
    issues = _common_issues(sections)
    tags = {s.element for s in sections if s.blocks}
    if kind is None:
        kind = TextKind.GUARDIAN_CONSENT_FORM if "reply" in tags else TextKind.GUARDIAN_INFORMATION
    if kind is TextKind.GUARDIAN_INFORMATION:
        for tag in GUARDIAN_ELEMENTS[kind]:
            if tag not in tags:
                issues.append(Issue("missing_element", f"the guardian letter needs a [{tag}] section", tag))
        if permission_mode is not None:
            pm = PermissionMode(permission_mode).value
            choice = {s.variant for s in sections if s.element == "your_choice" and s.blocks}
            if choice and None not in choice and pm not in choice:
                issues.append(
                    Issue(
                        "missing_element",
                        f"the guardian letter needs a [your_choice {pm}] section for {pm} mode",
                        "your_choice",
                    )
                )
    else:
        replies = {s.variant for s in sections if s.element == "reply" and s.blocks}
        if permission_mode is not None:
            pm = PermissionMode(permission_mode).value
            if pm not in replies:
                issues.append(
                    Issue(
                        "missing_element",
                        f"the reply form needs a [reply {pm}] section for {pm} mode",
                        "reply",
                    )
                )
        elif not replies:
            issues.append(Issue("missing_element", "the reply form needs a [reply ...] section", "reply"))
    return issues


# --------------------------------------------------------------------------- rendering


class MissingValues(KeyError):
    """Placeholders that the consultation did not supply."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(set(names)))
        details = "; ".join(f"{n}: {PLACEHOLDERS.get(n, 'unknown placeholder')}" for n in self.names)
        super().__init__(f"fill in these consultation values before showing the text: {details}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True, slots=True)
class RenderedText:
    """A text with the consultation's values filled in.  Plain text: the app escapes HTML.

    Attributes
    ----------
    text_id, content_hash : str
        The version shown (store them with the consent event).
    kind : TextKind
    language : str
    band : str or None
    title : str
    sections : tuple of Section
        Only the sections that apply to the mode, with values filled in.
    """

    text_id: str
    content_hash: str
    kind: TextKind
    language: str
    band: str | None
    title: str
    sections: tuple[Section, ...]

    @property
    def ref(self) -> TextRef:
        """The version shown, for the consent event."""
        return TextRef(self.text_id, self.content_hash)

    def section(self, element: str) -> tuple[Section, ...]:
        """The sections with tag ``element``, in order."""
        return tuple(s for s in self.sections if s.element == element)

    @property
    def comprehension_items(self) -> tuple[ComprehensionItem, ...]:
        """The comprehension questions (C-05)."""
        return tuple(b for s in self.sections for b in s.blocks if isinstance(b, ComprehensionItem))

    def prompt(self, element: str) -> tuple[str, ...]:
        """The paragraphs of one section, e.g. the question above the ``[choice]`` buttons.

        Examples
        --------
        >>> t = ConsentText("assent_script", "en", "A", 1, "T",
        ...                 "[choice]\\nDo you want to take part?\\n> yes: Yes\\n> no: No\\n")
        >>> render_text(t, {}).prompt("choice")
        ('Do you want to take part?',)
        """
        return tuple(b.text for s in self.section(element) for b in s.blocks if isinstance(b, Paragraph))

    def choices(self, element: str = "choice") -> tuple[Choice, ...]:
        """The buttons of ``[choice]`` (assent) or ``[reaffirmation]`` (the end question)."""
        return tuple(b for s in self.section(element) for b in s.blocks if isinstance(b, Choice))

    def paragraphs(
        self,
        *,
        exclude: Iterable[str] = ("understanding_check", "choice", "reaffirmation", "facilitator_note"),
    ) -> tuple[str, ...]:
        """Paragraphs and list items to show as information, in order (bullets prefixed)."""
        skip = set(exclude)
        out: list[str] = []
        for s in self.sections:
            if s.element in skip:
                continue
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    out.append(b.text)
                elif isinstance(b, BulletList):
                    out.extend(f"• {item}" for item in b.items)
        return tuple(out)

    def first_and_more(
        self,
        *,
        exclude: Iterable[str] = ("understanding_check", "choice", "reaffirmation", "facilitator_note"),
        first: Iterable[str] = FIRST_SHOWN,
    ) -> tuple[tuple[Section, ...], tuple[Section, ...]]:
        """The information sections split into those shown first and the rest, each in text order.

        Examples
        --------
        >>> t = ConsentText("child_information", "en", "A", 1, "T",
        ...                 "[who_we_are]\\nWe are us.\\n[your_choice]\\nYou choose.\\n")
        >>> shown, more = render_text(t, {}).first_and_more()
        >>> [s.element for s in shown], [s.element for s in more]
        (['your_choice'], ['who_we_are'])
        """
        skip, wanted = set(exclude), set(first)
        kept = [s for s in self.sections if s.element not in skip]
        return (tuple(s for s in kept if s.element in wanted), tuple(s for s in kept if s.element not in wanted))

    @property
    def plain_text(self) -> str:
        """Everything as plain text (for print or read-aloud)."""
        lines = [self.title, ""]
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    lines += [b.text, ""]
                elif isinstance(b, BulletList):
                    lines += [f"• {i}" for i in b.items] + [""]
                elif isinstance(b, ComprehensionItem):
                    lines += [b.question] + [f"  ( ) {o.text}" for o in b.options] + [""]
                elif isinstance(b, Choice):
                    lines += [f"[ {b.label} ]"]
            if lines[-1] != "":
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _format_value(value: object, locale: str) -> str:
    if isinstance(value, date):
        from babel.dates import format_date

        return format_date(value, format="long", locale=locale)
    return str(value)


def _fill(s: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], s)


def _fill_block(block: Block, values: Mapping[str, str]) -> Block:
    if isinstance(block, Paragraph):
        return Paragraph(_fill(block.text, values))
    if isinstance(block, BulletList):
        return BulletList(tuple(_fill(i, values) for i in block.items))
    if isinstance(block, ComprehensionItem):
        return ComprehensionItem(
            _fill(block.question, values),
            tuple(Option(_fill(o.text, values), o.correct) for o in block.options),
            _fill(block.explanation, values),
        )
    return Choice(block.value, _fill(block.label, values))


def render_text(
    text: ConsentText,
    values: Mapping[str, object],
    *,
    mode: ConfidentialityMode | str = ConfidentialityMode.ANONYMOUS,
    permission_mode: PermissionMode | str | None = None,
    locale: str | None = None,
) -> RenderedText:
    """Fill a text with the consultation's values, keeping the sections for the mode.

    Parameters
    ----------
    text : ConsentText
    values : mapping
        Placeholder values; :class:`datetime.date` values are formatted for the text's
        language (or ``locale``) with Babel.  Values are inserted as-is: escape when rendering
        HTML.
    mode : ConfidentialityMode
        Chooses the ``[privacy ...]`` sections.
    permission_mode : PermissionMode, optional
        Chooses the guardian form's ``[reply ...]`` section.
    locale : str, optional
        Babel locale for dates (default: the text's language).

    Raises
    ------
    MissingValues
        Naming every placeholder without a value.

    Examples
    --------
    >>> from datetime import date
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter",
    ...                 "[what_happens]\\nResults go to {audience} by {feedback_date}.\\n")
    >>> render_text(t, {"audience": "the county council",
    ...                 "feedback_date": date(2027, 3, 1)}).paragraphs()
    ('Results go to the county council by March 1, 2027.',)
    """
    mode = ConfidentialityMode(mode)
    pm = PermissionMode(permission_mode).value if permission_mode is not None else None
    sections = [s for s in text.sections if _keep(s, mode, pm)]
    needed: set[str] = set()
    for s in sections:
        needed |= _section_placeholders(s)
    missing = [n for n in needed if values.get(n) is None or str(values.get(n)).strip() == ""]
    if missing:
        raise MissingValues(missing)
    loc = locale or text.language
    formatted = {n: _format_value(values[n], loc) for n in needed}
    filled = tuple(Section(s.element, s.variant, tuple(_fill_block(b, formatted) for b in s.blocks)) for s in sections)
    return RenderedText(
        text.text_id,
        text.content_hash,
        text.kind,
        text.language,
        text.band,
        _fill(text.title, formatted) if _PLACEHOLDER.search(text.title) else text.title,
        filled,
    )


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The result of one comprehension answer: never blocks, may explain again."""

    correct: bool
    explain_again: str | None


def check_answer(item: ComprehensionItem, chosen: int) -> CheckOutcome:
    """Check the child's answer to a comprehension question (C-05).

    A wrong answer returns the explanation to show again; the child then goes on either way.

    Examples
    --------
    >>> item = ComprehensionItem("Must you answer everything?",
    ...                          (Option("No", True), Option("Yes", False)), "You can skip.")
    >>> check_answer(item, 1)
    CheckOutcome(correct=False, explain_again='You can skip.')
    """
    if not 0 <= chosen < len(item.options):
        raise IndexError(f"option {chosen} does not exist (0-{len(item.options) - 1})")
    if item.options[chosen].correct:
        return CheckOutcome(True, None)
    return CheckOutcome(False, item.explanation)


# --------------------------------------------------------------------------- store


class ImmutableTextError(ValueError):
    """An attempt to change an existing version; create a new version instead."""


class TextVersionMismatch(ValueError):
    """The live text differs from the version the consultation was approved with (C-06)."""


def check_binding(ref: TextRef, live: ConsentText) -> None:
    """Refuse enrolment when the live text is not the exact approved version (C-06).

    Raises
    ------
    TextVersionMismatch

    Examples
    --------
    >>> t = ConsentText("guardian_information", "en", None, 1, "Letter", "[contact]\\nHi\\n")
    >>> check_binding(t.ref, t)
    >>> check_binding(TextRef(t.text_id, "0" * 64), t)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    consent.texts.TextVersionMismatch: guardian_information/en/-/v1 has changed since the \
consultation was approved (hash 000000000000… expected, ...); re-approve the new version or \
restore the approved one
    """
    if ref.text_id != live.text_id or ref.content_hash != live.content_hash:
        raise TextVersionMismatch(
            f"{ref.text_id} has changed since the consultation was approved "
            f"(hash {ref.content_hash[:12]}… expected, {live.text_id} "
            f"{live.content_hash[:12]}… live); re-approve the new version or restore the "
            "approved one"
        )


class TextStore(Protocol):
    """What the app's database-backed store must offer (mirrors :class:`TextRegistry`)."""

    def add(self, text: ConsentText) -> ConsentText: ...

    def get(self, text_id: str) -> ConsentText: ...

    def latest(self, kind: TextKind | str, language: str, band: str | None) -> ConsentText: ...

    def versions(self, kind: TextKind | str, language: str, band: str | None) -> tuple[ConsentText, ...]: ...

    def revise(
        self,
        kind: TextKind | str,
        language: str,
        band: str | None,
        *,
        body: str,
        title: str | None = None,
        status: TextStatus | str = TextStatus.DRAFT,
        note: str = "",
    ) -> ConsentText: ...


def _key(kind: TextKind | str, language: str, band: str | None) -> tuple[TextKind, str, str | None]:
    return (TextKind(kind), language, band)


class TextRegistry:
    """An in-memory, append-only store of text versions (the reference :class:`TextStore`).

    Examples
    --------
    >>> reg = TextRegistry()
    >>> v1 = reg.add(ConsentText("guardian_information", "en", None, 1, "Letter",
    ...                          "[contact]\\nCall us.\\n"))
    >>> v2 = reg.revise("guardian_information", "en", None, body="[contact]\\nWrite to us.\\n")
    >>> v2.version, v2.content_hash != v1.content_hash, reg.get(v1.text_id) == v1
    (2, True, True)
    """

    def __init__(self, texts: Iterable[ConsentText] = ()) -> None:
        self._by_id: dict[str, ConsentText] = {}
        self._by_key: dict[tuple[TextKind, str, str | None], list[ConsentText]] = {}
        for t in texts:
            self.add(t)

    def add(self, text: ConsentText) -> ConsentText:
        """Add a version.  Re-adding identical content is a no-op; changed content under an
        existing version id raises :class:`ImmutableTextError`."""
        existing = self._by_id.get(text.text_id)
        if existing is not None:
            if existing.content_hash != text.content_hash:
                raise ImmutableTextError(
                    f"{text.text_id} already exists with different content; texts are "
                    "immutable: use revise() to create the next version"
                )
            return existing
        self._by_id[text.text_id] = text
        versions = self._by_key.setdefault(text.key, [])
        versions.append(text)
        versions.sort(key=lambda t: t.version)
        return text

    def get(self, text_id: str) -> ConsentText:
        """The version with this id (``kind/language/band/vN``)."""
        try:
            return self._by_id[text_id]
        except KeyError:
            raise LookupError(f"no text {text_id!r}") from None

    def versions(self, kind: TextKind | str, language: str, band: str | None) -> tuple[ConsentText, ...]:
        """All versions of one document, oldest first."""
        return tuple(self._by_key.get(_key(kind, language, band), ()))

    def latest(self, kind: TextKind | str, language: str, band: str | None) -> ConsentText:
        """The newest version of one document."""
        versions = self.versions(kind, language, band)
        if not versions:
            raise LookupError(f"no {TextKind(kind).value} text in {language!r}" + (f" for band {band}" if band else ""))
        return versions[-1]

    def by_hash(self, digest: str) -> tuple[ConsentText, ...]:
        """Versions with this content hash."""
        return tuple(t for t in self._by_id.values() if t.content_hash == digest)

    def revise(
        self,
        kind: TextKind | str,
        language: str,
        band: str | None,
        *,
        body: str,
        title: str | None = None,
        status: TextStatus | str = TextStatus.DRAFT,
        note: str = "",
    ) -> ConsentText:
        """Create the next version of a document from edited content.

        If the content is unchanged (same hash as the latest version), the latest version is
        returned and nothing is added.  A new version always starts as ``draft`` unless told
        otherwise: an edit needs review again.
        """
        versions = self.versions(kind, language, band)
        latest = versions[-1] if versions else None
        new = ConsentText(
            TextKind(kind),
            language,
            band,
            (latest.version + 1) if latest else 1,
            title if title is not None else (latest.title if latest else ""),
            body,
            TextStatus(status),
            note,
        )
        if latest is not None and latest.content_hash == new.content_hash:
            return latest
        return self.add(new)

    def with_status(self, text_id: str, status: TextStatus | str) -> ConsentText:
        """Record a new review status for a version; its content and hash do not change."""
        old = self.get(text_id)
        new = replace(old, status=TextStatus(status))
        self._by_id[text_id] = new
        versions = self._by_key[old.key]
        versions[versions.index(old)] = new
        return new

    def resolve(self, ref: TextRef) -> ConsentText:
        """The version a consultation bound to, checked against its hash (C-06)."""
        live = self.get(ref.text_id)
        check_binding(ref, live)
        return live

    def __iter__(self) -> Iterator[ConsentText]:
        return iter(sorted(self._by_id.values(), key=lambda t: t.text_id))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, text_id: object) -> bool:
        return text_id in self._by_id


# --------------------------------------------------------------------------- bundled files


def parse_text_file(content: str, *, source: str = "text") -> ConsentText:
    """Parse a text file: YAML front matter between ``---`` lines, then the body.

    Front matter keys: ``kind``, ``language``, ``band`` (child documents), ``version``,
    ``title``, ``status``, ``note``.

    Examples
    --------
    >>> t = parse_text_file("---\\nkind: guardian_information\\nlanguage: en\\nversion: 1\\n"
    ...                     "title: Letter\\n---\\n[contact]\\nCall us.\\n")
    >>> t.text_id
    'guardian_information/en/-/v1'
    """
    content = content.replace("\r\n", "\n")
    if not content.startswith("---\n"):
        raise ValueError(f"{source}: a text file starts with '---' and YAML front matter")
    try:
        head, body = content[4:].split("\n---\n", 1)
    except ValueError:
        raise ValueError(f"{source}: the front matter needs a closing '---' line") from None
    try:
        meta = yaml.safe_load(head) or {}
    except (yaml.YAMLError, ValueError) as exc:
        raise ValueError(f"{source}: the front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: the front matter must be 'key: value' lines")
    unknown = set(meta) - {"kind", "language", "band", "version", "title", "status", "note"}
    if unknown:
        raise ValueError(f"{source}: unknown front matter keys {sorted(unknown)}")
    try:
        return ConsentText(
            kind=TextKind(meta["kind"]),
            language=meta["language"],
            band=meta.get("band"),
            version=meta["version"],
            title=meta["title"],
            body=body,
            status=TextStatus(meta.get("status", "draft")),
            note=(meta.get("note") or "").strip(),
        )
    except KeyError as exc:
        raise ValueError(f"{source}: front matter needs {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def _walk(node: Traversable) -> Iterator[tuple[str, Traversable]]:
    """Each ``.txt`` file under ``node`` with the name of the folder it is in."""
    for entry in node.iterdir():
        if entry.is_dir():
            yield from _walk(entry)
        elif entry.name.endswith(".txt"):
            yield node.name, entry


def bundled_texts() -> TextRegistry:
    """A new registry holding every bundled text version (files under ``consent/texts/``).

    Examples
    --------
    >>> reg = bundled_texts()
    >>> reg.latest("child_information", "en", "A").language
    'en'
    """
    return TextRegistry(_bundled_files())


@functools.cache
def _bundled_files() -> tuple[ConsentText, ...]:
    # Texts are immutable, so the parsed files are shared; each registry is new.
    root = resources.files("consent") / "texts"
    return tuple(
        parse_text_file(entry.read_text("utf-8"), source=f"{folder}/{entry.name}")
        for folder, entry in sorted(_walk(root), key=lambda found: (found[0], found[1].name))
    )

"""The checks of a text: :func:`lint_assent` (the twelve elements, the mode's confidentiality
wording, the P-02 placeholders) and :func:`lint_guardian`, each a table of small checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from consent.profiles import PermissionMode
from consent.texts.kinds import (
    _KNOWN_TAGS,
    ASSENT_ELEMENTS,
    GUARDIAN_ELEMENTS,
    PLACEHOLDERS,
    PRIVACY_VARIANTS,
    ConfidentialityMode,
    TextKind,
)
from consent.texts.markup import (
    Choice,
    ComprehensionItem,
    Section,
    _block_strings,
    _keep,
    _section_placeholders,
    parse_body,
)
from consent.texts.model import ConsentText

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
    draft = _AssentDraft.of(parse_body(body), mode)
    issues = _common_issues(draft.all_sections)
    for check in ASSENT_CHECKS:
        issues.extend(check(draft))
    if isinstance(text, ConsentText):
        issues.extend(_content_warnings(text.language, draft.sections))
    return _ordered(issues)


@dataclass(frozen=True, slots=True)
class _AssentDraft:
    """A child document parsed once for the checks of :data:`ASSENT_CHECKS`.

    ``sections`` are those the mode keeps; ``privacy`` every ``[privacy ...]`` section, of any mode.
    """

    mode: ConfidentialityMode
    all_sections: tuple[Section, ...]
    sections: list[Section]
    by_tag: dict[str, list[Section]]
    placeholders: frozenset[str]
    privacy: list[Section]
    privacy_variants: set[str | None]

    @classmethod
    def of(cls, all_sections: tuple[Section, ...], mode: ConfidentialityMode) -> _AssentDraft:
        sections = [s for s in all_sections if _keep(s, mode, None)]
        by_tag: dict[str, list[Section]] = {}
        for s in sections:
            by_tag.setdefault(s.element or "", []).append(s)
        privacy = [s for s in all_sections if s.element == "privacy"]
        return cls(
            mode=mode,
            all_sections=all_sections,
            sections=sections,
            by_tag=by_tag,
            placeholders=frozenset(p for s in sections for p in _section_placeholders(s)),
            privacy=privacy,
            privacy_variants={s.variant for s in privacy if s.blocks},
        )

    @property
    def required_privacy(self) -> frozenset[str]:
        return PRIVACY_VARIANTS[self.mode]


def _elements_present(d: _AssentDraft) -> Iterator[Issue]:
    """Each of the twelve elements has its placeholders and a section with text."""
    for el in ASSENT_ELEMENTS:
        for p in el.placeholders:
            if p not in d.placeholders:
                yield Issue(
                    "missing_placeholder",
                    f"element {el.number} ({el.title}) needs {{{p}}}: {PLACEHOLDERS[p]}; add it to the text",
                    el.tags[0],
                )
        for tag in el.tags:
            if tag == "privacy":
                continue
            found = d.by_tag.get(tag)
            if not found:
                yield Issue(
                    "missing_element", f"element {el.number} is missing: {el.title}; add a [{tag}] section", tag
                )
            elif not any(s.blocks for s in found):
                yield Issue("empty_element", f"element {el.number} ([{tag}]) has no text; write it", tag)


def _privacy_for_mode(d: _AssentDraft) -> Iterator[Issue]:
    """Element 8: the privacy wording of the consultation's mode."""
    for v in sorted(d.required_privacy - d.privacy_variants):
        yield Issue(
            "privacy_wording_missing",
            f"element 8 is missing: {d.mode.value} mode needs a [privacy {v}] section " + _PRIVACY_HINT[v],
            "privacy",
        )


def _privacy_variants_known(d: _AssentDraft) -> Iterator[Issue]:
    for v in sorted({v for v in d.privacy_variants if v is not None} - set(_PRIVACY_HINT)):
        yield Issue(
            "unknown_variant",
            f"[privacy {v}] is not a known variant; use anonymous, in_person or identified",
            "privacy",
        )


def _privacy_names_a_mode(d: _AssentDraft) -> Iterator[Issue]:
    if None in d.privacy_variants:
        yield Issue(
            "privacy_wording_missing",
            "a [privacy] section needs a mode variant: [privacy anonymous], "
            "[privacy in_person] or [privacy identified]",
            "privacy",
        )


def _privacy_says_who_helps(d: _AssentDraft) -> Iterator[Issue]:
    """Anonymous wording names the helpline; in-person and identified wording who would be told."""
    for s in d.privacy:
        if s.variant == "anonymous" and "anonymous" in d.required_privacy:
            if "helpline" not in _section_placeholders(s):
                yield Issue(
                    "missing_placeholder",
                    "[privacy anonymous] must say where help is, since nobody can come to help: add {helpline}",
                    "privacy",
                )
        if s.variant in ("in_person", "identified") and s.variant in d.required_privacy:
            if "reporting_role" not in _section_placeholders(s):
                yield Issue(
                    "missing_placeholder",
                    f"[privacy {s.variant}] must say who would be told: add {{reporting_role}}",
                    "privacy",
                )


def _comprehension_items(d: _AssentDraft) -> list[ComprehensionItem]:
    return [b for s in d.by_tag.get("understanding_check", []) for b in s.blocks if isinstance(b, ComprehensionItem)]


def _comprehension_enough(d: _AssentDraft) -> Iterator[Issue]:
    """Element 11: at least two comprehension questions."""
    items = _comprehension_items(d)
    if "understanding_check" in d.by_tag and len(items) < 2:
        yield Issue(
            "comprehension_too_few",
            f"element 11 needs at least 2 comprehension questions, found {len(items)}; add "
            "'? question', '+ right answer', '- other answer', '= explanation' lines",
            "understanding_check",
        )


def _comprehension_complete(d: _AssentDraft) -> Iterator[Issue]:
    """Each question has a right answer, another answer and an explanation."""
    for i, item in enumerate(_comprehension_items(d), 1):
        problems = []
        if not any(o.correct for o in item.options):
            problems.append("a right answer ('+ ...')")
        if not any(not o.correct for o in item.options):
            problems.append("another answer ('- ...')")
        if not item.explanation:
            problems.append("an explanation ('= ...')")
        if problems:
            yield Issue(
                "comprehension_item_incomplete",
                f"comprehension question {i} ({item.question!r}) needs " + ", ".join(problems),
                "understanding_check",
            )


def _choices_complete(d: _AssentDraft) -> Iterator[Issue]:
    """Elements 11 and 12: the choice and the re-affirmation have Yes and No buttons."""
    for tag in ("choice", "reaffirmation"):
        if tag not in d.by_tag:
            continue
        values = {b.value for s in d.by_tag[tag] for b in s.blocks if isinstance(b, Choice)}
        for v in ("yes", "no"):
            if v not in values:
                yield Issue("choice_incomplete", f"[{tag}] needs a '> {v}: ...' button line", tag)


#: The checks of :func:`lint_assent`, in the order their findings are listed (before sorting by
#: element): each reads the parsed text and yields its :class:`Issue` findings.
ASSENT_CHECKS: tuple[Callable[[_AssentDraft], Iterable[Issue]], ...] = (
    _elements_present,
    _privacy_for_mode,
    _privacy_variants_known,
    _privacy_names_a_mode,
    _privacy_says_who_helps,
    _comprehension_enough,
    _comprehension_complete,
    _choices_complete,
)


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
    check = _letter_issues if kind is TextKind.GUARDIAN_INFORMATION else _reply_form_issues
    issues.extend(check(sections, tags, None if permission_mode is None else PermissionMode(permission_mode).value))
    return issues


def _letter_issues(sections: tuple[Section, ...], tags: set[str | None], pm: str | None) -> Iterator[Issue]:
    """The guardian letter: each section of :data:`GUARDIAN_ELEMENTS`, and the mode's choice wording."""
    for tag in GUARDIAN_ELEMENTS[TextKind.GUARDIAN_INFORMATION]:
        if tag not in tags:
            yield Issue("missing_element", f"the guardian letter needs a [{tag}] section", tag)
    if pm is not None:
        choice = {s.variant for s in sections if s.element == "your_choice" and s.blocks}
        if choice and None not in choice and pm not in choice:
            yield Issue(
                "missing_element",
                f"the guardian letter needs a [your_choice {pm}] section for {pm} mode",
                "your_choice",
            )


def _reply_form_issues(sections: tuple[Section, ...], tags: set[str | None], pm: str | None) -> Iterator[Issue]:
    """The reply form: a ``[reply <mode>]`` section for the mode (any reply section without one)."""
    replies = {s.variant for s in sections if s.element == "reply" and s.blocks}
    if pm is not None:
        if pm not in replies:
            yield Issue("missing_element", f"the reply form needs a [reply {pm}] section for {pm} mode", "reply")
    elif not replies:
        yield Issue("missing_element", "the reply form needs a [reply ...] section", "reply")

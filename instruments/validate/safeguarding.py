"""Safeguarding checks: sensitive sections, exact ages kept, what the child-facing texts may
say."""

from __future__ import annotations

import re
from collections.abc import Iterator

from instruments.errors import Issue, IssueCode
from instruments.model import (
    RESERVED_CODES,
    Instrument,
    Item,
    ItemType,
    Sensitivity,
)
from instruments.placeholders import PLACEHOLDERS, phone_numbers_in, placeholders_in
from instruments.validate.common import E, W, _issue, _loc, child_facing_texts


def _check_safeguarding(inst: Instrument, research_mode: bool | None, ethics_reference: str | None) -> Iterator[Issue]:
    research = inst.settings.mode == "research" if research_mode is None else research_mode
    ethics = ethics_reference or inst.settings.ethics_reference
    for item in inst.items:
        if item.sensitivity >= Sensitivity.S3 and not item.research_only and not (research and ethics):
            yield _issue(
                IssueCode.S3_NEEDS_RESEARCH,
                E,
                _loc(item, "sensitivity"),
                "An S3 item may only be shown in research mode with an ethics reference (S-08).",
                "Mark it research_only, or set mode: research and ethics_reference.",
            )
    answered = [s for s in inst.sections if any(i.answerable for i in s.items)]
    if answered and answered[-1].sensitivity > Sensitivity.S1:
        last = answered[-1]
        yield _issue(
            IssueCode.SENSITIVE_LAST_SECTION,
            E,
            f"section {last.name}",
            f"The last section contains {last.sensitivity.name} items (S-09).",
            "End with a cool-down section of S0/S1 items (e.g. the evaluation).",
        )
    for section in inst.sections:
        if section.sensitivity >= Sensitivity.S2 and not (section.notice and section.skippable):
            yield _issue(
                IssueCode.SENSITIVE_WITHOUT_NOTICE,
                E,
                f"section {section.name}",
                f"The section has {section.sensitivity.name} items but no notice with a skip option (S-09).",
                "Add a notice ('the next part is about ...; you can skip it') and set skippable.",
            )


# Words that make a question about the child's age or birth, in the shipped languages.
_AGE_NAME_RE = re.compile(
    r"(^|[_.\-])(age|ages|age_years|years_old|dob|birth\w*|born|yob)"
    r"([_.\-0-9]|$)",
    re.I,
)
_AGE_WORDS_RE = re.compile(
    r"\bhow old\b|\bage\b|\bbirth|\bborn\b|\bbirthday\b"  # en
    r"|\bâge\b|\bnaissance\b|\bes-tu né|\bné\(e\)"  # fr
    r"|\bedad\b|cu[aá]ntos años|\bnaciste\b|\bnacimiento\b"  # es
    r"|\bumri\b|kuzaliwa|ulizaliwa"  # sw
    r"|عمر|تاريخ الميلاد|ولدت|وُلدت|سنة ميلاد",  # ar
    re.I,
)
# An open question that asks the child's own age or birth (not one that merely says "your age").
_AGE_QUESTION_RE = re.compile(
    r"\bhow old\b|\bbirth|\bborn\b|what is your age"  # en
    r"|quel âge|naissance|es-tu né"  # fr
    r"|cu[aá]ntos años|naciste|nacimiento"  # es
    r"|umri gani|kuzaliwa|ulizaliwa"  # sw
    r"|كم عمرك|الميلاد|ولدت|وُلدت",  # ar
    re.I,
)
_NUMERIC_TYPES = (ItemType.INTEGER, ItemType.DECIMAL, ItemType.RANGE)


def _numeric_choices(inst: Instrument, item: Item) -> bool:
    """Whether the item's options are single numbers (a list of ages, not of age groups)."""
    lists = {name for name in (item.choices, *item.band_choices.values()) if name is not None}
    for list_name in lists:
        choices = [c for c in inst.choice_lists.get(list_name, ()) if c.name not in RESERVED_CODES]
        if len(choices) >= 2 and all(
            c.name.strip().isdigit() or (c.label_for(inst.settings.default_language) or "").strip().isdigit()
            for c in choices
        ):
            return True
    return False


def asks_exact_age(inst: Instrument, item: Item) -> bool:
    """Whether ``item`` asks a child's age in years or their date of birth.

    Only the age band may be kept for children (D-01; BRIEF non-negotiable 2): the band comes
    from the age a child gives on entering their code, and the age itself is never stored.  An
    item asks the exact age when its name or wording is about age or birth (in any shipped
    language) and the answer is a number, a list of single numbers or free text.  Asking for an
    age *group* (options such as "8-10") is allowed.

    Examples
    --------
    >>> from instruments.model import Item, Text
    >>> from instruments import load_bundled
    >>> inst = load_bundled()
    >>> asks_exact_age(inst, Item("q", "integer", Text(en="How old are you?")))
    True
    >>> asks_exact_age(inst, Item("times", "integer", Text(en="How many times?")))
    False
    >>> asks_exact_age(inst, Item("q", "text", Text(en="What would help a child your age?")))
    False
    >>> any(asks_exact_age(inst, item) for item in inst.items)
    False
    """
    if not item.type.answerable:
        return False
    wording = [value for _where, text in item.texts() for value in text.values()]
    about_age = bool(_AGE_NAME_RE.search(item.name)) or any(_AGE_WORDS_RE.search(w) for w in wording)
    if not about_age:
        return False
    if item.type in _NUMERIC_TYPES:
        return True
    if item.type is ItemType.TEXT:
        return bool(_AGE_NAME_RE.search(item.name)) or any(_AGE_QUESTION_RE.search(w) for w in wording)
    # a list of single ages (or of birth years) pins the age down as well as a number does
    return item.type.has_choices and _numeric_choices(inst, item)


def _check_kept_age(inst: Instrument, research_mode: bool | None, ethics_reference: str | None) -> Iterator[Issue]:
    research = inst.settings.mode == "research" if research_mode is None else research_mode
    ethics = ethics_reference or inst.settings.ethics_reference
    for item in inst.items:
        if asks_exact_age(inst, item) and not item.research_only and not (research and ethics):
            yield _issue(
                IssueCode.EXACT_AGE,
                E,
                _loc(item),
                f"The item {item.name} asks a child's exact age or date of birth; only "
                "the age group may be kept (the age a child gives at the start is "
                "turned into the age group and not stored).",
                "Remove the item, ask for an age group instead, or mark it "
                "research_only so it is asked only in research mode with an ethics "
                "approval reference.",
            )


def _check_child_texts(inst: Instrument) -> Iterator[Issue]:
    """Child-facing text holds no phone number and only known placeholders, in every language."""
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    for where, text in child_facing_texts(inst):
        used: dict[str, frozenset[str]] = {}
        for lang, value in text.items():
            for number in phone_numbers_in(value):
                yield _issue(
                    IssueCode.PHONE_NUMBER,
                    E,
                    where,
                    f"The '{lang}' text of {where} has \"{number}\", which looks like a "
                    "phone number. Helpline numbers differ between countries and "
                    "change, so they come from the consultation's country profile.",
                    "Write {helpline} (or {helplines}) where the number goes: Sauti "
                    "fills in the country profile's checked helplines when the page is "
                    "shown. If it is not a phone number, write it in words.",
                )
            names = placeholders_in(value)
            for name in names:
                if name not in PLACEHOLDERS:
                    yield _issue(
                        IssueCode.UNKNOWN_PLACEHOLDER,
                        E,
                        where,
                        f"The '{lang}' text of {where} has {{{name}}}, which is not a "
                        f"placeholder Sauti knows (known: {known}).",
                        "Correct the spelling, or write the words themselves.",
                    )
            used[lang] = frozenset(names)
        if len(set(used.values())) > 1:
            default = inst.settings.default_language
            base = used.get(default, next(iter(used.values())))
            differing = sorted(lang for lang, names in used.items() if names != base)
            yield _issue(
                IssueCode.PLACEHOLDER_MISMATCH,
                W,
                where,
                f"The placeholders of {where} differ between languages "
                f"({', '.join(differing)} differ from '{default}').",
                "Use the same placeholders in every translation.",
                True,
            )

"""What the survey engine asks at run time: which items and choices to show,
whether an answer is acceptable, and the calculated values.

All functions are pure; ``answers`` maps item names (and matrix row keys) to
stored values: a choice name, a list of choice names, a number or text, or a
reserved code (:data:`~instruments.model.RATHER_NOT_SAY`,
:data:`~instruments.model.DONT_KNOW`). Context values such as ``_setting`` or
``_band`` may be merged in with :func:`context`.

Examples
--------
>>> from instruments import load_bundled
>>> inst = load_bundled()
>>> answers = {"TR1": ["parent", "friend"], **context(band="B", setting="school")}
>>> page = next(p for p in inst.pages_for_band("B") if p.name == "TR2")
>>> [i.name for i in visible_items(inst, page, answers, "B")]
['TR2']
>>> [c.name for c in visible_choices(inst, inst.item("TR2"), "B", answers)]
['parent', 'friend']
>>> check_answer(inst, inst.item("TR1"), ["parent", "friend", "teacher", "police"], answers)
'Choose at most 3.'
>>> check_answer(inst, inst.item("TR1"), "_rns", answers) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from instruments.errors import ExpressionError
from instruments.expressions import INSTANCE_PATH, POSITION, evaluate, evaluate_bool, to_number
from instruments.model import (
    DONT_KNOW,
    RATHER_NOT_SAY,
    RESERVED_CODES,
    Choice,
    Instrument,
    Item,
    ItemType,
    Page,
    Repeat,
    Section,
    Text,
    split_instance_key,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "calculate_all",
    "check_answer",
    "context",
    "instance_count",
    "instance_values",
    "is_relevant",
    "visible_choices",
    "visible_items",
]

#: Longest open-text answer accepted (characters).
MAX_TEXT_LENGTH = 2000

_MESSAGES = {
    "choice": "Choose one of the options shown.",
    "max": "Choose at most {n}.",
    "number": "Write a whole number.",
    "decimal": "Write a number.",
    "range": "Choose a value from {start} to {end}.",
    "long": "Please write a shorter answer (at most {n} characters).",
    "constraint": "This answer does not look right. Please check it.",
    "dk": '"I don\'t know" is not offered for this question.',
    "reserved": '"I\'d rather not say" cannot be combined with other answers.',
}


def context(
    band: str | None = None,
    lang: str | None = None,
    setting: str | None = None,
    mode: str | None = None,
) -> dict[str, str]:
    """Context values expressions may read as ``${_band}``, ``${_lang}``,
    ``${_setting}`` (school / community / online / other) and ``${_mode}``.

    >>> context(band="A", setting="school")
    {'_band': 'A', '_setting': 'school'}
    """
    values = {"_band": band, "_lang": lang, "_setting": setting, "_mode": mode}
    return {k: v for k, v in values.items() if v is not None}


def is_relevant(target: Item | Page | Section, answers: Mapping[str, Any]) -> bool:
    """Evaluate the target's own relevance (true when it has none)."""
    return evaluate_bool(target.relevance, answers)


def visible_items(
    instrument: Instrument,
    page: Page,
    answers: Mapping[str, Any],
    band: str,
    research_mode: bool = False,
) -> tuple[Item, ...]:
    """Items of ``page`` to show now: band rules (S-08), then section, page
    and item relevance. Calculate items are never shown. An empty result
    means the engine skips the page."""
    try:
        section = instrument.section_of(page.name)
    except KeyError:
        section = None
    if section is not None and not is_relevant(section, answers):
        return ()
    if not is_relevant(page, answers):
        return ()
    allowed = set(instrument.items_for_band(band, research_mode))
    return tuple(
        item
        for item in page.items
        if item in allowed and item.type is not ItemType.CALCULATE and is_relevant(item, answers)
    )


def visible_choices(
    instrument: Instrument, item: Item, band: str | None, answers: Mapping[str, Any]
) -> tuple[Choice, ...]:
    """The item's choices for ``band``, filtered by its ``choice_filter``.

    Inside the filter, bare names read the choice's ``name`` and extra
    columns (XLSForm convention), e.g. ``selected(${TR1}, name)``.
    """
    if item.answers_as_choices is not None:
        return answers_as_choices(instrument, item, answers)
    choices = instrument.choices_for(item, band)
    if not item.choice_filter:
        return choices
    return tuple(c for c in choices if evaluate_bool(item.choice_filter, answers, choice={**c.extra, "name": c.name}))


def answers_as_choices(instrument: Instrument, item: Item, answers: Mapping[str, Any]) -> tuple[Choice, ...]:
    """The choices of a ``select_one ${name}`` item: one per instance of the repeat ``name`` is
    asked in (within the outer instance this item is answered in, for a repeat inside another;
    every instance for an item asked after both), named by the instance's number (``2.1`` for
    one inside another, read from outside both) and showing the answer the child gave there. Instances left
    unanswered or answered "I'd rather not say" give none. The ``choice_filter`` reads each
    instance's answers (``${age}`` is that instance's ``age``).

    >>> from instruments import import_xlsform
    >>> md = '''
    ... | survey |
    ... | | type | name | label |
    ... | | begin repeat | friends | A friend |
    ... | | text | nick | Their nickname |
    ... | | end repeat | | |
    ... | | select_one ${nick} | best | Who do you talk to most? |
    ... '''
    >>> inst = import_xlsform(md).instrument
    >>> answers = {"nick#1": "Jo", "nick#2": "_rns", "nick#3": "Sam"}
    >>> [(c.name, c.label_for("en")) for c in answers_as_choices(inst, inst.item("best"), answers)]
    [('1', 'Jo'), ('3', 'Sam')]
    """
    source = item.answers_as_choices
    here = tuple(answers.get(INSTANCE_PATH) or ())
    found: list[tuple[tuple[int, ...], str]] = []
    for key, value in answers.items():
        name, path = split_instance_key(str(key))
        outer = path[:-1]
        if name != source or not path or outer[: len(here)] != here[: len(outer)]:
            continue  # another outer instance than the one this item is answered in
        if value in (None, "") or value in RESERVED_CODES or not isinstance(value, str | int | float):
            continue
        if item.choice_filter and not evaluate_bool(item.choice_filter, instance_values(answers, path)):
            continue
        found.append((path, str(value)))
    language = instrument.settings.default_language
    # named by the instance's number, or its path below what this item shares with it
    # ("2.1": the first person of the second home, for a question after both repeats)
    return tuple(
        Choice(".".join(str(n) for n in path[min(len(here), len(path) - 1) :]), Text({language: text}))
        for path, text in sorted(found)
    )


def _message(instrument: Instrument, item: Item, lang: str | None) -> str:
    default = instrument.settings.default_language
    return item.constraint_message.get_for(lang, (default,)) or _MESSAGES["constraint"]


def check_answer(
    instrument: Instrument,
    item: Item,
    value: Any,
    answers: Mapping[str, Any] | None = None,
    band: str | None = None,
    lang: str | None = None,
) -> str | None:
    """``None`` when ``value`` is acceptable for ``item``, else a message.

    Nothing is required: an empty value and "I'd rather not say" are always
    accepted; "I don't know" only when the item allows it. Then the type
    (choice names, whole numbers, range bounds, text length), ``max_choices``
    and the ``constraint`` (with ``.`` bound to the value) are checked. The
    messages are plain English except the instrument's own
    ``constraint_message``; the engine may translate the defaults.
    """
    answers = dict(answers or {})
    if value is None or value == "" or value == [] or value == RATHER_NOT_SAY:
        return None
    if value == DONT_KNOW:
        return None if item.allow_dont_know else _MESSAGES["dk"]
    kind = item.type
    if kind in (ItemType.SELECT_ONE, ItemType.LIKERT, ItemType.MATRIX):
        names = {c.name for c in visible_choices(instrument, item, band, answers)}
        if str(value) not in names:
            return _MESSAGES["choice"]
    elif kind in (ItemType.SELECT_MULTIPLE, ItemType.RANK):
        chosen = value.split() if isinstance(value, str) else [str(v) for v in value]
        if any(v in RESERVED_CODES for v in chosen):
            return _MESSAGES["reserved"]
        names = {c.name for c in visible_choices(instrument, item, band, answers)}
        if not set(chosen) <= names or len(set(chosen)) != len(chosen):
            return _MESSAGES["choice"]
        if item.max_choices is not None and len(chosen) > item.max_choices:
            return _MESSAGES["max"].format(n=item.max_choices)
    elif kind in (ItemType.INTEGER, ItemType.DECIMAL, ItemType.RANGE):
        number = to_number(value)
        if math.isnan(number) or math.isinf(number):
            return _MESSAGES["number" if kind is ItemType.INTEGER else "decimal"]
        if kind is ItemType.INTEGER and not number.is_integer():
            return _MESSAGES["number"]
        if kind is ItemType.RANGE:
            start = float(item.parameters.get("start", 0))
            end = float(item.parameters.get("end", 10))
            step = float(item.parameters.get("step", 1))
            steps = (number - start) / step if step else 0
            if not start <= number <= end or not math.isclose(steps, round(steps)):
                return _MESSAGES["range"].format(start=f"{start:g}", end=f"{end:g}")
    elif kind is ItemType.TEXT and len(str(value)) > MAX_TEXT_LENGTH:
        return _MESSAGES["long"].format(n=MAX_TEXT_LENGTH)
    if item.constraint:
        try:
            ok = evaluate_bool(item.constraint, answers, current=value)
        except ExpressionError:
            ok = False
        if not ok:
            return _message(instrument, item, lang)
    return None


def calculate_all(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Values of the calculate items, in order (each sees the ones before it).

    >>> from instruments import import_xlsform
    >>> md = '''
    ... | survey |
    ... | | type | name | label | calculation |
    ... | | integer | a | A | |
    ... | | calculate | twice | | ${a} * 2 |
    ... '''
    >>> calculate_all(import_xlsform(md).instrument, {"a": 4})
    {'twice': 8.0}
    """
    values: dict[str, Any] = {}
    merged = dict(answers)
    default = instrument.settings.default_language
    lists = {
        name: [{**c.extra, "name": c.name, "label": c.label_for(default, default)} for c in choices]
        for name, choices in instrument.choice_lists.items()
    }
    for item in instrument.items:
        if item.type is ItemType.CALCULATE and item.calculation:
            try:
                result = evaluate(item.calculation, merged, choice_lists=lists)
            except ExpressionError:
                result = ""
            values[item.name] = result
            merged[item.name] = result
    return values


def instance_values(answers: Mapping[str, Any], path: tuple[int, ...]) -> dict[str, Any]:
    """The answers an expression in repeat instance ``path`` reads.

    Every answer keeps its key; the answers of the instance (and, in a repeat inside another,
    of the outer instance) are added under their bare names, so that ``${age}`` in a repeat
    means this instance's ``age`` (XLSForm's relative reference), and ``position(..)`` its
    number. Other instances are read only through ``indexed-repeat()``.

    >>> answers = {"n": "2", "age#1": "9", "age#2": "11", "toy#2.1": "ball"}
    >>> values = instance_values(answers, (2,))
    >>> values["age"], values["_position"], "toy" in values
    ('11', 2, False)
    >>> instance_values(answers, (2, 1))["toy"]
    'ball'
    """
    path = tuple(path)
    out: dict[str, Any] = {}
    inner: dict[int, dict[str, Any]] = {}
    for key, value in answers.items():
        out[key] = value  # every answer under its own key (indexed-repeat reads them)
        if "#" not in key:
            continue
        name, where = split_instance_key(key)
        if where and where == path[: len(where)]:
            inner.setdefault(len(where), {})[name] = value
    for depth in sorted(inner):
        out.update(inner[depth])
    if path:
        out[POSITION] = path[-1]  # position(..)
        out[INSTANCE_PATH] = path  # sum() and count() over the instances inside this one
    return out


def instance_count(repeat: Repeat, values: Mapping[str, Any]) -> int:
    """How many instances a repeat has, given the values at its place in the form.

    With ``count`` (XLSForm ``repeat_count``) its value, from 0 to the repeat's maximum
    (a reserved answer or nothing counts as 0); without it, the number the child reached with
    "add another", stored under the repeat's own name (1 before any), up to the maximum; a
    stored 0 means the child removed every instance they had.

    >>> instance_count(Repeat("kids", count="${n}", maximum=5), {"n": "3"})
    3
    >>> instance_count(Repeat("kids", count="${n}", maximum=5), {"n": "40"})
    5
    >>> instance_count(Repeat("kids"), {}), instance_count(Repeat("kids"), {"kids": "4"})
    (1, 4)
    >>> instance_count(Repeat("kids"), {"kids": "0"})
    0
    """
    if repeat.count is not None:
        try:
            number = to_number(evaluate(repeat.count, values))
        except ExpressionError:
            number = 0.0
        if math.isnan(number) or math.isinf(number):
            return 0
        return max(0, min(int(number), repeat.maximum))
    number = to_number(values.get(repeat.name, 1))
    if math.isnan(number) or math.isinf(number):
        return 1
    if number == 0 and repeat.name in values:
        return 0  # every instance removed (survey.services.repeat_removal)
    return max(1, min(int(number), repeat.maximum))

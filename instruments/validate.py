"""Structural validation and the authoring lint.

One function, :func:`validate`, returns a :class:`~instruments.errors.Report`
of coded issues with locations and fixes. Loaders raise on the structural
codes (:data:`STRUCTURAL_CODES`); the others are policy checks the survey app
shows before approval and enforces at launch.

Locations have the form ``item NAME, FIELD`` / ``choice list L, choice C`` /
``section S`` / ``settings``; the XLSForm importer rewrites them to sheet,
row and column.

Examples
--------
>>> from instruments import load_bundled
>>> report = validate(load_bundled())
>>> report.ok
True
>>> round(estimate_minutes(load_bundled(), "A"), 1) <= 12
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from instruments import expressions
from instruments.errors import Issue, IssueCode, Report, Severity
from instruments.model import (
    NO_NAMES_NOTICE,
    RESERVED_CODES,
    Instrument,
    Item,
    ItemType,
    LanguageStatus,
    Sensitivity,
    Text,
    matrix_key,
)
from instruments.placeholders import PLACEHOLDERS, phone_numbers_in, placeholders_in

__all__ = [
    "JARGON_WORDS",
    "approve_language",
    "asks_exact_age",
    "child_facing_texts",
    "READING_TARGETS",
    "STRUCTURAL_CODES",
    "estimate_minutes",
    "grade_level",
    "validate",
]

E, W = Severity.ERROR, Severity.WARNING

#: Errors that make an instrument unusable; loaders raise on them.
STRUCTURAL_CODES = frozenset(
    {
        IssueCode.DUPLICATE_NAME,
        IssueCode.INVALID_NAME,
        IssueCode.REPEAT_UNSUPPORTED,
        IssueCode.MISSING_CHOICE_LIST,
        IssueCode.EMPTY_CHOICE_LIST,
        IssueCode.DUPLICATE_CHOICE,
        IssueCode.RESERVED_CHOICE_NAME,
        IssueCode.EXPRESSION_SYNTAX,
        IssueCode.UNKNOWN_REFERENCE,
        IssueCode.REFERENCE_CYCLE,
        IssueCode.INVALID_BAND,
        IssueCode.BAND_ORDER,
        IssueCode.MAX_CHOICES_INVALID,
        IssueCode.RANGE_INVALID,
        IssueCode.MISSING_LABEL,
        IssueCode.LANGUAGE_UNKNOWN,
    }
)

#: Flesch-Kincaid grade targets per band for English (D-02).
READING_TARGETS = {"A": 3.0, "B": 5.0, "C": 7.0}

#: Words flagged for bands A and B (D-02; child-participation.md §5.2).
JARGON_WORDS = frozenset(
    {
        "exploitation",
        "exploit",
        "exploited",
        "perpetrator",
        "perpetrators",
        "mechanism",
        "mechanisms",
        "disclose",
        "disclosure",
        "confidential",
        "confidentiality",
        "victimisation",
        "victimization",
        "abuse",
        "grooming",
        "prevalence",
        "safeguarding",
        "stakeholder",
        "stakeholders",
        "jurisdiction",
        "anonymity",
        "anonymous",
        "sextortion",
        "solicitation",
        "consent",
        "retaliation",
    }
)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_NEGATION_RE = re.compile(
    r"\b(not|never|no one|nobody|nothing|don't|doesn't|didn't|won't|"
    r"isn't|aren't|can't|cannot|wouldn't|shouldn't)\b",
    re.I,
)
_DOUBLE_BARREL_RE = re.compile(r"\?\s*\S.*\?|\b(and|or) (how|why|what|when|where|who)\b", re.I)
_WORD_RE = re.compile(r"[A-Za-z']+")

# seconds per item type (answering, excluding reading) for the time estimate
_TYPE_SECONDS = {
    ItemType.NOTE: 2,
    ItemType.SELECT_ONE: 6,
    ItemType.SELECT_MULTIPLE: 10,
    ItemType.RANK: 20,
    ItemType.TEXT: 30,
    ItemType.INTEGER: 6,
    ItemType.DECIMAL: 8,
    ItemType.RANGE: 6,
    ItemType.LIKERT: 5,
    ItemType.MATRIX: 3,
    ItemType.CALCULATE: 0,
}
# reading speed in words per minute per band (band A listens to the audio at a calm
# speaking pace; older bands read silently)
_WPM = {"A": 120.0, "B": 140.0, "C": 170.0}
# items shown only under a condition (relevance) count this much of their time
_CONDITIONAL_WEIGHT = 0.5


def _issue(
    code: IssueCode, severity: Severity, location: str, message: str, fix: str = "", blocks: bool = False
) -> Issue:
    return Issue(code, severity, location, message, fix, blocks)


# ---------------------------------------------------------------------------
# readability helpers
# ---------------------------------------------------------------------------
def _syllables(word: str) -> int:
    word = word.lower().strip("'")
    if not word:
        return 0
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$", "", word)
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]{1,2}", word)))


def grade_level(text: str) -> float:
    """Flesch-Kincaid grade of English ``text`` (offline, heuristic syllables).

    Short texts give rough values; the lint uses it only for warnings.

    Examples
    --------
    >>> grade_level("Do you like school?") < 3
    True
    >>> grade_level("Which organisational characteristics would increase your confidence "
    ...             "in institutional reporting mechanisms?") > 7
    True
    """
    words = _WORD_RE.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * (len(words) / sentences) + 11.8 * (syllables / len(words)) - 15.59


def _words(text: str) -> int:
    return len(text.split())


def estimate_minutes(instrument: Instrument, band: str, research_mode: bool = False) -> float:
    """Estimated completion time for ``band`` in minutes (D-05).

    Reading time of the label, hint and choices at the band's speed
    (band A at listening pace) plus a per-type answering time; matrix items
    count per row; items with a relevance condition count half (they are
    shown to some children only). An item's ``minutes`` overrides the
    estimate.
    """
    lang = instrument.settings.default_language
    wpm = _WPM.get(band, 130.0)
    total = 0.0
    for item in instrument.items_for_band(band, research_mode):
        if item.minutes is not None:
            total += item.minutes * 60 * (_CONDITIONAL_WEIGHT if item.relevance else 1.0)
            continue
        words = _words(item.label_for(lang, band, lang)) + _words(item.hint_for(lang, band, lang))
        choices = instrument.choices_for(item, band)
        words += sum(_words(c.label_for(lang, lang)) for c in choices)
        seconds = _TYPE_SECONDS[item.type]
        if item.type is ItemType.MATRIX:
            rows = instrument.rows_for(item)
            words += sum(_words(r.label_for(lang, lang)) for r in rows)
            seconds *= max(1, len(rows))
        if item.type.answerable:
            words += 6  # the "I'd rather not say" option and navigation
        weight = _CONDITIONAL_WEIGHT if item.relevance else 1.0
        total += weight * (seconds + words / wpm * 60)
    return total / 60


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------
def _loc(item: Item, field: str | None = None) -> str:
    return f"item {item.name}" + (f", {field}" if field else "")


def _check_names(inst: Instrument) -> Iterator[Issue]:
    seen_items: dict[str, str] = {}
    for section in inst.sections:
        for page in section.pages:
            for item in page.items:
                if not _NAME_RE.match(item.name):
                    yield _issue(
                        IssueCode.INVALID_NAME,
                        E,
                        _loc(item),
                        f"'{item.name}' is not a valid name.",
                        "Start with a letter or _, then letters, digits, _ - or . (at most 64 characters).",
                    )
                keys = [item.name]
                if item.type is ItemType.MATRIX:
                    keys += [matrix_key(item.name, r.name) for r in inst.rows_for(item)]
                for key in keys:
                    if key in seen_items:
                        yield _issue(
                            IssueCode.DUPLICATE_NAME,
                            E,
                            _loc(item),
                            f"The name '{key}' is used twice (also {seen_items[key]}).",
                            "Give every item its own name.",
                        )
                    else:
                        seen_items[key] = f"item {item.name}"
    for kind, names in (("page", [p.name for p in inst.pages]), ("section", [s.name for s in inst.sections])):
        seen: set[str] = set()
        for name in names:
            if not _NAME_RE.match(name):
                yield _issue(
                    IssueCode.INVALID_NAME,
                    E,
                    f"{kind} {name}",
                    f"'{name}' is not a valid {kind} name.",
                    "Use letters, digits, _ - or . and start with a letter.",
                )
            if name in seen:
                yield _issue(
                    IssueCode.DUPLICATE_NAME,
                    E,
                    f"{kind} {name}",
                    f"Two {kind}s are called '{name}'.",
                    f"Rename one {kind}.",
                )
            seen.add(name)
    # XLSForm has one namespace: a page may share its name only with its single item,
    # a section only with its single page.
    for section in inst.sections:
        for page in section.pages:
            own = len(page.items) == 1 and page.items[0].name == page.name
            if page.name in seen_items and not own:
                yield _issue(
                    IssueCode.DUPLICATE_NAME,
                    E,
                    f"page {page.name}",
                    f"The page '{page.name}' has the name of an item.",
                    "Rename the page (e.g. add '_page').",
                )
        own = len(section.pages) == 1 and section.pages[0].name == section.name
        page_names = {p.name for p in inst.pages}
        if not own and (section.name in seen_items or section.name in page_names):
            yield _issue(
                IssueCode.DUPLICATE_NAME,
                E,
                f"section {section.name}",
                f"The section '{section.name}' has the name of a page or item.",
                "Rename the section.",
            )


def _check_choices(inst: Instrument) -> Iterator[Issue]:
    for list_name, choices in inst.choice_lists.items():
        if not choices:
            yield _issue(
                IssueCode.EMPTY_CHOICE_LIST,
                E,
                f"choice list {list_name}",
                f"The choice list '{list_name}' has no choices.",
                "Add choices or remove the list.",
            )
        seen: set[str] = set()
        for choice in choices:
            loc = f"choice list {list_name}, choice {choice.name}"
            if choice.name in RESERVED_CODES:
                yield _issue(
                    IssueCode.RESERVED_CHOICE_NAME,
                    E,
                    loc,
                    f"'{choice.name}' is reserved for \"I'd rather not say\" / \"I don't know\".",
                    "Remove the choice: the engine adds these options itself.",
                )
            if choice.name in seen:
                yield _issue(
                    IssueCode.DUPLICATE_CHOICE,
                    E,
                    loc,
                    f"The choice name '{choice.name}' appears twice in '{list_name}'.",
                    "Give each choice in a list its own name.",
                )
            seen.add(choice.name)
            if choice.media.image:
                for lang in choice.label:
                    if lang not in choice.alt:
                        yield _issue(
                            IssueCode.CHANNEL_PICTOGRAM,
                            W,
                            loc,
                            f"The picture has no alt text in '{lang}'.",
                            "Add alt text describing the picture (D-09).",
                            True,
                        )
        if list_name.startswith("channel"):
            for choice in choices:
                if not choice.media.image:
                    yield _issue(
                        IssueCode.CHANNEL_PICTOGRAM,
                        W,
                        f"choice list {list_name}, choice {choice.name}",
                        "A reporting-channel option has no pictogram.",
                        "Add an image (SVG pictogram) with alt text (D-09).",
                        True,
                    )
    for item in inst.items:
        lists = []
        if item.type.has_choices:
            if item.choices is None:
                yield _issue(
                    IssueCode.MISSING_CHOICE_LIST,
                    E,
                    _loc(item, "choices"),
                    f"A {item.type.value} item needs a choice list.",
                    "Name a list from the choices sheet.",
                )
            else:
                lists.append(item.choices)
        elif item.choices is not None:
            lists.append(item.choices)
        lists += list(item.band_choices.values())
        if item.type is ItemType.MATRIX:
            if item.rows is None:
                yield _issue(
                    IssueCode.MISSING_CHOICE_LIST,
                    E,
                    _loc(item, "rows"),
                    "A matrix item needs a list of rows.",
                    "Set 'rows' to a list name.",
                )
            else:
                lists.append(item.rows)
        for name in lists:
            if name not in inst.choice_lists:
                yield _issue(
                    IssueCode.MISSING_CHOICE_LIST,
                    E,
                    _loc(item, "choices"),
                    f"The choice list '{name}' does not exist.",
                    f"Add '{name}' to the choices or fix the spelling.",
                )
        if item.max_choices is not None:
            if item.type not in (ItemType.SELECT_MULTIPLE, ItemType.RANK):
                yield _issue(
                    IssueCode.MAX_CHOICES_INVALID,
                    E,
                    _loc(item, "max_choices"),
                    f"max_choices only applies to select_multiple, not {item.type}.",
                    "Remove max_choices.",
                )
            elif (
                item.choices is not None
                and item.choices in inst.choice_lists
                and item.max_choices > len(inst.choice_lists[item.choices])
            ):
                yield _issue(
                    IssueCode.MAX_CHOICES_INVALID,
                    E,
                    _loc(item, "max_choices"),
                    f"max_choices {item.max_choices} is more than the number of choices.",
                    "Lower max_choices.",
                )
        if item.type is ItemType.RANGE:
            yield from _check_range(item)


def _check_range(item: Item) -> Iterator[Issue]:
    params = item.parameters
    try:
        start = float(params.get("start", 0))
        end = float(params.get("end", 10))
        step = float(params.get("step", 1))
    except ValueError:
        yield _issue(
            IssueCode.RANGE_INVALID,
            E,
            _loc(item, "parameters"),
            "start, end and step must be numbers.",
            "Write e.g. start=1 end=5 step=1.",
        )
        return
    if step <= 0 or start >= end or (end - start) / step > 1000:
        yield _issue(
            IssueCode.RANGE_INVALID,
            E,
            _loc(item, "parameters"),
            f"The range {start}..{end} step {step} is not usable.",
            "Use start < end and a positive step (at most 1000 steps).",
        )


def _check_bands(inst: Instrument) -> Iterator[Issue]:
    bands = inst.settings.bands
    codes = inst.settings.band_codes
    for prev, band in zip(bands, bands[1:], strict=False):
        if band.min_age != prev.max_age + 1:
            yield _issue(
                IssueCode.BAND_ORDER,
                E,
                f"settings, band {band.code}",
                f"Band {band.code} does not follow band {prev.code} without gap or overlap.",
                "Make the bands contiguous, youngest first.",
            )
    for band in bands:
        if band.min_age > band.max_age:
            yield _issue(
                IssueCode.BAND_ORDER,
                E,
                f"settings, band {band.code}",
                f"Band {band.code} has min_age above max_age.",
                "Swap the ages.",
            )
    for key in inst.settings.time_budget:
        if key not in codes:
            yield _issue(
                IssueCode.INVALID_BAND,
                E,
                "settings, time_budget",
                f"Unknown band '{key}' in the time budget.",
                f"Use one of {codes}.",
            )
    for item in inst.items:
        used = [("min_band", item.min_band), ("max_band", item.max_band)]
        used += [("label_bands", b) for b in item.label_bands]
        used += [("hint_bands", b) for b in item.hint_bands]
        used += [("band_choices", b) for b in item.band_choices]
        bad = False
        for field, code in used:
            if code is not None and code not in codes:
                bad = True
                yield _issue(
                    IssueCode.INVALID_BAND,
                    E,
                    _loc(item, field),
                    f"Unknown age band '{code}'.",
                    f"Use one of {', '.join(codes)}.",
                )
        if not bad and item.min_band and item.max_band and (codes.index(item.min_band) > codes.index(item.max_band)):
            yield _issue(
                IssueCode.BAND_ORDER,
                E,
                _loc(item, "min_band"),
                f"min_band {item.min_band} is above max_band {item.max_band}.",
                "Swap them.",
            )


def _check_languages(inst: Instrument) -> Iterator[Issue]:
    declared = set(inst.language_codes)
    if inst.settings.default_language not in declared:
        yield _issue(
            IssueCode.LANGUAGE_UNKNOWN,
            E,
            "settings, default_language",
            f"The default language '{inst.settings.default_language}' is not declared.",
            "Add it to languages or change default_language.",
        )
    unknown: dict[str, list[str]] = {}
    for where, text in child_facing_texts(inst):
        for lang in text:
            if lang not in declared:
                unknown.setdefault(lang, []).append(where)
    for lang, places in unknown.items():
        yield _issue(
            IssueCode.LANGUAGE_UNKNOWN,
            E,
            places[0],
            f"Text in undeclared language '{lang}' ({len(places)} places: {_few(places)}).",
            f"Declare '{lang}' in languages or remove the text.",
        )
    if not inst.approved_languages:
        yield _issue(
            IssueCode.NO_APPROVED_LANGUAGE,
            W,
            "languages",
            "No language is approved yet, so no consultation can launch.",
            "Approve a language after review and piloting (D-07).",
            True,
        )


def _few(places: Sequence[str], n: int = 5) -> str:
    shown = "; ".join(places[:n])
    return shown + (f"; and {len(places) - n} more" if len(places) > n else "")


def child_facing_texts(inst: Instrument) -> Iterator[tuple[str, Text]]:
    """Every child-facing text, with its location (titles, notices, labels, hints, band
    variants, constraint messages, choices and their alt texts).

    Examples
    --------
    >>> from instruments import load_bundled
    >>> dict(child_facing_texts(load_bundled()))["item EV5_help, label"]["en"][:26]
    'Thank you for telling us. '
    """
    yield "title", inst.title
    for section in inst.sections:
        yield f"section {section.name}, title", section.title
        yield f"section {section.name}, notice", section.notice
        for page in section.pages:
            if page.title:
                yield f"page {page.name}, title", page.title
            for item in page.items:
                for field, text in item.texts():
                    yield _loc(item, field), text
    for list_name, choices in inst.choice_lists.items():
        for choice in choices:
            yield f"choice list {list_name}, choice {choice.name}", choice.label
            if choice.alt:
                yield f"choice list {list_name}, choice {choice.name}, alt", choice.alt


def _check_labels(inst: Instrument) -> Iterator[Issue]:
    default = inst.settings.default_language
    for item in inst.items:
        if item.type is ItemType.CALCULATE:
            continue
        if not item.label_for(default, None, default) and not item.label_bands:
            yield _issue(
                IssueCode.MISSING_LABEL,
                E,
                _loc(item, "label"),
                f"The item has no label in the default language '{default}'.",
                f"Add a label::{default} text.",
            )


def _check_expressions(inst: Instrument) -> Iterator[Issue]:
    names = {i.name for i in inst.items}
    names |= set(inst.answer_names())
    order = {name: index for index, name in enumerate(i.name for i in inst.items)}
    graph: dict[str, set[str]] = {}

    def run(
        text: str | None, where: str, *, allow_self: bool = False, allow_bare: bool = False, owner: Item | None = None
    ) -> Iterator[Issue]:
        if text is None or not str(text).strip():
            return
        problems = expressions.check(text, names, allow_self=allow_self, allow_bare=allow_bare)
        for problem in problems:
            code = (
                IssueCode.UNKNOWN_REFERENCE if problem.startswith("unknown reference") else IssueCode.EXPRESSION_SYNTAX
            )
            fix = (
                "Check the spelling of the name, or add the item."
                if code is IssueCode.UNKNOWN_REFERENCE
                else "Correct the expression."
            )
            yield _issue(code, E, where, f"{problem} in {text!r}.", fix)
        if problems:
            return
        parsed = expressions.parse(text)
        yield from _check_lookups(inst, parsed, where)
        refs = parsed.references
        if owner is not None:
            graph.setdefault(owner.name, set()).update(r for r in refs if r in order)

    for section in inst.sections:
        yield from run(section.relevance, f"section {section.name}, relevance")
        for page in section.pages:
            yield from run(page.relevance, f"page {page.name}, relevance")
    for item in inst.items:
        yield from run(item.relevance, _loc(item, "relevance"), owner=item)
        yield from run(item.constraint, _loc(item, "constraint"), allow_self=True)
        yield from run(item.choice_filter, _loc(item, "choice_filter"), allow_bare=True, owner=item)
        yield from _check_filter_columns(inst, item)
        yield from run(item.calculation, _loc(item, "calculation"), owner=item)
        if item.relevance:
            try:
                refs = expressions.parse(item.relevance).references
            except expressions.ExpressionError:
                refs = frozenset()
            later = sorted(r for r in refs if order.get(r, -1) > order[item.name])
            if later:
                yield _issue(
                    IssueCode.FORWARD_REFERENCE,
                    W,
                    _loc(item, "relevance"),
                    f"The relevance depends on later item(s) {', '.join(later)}.",
                    "Move the item after the items it depends on.",
                )
    yield from _cycles(graph)


def _check_lookups(inst: Instrument, parsed: expressions.Expression, where: str) -> Iterator[Issue]:
    """``instance('list')/root/item[...]/column`` reads a list of the choices sheet and its columns."""
    for list_name in sorted({name for name, _ in parsed.lookups}):
        choices = inst.choice_lists.get(list_name)
        if choices is None:
            yield _issue(
                IssueCode.MISSING_CHOICE_LIST,
                E,
                where,
                f"instance('{list_name}') reads the list '{list_name}', which is not on the choices sheet "
                "(Sauti takes no files attached to a form, such as xml-external or csv-external).",
                f"Write the list '{list_name}' on the choices sheet, or fix the name.",
            )
            continue
        columns = {"name", "label"} | {column for choice in choices for column in choice.extra}
        for column in sorted(c for name, c in parsed.lookups if name == list_name and c not in columns):
            yield _issue(
                IssueCode.UNKNOWN_REFERENCE,
                E,
                where,
                f"instance('{list_name}') reads the column '{column}', which the list '{list_name}' does not "
                f"have (known: {', '.join(sorted(columns))}).",
                f"Add a '{column}' column to the choices sheet or fix the expression.",
            )


def _check_repeats(inst: Instrument) -> Iterator[Issue]:
    """Repeats: known names, their pages together, one level of nesting, a usable count."""
    from instruments.model import MAX_REPEAT_DEPTH

    known = {r.name for r in inst.repeats}
    item_names = {i.name for i in inst.items}
    for repeat in inst.repeats:
        where = f"repeat {repeat.name}"
        if repeat.name in item_names:
            yield _issue(
                IssueCode.DUPLICATE_NAME,
                E,
                where,
                f"The repeat '{repeat.name}' has the name of an item.",
                "Rename the repeat.",
            )
        if repeat.parent is not None and repeat.parent not in known:
            yield _issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                where,
                f"The repeat sits in '{repeat.parent}', which is not a repeat.",
                "Name an existing repeat as its parent.",
            )
        elif repeat.depth_in(inst.repeats) > MAX_REPEAT_DEPTH:
            yield _issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                where,
                "A repeat sits inside a repeat inside another repeat; Sauti takes one "
                "repeat inside another, no deeper.",
                "Move the innermost repeat out, or ask its questions once.",
            )
        if repeat.count is not None and not repeat.count.isdigit():
            problems = expressions.check(repeat.count, item_names | set(inst.answer_names()))
            for problem in problems:
                yield _issue(
                    IssueCode.EXPRESSION_SYNTAX,
                    E,
                    f"{where}, count",
                    f"{problem} in {repeat.count!r}.",
                    "Correct the expression.",
                )
        if not any(
            page.repeat in known and repeat.name in (r.name for r in inst.repeat_chain(page.repeat))
            for page in inst.pages
        ):
            yield _issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                where,
                "The repeat asks no question.",
                "Add items to the repeat, or remove it.",
            )
    chains: list[tuple[str, ...]] = []
    for page in inst.pages:
        if page.repeat is not None and page.repeat not in known:
            yield _issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                f"page {page.name}",
                f"The page belongs to '{page.repeat}', which is not a repeat.",
                "Declare the repeat, or take the page out of it.",
            )
            chains.append(())
            continue
        chains.append(tuple(r.name for r in inst.repeat_chain(page.repeat)))
    for repeat in inst.repeats:
        places = [i for i, chain in enumerate(chains) if repeat.name in chain]
        if places and places[-1] - places[0] + 1 != len(places):
            yield _issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                f"repeat {repeat.name}",
                f"The pages of the repeat '{repeat.name}' are not together.",
                "Keep every page of a repeat next to one another.",
            )


def _check_filter_columns(inst: Instrument, item: Item) -> Iterator[Issue]:
    """Bare names in a choice filter must be columns of the item's choices."""
    if not item.choice_filter:
        return
    try:
        bare = expressions.parse(item.choice_filter).bare_names
    except expressions.ExpressionError:
        return
    columns = {"name"}
    for list_name in {name for name in (item.choices, *item.band_choices.values()) if name is not None}:
        for choice in inst.choice_lists.get(list_name, ()):
            columns |= set(choice.extra)
    for name in sorted(bare - columns):
        yield _issue(
            IssueCode.UNKNOWN_REFERENCE,
            E,
            _loc(item, "choice_filter"),
            f"The choice filter reads '{name}', which is not a column of the choices "
            f"(known: {', '.join(sorted(columns))}).",
            f"Add a '{name}' column to the choices sheet or fix the filter.",
        )


def _cycles(graph: dict[str, set[str]]) -> Iterator[Issue]:
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if state.get(child) == 1:
                    cycle = path[path.index(child) :]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        yield _issue(
                            IssueCode.REFERENCE_CYCLE,
                            E,
                            f"item {child}",
                            f"Circular reference: {' -> '.join([*cycle, child])}.",
                            "Break the cycle: an item cannot depend on itself.",
                        )
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
            if not advanced:
                state[node] = 2
                stack.pop()
                path.pop()


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


def _check_translations(inst: Instrument, launch: Iterable[str]) -> Iterator[Issue]:
    default = inst.settings.default_language
    texts = [(where, t) for where, t in child_facing_texts(inst) if default in t]
    for lang in inst.languages:
        if lang.code == default:
            continue
        missing = [where for where, t in texts if lang.code not in t]
        if missing:
            severity = E if lang.approved else W
            yield _issue(
                IssueCode.MISSING_TRANSLATION,
                severity,
                f"language {lang.code}",
                f"{len(missing)} text(s) have no '{lang.code}' translation: {_few(missing)}.",
                f"Translate them, or keep '{lang.code}' below approved.",
                True,
            )
    if any(i.type is ItemType.TEXT for i in inst.items):
        for lang in inst.languages:
            if lang.code not in NO_NAMES_NOTICE:
                yield _issue(
                    IssueCode.TEXT_NAMES_NOTICE,
                    W,
                    f"language {lang.code}",
                    'The "please don\'t write names" notice has no translation in '
                    f"'{lang.code}'; open-text items will show it in English.",
                    "Add the translation to instruments.model.NO_NAMES_NOTICE.",
                    True,
                )
    for code in launch:
        try:
            lang = inst.language(code)
        except KeyError:
            yield _issue(
                IssueCode.LANGUAGE_UNKNOWN,
                E,
                f"language {code}",
                f"The instrument has no language '{code}'.",
                "Pick a declared language.",
            )
            continue
        if lang.status is not LanguageStatus.APPROVED:
            yield _issue(
                IssueCode.LANGUAGE_NOT_APPROVED,
                E,
                f"language {code}",
                f"'{code}' is {lang.status.value}, not approved; it cannot launch (D-07).",
                "Finish back-translation and piloting, then approve it.",
                True,
            )


def _check_design(inst: Instrument, research_mode: bool | None) -> Iterator[Issue]:
    codes = inst.settings.band_codes
    research = bool(research_mode)
    # D-01 band variants
    for item in inst.items:
        if item.shared or not item.type.answerable and item.type is not ItemType.NOTE:
            continue
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            variant = item.label_bands.get(band)
            langs = [lang for lang in item.label if variant is None or lang not in variant]
            if langs:
                yield _issue(
                    IssueCode.MISSING_BAND_VARIANT,
                    W,
                    _loc(item, f"label[{band}]"),
                    f"The item is not shared across bands but has no band-{band} wording in {', '.join(langs)} (D-01).",
                    "Add the band variant, or mark the item shared.",
                    True,
                )
    # D-04 audio
    for lang in inst.approved_languages:
        missing = [
            i.name
            for i in inst.items
            if (i.type.answerable or i.type is ItemType.NOTE) and lang.code not in i.media.audio
        ]
        if missing:
            tts = inst.settings.audio_fallback == "tts"
            yield _issue(
                IssueCode.MISSING_AUDIO,
                W,
                f"language {lang.code}",
                f"{len(missing)} item(s) have no recorded audio in '{lang.code}'"
                + (" (text-to-speech reads them)" if tts else "")
                + f": {_few(missing)}.",
                "Record audio for each item and option (D-04).",
                not tts,
            )
    # D-05 time budget
    for band in codes:
        budget = inst.settings.time_budget.get(band)
        if budget is None:
            continue
        minutes = estimate_minutes(inst, band, research)
        if minutes > budget:
            yield _issue(
                IssueCode.OVER_TIME_BUDGET,
                W,
                f"band {band}",
                f"Estimated {minutes:.1f} minutes; the budget is {budget} (D-05).",
                "Remove or shorten items for this band, or record an override reason.",
                True,
            )
    # D-03 scales
    for item in inst.items:
        if item.type not in (ItemType.LIKERT, ItemType.MATRIX):
            continue
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            choices = inst.choices_for(item, band)
            want = 3 if band == codes[0] else 5
            ok_sizes = (3,) if band == codes[0] else (4, 5)
            if choices and len(choices) not in ok_sizes:
                yield _issue(
                    IssueCode.LIKERT_SCALE,
                    W,
                    _loc(item, f"scale[{band}]"),
                    f"Band {band} sees a {len(choices)}-point scale; use {want} points (D-03).",
                    "Add a band_choices entry with the right scale.",
                )
            if band == codes[0] and choices and not all(c.media.image for c in choices):
                yield _issue(
                    IssueCode.LIKERT_SCALE,
                    W,
                    _loc(item, f"scale[{band}]"),
                    "The youngest band's scale should show faces with the text.",
                    "Use a 3-point list whose choices have face images.",
                )
    # a pre-filled answer is one the child did not give
    for item in inst.items:
        if item.default not in (None, "") and item.type.answerable:
            yield _issue(
                IssueCode.DEFAULT_ANSWER,
                W,
                _loc(item, "default"),
                "A default pre-fills an answer the child did not choose; Sauti "
                "stores only answers children give (S-04).",
                "Remove the default.",
            )
    # D-02 wording (English only)
    if "en" in inst.language_codes:
        yield from _check_wording(inst)


def _check_wording(inst: Instrument) -> Iterator[Issue]:
    codes = inst.settings.band_codes
    for item in inst.items:
        if not (item.type.answerable or item.type is ItemType.NOTE):
            continue
        over: list[str] = []
        jargon_bands: dict[str, set[str]] = {}
        for band in codes:
            if not item.shown_to(band, inst.settings.bands):
                continue
            text = item.label_for("en", band)
            if not text:
                continue
            target = READING_TARGETS.get(band)
            if target is not None:
                grade = grade_level(text)
                if grade > target:
                    over.append(f"{band} (grade {grade:.1f} > {target:g})")
            if band in codes[:2]:
                found = {w.lower() for w in _WORD_RE.findall(text)} & JARGON_WORDS
                if found:
                    jargon_bands[band] = found
        if over:
            yield _issue(
                IssueCode.READING_LEVEL,
                W,
                _loc(item, "label"),
                f"Reading level above target for band(s) {', '.join(over)} (D-02).",
                "Use shorter words and sentences, or add a band variant.",
            )
        for band, words in jargon_bands.items():
            yield _issue(
                IssueCode.JARGON,
                W,
                _loc(item, f"label[{band}]"),
                f"Band {band} wording uses jargon: {', '.join(sorted(words))}.",
                "Use everyday words (for example 'tell' instead of 'disclose').",
            )
        label = item.label_for("en")
        negation = _NEGATION_RE.search(label) if label else None
        if negation:
            yield _issue(
                IssueCode.NEGATION,
                W,
                _loc(item, "label"),
                f"The question uses a negation ({negation.group()}).",
                "Ask it the positive way if you can; avoid double negatives.",
            )
        if label and _DOUBLE_BARREL_RE.search(label):
            yield _issue(
                IssueCode.DOUBLE_BARRELLED,
                W,
                _loc(item, "label"),
                "The question may ask two things at once.",
                "Split it into two items.",
            )


def validate(
    instrument: Instrument,
    *,
    launch_languages: Iterable[str] = (),
    research_mode: bool | None = None,
    ethics_reference: str | None = None,
    lint: bool = True,
) -> Report:
    """Validate and lint an instrument.

    Parameters
    ----------
    instrument : Instrument
        What to check.
    launch_languages : iterable of str
        Languages a consultation wants to launch in; any that is not
        approved gives ``LANGUAGE_NOT_APPROVED`` (D-07).
    research_mode, ethics_reference
        The consultation's mode and ethics reference; default to the
        instrument settings (S-08).
    lint : bool
        Also run the authoring lint (translations, band variants, audio,
        time budget, scales, wording). Structural and safeguarding checks
        always run; the lint is skipped while structural errors remain.

    Returns
    -------
    Report
        Issues in a stable order: structure, safeguarding, then lint.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> codes = validate(load_bundled(), launch_languages=["fr"]).codes()
    >>> IssueCode.LANGUAGE_NOT_APPROVED in codes
    True
    """
    issues: list[Issue] = []
    issues += _check_names(instrument)
    issues += _check_choices(instrument)
    issues += _check_bands(instrument)
    issues += _check_languages(instrument)
    issues += _check_labels(instrument)
    issues += _check_expressions(instrument)
    issues += _check_repeats(instrument)
    issues += _check_safeguarding(instrument, research_mode, ethics_reference)
    issues += _check_kept_age(instrument, research_mode, ethics_reference)
    issues += _check_child_texts(instrument)
    launch = tuple(launch_languages)
    broken = any(i.code in STRUCTURAL_CODES for i in issues if i.severity is Severity.ERROR)
    if lint and not broken:
        issues += _check_translations(instrument, launch)
        issues += _check_design(instrument, research_mode)
    elif launch:
        issues += [
            i
            for i in _check_translations(instrument, launch)
            if i.code in (IssueCode.LANGUAGE_NOT_APPROVED, IssueCode.LANGUAGE_UNKNOWN)
        ]
    return Report(tuple(issues))


def approve_language(
    instrument: Instrument,
    code: str,
    *,
    research_mode: bool | None = None,
    ethics_reference: str | None = None,
) -> Instrument:
    """Return the instrument with ``code`` approved, if nothing blocks it (D-07).

    Raises
    ------
    InstrumentError
        Carrying the approval blockers (errors, missing translations, band
        variants, audio without a text-to-speech fallback, time budget ...)
        as they would stand once the language is approved.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> approved = approve_language(load_bundled(), "en")
    >>> approved.language("en").approved
    True
    """
    from instruments.errors import InstrumentError

    candidate = instrument.with_language_status(code, LanguageStatus.APPROVED)
    report = validate(
        candidate, launch_languages=[code], research_mode=research_mode, ethics_reference=ethics_reference
    )
    blockers = [
        i
        for i in report.approval_blockers
        if i.severity is Severity.ERROR or not i.location.startswith("language ") or i.location == f"language {code}"
    ]
    if blockers:
        raise InstrumentError(blockers)
    return candidate

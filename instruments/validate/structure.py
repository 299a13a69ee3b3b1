"""Structural checks: names, choice lists, ranges, bands, languages."""

from __future__ import annotations

from collections.abc import Iterator

from instruments.attachments import parse_spec
from instruments.errors import Issue, IssueCode
from instruments.model import (
    RESERVED_CODES,
    Instrument,
    Item,
    ItemType,
    matrix_key,
)
from instruments.validate.common import _NAME_RE, E, W, _few, _issue, _loc, child_facing_texts


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------
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
        if not choices and list_name not in inst.settings.attachments:  # else it waits for its file
            yield _issue(
                IssueCode.EMPTY_CHOICE_LIST,
                E,
                f"choice list {list_name}",
                f"The choice list '{list_name}' has no choices.",
                "Add choices or remove the list.",
            )
        if list_name in inst.settings.attachments and parse_spec(inst.settings.attachments[list_name]).lookup:
            continue  # a look-up file's rows, read by any column: its names may repeat
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
            elif item.answers_as_choices is not None:
                yield from _check_answers_as_choices(inst, item, item.answers_as_choices)
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
                and item.choices not in inst.settings.attachments
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


def _check_answers_as_choices(inst: Instrument, item: Item, source: str) -> Iterator[Issue]:
    """``select_one ${name}``: ``name`` is a question asked in a repeat, outside this select's
    own instance (the child's earlier answers, one choice per instance)."""
    asked = {i.name: r.name for r in inst.repeats for i in inst.repeat_items(r.name)}
    if source not in asked:
        yield _issue(
            IssueCode.MISSING_CHOICE_LIST,
            E,
            _loc(item, "choices"),
            f"The choices come from ${{{source}}}, which is not a question asked in a repeat.",
            "Name a question asked in a repeat (begin repeat), or a list from the choices sheet.",
        )
    elif asked.get(item.name) == asked[source]:
        yield _issue(
            IssueCode.MISSING_CHOICE_LIST,
            E,
            _loc(item, "choices"),
            f"The choices come from ${{{source}}}, asked in the same repeat as this question.",
            "Ask this question after the repeat (end repeat), or in another repeat.",
        )


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

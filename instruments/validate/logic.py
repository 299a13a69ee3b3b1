"""Checks of labels and of the logic: expressions, look-ups, choice-filter columns, repeats,
reference cycles."""

from __future__ import annotations

from collections.abc import Iterator

from instruments import expressions
from instruments.errors import Issue, IssueCode
from instruments.model import (
    Instrument,
    Item,
    ItemType,
)
from instruments.validate.common import E, W, _issue, _loc


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
                f"instance('{list_name}') reads the list '{list_name}', which is neither on the choices sheet "
                "nor a file attached to the form.",
                f"Write the list '{list_name}' on the choices sheet, add an xml-external or csv-external row "
                f"named '{list_name}' for an attached file, or fix the name.",
            )
            continue
        if list_name in inst.settings.attachments and not choices:
            continue  # the list waits for its file: its columns are known once it is uploaded
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
        if list_name in inst.settings.attachments:
            return  # the file's columns: checked when it is uploaded (instruments.attachments.fill)
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

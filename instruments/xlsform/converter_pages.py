"""Converting pyxform groups and repeats to sections, pages and repeats."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from instruments.errors import Issue, IssueCode
from instruments.model import (
    DEFAULT_MAX_REPEATS,
    MAX_REPEAT_DEPTH,
    MAX_REPEATS,
    Item,
    Page,
    Repeat,
    Section,
    Text,
)

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import W, _and, _truthy
from instruments.xlsform.converter_items import _ItemConverter


class _PageConverter(_ItemConverter):
    """Groups become sections and pages; repeats become :class:`~instruments.model.Repeat`."""

    # structure ---------------------------------------------------------------
    def _flatten(self, children: Iterable[Mapping[str, Any]], relevance: str | None) -> list[Item]:
        items: list[Item] = []
        for child in children:
            if str(child.get("name", "")).startswith("reserved_name_for_field_list_labels_"):
                continue  # pyxform's table-list header row
            if child.get("type") == "repeat":
                self.error(
                    IssueCode.REPEAT_UNSUPPORTED,
                    str(child.get("name")),
                    "type",
                    "A repeat sits inside a group shown as one page (field-list); a page cannot hold a repeat.",
                    "Move the begin repeat/end repeat rows out of the field-list group, "
                    "or remove the group's field-list appearance.",
                )
                continue
            if child.get("type") == "group":
                if child.get("label"):
                    self.warnings.append(
                        Issue(
                            IssueCode.UNSUPPORTED_COLUMN,
                            W,
                            self.where(str(child["name"]), "label"),
                            "A group nested inside a page was flattened; its label is not shown.",
                            "Move the label to a note item.",
                        )
                    )
                inner = (child.get("bind") or {}).get("relevant")
                items += self._flatten(child.get("children", []), _and(relevance, inner))
                continue
            item = self.item(child)
            if item is not None:
                if relevance:
                    item = replace(item, relevance=_and(relevance, item.relevance))
                items.append(item)
        return items

    def _pages(
        self, children: Iterable[Mapping[str, Any]], relevance: str | None, repeat: str | None = None
    ) -> list[Page]:
        pages: list[Page] = []
        for child in children:
            name = str(child.get("name"))
            if name in self.generated_counts:
                continue  # pyxform's calculate holding a repeat's fixed count
            if child.get("type") == "repeat":
                pages += self._repeat(child, relevance, repeat)
                continue
            if child.get("type") == "group":
                matrix = self.matrix(child)
                group_rel = (child.get("bind") or {}).get("relevant")
                appearance = str((child.get("control") or {}).get("appearance") or "").split()
                if matrix is not None:
                    pages.append(Page(name, (matrix,), relevance=relevance, repeat=repeat))
                elif "field-list" in appearance or "table-list" in appearance:
                    items = self._flatten(child.get("children", []), None)
                    if items:
                        pages.append(
                            Page(name, tuple(items), self.text(child.get("label")), _and(relevance, group_rel), repeat)
                        )
                else:
                    if child.get("label"):
                        self.warnings.append(
                            Issue(
                                IssueCode.UNSUPPORTED_COLUMN,
                                W,
                                self.where(name, "label"),
                                "A group nested inside a section was merged into the section; its label is not shown.",
                                "Move the label to a note item.",
                            )
                        )
                    pages += self._pages(child.get("children", []), _and(relevance, group_rel), repeat)
                continue
            item = self.item(child)
            if item is not None:
                if relevance:
                    item = replace(item, relevance=_and(relevance, item.relevance))
                pages.append(Page(item.name, (item,), repeat=repeat))
        return pages

    def _repeat(self, node: Mapping[str, Any], relevance: str | None, parent: str | None) -> list[Page]:
        """A ``begin repeat`` group: its pages carry the repeat's name (one level of nesting)."""
        name = str(node.get("name"))
        chain = [r for r in self.repeats if r.name == parent]
        depth = 1 + (chain[0].depth_in(self.repeats) if chain else 0)
        if depth > MAX_REPEAT_DEPTH:
            self.error(
                IssueCode.REPEAT_UNSUPPORTED,
                name,
                "type",
                f"The repeat '{name}' sits inside the repeat '{parent}', which is itself "
                "inside a repeat; Sauti takes one repeat inside another, no deeper.",
                f"Move the rows of '{name}' out of '{parent}' (end repeat before its "
                "begin repeat), or ask its questions once, without begin repeat.",
            )
            return []
        count = self.repeat_counts.get(name, (node.get("control") or {}).get("jr:count"))
        maximum = DEFAULT_MAX_REPEATS
        raw_max = node.get("max_repeats")
        if raw_max not in (None, ""):
            try:
                maximum = int(str(raw_max).strip())
                if not 1 <= maximum <= MAX_REPEATS:
                    raise ValueError
            except ValueError:
                self.error(
                    IssueCode.REPEAT_UNSUPPORTED,
                    name,
                    "max_repeats",
                    f"'{raw_max}' is not a number of times from 1 to {MAX_REPEATS}.",
                    "Write e.g. 5.",
                )
        if count is not None and str(count).strip().isdigit() and int(count) > MAX_REPEATS:
            self.error(
                IssueCode.REPEAT_UNSUPPORTED,
                name,
                "repeat_count",
                f"The repeat is asked {count} times; the most is {MAX_REPEATS}.",
                f"Write a repeat_count of at most {MAX_REPEATS}.",
            )
        repeat = Repeat(
            name, self.text(node.get("label")), None if count in (None, "") else str(count), maximum, parent
        )
        self.repeats.append(repeat)
        group_rel = (node.get("bind") or {}).get("relevant")
        appearance = str((node.get("control") or {}).get("appearance") or "").split()
        if "field-list" in appearance:
            items = self._flatten(node.get("children", []), None)
            pages = [Page(name, tuple(items), Text(), _and(relevance, group_rel), name)] if items else []
        else:
            pages = self._pages(node.get("children", []), _and(relevance, group_rel), name)
        if not pages:
            self.repeats.remove(repeat)
            self.warnings.append(
                Issue(
                    IssueCode.UNSUPPORTED_TYPE,
                    W,
                    self.where(name, "type"),
                    "The repeat asks no question (it holds no row Sauti shows); it was left out.",
                    "Add questions to the repeat, or remove its begin repeat and end repeat rows.",
                )
            )
        return pages

    def sections(self) -> tuple[Section, ...]:
        sections: list[Section] = []
        loose: list[Page] = []
        used = {str(c.get("name")) for c in self.form.get("children", [])}

        def flush() -> None:
            if loose:
                name = "main"
                n = 1
                while name in used:
                    n += 1
                    name = f"main_{n}"
                used.add(name)
                sections.append(Section(name, tuple(loose), grouped=False))
                loose.clear()

        for child in self.form.get("children", []):
            control = child.get("control") or {}
            if child.get("type") == "group" and control.get("bodyless"):
                continue  # pyxform's meta group
            if _truthy(child.get("sauti_context", "")):
                continue  # placeholder for an engine context value such as ${_setting}
            if child.get("type") == "repeat":
                flush()
                relevance = (child.get("bind") or {}).get("relevant")
                pages = self._repeat(
                    dict(child, bind={k: v for k, v in (child.get("bind") or {}).items() if k != "relevant"}),
                    None,
                    None,
                )
                sections.append(
                    Section(
                        str(child["name"]),
                        tuple(pages),
                        self.text(child.get("label")),
                        self.text(child.get("notice")),
                        _truthy(child.get("skippable", "")),
                        relevance,
                    )
                )
                continue
            if child.get("type") != "group":
                loose.extend(self._pages([child], None))
                continue
            flush()
            name = str(child["name"])
            appearance = str(control.get("appearance") or "").split()
            relevance = (child.get("bind") or {}).get("relevant")
            common: dict[str, Any] = {
                "title": self.text(child.get("label")),
                "notice": self.text(child.get("notice")),
                "skippable": _truthy(child.get("skippable", "")),
                "relevance": relevance,
            }
            matrix = self.matrix(child)
            if matrix is not None:
                common["title"] = Text()
                sections.append(Section(name, (Page(name, (replace(matrix, relevance=None),)),), **common))
            elif "field-list" in appearance or "table-list" in appearance:
                items = tuple(self._flatten(child.get("children", []), None))
                sections.append(Section(name, (Page(name, items, common["title"]),), **common))
            else:
                sections.append(Section(name, tuple(self._pages(child.get("children", []), None)), **common))
        flush()
        return tuple(s for s in sections if s.pages)

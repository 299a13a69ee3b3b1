"""Writing an instrument as an XLSForm (.xlsx with openpyxl) that pyxform converts to an XForm."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

from instruments.model import (
    DEFAULT_MAX_REPEATS,
    Instrument,
    Item,
    ItemType,
    Page,
    Repeat,
    Section,
    Text,
    matrix_key,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

from instruments.attachments import parse_spec
from instruments.xlsform.common import _and


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------
def _lang_header(inst: Instrument, code: str) -> str:
    try:
        name = inst.language(code).name or code
    except KeyError:
        name = code
    return f"{name} ({code})"


def _pairs(mapping: Mapping[str, object]) -> str | None:
    return " ".join(f"{k}={v}" for k, v in mapping.items()) or None


class _Sheet:
    """Rows with a growing header."""

    def __init__(self, first: list[str]):
        self.header = list(first)
        self.rows: list[dict[str, Any]] = []

    def add(self, row: Mapping[str, Any]) -> None:
        clean = {k: v for k, v in row.items() if v not in (None, "", {})}
        for key in clean:
            if key not in self.header:
                self.header.append(key)
        self.rows.append(clean)

    def write(self, ws: Worksheet) -> None:
        for r, values in enumerate([self.header] + [[row.get(h) for h in self.header] for row in self.rows], start=1):
            for c, value in enumerate(values, start=1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula


def _texts(inst: Instrument, prefix: str, text: Text) -> dict[str, str]:
    return {f"{prefix}::{_lang_header(inst, code)}": value for code, value in text.items()}


def _item_row(inst: Instrument, item: Item) -> dict[str, Any]:
    attached = inst.settings.attachments.get(item.choices) if item.choices else None
    spec = parse_spec(attached) if attached else None
    parameters = dict(item.parameters)
    appearance: str | None
    if spec is not None and spec.kind == "file":
        # select_one_from_file: the choices come from the attached file
        kind = "select_multiple" if item.type is ItemType.SELECT_MULTIPLE else "select_one"
        type_text, appearance = f"{kind}_from_file {spec.file}", item.appearance
        if spec.value != "name":
            parameters["value"] = spec.value
        if spec.labels.get("", "label") != "label":
            parameters["label"] = spec.labels[""]
    elif item.type is ItemType.LIKERT:
        type_text = f"select_one {item.choices}"
        appearance = " ".join(filter(None, [item.appearance, "likert"]))
    elif item.type is ItemType.SELECT_MULTIPLE:
        type_text, appearance = f"select_multiple {item.choices}", item.appearance
    elif item.type in (ItemType.SELECT_ONE, ItemType.RANK):
        type_text, appearance = f"{item.type.value} {item.choices}", item.appearance
    else:
        type_text, appearance = item.type.value, item.appearance
    if spec is not None and spec.kind == "search":
        stem = spec.file[:-4] if spec.file.lower().endswith(".csv") else spec.file
        appearance = " ".join(filter(None, [appearance, f"search('{stem}')"]))
    row: dict[str, Any] = {"type": type_text, "name": item.name}
    row.update(_texts(inst, "label", item.label))
    row.update(_texts(inst, "hint", item.hint))
    for band, text in item.label_bands.items():
        row.update(_texts(inst, f"label_{band}", text))
    for band, text in item.hint_bands.items():
        row.update(_texts(inst, f"hint_{band}", text))
    row.update(_texts(inst, "media::audio", item.media.audio))
    row.update(_texts(inst, "media::image", item.media.image))
    constraint = item.constraint
    if item.max_choices is not None and item.type is ItemType.SELECT_MULTIPLE and not constraint:
        constraint = f"count-selected(.) <= {item.max_choices}"
    row.update(
        {
            "relevant": item.relevance,
            "constraint": constraint,
            "appearance": appearance,
            "choice_filter": item.choice_filter,
            "default": item.default,
            "calculation": item.calculation,
            "parameters": " ".join(f"{k}={v}" for k, v in parameters.items()) or None,
            "sensitivity": item.sensitivity.name if item.sensitivity else None,
            "min_band": item.min_band,
            "max_band": item.max_band,
            "research_only": "yes" if item.research_only else None,
            "max_choices": item.max_choices,
            "allow_dont_know": "yes" if item.allow_dont_know else None,
            "shared": None if item.shared else "no",
            "band_choices": _pairs(item.band_choices),
            "minutes": item.minutes,
        }
    )
    row.update(_texts(inst, "constraint_message", item.constraint_message))
    return row


def _matrix_rows(inst: Instrument, item: Item) -> list[dict[str, Any]]:
    head = _item_row(inst, item)
    group = {
        k: v
        for k, v in head.items()
        if k
        not in (
            "type",
            "constraint",
            "choice_filter",
            "default",
            "calculation",
            "parameters",
            "max_choices",
            "appearance",
        )
    }
    group.update({"type": "begin_group", "appearance": "table-list", "matrix_rows": item.rows})
    rows = [group]
    for row_choice in inst.rows_for(item):
        child: dict[str, Any] = {"type": f"select_one {item.choices}", "name": matrix_key(item.name, row_choice.name)}
        child.update(_texts(inst, "label", row_choice.label))
        if item.band_choices:
            child["band_choices"] = _pairs(item.band_choices)
        rows.append(child)
    rows.append({"type": "end_group"})
    return rows


def _page_rows(inst: Instrument, page: Page, section: Section | None) -> list[dict[str, Any]]:
    if len(page.items) == 1 and page.items[0].name == page.name and not page.title and (not page.relevance):
        item = page.items[0]
        return _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
    head: dict[str, Any] = {
        "type": "begin_group",
        "name": page.name,
        "appearance": "field-list",
        "relevant": page.relevance,
    }
    head.update(_texts(inst, "label", page.title))
    rows = [head]
    for item in page.items:
        rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
    rows.append({"type": "end_group"})
    return rows


def _repeat_head(inst: Instrument, repeat: Repeat) -> dict[str, Any]:
    row: dict[str, Any] = {
        "type": "begin_repeat",
        "name": repeat.name,
        "repeat_count": repeat.count,
        "max_repeats": None if repeat.maximum == DEFAULT_MAX_REPEATS else repeat.maximum,
    }
    row.update(_texts(inst, "label", repeat.title))
    return row


def _pages_rows(inst: Instrument, pages: Iterable[Page], section: Section) -> list[dict[str, Any]]:
    """Rows of pages in order, with begin_repeat/end_repeat where their repeats change."""
    rows: list[dict[str, Any]] = []
    current: list[str] = []
    for page in pages:
        chain = [r.name for r in inst.repeat_chain(page.repeat)]
        while current and current != chain[: len(current)]:
            rows.append({"type": "end_repeat"})
            current.pop()
        while len(current) < len(chain):
            repeat = inst.repeat(chain[len(current)])
            rows.append(_repeat_head(inst, repeat))
            current.append(repeat.name)
        if page.name == page.repeat and not page.title:
            # a repeat shown as one page (field-list): its items sit right in the repeat
            rows[-1].update({"appearance": "field-list", "relevant": page.relevance})
            for item in page.items:
                rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
            continue
        rows += _page_rows(inst, page, section)
    rows += [{"type": "end_repeat"} for _ in current]
    return rows


def _section_rows(inst: Instrument, section: Section) -> list[dict[str, Any]]:
    extra: dict[str, Any] = {"skippable": "yes" if section.skippable else None}
    extra.update(_texts(inst, "notice", section.notice))
    if any(r.name == section.name and r.parent is None for r in inst.repeats):
        # a repeat at the top of the form
        rows = _pages_rows(inst, section.pages, section)
        rows[0].update(extra)
        rows[0]["relevant"] = _and(section.relevance, rows[0].get("relevant"))
        return rows
    if not section.grouped:
        return _pages_rows(inst, section.pages, section)
    if len(section.pages) == 1 and section.pages[0].name == section.name:
        page = section.pages[0]
        if len(page.items) == 1 and page.items[0].name == page.name and (page.items[0].type is ItemType.MATRIX):
            rows = _matrix_rows(inst, page.items[0])
            rows[0].update(extra)
            rows[0]["relevant"] = section.relevance
            return rows
        head = {
            "type": "begin_group",
            "name": section.name,
            "appearance": "field-list",
            "relevant": _and(section.relevance, page.relevance),
        }
        head.update(_texts(inst, "label", page.title or section.title))
        head.update(extra)
        rows = [head]
        for item in page.items:
            rows += _matrix_rows(inst, item) if item.type is ItemType.MATRIX else [_item_row(inst, item)]
        return [*rows, {"type": "end_group"}]
    head = {"type": "begin_group", "name": section.name, "relevant": section.relevance}
    head.update(_texts(inst, "label", section.title))
    head.update(extra)
    rows = [head, *_pages_rows(inst, section.pages, section)]
    return [*rows, {"type": "end_group"}]


def _context_names(inst: Instrument) -> set[str]:
    from instruments.expressions import CONTEXT_NAMES, ExpressionError, parse

    used: set[str] = set()
    texts = [s.relevance for s in inst.sections] + [p.relevance for p in inst.pages]
    for item in inst.items:
        texts += [item.relevance, item.constraint, item.choice_filter, item.calculation]
    for text in texts:
        if text:
            try:
                used |= parse(text).references & CONTEXT_NAMES
            except ExpressionError:
                continue
    return used


def export_xlsform(instrument: Instrument, target: str | os.PathLike[str] | BinaryIO) -> None:
    """Write ``instrument`` as an XLSForm workbook (.xlsx).

    The file opens in KoboToolbox and ODK (pyxform accepts it); Sauti's own
    columns carry what XLSForm lacks (sensitivity, bands, band variants,
    notices, language status), so importing the file again gives an
    instrument equal in meaning (and, for native instruments, equal).

    Examples
    --------
    >>> import io
    >>> from instruments import import_xlsform, load_bundled
    >>> buffer = io.BytesIO()
    >>> export_xlsform(load_bundled(), buffer)
    >>> again = import_xlsform(buffer.getvalue()).instrument
    >>> again.content_hash == load_bundled().content_hash
    True
    """
    from openpyxl import Workbook

    inst = instrument
    survey = _Sheet(["type", "name"])
    for list_name, text in inst.settings.attachments.items():
        if (external := parse_spec(text)).kind == "lookup":  # read by instance('name')/root/item[...] look-ups
            kind = "xml-external" if external.file.lower().endswith(".xml") else "csv-external"
            survey.add({"type": kind, "name": list_name})
    for name in sorted(_context_names(inst)):
        # pyxform needs every ${name} to exist; the engine supplies these values
        survey.add({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
    for section in inst.sections:
        for row in _section_rows(inst, section):
            survey.add(row)
    choices = _Sheet(["list_name", "name"])
    s_default = inst.settings.default_language
    for list_name, items in inst.choice_lists.items():
        spec = parse_spec(inst.settings.attachments[list_name]) if list_name in inst.settings.attachments else None
        if spec is not None and spec.lookup:
            continue  # the rows are in the attached file
        # a list from a file keeps the choices the choices sheet adds, not the file's rows (an
        # instrument filled from its files remembers how many are the sheet's own)
        if spec is not None:
            items = items[: inst.settings.attached_from.get(list_name)]
        if (
            spec is not None and spec.kind == "search"
        ):  # search(): the first row names the file's value and label columns
            head: dict[str, Any] = {"list_name": list_name, "name": spec.value}
            head.update(_texts(inst, "label", Text({code or s_default: c for code, c in spec.labels.items()})))
            choices.add(head)
        for choice in items:
            choice_row: dict[str, Any] = {"list_name": list_name, "name": choice.name}
            choice_row.update(_texts(inst, "label", choice.label))
            choice_row.update(_texts(inst, "media::image", choice.media.image))
            choice_row.update(_texts(inst, "media::audio", choice.media.audio))
            # one plain column per language: pyxform cannot put translated custom
            # columns of the choices sheet into an XForm
            choice_row.update({f"alt_{code}": text for code, text in choice.alt.items()})
            choice_row.update(choice.extra)
            choices.add(choice_row)
    settings = _Sheet(["form_title", "form_id", "version", "default_language"])
    s = inst.settings
    settings_row: dict[str, Any] = {
        "form_title": inst.title.get_for(s.default_language) or inst.id,
        "form_id": inst.id,
        "version": inst.version,
        "default_language": _lang_header(inst, s.default_language),
        "sauti_mode": s.mode,
        "sauti_ethics_reference": s.ethics_reference,
        "sauti_audio_fallback": s.audio_fallback,
        "sauti_bands": " ".join(f"{b.code}={b.min_age}-{b.max_age}" for b in s.bands),
        "sauti_time_budget": _pairs(s.time_budget),
    }
    settings_row.update(
        {f"sauti_language::{_lang_header(inst, lang.code)}": lang.status.value for lang in inst.languages}
    )
    settings_row.update(_texts(inst, "sauti_title", inst.title))
    settings_row.update(_texts(inst, "sauti_description", inst.description))
    settings.add(settings_row)
    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "survey"
    survey.write(sheet)
    choices.write(workbook.create_sheet("choices"))
    settings.write(workbook.create_sheet("settings"))
    workbook.save(target)

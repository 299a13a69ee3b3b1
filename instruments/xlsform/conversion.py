"""pyxform's dict -> :class:`~instruments.model.Instrument` (choice lists, settings, metadata),
and validator locations rewritten to sheet, row and column."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from instruments.errors import Issue, IssueCode
from instruments.model import (
    DEFAULT_TIME_BUDGET,
    RTL_LANGUAGES,
    Choice,
    Direction,
    Instrument,
    Language,
    LanguageStatus,
    Media,
    Settings,
    Text,
)

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import _ALT_RE, _FIELD_COLUMNS, W, _lang_code, _media_of, _parse_pairs, _rows_text
from instruments.xlsform.converter_pages import _PageConverter


class _Converter(_PageConverter):
    """Turns pyxform's dict into an Instrument, collecting issues by row."""

    def _filter_columns(self) -> set[str]:
        """Choices-sheet columns that a choice filter reads by bare name."""
        from instruments.expressions import ExpressionError, parse

        found: set[str] = set()
        stack = list(self.form.get("children", []))
        while stack:
            node = stack.pop()
            stack += node.get("children", []) or []
            if node.get("choice_filter"):
                try:
                    found |= set(parse(str(node["choice_filter"])).bare_names)
                except ExpressionError:
                    continue
        return found & self.choice_columns - {"name", "label", "list_name", "list name"}

    def choice_lists(self) -> dict[str, tuple[Choice, ...]]:
        lists: dict[str, tuple[Choice, ...]] = {}
        # A filter column left empty on every row of a list is still a column (pyxform reads
        # it as ''): keep it, so that "filter = ${x}" shows no choice rather than failing.
        filter_columns = self._filter_columns()
        for list_name, choices in (self.form.get("choices") or {}).items():
            out = []
            for choice in choices:
                choice = {**dict.fromkeys(filter_columns, ""), **choice}
                media = _media_of(choice)
                extra = {
                    k: str(v)
                    for k, v in choice.items()
                    if k not in ("name", "label", "media", "alt")
                    and not isinstance(v, dict)
                    and not _ALT_RE.match(str(k))
                }
                alt = self.text(choice.get("alt"))
                alt = Text(
                    dict(alt, **{match.group(1): str(v) for k, v in choice.items() if (match := _ALT_RE.match(str(k)))})
                )
                for code in alt:
                    if code not in self.lang_order:
                        self.lang_order.append(code)
                out.append(
                    Choice(
                        name=str(choice.get("name")),
                        label=self.text(choice.get("label")),
                        media=Media(audio=self.text(media.get("audio")), image=self.text(media.get("image"))),
                        alt=alt,
                        extra=extra,
                    )
                )
            lists[str(list_name)] = tuple(out)
        lists.update(self.extra_lists)
        return lists

    def _warn_attachments(self) -> None:
        """One warning per attached file, naming the rows that read it."""
        for file, rows in sorted(self.attachment_rows.items()):
            self.warnings.append(
                Issue(
                    IssueCode.ATTACHMENT_EXPECTED,
                    W,
                    f"{self.origin}, survey sheet"
                    + (f", row{'s' * (len(rows) > 1)} {_rows_text(sorted(rows))}" if rows else ""),
                    f"The choices or values of these rows come from the file '{file}', attached to the form. "
                    "The questionnaire waits for it: a consultation cannot open until it is uploaded.",
                    "Upload the file on the Questionnaires page (a CSV with name and label columns, or "
                    "ODK's XML list).",
                )
            )

    def settings_text(self, prefix: str) -> Text:
        values = {}
        for key, value in self.settings_row.items():
            if str(key).startswith(prefix + "::") and value not in (None, ""):
                values[str(key).split("::", 1)[1]] = value
        return self.text(values) if values else Text()

    def instrument(self, fallback_id: str) -> Instrument:
        sections = self.sections()
        choice_lists = self.choice_lists()
        row = self.settings_row
        title = self.settings_text("sauti_title")
        if not title and (row.get("form_title") or self.form.get("title")):
            title = Text({self.default_code: str(row.get("form_title") or self.form["title"])})
        description = self.settings_text("sauti_description")
        statuses = _parse_pairs(row.get("sauti_languages"))
        declared: list[str] = list(statuses)
        for key, value in row.items():
            if str(key).startswith("sauti_language::") and value not in (None, ""):
                code, name = _lang_code(str(key).split("::", 1)[1], self.default_code)
                statuses[code] = str(value).strip()
                if name and not self.lang_names.get(code):
                    self.lang_names[code] = name
                declared.append(code)
        if self.default_code not in self.lang_order:
            self.lang_order.insert(0, self.default_code)
        seen = [c for c in declared + self.lang_order if c != self.default_code]
        order = [self.default_code] + list(dict.fromkeys(seen))
        languages = []
        for code in order:
            status = statuses.get(code, "draft")
            if status not in {"draft", "translated", "back_translated", "tested", "approved"}:
                status = "draft"
            direction = "rtl" if code.split("-")[0] in RTL_LANGUAGES else "ltr"
            languages.append(
                Language(code, self.lang_names.get(code, ""), Direction(direction), LanguageStatus(status))
            )
        budget = {k: int(v) for k, v in _parse_pairs(row.get("sauti_time_budget")).items() if v.isdigit()} or dict(
            DEFAULT_TIME_BUDGET
        )
        mode = str(row.get("sauti_mode") or "consultation")
        settings = Settings(
            default_language=self.default_code,
            mode=mode if mode in ("consultation", "research") else "consultation",
            ethics_reference=row.get("sauti_ethics_reference") or None,
            bands=self.bands,
            time_budget=budget,
            audio_fallback="tts" if str(row.get("sauti_audio_fallback", "")).lower() == "tts" else "none",
            attachments=self.attachments,
        )
        self._warn_attachments()
        return Instrument(
            id=str(row.get("form_id") or fallback_id),
            version=str(row.get("version") or self.form.get("version") or "1"),
            title=title,
            description=description,
            languages=tuple(languages),
            settings=settings,
            sections=sections,
            choice_lists=choice_lists,
            repeats=tuple(self.repeats),
        )

    def relocate(self, issue: Issue) -> Issue:
        """Rewrite a validator location to sheet, row and column."""
        issue = _explain_function(issue)
        loc = issue.location
        match = re.match(r"^item ([^,]+)(?:, (\w+)(?:\[(\w+)\])?)?$", loc)
        if match:
            name, field, band = match.groups()
            column = _FIELD_COLUMNS.get(field or "", field)
            if column and band and "<band>" in column:
                column = column.replace("<band>", band)
            return replace(issue, location=self.where(name, column))
        match = re.match(r"^repeat ([^,]+)(?:, (\w+))?$", loc)
        if match and match.group(1) in self.rows:
            column = {"count": "repeat_count", "maximum": "max_repeats"}.get(match.group(2) or "", "type")
            return replace(issue, location=self.where(match.group(1), column))
        match = re.match(r"^(section|page) ([^,]+)(?:, (\w+))?$", loc)
        if match:
            kind, name, field = match.groups()
            if name in self.rows:
                return replace(issue, location=self.where(name, _FIELD_COLUMNS.get(field or "", field)))
        match = re.match(r"^choice list ([^,]+), choice ([^,]+)", loc)
        if match:
            row = self.choice_rows.get((match.group(1), match.group(2)))
            if row:
                return replace(
                    issue, location=f"{self.origin}, choices sheet, row {row} ({match.group(1)}/{match.group(2)})"
                )
        return replace(issue, location=f"{self.origin}: {loc}")


#: Functions of ODK forms that read what Sauti never has: attached files, the device, the
#: server. The fix says what to do instead.
_FOREIGN_FUNCTIONS = {
    "pulldata": "only pulldata('file', 'column', 'key column', value) is read, from the file "
    "attached to the form; write it so, or put the values on the choices sheet",
    "instance": "instance('name') reads a choice list, or a file attached to the form declared by an "
    "xml-external or csv-external row",
    "digest": "it computes a checksum on the device; remove it",
    "uuid": "it makes an identifier on the device; Sauti gives each answer sheet its own",
    "random": "Sauti does not randomise in expressions; remove it",
    "randomize": "Sauti does not randomise in expressions; remove it",
    "now": "Sauti records no times from children; remove it",
    "decimal-date-time": "Sauti records no times from children; remove it",
    "decimal-time": "Sauti records no times from children; remove it",
    "format-date-time": "Sauti records no times from children; remove it",
    "date-time": "Sauti records no times from children; remove it",
    "property": "it reads the device's properties; remove it",
    "position": "only position(..), the number of the repeat instance, is supported; write position(..) or remove it",
}


def _explain_function(issue: Issue) -> Issue:
    """An expression using a function Sauti cannot run: say which, why, and what to do."""
    if "answers last saved on this device" in issue.message:
        return replace(issue, fix="Remove the ${last-saved#...} reference; ask the question instead.")
    match = re.match(r"^unknown function ([\w:\-]+)\(\)", issue.message)
    if not match:
        return issue
    name = match.group(1)
    why = _FOREIGN_FUNCTIONS.get(name, "Sauti cannot run it")
    return replace(issue, fix=f"Rewrite the expression without {name}(): {why}.")

"""The converter's state and helpers: rows, languages, bands, locations of issues."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from instruments.errors import Issue, IssueCode
from instruments.model import (
    DEFAULT_BANDS,
    AgeBand,
    Choice,
    Repeat,
    Text,
)

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import E, _first_label_language, _lang_code, _parse_pairs


# ---------------------------------------------------------------------------
# 6. pyxform dict -> model
# ---------------------------------------------------------------------------
class _ConverterBase:
    """Turns pyxform's dict into an Instrument, collecting issues by row."""

    def __init__(self, form: dict[str, Any], definition: Any, default_language: str, origin: str):
        self.form = form
        self.origin = origin
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.rows: dict[str, int] = {}
        for index, row in enumerate(definition.survey or []):
            if row.get("name") is not None and str(row.get("name")) not in self.rows:
                self.rows[str(row["name"])] = index + 2
        self.choice_rows: dict[tuple[str, str], int] = {}
        self.choice_columns: set[str] = {str(k) for row in (definition.choices_header or [])[:1] for k in (row or {})}
        for index, row in enumerate(definition.choices or []):
            self.choice_columns |= {str(k) for k in row}
            list_name = row.get("list_name", row.get("list name"))
            if list_name is not None and row.get("name") is not None:
                self.choice_rows.setdefault((str(list_name), str(row["name"])), index + 2)
        self.settings_row = dict((definition.settings or [{}])[0] or {})
        default_key = self.settings_row.get("default_language") or form.get("default_language")
        if default_key and default_key != "default":
            self.default_code, _ = _lang_code(str(default_key), default_language)
        else:
            self.default_code = _first_label_language(definition, default_language)
        self.lang_names: dict[str, str] = {}
        self.lang_order: list[str] = []
        self.bands = self._bands()
        self.band_lookup = {b.code.lower(): b.code for b in self.bands}
        self.extra_lists: dict[str, tuple[Choice, ...]] = {}
        #: Lists whose choices come from an attached file: list name -> spec; file -> rows.
        self.attachments: dict[str, str] = {}
        self.attachment_rows: dict[str, list[int]] = {}
        self.searched_lists: set[str] = set()
        self.matrix_group_names: set[str] = set()
        self.repeats: list[Repeat] = []
        self.repeat_counts: dict[str, str] = {}
        self.generated_counts: set[str] = set()
        self._find_generated_counts(form.get("children", []))

    def attach(self, list_name: str, spec: str, row_name: str | None, column: str = "type") -> None:
        """Record that ``list_name`` waits for the file in ``spec`` (read by ``row_name``)."""
        from instruments.attachments import name_problem, parse_spec

        problem = name_problem(parse_spec(spec))
        if problem is not None and row_name is not None:
            self.error(
                IssueCode.MISSING_CHOICE_LIST,
                str(row_name),
                column,
                problem,
                "Give the file and its columns shorter names, in the form and in the file.",
            )
            return
        self.attachments.setdefault(list_name, spec)
        rows = self.attachment_rows.setdefault(parse_spec(spec).file, [])
        row = self.rows.get(str(row_name)) if row_name is not None else None
        if row is not None and row not in rows:
            rows.append(row)
        if list_name not in (self.form.get("choices") or {}):
            self.extra_lists.setdefault(list_name, ())

    def _find_generated_counts(self, children: Iterable[Mapping[str, Any]]) -> None:
        """pyxform turns a fixed ``repeat_count`` (or an expression) into a calculate row of its
        own, ``<repeat>_count``, before the repeat: the count goes back onto the repeat."""
        children = list(children)
        calculations = {
            str(c.get("name")): (c.get("bind") or {}).get("calculate") for c in children if c.get("type") == "calculate"
        }
        for child in children:
            if child.get("type") == "repeat":
                count = str((child.get("control") or {}).get("jr:count") or "")
                match = re.fullmatch(r"\$\{([^}]+)\}", count.strip())
                if match and match.group(1) not in self.rows and match.group(1) in calculations:
                    self.generated_counts.add(match.group(1))
                    self.repeat_counts[str(child.get("name"))] = str(calculations[match.group(1)]).strip()
            if child.get("children"):
                self._find_generated_counts(child["children"])

    # helpers ---------------------------------------------------------------
    def _see_lang(self, key: str) -> str:
        code, name = _lang_code(key, self.default_code)
        if code not in self.lang_order:
            self.lang_order.append(code)
        if name and not self.lang_names.get(code):
            self.lang_names[code] = name
        return code

    def text(self, value: Any) -> Text:
        if value is None:
            return Text()
        if isinstance(value, Mapping):
            return Text({self._see_lang(str(k)): str(v) for k, v in value.items() if v not in (None, "")})
        self._see_lang("default")
        return Text({self.default_code: str(value)})

    def where(self, name: str, column: str | None = None) -> str:
        row = self.rows.get(name)
        text = f"{self.origin}, survey sheet"
        if row:
            text += f", row {row}"
        if column:
            text += f", column {column}"
        return text + f" ({name})"

    def error(self, code: IssueCode, name: str, column: str, message: str, fix: str) -> None:
        self.errors.append(Issue(code, E, self.where(name, column), message, fix))

    def _bands(self) -> tuple[AgeBand, ...]:
        spec = self.settings_row.get("sauti_bands")
        if not spec:
            return DEFAULT_BANDS
        bands = []
        for code, ages in _parse_pairs(spec).items():
            low, _, high = ages.partition("-")
            try:
                bands.append(AgeBand(code, int(low), int(high)))
            except ValueError:
                self.errors.append(
                    Issue(
                        IssueCode.INVALID_BAND,
                        E,
                        f"{self.origin}, settings sheet, sauti_bands",
                        f"'{code}={ages}' is not a band.",
                        "Write e.g. A=8-10 B=11-13 C=14-17.",
                    )
                )
        return tuple(bands) or DEFAULT_BANDS

    def band(self, value: Any, name: str, column: str) -> str | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        return self.band_lookup.get(text.lower(), text)

    def band_texts(self, node: Mapping[str, Any], prefix: str) -> dict[str, Text]:
        out = {}
        for key, value in node.items():
            match = re.match(rf"^{prefix}_(\w+)$", str(key), re.I)
            if match and match.group(1).lower() in self.band_lookup:
                out[self.band_lookup[match.group(1).lower()]] = self.text(value)
        return out

"""Screening the raw rows before pyxform: unsupported types and metadata left out, ``required``,
duplicate choices, reused names, last-saved references, placeholder rows."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from instruments.errors import Issue, IssueCode

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import (
    _FALSE,
    _GROUP_BEGIN,
    _GROUP_END,
    _KNOWN_SURVEY_COLUMNS,
    _LOOPED,
    _REPEAT_BEGIN,
    _REPEAT_END,
    _SUPPORTED_TYPES,
    MAX_CELL_CHARS,
    MAX_CHOICE_ROWS,
    MAX_ROWS,
    E,
    W,
    _base_type,
    _column_base,
    _err,
    _longest_text,
    _rows_text,
    _truthy,
)

# ---------------------------------------------------------------------------
# 3-4. raw rows and screening
# ---------------------------------------------------------------------------
_CLOCK_RE = re.compile(r"\b(now|decimal-date-time|decimal-time|date-time|format-date-time)\s*\(")
_SEED_RE = re.compile(r"\b(randomize|seed)\s*=\s*(\$\{[^}]*\}|[^\s,;]*)", re.IGNORECASE)

#: ODK's metadata types: what the device knows, never asked. Sauti leaves them out and says it
#: never records them.
_DEVICE_DATA = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-geopoint",
        "background-audio",
        "imei",
    }
)


def _screen_rows(
    definition: Any, origin: str, strict_required: bool, band_codes: Iterable[str]
) -> tuple[list[Issue], list[Issue]]:
    """Check and clean the raw rows in place. Returns (errors, warnings)."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    survey = list(definition.survey or [])
    choices = list(definition.choices or [])
    for sheet, rows, limit, fix in (
        ("survey", survey, MAX_ROWS, "Delete unused rows or split the form."),
        (
            "choices",
            choices,
            MAX_CHOICE_ROWS,
            "Delete unused rows, or keep only the places the consultation needs in a long list.",
        ),
    ):
        if len(rows) > limit:
            raise _err(
                IssueCode.TOO_MANY_ROWS,
                f"{origin}, {sheet} sheet, row {limit + 2}",
                f"The {sheet} sheet has {len(rows):,} rows; the limit is {limit:,}.",
                fix,
            )
    for sheet, rows in (("survey", survey), ("choices", choices), ("settings", list(definition.settings or []))):
        for index, row in enumerate(rows):
            longest = _longest_text(row)
            if longest > MAX_CELL_CHARS:
                raise _err(
                    IssueCode.XLSFORM_INVALID,
                    f"{origin}, {sheet} sheet, row {index + 2}",
                    f"A cell has {longest:,} characters; the limit is {MAX_CELL_CHARS:,}.",
                    "Shorten the label or hint; long explanations belong in a notice.",
                )
    if not survey:
        raise _err(
            IssueCode.MISSING_SHEET,
            origin,
            "The form has no 'survey' sheet (or it is empty).",
            "Add a sheet called 'survey' with type, name and label columns.",
        )
    bands = {b.lower() for b in band_codes}
    repeats, unsupported, required, acknowledged = [], defaultdict(list), [], []
    clock: list[int] = []
    shuffled: list[int] = []
    dropped: dict[str, int] = {}
    unknown_columns: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(survey):
        rownum = index + 2
        raw_type = row.get("type")
        if raw_type is None:
            continue
        base = _base_type(raw_type)
        if base in _LOOPED or base.startswith("begin looped"):
            repeats.append(rownum)
            continue
        if base == "calculate" and _CLOCK_RE.search(str(row.get("calculation") or "")):
            # a time stamp from the device's clock: device data, never recorded
            clock.append(rownum)
            if row.get("name") not in (None, ""):
                dropped[str(row["name"]).strip()] = rownum
            survey[index] = {}
            continue
        parameters = str(row.get("parameters") or "")
        if "randomize" in parameters.replace(" ", "").lower() or "seed" in parameters.lower():
            # Sauti shows choices in the form's order: the seed (often the device's clock) goes
            row = survey[index] = dict(row, parameters=_SEED_RE.sub("", parameters).strip(" ,;"))
            shuffled.append(rownum)
        if base in ("trigger", "acknowledge"):
            # an "OK" to tap: shown as a note, nothing is stored
            row = survey[index] = dict(row, type="note")
            acknowledged.append(rownum)
            base = "note"
        if base not in _SUPPORTED_TYPES and base not in _GROUP_BEGIN | _GROUP_END | (_REPEAT_BEGIN | _REPEAT_END):
            kind = "begin loop" if base.startswith(("begin loop", "end loop")) else str(raw_type).split()[0]
            unsupported[kind].append(rownum)
            if row.get("name") not in (None, ""):
                dropped[str(row["name"]).strip()] = rownum
            survey[index] = {}
            continue
        if "required" in row:
            if str(row["required"]).strip().lower() not in _FALSE:
                required.append(rownum)
            row = dict(row)
            row.pop("required")
            survey[index] = row
        for header in row:
            base_col = _column_base(header)
            if base_col in _KNOWN_SURVEY_COLUMNS:
                continue
            match = re.match(r"^(label|hint)_(\w+)$", base_col)
            if match and match.group(2) in bands:
                continue
            unknown_columns[str(header)].append(rownum)
    if repeats:
        errors.append(
            Issue(
                IssueCode.REPEAT_UNSUPPORTED,
                E,
                f"{origin}, survey sheet, rows {_rows_text(repeats)}",
                "Looped groups are not supported.",
                "Write the looped group as begin repeat/end repeat rows, or as a fixed list of items.",
            )
        )
    for raw_type, rows in unsupported.items():
        if raw_type == "begin loop":
            message = (
                "A loop over a choice list (begin loop ... end loop) is not repeated: Sauti asks "
                "its questions once, not once for each choice; the begin and end rows were left out."
            )
        elif raw_type.lower() in _DEVICE_DATA:
            message = (
                f"'{raw_type}' is data about the device or the person using it, which Sauti never "
                "records (no device identifiers, phone numbers, accounts, times or places are kept "
                "about a child); these rows were left out and nothing is collected for them."
            )
        else:
            message = (
                f"The type '{raw_type}' is not supported (Sauti asks children no dates, locations, "
                "photos, recordings or device metadata); these rows were left out."
            )
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column type, rows {_rows_text(rows)}",
                message,
                "Remove the rows, or replace them with a supported type.",
            )
        )
    if clock:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column calculation, rows {_rows_text(clock)}",
                "The calculation reads the device's clock (now(), decimal-date-time() ...): a time "
                "stamp, which Sauti never records about a child; these rows were left out.",
                "Remove the rows (today() is allowed: it gives the date, not the time).",
            )
        )
    if shuffled:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_COLUMN,
                W,
                f"{origin}, survey sheet, column parameters, rows {_rows_text(shuffled)}",
                "randomize and seed are not applied: Sauti shows the choices in the order of the "
                "choices sheet, the same for every child.",
                "Remove randomize and seed from the parameters column.",
            )
        )
    if acknowledged:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column type, rows {_rows_text(acknowledged)}",
                'A trigger (an "OK" to tap) is shown as a note: Sauti stores nothing for it.',
                "Use the type note to silence this warning.",
            )
        )
    if required:
        location = f"{origin}, survey sheet, column required, rows {_rows_text(required)}"
        if strict_required:
            errors.append(
                Issue(
                    IssueCode.REQUIRED_ITEM,
                    E,
                    location,
                    "Items are marked required, but nothing a child answers may be mandatory (S-04).",
                    "Clear the 'required' column.",
                )
            )
        else:
            warnings.append(
                Issue(
                    IssueCode.REQUIRED_DROPPED,
                    W,
                    location,
                    "'required' was dropped: nothing a child answers may be mandatory (S-04); "
                    'every item offers "I\'d rather not say".',
                    "Clear the 'required' column to silence this warning.",
                )
            )
    for header, rows in unknown_columns.items():
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_COLUMN,
                W,
                f"{origin}, survey sheet, column {header}, rows {_rows_text(rows)}",
                f"The column '{header}' is not used by Sauti and was ignored.",
                "Remove the column if it is not needed.",
            )
        )
    settings_row = (definition.settings or [{}])[0] or {}
    allow_duplicates = _truthy(settings_row.get("allow_choice_duplicates", ""))
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(choices):
        rownum = index + 2
        list_name = row.get("list_name", row.get("list name"))
        name = row.get("name")
        if list_name is None or name is None:
            continue
        key = (str(list_name), str(name))
        if key not in seen:
            seen[key] = rownum
            continue
        where = f"{origin}, choices sheet, row {rownum}, column name"
        first = choices[seen[key] - 2]
        differs = sorted(
            str(k)
            for k in set(row) | set(first)
            if _column_base(k) not in ("list_name", "list name", "name", "label")
            and not _column_base(k).startswith(("label", "media", "image", "audio", "alt"))
            and str(row.get(k) or "") != str(first.get(k) or "")
        )
        if not allow_duplicates:
            errors.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    E,
                    where,
                    f"The choice '{name}' appears twice in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}); answers would be ambiguous.",
                    "Give each choice in a list its own name, or allow repeated names with "
                    "allow_choice_duplicates = yes on the settings sheet.",
                )
            )
        elif differs:
            errors.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    E,
                    f"{origin}, choices sheet, row {rownum}, column {differs[0]}",
                    f"The choice '{name}' appears twice in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}) with different values in the column "
                    f"'{differs[0]}'; Sauti keeps one choice per name, so one of them would be "
                    "lost.",
                    f"Give the choice on row {rownum} its own name (for example '{name}_{rownum}').",
                )
            )
        else:
            # pyxform allows it (allow_choice_duplicates): both rows store the same answer
            warnings.append(
                Issue(
                    IssueCode.DUPLICATE_CHOICE,
                    W,
                    where,
                    f"The choice '{name}' appears again in the list '{list_name}' (rows "
                    f"{seen[key]} and {rownum}); the settings allow it and both give the same "
                    f"answer, so row {rownum} was merged into row {seen[key]} and its label is "
                    "not shown.",
                    "Remove the repeated row, or give it its own name.",
                )
            )
            choices[index] = {}
    definition.choices = choices
    _note_unshown_media(survey, choices, origin, warnings)
    _forget_last_saved(survey, origin, warnings)
    _siblings_as_references(survey)
    _qualify_reused_names(survey, origin, warnings)
    placeholders = _placeholders_for_dropped(survey, dropped, origin, warnings)
    if _add_context_rows(survey) or placeholders:
        header = dict((definition.survey_header or [{}])[0] or {})
        for column in ("type", "name", "calculation", "sauti_context"):
            header.setdefault(column, None)
        definition.survey_header = [header]
    definition.survey = survey
    return errors, warnings


_UNSHOWN_MEDIA_RE = re.compile(r"^(?:media\s*::\s*)?(video|big-image)\b", re.IGNORECASE)


def _note_unshown_media(
    survey: list[dict[str, Any]], choices: list[dict[str, Any]], origin: str, warnings: list[Issue]
) -> None:
    """Videos and big images (``media::video``, ``media::big-image``): Sauti shows a picture and
    plays a recording, nothing else, so they are left out with a warning naming the rows."""
    for sheet, rows in (("survey", survey), ("choices", choices)):
        found: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            for header, value in row.items():
                if value not in (None, "") and _UNSHOWN_MEDIA_RE.match(str(header)):
                    found[str(header)].append(index + 2)
        for header, numbers in found.items():
            warnings.append(
                Issue(
                    IssueCode.UNSUPPORTED_COLUMN,
                    W,
                    f"{origin}, {sheet} sheet, column {header}, rows {_rows_text(numbers)}",
                    f"The column '{header}' names files Sauti does not show (it shows one picture "
                    "and plays one recording per question or choice); they were left out.",
                    "Use the media::image or media::audio column instead.",
                )
            )


_SIBLING_RE = re.compile(r"(?<![\w.)\]/])\.\./([A-Za-z_][A-Za-z0-9_\-]*)(?![\w(/\[])")
_EXPRESSION_COLUMNS = ("relevant", "relevance", "constraint", "calculation", "choice_filter", "choice filter")


def _siblings_as_references(survey: list[dict[str, Any]]) -> None:
    """``../total`` in an expression is the item ``total`` beside this one in its group (an XPath
    relative path): the same as ``${total}``, which in a repeat also means this instance's. A
    name used more than once is left alone (the validator names the expression)."""
    counts: dict[str, int] = defaultdict(int)
    for row in survey:
        if row.get("name") not in (None, ""):
            counts[str(row["name"]).strip()] += 1

    def reference(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"${{{name}}}" if counts.get(name) == 1 else match.group(0)

    for index, row in enumerate(survey):
        changed = {
            key: _SIBLING_RE.sub(reference, value)
            for key, value in row.items()
            if isinstance(value, str) and "../" in value and _column_base(key) in _EXPRESSION_COLUMNS
        }
        if changed:
            survey[index] = {**row, **changed}


_REF_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_LAST_SAVED_RE = re.compile(r"\$\{\s*last-saved#[^}]*\}")
_TEXT_COLUMNS = ("label", "hint", "constraint_message", "constraint message", "guidance_hint")


def _forget_last_saved(survey: list[dict[str, Any]], origin: str, warnings: list[Issue]) -> None:
    """``${last-saved#q}`` reads the answers last saved on the device: another child's. Sauti
    never reads them; such a reference is read as empty, as on a device where no form was saved
    yet (a default made of one is dropped), and a warning names the rows."""
    rows: list[int] = []
    for index, row in enumerate(survey):
        changed = dict(row)
        for key, value in row.items():
            if not isinstance(value, str) or not _LAST_SAVED_RE.search(value):
                continue
            base = _column_base(key)
            if base == "default" and _LAST_SAVED_RE.fullmatch(value.strip()):
                changed.pop(key)
            else:
                changed[key] = _LAST_SAVED_RE.sub("" if base in _TEXT_COLUMNS else "''", value)
        if changed != row:
            survey[index] = changed
            rows.append(index + 2)
    if rows:
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_COLUMN,
                W,
                f"{origin}, survey sheet, row{'s' if len(rows) > 1 else ''} {_rows_text(rows)}",
                "${last-saved#...} reads the answers last saved on the device, which would be another "
                "child's: Sauti never reads them, so it is read as empty here (as on a device where "
                "nothing was saved yet).",
                "Remove the ${last-saved#...} references; ask the question instead.",
            )
        )


def _qualify_reused_names(survey: list[dict[str, Any]], origin: str, warnings: list[Issue]) -> None:
    """pyxform accepts one name in different groups (each is its group's own); Sauti keys an
    answer by the item's name alone, so a name met again is qualified with its group's name."""
    path: list[str] = []
    taken = {str(row.get("name")).strip() for row in survey if row.get("name") is not None}
    first: dict[str, tuple[int, tuple[str, ...]]] = {}
    for index, row in enumerate(survey):
        if row.get("type") is None:
            continue
        base = _base_type(row["type"])
        name = str(row.get("name") or "").strip()
        if base in _GROUP_END | _REPEAT_END:
            if path:
                path.pop()
            continue
        if not name:
            continue
        if name in first and first[name][1] != tuple(path):
            group = path[-1] if path else "main"
            new = f"{group}_{name}"
            while new in taken:
                new += "_"
            taken.add(new)
            survey[index] = dict(row, name=new)
            warnings.append(
                Issue(
                    IssueCode.DUPLICATE_NAME,
                    W,
                    f"{origin}, survey sheet, row {index + 2}, column name",
                    f"The name '{name}' is also used on row {first[name][0]} in another group; "
                    f"this one is called '{new}' in Sauti (answers are kept by name, and "
                    f"${{{name}}} means the one on row {first[name][0]}).",
                    f"Give the item its own name (for example '{new}') to silence this.",
                )
            )
        elif name not in first:
            first[name] = (index + 2, tuple(path))
        if base in _GROUP_BEGIN | _REPEAT_BEGIN:
            path.append(name)


def _placeholders_for_dropped(
    survey: list[dict[str, Any]], dropped: Mapping[str, int], origin: str, warnings: list[Issue]
) -> bool:
    """A label may show ${today} or ${deviceid}, rows Sauti leaves out: pyxform would find
    them, so keep an empty value under that name (a label shows nothing there) and say so.
    An expression that reads one is refused later, by the validator, with its row."""
    used: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(survey):
        for key, value in row.items():
            if isinstance(value, str) and "${" in value:
                for ref in _REF_RE.findall(value):
                    if ref in dropped and _column_base(key) in ("label", "hint"):
                        used[ref].append(index + 2)
    for name, rows in used.items():
        survey.append({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
        warnings.append(
            Issue(
                IssueCode.UNSUPPORTED_TYPE,
                W,
                f"{origin}, survey sheet, column label, row{'s' if len(set(rows)) > 1 else ''} {_rows_text(rows)}",
                f"The text shows ${{{name}}}, which is row {dropped[name]}, left out; it shows nothing there.",
                f"Remove ${{{name}}} from the text.",
            )
        )
    return bool(used)


def _add_context_rows(survey: list[dict[str, Any]]) -> bool:
    """pyxform insists every ${name} exists: give engine context values such as
    ${_setting} a placeholder calculate row (after the real rows, so row numbers stay)."""
    from instruments.expressions import CONTEXT_NAMES

    defined = {str(row.get("name")) for row in survey if row.get("name") is not None}
    used: set[str] = set()
    for row in survey:
        for value in row.values():
            if isinstance(value, str) and "${_" in value:
                used |= {m for m in re.findall(r"\$\{\s*(_[A-Za-z]+)\s*\}", value) if m in CONTEXT_NAMES}
    for name in sorted(used - defined):
        survey.append({"type": "calculate", "name": name, "calculation": "''", "sauti_context": "yes"})
    return bool(used - defined)

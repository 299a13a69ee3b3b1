"""The import pipeline: read, pre-check, screen, pyxform, convert, validate (see the package)."""

from __future__ import annotations

import functools
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from instruments.errors import InstrumentError, Issue, IssueCode, Report
from instruments.loading import LoadResult, finish_load
from instruments.model import (
    DEFAULT_BANDS,
    AgeBand,
)

if TYPE_CHECKING:
    pass

from instruments.xlsform.common import FIX_XLSFORM, E, W, _err, _parse_pairs
from instruments.xlsform.conversion import _Converter
from instruments.xlsform.safety import _precheck, _read_source
from instruments.xlsform.screening import _screen_rows


def _pyxform_issue(exc: Exception, origin: str) -> Issue:
    message = str(exc).strip() or type(exc).__name__
    match = re.search(r"\[row\s*:\s*(\d+)\]", message)
    named = re.search(r"on the '(\w+)' sheet", message, re.I)
    sheet = named.group(1).lower() if named else "survey"
    location = f"{origin}, {sheet} sheet" + (f", row {match.group(1)}" if match else "")
    message = re.sub(r"\[row\s*:\s*\d+\]\s*", "", message)
    return Issue(IssueCode.XLSFORM_INVALID, E, location, message, FIX_XLSFORM)


def import_xlsform(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    file_type: str | None = None,
    default_language: str = "en",
    strict_required: bool = False,
    check: bool = True,
) -> LoadResult:
    """Import an XLSForm (.xlsx, .xls, .csv or Markdown) as an instrument.

    Parameters
    ----------
    source : path, bytes, binary file or str
        A path; the file's bytes or a binary file object; or Markdown text
        (a ``str`` containing a newline).
    file_type : {"xlsx", "xls", "csv", "md"}, optional
        Forces the reader; by default taken from the extension or the content.
    default_language : str
        The language code of unlabelled ``label``/``hint`` columns when the
        settings sheet names no ``default_language``.
    strict_required : bool
        ``required`` on an item is reported and dropped with a
        ``REQUIRED_DROPPED`` warning by default (forms from KoboToolbox often
        have it); with ``strict_required=True`` it is a ``REQUIRED_ITEM`` error.
    check : bool
        Validate the result; structural errors raise.

    Returns
    -------
    LoadResult

    Raises
    ------
    InstrumentError
        For any unreadable, unsafe or invalid form; every issue names the
        sheet, row and column and the fix.
    """
    data, kind, origin = _read_source(source, file_type)
    precheck_warnings = _precheck(data, kind, origin)
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        definition = get_xlsform(io.BytesIO(data), file_type=f".{kind}")
    except PyXFormError as exc:
        raise InstrumentError([_pyxform_issue(exc, origin)]) from None
    except Exception as exc:  # noqa: BLE001 - hostile files make readers raise anything
        raise _err(
            IssueCode.FILE_UNREADABLE,
            origin,
            f"The {kind} file cannot be read ({type(exc).__name__}).",
            "Open it in a spreadsheet program and save it again as .xlsx.",
        ) from None
    bands = DEFAULT_BANDS
    settings_row = (definition.settings or [{}])[0] or {}
    if settings_row.get("sauti_bands"):
        bands = tuple(AgeBand(k, 0, 0) for k in _parse_pairs(settings_row["sauti_bands"]))
    errors, warnings = _screen_rows(definition, origin, strict_required, [b.code for b in bands])
    warnings[:0] = precheck_warnings
    if errors:
        raise InstrumentError(errors)
    form = _run_pyxform(definition, origin, warnings, _fallback_id(origin))
    _rewrite_absolute_paths(form)
    pulled = _rewrite_pulldata(form)
    converter = _Converter(form, definition, default_language, origin)
    for file, row_names in pulled.items():
        from instruments.attachments import make_spec

        for row_name in row_names:
            converter.attach(file, make_spec(f"{file}.csv", kind="lookup"), row_name)
    try:
        instrument = converter.instrument(_fallback_id(origin))
    except InstrumentError:
        raise
    except RecursionError:
        raise _err(IssueCode.XLSFORM_INVALID, origin, "Groups are nested too deeply.", "Flatten the groups.") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _err(IssueCode.XLSFORM_INVALID, origin, f"The form could not be converted: {exc}.", FIX_XLSFORM) from None
    if converter.errors:
        raise InstrumentError(converter.errors)
    if not instrument.sections:
        raise _err(
            IssueCode.XLSFORM_INVALID,
            f"{origin}, survey sheet",
            "Nothing is left to ask: every row is of a kind Sauti leaves out (device "
            "data, dates, locations, photos or recordings).",
            "Add questions of the kinds Sauti asks (select, text, number, note).",
        )
    warnings += converter.warnings
    try:
        result = finish_load(instrument, warnings, check=check)
    except InstrumentError as exc:
        raise InstrumentError([converter.relocate(i) for i in exc.issues]) from None
    report = Report(tuple(converter.relocate(i) for i in result.report.issues))
    return LoadResult(result.instrument, result.warnings, report)


_ABSOLUTE_PATH = re.compile(r"(?<![\w\])'\".])/(?:[A-Za-z_][\w.\-]*/)+([A-Za-z_][\w.\-]*)(?![\w\[(/])")
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")


def _nodes(form: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every survey element of a pyxform form dictionary, groups and repeats included."""
    stack = list(form.get("children", []))
    while stack:
        node = stack.pop()
        stack += node.get("children", []) or []
        yield node


def _rewrite_absolute_paths(form: dict[str, Any]) -> None:
    """Older forms write ``/data/group/q1`` where XLSForm now writes ``${q1}``: such a path to
    one of the form's own rows becomes the reference (text in quotes is left alone)."""
    names: set[str] = set()
    stack = [form]
    while stack:
        node = stack.pop()
        if node.get("name") is not None:
            names.add(str(node["name"]))
        stack += node.get("children", []) or []

    def fix(text: Any) -> Any:
        if not isinstance(text, str) or "/" not in text:
            return text
        parts = _QUOTED.split(text)
        for i in range(0, len(parts), 2):  # outside quotes
            parts[i] = _ABSOLUTE_PATH.sub(
                lambda m: f"${{{m.group(1)}}}" if m.group(1) in names else m.group(0), parts[i]
            )
        return "".join(parts)

    for node in _nodes(form):
        bind = node.get("bind")
        if isinstance(bind, dict):
            for key in ("relevant", "constraint", "calculate"):
                if key in bind:
                    bind[key] = fix(bind[key])
        if "choice_filter" in node:
            node["choice_filter"] = fix(node["choice_filter"])
        control = node.get("control")
        if isinstance(control, dict) and "jr:count" in control:
            control["jr:count"] = fix(control["jr:count"])


_PULLDATA = re.compile(
    r"pulldata\(\s*'([A-Za-z_][\w.\-]*)'\s*,\s*'([^']+)'\s*,\s*'([^']+)'\s*,\s*"
    r"(\$\{[^}]*\}|'[^']*'|[\w.]+)\s*\)"
)


def _rewrite_pulldata(form: dict[str, Any]) -> dict[str, list[str]]:
    """``pulldata('file', 'column', 'key', value)`` reads the attached ``file.csv``: it becomes
    the look-up ``instance('file')/root/item[key = value]/column`` that Sauti evaluates on its
    server. Returns the files read and the rows that read them."""
    read: dict[str, list[str]] = {}

    def swap(match: re.Match[str], row: str) -> str:
        file, column, key, value = match.groups()
        read.setdefault(file, []).append(row)
        return f"instance('{file}')/root/item[{key} = {value}]/{column}"

    for node in _nodes(form):
        bind = node.get("bind")
        if isinstance(bind, dict):
            for key in ("relevant", "constraint", "calculate"):
                if isinstance(bind.get(key), str) and "pulldata" in bind[key]:
                    bind[key] = _PULLDATA.sub(functools.partial(swap, row=str(node.get("name"))), bind[key])
    return read


def _fallback_id(origin: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(origin).stem) if origin != "<upload>" else ""
    return stem if re.match(r"^[A-Za-z_]", stem) else "form"


def _run_pyxform(definition: Any, origin: str, warnings: list[Issue], fallback: str) -> dict[str, Any]:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json

    messages: list[str] = []
    try:
        form = workbook_to_json(definition, fallback_form_name=fallback, warnings=messages)
        create_survey_element_from_dict(form)
    except PyXFormError as exc:
        raise InstrumentError([_pyxform_issue(exc, origin)]) from None
    except RecursionError:
        raise _err(IssueCode.XLSFORM_INVALID, origin, "Groups are nested too deeply.", "Flatten the groups.") from None
    except Exception as exc:  # noqa: BLE001 - pyxform may raise other errors on odd input
        raise _err(
            IssueCode.XLSFORM_INVALID,
            origin,
            f"pyxform could not read the form ({type(exc).__name__}: {exc}).",
            FIX_XLSFORM,
        ) from None
    for message in messages:
        for line in str(message).splitlines():
            if not line.strip() or "is missing the survey column" in line and "default" in line:
                continue
            warnings.append(Issue(IssueCode.PYXFORM_WARNING, W, origin, line.strip(), FIX_XLSFORM))
    return dict(form)

"""Files attached to a form: the choice lists that wait for them, reading them, filling the lists.

An XLSForm may take its choices from a file sent with the form (ODK's "form attachments"):
``select_one_from_file cities.csv``, ``search('cities')`` in the appearance, an
``xml-external``/``csv-external`` row read by ``instance('cities')/root/item[...]`` or
``pulldata('cities', ...)``. The importer keeps such a choice list empty (or with the choices
the choices sheet adds) and records, in :attr:`~instruments.model.Settings.attachments`, the
list's file and the columns it reads. The console stores each uploaded file's rows and fills the
lists with :func:`fill` when the instrument is read; a consultation cannot open while a file is
missing. Everything happens on the server: nothing is fetched from anywhere.

A spec is the file name, then ``value=COLUMN`` and ``label=COLUMN`` (``label::fr=COLUMN`` for a
language) when the columns are not ``name`` and ``label``. Each name is percent-escaped
(:func:`urllib.parse.quote`) so that a space, ``%`` or ``=`` in a file or column name survives.

A child never meets a list longer than :data:`MAX_SHOWN_CHOICES` on one page
(:func:`shown_problems`): a file that would show more is refused on upload and blocks opening.

Examples
--------
>>> spec = parse_spec("cities.csv value=id label::fr=nom")
>>> spec.file, spec.value, dict(spec.labels)
('cities.csv', 'id', {'fr': 'nom'})
>>> rows = read_rows(b"id,nom,region\\nnbo,Nairobi,central\\n", "cities.csv")
>>> rows[0]["nom"]
'Nairobi'
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote, unquote

from instruments.model import Choice, Instrument
from instruments.model.texts import RESERVED_CODES, FrozenMap, Text

#: The largest attached file taken, in bytes.
MAX_ATTACHMENT_BYTES = 1_000_000
#: The most rows (choices) an attached file may hold.
MAX_ATTACHMENT_ROWS = 10_000
#: The most columns an attached file may hold.
MAX_ATTACHMENT_COLUMNS = 50
#: The longest cell an attached file may hold, in characters.
MAX_ATTACHMENT_CELL = 2_000
#: The longest file or column name a form may read (the console stores file names in 200 characters).
MAX_NAME_LENGTH = 200
#: The most choices one question may show a child on one page, once its choice filter has
#: picked them: a longer list is slow to load on a cheap phone and hard to read. The one place
#: this limit is kept (docs/instruments.md, "Attached files").
MAX_SHOWN_CHOICES = 200
#: The kinds of file a list can come from.
SUFFIXES = (".csv", ".xml")

_LANG = re.compile(r"^label::(?:[^(]*\((?P<code>[^)]+)\)|(?P<bare>.+))$")


class AttachmentError(ValueError):
    """An attached file that cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class AttachmentSpec:
    """Where a choice list's choices come from: the file and the columns read.

    ``labels`` maps a language code (``""`` for the default language) to a column.
    """

    file: str
    value: str = "name"
    labels: Mapping[str, str] = field(default_factory=FrozenMap)
    #: ``file`` (``select_one_from_file``), ``search`` (``search()`` in the appearance) or
    #: ``lookup`` (read only by ``instance()``/``pulldata()``: any columns will do).
    kind: str = "file"

    @property
    def lookup(self) -> bool:
        return self.kind == "lookup"


def _q(name: str) -> str:
    return quote(name, safe="!\"#$&'()*+,-./:;<>?@[\\]^_`{|}~")


def make_spec(file: str, value: str = "name", labels: Mapping[str, str] | None = None, *, kind: str = "file") -> str:
    """The spec string of :class:`AttachmentSpec` (what the instrument stores).

    >>> spec = make_spec("my towns.csv", "town id", {"": "town name"}, kind="search")
    >>> spec
    'my%20towns.csv search value=town%20id label=town%20name'
    >>> parse_spec(spec).file, parse_spec(spec).labels[""]
    ('my towns.csv', 'town name')
    """
    parts = [_q(file)] if kind == "file" else [_q(file), kind]
    if value != "name":
        parts.append(f"value={_q(value)}")
    for code, column in sorted((labels or {}).items()):
        if code == "" and column == "label":
            continue
        parts.append(f"label::{_q(code)}={_q(column)}" if code else f"label={_q(column)}")
    return " ".join(parts)


def parse_spec(spec: str) -> AttachmentSpec:
    """Read a spec written by :func:`make_spec`."""
    file, *parts = spec.split(" ")
    value, labels = "name", {}
    kind = next((p for p in parts if p in ("search", "lookup")), "file")
    for part in parts:
        key, _, column = part.partition("=")
        if key == "value":
            value = unquote(column)
        elif key == "label":
            labels[""] = unquote(column)
        elif key.startswith("label::"):
            labels[unquote(key.removeprefix("label::"))] = unquote(column)
    return AttachmentSpec(unquote(file), value, FrozenMap(labels), kind)


def name_problem(spec: AttachmentSpec) -> str | None:
    """Why the file or column names of ``spec`` cannot be used (too long), or None."""
    for name in (spec.file, spec.value, *spec.labels.values()):
        if len(name) > MAX_NAME_LENGTH:
            return f"The name '{name[:40]}...' has {len(name)} characters; the limit is {MAX_NAME_LENGTH}."
    return None


def expected_files(instrument: Instrument) -> tuple[str, ...]:
    """The names of the files the instrument waits for, sorted."""
    return tuple(sorted({parse_spec(spec).file for spec in instrument.settings.attachments.values()}))


def _checked_cell(value: str, where: str) -> str:
    if len(value) > MAX_ATTACHMENT_CELL:
        raise AttachmentError(f"{where} has {len(value):,} characters; the limit is {MAX_ATTACHMENT_CELL:,}.")
    return value


def _csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise AttachmentError("The file is empty: the first line must name the columns (name,label).") from None
    except csv.Error as error:
        raise AttachmentError(f"The first line cannot be read as CSV ({error}).") from None
    _check_header(header)
    rows: list[dict[str, str]] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ATTACHMENT_ROWS:
                raise AttachmentError(f"The file has more than {MAX_ATTACHMENT_ROWS:,} rows; the limit is that many.")
            if len(cells) > len(header):
                raise AttachmentError(f"Line {number} has more cells than the first line has column names.")
            rows.append(
                {h: _checked_cell(c, f"Line {number}, column {h}") for h, c in zip(header, cells, strict=False) if h}
            )
    except csv.Error as error:
        raise AttachmentError(f"The file cannot be read as CSV ({error}).") from None
    return rows


def _check_header(header: Sequence[str]) -> None:
    if len(header) > MAX_ATTACHMENT_COLUMNS:
        raise AttachmentError(f"The file has {len(header)} columns; the limit is {MAX_ATTACHMENT_COLUMNS}.")
    named = [h for h in header if h]
    if len(set(named)) != len(named):
        twice = sorted({h for h in named if named.count(h) > 1})
        raise AttachmentError(f"The column '{twice[0]}' is named twice on the first line.")


def _xml_rows(data: bytes) -> list[dict[str, str]]:
    """ODK's item format: ``<root><item><name>..</name><label>..</label>...</item>...</root>``.

    Read with defusedxml: a document type or an entity (XXE, "billion laughs") is refused."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as safe_xml
    from defusedxml import DefusedXmlException

    try:
        root = safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise AttachmentError(
            "The XML file declares a document type or entities, which Sauti never reads (they can be "
            "used to attack a server). Save the list again without a <!DOCTYPE> line."
        ) from None
    except ParseError as error:
        raise AttachmentError(f"The XML file is not well formed ({error}).") from None
    rows: list[dict[str, str]] = []
    for number, element in enumerate(root, start=1):
        if len(rows) >= MAX_ATTACHMENT_ROWS:
            raise AttachmentError(f"The file has more than {MAX_ATTACHMENT_ROWS:,} items; the limit is that many.")
        row = {  # the whole text, child elements' included (<label>A<b>bold</b> tail</label>)
            str(child.tag): _checked_cell("".join(child.itertext()).strip(), f"Item {number}, {child.tag}")
            for child in element
            if isinstance(child.tag, str)
        }
        if len(row) > MAX_ATTACHMENT_COLUMNS:
            raise AttachmentError(f"Item {number} has {len(row)} fields; the limit is {MAX_ATTACHMENT_COLUMNS}.")
        if row:
            rows.append(row)
    if not rows:
        raise AttachmentError("The XML file holds no items: write <root><item><name>..</name>... </item></root>.")
    return rows


def read_rows(data: bytes, file_name: str) -> tuple[dict[str, str], ...]:
    """The rows of an attached CSV or XML file, each a dict of column -> text.

    Parameters
    ----------
    data : bytes
        The file's content.
    file_name : str
        The name the form gives the file; its suffix says how it is read.

    Returns
    -------
    tuple of dict
        Cells are kept as plain text, whatever they start with (``=`` included): Sauti never
        evaluates them, and every export neutralises formulas.

    Raises
    ------
    AttachmentError
        For a file too large, too long, not UTF-8, malformed, or unsafe XML.
    """
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(f"The file is {len(data):,} bytes; the limit is {MAX_ATTACHMENT_BYTES:,}.")
    if not data.strip():
        raise AttachmentError("The file is empty.")
    suffix = file_name[file_name.rfind(".") :].lower() if "." in file_name else ""
    if suffix == ".xml":
        return tuple(_xml_rows(data))
    if suffix != ".csv":
        raise AttachmentError(f"Sauti reads attached lists from CSV or XML files, not '{suffix or file_name}'.")
    if b"\x00" in data:
        raise AttachmentError("The file holds binary data, not CSV text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AttachmentError(f"The file is not UTF-8 text (byte {error.start}); save it as CSV UTF-8.") from None
    return tuple(_csv_rows(text))


def _label_columns(spec: AttachmentSpec, columns: set[str], default_language: str) -> dict[str, str]:
    if spec.labels:
        return {code or default_language: column for code, column in spec.labels.items()}
    found = {}
    for column in columns:
        match = _LANG.match(column)
        if match:
            found[(match.group("code") or match.group("bare")).strip()] = column
    if "label" in columns or not found:
        found.setdefault(default_language, "label")
    return found


def choices_from(spec: AttachmentSpec, rows: Sequence[Mapping[str, str]], default_language: str) -> tuple[Choice, ...]:
    """The choices of one list read from the file's rows.

    A look-up file (read by ``instance()``/``pulldata()`` on any columns) may repeat values and
    have no labels; a list shown to children may not, and each choice needs a label in the
    form's default language (else the child would see the bare code).

    Raises
    ------
    AttachmentError
        When the value or label column is missing, a value is empty, repeated or reserved, or a
        label is empty.
    """
    columns = set().union(*(row.keys() for row in rows)) if rows else set()
    labels = _label_columns(spec, columns, default_language)
    for column in (spec.value, *labels.values()):
        if column not in columns and not spec.lookup:
            raise AttachmentError(
                f"The file {spec.file} has no '{column}' column, which the form reads; its columns are: "
                + (", ".join(sorted(columns)) or "none")
                + "."
            )
    used = {spec.value, *labels.values()}
    main_label = labels.get(default_language) or next(iter(labels.values()), "label")
    seen: set[str] = set()
    out = []
    for number, row in enumerate(rows, start=2):
        name = str(row.get(spec.value, "")).strip() or (str(number - 1) if spec.lookup else "")
        if not name:
            raise AttachmentError(f"Row {number} of {spec.file} has no value in the '{spec.value}' column.")
        if not spec.lookup:
            if name in seen:
                raise AttachmentError(f"The value '{name}' appears twice in {spec.file} (row {number}).")
            if name in RESERVED_CODES:
                raise AttachmentError(
                    f"The value '{name}' (row {number} of {spec.file}) is kept for Sauti's own answers; use another."
                )
            if not str(row.get(main_label, "")).strip():
                raise AttachmentError(
                    f"Row {number} of {spec.file} has no label in the '{main_label}' column: a child would see "
                    f"only the code '{name}'. Write the label."
                )
        seen.add(name)
        out.append(
            Choice(
                name=name,
                label=Text(
                    {code: row.get(column, "") for code, column in labels.items() if str(row.get(column, "")).strip()}
                ),
                extra={k: v for k, v in row.items() if k not in used},
            )
        )
    return tuple(out)


def _check_columns(
    instrument: Instrument, list_name: str, spec: AttachmentSpec, rows: Sequence[Mapping[str, str]]
) -> None:
    """The columns that choice filters and look-ups read must be in the file."""
    from instruments.expressions import ExpressionError, parse

    columns = {"name", "label"} | (set().union(*(row.keys() for row in rows)) if rows else set())
    for item in instrument.items:
        texts = [item.calculation, item.relevance, item.constraint, item.default]
        read: set[str] = set()
        if item.choices == list_name and item.choice_filter:
            texts.append(item.choice_filter)
        for text in texts:
            if not text:
                continue
            try:
                parsed = parse(text)
            except ExpressionError:
                continue
            read |= {column for name, column in parsed.lookups if name == list_name}
            if text == item.choice_filter and item.choices == list_name:
                read |= set(parsed.bare_names)
        missing = sorted(read - columns)
        if missing:
            raise AttachmentError(
                f"The question '{item.name}' reads the column '{missing[0]}', which {spec.file} does not have; "
                "its columns are: " + ", ".join(sorted(columns - {"name", "label"} | {spec.value})) + "."
            )


def fill(instrument: Instrument, rows_by_file: Mapping[str, Sequence[Mapping[str, str]]]) -> Instrument:
    """The instrument with each attached list filled from its file's rows (the choices the
    choices sheet adds come first); lists whose file is not given stay as they are.

    Raises
    ------
    AttachmentError
        When a file does not have what a list reads (see :func:`choices_from`).
    """
    lists = dict(instrument.choice_lists)
    own = dict(instrument.settings.attached_from)  # filled again: the sheet's own stay first
    default_language = instrument.settings.default_language
    for list_name, text in instrument.settings.attachments.items():
        spec = parse_spec(text)
        if spec.file not in rows_by_file:
            continue
        static = lists.get(list_name, ())[: own.get(list_name)]
        from_file = choices_from(spec, rows_by_file[spec.file], default_language)
        _check_columns(instrument, list_name, spec, rows_by_file[spec.file])
        names = {c.name for c in static}
        lists[list_name] = tuple(static) + tuple(c for c in from_file if c.name not in names)
        own[list_name] = len(static)
    return replace(instrument, choice_lists=lists, settings=replace(instrument.settings, attached_from=own))


def _filter_columns(choice_filter: str) -> tuple[str, ...] | None:
    from instruments.expressions import ExpressionError, parse

    try:
        return tuple(sorted(parse(choice_filter).bare_names))
    except ExpressionError:
        return None


def shown_problems(instrument: Instrument) -> list[str]:
    """Questions that could show a child more than :data:`MAX_SHOWN_CHOICES` choices from a file.

    A question without a choice filter shows its whole list. With one, the choices are grouped
    by the file's columns the filter reads (``region = ${region}`` reads ``region``); the largest
    group is what one page can show when the filter compares those columns for equality, the
    usual case (a filter such as ``contains()`` is counted the same way).

    Returns
    -------
    list of str
        One plain-words message per question over the limit.
    """
    out = []
    for item in instrument.items:
        text = instrument.settings.attachments.get(item.choices) if item.choices else None
        if item.choices is None or text is None or parse_spec(text).lookup:
            continue
        choices = instrument.choice_lists.get(item.choices, ())
        columns = _filter_columns(item.choice_filter) if item.choice_filter else ()
        if columns:
            groups: dict[tuple[str, ...], int] = {}
            for choice in choices:
                key = tuple(choice.name if c == "name" else choice.extra.get(c, "") for c in columns)
                groups[key] = groups.get(key, 0) + 1
            largest = max(groups.values(), default=0)
        else:
            largest = len(choices)
        if largest > MAX_SHOWN_CHOICES:
            out.append(
                f"The question '{item.name}' could show a child {largest:,} choices on one page; the limit is "
                f"{MAX_SHOWN_CHOICES}. Add a choice filter (for example an earlier question on the region) "
                "so that fewer choices are shown at once, or split the file."
            )
    return out

"""Exports: XLSX workbooks of released tables, CSV, and de-identified microdata + codebook.

Every cell is formula-safe: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a leading apostrophe in CSV and as a plain string cell in
XLSX (never a formula; xlsxwriter's formula/URL detection is off). Only
:class:`~analysis.disclosure.ReleasedTable` and
:class:`~analysis.sdc.ReleasedMicrodata` objects can be exported.

Examples
--------
>>> neutralise("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralise("-5"), neutralise(-5), neutralise("ok")
("'-5", -5, 'ok')
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .disclosure import ReleasedTable, require_released
from .frames import RESERVED, ItemMeta
from .sdc import ReleasedMicrodata

__all__ = [
    "DEFAULT_KEYS",
    "DEFAULT_KEEP",
    "DEFAULT_MERGES",
    "codebook_frame",
    "export_codebook",
    "export_columns",
    "export_deidentified",
    "neutralise",
    "repeat_tables",
    "sensitive_items",
    "write_csv",
    "write_microdata",
    "write_report_xlsx",
    "write_xlsx",
]

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Make one cell value safe for spreadsheets (numbers pass through unchanged)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _sheet_name(title: str, used: set[str]) -> str:
    # Excel forbids []:*?/\ and a leading apostrophe; a leading = + - @ goes too, so that no
    # sheet name reads like a formula either.
    base = re.sub(r"[\[\]:*?/\\']", " ", title or "table")
    base = base.lstrip("=+-@ \t\r").strip()[:28] or "table"
    name, i = base, 2
    while name.lower() in used:
        name = f"{base[:25]} {i}"
        i += 1
    used.add(name.lower())
    return name


def _write_cell(ws, r: int, c: int, value: Any, fmt=None) -> None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, bool | np.bool_):
        ws.write_boolean(r, c, bool(value), fmt)
    elif isinstance(value, int | float | np.integer | np.floating):
        ws.write_number(r, c, float(value), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)  # a string cell, never a formula


def _write_frame(ws, df: pd.DataFrame, row0: int, fmts, index: bool) -> int:
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    for j, c in enumerate(cols):
        _write_cell(ws, row0, j, c, fmts["head"])
    for i, (idx, row) in enumerate(df.iterrows(), start=1):
        vals = ([str(idx)] if index else []) + list(row)
        for j, v in enumerate(vals):
            if isinstance(v, str) and re.fullmatch(r"-?\d+", v):
                v = int(v)  # released counts shown as text become numbers again
            _write_cell(ws, row0 + i, j, v)
    ws.set_column(0, max(0, len(cols) - 1), 14)
    return row0 + len(df) + 1


def _workbook(path: Path):
    import xlsxwriter

    return xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        },
    )


def write_xlsx(
    path: str | Path,
    tables: Sequence[ReleasedTable],
    notes: Mapping[str, str] | None = None,
    sdc_log: pd.DataFrame | None = None,
) -> Path:
    """One sheet per released table (title, table, footnotes) + Notes and SDC log sheets.

    Raises ``TypeError`` when any table did not pass :func:`~analysis.disclosure.disclose`.
    """
    tables = [require_released(t, "write_xlsx") for t in tables]
    path = Path(path)
    wb = _workbook(path)
    fmts = {
        "head": wb.add_format({"bold": True, "bg_color": "#EEF3F8", "border": 1}),
        "title": wb.add_format({"bold": True, "font_size": 12}),
        "note": wb.add_format({"italic": True, "font_color": "#444444"}),
    }
    used: set[str] = set()
    log_rows = []
    for t in tables:
        ws = wb.add_worksheet(_sheet_name(t.title, used))
        ws.write_string(0, 0, t.title, fmts["title"])
        disp = t.display
        end = _write_frame(ws, disp, 2, fmts, index=t.kind == "counts")
        for k, note in enumerate(t.notes):
            ws.write_string(end + 1 + k, 0, note, fmts["note"])
        log_rows.append((t.title, t.kind, t.policy.k, t.n_primary, t.n_secondary))
    ws = wb.add_worksheet(_sheet_name("Notes", used))
    rows = list((notes or {}).items()) or [("notes", "")]
    _write_frame(ws, pd.DataFrame(rows, columns=["topic", "note"]), 0, fmts, index=False)
    ws = wb.add_worksheet(_sheet_name("SDC log", used))
    log = pd.DataFrame(log_rows, columns=["table", "kind", "k", "primary suppressions", "secondary suppressions"])
    end = _write_frame(ws, log, 0, fmts, index=False)
    if sdc_log is not None:
        _write_frame(ws, sdc_log, end + 2, fmts, index=False)
    wb.close()
    return path


def write_report_xlsx(report, path: str | Path) -> Path:
    """All released tables of a :class:`~analysis.report.ProgrammeReport` in one workbook."""
    from .report import CAVEAT

    return write_xlsx(
        path,
        report.released_tables(),
        notes={"Title": report.title, "Generated": report.generated_on, "About these results": CAVEAT},
    )


def write_csv(path: str | Path, table: ReleasedTable) -> Path:
    """A released table's display form as CSV, formula-neutralised."""
    t = require_released(table, "write_csv")
    path = Path(path)
    disp = t.display.reset_index() if t.kind == "counts" else t.display
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([neutralise(str(c)) for c in disp.columns])
        for row in disp.itertuples(index=False):
            w.writerow([neutralise("" if pd.isna(v) else str(v)) for v in row])
        for note in t.notes:
            w.writerow([neutralise(note)])
    return path


def codebook_frame(
    codebook: Mapping[str, ItemMeta],
    columns: Iterable[str],
    classes: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Data dictionary of exported columns: variable, item, label, type, values, class, metadata.

    ``classes`` tags each variable ``quasi_identifier | sensitive | other`` (A6); the
    default tags the respondent columns as quasi-identifiers and sensitive items as
    sensitive. ``metadata`` is the item's full :class:`~analysis.frames.ItemMeta` as JSON
    (choices, labels, positive and neutral codes, domain, bands), so that a report built
    from the export file (:func:`analysis.exportfile.read_sauti_export`) treats every item
    exactly as the report built from the database does.
    """
    import json

    from .frames import codebook_to_dict

    qi = {"band", "gender", "disability", "disability_method", "setting", "language", "site"}
    rows = []
    as_json: dict[str, str] = {}
    for col in columns:
        item, _, code = str(col).partition("/")
        meta = codebook.get(item)
        if meta is None:
            cls = (classes or {}).get(col, "quasi_identifier" if col in qi else "other")
            rows.append((col, "", col, "respondent", "", cls, ""))
            continue
        if item not in as_json:
            as_json[item] = json.dumps(codebook_to_dict({item: meta})[item], ensure_ascii=False, separators=(",", ":"))
        if code:
            values = "True = chosen" if meta.type == "multi" else "rank (1 = first)"
            label = f"{meta.label or item}: {meta.label_of(code)}"
        else:
            values = "; ".join(f"{c} = {meta.label_of(c)}" for c in (*meta.choices, *RESERVED))
            label = meta.label or item
        cls = (classes or {}).get(col, "sensitive" if meta.sensitive else "other")
        rows.append((col, item, label, meta.type, values, cls, as_json[item]))
    return pd.DataFrame(rows, columns=["variable", "item", "label", "type", "values", "class", "metadata"])


def spss_names(columns: Sequence[str]) -> list[str]:
    """Column names SPSS accepts (letters, digits, _, at most 64 characters), kept distinct.

    Examples
    --------
    >>> spss_names(["TR1/friend", "TR1/parent", "1st", "band"])
    ['TR1_friend', 'TR1_parent', 'v_1st', 'band']
    """
    out: list[str] = []
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(column))
        if not name or not name[0].isalpha():
            name = "v_" + name
        name = name[:64]
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base[:60]}_{n}"
        out.append(name)
    return out


def _write_sav(data: pd.DataFrame, path: Path) -> None:
    """SPSS .sav: categorical codes as strings, the original column names as variable labels."""
    import pyreadstat

    frame = pd.DataFrame(
        {
            name: (
                data[column].astype("string").fillna("").astype(object).map(neutralise)
                if not pd.api.types.is_numeric_dtype(data[column])
                else data[column]
            )
            for name, column in zip(spss_names(data.columns), data.columns, strict=True)
        }
    )
    pyreadstat.write_sav(frame, str(path), column_labels=[neutralise(str(c)) for c in data.columns])


def repeat_tables(
    frames: Mapping[str, pd.DataFrame],
    record_of: Mapping[Any, int],
    parents: Mapping[str, str | None] | None = None,
    main: str = "data",
) -> dict[str, pd.DataFrame]:
    """Repeat frames laid out as KoboToolbox exports them: a table per repeat, one row per
    instance, ``_index`` numbering the rows, ``_parent_table_name`` and ``_parent_index``
    pointing at the row it belongs to (the record of the main table, or the outer repeat's row).

    ``frames`` come from :func:`analysis.frames.repeat_frames`; ``record_of`` maps each
    response id to its record number in the released main table (instances of responses
    without one are left out); ``parents`` maps a nested repeat to its outer repeat. Response
    ids and instance numbers stay out: only the record and ``_index`` numbers link the tables.

    Examples
    --------
    >>> frame = pd.DataFrame({"response_id": [7, 7, 9], "parent_instance": 0,
    ...                       "instance": [1, 2, 1], "legs": ["4", "2", None]})
    >>> repeat_tables({"pets": frame}, {7: 2, 9: 1})["pets"]
       _index _parent_table_name  _parent_index  instance legs
    0       1               data              1         1  NaN
    1       2               data              2         1    4
    2       3               data              2         2    2
    """
    parents = dict(parents or {})
    out: dict[str, pd.DataFrame] = {}
    index_of: dict[str, dict[tuple, int]] = {}
    for name in sorted(frames, key=lambda n: parents.get(n) is not None):
        frame = frames[name].copy()
        frame["_record"] = frame["response_id"].map(record_of)
        frame = frame[frame["_record"].notna()].copy()
        frame["_record"] = frame["_record"].astype(np.int64)
        frame = frame.sort_values(["_record", "parent_instance", "instance"]).reset_index(drop=True)
        frame.insert(0, "_index", np.arange(1, len(frame) + 1))
        parent = parents.get(name)
        if parent is not None and parent in index_of:
            lookup = index_of[parent]
            frame["_parent_index"] = [
                lookup.get((rec, outer), pd.NA)
                for rec, outer in zip(frame["_record"], frame["parent_instance"], strict=True)
            ]
            frame["_parent_table_name"] = parent
        else:
            frame["_parent_index"] = frame["_record"]
            frame["_parent_table_name"] = main
        index_of[name] = {
            (rec, inst): idx
            for rec, inst, idx in zip(frame["_record"], frame["instance"], frame["_index"], strict=True)
        }
        items = [c for c in frames[name].columns if c not in ("response_id", "parent_instance", "instance")]
        out[name] = frame[["_index", "_parent_table_name", "_parent_index", "instance", *items]]
    return {name: out[name] for name in frames if name in out}


def write_microdata(
    released: ReleasedMicrodata,
    directory: str | Path,
    codebook: Mapping[str, ItemMeta],
    fmt: str = "csv",
    stem: str = "sauti_export",
    repeats: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Write a de-identified export and its codebook (and the risk report) to ``directory``.

    Formats: ``csv`` (formula-neutralised), ``xlsx`` (data, codebook and risk sheets),
    ``sav`` (SPSS, through pyreadstat) or ``parquet`` (through DuckDB); for ``csv``, ``sav``
    and ``parquet`` the codebook is written as CSV next to the data. ``repeats`` (from
    :func:`repeat_tables`) add a sheet per repeat to ``xlsx``, and a CSV file per repeat
    (``<stem>_<repeat>.csv``) otherwise.
    """
    if not isinstance(released, ReleasedMicrodata):
        raise TypeError("write_microdata accepts only the result of release_microdata()")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = released.frame
    cbf = codebook_frame(codebook, [c for c in data.columns if c != "record"])
    risk = released.risk.summary()
    out = []
    if fmt == "xlsx":
        path = directory / f"{stem}.xlsx"
        wb = _workbook(path)
        head = wb.add_format({"bold": True})
        fmts = {"head": head}
        used = {"data", "codebook", "risk"}
        sheets = [
            ("data", data),
            *((_sheet_name(name, used), frame) for name, frame in (repeats or {}).items()),
            ("codebook", cbf),
            ("risk", risk),
        ]
        for name, frame in sheets:
            ws = wb.add_worksheet(name)
            _write_frame(ws, frame.astype(object).where(frame.notna(), None), 0, fmts, index=False)
        wb.close()
        return [path]
    if fmt == "csv":
        path = directory / f"{stem}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow([neutralise(str(c)) for c in data.columns])
            for row in data.itertuples(index=False):
                w.writerow([neutralise("" if pd.isna(v) else (v if not isinstance(v, str) else v)) for v in row])
        out.append(path)
    elif fmt == "sav":
        path = directory / f"{stem}.sav"
        _write_sav(data, path)
        out.append(path)
    elif fmt == "parquet":
        import duckdb

        path = directory / f"{stem}.parquet"
        # Text is neutralised here too: a Parquet file is often opened through a spreadsheet.
        safe = pd.DataFrame(
            {
                neutralise(str(c)): (
                    data[c].astype("string").map(neutralise, na_action="ignore")
                    if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))
                    else data[c]
                )
                for c in data.columns
            }
        )
        with duckdb.connect() as con:
            con.register("export_frame", safe)
            if "'" in str(path):
                raise ValueError("export path must not contain a quote")
            con.execute(f"COPY export_frame TO '{path}' (FORMAT parquet)")
        out.append(path)
    else:
        raise ValueError("fmt must be 'csv', 'xlsx', 'sav' or 'parquet'")
    extra = [(re.sub(r"[^A-Za-z0-9_.-]", "_", f"repeat_{name}"), frame) for name, frame in (repeats or {}).items()]
    for name, frame in (*extra, ("codebook", cbf), ("risk", risk)):
        p = directory / f"{stem}_{name}.csv"
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(list(frame.columns))
            for row in frame.itertuples(index=False):
                w.writerow([neutralise("" if pd.isna(v) else v) for v in row])
        out.append(p)
    return out


#: The key (quasi-identifier) variables a record-level export is risk-checked on.
DEFAULT_KEYS: tuple[str, ...] = ("band", "gender", "disability", "site")
#: Respondent columns kept beside the keys (not identifying on their own).
DEFAULT_KEEP: tuple[str, ...] = ("disability_method",)


def export_columns(
    codebook: Mapping[str, ItemMeta],
    keys: Sequence[str] = DEFAULT_KEYS,
    keep: Sequence[str] = DEFAULT_KEEP,
) -> list[str]:
    """The variables a record-level export can hold, worked out from the codebook alone.

    Respondent columns (``keys`` and ``keep``), then one column per single or scale item,
    one ``item/code`` column per choice (and reserved code) of a multi-select item, and one
    per choice of a ranked item; free-text items never leave. The same names as
    :func:`analysis.frames.to_wide`, without looking at a single answer.

    Examples
    --------
    >>> cb = {"q1": ItemMeta("q1", "single", ("yes", "no")),
    ...       "q2": ItemMeta("q2", "multi", ("tv", "radio")), "q3": ItemMeta("q3", "text")}
    >>> export_columns(cb, keys=("band",), keep=())
    ['band', 'q1', 'q2/tv', 'q2/radio', 'q2/_rns', 'q2/_dk']
    """
    out = list(dict.fromkeys([*keys, *keep]))
    for item, meta in codebook.items():
        if meta.type == "text":
            continue
        extra = [c for cs in meta.band_choices.values() for c in cs if c not in meta.choices]
        codes = [*meta.choices, *dict.fromkeys(extra)]
        if meta.type == "multi":
            out += [f"{item}/{c}" for c in (*codes, *RESERVED)]
        elif meta.type == "rank":
            out += [f"{item}/{c}" for c in codes]
        else:
            out.append(item)
    return out


def export_codebook(
    codebook: Mapping[str, ItemMeta],
    keys: Sequence[str] = DEFAULT_KEYS,
    keep: Sequence[str] = DEFAULT_KEEP,
) -> pd.DataFrame:
    """The codebook of a record-level export: every variable it can hold, and no data.

    Built from the item metadata only, so it never depends on (or reveals) an answer and is
    never refused, however few children took part. A released export may hold fewer columns
    (a variable hidden entirely by the risk check is dropped); its own codebook is written
    next to it by :func:`write_microdata`.

    Examples
    --------
    >>> cb = {"q1": ItemMeta("q1", "single", ("yes", "no"), label="Do you feel safe?")}
    >>> export_codebook(cb, keys=("band",), keep=())[["variable", "label"]].values.tolist()
    [['band', 'band'], ['q1', 'Do you feel safe?']]
    """
    return codebook_frame(codebook, export_columns(codebook, keys, keep))


def sensitive_items(codebook: Mapping[str, ItemMeta]) -> list[str]:
    """Items a record-level export would carry that are sensitive (S2/S3: DP-07 approval).

    >>> sensitive_items({"a": ItemMeta("a", sensitive=True), "b": ItemMeta("b"),
    ...                  "c": ItemMeta("c", "text", sensitive=True)})
    ['a']
    """
    return [item for item, meta in codebook.items() if meta.sensitive and meta.type != "text"]


#: Merge rules applied to the respondent columns before a microdata release (B.3).
DEFAULT_MERGES = {
    "gender": {
        "another": "another or rather not say",
        "another_way": "another or rather not say",
        "_rns": "another or rather not say",
    },
    "disability": {"_rns": "no answer", "_dk": "no answer"},
}


def export_deidentified(
    long: pd.DataFrame,
    directory: str | Path,
    fmt: str = "csv",
    keys: Sequence[str] = DEFAULT_KEYS,
    codebook: Mapping[str, ItemMeta] | None = None,
    policy=None,
    merges: Mapping[str, Mapping[str, str]] | None = None,
    suppress: bool = True,
    seed: int | None = None,
    keep: Sequence[str] = DEFAULT_KEEP,
    repeats: Mapping[str, pd.DataFrame] | None = None,
    repeat_parents: Mapping[str, str | None] | None = None,
) -> tuple[list[Path], ReleasedMicrodata]:
    """De-identified record-level export with codebook and risk report, in one call.

    Steps: wide frame (free text never included) -> merge rare categories of the key
    variables (``merges``, then anything still under k is merged) -> optional local
    suppression to k-anonymity -> :func:`~analysis.sdc.release_microdata` (refuses if the
    limits still fail) -> :func:`write_microdata`. Respondent columns that are neither
    ``keys`` nor in ``keep`` are dropped, so nothing identifying leaves unchecked. Returns
    the files and the release.

    ``repeats`` (from :func:`analysis.frames.repeat_frames`, with the long frame's response
    ids) are written as one table per repeat linked to the released records
    (:func:`repeat_tables`); ``repeat_parents`` names the outer repeat of a nested one.
    """
    from .frames import _as_codebook, infer_codebook, to_wide
    from .sdc import MicrodataPolicy, local_suppression, merge_rare, release_microdata

    policy = policy or MicrodataPolicy()
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    wide = to_wide(long, cb)
    responses = wide.index.to_numpy()
    wide = wide.reset_index(drop=True)
    if repeats:
        wide["_response"] = responses  # kept only to link the repeat tables, then dropped
    text_cols = [c for c in wide.columns if c.split("/")[0] in cb and cb[c.split("/")[0]].type == "text"]
    keys = [k for k in keys if k in wide.columns and wide[k].notna().any()]
    rules = DEFAULT_MERGES if merges is None else merges
    log = []
    for k in keys:
        wide[k], steps = merge_rare(wide[k], policy.k, rules.get(k))
        log += [f"{k}: {s}" for s in steps]
    if suppress:
        wide, sup = local_suppression(wide, keys, k=policy.k, importance=list(range(len(keys), 0, -1)))
        log += [f"{k}: {n} values suppressed" for k, n in sup.items() if n]
    from .frames import RESPONDENT_COLUMNS

    unchecked = [c for c in RESPONDENT_COLUMNS[1:] if c in wide.columns and c not in keys and c not in keep]
    released = release_microdata(wide, keys, policy, drop=text_cols + unchecked, seed=seed)
    tables = None
    if repeats:
        record_of = dict(zip(released.frame["_response"], released.frame["record"], strict=True))
        del released.frame["_response"]  # the frame is the release's own; the link leaves with it
        tables = repeat_tables(repeats, record_of, repeat_parents)
    files = write_microdata(released, directory, cb, fmt=fmt, repeats=tables)
    if log:
        p = Path(directory) / "sauti_export_treatment_log.csv"
        pd.DataFrame({"step": [neutralise(step) for step in log]}).to_csv(p, index=False)
        files.append(p)
    return files, released

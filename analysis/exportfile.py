"""Read a de-identified Sauti export file back into the long frame (for a report from a file).

The files are the ones :func:`analysis.exports.write_microdata` writes (``sauti export``):
CSV with ``<stem>_codebook.csv`` next to it, an XLSX workbook with ``data`` and ``codebook``
sheets, SPSS ``.sav`` (plain variable names, the original names as variable labels) or
Parquet, each with its codebook. One row per child; single and scale items are one column,
multi-select items one True/False column per code (``item/code``), ranked items one rank
column per code.

Cells that the export neutralised for spreadsheets (a leading apostrophe before ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are read back as they were. A file that is not such
an export, or does not match its codebook, raises ``ValueError`` with a message a person can
act on; the report then goes through the same disclosure gate as one built from the database.

Examples
--------
>>> unneutralise("'=1+1"), unneutralise("'ok"), unneutralise("plain")
('=1+1', "'ok", 'plain')
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .frames import RESERVED, RESPONDENT_COLUMNS, ItemMeta, codebook_from_dict, make_long

__all__ = ["EXPORT_SUFFIXES", "read_answers", "read_codebook_file", "read_sauti_export", "unneutralise"]

#: File types a Sauti export comes in.
EXPORT_SUFFIXES = (".csv", ".xlsx", ".sav", ".parquet")
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r])")
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_TRUE = {"true", "1", "1.0", "yes"}
_FALSE = {"false", "0", "0.0", "no", ""}


def unneutralise(value: Any) -> Any:
    """Undo :func:`analysis.exports.neutralise` on one cell."""
    if isinstance(value, str):
        return _NEUTRALISED.sub("", value, count=1)
    return value


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            s = s.astype("string").str.replace(_NEUTRALISED, "", n=1, regex=True)
            s = s.mask(s.str.strip().eq(""))
        out[unneutralise(str(col))] = s
    return pd.DataFrame(out, index=frame.index)


# ----------------------------------------------------------------------------- codebook
def _codebook_from_frame(frame: pd.DataFrame, source: str) -> dict[str, ItemMeta]:
    frame = _clean(frame.astype(object).where(frame.notna(), None))
    need = {"variable", "item", "type"}
    if not need <= set(frame.columns):
        raise ValueError(f"{source}: this is not a Sauti codebook (it needs the columns {', '.join(sorted(need))})")
    items = frame[frame["item"].notna()]
    cb: dict[str, ItemMeta] = {}
    for name, rows in items.groupby("item", sort=False):
        name = str(name)
        first = rows.iloc[0]
        meta_json = first.get("metadata") if "metadata" in rows.columns else None
        if isinstance(meta_json, str) and meta_json.strip():
            try:
                cb.update(codebook_from_dict({name: json.loads(meta_json)}))
            except (ValueError, TypeError) as error:
                raise ValueError(f"{source}: the metadata of item {name!r} cannot be read ({error})") from error
            continue
        # An older codebook without the metadata column: choices from the listed values.
        kind = str(first["type"])
        if kind in ("multi", "rank"):
            codes = [str(v).partition("/")[2] for v in rows["variable"]]
            choices = tuple(c for c in codes if c and c not in RESERVED)
            labels: dict[str, str] = {}
        else:
            pairs = [p.partition(" = ") for p in str(first.get("values") or "").split("; ") if p]
            choices = tuple(c for c, _, _ in pairs if c not in RESERVED)
            labels = {c: lab for c, _, lab in pairs if c not in RESERVED}
        label = str(first.get("label") or "")
        sensitive = str(first.get("class") or "") == "sensitive"
        try:
            cb[name] = (
                ItemMeta(name, kind, choices, labels=labels, label=label, sensitive=sensitive)
                if kind != "scale"
                else _scale(name, choices, labels, label, sensitive)
            )
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from error
    if not cb:
        raise ValueError(f"{source}: the codebook lists no items")
    return cb


def _scale(name, choices, labels, label, sensitive) -> ItemMeta:
    from .frames import _scale_meta

    return _scale_meta(name, "scale", list(choices), labels, label=label, sensitive=sensitive)


def read_codebook_file(path: str | Path) -> dict[str, ItemMeta]:
    """A codebook from a Sauti codebook CSV (or the ``codebook`` sheet of an export workbook)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path.name}: no such codebook file")
    if path.suffix.lower() == ".xlsx":
        return _codebook_from_frame(_xlsx_sheet(path, "codebook"), path.name)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path.name}: a codebook is a .csv file (or the export's .xlsx)")
    return _codebook_from_frame(_read_csv(path), path.name)


# ----------------------------------------------------------------------------- the data
def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path.name}: not a UTF-8 text file") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"{path.name}: not a readable CSV file ({error})") from error


def _xlsx_sheet(path: Path, sheet: str) -> pd.DataFrame:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise ValueError(f"{path.name}: not a readable .xlsx workbook") from error
    try:
        if sheet not in book.sheetnames:
            raise ValueError(f"{path.name}: the workbook has no {sheet!r} sheet; is it a Sauti export?")
        rows = list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise ValueError(f"{path.name}: the {sheet!r} sheet is empty")
    header = ["" if h is None else str(h) for h in rows[0]]

    def text(v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        # Control characters travel as OOXML escapes ("_x000D_" for a carriage return).
        return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(v))

    return pd.DataFrame([[text(v) for v in r] for r in rows[1:]], columns=header, dtype=object)


def _read_sav(path: Path) -> pd.DataFrame:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as error:  # pyreadstat raises its own ReadstatError for a bad file
        raise ValueError(f"{path.name}: not a readable SPSS .sav file") from error
    names = meta.column_names_to_labels or {}
    frame = frame.rename(columns={c: unneutralise(names.get(c) or c) for c in frame.columns})
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    import duckdb

    if "'" in str(path):
        raise ValueError("the export's path must not contain a quote")
    try:
        with duckdb.connect() as con:
            return con.execute(f"SELECT * FROM read_parquet('{path}')").df()  # noqa: S608 # nosec B608 - quote refused above
    except duckdb.Error as error:
        raise ValueError(f"{path.name}: not a readable Parquet file") from error


def _truthy(s: pd.Series, column: str) -> np.ndarray:
    if s.dtype == bool:
        return s.to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.fillna(0).to_numpy() != 0
    text = s.astype("string").str.strip().str.lower().fillna("")
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        raise ValueError(f"column {column!r} should hold True/False, found {text[bad].iloc[0]!r}")
    return text.isin(_TRUE).to_numpy()


def _codes(s: pd.Series) -> pd.Series:
    """Answer codes as text ("3", not 3.0: SPSS and Parquet may store numeric codes)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.map(lambda v: None if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))).astype(
            "string"
        )
    return s.astype("string")


def wide_to_long(data: pd.DataFrame, codebook: Mapping[str, ItemMeta], source: str = "the export") -> pd.DataFrame:
    """One row per child (an export's data) -> the long frame, validated against the codebook."""
    if "record" not in data.columns:
        raise ValueError(f"{source}: no 'record' column; is this a Sauti export file?")
    rid = pd.to_numeric(data["record"], errors="coerce")
    if rid.isna().any() or not rid.is_unique:
        raise ValueError(f"{source}: the 'record' column must hold distinct whole numbers")
    rid = rid.astype(np.int64).to_numpy()
    known = [c for c in data.columns if c.partition("/")[0] in codebook]
    if not known:
        raise ValueError(f"{source}: none of its columns are items of the codebook; is it the right codebook?")
    parts = []
    for name, meta in codebook.items():
        if meta.type in ("single", "scale"):
            if name not in data.columns:
                continue
            ans = _codes(data[name])
            keep = ans.notna().to_numpy()
            parts.append(
                pd.DataFrame(
                    {"row": np.flatnonzero(keep), "item": name, "answer": ans[keep].to_numpy(), "rank": np.nan}
                )
            )
        elif meta.type in ("multi", "rank"):
            for col in (c for c in data.columns if c.partition("/")[0] == name and "/" in c):
                code = col.partition("/")[2]
                if meta.type == "multi":
                    keep = _truthy(data[col], col)
                    rank = np.full(int(keep.sum()), np.nan)
                else:
                    r = pd.to_numeric(data[col], errors="coerce")
                    if (r.isna() & data[col].notna() & data[col].astype("string").ne("")).any():
                        raise ValueError(f"{source}: column {col!r} should hold ranks (numbers)")
                    keep = r.notna().to_numpy()
                    rank = r.to_numpy(dtype=float)[keep]
                parts.append(pd.DataFrame({"row": np.flatnonzero(keep), "item": name, "answer": code, "rank": rank}))
    if not parts:
        raise ValueError(f"{source}: no answers found")
    rows = pd.concat(parts, ignore_index=True).sort_values(["row"], kind="stable")
    idx = rows["row"].to_numpy()
    df = pd.DataFrame(
        {"response_id": rid[idx], "item": rows["item"].to_numpy(), "answer": rows["answer"].astype("string").to_numpy()}
    )
    for col in RESPONDENT_COLUMNS[1:]:
        if col in data.columns:
            df[col] = _codes(data[col]).to_numpy()[idx]
    if codebook and any(m.type == "rank" for m in codebook.values()):
        df["rank"] = rows["rank"].to_numpy()
    try:
        return make_long(df, codebook=codebook)
    except ValueError as error:
        raise ValueError(f"{source} does not match its codebook: {error}") from error


def _sibling_codebook(path: Path) -> Path | None:
    for candidate in (path.with_name(f"{path.stem}_codebook.csv"), path.with_name(f"{path.stem}-codebook.csv")):
        if candidate.is_file():
            return candidate
    # ``sauti export`` names them consultation-<id>-export.<ext> / -codebook.csv
    if path.stem.endswith("-export"):
        candidate = path.with_name(path.stem[: -len("-export")] + "-codebook.csv")
        if candidate.is_file():
            return candidate
    return None


def read_sauti_export(
    path: str | Path,
    codebook: str | Path | Mapping[str, ItemMeta] | None = None,
) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """Read a Sauti export file (``.csv``, ``.xlsx``, ``.sav`` or ``.parquet``) and its codebook.

    ``codebook`` is a path or a mapping; without it the workbook's ``codebook`` sheet or the
    codebook CSV next to the file is used. Returns ``(long, codebook)``.

    Raises
    ------
    ValueError
        The file is missing, of another kind, damaged, or does not match its codebook.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{path.name}: a Sauti export is a {', '.join(EXPORT_SUFFIXES)} file")
    if suffix == ".xlsx":
        data = _clean(_xlsx_sheet(path, "data"))
    elif suffix == ".csv":
        data = _clean(_read_csv(path))
    elif suffix == ".sav":
        data = _clean(_read_sav(path))
    else:
        data = _clean(_read_parquet(path))
    if isinstance(codebook, Mapping):
        cb = dict(codebook)
    elif codebook is not None:
        cb = read_codebook_file(codebook)
    elif suffix == ".xlsx":
        cb = _codebook_from_frame(_xlsx_sheet(path, "codebook"), path.name)
    else:
        found = _sibling_codebook(path)
        if found is None:
            raise ValueError(f"{path.name}: its codebook was not found next to it; give it with --codebook")
        cb = read_codebook_file(found)
    return wide_to_long(data, cb, path.name), cb


def _is_wide_export(path: Path, codebook: str | Path | None) -> bool:
    """Read as a record-level Sauti export (one row per child) unless it is a long-format file
    (an ``item`` column, or a JSON codebook), so that any other file gets the export's messages."""
    if codebook is not None and Path(codebook).suffix.lower() == ".json":
        return False
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".sav"):
        return True
    if suffix == ".csv" and path.is_file():
        with path.open(encoding="utf-8", errors="replace") as fh:
            header = fh.readline().strip().split(",")
        return "item" not in header
    if suffix in (".parquet", ".pq") and path.is_file():
        import duckdb

        with duckdb.connect() as con:
            names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        return "item" not in names
    return False


def read_answers(
    path: str | Path, codebook: str | Path | None = None
) -> tuple[pd.DataFrame, dict[str, ItemMeta] | None]:
    """The answers a report is built from, read from a file: the one loader of both report commands
    (``sauti report --from-export`` and ``python -m analysis.cli report``).

    A Sauti export (one row per child: ``.csv``, ``.xlsx``, ``.sav`` or ``.parquet``, with its
    codebook CSV or sheet) goes through :func:`read_sauti_export`; a long-format file (one row per
    answer) through :func:`analysis.frames.read_export`, with a JSON codebook if one is given
    (else ``None``: the codebook is inferred later).  Returns ``(long, codebook)``.

    Raises
    ------
    ValueError
        The file is missing, damaged, or does not match its codebook.
    """
    from .frames import read_export

    path = Path(path)
    if _is_wide_export(path, codebook):
        return read_sauti_export(path, codebook)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    cb = None
    if codebook is not None:
        cb = codebook_from_dict(json.loads(Path(codebook).read_text(encoding="utf-8")))
    return read_export(path, codebook=cb), cb

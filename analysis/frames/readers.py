"""Reading answers: an export file (CSV, Excel, Parquet with its categories), Parquet written back,
and the survey database itself (:func:`read_database`, read-only SQL)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.frames.codebook import _IDENT, LONG_COLUMNS, RESPONDENT_COLUMNS, ItemMeta
from analysis.frames.shapes import make_long


def read_export(
    path: str | Path,
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Read a long-format Sauti export (``.csv`` or ``.parquet``) into the long schema.

    CSV cells are read as strings (no type guessing, so ``"007"`` stays a code). Parquet is
    read through DuckDB (no pyarrow needed): a snapshot from :func:`write_parquet` stores
    integer codes and its categories in the file's metadata, so it loads without parsing
    strings; any other Parquet file has its text columns turned into DuckDB ENUMs, which
    arrive in pandas as categoricals.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        if "rank" in df.columns:
            df["rank"] = pd.to_numeric(df["rank"])
    elif suffix in (".parquet", ".pq"):
        df = _read_parquet(path)
    else:
        raise ValueError(f"{path.name}: expected a .csv or .parquet export")
    return make_long(df, codebook=codebook, categories=categories)


_KV_KEY = "sauti_categories"


def _read_parquet(path: Path) -> pd.DataFrame:
    import json

    import duckdb

    src = _sql_path(path)
    with duckdb.connect() as con:
        kv = dict(con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [src]).fetchall())
        meta = kv.get(_KV_KEY.encode()) or kv.get(_KV_KEY)
        if meta is not None:
            cats = json.loads(meta.decode() if isinstance(meta, bytes) else meta)
            df = con.execute(f"SELECT * FROM read_parquet('{src}')").df()  # noqa: S608 # nosec B608 - _sql_path
            for col, values in cats.items():
                df[col] = pd.Categorical.from_codes(df[col].to_numpy(), categories=values)
            return df
        cols = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{src}')"  # noqa: S608 # nosec B608 - path checked
        ).fetchall()
        select = []
        for i, (name, typ, *_) in enumerate(cols):
            q = '"' + str(name).replace('"', '""') + '"'
            if typ == "VARCHAR" and name != "response_id":
                vals = [
                    r[0]
                    for r in con.execute(
                        f"SELECT DISTINCT {q} FROM read_parquet('{src}') "  # noqa: S608 # nosec B608 - quoted name, checked path
                        f"WHERE {q} IS NOT NULL ORDER BY 1"
                    ).fetchall()
                ]
                if vals:
                    lit = ", ".join("'" + v.replace("'", "''") + "'" for v in vals)
                    con.execute(f"CREATE TYPE enum_{i} AS ENUM ({lit})")
                    select.append(f"CAST({q} AS enum_{i}) AS {q}")
                    continue
            select.append(q)
        return con.execute(
            f"SELECT {', '.join(select)} FROM read_parquet('{src}')"  # noqa: S608 # nosec B608 - quoted names
        ).df()


def write_parquet(long: pd.DataFrame, path: str | Path) -> Path:
    """Write a long frame as a Parquet snapshot through DuckDB (fast reload later).

    Categorical columns are stored as their integer codes, with the categories in the
    file's key-value metadata; :func:`read_export` restores them without string parsing.
    """
    import json

    import duckdb

    path = Path(path)
    frame = long.copy(deep=False)
    cats = {}
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            cats[col] = [str(c) for c in frame[col].cat.categories]
            frame[col] = frame[col].cat.codes
    meta = json.dumps(cats).replace("'", "''")
    with duckdb.connect() as con:
        con.register("snapshot_frame", frame)
        con.execute(f"COPY snapshot_frame TO '{_sql_path(path)}' (FORMAT parquet, KV_METADATA {{{_KV_KEY}: '{meta}'}})")
    return path


def _sql_path(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise ValueError("snapshot path must not contain a quote")
    return text


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain SQL identifier")
    return f'"{name}"'


def read_database(
    source: Any,
    answers_table: str = "answer",
    respondents_table: str | None = None,
    columns: Mapping[str, str] | None = None,
    consultation: Any = None,
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    chunksize: int = 250_000,
) -> pd.DataFrame:
    """Read the long frame from the survey database, in column chunks.

    The answers table is read in chunks with ``pandas.read_sql`` and each chunk is turned
    into categoricals at once (memory stays near the final frame's size); respondent
    attributes come from a second, small query and are joined by integer codes, never by
    a Python loop and never by a join inside SQLite.

    Parameters
    ----------
    source : DB-API connection, SQLAlchemy engine/connection, or URL string
        A string is turned into an engine with ``sqlalchemy.create_engine``.
    answers_table : str
        Table with one row per answer (``response_id``, ``item``, ``answer`` [, ``rank``]
        and, when ``respondents_table`` is None, the respondent columns too).
    respondents_table : str, optional
        Table with one row per response and the respondent columns.
    columns : mapping, optional
        Canonical column name -> database column name, for both tables.
    consultation : optional
        Only rows whose consultation column equals this value.
    chunksize : int
        Rows per chunk.
    """
    cmap = {c: c for c in (*LONG_COLUMNS, "rank")}
    cmap.update(columns or {})
    engine = source
    if isinstance(source, str):
        import sqlalchemy as sa

        engine = sa.create_engine(source)

    def select(table: str, wanted: Sequence[str], filt: bool) -> tuple[str, list]:
        cols = ", ".join(f"{_ident(cmap[c])} AS {_ident(c)}" for c in wanted)
        sql = f"SELECT {cols} FROM {_ident(table)}"  # noqa: S608 # nosec B608 - identifiers validated
        params: list = []
        if filt and consultation is not None:
            sql += f" WHERE {_ident(cmap['consultation'])} = ?"
            params.append(consultation)
        return sql, params

    def read(sql: str, params: list) -> Iterable[pd.DataFrame]:
        if not hasattr(engine, "cursor") or isinstance(source, str) or type(engine).__module__.startswith("sqlalchemy"):
            import sqlalchemy as sa

            named = sql.replace("?", ":p0") if params else sql
            return pd.read_sql(
                sa.text(named), engine, params={"p0": params[0]} if params else None, chunksize=chunksize
            )
        return pd.read_sql(sql, engine, params=params or None, chunksize=chunksize)

    probe_cols = _table_columns(engine, answers_table, read)
    wanted = ["response_id", "item", "answer"]
    if "rank" in cmap and cmap["rank"] in probe_cols:
        wanted.append("rank")
    if respondents_table is None:
        wanted += [c for c in RESPONDENT_COLUMNS[1:] if cmap[c] in probe_cols]
    has_consultation_col = cmap["consultation"] in probe_cols
    sql, params = select(answers_table, wanted, respondents_table is None and has_consultation_col)
    parts = []
    for chunk in read(sql, params):
        for c in chunk.columns:
            if c not in ("response_id", "rank"):
                chunk[c] = chunk[c].astype("string").astype("category")
        parts.append(chunk)
    if parts:
        from pandas.api.types import union_categoricals

        data = {}
        for c in parts[0].columns:
            if isinstance(parts[0][c].dtype, pd.CategoricalDtype):
                data[c] = union_categoricals([p[c] for p in parts], ignore_order=True)
            else:
                data[c] = np.concatenate([p[c].to_numpy() for p in parts])
        ans = pd.DataFrame(data)
    else:
        ans = pd.DataFrame(columns=wanted)
    if respondents_table is not None:
        rcols = _table_columns(engine, respondents_table, read)
        rwanted = [c for c in RESPONDENT_COLUMNS if cmap[c] in rcols]
        rsql, rparams = select(respondents_table, rwanted, "consultation" in rwanted)
        resp = pd.concat(list(read(rsql, rparams)), ignore_index=True)
        codes = pd.Index(resp["response_id"]).get_indexer(ans["response_id"])
        keep = codes >= 0  # answers of responses outside the filter are dropped
        ans = ans.loc[keep].reset_index(drop=True)
        codes = codes[keep]
        for c in rwanted[1:]:
            ans[c] = resp[c].astype("string").astype("category").iloc[codes].to_numpy()
    return make_long(ans, codebook=codebook, categories=categories)


def _table_columns(engine: Any, table: str, read) -> set[str]:
    sql = f"SELECT * FROM {_ident(table)} WHERE 1 = 0"  # noqa: S608 # nosec B608 - identifier validated
    frames = list(read(sql, []))
    return set(frames[0].columns) if frames else set()

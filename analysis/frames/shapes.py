"""The shapes of the answers: the long frame (:func:`make_long`, :func:`from_wide`), the wide pivot
(:func:`to_wide`), band-specific choice lists as items of their own, and one table per repeat."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.frames.codebook import (
    LONG_COLUMNS,
    RESERVED,
    RESPONDENT_COLUMNS,
    ItemMeta,
    _as_codebook,
    _Codebook,
    _scale_meta,
    infer_codebook,
)


def respondent_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Dense integer codes of ``response_id`` and the id of each code, hashing only if needed.

    Categorical ids use their codes; small non-negative integer ids are their own codes.
    Returns ``(codes, ids)`` with ``ids[codes] == response_id``; some ids may be unused.

    >>> codes, ids = respondent_codes(pd.DataFrame({"response_id": [3, 1, 3]}))
    >>> codes.tolist(), len(ids)
    ([3, 1, 3], 4)
    """
    s = frame["response_id"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return (s.cat.codes.to_numpy().astype(np.int64, copy=False), np.asarray(s.cat.categories))
    values = s.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < 4 * len(values) + 1024:
            return values.astype(np.int64, copy=False), np.arange(hi + 1)
    codes, uniq = pd.factorize(s, sort=True)
    return codes.astype(np.int64), np.asarray(uniq)


def split_band_variants(
    long: pd.DataFrame, codebook: Mapping[str, ItemMeta] | None = None
) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """Give band-specific choice lists items of their own (``EV1`` -> ``EV1[A]`` for band A).

    A 3-point face scale for 8-10 year olds and a 5-point scale for older children cannot
    be pooled, so the band-A answers become item ``EV1[A]`` with its own (scale) metadata;
    everything downstream then treats it as an ordinary item. Vectorised: only the item
    codes change.

    Examples
    --------
    >>> cb = {"EV1": ItemMeta("EV1", "scale", ("no", "bit", "some", "most", "all"),
    ...                       band_choices={"A": ("no", "bit", "lot")})}
    >>> long = make_long(pd.DataFrame({"response_id": [1, 2], "band": ["A", "B"],
    ...                                "item": "EV1", "answer": ["lot", "most"]}), cb)
    >>> long2, cb2 = split_band_variants(long)
    >>> long2["item"].astype(str).tolist(), cb2["EV1[A]"].choices, cb2["EV1[A]"].positive
    (['EV1[A]', 'EV1'], ('no', 'bit', 'lot'), ('lot',))
    """
    cb = _as_codebook(codebook, long)
    if not any(m.band_choices for m in cb.values()):
        return long, cb
    items = list(long["item"].cat.categories)
    bands = list(long["band"].cat.categories)
    new_items = list(items)
    new_cb: dict[str, ItemMeta] = {}
    codes = long["item"].cat.codes.to_numpy().copy()
    band_codes = long["band"].cat.codes.to_numpy()
    for name, meta in cb.items():
        base = ItemMeta(
            meta.name,
            meta.type,
            meta.choices,
            labels=meta.labels,
            label=meta.label,
            sensitive=meta.sensitive,
            bands=meta.bands,
            positive=meta.positive,
            neutral=meta.neutral,
            domain=meta.domain,
        )
        new_cb[name] = base
        groups: dict[tuple[str, ...], list[str]] = {}
        for band, cs in meta.band_choices.items():
            groups.setdefault(tuple(cs), []).append(band)
        for cs, bs in groups.items():
            vname = f"{name}[{'/'.join(bs)}]"
            kw = {"label": meta.label, "sensitive": meta.sensitive, "bands": tuple(bs), "domain": meta.domain}
            new_cb[vname] = _scale_meta(vname, meta.type, list(cs), dict(meta.labels), **kw)
            if name not in items:
                continue
            new_items.append(vname)
            b_idx = [bands.index(b) for b in bs if b in bands]
            mask = (codes == items.index(name)) & np.isin(band_codes, b_idx)
            codes[mask] = len(new_items) - 1
    out = long.copy(deep=False)
    out["item"] = pd.Categorical.from_codes(codes, categories=new_items)
    out.attrs["codebook"] = _Codebook(new_cb)
    return out, _Codebook(new_cb)


def _categorical(values: pd.Series, categories: Sequence[str] | None) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype) and categories is None:
        return values
    s = values.astype("string") if not isinstance(values.dtype, pd.CategoricalDtype) else values
    if categories is None:
        cats = sorted(pd.unique(s.dropna().astype(str)))
    else:
        cats = list(categories)
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = np.unique(s.cat.codes.to_numpy())
            seen = {str(s.cat.categories[c]) for c in used if c >= 0}
        else:
            seen = set(pd.unique(s.dropna().astype(str)))
        extra = sorted(seen - set(cats))
        cats = cats + extra
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.set_categories([str(c) for c in cats]) if list(s.cat.categories) != cats else s
    return pd.Series(pd.Categorical(s, categories=cats), index=values.index, name=values.name)


def make_long(
    df: pd.DataFrame,
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    validate: bool = True,
) -> pd.DataFrame:
    """Coerce a frame to the long schema with categorical dtypes.

    Parameters
    ----------
    df : DataFrame
        At least ``response_id``, ``item`` and ``answer``; the other schema columns are
        added as missing when absent. Extra columns other than ``rank`` are dropped.
    codebook : mapping of item -> ItemMeta, optional
        Fixes the item order and the answer categories (choices + reserved codes).
    categories : mapping of column -> list, optional
        Category order for respondent columns (e.g. ``{"band": ["A", "B", "C"]}``).
    validate : bool
        With a codebook, raise ``ValueError`` for an answer code that is not a choice of
        its item (vectorised check).

    Returns
    -------
    DataFrame
        Columns :data:`LONG_COLUMNS` (+ ``rank``), all categorical; ``response_id`` stays
        integer when it is, otherwise it becomes categorical (hashed once, here).
        The codebook travels in ``attrs["codebook"]`` so later calls need not repeat it.
    """
    missing = {"response_id", "item", "answer"} - set(df.columns)
    if missing:
        raise ValueError(f"the long frame needs columns {sorted(missing)}")
    # Rows are matched by position: a repeated index (frames concatenated from several
    # exports, or a filtered frame) would otherwise be aligned label by label.
    df = df.reset_index(drop=True)
    cb = _as_codebook(codebook)
    categories = dict(categories or {})
    out = {}
    for col in LONG_COLUMNS:
        if col == "response_id":
            ids = df[col]
            if ids.dtype.kind in "iu" or isinstance(ids.dtype, pd.CategoricalDtype):
                out[col] = ids.to_numpy() if ids.dtype.kind in "iu" else ids.array
            else:  # string ids (UUIDs): hash once here, integer codes everywhere after
                out[col] = pd.Categorical(ids.astype("string"))
            continue
        s = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
        if col == "item":
            cats = list(cb) if cb else categories.get("item")
            out[col] = _categorical(s, cats)
        elif col == "answer":
            if cb:
                cats = []
                for meta in cb.values():
                    cats.extend(c for c in meta.choices if c not in cats)
                    for cs in meta.band_choices.values():
                        cats.extend(c for c in cs if c not in cats)
                cats.extend(RESERVED)
            else:
                cats = categories.get("answer")
            out[col] = _categorical(s, cats)
        else:
            out[col] = _categorical(s, categories.get(col))
    long = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    if "rank" in df.columns:
        long["rank"] = pd.to_numeric(df["rank"], errors="raise").to_numpy(dtype=float)
    if cb and validate:
        _validate_codes(long, cb)
    if cb:
        long.attrs["codebook"] = _Codebook(cb)
    return long


def from_wide(
    wide: pd.DataFrame,
    items: Sequence[str] | None = None,
    *,
    id_column: str = "response_id",
    codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None,
    multi_separator: str = " ",
    column_separator: str = "/",
    missing: Iterable[str] = ("", "n/a", "NA"),
    validate: bool = True,
) -> pd.DataFrame:
    """The long frame of a wide table from another tool (KoboToolbox, ODK, a spreadsheet).

    One row per child, one column per question, as most survey tools export. Each item
    becomes rows of ``item, answer``; the respondent columns (:data:`RESPONDENT_COLUMNS`
    present in ``wide``) are copied to every row. The result is :func:`make_long`'s.

    * A **single-choice or scale** column holds one code per child.
    * A **multi-select** item (``type="multi"`` in the codebook) is either one column of
      codes separated by ``multi_separator`` (``"phone tablet"``, as KoboToolbox's and ODK's
      exports) or one true/false column per choice named ``<item><column_separator><code>``
      (``CX1/phone``, their "split" option); each chosen code is one row.
    * Empty cells (NaN, None or one of ``missing``) are skips: the item was shown and not
      answered, a row with a missing answer. Give only the items a child was shown if that
      matters; a tool's wide table cannot tell "not shown" from "skipped".
    * "I'd rather not say" and "I don't know" must already be the reserved codes ``_rns``
      and ``_dk``; recode a tool's own codes for them first.

    Parameters
    ----------
    wide : DataFrame
        One row per child.
    items : list of str, optional
        Item columns to take (default: the codebook's items present in ``wide``, else every
        column that is neither ``id_column`` nor a respondent column).
    id_column : str
        The column identifying the child (copied to ``response_id``; default the row
        number when absent).
    codebook : mapping or list of ItemMeta, optional
        Item types and choices (validated by :func:`make_long` unless ``validate=False``).

    Examples
    --------
    >>> wide = pd.DataFrame({"_id": [11, 12, 13], "band": ["B", "B", "C"],
    ...                      "TR3": ["yes", None, "_rns"],
    ...                      "CX1": ["phone tablet", "phone", ""]})
    >>> cb = [ItemMeta("TR3", "single", ("yes", "no")),
    ...       ItemMeta("CX1", "multi", ("phone", "tablet", "computer"))]
    >>> long = from_wide(wide, id_column="_id", codebook=cb)
    >>> [(int(r), i, a if isinstance(a, str) else None)
    ...  for r, i, a in long[["response_id", "item", "answer"]].itertuples(index=False)]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(11, 'TR3', 'yes'), (12, 'TR3', None), (13, 'TR3', '_rns'),
     (11, 'CX1', 'phone'), (11, 'CX1', 'tablet'), (12, 'CX1', 'phone'), (13, 'CX1', None)]
    """
    cb = _as_codebook(codebook)
    missing = set(missing)
    ids = wide[id_column] if id_column in wide.columns else pd.Series(np.arange(1, len(wide) + 1), index=wide.index)
    ids = ids.reset_index(drop=True)
    if ids.isna().any():
        raise ValueError(f"every row needs a {id_column!r}")
    if ids.duplicated().any():
        raise ValueError(f"{id_column!r} repeats: a wide table has one row per child")
    wide = wide.reset_index(drop=True)
    resp = [c for c in RESPONDENT_COLUMNS if c != "response_id" and c in wide.columns]
    split = {}  # item -> {code: column} for one-column-per-choice multi-selects
    for col in wide.columns:
        item, sep, code = str(col).partition(column_separator)
        if sep and item in cb and cb[item].type == "multi":
            split.setdefault(item, {})[code] = col
    if items is None:
        taken = set(resp) | {id_column}
        items = (
            [i for i in cb if i in wide.columns or i in split] if cb else [c for c in wide.columns if c not in taken]
        )
    frames = []
    for item in items:
        meta = cb.get(item) if cb else None
        if item in split and item not in wide.columns:
            cols = split[item]
            chosen = pd.DataFrame({code: wide[col].map(_truthy) for code, col in cols.items()})
            rows = [
                (i, code)
                for i, r in enumerate(chosen.itertuples(index=False))
                for code, on in zip(cols, r, strict=True)
                if on
            ]
            rows += [(i, None) for i in np.flatnonzero(~chosen.any(axis=1).to_numpy())]
            rows.sort(key=lambda t: t[0])
            pos, answers = [r[0] for r in rows], [r[1] for r in rows]
        elif item in wide.columns:
            values = wide[item].astype("string").str.strip()
            values = values.mask(values.isin(missing))
            if meta is not None and meta.type == "multi":
                parts = values.str.split(multi_separator if multi_separator != " " else None)
                pos, answers = [], []
                for i, p in enumerate(parts):
                    codes = [c for c in p if c] if isinstance(p, list) else []
                    if codes:
                        pos += [i] * len(codes)
                        answers += codes
                    else:
                        pos.append(i)
                        answers.append(None)
            else:
                pos = list(range(len(wide)))
                answers = [None if pd.isna(v) else str(v) for v in values]
        else:
            raise KeyError(f"item {item!r} is not a column of the wide table")
        f = pd.DataFrame({"response_id": ids.to_numpy()[pos], "item": item, "answer": answers})
        for c in resp:
            f[c] = wide[c].astype("string").to_numpy()[pos]
        frames.append(f)
    if not frames:
        raise ValueError("no item columns to take")
    return make_long(pd.concat(frames, ignore_index=True), codebook=cb or None, validate=validate)


def _truthy(v) -> bool:
    """A one-hot cell as true/false ("1", 1, True, "TRUE", "yes" are chosen)."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return False
    return str(v).strip().lower() in ("1", "1.0", "true", "yes", "y", "x")


def _validate_codes(long: pd.DataFrame, cb: Mapping[str, ItemMeta]) -> None:
    items = list(long["item"].cat.categories)
    answers = list(long["answer"].cat.categories)
    unknown_items = sorted(set(items) - set(cb))
    if unknown_items and (long["item"].isin(unknown_items)).any():
        raise ValueError(f"items {unknown_items[:5]} are not in the codebook")
    pos = {a: j for j, a in enumerate(answers)}
    ok = np.zeros((len(items) + 1, len(answers) + 1), dtype=bool)
    ok[:, -1] = True  # missing answer = shown and skipped
    for i, it in enumerate(items):
        meta = cb.get(it)
        if meta is None:
            continue
        variants = tuple(c for cs in meta.band_choices.values() for c in cs)
        allowed = meta.choices + variants + RESERVED if meta.type != "text" else tuple(answers)
        for code in allowed:
            if code in pos:
                ok[i, pos[code]] = True
    ic = long["item"].cat.codes.to_numpy()
    ac = long["answer"].cat.codes.to_numpy()
    bad = ~ok[ic, ac]
    if bad.any():
        first = np.flatnonzero(bad)[:3]
        pairs = [(items[ic[j]], answers[ac[j]]) for j in first]
        raise ValueError(f"{int(bad.sum())} answers are not choices of their item, e.g. {pairs}")


def substantive(codes: Iterable[str]) -> list[str]:
    """The codes that are not reserved.

    >>> substantive(["yes", "_rns", "no", "_dk"])
    ['yes', 'no']
    """
    return [c for c in codes if c not in RESERVED]


def to_wide(long: pd.DataFrame, codebook: Mapping[str, ItemMeta] | Iterable[ItemMeta] | None = None) -> pd.DataFrame:
    """One row per response: respondent columns, then one column per item.

    Single and scale items become a categorical column (choices + reserved codes; missing
    when skipped). Multi-select items become one boolean column per code, named
    ``"item/code"`` (reserved codes included); ranked items one float column per code
    holding the rank. Vectorised (no Python loop over rows).

    Parameters
    ----------
    long : DataFrame
        A frame from :func:`make_long`.
    codebook : mapping, optional
        Item metadata; inferred with :func:`infer_codebook` when absent.

    Returns
    -------
    DataFrame
        Indexed by ``response_id`` (sorted).
    """
    cb = _as_codebook(codebook, long) or infer_codebook(long)
    rc, all_ids = respondent_codes(long)
    present = np.zeros(len(all_ids), dtype=bool)
    present[rc] = True
    remap = np.cumsum(present) - 1
    rid_codes = remap[rc]
    n = int(present.sum())
    rids = all_ids[present]
    last = np.empty(n, dtype=np.int64)
    last[rid_codes] = np.arange(len(long))
    cols: dict[str, Any] = {}
    for col in RESPONDENT_COLUMNS[1:]:
        s = long[col]
        cols[col] = s.iloc[last].reset_index(drop=True) if col in long else None
    items = list(long["item"].cat.categories)
    answers = list(long["answer"].cat.categories)
    ic = long["item"].cat.codes.to_numpy()
    ac = long["answer"].cat.codes.to_numpy()
    has_rank = "rank" in long.columns
    order = np.argsort(ic, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ic[ic >= 0], minlength=len(items)))])
    n_missing_item = int((ic < 0).sum())
    order = order[n_missing_item:]  # rows without an item sort first (code -1)
    for i, item in enumerate(items):
        blk = order[bounds[i] : bounds[i + 1]]
        meta = cb.get(item)
        if meta is None or meta.type == "text":
            continue
        r = rid_codes[blk]
        a = ac[blk]
        # Band-specific choice lists (a face scale for band A) keep their codes: without
        # them an export taken before split_band_variants would lose those answers.
        extra = [c for cs in meta.band_choices.values() for c in cs if c not in meta.choices]
        codes = list(meta.choices) + list(dict.fromkeys(extra)) + list(RESERVED)
        lut = np.full(len(answers) + 1, -1, dtype=np.int16)
        for j, code in enumerate(codes):
            if code in answers:
                lut[answers.index(code)] = j
        mapped = lut[a]  # -1 for missing answer (code -1 indexes the sentinel at the end)
        if meta.type in ("single", "scale"):
            arr = np.full(n, -1, dtype=np.int16)
            arr[r] = mapped
            cols[item] = pd.Categorical.from_codes(arr, categories=codes)
        elif meta.type == "multi":
            for j, code in enumerate(codes):
                arr = np.zeros(n, dtype=bool)
                arr[r[mapped == j]] = True
                cols[f"{item}/{code}"] = arr
        elif meta.type == "rank":
            rk = long["rank"].to_numpy()[blk] if has_rank else np.full(len(blk), np.nan)
            for j, code in enumerate(codes[: len(codes) - len(RESERVED)]):
                arr = np.full(n, np.nan)
                m = mapped == j
                arr[r[m]] = rk[m]
                cols[f"{item}/{code}"] = arr
    wide = pd.DataFrame({k: v for k, v in cols.items() if v is not None})
    wide.index = pd.Index(rids, name="response_id")
    wide.attrs["codebook"] = _Codebook(cb)
    return wide


def repeat_item_names(instrument: Any) -> set[str]:
    """Every answer name asked in a repeat's instances (matrix rows expanded).

    Their answers belong to an instance, not to the response: they are left out of the long
    frame and read by :func:`repeat_frames`.
    """
    names: set[str] = set()
    for page in getattr(instrument, "pages", ()):
        if getattr(page, "repeat", None) is None:
            continue
        for item in page.items:
            names.add(item.name)
            if str(getattr(item.type, "value", item.type)) == "matrix":
                names |= {f"{item.name}_{row.name}" for row in instrument.rows_for(item)}
    return names


def _stored_code(value: Any) -> Any:
    """A stored value as an export shows it: a multi-select's JSON list as codes joined by
    spaces (as ODK and KoboToolbox export them), anything else as it is."""
    if isinstance(value, str) and value.startswith("["):
        import json

        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, list):
            return " ".join(str(v) for v in decoded)
    return value


def repeat_frames(instrument: Any, answers: pd.DataFrame, *, include_text: bool = False) -> dict[str, pd.DataFrame]:
    """One frame per repeat: one row per instance, linked to its response.

    Parameters
    ----------
    instrument : instruments.model.Instrument
        Gives the repeats, their items and their nesting.
    answers : DataFrame
        Stored answers with ``response_id``, ``item``, ``parent_instance``, ``instance`` and
        ``answer`` (as stored: a code, a number, text or a JSON list). Rows outside repeats are
        ignored; a row under a repeat's own name is the number of instances the child added.
    include_text : bool
        Keep open-text items (never released unread: off by default).

    Returns
    -------
    dict
        Repeat name -> frame with ``response_id``, ``parent_instance`` (the outer instance of
        a repeat inside another, else 0), ``instance`` and one column per item, sorted. An
        instance the child added but left unanswered is a row of missing values.

    Examples
    --------
    >>> from instruments import import_xlsform
    >>> inst = import_xlsform('''
    ... | survey |
    ... | | type | name | label |
    ... | | begin_repeat | pets | A pet |
    ... | | integer | legs | How many legs? |
    ... | | end_repeat | | |
    ... ''').instrument
    >>> stored = pd.DataFrame({"response_id": [7, 7, 7, 8], "item": ["legs", "legs", "pets", "legs"],
    ...                        "parent_instance": 0, "instance": [1, 2, 0, 1],
    ...                        "answer": ["4", "2", "3", "_rns"]})
    >>> repeat_frames(inst, stored)["pets"]
       response_id  parent_instance  instance  legs
    0            7                0         1     4
    1            7                0         2     2
    2            7                0         3  <NA>
    3            8                0         1  _rns
    """
    out: dict[str, pd.DataFrame] = {}
    repeats = tuple(getattr(instrument, "repeats", ()))
    if not repeats:
        return out
    df = answers.copy()
    for column in ("parent_instance", "instance"):
        df[column] = pd.to_numeric(df[column], errors="coerce").fillna(0).astype(np.int64)
    for repeat in repeats:
        items = [
            item
            for item in instrument.repeat_items(repeat.name)
            if str(getattr(item.type, "value", item.type)) not in ("note", "calculate")
            and (include_text or str(getattr(item.type, "value", item.type)) != "text")
        ]
        names = [item.name for item in items]
        nested = repeat.parent is not None
        rows = df[df["item"].isin(names) & (df["instance"] > 0) & ((df["parent_instance"] > 0) == nested)]
        keys = rows[["response_id", "parent_instance", "instance"]]
        # instances added with "add another" and left unanswered still count
        counted = df[(df["item"] == repeat.name)]
        extra = []
        for response, outer, stored in counted[["response_id", "instance", "answer"]].itertuples(index=False):
            number = pd.to_numeric(stored, errors="coerce")
            if pd.notna(number):
                for n in range(1, int(min(number, repeat.maximum)) + 1):
                    extra.append((response, int(outer) if nested else 0, n))
        keys = pd.concat([keys, pd.DataFrame(extra, columns=keys.columns)], ignore_index=True)
        frame = keys.drop_duplicates().sort_values(["response_id", "parent_instance", "instance"])
        frame = frame.reset_index(drop=True)
        if len(rows):
            wide = rows.assign(answer=rows["answer"].map(_stored_code)).pivot_table(
                index=["response_id", "parent_instance", "instance"], columns="item", values="answer", aggfunc="first"
            )
            frame = frame.merge(wide.reset_index(), how="left", on=["response_id", "parent_instance", "instance"])
        for name in names:
            frame[name] = frame[name] if name in frame else pd.Series(pd.NA, index=frame.index)
            frame[name] = frame[name].astype("string")
        out[repeat.name] = frame[["response_id", "parent_instance", "instance", *names]]
    return out

"""Tidy frames of responses: the long schema, the wide pivot and the readers.

Three parts: :mod:`~analysis.frames.codebook` (the reserved codes, the columns and the item
metadata, :class:`ItemMeta`, from an instrument or inferred), :mod:`~analysis.frames.shapes` (the
long frame, the wide pivot, band variants and the repeats' tables) and
:mod:`~analysis.frames.readers` (export files, Parquet and the database).

The **long frame** has one row per answer: ``response_id``, ``consultation``, ``item``,
``answer`` (a choice *code*, never a label) and the respondent's ``band``, ``gender``,
``disability``, ``disability_method``, ``setting``, ``language`` and ``site``. A
multi-select answer is one row per chosen code; a ranked item carries the position in an
optional ``rank`` column. A row whose ``answer`` is missing records an item that was shown
and skipped. "I'd rather not say" (:data:`RNS`) and "I don't know" (:data:`DK`) are distinct,
stored codes and are never turned into missing values.

All text columns are pandas ``Categorical``; the answer categories come from the item
metadata (:class:`ItemMeta`) when it is given, so empty categories still appear in tables.

Examples
--------
>>> import pandas as pd
>>> long = make_long(pd.DataFrame({
...     "response_id": [1, 1, 2, 2, 2],
...     "item": ["q1", "q2", "q1", "q2", "q2"],
...     "answer": ["yes", "tv", "_rns", "tv", "radio"],
...     "band": ["A", "A", "B", "B", "B"]}),
...     codebook={"q1": ItemMeta("q1", "single", ("yes", "no")),
...               "q2": ItemMeta("q2", "multi", ("tv", "radio"))})
>>> wide = to_wide(long)
>>> wide[["band", "q1", "q2/tv", "q2/radio"]].reset_index()
   response_id band    q1  q2/tv  q2/radio
0            1    A   yes   True     False
1            2    B  _rns   True      True
"""

from __future__ import annotations

from analysis.frames.codebook import (
    _IDENT as _IDENT,
)
from analysis.frames.codebook import (
    _ITEM_TYPES as _ITEM_TYPES,
)
from analysis.frames.codebook import (
    DK as DK,
)
from analysis.frames.codebook import (
    LONG_COLUMNS as LONG_COLUMNS,
)
from analysis.frames.codebook import (
    RESERVED as RESERVED,
)
from analysis.frames.codebook import (
    RESPONDENT_COLUMNS as RESPONDENT_COLUMNS,
)
from analysis.frames.codebook import (
    RNS as RNS,
)
from analysis.frames.codebook import (
    ItemMeta as ItemMeta,
)
from analysis.frames.codebook import (
    _as_codebook as _as_codebook,
)
from analysis.frames.codebook import (
    _Codebook as _Codebook,
)
from analysis.frames.codebook import (
    _scale_meta as _scale_meta,
)
from analysis.frames.codebook import (
    codebook_from_dict as codebook_from_dict,
)
from analysis.frames.codebook import (
    codebook_from_instrument as codebook_from_instrument,
)
from analysis.frames.codebook import (
    codebook_to_dict as codebook_to_dict,
)
from analysis.frames.codebook import (
    infer_codebook as infer_codebook,
)
from analysis.frames.readers import (
    _KV_KEY as _KV_KEY,
)
from analysis.frames.readers import (
    _ident as _ident,
)
from analysis.frames.readers import (
    _read_parquet as _read_parquet,
)
from analysis.frames.readers import (
    _sql_path as _sql_path,
)
from analysis.frames.readers import (
    _table_columns as _table_columns,
)
from analysis.frames.readers import (
    read_database as read_database,
)
from analysis.frames.readers import (
    read_export as read_export,
)
from analysis.frames.readers import (
    write_parquet as write_parquet,
)
from analysis.frames.shapes import (
    _categorical as _categorical,
)
from analysis.frames.shapes import (
    _stored_code as _stored_code,
)
from analysis.frames.shapes import (
    _truthy as _truthy,
)
from analysis.frames.shapes import (
    _validate_codes as _validate_codes,
)
from analysis.frames.shapes import (
    from_wide as from_wide,
)
from analysis.frames.shapes import (
    make_long as make_long,
)
from analysis.frames.shapes import (
    repeat_frames as repeat_frames,
)
from analysis.frames.shapes import (
    repeat_item_names as repeat_item_names,
)
from analysis.frames.shapes import (
    respondent_codes as respondent_codes,
)
from analysis.frames.shapes import (
    split_band_variants as split_band_variants,
)
from analysis.frames.shapes import (
    substantive as substantive,
)
from analysis.frames.shapes import (
    to_wide as to_wide,
)

__all__ = [
    "DK",
    "LONG_COLUMNS",
    "RESERVED",
    "RESPONDENT_COLUMNS",
    "RNS",
    "ItemMeta",
    "codebook_from_dict",
    "codebook_from_instrument",
    "codebook_to_dict",
    "from_wide",
    "infer_codebook",
    "make_long",
    "read_database",
    "read_export",
    "repeat_frames",
    "repeat_item_names",
    "respondent_codes",
    "split_band_variants",
    "substantive",
    "to_wide",
    "write_parquet",
]

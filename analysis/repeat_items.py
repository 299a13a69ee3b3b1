"""Questions asked in a repeat's instances, counted per child for the results and the report.

A repeat asks the same questions once per instance (each friend, each activity): its answers
describe instances, not children. The results page and the report count children, and their
disclosure rules (small cells hidden, small denominators not shown) are rules about children,
so an instance question is shown there as a question about the child: *the children who gave
this answer in at least one instance*. That is a multi-select item (a child may give several
answers over their instances), so it goes through the same frequencies, charts and release
rules as every other item; the record-level export keeps its table per repeat instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from .frames import RESERVED, ItemMeta

__all__ = ["REPEAT_LABEL_SUFFIX", "by_child"]

#: Added to the question's words in the results: the shares are of children, not instances.
REPEAT_LABEL_SUFFIX = " (in any of their answers to this repeated question)"

_COUNTED = ("single", "multi", "scale")


def _codes(value: object) -> list[str]:
    """One stored value as codes: a JSON list (select_multiple) or a bare code."""
    text = str(value)
    if text.startswith("["):
        try:
            decoded = json.loads(text)
        except ValueError:
            return [text]
        return [str(v) for v in decoded] if isinstance(decoded, list) else [text]
    return [text]


def by_child(raw: pd.DataFrame, codebook: Mapping[str, ItemMeta]) -> tuple[pd.DataFrame, dict[str, ItemMeta]]:
    """Answers given in repeat instances, as one row per child, item and code.

    Parameters
    ----------
    raw : DataFrame
        ``response_id``, ``item`` and ``answer`` (as stored: a code or a JSON list), one row per
        instance answered; other columns are ignored.
    codebook : mapping
        Metadata of the items asked in repeats. Choice and scale items are kept; free text,
        numbers and rankings are not counted this way.

    Returns
    -------
    rows : DataFrame
        ``response_id``, ``item``, ``answer``: a code a child gave in at least one instance
        (once, however many instances gave it).
    codebook : dict
        The kept items as multi-select items, their words saying the shares are of children.

    Examples
    --------
    >>> meta = ItemMeta("pet_kind", "single", ("dog", "cat"), label="Which animal?")
    >>> raw = pd.DataFrame({"response_id": [1, 1, 1, 2], "item": ["pet_kind"] * 4,
    ...                     "answer": ["dog", "dog", "cat", "_rns"]})
    >>> rows, cb = by_child(raw, {"pet_kind": meta})
    >>> sorted(map(tuple, rows.to_numpy().tolist()))
    [(1, 'pet_kind', 'cat'), (1, 'pet_kind', 'dog'), (2, 'pet_kind', '_rns')]
    >>> cb["pet_kind"].type
    'multi'
    """
    kept = {name: meta for name, meta in codebook.items() if meta.type in _COUNTED}
    columns = ["response_id", "item", "answer"]
    if raw.empty or not kept:
        return pd.DataFrame(columns=columns), {}
    rows = raw.loc[raw["item"].isin(list(kept)) & raw["answer"].notna(), columns].copy()
    rows["answer"] = rows["answer"].map(_codes)
    rows = rows.explode("answer").dropna(subset=["answer"])
    rows["answer"] = rows["answer"].astype(str)
    allowed = {name: set(meta.choices) | set(RESERVED) for name, meta in kept.items()}
    rows = rows[[answer in allowed[item] for item, answer in zip(rows["item"], rows["answer"], strict=True)]]
    rows = rows.drop_duplicates().reset_index(drop=True)
    metas = {
        name: replace(meta, type="multi", positive=(), neutral=None, label=(meta.label or name) + REPEAT_LABEL_SUFFIX)
        for name, meta in kept.items()
        if name in set(rows["item"])
    }
    return rows[rows["item"].isin(list(metas))].reset_index(drop=True), metas

"""Released tables as flat rows with stable column names (the API's JSON and CSV, issue 23).

A stored release (:func:`analysis.release.build_release`) keeps each published table in the
shape the results page draws.  Dashboards (Power BI, Excel, R, pandas) want one shape for every
table: one row per published cell, the same columns in the same order, whatever the table.
:func:`table_rows` gives those rows from a ledger table; nothing is computed, every number is a
number of the release (``tests/survey/test_api.py`` checks it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analysis.exports import neutralise

#: The columns of every released table, in order.  Renaming one breaks dashboards: add, never rename.
COLUMNS = ("table", "group", "population", "group_total", "answer", "codes", "count", "percent", "coded")


def _population(pop: Mapping[str, Sequence[str]] | None) -> str:
    """A population as stable text: ``band=A|B;site=s1`` (empty for all children)."""
    if not pop:
        return ""
    return ";".join(f"{dim}={'|'.join(str(v) for v in values)}" for dim, values in sorted(pop.items()))


def table_rows(
    key: str, population: Mapping[str, Sequence[str]] | None, n: int, cells: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One dict per published cell of a ledger table, with the keys of :data:`COLUMNS`.

    Parameters
    ----------
    key : str
        The table's key in the ledger (``participation:band``, ``item:q_who``,
        ``item:q_who:by:band``).
    population : mapping
        The table's population (which age groups were asked).
    n : int
        The table's number of children.
    cells : sequence of mapping
        The table's cells as stored: participation rows (``label``, ``population``, ``count``),
        an item's cells (``label``, ``codes``, ``count``, ``percent``, ``coded``) or a
        breakdown's rows (``label``, ``population``, ``total``, ``cells``).

    Returns
    -------
    list of dict
        ``count`` and ``percent`` are None where the release hides them.

    Examples
    --------
    >>> rows = table_rows("item:q_who", {"band": ["B"]}, 30,
    ...                   [{"label": "A friend", "codes": ["friend"], "count": 12, "percent": 40,
    ...                     "coded": None, "other": False}])
    >>> [(r["answer"], r["count"], r["percent"], r["group_total"]) for r in rows]
    [('A friend', 12, 40, 30)]
    >>> table_rows("participation:all", {}, 30, [{"label": "All children", "population": {}, "count": 30}])[0]["count"]
    30
    """
    rows: list[dict[str, Any]] = []
    for cell in cells:
        if "cells" in cell:  # a breakdown's row: one group, its cells
            for inner in cell["cells"]:
                rows.append(_row(key, cell["label"], cell.get("population"), cell.get("total"), inner))
        elif "codes" in cell:  # an item's cell, for all the children asked
            rows.append(_row(key, "All children asked", population, n, cell))
        else:  # a participation row: a group and its count
            rows.append(
                {
                    "table": key,
                    "group": cell["label"],
                    "population": _population(cell.get("population")),
                    "group_total": None,
                    "answer": "",
                    "codes": "",
                    "count": cell.get("count"),
                    "percent": None,
                    "coded": None,
                }
            )
    return rows


def _row(key: str, group: str, population, total, cell: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "table": key,
        "group": group,
        "population": _population(population),
        "group_total": None if total is None else int(total),
        "answer": cell["label"],
        "codes": "|".join(str(c) for c in cell.get("codes", ())),
        "count": cell.get("count"),
        "percent": cell.get("percent"),
        "coded": cell.get("coded"),
    }


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text (UTF-8 with a byte-order mark, so that Excel reads accents) with :data:`COLUMNS`.

    Hidden numbers are empty cells, which Power BI and Excel read as blanks, not zeros.  Text
    that a spreadsheet would run as a formula is prefixed with an apostrophe.

    Examples
    --------
    >>> print(rows_to_csv([{"table": "t", "group": "g", "population": "", "group_total": 30, "answer": "=1+1",
    ...                     "codes": "x", "count": None, "percent": 40, "coded": None}]).lstrip("\\ufeff"), end="")
    table,group,population,group_total,answer,codes,count,percent,coded
    t,g,,30,'=1+1,x,,40,
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else neutralise(row[c]) for c in COLUMNS])
    return "\ufeff" + out.getvalue()


def population_of(text: str) -> dict[str, list[str]]:
    """The population from its text form (the inverse of the ``population`` column).

    >>> population_of("band=A|B;site=s1")
    {'band': ['A', 'B'], 'site': ['s1']}
    """
    out: dict[str, list[str]] = {}
    for part in filter(None, text.split(";")):
        dim, _, values = part.partition("=")
        out[dim] = values.split("|")
    return out

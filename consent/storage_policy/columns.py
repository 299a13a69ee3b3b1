"""Checking columns and values: :func:`classify_field`, :func:`forbidden_columns` over a schema,
and the coarsening a child's data needs (dates not times, an age group not an age)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from consent.bands import DEFAULT_BANDS, Band
from consent.storage_policy.rules import FORBIDDEN_RULES, FieldKind, _tokens

_TIME_TYPES = re.compile(r"^(DATETIME|TIMESTAMP|TIME|TIMETZ|DATETIME2|DATETIMEOFFSET)\b")
_TIMESTAMP_FIX = "store a Date (coarsen_to_date) or a session-level window, never a time of day"


@dataclass(frozen=True, slots=True)
class Finding:
    """A column that must not exist in a child-data table.

    Attributes
    ----------
    table, column, type_name : str
    kind : FieldKind
    requirement : str
    fix : str
        What to store instead.
    """

    table: str
    column: str
    type_name: str
    kind: FieldKind
    requirement: str
    fix: str

    def __str__(self) -> str:
        return (
            f"{self.table}.{self.column} ({self.type_name}) looks like {self.kind.value} "
            f"[{self.requirement}]: {self.fix}"
        )


def classify_field(name: str, type_name: str | None = None) -> FieldKind | None:
    """Return the forbidden kind a column (or log key) name or type reveals, or ``None``.

    ``type_name`` is a SQLAlchemy type class name (``"DateTime"``) or a SQL type
    (``"TIMESTAMP WITH TIME ZONE"``); any type holding a time of day is an exact timestamp.

    Examples
    --------
    >>> classify_field("guardian_name"), classify_field("instrument_name")
    (<FieldKind.PERSON_NAME: 'person_name'>, None)
    >>> classify_field("created_at", "DateTime"), classify_field("created_on", "Date")
    (<FieldKind.EXACT_TIMESTAMP: 'exact_timestamp'>, None)
    >>> classify_field("remoteAddr"), classify_field("code_hash")
    (<FieldKind.IP_ADDRESS: 'ip_address'>, None)
    """
    for rule in FORBIDDEN_RULES:
        if rule.matches(name) or rule.matches("_".join(_tokens(name))):
            return rule.kind
    if type_name is not None and _TIME_TYPES.match(type_name.strip().upper()):
        return FieldKind.EXACT_TIMESTAMP
    return None


def forbidden_columns(
    table_columns: Mapping[str, Iterable[tuple[str, str]]],
    *,
    allow: Iterable[str] = (),
) -> list[Finding]:
    """List the columns of child-data tables that could hold data children must not give.

    Parameters
    ----------
    table_columns : mapping of table name to iterable of (column name, type name)
        The child-data tables only (see the module docstring).
    allow : iterable of str
        Reviewed exceptions as ``"table.column"`` (e.g. an exact age the ethics board approved).

    Returns
    -------
    list of Finding
        Sorted by table then column; empty when the schema is clean.

    Examples
    --------
    >>> schema = {"responses": [("id", "Uuid"), ("band", "String"), ("ip_address", "String"),
    ...                         ("submitted_at", "DateTime"), ("submitted_on", "Date")]}
    >>> [(f.column, f.kind.value) for f in forbidden_columns(schema)]
    [('ip_address', 'ip_address'), ('submitted_at', 'exact_timestamp')]
    """
    allowed = set(allow)
    findings: list[Finding] = []
    for table, columns in table_columns.items():
        for column, type_name in columns:
            if f"{table}.{column}" in allowed:
                continue
            kind = classify_field(column, type_name)
            if kind is None:
                continue
            if kind is FieldKind.EXACT_TIMESTAMP:
                requirement, fix = "DP-02", _TIMESTAMP_FIX
            else:
                rule = next(r for r in FORBIDDEN_RULES if r.kind is kind)
                requirement, fix = rule.requirement, rule.fix
            findings.append(Finding(table, column, str(type_name), kind, requirement, fix))
    findings.sort(key=lambda f: (f.table, f.column))
    return findings


def coarsen_to_date(moment: datetime | date, tz: tzinfo | None = None) -> date:
    """Drop the time of day: the only form in which children's activity is dated (DP-02).

    Parameters
    ----------
    moment : datetime or date
        A date is returned unchanged.
    tz : tzinfo, optional
        For an aware ``moment``, the zone whose calendar date is wanted (the consultation's
        local zone); without it the moment's own zone is used.

    Examples
    --------
    >>> from datetime import datetime, timezone, timedelta
    >>> coarsen_to_date(datetime(2026, 11, 29, 23, 30))
    datetime.date(2026, 11, 29)
    >>> nairobi = timezone(timedelta(hours=3))
    >>> coarsen_to_date(datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc), nairobi)
    datetime.date(2026, 11, 30)
    """
    if isinstance(moment, datetime):
        if tz is not None and moment.tzinfo is not None:
            moment = moment.astimezone(tz)
        return moment.date()
    if isinstance(moment, date):
        return moment
    raise TypeError(f"expected a datetime or date, got {type(moment).__name__}")


def age_to_band(age: int, bands: Sequence[Band] = DEFAULT_BANDS) -> Band | None:
    """Map an age in whole years to its band, or ``None`` if no band covers it.

    The exact age is used only for this mapping and then dropped (D-01).  Ages outside every
    band (under 8, or 18 and over by default) return ``None``: the app explains that this
    consultation is for another age group.

    Examples
    --------
    >>> age_to_band(12).code
    'B'
    >>> age_to_band(7) is None, age_to_band(18) is None
    (True, True)
    """
    if isinstance(age, bool) or not isinstance(age, int):
        raise TypeError(f"age must be whole years (int), got {age!r}")
    for band in bands:
        if band.contains(age):
            return band
    return None

"""What may be stored about children, stated once (DP-01, DP-02, C-10, §3.7).

The survey app's schema test calls :func:`forbidden_columns` on its SQLAlchemy metadata, passed
as plain ``{table: [(column name, type name), ...]}`` so this module stays free of Flask and
SQLAlchemy::

    tables = {t.name: [(c.name, type(c.type).__name__) for c in t.columns]
              for t in db.metadata.sorted_tables if t.name in CHILD_DATA_TABLES}
    assert forbidden_columns(tables) == []

Pass the tables that hold children's data (responses, answers, participants/cards, consent
events, session logs, safeguarding queue); staff tables legitimately hold staff e-mail
addresses.  A reviewed exception is passed as ``allow={"table.column"}``.

The same rules check log-record keys (:func:`classify_field`), so child-facing request logs can
be tested for IP addresses and user agents.
"""

from __future__ import annotations

from consent.storage_policy.columns import (
    _TIME_TYPES as _TIME_TYPES,
)
from consent.storage_policy.columns import (
    _TIMESTAMP_FIX as _TIMESTAMP_FIX,
)
from consent.storage_policy.columns import (
    Finding as Finding,
)
from consent.storage_policy.columns import (
    age_to_band as age_to_band,
)
from consent.storage_policy.columns import (
    classify_field as classify_field,
)
from consent.storage_policy.columns import (
    coarsen_to_date as coarsen_to_date,
)
from consent.storage_policy.columns import (
    forbidden_columns as forbidden_columns,
)
from consent.storage_policy.joins import (
    JoinPath as JoinPath,
)
from consent.storage_policy.joins import (
    join_paths as join_paths,
)
from consent.storage_policy.labels import (
    _LABEL_CHARS as _LABEL_CHARS,
)
from consent.storage_policy.labels import (
    _SCHOOL_WORDS as _SCHOOL_WORDS,
)
from consent.storage_policy.labels import (
    normalize_station_label as normalize_station_label,
)
from consent.storage_policy.labels import (
    site_code_problem as site_code_problem,
)
from consent.storage_policy.rules import (
    _PERSON_WORDS as _PERSON_WORDS,
)
from consent.storage_policy.rules import (
    FORBIDDEN_RULES as FORBIDDEN_RULES,
)
from consent.storage_policy.rules import (
    FieldKind as FieldKind,
)
from consent.storage_policy.rules import (
    ForbiddenRule as ForbiddenRule,
)
from consent.storage_policy.rules import (
    _rule as _rule,
)
from consent.storage_policy.rules import (
    _tokens as _tokens,
)

__all__ = [
    "FORBIDDEN_RULES",
    "JoinPath",
    "FieldKind",
    "Finding",
    "ForbiddenRule",
    "age_to_band",
    "classify_field",
    "coarsen_to_date",
    "forbidden_columns",
    "join_paths",
    "normalize_station_label",
    "site_code_problem",
]

"""Upgrading and downgrading a database with children's data in it loses no row.

SQLite rebuilds a table to change it (Alembic's batch mode): a copy, then the old table dropped.
With foreign keys on, dropping a consultation or participant table deletes every row that points at
it (ON DELETE CASCADE): a downgrade once emptied every consultation's team this way.  This fills a
database made at an older revision through its real tables, then migrates it up and back down.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from survey.extensions import db

OLD = "9c41e7d2b6a3"  # the schema of the first release with the release ledger and export approvals
TABLES = (
    "staff_user",
    "consultation",
    "membership",
    "participant",
    "answer",
    "page_save",
    "assent_event",
    "concern_flag",
    "signal",
)
#: Values a CHECK constraint or a rule needs; other columns get a plain value of their type.
CHOSEN = {
    ("consultation", "state"): "open",
    ("participant", "state"): "answering",
    ("participant", "permission"): "permission_seen",
    ("membership", "role"): ("facilitator", "analyst", "safeguarding"),
    ("concern_flag", "status"): "open",
    ("signal", "status"): "open",
    ("staff_user", "roles"): "facilitator",
    ("assent_event", "outcome"): "yes",
    ("consultation", "languages"): "en",
    ("consultation", "age_bands"): "B",
}


def _value(table: str, column: sa.Column, row: int):  # a value of the column's type
    if (table, column.name) in CHOSEN:
        chosen = CHOSEN[(table, column.name)]
        return chosen[(row - 1) % len(chosen)] if isinstance(chosen, tuple) else chosen
    if column.foreign_keys:
        return 1 if isinstance(column.type, sa.Integer) else f"{next(iter(column.foreign_keys)).column.table.name}-1"
    if column.primary_key:
        return row if isinstance(column.type, sa.Integer) else f"{table}-{row}"
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return row
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 11, 1, 9, 0)
    if isinstance(kind, sa.Date):
        return dt.date(2026, 11, 1)
    return f"{table[:3]}{column.name[:6]}{row}"


def _fill(connection, rows_per_table: int = 3) -> dict[str, int]:  # a Connection
    metadata = sa.MetaData()
    metadata.reflect(connection, only=TABLES)
    for name in TABLES:
        table = metadata.tables[name]
        per = 1 if name in ("staff_user", "consultation") else rows_per_table
        connection.execute(
            table.insert(),
            [
                {
                    column.name: _value(name, column, row)
                    for column in table.columns
                    if not (column.nullable and not column.primary_key)
                }
                for row in range(1, per + 1)
            ],
        )
    return _counts(connection)


def _counts(connection) -> dict[str, int]:  # a Connection
    return {name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar() for name in TABLES}


def test_upgrading_and_downgrading_keeps_every_row(tmp_path) -> None:
    """On SQLite, where tables are rebuilt (PostgreSQL alters them in place)."""
    from flask_migrate import downgrade, upgrade

    from survey import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'old.sqlite'}"), instance_path=str(tmp_path / "i"))
    with app.app_context():
        upgrade(revision=OLD)
        with db.engine.begin() as connection:
            before = _fill(connection)
        assert before["answer"] == 3 and before["membership"] == 3
        upgrade()
        with db.engine.connect() as connection:
            after = _counts(connection)
        # The team migration adds an owner to each consultation; nothing else changes.
        assert {**after, "membership": after["membership"] - 1} == before
        db.session.remove()
        downgrade(revision=OLD)
        with db.engine.connect() as connection:
            assert _counts(connection) == before
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.session.remove()
        db.engine.dispose()

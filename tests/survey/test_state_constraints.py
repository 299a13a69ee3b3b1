"""Every state and decision column accepts only its enum's values, in the database itself.

The enums (survey/states.py, consent.states.State, consent.permission.CardState) are the one
definition; the models store them through SQLAlchemy's Enum (no native enum type, a CHECK
constraint), and migration e4b7c9a2d150 adds the same constraints to existing databases.
These tests run on the migrated test database (SQLite, or PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent.permission import CardState
from consent.states import ANSWERING_STATES, RESUMABLE_STATES, State
from survey import states
from survey.extensions import db
from survey.models import Model

# table -> column -> the enum that owns its values
COLUMNS = {
    ("consultation", "state"): states.ConsultationState,
    ("participant", "state"): State,
    ("participant", "permission"): CardState,
    ("facilitation_session", "state"): states.SessionState,
    ("signal", "status"): states.SignalStatus,
    ("concern_flag", "status"): states.ConcernStatus,
    ("checklist_answer", "status"): states.ChecklistStatus,
    ("influence_entry", "decision"): states.Decision,
    ("feedback_sheet", "state"): states.SheetState,
}


def test_each_column_takes_its_values_from_one_enum() -> None:
    for (table, column), enum in COLUMNS.items():
        column_type = Model.metadata.tables[table].c[column].type
        assert isinstance(column_type, sa.Enum) and column_type.enum_class is enum, (table, column)
        assert column_type.enums == [member.value for member in enum]
        assert not column_type.native_enum and column_type.create_constraint
    assert RESUMABLE_STATES == {State.ISSUED, *ANSWERING_STATES}


def test_the_migrated_database_has_each_check_constraint(app) -> None:
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table, column in COLUMNS:
            names = {check["name"] for check in inspector.get_check_constraints(table)}
            assert f"ck_{table}_{column}" in names, (table, names)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("consultation", "state"),
        ("participant", "state"),
        ("participant", "permission"),
        ("facilitation_session", "state"),
    ],
)
def test_the_database_refuses_a_value_no_enum_has(app, make_consultation, issue_codes, table: str, column: str) -> None:
    issue_codes(make_consultation(), 1)  # an open, facilitated consultation with a session and a card
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() > 0
            # Plain SQL, past the ORM: only the database's CHECK constraint stands in the way.
            with pytest.raises(sa.exc.IntegrityError):
                connection.exec_driver_sql(f"UPDATE {table} SET {column} = 'finished'")
            connection.rollback()

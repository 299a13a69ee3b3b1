"""Migrations and the embedded SQLite default under concurrent writers."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from survey.database import write_transaction
from survey.extensions import db
from survey.models import AuditEvent
from tests.conftest import _postgres_url, base_config, with_search_path


def _script_directory(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


def test_migrations_have_a_single_head(app) -> None:
    with app.app_context():
        assert len(_script_directory(app).get_heads()) == 1


def _assert_upgrade_matches_models(url: str, tmp_path) -> None:
    from survey import create_app

    app = create_app(base_config(url), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            head = context.get_current_revision()
        assert head == _script_directory(app).get_current_head()
        db.engine.dispose()
    # The migrations build exactly the schema the models describe.
    assert differences == []


def test_migrations_upgrade_an_empty_sqlite_database(tmp_path) -> None:
    _assert_upgrade_matches_models(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path)


def test_migrations_upgrade_an_empty_postgresql_database(tmp_path) -> None:
    postgres = _postgres_url() or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    engine = sa.create_engine(postgres)
    schema = f"sauti_migrate_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is needed for this test (set DATABASE_URL): {error}")
    try:
        _assert_upgrade_matches_models(with_search_path(postgres, schema), tmp_path)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def test_sqlite_pragmas(app) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context(), db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    else:
        assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def test_64_concurrent_writers_never_see_database_is_locked(make_app) -> None:
    writers, writes_each = 64, 5
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": writers, "max_overflow": 0})
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(writes_each):
                    # Read first, then write: the pattern that deadlocks without BEGIN IMMEDIATE.
                    db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
                    with write_transaction() as session:
                        before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
                        session.add(AuditEvent(action="test.write", target=f"{n}:{i}:{before}"))
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    locked = [e for e in errors if "database is locked" in str(e)]
    assert locked == [] and errors == []
    with app.app_context():
        targets = list(db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "test.write")))
    assert len(targets) == writers * writes_each
    assert len({t.rsplit(":", 1)[0] for t in targets}) == writers * writes_each


def test_a_failed_write_rolls_back_and_keeps_what_was_saved(app) -> None:
    with app.app_context():
        with write_transaction() as session:
            session.add(AuditEvent(action="kept"))
        with pytest.raises(RuntimeError), write_transaction() as session:
            session.add(AuditEvent(action="lost"))
            session.flush()
            raise RuntimeError("boom")
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    assert actions == ["kept"]

"""`sauti backup` and `sauti restore`: consistent under load, and a damaged file is refused."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from survey.database import write_transaction
from survey.extensions import db
from survey.models import AuditEvent


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "load.write")
        )


def test_backup_under_load_holds_every_acknowledged_write_and_restores(app, runner, tmp_path) -> None:
    acknowledged: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        with app.app_context():
            n = 0
            while not stop.is_set() and n < 2000:
                with write_transaction() as session:
                    session.add(AuditEvent(action="load.write", target=str(n)))
                acknowledged.append(n)
                n += 1
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    while len(acknowledged) < 50:
        pass
    before_backup = len(acknowledged)
    target = tmp_path / "backup.sauti"
    result = runner.invoke(args=["backup", str(target)])
    stop.set()
    thread.join()
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    written = _count(app)
    assert written == len(acknowledged) > before_backup

    refused = runner.invoke(args=["backup", str(target)])
    assert refused.exit_code != 0 and "exists" in refused.output

    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    in_copy = _count(app)
    # Everything acknowledged before the backup began is in the restored copy.
    assert before_backup <= in_copy <= written


def test_a_truncated_or_foreign_backup_is_refused(app, runner, tmp_path) -> None:
    target = tmp_path / "good.sauti"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    data = target.read_bytes()
    truncated = tmp_path / "truncated.sauti"
    truncated.write_bytes(data[: len(data) // 2])
    result = runner.invoke(args=["restore", str(truncated), "--yes"])
    assert result.exit_code != 0
    assert "damaged" in result.output or "not a readable" in result.output or "failed" in result.output
    garbage = tmp_path / "garbage.sauti"
    garbage.write_bytes(b"this is not a database" * 100)
    assert runner.invoke(args=["restore", str(garbage), "--yes"]).exit_code != 0
    missing = runner.invoke(args=["restore", str(tmp_path / "nothing"), "--yes"])
    assert missing.exit_code != 0 and "no backup file" in missing.output
    # The live database still works after the refusals.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) >= 0


def test_answers_acknowledged_before_a_backup_under_load_are_all_restored(
    app, runner, make_consultation, issue_codes, tmp_path
) -> None:
    """Children save pages through the app while `sauti backup` runs; every page save that got
    its 302 before the backup began is in the restored copy, with its answers."""
    from survey.models import Answer, PageSave
    from tests.survey.test_journey import _assent, _token
    from tests.survey.test_reports import CHILDREN, _answers_for

    codes = issue_codes(make_consultation(), 24)
    acknowledged: list[str] = []
    failures: list[str] = []

    def children() -> None:
        for n, code in enumerate(codes):
            child = app.test_client()
            child.environ_base["REMOTE_ADDR"] = f"10.9.0.{n + 1}"
            try:
                assert child.post("/", data={"code": code}).status_code == 302
                _assent(child)
                for index in range(3):
                    token = _token(child.get(f"/p/q/{index}").get_data(as_text=True))
                    response = child.post(
                        f"/p/q/{index}", data={**_answers_for(index, CHILDREN[2]), "page_token": token, "nav": "next"}
                    )
                    if response.status_code == 302:
                        acknowledged.append(token)
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(repr(error))

    thread = threading.Thread(target=children)
    thread.start()
    while len(acknowledged) < 12 and thread.is_alive():
        pass
    before_backup = list(acknowledged)
    target = tmp_path / "under-load.sauti"
    result = runner.invoke(args=["backup", str(target)])
    thread.join()
    assert result.exit_code == 0, result.output
    assert failures == []
    assert len(acknowledged) > len(before_backup) >= 12  # the load went on during the backup
    with app.app_context():
        stored = set(db.session.scalars(sa.select(PageSave.token)))
        db.session.remove()
    assert set(acknowledged) <= stored
    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    with app.app_context():
        in_copy = set(db.session.scalars(sa.select(PageSave.token)))
        answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
        db.session.remove()
    assert set(before_backup) <= in_copy
    assert answers > 0


def test_a_backup_one_kib_short_is_refused_and_the_database_is_unchanged(app, runner, tmp_path) -> None:
    with app.app_context():
        with write_transaction() as session:
            session.add_all(AuditEvent(action="load.write", target=str(n)) for n in range(200))
        db.session.remove()
    target = tmp_path / "good.sauti"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    with app.app_context():
        with write_transaction() as session:
            session.add(AuditEvent(action="load.write", target="after the backup"))
        db.session.remove()
    data = target.read_bytes()
    short = tmp_path / "short.sauti"
    short.write_bytes(data[:-1024])
    result = runner.invoke(args=["restore", str(short), "--yes"])
    assert result.exit_code != 0
    assert _count(app) == 201  # the live database is exactly as it was, the later row included


def test_a_protected_laptop_is_backed_up_encrypted_and_restored(make_app, tmp_path) -> None:
    """A laptop encrypted by `sauti sync protect` (issue 22): the backup is written (it failed with
    "file is not a database"), holds nothing readable without the laptop's key, and restores."""
    import secrets

    from survey.models import User
    from survey.sync import protect

    app = make_app()
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("field laptops run on SQLite")  # the PostgreSQL run backs up with pg_dump (above)
    with app.app_context():
        from survey.services import accounts

        accounts.create_user("keeper-of-cards", "a long enough password 1", ["admin"])
        live = db.engine.url.database
        db.session.remove()
        db.engine.dispose()
    key = secrets.token_bytes(32)
    protect.encrypt_database(live, key)
    protect.write_private(protect.key_file(app.instance_path), protect.seal_key(key, "heron at the well 42"))
    laptop = make_app(DATABASE_KEY=key.hex())
    runner = laptop.test_cli_runner()
    target = tmp_path / "laptop-backup.db"

    written = runner.invoke(args=["backup", str(target)])
    assert written.exit_code == 0, written.output
    assert b"keeper-of-cards" not in target.read_bytes()
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(target).execute("SELECT count(*) FROM sqlite_master").fetchone()

    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    with laptop.app_context():
        assert db.session.scalar(sa.select(User.username).where(User.username == "keeper-of-cards"))

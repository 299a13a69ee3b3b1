"""`sauti backup` and `sauti restore`: consistent under load, and a damaged file is refused."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from survey.database import write_transaction
from survey.extensions import db
from survey.models import AuditEvent


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "load.write"))


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

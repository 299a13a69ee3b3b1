"""Children's answers on disk are readable by Sauti's own user only, and the PostgreSQL password
never appears on a command line (where `ps` shows it to every user of the machine)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.extensions import db
from survey.services.backup import backup, restore
from tests.conftest import base_config

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)  # the common default, which makes new files 0644
    yield
    os.umask(previous)


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite files")
def test_instance_folder_database_wal_shm_and_backup_are_private(tmp_path, usual_umask) -> None:
    instance = tmp_path / "instance"
    database = instance / "sauti.sqlite"
    config = {**base_config(f"sqlite:///{database}")}
    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        connection = db.engine.connect()  # held open: the WAL and SHM files stay
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS scratch (x)")
        connection.commit()
        assert _mode(instance) == 0o700
        for name in ("sauti.sqlite", "sauti.sqlite-wal", "sauti.sqlite-shm"):
            assert _mode(instance / name) == 0o600, name  # the old code: 0644, world-readable
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sauti")])
        assert result.exit_code == 0, result.output
        assert _mode(tmp_path / "copy.sauti") == 0o600
        connection.close()
        db.engine.dispose()


def test_an_existing_world_readable_database_is_tightened(tmp_path, usual_umask) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "sauti.sqlite"
    database.touch(mode=0o644)
    os.chmod(database, 0o644)
    app = create_app(base_config(f"sqlite:///{database}"), instance_path=str(instance))
    with app.app_context():
        db.engine.dispose()
    assert _mode(instance) == 0o700 and _mode(database) == 0o600


def _fake_client(folder: Path, name: str) -> Path:
    """A stand-in pg_dump/pg_restore that records its command line and PGPASSWORD."""
    script = folder / name
    script.write_text(f"""#!{sys.executable}
import os, sys, json
with open({str(folder / (name + ".json"))!r}, "w") as out:
    json.dump({{"argv": sys.argv, "PGPASSWORD": os.environ.get("PGPASSWORD")}}, out)
for argument in sys.argv:
    if argument.startswith("--file="):
        open(argument.split("=", 1)[1], "wb").write(b"PGDMP")
""")
    script.chmod(0o755)
    return folder / (name + ".json")


def test_backup_and_restore_pass_the_postgres_password_in_the_environment(tmp_path, monkeypatch, usual_umask) -> None:
    import json

    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    dump_record = _fake_client(bin_folder, "pg_dump")
    restore_record = _fake_client(bin_folder, "pg_restore")
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    url = sa.engine.make_url("postgresql+psycopg://sauti:Pa55-w0rd-s3cret@127.0.0.1:5432/sauti")
    target = tmp_path / "backup.dump"
    backup(url, str(target))
    recorded = json.loads(dump_record.read_text())
    assert "Pa55-w0rd-s3cret" not in " ".join(recorded["argv"])  # the old code put it in the URL argument
    assert recorded["PGPASSWORD"] == "Pa55-w0rd-s3cret"
    assert any("sauti@127.0.0.1:5432/sauti" in argument for argument in recorded["argv"])
    assert _mode(target) == 0o600
    restore(url, str(target))
    recorded = json.loads(restore_record.read_text())
    assert "Pa55-w0rd-s3cret" not in " ".join(recorded["argv"])
    assert recorded["PGPASSWORD"] == "Pa55-w0rd-s3cret"

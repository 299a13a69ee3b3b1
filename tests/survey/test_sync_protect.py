"""A lost field laptop holds nothing readable without its instance key (issue 22, part 4).

A laptop provisioned as in the field, children's answers saved through its pages (with a written
answer and a concern excerpt), then ``sauti sync protect`` as a facilitator runs it: the file's
bytes and a plain SQLite open reveal nothing; with the passphrase the laptop serves children
(real ``sauti serve``), exports a bundle the central server imports, and deletes its copy after the
receipt; a wrong or missing passphrase stops every command with a plain message.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import create_app
from survey.extensions import db
from survey.models import Answer, ConcernFlag, Participant
from survey.services import sync
from tests.conftest import free_port, wait_until_serving
from tests.survey import test_sync_merge as merge
from tests.survey.child_walk import OPEN_ANSWER, enter, walk
from tests.survey.test_sync_merge import _import, _package, _provision

central, make_laptop = merge.central, merge.make_laptop  # the fixtures: a central app, laptop apps

SAUTI = [sys.executable, "-c", "from survey.cli import main; main()"]
PASSPHRASE = "blue heron at the well 42"
EXCERPT = "my uncle hits me when nobody sees"

pytestmark = pytest.mark.slow  # Argon2id at its real cost, and real server processes


def _env(laptop, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAUTI_DATABASE_")}
    return {
        **env,
        "DATABASE_URL": laptop.config["SQLALCHEMY_DATABASE_URI"],
        "SAUTI_INSTANCE_PATH": laptop.instance_path,
        "SAUTI_SECRET_KEY": laptop.config["SECRET_KEY"],
        **extra,
    }


def _sauti(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*SAUTI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)


def _close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_protected_laptop_reveals_nothing_without_its_passphrase_and_works_with_it(
    central, make_consultation, make_laptop, monkeypatch
) -> None:
    cid = make_consultation()
    made = _package(central, cid, cards=3)
    laptop = make_laptop()
    package_id = _provision(laptop, made)
    for card in made.cards[:2]:
        walk(enter(laptop, card.code, 12), 12)
    with laptop.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(Answer.value == OPEN_ANSWER))
        db.session.add(
            ConcernFlag(
                consultation_id=sync.package_named(package_id).consultation_id,
                item="ideas",
                excerpt=EXCERPT,
                concerns="abuse",
            )
        )
        db.session.commit()
    _close(laptop)
    database = sa.engine.make_url(laptop.config["SQLALCHEMY_DATABASE_URI"]).database
    # Before: the written answer is there for anyone who copies the file (the check can fail).
    before = b"".join(p.read_bytes() for p in Path(database).parent.glob(Path(database).name + "*"))
    assert OPEN_ANSWER.encode() in before

    done = _sauti(_env(laptop), "sync", "protect", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert done.returncode == 0, done.stderr
    assert "encrypted" in done.stdout

    # Without the key: no answer, no excerpt, not even the table names, in any file of the instance.
    files = [Path(database), *Path(database).parent.glob(Path(database).name + "-*")]
    files += [p for p in Path(laptop.instance_path).rglob("*") if p.is_file()]
    for path in files:
        raw = path.read_bytes()
        for secret in (OPEN_ANSWER, EXCERPT, "CREATE TABLE answer"):
            assert secret.encode() not in raw, (path, secret)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(database).execute("SELECT value FROM answer").fetchall()

    # A wrong passphrase, or none without a terminal: a plain message, never a traceback.
    for extra, message in (
        ({"SAUTI_DATABASE_PASSPHRASE": "not the passphrase"}, "That passphrase does not open this laptop's data"),
        ({}, "start Sauti from a terminal and type its passphrase"),
        ({"SAUTI_DATABASE_KEY": "00" * 32}, "That key does not open this laptop's data"),
    ):
        refused = _sauti(_env(laptop, **extra), "sync", "export", os.devnull)
        assert refused.returncode == 1 and message in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr

    # With the passphrase: the real server's workers open it, and a child enters her code.
    env = _env(laptop, SAUTI_DATABASE_PASSPHRASE=PASSPHRASE)
    port = free_port()
    server = subprocess.Popen(
        [*SAUTI, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", seconds=60)
        from tests.survey.test_sync_processes import Child

        child = Child(f"http://127.0.0.1:{port}")
        assert child.form("/", {"code": made.cards[2].code})[0] == 302
    finally:
        server.terminate()
        server.wait(timeout=30)
    for path in files:
        if path.exists():
            assert OPEN_ANSWER.encode() not in path.read_bytes()

    # In this process as well (the raw key from the environment): export, import, receipt, deletion.
    monkeypatch.setenv("SAUTI_DATABASE_PASSPHRASE", PASSPHRASE)
    opened = create_app(
        {**{k: v for k, v in laptop.config.items() if k.isupper()}, "SQLALCHEMY_ENGINE_OPTIONS": {}},
        instance_path=laptop.instance_path,
    )
    assert "SAUTI_DATABASE_PASSPHRASE" not in os.environ  # programs started from here get the key only
    monkeypatch.setenv("SAUTI_DATABASE_KEY", os.environ.pop("SAUTI_DATABASE_KEY"))  # undone after the test
    try:
        with opened.app_context():
            assert (
                db.session.scalar(
                    sa.select(sa.func.count()).select_from(Participant).where(Participant.state == "completed")
                )
                == 2
            )
            bundle = sync.export_bundle(sync.package_named(package_id))
        imported = _import(central, bundle.data)
        assert imported.counts["answers"] > 0 and imported.counts["concerns"] == 1
        with opened.app_context():
            sync.accept_receipt(sync.package_named(package_id), imported.receipt)
            assert sync.purge_confirmed(dt.date.today() + dt.timedelta(days=7))["participants"] == 2
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
    finally:
        _close(opened)

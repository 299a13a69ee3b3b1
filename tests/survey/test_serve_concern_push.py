"""A laptop served by waitress (where Granian cannot be imported) pushes concern records too.

Granian's workers start the concern pusher when they build the app (survey/wsgi.py); the
waitress path builds no worker app, so `sauti serve` starts it itself (issue 22).
"""

from __future__ import annotations

import pytest

from survey.cli import serving
from survey.database import is_sqlite


def test_serving_with_waitress_starts_the_concern_pusher(make_app, monkeypatch) -> None:
    app = make_app(SYNC_CONCERN_PUSH_SECONDS=30)
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        pytest.skip("the pusher runs on a field laptop's SQLite only")  # the PostgreSQL run covers the central side
    from survey.services import retention_schedule
    from survey.sync import autopush

    served: list[str] = []
    monkeypatch.setattr(serving, "_has_granian", lambda: False)
    # the real waitress would block this test, and the real threads outlive it: what matters is
    # what `sauti serve` starts before it serves
    monkeypatch.setattr(serving, "_serve_waitress", lambda *args: served.append("waitress"))
    monkeypatch.setattr(autopush, "start", lambda started_app: served.append("concern pusher"))
    monkeypatch.setattr(retention_schedule, "enable", lambda *args, **kwargs: None)
    serving._serve(app, "127.0.0.1", 0, False, 4)
    assert served == ["concern pusher", "waitress"], "no concern pusher beside waitress"


def test_a_laptop_is_not_encrypted_while_it_serves_children(make_app, tmp_path) -> None:
    """`sauti sync protect` under a running server would break every child's next page: refused."""
    import subprocess
    import sys
    from pathlib import Path

    from survey.sync import protect

    app = make_app()
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        pytest.skip("field laptops run on SQLite")  # the PostgreSQL run has no laptop to protect
    lock = Path(app.instance_path) / "sync-push.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    # a server's worker holds the concern pusher's lock for its whole life (survey/sync/autopush.py)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import fcntl,os,sys,time; fd=os.open({str(lock)!r}, os.O_RDWR|os.O_CREAT, 0o600); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = app.test_cli_runner().invoke(
            args=["sync", "protect", "--passphrase-stdin"], input="blue heron at the well 42\n"
        )
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert result.exit_code != 0 and "stop `sauti serve` first" in result.output, result.output
    assert not protect.key_file(app.instance_path).exists()

"""Backups: SQLite through its online backup API (safe while children are answering), PostgreSQL
through pg_dump.  A restore refuses a file that is damaged or is not a Sauti database.

A field laptop whose data ``sauti sync protect`` encrypted is backed up encrypted with the same
key (SQLCipher's backup API between two keyed connections): a backup never holds the children's
answers readable, and it opens only where the laptop's key does."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess  # pg_dump/pg_restore, run with fixed arguments and no shell
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_app_context


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def _sqlite_path(url: sa.engine.URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up.")
    return url.database


class _Files:
    """How this deployment's SQLite files are opened: plain, or with the laptop's key."""

    def __init__(self, live: str) -> None:
        self.key: bytes | None = None
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        if has_app_context():
            from survey.sync import protect

            self.key = protect.instance_key(current_app.instance_path, live, current_app.config.get("DATABASE_KEY"))
            if self.key is not None:
                self.errors = (sqlite3.Error, protect.sqlcipher().Error)

    def connect(self, path: str, *, read_only: bool = False):  # a DB-API connection
        if self.key is None:
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True) if read_only else sqlite3.connect(path, timeout=30)
        from survey.sync import protect

        return protect.connect(path, self.key, timeout=30)

    def check(self, path: str) -> None:
        """Refuse a truncated or foreign file: integrity check, then Sauti's own tables."""
        try:
            with contextlib.closing(self.connect(path, read_only=True)) as connection:
                result = connection.execute("PRAGMA integrity_check").fetchone()[0]
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except self.errors as error:
            if self.key is not None:
                raise BackupError(f"{path} is not a backup this laptop's key opens.") from error
            raise BackupError(f"{path} is not a readable SQLite database ({error}).") from error
        if result != "ok":
            raise BackupError(f"{path} is damaged: {result}.")
        if not {"alembic_version", "answer", "participant", "consultation"} <= tables:
            raise BackupError(f"{path} is not a Sauti database.")


def _create_private(target: str) -> None:
    """Create ``target`` empty, readable by this user only (0600), refusing an existing file.

    A backup holds every child's answers: it must never be readable by other accounts of the
    machine, not even for the moment between its creation and a chmod.
    """
    try:
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{target} exists; choose a new file name so no backup is overwritten.") from None
    except OSError as error:
        raise BackupError(f"{target} cannot be created ({error.strerror}).") from error
    os.close(handle)
    os.chmod(target, 0o600)  # whatever the umask


def backup(url: sa.engine.URL, target: str) -> int:
    """Write a consistent copy of the database to ``target`` (mode 0600); returns its size in bytes."""
    target_path = Path(target)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups of {url.get_backend_name()} are not supported.")
    live = _sqlite_path(url) if url.get_backend_name() == "sqlite" else None
    _create_private(target)
    if live is not None:
        files = _Files(live)
        source = files.connect(live)
        destination = files.connect(target)
        try:
            # The online backup API copies pages while writers keep going: every transaction
            # committed before it finishes is in the copy, consistently.
            source.backup(destination, pages=1024)
        except files.errors as error:
            destination.close()
            target_path.unlink(missing_ok=True)
            raise BackupError(f"The backup could not be written ({error}).") from error
        finally:
            destination.close()
            source.close()
        files.check(target)
    elif url.get_backend_name() == "postgresql":
        try:
            _run(
                ["pg_dump", "--format=custom", "--no-owner", *_schema_args(url), f"--file={target}", _libpq_url(url)],
                url,
            )
        except BackupError:
            target_path.unlink(missing_ok=True)
            raise
    return target_path.stat().st_size


def restore(url: sa.engine.URL, source: str) -> None:
    """Replace the database with a backup (stop the server first)."""
    if not Path(source).is_file():
        raise BackupError(f"There is no backup file at {source}.")
    if url.get_backend_name() == "sqlite":
        live = _sqlite_path(url)
        _Files(live).check(source)
        # Copy into a temporary file beside the live one, then swap: a failure leaves the
        # live database as it was.
        folder = os.path.dirname(os.path.abspath(live))
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".restoring")
        os.close(handle)
        shutil.copyfile(source, temporary)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(live + suffix):
                os.remove(live + suffix)
        os.replace(temporary, live)
    elif url.get_backend_name() == "postgresql":
        _run(["pg_restore", "--list", source], url)  # refuses a truncated or foreign file first
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                source,
            ],
            url,
        )
    else:
        raise BackupError(f"Restores of {url.get_backend_name()} are not supported.")


def _schema_args(url: sa.engine.URL) -> list[str]:
    """A deployment that keeps Sauti in its own schema (``options=-csearch_path=...``) backs up that schema."""
    options = url.query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    for part in options.split():
        if part.startswith("-csearch_path="):
            return [f"--schema={part.split('=', 1)[1].split(',')[0]}"]
    return []


def _libpq_url(url: sa.engine.URL) -> str:
    """The connection URL for pg_dump/pg_restore, without the password: a command line is
    visible to every user of the machine (``ps``); the password goes in the environment."""
    without_password = sa.engine.URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    )
    return without_password.render_as_string(hide_password=False)


def _run(command: list[str], url: sa.engine.URL | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (it comes with the PostgreSQL client).")
    environment = dict(os.environ)
    if url is not None and url.password:
        # libpq reads PGPASSWORD; a process's environment is readable only by its own user.
        environment["PGPASSWORD"] = str(url.password)
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")

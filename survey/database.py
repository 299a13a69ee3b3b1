"""Engine set-up for the embedded SQLite default, and the one way services write.

SQLite is the laptop default, so it is tuned for many children saving at once:
WAL (readers never wait for the writer), ``busy_timeout`` so a writer waits its turn instead of
failing, foreign keys on, ``synchronous=FULL`` so an acknowledged answer survives a power cut, and
``secure_delete`` so a deleted answer is overwritten with zeros rather than left readable in the
file's free space (a checkpoint after each child's deletion, and the retention run's, then
empties the write-ahead log: :mod:`survey.services.retention`).

Writes go through :func:`write_transaction`, which on SQLite starts with ``BEGIN IMMEDIATE``: the
write lock is taken up front, so two writers never both hold a read snapshot and then deadlock
on the upgrade (the case where SQLite gives up with "database is locked" without waiting).
Reads keep the deferred ``BEGIN`` and never block anybody.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator

try:
    import fcntl
except ImportError:  # Windows: one server process (Granian or waitress), the thread lock is enough
    fcntl = None

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app

from survey.extensions import db

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sauti_immediate", default=False)

# SQLite writers take turns here before BEGIN IMMEDIATE.  SQLite's busy handler polls with
# growing sleeps and no queue, so with many writers contending an unlucky one can lose every
# retry until busy_timeout runs out ("database is locked", a 500): a saturated server showed
# exactly that.  Threads of a process queue on a lock, and processes (`sauti serve --workers`)
# on a blocking flock() beside the database file, which the kernel hands over at once.
_sqlite_writer = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}


def _process_lock(database: str | None) -> int | None:
    """A lock file descriptor for ``database``, opened in this process (never inherited)."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), database)
    if key not in _lock_files:
        try:
            _lock_files[key] = os.open(database + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # a read-only folder: rely on the busy timeout alone
            return None
    return _lock_files[key]


def _make_files_private(database: str | None) -> None:
    """The database file, and its WAL and shared-memory files, readable by this user only.

    SQLite creates ``-wal`` and ``-shm`` with the permissions of the database file, so creating
    the database 0600 before the first connection covers all three; files left by an older
    version are tightened.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    from survey.instance import make_private_file

    try:
        make_private_file(database)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(database + suffix):
                make_private_file(database + suffix)
    except OSError:  # a folder we cannot write: SQLite will say so on connecting
        pass


def database_key() -> int:
    """This app's database as a key of a process-wide cache: two apps (two databases, in tests)
    never share an entry.  The app's identity, since Flask-SQLAlchemy gives an app one engine for
    its whole life; asking for ``db.engine`` instead costs about three times as much, on every
    child's page (the helplines' profile, the instrument)."""
    return id(current_app._get_current_object())  # type: ignore[attr-defined]


def is_sqlite(url: str | sa.engine.URL) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def sqlite_engine_options(app: Flask) -> dict:
    """Engine options that make the driver leave transaction control to our listeners.

    A field laptop whose database ``sauti sync protect`` encrypted (:mod:`survey.sync.protect`)
    connects through SQLCipher, each connection keyed before SQLAlchemy reads anything.
    """
    from survey.sync import protect

    timeout = app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
    database = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    key = protect.instance_key(app.instance_path, database, app.config.get("DATABASE_KEY"))
    if key is None or not database:
        return {"connect_args": {"timeout": timeout}}
    return {"module": protect.sqlcipher(), "creator": lambda: protect.connect(database, key, timeout=timeout)}


def configure_engine(app: Flask) -> None:
    """Install the SQLite pragmas and transaction listeners on the app's engine."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    _make_files_private(engine.url.database)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # DB-API objects
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (the pysqlite driver's own
        # implicit BEGIN would be DEFERRED and would not honour write_transaction).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Straight to the driver: every request begins at least one transaction, and going
        # through SQLAlchemy's statement execution for a bare BEGIN cost about 0.1 ms each.  The
        # DB-API connection (the driver's own for SQLite's drivers): a child's kept connection is
        # detached from the pool, which leaves it no ``driver_connection`` (child_connection.py).
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.execute("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


#: Called before :func:`write_transaction` begins: the ends of other read transactions this
#: request has open on its own connections (:mod:`survey.child_connection`), so that reads after
#: the write see it, on SQLite too.
BEFORE_WRITE: list[Callable[[], None]] = []


@contextlib.contextmanager
def write_transaction() -> Iterator[so.Session]:
    """Run the block as one write transaction and commit it; roll back on any error.

    Services own their commits through this; views never commit.  Any read transaction the
    request had open is closed first, so that on SQLite the write starts with the lock in hand.
    """
    session = db.session()  # the request's Session behind the scoped proxy
    if session.in_transaction():
        session.commit()
    for end_reads in BEFORE_WRITE:
        end_reads()
    with writers_turn(session.get_bind()):
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextlib.contextmanager
def writers_turn(bind: sa.Engine | sa.Connection) -> Iterator[None]:
    """This thread's turn to write: on SQLite, queued behind the other writers of this process
    and of the others (see ``_sqlite_writer``), and a transaction begun inside starts with
    ``BEGIN IMMEDIATE``.  Nested turns (a write inside a write) do not queue again."""
    queue = not _immediate.get() and bind.dialect.name == "sqlite"
    lock_fd = None
    token = _immediate.set(True)
    if queue:
        _sqlite_writer.acquire()
        try:
            lock_fd = _process_lock(bind.engine.url.database)
            if lock_fd is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
        except BaseException:
            _sqlite_writer.release()
            _immediate.reset(token)
            raise
    try:
        yield
    finally:
        _immediate.reset(token)
        if queue:
            if lock_fd is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_UN)
            _sqlite_writer.release()


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` (from a write) means the disk or the database is full.

    SQLite says SQLITE_FULL ("database or disk is full"), PostgreSQL SQLSTATE 53100 (disk_full),
    and a file write ENOSPC.  Nothing was committed; the same write can succeed once space is
    freed, so callers answer 503 and keep what the person typed.
    """
    import errno
    import sqlite3

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        code = getattr(error, "sqlite_errorcode", 0) or 0
        driver_error = isinstance(error, sqlite3.Error) or type(error).__module__.startswith("sqlcipher3")
        if driver_error and code & 0xFF == sqlite3.SQLITE_FULL:
            return True
        if getattr(error, "sqlstate", None) == "53100" or getattr(error, "pgcode", None) == "53100":
            return True
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return False

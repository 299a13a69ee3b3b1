"""A child's request on one Core connection: no ORM session on the question pages' path.

Every request of a child reads their participant row and, on a question page, their answers;
a save writes three or four statements.  None of that needs the ORM's unit of work, and going
through the request's ``Session`` (its transaction bookkeeping, its connection look-up per
statement, its close at the end of the request) cost about as much as the statements.  So the
child's path runs on one SQLAlchemy Core ``Connection`` per request:

- :func:`connection` gives the request's connection (checked out of the engine's pool on first
  use; reads on it see one snapshot until a write begins);
- :func:`write` runs a block as one write transaction on it, committed once, in the same
  writers' queue as :func:`survey.database.write_transaction` (on SQLite ``BEGIN IMMEDIATE``,
  one writer at a time across threads and worker processes);
- :func:`rows` runs one of the child's two reads (their participant, their answers) on the
  driver's own cursor: the statement is compiled once per dialect, and the column types' own
  result processors (dates, booleans, enums) turn the driver's values into what SQLAlchemy
  would give, without SQLAlchemy's execution machinery (about 90 Python calls a statement);
- :func:`execute` runs a save's INSERT, UPDATE or DELETE the same way, inside :func:`write`'s
  transaction, with the column types' bind processors; a statement for which SQLAlchemy would
  fill in a column itself (a Python-side default or ``onupdate`` not given) goes through
  SQLAlchemy's own ``Connection.execute`` instead, and a driver error comes out as SQLAlchemy's
  (``sa.exc.IntegrityError`` for a duplicate key, parameters hidden);
- the connection goes back to the pool when the request ends (``init_app``), rolling back
  whatever read transaction it had open.

Services that change a participant through the ORM (assent, the end question, stopping) keep
:func:`survey.database.write_transaction`; they load the record inside their own transaction, so
they never act on what this connection read.  On SQLite (WAL) and PostgreSQL (read committed) a
read transaction open here blocks none of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context

from survey.database import BEFORE_WRITE, writers_turn
from survey.extensions import db

log = logging.getLogger(__name__)

_KEY = "_sauti_child_connection"
_WRITING = "_sauti_child_writing"


def connection() -> sa.Connection:
    """This request's Core connection (the same one for every call within the request)."""
    here = g._get_current_object()
    found = here.get(_KEY)
    if found is None:
        found = _kept_connection(current_app._get_current_object())  # type: ignore[attr-defined]
        setattr(here, _KEY, found)
    return found


class _Kept:
    """A thread's kept SQLite connection to an app's database, out of the pool's count (detached:
    it never takes a connection the ORM session needs), closed when the thread ends or another
    app's connection takes its place."""

    def __init__(self, app: Flask, engine: sa.Engine) -> None:
        self.app = app  # Flask-SQLAlchemy gives an app the one engine for its whole life
        self.engine, self.pool = engine, engine.pool  # dispose() gives the engine a new pool
        self.connection = engine.connect()
        self.connection.detach()
        self.dbapi = self.connection.connection.dbapi_connection  # SQLAlchemy would swap it on revalidating
        self.close = weakref.finalize(self, self.connection.close)  # once, whichever comes first
        _all_kept.add(self)

    def usable_for(self, app: Flask) -> bool:
        found = self.connection
        return self.app is app and self.engine.pool is self.pool and not found.closed and not found.invalidated


#: On SQLite each thread keeps its Core connection from one of its requests to the next, to
#: one app's database at a time: checking a connection out of the pool and back in (SQLAlchemy's
#: bookkeeping, events and the reset on return) cost about 3 % of a child's request.  The kept
#: connection is detached from the pool, so the pool's size (survey._configure_database) still
#: serves every thread's ORM session however many threads a server runs.  It ends each request
#: as a check-in would (:func:`_close`), and is dropped when it was
#: invalidated, when the engine was disposed of (a new pool), when ending a request failed, and
#: in a forked child (which must not use its parent's SQLite connections).  Only on SQLite, a
#: file on this machine, through the pool SQLAlchemy gives a file (``QueuePool``; an in-memory
#: database has its one shared connection): on PostgreSQL every request checks one out, and the
#: pool pings it first, so a server that restarted costs no child a page.
_kept = threading.local()
_all_kept: weakref.WeakSet[_Kept] = weakref.WeakSet()


def _kept_connection(app: Flask) -> sa.Connection:
    """This thread's kept connection to ``app``'s database on SQLite; elsewhere a new one."""
    kept: _Kept | None = getattr(_kept, "slot", None)
    if kept is not None:
        if kept.usable_for(app):
            return kept.connection
        _discard(kept)
    engine = db.engine
    if engine.dialect.name != "sqlite" or not isinstance(engine.pool, sa.pool.QueuePool):
        return engine.connect()
    kept = _kept.slot = _Kept(app, engine)
    return kept.connection


def _discard(kept: _Kept) -> None:
    """Forget this thread's kept connection and close it (invalidate it if closing fails)."""
    if getattr(_kept, "slot", None) is kept:
        _kept.slot = None
    kept.close.detach()
    try:
        kept.connection.close()
    except sa.exc.SQLAlchemyError:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            kept.connection.invalidate()


def _drop_kept_in_child() -> None:
    """In a forked child: forget the parent's kept connections without closing them (SQLite:
    a connection must not be used, or closed, across a fork), as SQLAlchemy's
    ``dispose(close=False)`` leaves the parent's pooled ones."""
    for kept in list(_all_kept):
        kept.close.detach()
    _kept.slot = None


os.register_at_fork(after_in_child=_drop_kept_in_child)


@contextlib.contextmanager
def write() -> Iterator[sa.Connection]:
    """One write transaction on :func:`connection`: committed when the block ends, rolled back
    (nothing kept) if it raises.  A read transaction still open is ended first, so on SQLite the
    write starts with the writer's lock in hand and reads the newest data."""
    if db.session.registry.has():
        session = db.session()
        if session.in_transaction():
            session.commit()  # the ORM session's reads too: none of its snapshot outlives this write
    found = connection()
    if found.in_transaction():
        found.commit()  # only reads so far: nothing to keep, but the snapshot ends here
    here = g._get_current_object()
    with writers_turn(found), found.begin():
        setattr(here, _WRITING, True)  # so that nothing ends this transaction half-way (_end_reads)
        try:
            yield found
        finally:
            setattr(here, _WRITING, False)


class _Compiled(NamedTuple):
    sql: str
    positions: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle
    fixed: dict[str, Any]  # values written in the statement, as the driver takes them
    bind: dict[str, Callable[[Any], Any] | None]  # the caller's parameters' processors
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, processor) where there is one
    complete: bool = True  # False: SQLAlchemy would compute a column's value itself (a default)


_compiled: dict[tuple[object, ...], _Compiled] = {}
_compiling = threading.Lock()


def _compile(statement: sa.Executable, dialect: sa.Dialect, keys: tuple[str, ...] = ()) -> _Compiled:
    key = (statement, type(dialect), dialect.paramstyle, keys)
    found = _compiled.get(key)
    if found is not None:
        return found
    if isinstance(statement, sa.Select):
        compiled = statement.compile(dialect=dialect)
        selected: list[Any] = list(statement.selected_columns)
        complete = True
    else:  # an INSERT, UPDATE or DELETE, for the parameters named ``keys``
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        selected = []
        complete = not (
            getattr(compiled, "insert_prefetch", None)
            or getattr(compiled, "update_prefetch", None)
            or getattr(compiled, "postfetch", None)
            or getattr(compiled, "returning", None)
        )
    fixed: dict[str, Any] = {}
    bind: dict[str, Callable[[Any], Any] | None] = {}
    for name, parameter in compiled.binds.items():
        processor = parameter.type.dialect_impl(dialect).bind_processor(dialect)
        if name not in keys and parameter.callable is None and parameter.value is not None:
            fixed[name] = processor(parameter.value) if processor else parameter.value
        else:
            bind[name] = processor
    types = [column.type.dialect_impl(dialect) for column in selected]
    processors = [column_type.result_processor(dialect, None) for column_type in types]
    results = tuple((position, process) for position, process in enumerate(processors) if process is not None)
    positions = tuple(compiled.positiontup or ()) if compiled.positional else None
    found = _Compiled(compiled.string, positions, fixed, bind, results, complete)
    with _compiling:
        _compiled[key] = found
    return found


def rows(statement: sa.Select, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows ``statement`` selects, as SQLAlchemy would give them, read on this request's
    connection through the driver's cursor (``statement`` is kept: build it once).

    Outside a transaction of this connection, as the child's reads are, SQLite reads in
    autocommit (no snapshot is kept) and PostgreSQL in the driver's own transaction, which ends
    with the request (read committed: every statement sees what was committed before it).
    """
    found = connection()
    query = _compile(statement, found.dialect)
    # The DB-API connection: a kept one is detached from the pool, which leaves it no driver_connection.
    cursor = found.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(query.sql, _driver_values(query, parameters))
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    if not query.results:
        return [tuple(row) for row in fetched]
    converted = []
    for row in fetched:
        values_of_row = list(row)
        for position, process in query.results:
            if values_of_row[position] is not None:
                values_of_row[position] = process(values_of_row[position])
        converted.append(tuple(values_of_row))
    return converted


def _driver_values(query: _Compiled, parameters: Mapping[str, Any]) -> Any:  # a tuple or a dict
    values = dict(query.fixed)
    for name, processor in query.bind.items():
        value = parameters[name]
        values[name] = processor(value) if processor else value
    # ``map`` rather than a generator: no Python frame per parameter (a save binds a few dozen).
    return tuple(map(values.__getitem__, query.positions)) if query.positions else values


def execute(statement: sa.Executable, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
    """Run an INSERT, UPDATE or DELETE inside :func:`write`'s transaction, on the driver's
    cursor (a list of parameter sets: once for each, as ``executemany``); the number of rows it
    changed.  ``statement`` is kept: build it once.  Every parameter set names the same keys.

    A statement for which SQLAlchemy would work out a value itself (a column's Python-side
    default or ``onupdate`` that the parameters leave out) is run by SQLAlchemy's
    ``Connection.execute``, so it is never written without one.
    """
    found = connection()
    if not found.in_transaction():
        raise RuntimeError("child_connection.execute writes only inside child_connection.write()")
    many = not isinstance(parameters, Mapping)
    sets: Sequence[Mapping[str, Any]] = parameters if many else [parameters]  # type: ignore[assignment,list-item]
    if not sets:
        return 0
    query = _compile(statement, found.dialect, tuple(sorted(sets[0])))
    if not query.complete:
        return found.execute(statement, parameters).rowcount
    values = [_driver_values(query, one) for one in sets]
    dbapi = found.dialect.loaded_dbapi
    # The DB-API connection: a kept one is detached from the pool, which leaves it no driver_connection.
    cursor = found.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(query.sql, values)
        else:
            cursor.execute(query.sql, values[0])
        return cursor.rowcount
    except dbapi.Error as error:
        # As SQLAlchemy raises it (IntegrityError for a duplicate key), never quoting the
        # parameters: they are children's answers.
        raise sa.exc.DBAPIError.instance(
            query.sql, None, error, dbapi.Error, hide_parameters=True, dialect=found.dialect, ismulti=many
        ) from error
    finally:
        cursor.close()


def _end_reads() -> None:
    """End the read transaction open on this request's connection (before another connection
    writes: on SQLite a snapshot kept open would not see that write)."""
    if not has_app_context():
        return
    here = g._get_current_object()
    found = here.get(_KEY)
    if found is not None and found.in_transaction() and not here.get(_WRITING):
        found.commit()


def _close(_error: BaseException | None = None) -> None:
    """End the request's connection as the pool's check-in would: its transaction rolled back
    (an inactive one too: a commit that failed outside a ``with`` block leaves one, which
    ``in_transaction()`` does not report and after which SQLAlchemy skips the pool's reset),
    then whatever the driver holds; a pooled one then goes back to the pool, this thread's kept
    one stays.  A kept one invalidated during the request, or given a new DB-API connection by
    SQLAlchemy (which would be the pool's), is discarded.  If ending it fails, it is discarded
    and, as the pool does on a failed reset, the failure is logged, not raised: the request's
    answer (a save already committed) stands."""
    found = g._get_current_object().pop(_KEY, None)
    if found is None:
        return
    kept: _Kept | None = getattr(_kept, "slot", None)
    if kept is not None and kept.connection is not found:
        kept = None

    def drop() -> None:
        if kept is not None:
            _discard(kept)
        else:  # a pooled one is not used again, nor goes back as it is
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                found.invalidate()
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                found.close()

    try:
        if found.invalidated or (kept is not None and found.connection.dbapi_connection is not kept.dbapi):
            drop()
            return
        found.rollback()
        found.connection.dbapi_connection.rollback()
        if kept is None:
            found.close()  # back to the pool
    except Exception:
        drop()
        log.warning("a database connection could not be ended cleanly: discarded", exc_info=True)
    except BaseException:
        drop()
        raise


def release() -> None:
    """End this request's use of its connection now: back to the pool, or on SQLite ended and
    left with its thread, outside the pool (an error page is then drawn with a connection free,
    even when the pool had none left)."""
    _close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)


BEFORE_WRITE.append(_end_reads)

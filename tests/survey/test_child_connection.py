"""A child's question pages and saves run on one Core connection, without the ORM session
(survey/child_connection.py), and what they read stays as fresh as the session's reads were."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from survey import child_connection
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Answer, Participant
from tests.survey.child_walk import answers_for
from tests.survey.test_child_requests import Browser


def _at_first_page(app, make_consultation, issue_codes):
    browser = Browser(app.test_client())
    browser.get("/")
    browser.post("/", {"code": issue_codes(make_consultation(), 1)[0]})
    browser.post("/p/age", {"age": "12"})
    path, response = browser.post("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes"})
    assert path.startswith("/p/q/"), path
    return browser, path, response


def test_a_question_page_and_a_save_begin_no_orm_session(app, make_consultation, issue_codes) -> None:
    browser, path, response = _at_first_page(app, make_consultation, issue_codes)
    begun: list[str] = []

    def count(session, transaction, connection) -> None:  # SQLAlchemy's after_begin
        begun.append(path)

    sa.event.listen(so.Session, "after_begin", count)
    try:
        answered = answers_for(response.get_data(as_text=True), age=12)
        saved = browser.client.post(path, data=answered)
        assert saved.status_code in (302, 303)
        shown = browser.client.get(saved.location.removeprefix("http://localhost"))
        assert shown.status_code == 200
    finally:
        sa.event.remove(so.Session, "after_begin", count)
    assert begun == []
    with app.app_context():
        participant_id = db.session.scalar(sa.select(Participant.id))
        stored = db.session.scalars(sa.select(Answer.item).where(Answer.participant_id == participant_id)).all()
    assert stored  # the save went through, committed, on the Core connection


def test_a_read_after_a_write_on_the_session_sees_the_write(app, make_consultation, issue_codes) -> None:
    """On SQLite a read transaction left open on the child's connection would keep an old
    snapshot: write_transaction ends it first."""
    _at_first_page(app, make_consultation, issue_codes)
    query = sa.select(sa.func.count()).select_from(Answer)
    with app.test_request_context("/"):
        participant_id = db.session.scalar(sa.select(Participant.id))
        db.session.commit()
        before = child_connection.connection().execute(query).scalar_one()
        with write_transaction() as session:
            session.add(Answer(participant_id=participant_id, item="q_extra", value="1"))
        assert child_connection.connection().execute(query).scalar_one() == before + 1


def test_a_write_that_fails_keeps_nothing_and_the_connection_goes_on(app, make_consultation, issue_codes) -> None:
    _at_first_page(app, make_consultation, issue_codes)
    query = sa.select(sa.func.count()).select_from(Answer)
    with app.test_request_context("/"):
        participant_id = db.session.scalar(sa.select(Participant.id))
        db.session.commit()
        before = child_connection.connection().execute(query).scalar_one()
        try:
            with child_connection.write() as connection:
                connection.execute(
                    sa.insert(Answer.__table__),
                    {
                        "id": "a-1",
                        "participant_id": participant_id,
                        "item": "q_x",
                        "value": "1",
                        "saved_on": dt.date.today(),
                    },
                )
                raise RuntimeError("the page could not be saved")
        except RuntimeError:
            pass
        assert child_connection.connection().execute(query).scalar_one() == before


def test_rows_read_through_the_driver_are_what_sqlalchemy_reads(app, make_consultation, issue_codes) -> None:
    """Dates, booleans, enums and NULLs come back as SQLAlchemy's own execution gives them."""
    from survey.child_session import _live_participant
    from survey.services.page_plan import _answers_query

    _at_first_page(app, make_consultation, issue_codes)
    with app.test_request_context("/"):
        participant_id = db.session.scalar(sa.select(Participant.id))
        with write_transaction() as session:
            session.add(Answer(participant_id=participant_id, item="q_extra", value="1", instance=2))
        for query in (_live_participant(), _answers_query()):
            expected = [tuple(row) for row in db.session.execute(query, {"participant_id": participant_id})]
            db.session.commit()
            found = child_connection.rows(query, {"participant_id": participant_id})
            assert found == expected
            assert [[type(value) for value in row] for row in found] == [
                [type(value) for value in row] for row in expected
            ]
        assert child_connection.rows(_live_participant(), {"participant_id": "nobody"}) == []


def test_writes_through_the_driver_store_what_sqlalchemy_stores(app, make_consultation, issue_codes) -> None:
    """A save's statements on the driver's cursor (child_connection.execute): the same rows as
    SQLAlchemy's own execution writes, a duplicate key is SQLAlchemy's IntegrityError without
    the answers in its message, and a statement missing a column's default goes through
    SQLAlchemy, which fills it in."""
    from survey.services.journey import _page_save_insert, _participant_update, _upsert_statement

    _at_first_page(app, make_consultation, issue_codes)
    answers = Answer.__table__
    with app.test_request_context("/"):
        participant_id = db.session.scalar(sa.select(Participant.id))
        state = db.session.scalar(sa.select(Participant.state).where(Participant.id == participant_id))
        db.session.commit()
        today = dt.date.today()
        rows = [
            {
                "id": f"driver-{n}",
                "participant_id": participant_id,
                "item": f"q_driver_{n}",
                "value": "secret answer",
                "saved_on": today,
                "parent_instance": 0,
                "instance": n,
            }
            for n in (1, 2)
        ]
        with child_connection.write() as connection:
            assert child_connection.execute(_upsert_statement(connection.dialect.name), rows) == 2
            changed = child_connection.execute(
                _participant_update(),
                {
                    "participant_id": participant_id,
                    "seen_state": state.value if hasattr(state, "value") else state,
                    "state": state.value if hasattr(state, "value") else state,
                    "page_index": 3,
                    "last_active_on": today,
                },
            )
            assert changed == 1
            assert (
                child_connection.execute(
                    _participant_update(),
                    {
                        "participant_id": participant_id,
                        "seen_state": "expired",  # not the state it is in: nothing changes
                        "state": "expired",
                        "page_index": 9,
                        "last_active_on": today,
                    },
                )
                == 0
            )
            # No id given: SQLAlchemy's execution fills in the column's default (a random id).
            child_connection.execute(
                sa.insert(answers),
                {"participant_id": participant_id, "item": "q_default", "value": "2", "saved_on": today},
            )
        stored = db.session.execute(
            sa.select(answers.c.id, answers.c.item, answers.c.value, answers.c.saved_on, answers.c.instance).where(
                answers.c.item.in_(["q_driver_1", "q_driver_2", "q_default"])
            )
        ).all()
        assert sorted((row.item, row.value, row.saved_on, row.instance) for row in stored) == [
            ("q_default", "2", today, 0),
            ("q_driver_1", "secret answer", today, 1),
            ("q_driver_2", "secret answer", today, 2),
        ]
        assert all(row.id for row in stored)
        assert db.session.scalar(sa.select(Participant.page_index).where(Participant.id == participant_id)) == 3
        db.session.commit()
        token = {"token": "t" * 32, "participant_id": participant_id, "digest": "d"}
        with child_connection.write():
            child_connection.execute(_page_save_insert(), token)
        try:
            with child_connection.write():
                child_connection.execute(_page_save_insert(), {**token, "digest": "secret answer"})
        except sa.exc.IntegrityError as error:
            assert "secret answer" not in str(error)
        else:
            raise AssertionError("a second save of the same page token was stored")
        try:
            child_connection.execute(_page_save_insert(), token)
        except RuntimeError:
            pass  # outside write(): refused, nothing written
        else:
            raise AssertionError("a write outside a write transaction was run")


def test_a_page_stored_meanwhile_by_another_request_is_a_replay_not_a_conflict(
    app, make_consultation, issue_codes
) -> None:
    """The request's ORM session may hold a read snapshot from before the other request
    committed (SQLite): telling a replay from a conflict must not read through it."""
    from survey.models import PageSave
    from survey.services import journey

    _at_first_page(app, make_consultation, issue_codes)
    values = {"q_who": "parent"}
    with app.test_request_context("/"):
        participant = db.session.scalars(sa.select(Participant)).one()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PageSave)) == 0  # the snapshot
        with db.engine.begin() as other:  # a double click's twin, committed first
            other.execute(
                sa.insert(PageSave.__table__),
                {"token": "twin-token", "participant_id": participant.id, "digest": journey._digest(values)},
            )
        assert journey.save_page(participant, "twin-token", 0, values, 1) is False


def _first_page_with_form_tokens(app, make_consultation, issue_codes):
    """A child at their first question, in an app that checks form tokens as served apps do."""
    from tests.conftest import csrf_token_from

    client = app.test_client()
    page = client.get("/")
    code = issue_codes(make_consultation(), 1)[0]
    assert client.post(
        "/", data={"code": code, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    ).status_code in (302, 303)
    page = client.get("/p/age")
    client.post("/p/age", data={"age": "12", "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    page = client.get("/p/about")
    about = {
        "check_0": "0",
        "check_1": "0",
        "decision": "yes",
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
    }
    path = client.post("/p/about", data=about).location.removeprefix("http://localhost")
    assert path.startswith("/p/q/"), path
    return client, path, client.get(path)


def test_a_malformed_page_token_or_form_token_is_never_a_500(make_app, make_consultation, issue_codes) -> None:
    """An independent review: a form token with a non-ASCII letter gave a 500 once a page's token
    was kept (hmac.compare_digest refuses such strings), and a page token with a NUL byte a 500
    on PostgreSQL (its text columns refuse NUL)."""
    from tests.conftest import csrf_token_from

    app = make_app(WTF_CSRF_ENABLED=True)
    client, path, page = _first_page_with_form_tokens(app, make_consultation, issue_codes)
    html = page.get_data(as_text=True)
    answered = answers_for(html, age=12)
    assert client.post(path, data={**answered, "csrf_token": "ü"}).status_code == 400
    saved = client.post(path, data={**answered, "csrf_token": csrf_token_from(html), "page_token": "ab\x00cd"})
    assert saved.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0


def test_the_pool_holds_two_connections_for_each_serving_thread_and_an_empty_pool_is_a_503(
    make_app, make_consultation, issue_codes, monkeypatch
) -> None:
    """A child's request can hold two connections at once (its Core connection and the ORM
    session's): with eight threads a worker and the default pool of five, half of a class
    entering their codes at once got 500s (an independent review)."""
    monkeypatch.setenv("SAUTI_SERVE_THREADS", "8")
    with make_app().app_context():
        assert db.engine.pool.size() == 16
    monkeypatch.delenv("SAUTI_SERVE_THREADS")
    starved = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2})
    client = starved.test_client()
    code = issue_codes(make_consultation(), 1)[0]
    entered = client.post("/", data={"code": code})
    assert entered.status_code in (302, 303, 503)
    if entered.status_code != 503:
        entered = client.get(entered.location.removeprefix("http://localhost"))
    assert entered.status_code in (200, 503) and entered.status_code != 500


def _kept_or_checked_out(app) -> tuple[sa.Connection, bool]:
    """One request's child connection; whether the pool counts a connection out after the request."""
    with app.test_request_context("/"):
        found = child_connection.connection()
        found.execute(sa.select(sa.func.count()).select_from(Answer)).scalar_one()  # SQLAlchemy begins a transaction
        assert found.in_transaction()
        engine = db.engine
    return found, engine.pool.checkedout() > 0


def test_on_sqlite_a_thread_keeps_its_connection_and_each_request_ends_with_nothing_open(app) -> None:
    """On SQLite the child's connection stays with the thread from one request to the next (no
    check-out and check-in per request), outside the pool's count, ended as a check-in would end
    it; on PostgreSQL each request checks one out, pinged by the pool, and gives it back."""
    first, still_out = _kept_or_checked_out(app)
    second, _ = _kept_or_checked_out(app)
    sqlite = first.dialect.name == "sqlite"
    assert not still_out  # a kept connection takes none of the pool's (the ORM session's)
    assert (second is first) is sqlite
    for found in (first, second):
        assert not found.in_transaction()  # what the request read is not held
        if sqlite:
            assert not found.connection.dbapi_connection.in_transaction
        else:
            assert found.closed


def test_kept_connections_never_use_up_the_pool_the_sessions_need(make_app) -> None:
    """A server thread holds its kept connection for good: with a pool of one connection, two
    threads that served a child's page each still leave it to the ORM session (waitress runs up
    to 64 threads on a pool sized for Granian's two)."""
    import threading

    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 2})
    served, finish = threading.Barrier(3), threading.Event()

    def serve_a_page() -> None:
        _kept_or_checked_out(app)
        served.wait()
        finish.wait(30)  # the thread lives on with its kept connection

    workers = [threading.Thread(target=serve_a_page) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        served.wait(30)
        _kept_or_checked_out(app)  # and this thread's own
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
            db.session.remove()
    finally:
        finish.set()
        for worker in workers:
            worker.join()


def test_a_commit_that_failed_outside_a_block_leaves_the_next_request_able_to_write(app) -> None:
    """SQLAlchemy leaves an inactive transaction on a connection whose commit() failed outside a
    ``with`` block (``in_transaction()`` then says no): the end of the request clears it, or
    every later save on that thread would fail."""

    def failing_commit(_connection) -> None:  # SQLAlchemy's commit event
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    with app.test_request_context("/"):
        found = child_connection.connection()
        found.execute(sa.select(sa.literal(1)))  # SQLAlchemy begins a transaction
        sa.event.listen(found, "commit", failing_commit)
        try:
            with pytest.raises(sa.exc.OperationalError):
                found.commit()
        finally:
            sa.event.remove(found, "commit", failing_commit)
    if found.dialect.name != "sqlite":  # PostgreSQL: a connection a request, given back
        assert found.closed
        return
    with app.test_request_context("/"), child_connection.write() as connection:
        assert connection.execute(sa.select(sa.literal(1))).scalar_one() == 1


def test_a_request_whose_connection_cannot_be_ended_still_answers_and_the_next_gets_a_fresh_one(app, caplog) -> None:
    """As the pool does when resetting a connection fails: logged, the connection closed, the
    request's answer (a save already committed) unchanged."""

    def failing_rollback(_connection) -> None:  # SQLAlchemy's rollback event
        raise sa.exc.OperationalError("ROLLBACK", {}, Exception("disk I/O error"))

    with app.test_request_context("/"):
        broken = child_connection.connection()
        broken.execute(sa.select(sa.literal(1)))  # SQLAlchemy begins a transaction, rolled back at the end
        sa.event.listen(broken, "rollback", failing_rollback)
    if broken.dialect.name == "sqlite":
        assert broken.closed or broken.invalidated
        assert "could not be ended cleanly" in caplog.text
    with app.test_request_context("/"):
        assert child_connection.connection() is not broken
        assert child_connection.connection().execute(sa.select(sa.literal(1))).scalar_one() == 1


def test_a_kept_connection_is_not_used_after_the_engine_is_disposed_of_or_in_a_forked_child(app) -> None:
    """``engine.dispose()`` (before a backup is restored, before a server forks its workers) and
    a fork: the parent's SQLite connection is never used again there."""
    import os

    first, _ = _kept_or_checked_out(app)
    with app.app_context():
        db.engine.dispose()
    after_dispose, _ = _kept_or_checked_out(app)
    assert after_dispose is not first
    if after_dispose.dialect.name != "sqlite":
        return
    assert first.closed
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: reports whether it was handed its parent's connection
        try:
            with app.test_request_context("/"):
                inherited = child_connection.connection() is after_dispose
            os.write(writing, b"inherited" if inherited else b"fresh")
        finally:
            os._exit(0)
    os.close(writing)
    told = os.read(reading, 64)
    os.close(reading)
    os.waitpid(child, 0)
    assert told == b"fresh"
    with app.test_request_context("/"):
        assert child_connection.connection() is after_dispose  # the parent keeps its own


def test_a_kept_connection_that_was_invalidated_or_belongs_to_another_app_is_replaced(make_app) -> None:
    first_app, second_app = make_app(), make_app()
    first, _ = _kept_or_checked_out(first_app)
    with first_app.test_request_context("/"):
        child_connection.connection().invalidate()  # as SQLAlchemy does when the driver's connection broke
    replaced, _ = _kept_or_checked_out(first_app)
    assert replaced is not first and not replaced.invalidated
    other, _ = _kept_or_checked_out(second_app)
    assert other is not replaced
    if other.dialect.name == "sqlite":
        assert replaced.closed  # one kept connection a thread: the other app's took its place
    with second_app.test_request_context("/"):
        assert child_connection.connection().execute(sa.select(sa.literal(1))).scalar_one() == 1


def test_a_threads_kept_connection_goes_back_to_the_pool_when_the_thread_ends(app) -> None:
    import gc
    import threading

    with app.app_context():
        engine = db.engine
    before = engine.pool.checkedout()
    seen: list[bool] = []
    worker = threading.Thread(target=lambda: seen.append(_kept_or_checked_out(app)[1]))
    worker.start()
    worker.join()
    gc.collect()
    assert len(seen) == 1
    assert engine.pool.checkedout() == before

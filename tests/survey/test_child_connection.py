"""A child's question pages and saves run on one Core connection, without the ORM session
(survey/child_connection.py), and what they read stays as fresh as the session's reads were."""

from __future__ import annotations

import datetime as dt

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

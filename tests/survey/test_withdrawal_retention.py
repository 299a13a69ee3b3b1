"""Withdrawal codes (C-09) and retention (DP-06)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Consultation, Participant
from tests.survey.test_journey import _answers, _assent, _post_page


def _complete(app, consultation, issue_codes):
    card = issue_codes.cards(consultation, 1)[0]
    child = app.test_client()
    child.post("/", data={"code": card.code})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    child.post("/p/end", data={"decision": "yes"})
    return card


def _set(app, consultation_id, **values):
    with app.app_context():
        consultation = db.session.get(Consultation, consultation_id)
        for name, value in values.items():
            setattr(consultation, name, value)
        db.session.commit()


def test_withdrawal_code_deletes_until_the_cutoff(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(analysis_cutoff=dt.date.today())  # today is the last day
    card = _complete(app, consultation, issue_codes)
    assert _answers(app) == {"who": "friend"}
    page = app.test_client().post("/change", data={"code": card.withdrawal_code.lower()})
    assert page.status_code == 200 and "Your answers have been deleted" in page.get_data(as_text=True)
    assert _answers(app) == {}
    with app.app_context():
        participant = db.session.scalars(sa.select(Participant)).one()
        assert participant.state == "withdrawn" and participant.withdrawal_hash is None
    # The code has nothing left to reach; the answer is the same as for an unknown code.
    again = app.test_client().post("/change", data={"code": card.withdrawal_code})
    unknown = app.test_client().post("/change", data={"code": "AAAA-BBBB-CCCC"})
    assert "Nothing to delete" in again.get_data(as_text=True)
    assert "Nothing to delete" in unknown.get_data(as_text=True)


def test_after_the_cutoff_the_answers_are_already_combined(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    card = _complete(app, consultation, issue_codes)
    _set(app, consultation, analysis_cutoff=dt.date.today() - dt.timedelta(days=1))
    page = app.test_client().post("/change", data={"code": card.withdrawal_code})
    assert "already mixed in" in page.get_data(as_text=True)
    assert _answers(app) == {"who": "friend"}


def test_the_participation_code_is_not_a_withdrawal_code(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    card = _complete(app, consultation, issue_codes)
    page = app.test_client().post("/change", data={"code": card.code})
    assert "Nothing to delete" in page.get_data(as_text=True)
    assert _answers(app) == {"who": "friend"}


def test_retention_expires_incomplete_responses_and_removes_everything_after_the_date(
    app, runner, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()
    _complete(app, consultation, issue_codes)
    code = issue_codes(consultation, 1)[0]
    child = app.test_client()
    child.post("/", data={"code": code})
    _assent(child)
    _post_page(child, 0, {"q_who": "parent"})  # then the child never comes back
    with app.app_context():
        db.session.execute(
            sa.update(Participant)
            .where(Participant.state == "answering")
            .values(last_active_on=dt.date.today() - dt.timedelta(days=8))
        )
        db.session.commit()
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0 and "1 (incomplete_window_passed)" in result.output
    assert _answers(app) == {"who": "friend"}
    with app.app_context():
        states = sorted(db.session.scalars(sa.select(Participant.state)))
    assert states == ["completed", "expired"]

    _set(app, consultation, retention_until=dt.date.today() - dt.timedelta(days=1))
    result = runner.invoke(args=["retention", "run"])
    assert "retention_date_passed" in result.output
    with app.app_context():
        for model in (Answer, Participant):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0

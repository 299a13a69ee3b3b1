"""Withdrawal codes (C-09) and retention (DP-06)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Consultation, Participant
from tests.survey.test_journey import _answers, _assent, _post_page

DELETED = "Anything kept with this code has been deleted"


def _main(page) -> str:
    """The page's main content (the help panel and the language menu left out)."""
    html = page.get_data(as_text=True)
    return html[html.index("<main") : html.index("</main>")]


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
    assert page.status_code == 200 and DELETED in page.get_data(as_text=True)
    assert _answers(app) == {}
    with app.app_context():
        participant = db.session.scalars(sa.select(Participant)).one()
        assert participant.state == "withdrawn" and participant.withdrawal_hash is None
    # The code has nothing left to reach; the answer is the same as for an unknown code.
    again = app.test_client().post("/change", data={"code": card.withdrawal_code})
    unknown = app.test_client().post("/change", data={"code": "AAAA-BBBB-CCCC"})
    assert DELETED in again.get_data(as_text=True)
    assert _main(again) == _main(unknown) == _main(page)


def test_after_the_cutoff_the_answers_are_already_combined(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    card = _complete(app, consultation, issue_codes)
    _set(app, consultation, analysis_cutoff=dt.date.today() - dt.timedelta(days=1))
    page = app.test_client().post("/change", data={"code": card.withdrawal_code})
    assert "The last day to take answers out has passed" in page.get_data(as_text=True)
    assert _answers(app) == {"who": "friend"}


def test_the_withdrawal_page_does_not_tell_a_used_card_from_an_unused_one(app, make_consultation, issue_codes) -> None:
    """F7 (review, December 2026): a used card's code answered "Your answers have been deleted",
    an unused card's "Nothing to delete", so whoever holds the printed card sheet could learn
    which children took part.  Both answer the same page, byte for byte, and so does a code
    that is no card; only the used card's answers are gone."""
    consultation = make_consultation(analysis_cutoff=dt.date.today())
    used = _complete(app, consultation, issue_codes)
    unused = issue_codes.cards(consultation, 1)[0]
    pages = [
        app.test_client().post("/change", data={"code": code})
        for code in (used.withdrawal_code, unused.withdrawal_code, "AAAA-BBBB-CCCC")
    ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert pages[0].get_data() == pages[1].get_data() == pages[2].get_data()
    assert DELETED in pages[0].get_data(as_text=True)
    assert _answers(app) == {}
    # After the cut-off: the same honest page for the finished card and the unused one.
    _set(app, consultation, analysis_cutoff=dt.date.today() - dt.timedelta(days=1))
    finished = _complete(app, consultation, issue_codes)
    spare = issue_codes.cards(consultation, 1)[0]
    late = [app.test_client().post("/change", data={"code": c.withdrawal_code}) for c in (finished, spare)]
    assert late[0].get_data() == late[1].get_data()
    assert "The last day to take answers out has passed" in late[0].get_data(as_text=True)
    assert _answers(app) == {"who": "friend"}


def test_the_participation_code_is_not_a_withdrawal_code(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    card = _complete(app, consultation, issue_codes)
    page = app.test_client().post("/change", data={"code": card.code})
    assert DELETED in page.get_data(as_text=True)
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

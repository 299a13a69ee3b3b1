"""Every written answer is read by the safeguarding lead, not only those the screening rules flag.

Children describe harm in words no rule expects; the reading list makes sure such an answer is
still seen by a person, who can put it in the safeguarding queue.
"""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, AuditEvent, ConcernFlag, Consultation, User, WrittenAnswerRead
from survey.services import consultations
from tests.conftest import sign_in
from tests.survey.child_walk import cards, enter, open_bundled, walk

# Written as a child might, with no word of abuse in it: the rules may or may not catch it, and
# either way it must reach a person.
DESCRIBED = "i wear my jumper in pe so nobody sees my arms after he gets back from the pub"


def _bundled_with_lead(app, make_user) -> int:
    make_user("lead", "facilitator")
    consultation = open_bundled(app, country_profile="example-ke")
    with app.app_context():
        consultations.add_member(
            db.session.get(Consultation, consultation),
            db.session.scalar(sa.select(User).where(User.username == "lead")),
            "safeguarding",
        )
    return consultation


def _lead(app):
    client = app.test_client()
    sign_in(client, "lead")
    return client


def _written_count(app, consultation: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(Answer.value == DESCRIBED))


def test_a_childs_own_words_reach_the_lead_who_can_raise_a_concern(app, make_user) -> None:
    consultation = _bundled_with_lead(app, make_user)
    walk(enter(app, cards(app, consultation, 1)[0], 15), 15, written=DESCRIBED)
    written = _written_count(app, consultation)
    assert written >= 1  # the bundled band-C questionnaire has written questions

    lead = _lead(app)
    queue = lead.get(f"/safeguarding/{consultation}/").get_data(as_text=True)
    assert f"/safeguarding/{consultation}/written" in queue
    page = lead.get(f"/safeguarding/{consultation}/written")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count(DESCRIBED) == written
    with app.app_context():
        answer_id = db.session.scalars(sa.select(Answer.id).where(Answer.value == DESCRIBED)).first()
        flags_before = db.session.scalar(sa.select(sa.func.count()).select_from(ConcernFlag))

    raised = lead.post(f"/safeguarding/{consultation}/written/{answer_id}/concern")
    assert raised.status_code == 303
    with app.app_context():
        flags = db.session.scalars(sa.select(ConcernFlag).order_by(ConcernFlag.id)).all()
        assert len(flags) == flags_before + 1
        assert flags[-1].excerpt == DESCRIBED and flags[-1].status == "open"
        assert flags[-1].consultation_id == consultation
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "concern.raise" in actions
    assert DESCRIBED in lead.get(f"/safeguarding/{consultation}/").get_data(as_text=True)
    # The raised answer counts as read; the others still wait.
    assert lead.get(f"/safeguarding/{consultation}/written").get_data(as_text=True).count(DESCRIBED) == written - 1


def test_read_answers_leave_the_list_and_come_back_when_changed(app, make_user) -> None:
    consultation = _bundled_with_lead(app, make_user)
    walk(enter(app, cards(app, consultation, 1)[0], 15), 15, written=DESCRIBED)
    lead = _lead(app)
    with app.app_context():
        ids = db.session.scalars(sa.select(Answer.id).where(Answer.value == DESCRIBED)).all()
    marked = lead.post(f"/safeguarding/{consultation}/written/read", data={"answer": ids})
    assert marked.status_code == 303
    after = lead.get(f"/safeguarding/{consultation}/written").get_data(as_text=True)
    assert DESCRIBED not in after and "Every written answer has been read" in after
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WrittenAnswerRead)) == len(ids)
        # The child edits one answer after it was read: it is unread again.
        db.session.get(Answer, ids[0]).value = DESCRIBED + " and he took my phone"
        db.session.commit()
    again = lead.get(f"/safeguarding/{consultation}/written").get_data(as_text=True)
    assert "and he took my phone" in again


def test_only_the_safeguarding_lead_reads_them(app, make_user) -> None:
    consultation = _bundled_with_lead(app, make_user)
    walk(enter(app, cards(app, consultation, 1)[0], 15), 15, written=DESCRIBED)
    with app.app_context():
        answer_id = db.session.scalars(sa.select(Answer.id).where(Answer.value == DESCRIBED)).first()
    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    for name in ("fiona", "ana"):
        other = app.test_client()
        sign_in(other, name)
        assert other.get(f"/safeguarding/{consultation}/written").status_code == 403
        assert other.post(f"/safeguarding/{consultation}/written/read", data={"answer": [answer_id]}).status_code == 403
        assert other.post(f"/safeguarding/{consultation}/written/{answer_id}/concern").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WrittenAnswerRead)) == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(ConcernFlag).where(ConcernFlag.concerns == "raised-by-reader")
            )
            == 0
        )


def test_answers_of_another_consultation_or_made_up_ids_change_nothing(app, make_user) -> None:
    consultation = _bundled_with_lead(app, make_user)
    other = open_bundled(app, country_profile="example-ke")
    walk(enter(app, cards(app, other, 1)[0], 15), 15, written=DESCRIBED)
    with app.app_context():
        foreign = db.session.scalars(sa.select(Answer.id).where(Answer.value == DESCRIBED)).first()
    lead = _lead(app)
    assert DESCRIBED not in lead.get(f"/safeguarding/{consultation}/written").get_data(as_text=True)
    assert lead.post(f"/safeguarding/{consultation}/written/{foreign}/concern").status_code == 404
    assert lead.post(f"/safeguarding/{consultation}/written/not-an-answer/concern").status_code == 404
    assert lead.post(f"/safeguarding/{consultation}/written/read", data={"answer": [foreign, "x"]}).status_code == 303
    assert lead.get(f"/safeguarding/{consultation}/written?page=-3").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WrittenAnswerRead)) == 0

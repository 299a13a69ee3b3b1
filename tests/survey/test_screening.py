"""Open answers are screened when saved: personal information never stored, concerns queued (S-06)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, ConcernFlag, Consultation, Membership
from tests.conftest import sign_in
from tests.survey.test_journey import _assent, _post_page


def test_personal_information_is_redacted_before_it_is_stored(app, make_user, make_consultation,
                                                              issue_codes) -> None:
    consultation = make_consultation(screening_deny_list="Amina Baraka")
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    _post_page(child, 1, {"q_ideas": "Amina said call 0722 123 456 or mail amina@example.org",
                          "q_why_helpline": ""})
    with app.app_context():
        stored = db.session.scalars(sa.select(Answer.value).where(Answer.item == "ideas")).one()
    assert "0722" not in stored and "example.org" not in stored and "Amina" not in stored
    assert "<PHONE>" in stored and "<EMAIL>" in stored and "<NAME>" in stored


def test_concerns_reach_the_safeguarding_lead_with_no_link_to_the_child(app, make_user, make_consultation,
                                                                         issue_codes) -> None:
    lead = make_user("sam", "facilitator")
    consultation = make_consultation()
    from survey.services import consultations

    with app.app_context():
        from survey.models import User

        consultations.add_member(db.session.get(Consultation, consultation), db.session.get(User, lead),
                                 "safeguarding")
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    _post_page(child, 1, {"q_ideas": "someone at home hits me and I am scared"})
    with app.app_context():
        flag = db.session.scalars(sa.select(ConcernFlag)).one()
        assert flag.consultation_id == consultation and flag.status == "open"
        assert set(ConcernFlag.__table__.columns.keys()) == {
            "id", "consultation_id", "item", "excerpt", "concerns", "flagged_on", "status",
            "resolved_on", "session_id", "seat_label"}
    client = app.test_client()
    sign_in(client, "sam")
    page = client.get(f"/safeguarding/{consultation}/")
    assert page.status_code == 200 and "hits me" in page.get_data(as_text=True)
    client.post(f"/safeguarding/{consultation}/{flag.id}")
    with app.app_context():
        assert db.session.get(ConcernFlag, flag.id).status == "reviewed"
        assert db.session.get(ConcernFlag, flag.id).resolved_on is not None
        assert db.session.scalars(sa.select(Membership.role)).all() == ["safeguarding"]
    # A facilitator who is not this consultation's lead cannot see the queue.
    make_user("fiona", "facilitator")
    other = app.test_client()
    sign_in(other, "fiona")
    assert other.get(f"/safeguarding/{consultation}/").status_code == 403

"""Opening a consultation runs the consent checks; guardian permission gates the assent screen."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Consultation, Participant
from survey.services import consultations


def test_opening_binds_exact_text_versions(app, make_consultation) -> None:
    consultation = make_consultation(languages=("en",))
    with app.app_context():
        bindings = json.loads(db.session.get(Consultation, consultation).text_bindings)
    assert {"child_information/en/A", "child_information/en/B", "child_information/en/C"} <= set(bindings)
    assert all(len(entry["content_hash"]) == 64 for entry in bindings.values())


def test_a_real_consultation_cannot_open_on_draft_texts(app, make_consultation) -> None:
    consultation = make_consultation(state="draft", languages=("en",))
    with app.app_context():
        record = db.session.get(Consultation, consultation)
        with pytest.raises(consultations.OpeningRefused) as refused:
            consultations.open_consultation(record, today=dt.date.today(), demo=False)
        assert record.state == "draft"
    assert "approved" in str(refused.value)


def test_missing_p01_values_refuse_opening(app, make_consultation) -> None:
    consultation = make_consultation(state="draft", languages=("en",), audience="")
    with app.app_context():
        with pytest.raises(consultations.OpeningRefused, match="who will hear the results"):
            consultations.open_consultation(
                db.session.get(Consultation, consultation), today=dt.date.today(), demo=True
            )


def test_a_changed_text_is_refused_after_binding(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(languages=("en",))
    with app.app_context():
        record = db.session.get(Consultation, consultation)
        bindings = json.loads(record.text_bindings)
        bindings["child_information/en/B"]["content_hash"] = "0" * 64  # as if the text changed since
        record.text_bindings = json.dumps(bindings)
        db.session.commit()
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    child.post("/p/age", data={"age": "12"})
    response = child.get("/p/about")
    assert response.status_code == 409 and "Please see the adult" in response.get_data(as_text=True)
    assert child.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"}).status_code == 409
    with app.app_context():
        assert set(db.session.scalars(sa.select(Participant.state))) == {"issued"}


def test_active_opt_in_needs_the_form_seen_before_assent(app, world, make_consultation, issue_codes) -> None:
    from survey.models import Membership

    consultation = make_consultation(country_profile="generic", languages=("en",))
    with app.app_context():
        db.session.add(
            Membership(user_id=world.user_ids["facilitator"], consultation_id=consultation, role="facilitator")
        )
        db.session.commit()
    cards = issue_codes.cards(consultation, 2)
    child = app.test_client()
    child.post("/", data={"code": cards[0].code})
    child.post("/p/age", data={"age": "12"})
    waiting = child.get("/p/about")
    assert "Please see the adult running this session" in waiting.get_data(as_text=True)
    assert child.post("/p/about", data={"decision": "yes"}).status_code == 200
    with app.app_context():
        assert (
            db.session.scalars(
                sa.select(Participant.state).where(
                    Participant.card_number == cards[0].number, Participant.consultation_id == consultation
                )
            ).one()
            == "issued"
        )

    facilitator = world.clients["facilitator"]
    page = facilitator.get(f"/facilitate/{consultation}/cards")
    assert page.status_code == 200 and "Form seen" in page.get_data(as_text=True)
    marked = facilitator.post(
        f"/facilitate/{consultation}/cards", data={"card": str(cards[0].number), "action": "mark_permission_seen"}
    )
    assert marked.status_code == 303
    unknown = facilitator.post(f"/facilitate/{consultation}/cards", data={"card": "999", "action": "mark_withheld"})
    assert unknown.status_code == 400 and "no card number 999" in unknown.get_data(as_text=True)
    assert "I want to take part" in child.get("/p/about").get_data(as_text=True)
    assert child.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"}).status_code == 302
    # Undo answers as on a card never used: nothing tells the facilitator that this one was
    # (tests/survey/test_guardian_withholding.py compares the two whole).
    undo = facilitator.post(f"/facilitate/{consultation}/cards", data={"card": str(cards[0].number), "action": "undo"})
    assert undo.status_code == 303


def test_guardian_letter_prints_the_bound_versions_with_the_consultations_values(world) -> None:
    page = world.clients["facilitator"].get(
        f"/facilitate/{world.consultation}/letter?session_date=2027-02-03&return_by=2027-01-30"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for value in ("the county council", "REC-TEST-1", "the ethics board", "2027"):
        assert value in html
    # example-uk uses passive opt-out: the slip is the one for guardians who say no.
    assert html.count('class="printable"') == 2
    assert world.clients["other_facilitator"].get(f"/facilitate/{world.consultation}/letter").status_code == 403
    assert world.clients["analyst"].get(f"/facilitate/{world.consultation}/letter").status_code == 403

"""The facilitator's side: signals by seat label, the live view, code cards."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from pypdf import PdfReader

from survey.extensions import db
from survey.models import Participant, Signal
from tests.conftest import World, sign_in


def _child_at_seat(app, consultation: int, issue_codes, seat: str):
    client = app.test_client()
    code = issue_codes(consultation, 1)[0]
    assert client.post("/", data={"code": code, "seat": seat}).status_code == 302
    return client


def test_talk_to_someone_reaches_only_this_consultations_facilitator(app, world: World, issue_codes) -> None:
    child = _child_at_seat(app, world.consultation, issue_codes, "Table  3")
    page = child.get("/p/age").get_data(as_text=True)
    assert "I&#39;d like to talk to someone" in page or "I'd like to talk to someone" in page
    response = child.post("/p/talk")
    assert response.status_code == 200 and "TABLE 3" in response.get_data(as_text=True)

    live = world.clients["facilitator"].get(f"/facilitate/{world.consultation}/live")
    html = live.get_data(as_text=True)
    assert live.status_code == 200 and "TABLE 3" in html and "js/live-refresh.js" in html
    assert world.clients["other_facilitator"].get(f"/facilitate/{world.consultation}/live").status_code == 403
    with app.app_context():
        signal = db.session.scalars(sa.select(Signal)).one()
        # holder_tag is a keyed hash the facilitator never sees: only the child's deletion uses it.
        assert set(Signal.__table__.columns.keys()) == {
            "id",
            "consultation_id",
            "seat_label",
            "raised_at",
            "status",
            "holder_tag",
        }
    # Another consultation's facilitator cannot act on it through their own consultation's address.
    world.clients["other_facilitator"].post(
        f"/facilitate/{world.other_consultation}/signals/{signal.id}", data={"status": "resolved"}
    )
    with app.app_context():
        assert db.session.get(Signal, signal.id).status == "open"
    world.clients["facilitator"].post(
        f"/facilitate/{world.consultation}/signals/{signal.id}", data={"status": "acknowledged"}
    )
    world.clients["facilitator"].post(
        f"/facilitate/{world.consultation}/signals/{signal.id}", data={"status": "resolved"}
    )
    with app.app_context():
        assert db.session.get(Signal, signal.id).status == "resolved"
    assert "TABLE 3" not in world.clients["facilitator"].get(f"/facilitate/{world.consultation}/live").get_data(
        as_text=True
    )


def test_the_seat_label_is_short_and_never_reaches_self_completion(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(facilitated=False)
    long = app.test_client().post(
        "/", data={"code": issue_codes(consultation, 1)[0], "seat": "Amina Mwangi sitting at the back row"}
    )
    page = long.get_data(as_text=True)
    # Refused in plain words, and what was typed is never shown back (issue 18: long input).
    assert long.status_code == 400 and "That is too long" in page and "Amina" not in page
    child = _child_at_seat(app, consultation, issue_codes, "Table 3")
    with app.app_context():
        assert set(db.session.scalars(sa.select(Participant.seat_label))) == {""}
    assert child.post("/p/talk").location.endswith("/help")


def _pdf_text(pdf: bytes) -> str:
    # Read back as a copy-and-paste would (the cards' text is in an embedded font).
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_code_cards_pdf_holds_working_codes(app, world: World) -> None:
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Participant))
    response = world.clients["facilitator"].post(f"/facilitate/{world.consultation}/codes", data={"count": "12"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = response.data
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", pdf)) == 2  # 10 cards a page
    codes = sorted(set(re.findall(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", _pdf_text(pdf))))
    assert len(codes) == 24  # a code and a withdrawal code per card
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == before + 12
    entered = []
    for number, code in enumerate(codes):
        child = app.test_client()
        child.environ_base["REMOTE_ADDR"] = f"10.0.0.{number + 1}"  # one device each: no throttling
        entered.append(child.post("/", data={"code": code}).status_code)
    assert entered.count(302) == 12
    # Analysts cannot print cards; nor can a facilitator of another consultation.
    analyst = world.clients["analyst"].post(f"/facilitate/{world.consultation}/codes", data={"count": "1"})
    assert analyst.status_code == 403
    assert (
        world.clients["other_facilitator"]
        .post(f"/facilitate/{world.consultation}/codes", data={"count": "1"})
        .status_code
        == 403
    )


def test_code_card_count_is_checked(world: World) -> None:
    response = world.clients["facilitator"].post(f"/facilitate/{world.consultation}/codes", data={"count": "9999"})
    assert response.status_code == 400 and "between 1 and 500" in response.get_data(as_text=True)


def test_facilitator_sign_in_reaches_the_consultation(app, make_user, make_consultation) -> None:
    fiona = make_user("fiona", "facilitator")
    consultation = make_consultation("Ours", members=[(fiona, "facilitator")])
    client = app.test_client()
    sign_in(client, "fiona")
    home = client.get("/staff/").get_data(as_text=True)
    assert f"/facilitate/{consultation}/" in home


def test_a_name_is_refused_as_a_seat_label(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    response = app.test_client().post("/", data={"code": issue_codes(consultation, 1)[0], "seat": "Amina"})
    assert response.status_code == 400 and "never a name" in response.get_data(as_text=True)


def test_a_seat_number_in_arabic_indic_digits_is_taken_and_kept_as_ascii(app, world: World, issue_codes) -> None:
    # An Arabic keyboard types "١٢" for 12: the same seat number, shown to the facilitator as 12.
    child = _child_at_seat(app, world.consultation, issue_codes, "١٢")
    assert child.post("/p/talk").status_code == 200
    with app.app_context():
        assert db.session.scalars(sa.select(Participant.seat_label).where(Participant.seat_label != "")).all() == ["12"]


def test_a_no_at_the_information_step_keeps_no_band_seat_or_language(app, world: World, issue_codes) -> None:
    # The page after a No says nothing the child did was kept: the card is a count, as after
    # stop-and-delete.
    child = _child_at_seat(app, world.consultation, issue_codes, "D29")
    assert child.post("/p/age", data={"age": "15"}).status_code == 302
    assert child.post("/p/about", data={"decision": "no"}).location.endswith("/p/declined")
    with app.app_context():
        row = db.session.execute(
            sa.select(Participant.band, Participant.seat_label, Participant.language, Participant.page_index).where(
                Participant.state == "declined"
            )
        ).one()
    assert tuple(row) == (None, "", None, 0)

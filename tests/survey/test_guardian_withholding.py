"""A guardian's withholding is honoured on a card in use, and card actions do not tell a
facilitator which cards were used (issue 16, item 4).

Through the real app, on the bundled consultation as shipped (generic profile: active opt-in,
so every card action is offered), signed in as the consultation's facilitator.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, AssentEvent, Membership, Participant
from tests.conftest import World
from tests.survey.child_walk import answers_for, cards, enter, open_bundled, walk


def _consultation(app, world: World) -> int:
    consultation = open_bundled(app, country_profile="generic")
    with app.app_context():
        db.session.add(
            Membership(user_id=world.user_ids["facilitator"], consultation_id=consultation, role="facilitator")
        )
        db.session.commit()
    return consultation


def _card(app, consultation: int) -> tuple[str, int]:
    """A new card with its guardian's form seen: its code and its number."""
    code = cards(app, consultation, 1)[0]
    with app.app_context():
        number = db.session.scalar(
            sa.select(sa.func.max(Participant.card_number)).where(Participant.consultation_id == consultation)
        )
    return code, number


def _stored(app, consultation: int, number: int) -> tuple[str, int, int]:
    """The card's state, its answers and its assent records."""
    with app.app_context():
        participant = db.session.scalars(
            sa.select(Participant).where(Participant.consultation_id == consultation, Participant.card_number == number)
        ).one()
        answers = db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer).where(Answer.participant_id == participant.id)
        )
        assents = db.session.scalar(
            sa.select(sa.func.count()).select_from(AssentEvent).where(AssentEvent.consultation_id == consultation)
        )
        return participant.state, answers, assents


def _withhold(number: int) -> dict[str, str]:
    """The form that withholds card ``number``, its number confirmed."""
    return {"card": str(number), "action": "mark_withheld", "confirm": str(number)}


def _first_page_saved(client) -> str:
    page = client.get("/p/q/0")
    assert page.status_code == 200
    saved = client.post("/p/q/0", data=answers_for(page.get_data(as_text=True), 12))
    assert saved.status_code == 302
    return saved.location.removeprefix("http://localhost")


def test_a_child_mid_survey_whose_card_is_withheld_is_stopped_and_their_answers_deleted(app, world: World) -> None:
    consultation = _consultation(app, world)
    code, number = _card(app, consultation)
    child = enter(app, code, 12)
    following = _first_page_saved(child)
    assert following.startswith("/p/q/")
    state, answers, assents = _stored(app, consultation, number)
    assert state == "answering" and answers > 0 and assents == 1

    withheld = world.clients["facilitator"].post(f"/facilitate/{consultation}/cards", data=_withhold(number))
    assert withheld.status_code == 303

    # The child's next save stores nothing and ends their session on a calm page.
    page = child.get(following)
    assert page.status_code == 302 and page.location.endswith("/p/ended")
    calm = child.get("/p/ended").get_data(as_text=True)
    assert "It is nothing you did." in calm and "Everything you answered has been deleted." in calm
    for word in ("guardian", "parent", "carer", "permission", "withheld"):
        assert word not in calm.lower(), word
    assert _stored(app, consultation, number) == ("withdrawn", 0, 0)
    # The session is over, and the card cannot be used again.
    assert child.get("/p/q/0").location.endswith("/")
    assert child.post("/", data={"code": code}).status_code == 400


def test_a_save_in_flight_when_the_card_is_withheld_is_not_kept(app, world: World) -> None:
    consultation = _consultation(app, world)
    code, number = _card(app, consultation)
    child = enter(app, code, 12)
    page = child.get("/p/q/0").get_data(as_text=True)
    world.clients["facilitator"].post(f"/facilitate/{consultation}/cards", data=_withhold(number))
    saved = child.post("/p/q/0", data=answers_for(page, 12))
    assert saved.status_code == 302 and saved.location.endswith("/p/ended")
    assert _stored(app, consultation, number) == ("withdrawn", 0, 0)


def test_a_finished_card_that_is_withheld_loses_its_answers_before_the_cutoff(app, world: World) -> None:
    consultation = _consultation(app, world)  # analysis cut-off 2027-01-31
    code, number = _card(app, consultation)
    walk(enter(app, code, 12), 12)
    state, answers, _assents = _stored(app, consultation, number)
    assert state == "completed" and answers > 0
    world.clients["facilitator"].post(f"/facilitate/{consultation}/cards", data=_withhold(number))
    assert _stored(app, consultation, number) == ("withdrawn", 0, 0)


ACTIONS = (
    "mark_withheld",
    "mark_withheld",  # refused: already withheld
    "undo",
    "mark_permission_seen",
    "mark_permission_seen",  # refused: already seen
    "undo",
    "undo",  # refused: nothing to undo
    "mark_withheld",
    "mark_permission_seen",  # refused: withheld
    "undo",
    "mark_permission_seen",
)


def _answers(facilitator, consultation: int, number: int) -> list[tuple[int, str, str]]:
    """Each action's status, where it leads and the page the facilitator then sees, with the
    form tokens and the consultation's number taken out."""

    def plain(html: str) -> str:
        html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "TOKEN", html)
        html = re.sub(r'value="[^"]*" name="csrf_token"|name="csrf_token" value="[^"]*"', "TOKEN", html)
        return html.replace(f"/facilitate/{consultation}/", "/facilitate/ID/")

    seen = []
    for action in ACTIONS:
        data = {"card": str(number), "action": action}
        while True:
            response = facilitator.post(f"/facilitate/{consultation}/cards", data=data)
            location = response.headers.get("Location", "").replace(f"/facilitate/{consultation}/", "/facilitate/ID/")
            shown = facilitator.get(response.location) if response.status_code == 303 else response
            seen.append((response.status_code, location, plain(shown.get_data(as_text=True))))
            if action != "mark_withheld" or response.status_code != 200 or "confirm" in data:
                break
            data["confirm"] = str(number)  # withholding is confirmed on a page of its own first
    return seen


def test_card_actions_answer_the_same_for_used_and_unused_cards(app, world: World) -> None:
    """One card per consultation (each card 1), so the pages can be compared whole."""
    facilitator = world.clients["facilitator"]
    unused = _consultation(app, world)
    _card(app, unused)
    mid_survey = _consultation(app, world)
    code, _number = _card(app, mid_survey)
    _first_page_saved(enter(app, code, 12))
    finished = _consultation(app, world)
    code, _number = _card(app, finished)
    walk(enter(app, code, 12), 12)

    expected = _answers(facilitator, unused, 1)
    statuses = [status for status, _location, _page in expected]
    assert statuses == [200, 303, 400, 303, 303, 400, 303, 400, 200, 303, 400, 303, 303]
    assert "Withhold card 1?" in expected[0][2] and "Card 1 updated." in expected[1][2]
    for used in (mid_survey, finished):
        answers = _answers(facilitator, used, 1)
        for step, (theirs, ours) in enumerate(zip(answers, expected, strict=True)):
            assert theirs == ours, step


def test_withholding_a_card_asks_first_and_deletes_nothing_until_confirmed(app, world: World) -> None:
    """F6 (review, December 2026): "Withhold this card" deleted a child's answers at once, with
    no confirmation, and a mistyped number deleted another child's.  Now the number is
    confirmed on a page of its own, without JavaScript, which says what withholding deletes."""
    facilitator = world.clients["facilitator"]
    consultation = _consultation(app, world)
    code, number = _card(app, consultation)
    _first_page_saved(enter(app, code, 12))
    before = _stored(app, consultation, number)
    assert before[0] == "answering" and before[1] > 0
    cards_page = f"/facilitate/{consultation}/cards"

    asked = facilitator.post(cards_page, data={"card": str(number), "action": "mark_withheld"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and f"Withhold card {number}?" in html
    assert "whatever was answered with it is deleted now, and Undo cannot bring it back" in html
    assert f'name="confirm" value="{number}"' in html and f"Yes, withhold card {number}" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    assert _stored(app, consultation, number) == before

    # A confirmation for another number (a stale or altered form) asks again; nothing is deleted.
    other = facilitator.post(cards_page, data={"card": str(number), "action": "mark_withheld", "confirm": "999"})
    assert other.status_code == 200 and f"Withhold card {number}?" in other.get_data(as_text=True)
    assert _stored(app, consultation, number) == before

    done = facilitator.post(cards_page, data=_withhold(number))
    assert done.status_code == 303
    assert _stored(app, consultation, number) == ("withdrawn", 0, 0)

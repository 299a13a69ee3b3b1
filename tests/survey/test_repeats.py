"""Repeats on a child's pages (issue 19): "add another", "that's all", repeat_count, Back.

The form is a real XLSForm (``tests/instruments/data/repeats/friends.md``), imported and
stored as an administrator's upload is; the child goes through it with the test client.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from instruments import import_xlsform
from survey.extensions import db
from survey.models import Answer
from tests.factories import new_consultation

FORMS = Path(__file__).parents[1] / "instruments" / "data" / "repeats"


@pytest.fixture
def consultation(app):
    from survey.services import instrument_store

    instrument = import_xlsform(FORMS / "friends.md").instrument
    with app.app_context():
        instrument_store.store(instrument, approved=True)
        return new_consultation("Repeats", instrument.id, instrument.version, instrument.content_hash)


@pytest.fixture
def child(app, consultation, issue_codes):
    client = app.test_client()
    assert client.post("/", data={"code": issue_codes(consultation, 1)[0]}).status_code == 302
    assert client.get("/p/age").status_code == 302  # one age group: nothing to ask
    response = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
    assert response.status_code == 302
    return client


def _token(body: str) -> str:
    return re.search(r'name="page_token" value="([^"]+)"', body).group(1)


def _post(child, location: str, data: dict, nav: str = "next") -> str:
    page = child.get(location)
    assert page.status_code == 200, (location, page.status_code)
    response = child.post(location, data={**data, "nav": nav, "page_token": _token(page.get_data(as_text=True))})
    assert response.status_code == 302, (location, response.get_data(as_text=True)[:500])
    return response.location.removeprefix("http://localhost")


def _answers(app) -> set[tuple[str, int, int, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(Answer.item, Answer.parent_instance, Answer.instance, Answer.value))
        return {tuple(row) for row in rows}


def test_a_child_adds_two_friends_says_thats_all_and_goes_back_without_losing_anything(app, child):
    assert _post(child, "/p/q/0", {"q_n": "2"}) == "/p/q/1/1"
    first = child.get("/p/q/1/1").get_data(as_text=True)
    assert "A friend you talk to (1)" in first
    # relevance inside the repeat reads this instance's own answer
    assert _post(child, "/p/q/1/1", {"q_online": "yes"}) == "/p/q/2/1"
    assert _post(child, "/p/q/2/1", {"q_often": "daily"}) == "/p/more/2/1"
    more = child.get("/p/more/2/1").get_data(as_text=True)
    assert "Add another" in more and re.search(r"That(&#39;|')s all", more)
    assert _post(child, "/p/more/2/1", {}, nav="add") == "/p/q/1/2"
    assert "A friend you talk to (2)" in child.get("/p/q/1/2").get_data(as_text=True)
    # the second friend is not online: the follow-up is skipped for this instance only
    assert _post(child, "/p/q/1/2", {"q_online": "no"}) == "/p/more/2/2"
    # Back from "add another" returns to the friend's page, with the answer in place
    assert _post(child, "/p/more/2/2", {}, nav="back") == "/p/q/1/2"
    assert re.search(r'checked[^>]*value="no"', child.get("/p/q/1/2").get_data(as_text=True))
    assert _post(child, "/p/q/1/2", {"q_online": "no"}) == "/p/more/2/2"
    # "that's all": on to the repeat whose count is an earlier answer (2 places)
    assert _post(child, "/p/more/2/2", {}, nav="done") == "/p/q/3/1"
    assert _post(child, "/p/q/3/1", {"q_safe": "yes"}) == "/p/q/3/2"
    assert _post(child, "/p/q/3/2", {"q_safe": "no"}) == "/p/q/4"
    # Back across the repeats walks every instance in turn
    assert _post(child, "/p/q/4", {}, nav="back") == "/p/q/3/2"
    assert _post(child, "/p/q/3/2", {"q_safe": "no"}, nav="back") == "/p/q/3/1"
    assert _post(child, "/p/q/3/1", {"q_safe": "yes"}, nav="back") == "/p/more/2/2"
    assert _answers(app) == {
        ("n", 0, 0, "2"),
        ("online", 0, 1, "yes"),
        ("often", 0, 1, "daily"),
        ("friends", 0, 0, "2"),
        ("online", 0, 2, "no"),
        ("safe", 0, 1, "yes"),
        ("safe", 0, 2, "no"),
    }


def test_the_maximum_ends_the_adding_and_no_instance_past_it_is_reachable(app, child):
    location = _post(child, "/p/q/0", {"q_n": "0"})
    for number in (1, 2, 3):
        assert location == f"/p/q/1/{number}"
        location = _post(child, location, {"q_online": "no"})
        if number < 3:
            assert location == f"/p/more/2/{number}"
            location = _post(child, location, {}, nav="add")
    # the third friend is the most the form allows: the list (to remove one) but no "add
    # another"; a posted "add" adds nothing; then no places (n = 0)
    assert location == "/p/more/2/3"
    most = child.get(location).get_data(as_text=True)
    assert "Add another" not in most and "Remove" in most
    assert _post(child, location, {}, nav="add") == "/p/q/4"
    assert _post(child, location, {}, nav="done") == "/p/q/4"
    assert child.get("/p/more/2/4").status_code == 302
    assert child.get("/p/q/1/4").status_code == 302
    assert child.get("/p/q/1/x").status_code == 404
    assert ("friends", 0, 0, "3") in _answers(app)


def test_the_export_has_a_table_per_repeat_linked_to_each_record(app, consultation, issue_codes):
    """40 completed responses (enough for a record-level export): each friend and place is a row
    of its repeat's sheet, pointing at its child's record, as KoboToolbox lays them out."""
    import io

    from openpyxl import load_workbook

    from survey.models import Consultation, Participant
    from survey.services import reporting

    cards = issue_codes.cards(consultation, 40)
    expected_friends = expected_places = 0
    with app.app_context():
        for number, card in enumerate(cards):
            participant = db.session.scalar(
                sa.select(Participant).where(
                    Participant.card_number == card.number, Participant.consultation_id == consultation
                )
            )
            participant.state, participant.band = "completed", "B"
            friends, places = number % 3 + 1, number % 2
            rows = [("n", 0, 0, str(places)), ("friends", 0, 0, str(friends)), ("liked", 0, 0, "yes")]
            rows += [("online", 0, k, "yes" if k == 1 else "no") for k in range(1, friends + 1)]
            rows += [("often", 0, 1, "weekly")]
            rows += [("safe", 0, k, "yes") for k in range(1, places + 1)]
            db.session.add_all(
                Answer(participant_id=participant.id, item=item, parent_instance=parent, instance=instance, value=value)
                for item, parent, instance, value in rows
            )
            expected_friends += friends
            expected_places += places
        db.session.commit()
        data = reporting.render_download(db.session.get(Consultation, consultation), "export", "xlsx")
        zipped = reporting.render_download(db.session.get(Consultation, consultation), "export", "zip")
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames[:3] == ["data", "friends", "places"]
    main = list(book["data"].values)
    assert "liked" in main[0] and "online" not in main[0] and "friends" not in main[0]
    assert main[0][0] == "record" and "_response" not in main[0]
    friends = list(book["friends"].values)
    assert friends[0] == ("_index", "_parent_table_name", "_parent_index", "instance", "online", "often")
    assert len(friends) - 1 == expected_friends
    assert {row[1] for row in friends[1:]} == {"data"}
    assert {row[2] for row in friends[1:]} == set(range(1, 41))  # every record has its friends
    assert sorted(row[5] for row in friends[1:] if row[5]) == ["weekly"] * 40
    places = list(book["places"].values)
    assert len(places) - 1 == expected_places and {row[4] for row in places[1:]} == {"yes"}
    # the same tables as CSV files in one archive, as ODK Central exports them
    import csv
    import zipfile

    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        names = archive.namelist()
        rows = list(csv.reader(io.StringIO(archive.read("sauti_export_repeat_friends.csv").decode())))
    assert names[:3] == ["sauti_export.csv", "sauti_export_repeat_friends.csv", "sauti_export_repeat_places.csv"]
    assert rows[0][:3] == ["_index", "_parent_table_name", "_parent_index"] and len(rows) - 1 == expected_friends


def test_the_plan_of_a_repeat_inside_a_repeat_asks_each_inner_instance_of_each_outer_one():
    """rooms (repeat_count 2) holds things (the child adds them): every step in order, with
    "add another" after the last thing of each room."""
    from survey.services.instrument_store import band_view
    from survey.services.page_plan import _repeat_plan

    inst = import_xlsform(FORMS / "nested.md").instrument
    view = band_view(inst, "B")
    shared, thing, how_many = range(3)
    plan = _repeat_plan(view, {"things#2": "2", "thing#2.2": "kite"})
    assert plan.steps == (
        (shared, (1,), False),
        (thing, (1, 1), False),
        (how_many, (1, 1), True),
        (shared, (2,), False),
        (thing, (2, 1), False),
        (thing, (2, 2), False),
        (how_many, (2, 2), False),
        (how_many, (2, 2), True),
    )
    assert plan.step_after((how_many, (1, 1), True)) == (shared, (2,), False)
    assert plan.step_before((shared, (2,), False)) == (how_many, (1, 1), True)


def test_after_a_concern_the_child_goes_on_to_the_same_repeat_instance(child):
    """The calm page after an answer sent to the safeguarding lead leads back into the repeat."""
    for then, onward in (
        ("1:2", "/p/q/1/2"),
        ("2:2:more", "/p/more/2/2"),
        ("4", "/p/q/4"),
        ("1:x", "/p/"),
        ("end", "/p/end"),
    ):
        html = child.get(f"/p/noted?then={then}").get_data(as_text=True)
        assert f'href="{onward}"' in html, then


def test_a_closed_tab_resumes_in_the_repeat_instance_the_child_was_answering(app, child):
    _post(child, "/p/q/0", {"q_n": "0"})
    _post(child, "/p/q/1/1", {"q_online": "no"})
    _post(child, "/p/more/2/1", {}, nav="add")
    assert child.get("/p/q/1/2").status_code == 200
    assert child.get("/p/").location.endswith("/p/q/1/2")  # not the first friend again
    child.get("/leave")  # quick exit: the device forgets where the child was
    with child.session_transaction() as session:
        assert "repeat_step" not in session

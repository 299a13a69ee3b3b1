"""A child removes an instance of a repeat they sized ("Remove" on the "add another" page).

The forms are real XLSForms imported as an administrator's upload is; the child goes through
them with the test client, and the service is checked against the rows in the database.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from instruments import import_xlsform
from survey.extensions import db
from survey.models import Answer, Participant
from tests.factories import new_consultation

PETS = """
| survey |
| | type | name | label | repeat_count | max_repeats | appearance |
| | begin_repeat | pets | A pet | | 5 | field-list |
| | select_one kind | kind | What kind of pet is it? | | | |
| | integer | legs | How many legs does it have? | | | |
| | end_repeat | | | | | |
| | begin_repeat | places | A place you go to | 2 | | |
| | select_one yn | safe | Do you feel safe there? | | | |
| | end_repeat | | | | | |
| | select_one ${kind} | best | Which pet do you like best? | | | |
| | select_one yn | liked | Did you like answering these questions? | | | |
| choices |
| | list_name | name | label |
| | kind | dog | Dog |
| | kind | cat | Cat |
| | kind | fish | Fish |
| | yn | yes | Yes |
| | yn | no | No |
| settings |
| | form_id | version | sauti_language::English (en) |
| | pets_form | 1 | approved |
"""

HOMES = """
| survey |
| | type | name | label |
| | begin_repeat | homes | A home you live in |
| | select_one yn | shared | Do you share a room there? |
| | begin_repeat | people | Someone who lives there |
| | integer | height | How tall are they, in centimetres? |
| | end_repeat | | |
| | end_repeat | | |
| | select_one ${height} | oldest | Who is the tallest? |
| | select_one ${height} | youngest | Who is the shortest? |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| settings |
| | form_id | version | sauti_language::English (en) |
| | homes_form | 1 | approved |
"""


def _open(app, form: str) -> int:
    from survey.services import instrument_store

    instrument = import_xlsform(form).instrument
    with app.app_context():
        instrument_store.store(instrument, approved=True)
        return new_consultation("Removing", instrument.id, instrument.version, instrument.content_hash)


def _enter(app, code: str, *, assent: bool = True):
    client = app.test_client()
    assert client.post("/", data={"code": code}).status_code == 302
    assert client.get("/p/age").status_code == 302  # one age group: nothing to ask
    if assent:
        response = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
        assert response.status_code == 302
    return client


def _token(body: str) -> str:
    return re.search(r'name="page_token" value="([^"]+)"', body).group(1)


def _hidden(body: str) -> dict[str, str]:
    """The page token and, on a "Remove ...?" page, what it showed (as a browser sends them back)."""
    fields = dict(re.findall(r'type="hidden" name="(page_token|seen_count|seen)" value="([^"]*)"', body))
    assert "page_token" in fields
    return fields


def _post(child, location: str, data: dict, nav: str = "next") -> str:
    page = child.get(location)
    assert page.status_code == 200, (location, page.status_code)
    response = child.post(location, data={**data, "nav": nav, **_hidden(page.get_data(as_text=True))})
    assert response.status_code == 302, (location, response.status_code, response.get_data(as_text=True)[:500])
    return response.location.removeprefix("http://localhost")


def _rows(app) -> set[tuple[str, int, int, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(Answer.item, Answer.parent_instance, Answer.instance, Answer.value))
        return {tuple(row) for row in rows}


def _store(app, rows) -> str:
    """One assented child with these answers stored; their participant id."""
    with app.app_context():
        participant = db.session.scalar(sa.select(Participant).where(Participant.state == "assented"))
        participant.state = "answering"
        db.session.add_all(
            Answer(participant_id=participant.id, item=item, parent_instance=parent, instance=instance, value=value)
            for item, parent, instance, value in rows
        )
        db.session.commit()
        return participant.id


HOME_ROWS = {
    ("homes", 0, 0, "3"),
    ("shared", 0, 1, "yes"),
    ("shared", 0, 2, "no"),
    ("shared", 0, 3, "yes"),
    ("people", 0, 1, "2"),
    ("people", 0, 2, "1"),
    ("people", 0, 3, "2"),
    ("height", 1, 1, "9"),
    ("height", 1, 2, "10"),
    ("height", 2, 1, "11"),
    ("height", 3, 1, "12"),
    ("height", 3, 2, "13"),
    ("oldest", 0, 0, "3.2"),
    ("youngest", 0, 0, "2.1"),
}


@pytest.fixture
def homes_child(app, issue_codes):
    consultation = _open(app, HOMES)
    _enter(app, issue_codes(consultation, 1)[0])
    return _store(app, HOME_ROWS)


def _seen(app, participant_id, repeat, outer, number):
    """What a confirmation page shown now would carry."""
    from survey.services import repeat_removal
    from survey.services.placeholders import instrument_for_children

    with app.test_request_context():
        participant = db.session.get(Participant, participant_id)
        instrument = instrument_for_children(participant.consultation)
        return repeat_removal.seen_now(participant, instrument, repeat, outer, number)


def _remove(app, participant_id, repeat, outer, number, token="t-1", seen=None):
    from survey.services import repeat_removal
    from survey.services.placeholders import instrument_for_children

    if seen is None:
        seen = _seen(app, participant_id, repeat, outer, number)
    with app.test_request_context():
        participant = db.session.get(Participant, participant_id)
        instrument = instrument_for_children(participant.consultation)
        return repeat_removal.remove_instance(participant, instrument, repeat, outer, number, token, seen)


def test_removing_a_home_deletes_its_answers_and_its_people_and_renumbers_the_later_home(app, homes_child):
    seen = _seen(app, homes_child, "homes", (), 2)
    assert _remove(app, homes_child, "homes", (), 2, seen=seen) is True
    assert _rows(app) == {
        ("homes", 0, 0, "2"),
        ("shared", 0, 1, "yes"),
        ("shared", 0, 2, "yes"),  # the third home is now the second
        ("people", 0, 1, "2"),
        ("people", 0, 2, "2"),
        ("height", 1, 1, "9"),
        ("height", 1, 2, "10"),
        ("height", 2, 1, "12"),  # its people moved with it; the second home's person is gone
        ("height", 2, 2, "13"),
        ("oldest", 0, 0, "2.2"),  # an answer naming a person follows them
        # the removed home's person is no longer chosen
    }
    # a second press of the same button removes nothing more
    assert _remove(app, homes_child, "homes", (), 2, seen=seen) is False
    assert ("homes", 0, 0, "2") in _rows(app)


def test_removing_a_person_inside_a_home_touches_only_that_home(app, homes_child):
    assert _remove(app, homes_child, "people", (1,), 1) is True
    gone = {("people", 0, 1, "2"), ("height", 1, 1, "9"), ("height", 1, 2, "10")}
    now = {("people", 0, 1, "1"), ("height", 1, 1, "10")}
    assert _rows(app) == (HOME_ROWS - gone) | now


def test_the_last_instance_can_go_but_never_below_none_and_a_repeat_count_repeat_never(app, issue_codes):
    from survey.services import repeat_removal

    consultation = _open(app, PETS)
    _enter(app, issue_codes(consultation, 1)[0])
    child = _store(app, {("kind", 0, 1, "dog"), ("safe", 0, 1, "yes"), ("best", 0, 0, "1")})
    assert _remove(app, child, "pets", (), 1) is True
    assert _rows(app) == {("pets", 0, 0, "0"), ("safe", 0, 1, "yes")}
    with pytest.raises(repeat_removal.NotRemovable):
        _remove(app, child, "pets", (), 1, token="t-2")
    with pytest.raises(repeat_removal.NotRemovable):
        _remove(app, child, "places", (), 1, token="t-3")
    assert _rows(app) == {("pets", 0, 0, "0"), ("safe", 0, 1, "yes")}


def _add_pet(child, location: str, kind: str, legs: str) -> str:
    assert re.fullmatch(r"/p/q/0/\d", location), location
    return _post(child, location, {"q_kind": kind, "q_legs": legs})


def test_a_child_adds_three_pets_removes_the_second_and_the_export_has_two(app, issue_codes):
    from survey.models import Consultation
    from survey.services.reporting.frame import export_repeats

    consultation = _open(app, PETS)
    child = _enter(app, issue_codes(consultation, 1)[0])
    location = _add_pet(child, "/p/q/0/1", "dog", "4")
    for number, (kind, legs) in enumerate((("cat", "4"), ("fish", "0")), start=1):
        assert location == f"/p/more/0/{number}"
        location = _add_pet(child, _post(child, location, {}, nav="add"), kind, legs)
    assert location == "/p/more/0/3"
    more = child.get(location).get_data(as_text=True)
    assert re.findall(r"A pet \((\d)\): <span dir=\"auto\">(\w+)</span>", more) == [
        ("1", "Dog"),
        ("2", "Cat"),
        ("3", "Fish"),
    ]
    assert 'href="/p/more/0/3/remove/2"' in more
    confirm = child.get("/p/more/0/3/remove/2")
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert "Remove A pet (2)?" in body and "Its answers will be deleted." in body
    # "No" keeps everything
    assert _post(child, "/p/more/0/3/remove/2", {}, nav="no") == "/p/more/0/3"
    assert ("kind", 0, 2, "cat") in _rows(app)
    # a stale form (no CSRF token) removes nothing and asks again
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        stale = child.post("/p/more/0/3/remove/2", data={"nav": "yes", "page_token": "x"})
        assert stale.status_code == 400 and ("kind", 0, 2, "cat") in _rows(app)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    # "Yes": the cat is gone, the fish is the second pet, back on "add another"
    assert _post(child, "/p/more/0/3/remove/2", {}, nav="yes") == "/p/more/0/2"
    more = child.get("/p/more/0/2").get_data(as_text=True)
    assert re.findall(r"A pet \((\d)\): <span dir=\"auto\">(\w+)</span>", more) == [("1", "Dog"), ("2", "Fish")]
    assert "Add another" in more
    # the old address of the removed place leads back to the repeat as it is now
    assert child.get("/p/more/0/3/remove/2").location.endswith("/p/more/0/2")
    location = _post(child, "/p/more/0/2", {}, nav="done")
    assert location == "/p/q/1/1"
    location = _post(child, _post(child, location, {"q_safe": "yes"}), {"q_safe": "no"})
    best = child.get(location).get_data(as_text=True)
    assert "Fish" not in best and 'value="2"' in best  # the fish is pet number 2 now
    location = _post(child, location, {"q_best": "2"})
    location = _post(child, location, {"q_liked": "yes"})
    assert location == "/p/end"
    assert child.post("/p/end", data={"decision": "yes"}).status_code == 302
    assert {row for row in _rows(app) if row[0] in ("pets", "kind", "legs", "best")} == {
        ("pets", 0, 0, "2"),
        ("kind", 0, 1, "dog"),
        ("legs", 0, 1, "4"),
        ("kind", 0, 2, "fish"),
        ("legs", 0, 2, "0"),
        ("best", 0, 0, "2"),
    }
    with app.app_context():
        record = db.session.get(Consultation, consultation)
        participant_id = db.session.scalar(sa.select(Participant.id).where(Participant.consultation_id == consultation))
        frames, _parents = export_repeats(record, {participant_id: 1})
    pets = frames["pets"]
    assert pets["instance"].tolist() == [1, 2]
    assert pets["kind"].tolist() == ["dog", "fish"] and pets["legs"].tolist() == ["4", "0"]


def test_removal_is_refused_for_a_repeat_count_repeat_and_before_assent(app, issue_codes):
    consultation = _open(app, PETS)
    first, second = issue_codes(consultation, 2)
    child = _enter(app, first)
    location = _add_pet(child, "/p/q/0/1", "dog", "4")
    location = _post(child, location, {}, nav="done")
    assert location == "/p/q/1/1"  # places: repeat_count 2, sized by the form
    _post(child, location, {"q_safe": "yes"})
    before = _rows(app)
    for path in ("1", "2"):
        assert child.get(f"/p/more/1/{path}/remove/1").status_code == 403
        assert child.post(f"/p/more/1/{path}/remove/1", data={"nav": "yes", "page_token": "a"}).status_code == 403
    assert _rows(app) == before
    # a child who has not said yes reaches nothing; nor does a removal reach another child's pets
    waiting = _enter(app, second, assent=False)
    for response in (
        waiting.get("/p/more/0/1/remove/1"),
        waiting.post("/p/more/0/1/remove/1", data={"nav": "yes", "page_token": "b"}),
    ):
        assert response.status_code in (302, 403) and "/p/more" not in (response.location or "")
    assert _rows(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == len(before)


def test_removing_every_pet_offers_add_one_and_adding_again_works(app, issue_codes):
    consultation = _open(app, PETS)
    child = _enter(app, issue_codes(consultation, 1)[0])
    location = _add_pet(child, "/p/q/0/1", "cat", "4")
    assert location == "/p/more/0/1"
    assert _post(child, "/p/more/0/1/remove/1", {}, nav="yes") == "/p/more/0/0"
    empty = child.get("/p/more/0/0").get_data(as_text=True)
    assert "You have not added any yet." in empty and "Add one" in empty and "Remove" not in empty
    assert child.get("/p/more/0/0/remove/1").status_code in (302, 404)
    assert _post(child, "/p/more/0/0", {}, nav="add") == "/p/q/0/1"
    assert 'value="cat" checked' not in child.get("/p/q/0/1").get_data(as_text=True)
    assert _add_pet(child, "/p/q/0/1", "dog", "4") == "/p/more/0/1"
    assert ("pets", 0, 0, "1") in _rows(app) and ("kind", 0, 1, "dog") in _rows(app)


def test_a_removal_reaches_only_the_childs_own_answers(app, issue_codes):
    """The address names no child: whoever posts it removes from their own pets, never another's."""
    consultation = _open(app, PETS)
    first, second = (_enter(app, code) for code in issue_codes(consultation, 2))
    for child, kind in ((first, "dog"), (second, "cat")):
        location = _add_pet(child, "/p/q/0/1", kind, "4")
        location = _add_pet(child, _post(child, location, {}, nav="add"), kind, "3")
        assert location == "/p/more/0/2"
    assert _post(second, "/p/more/0/2/remove/1", {}, nav="yes") == "/p/more/0/1"
    with app.app_context():
        rows = db.session.execute(sa.select(Answer.participant_id, Answer.item, Answer.instance, Answer.value)).all()
    by_child: dict[str, set] = {}
    for participant_id, item, instance, value in rows:
        by_child.setdefault(participant_id, set()).add((item, instance, value))
    assert sorted(by_child.values(), key=len) == [
        {("pets", 0, "1"), ("kind", 1, "cat"), ("legs", 1, "3")},
        {("pets", 0, "2"), ("kind", 1, "dog"), ("legs", 1, "4"), ("kind", 2, "dog"), ("legs", 2, "3")},
    ]

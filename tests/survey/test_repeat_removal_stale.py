"""Removing a repeat instance is bound to what the child saw, the "add another" list shows no
written or sensitive answer, and the "Remove ...?" question says what may be kept.

A stale confirmation page (another tab removed one and the child added another, so a different
instance now has that number) removes nothing and shows the list again; the list on a possibly
shared screen recalls an instance only by a non-sensitive choice answer; when the instance held
written answers the child is told that a short note of a worrying one may be kept, in the words
of the stop-and-delete pages.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.survey.test_repeat_removal import (
    PETS,
    _add_pet,
    _enter,
    _hidden,
    _open,
    _post,
    _remove,
    _rows,
    _seen,
    _store,
)

CHANGED = "This list changed. Please check it again."
KEPT_NOTE = "we may keep a short note of it, without your name, so that someone can help."

FRIENDS = """
| survey |
| | type | name | label | max_repeats | appearance | sensitivity | notice | skippable |
| | begin_group | about_friends | Your friends | | | | The next part is about your friends. You can skip it. | yes |
| | begin_repeat | friends | A friend | 4 | field-list | | | |
| | text | called | What do you call them? | | | | | |
| | select_one yn | unsafe | Has this friend ever made you feel unsafe? | | | S2 | | |
| | select_one where | met | Where did you meet? | | | | | |
| | end_repeat | | | | | | | |
| | end_group | | | | | | | |
| | select_one yn | liked | Did you like answering these questions? | | | | | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| | where | school | At school |
| | where | park | In the park |
| settings |
| | form_id | version | sauti_language::English (en) |
| | friends_form | 1 | approved |
"""


def _three_pets(app, issue_codes):
    consultation = _open(app, PETS)
    _enter(app, issue_codes(consultation, 1)[0])
    return _store(app, {("pets", 0, 0, "3"), ("kind", 0, 1, "dog"), ("kind", 0, 2, "cat"), ("kind", 0, 3, "fish")})


def _add_bird(app) -> None:
    """What "Add another" and a third pet do: two pets become three again, the third a bird."""
    with app.app_context():
        answers = sa.update(Answer).where(Answer.item == "pets").values(value="3")
        db.session.execute(answers)
        participant_id = db.session.scalar(sa.select(Answer.participant_id).where(Answer.item == "pets"))
        db.session.add(Answer(participant_id=participant_id, item="kind", parent_instance=0, instance=3, value="bird"))
        db.session.commit()


def test_a_removal_refuses_when_a_different_instance_now_has_the_number(app, issue_codes):
    from survey.services import repeat_removal

    child = _three_pets(app, issue_codes)
    tab_b = _seen(app, child, "pets", (), 2)  # both tabs show "Remove A pet (2)?" for the cat
    assert _remove(app, child, "pets", (), 2, token="tab-a", seen=_seen(app, child, "pets", (), 2)) is True
    _add_bird(app)
    before = _rows(app)
    assert {row[3] for row in before if row[0] == "kind"} == {"dog", "fish", "bird"}
    with pytest.raises(repeat_removal.ListChanged):
        _remove(app, child, "pets", (), 2, token="tab-b", seen=tab_b)  # would delete the fish
    assert _rows(app) == before
    # the same answers in that instance but another number of them: refused too
    dog = _seen(app, child, "pets", (), 1)
    with app.app_context():
        db.session.execute(sa.update(Answer).where(Answer.item == "pets").values(value="4"))
        db.session.commit()
    with pytest.raises(repeat_removal.ListChanged):
        _remove(app, child, "pets", (), 1, token="tab-c", seen=dog)
    assert ("kind", 0, 1, "dog") in _rows(app)


def test_two_tabs_confirming_the_same_removal_leave_the_fish_and_show_the_list_again(app, issue_codes):
    consultation = _open(app, PETS)
    child = _enter(app, issue_codes(consultation, 1)[0])
    location = _add_pet(child, "/p/q/0/1", "dog", "4")
    location = _add_pet(child, _post(child, location, {}, nav="add"), "cat", "4")
    location = _add_pet(child, _post(child, location, {}, nav="add"), "fish", "0")
    tab_a = _hidden(child.get("/p/more/0/3/remove/2").get_data(as_text=True))
    tab_b = _hidden(child.get("/p/more/0/3/remove/2").get_data(as_text=True))
    response = child.post("/p/more/0/3/remove/2", data={"nav": "yes", **tab_a})
    assert response.location.endswith("/p/more/0/2")
    # a second press of the same Yes removes nothing more and is no surprise to the child
    assert child.post("/p/more/0/3/remove/2", data={"nav": "yes", **tab_a}).location.endswith("/p/more/0/2")
    assert CHANGED not in child.get("/p/more/0/2").get_data(as_text=True)
    assert sorted(row[2:] for row in _rows(app) if row[0] == "kind") == [(1, "dog"), (2, "fish")]
    assert _add_pet(child, _post(child, "/p/more/0/2", {}, nav="add"), "cat", "3") == "/p/more/0/3"
    response = child.post("/p/more/0/3/remove/2", data={"nav": "yes", **tab_b})
    assert response.status_code == 302 and response.location.endswith("/p/more/0/3")
    assert sorted(row[2:] for row in _rows(app) if row[0] == "kind") == [(1, "dog"), (2, "fish"), (3, "cat")]
    again = child.get("/p/more/0/3").get_data(as_text=True)
    assert CHANGED in again
    assert re.findall(r"A pet \((\d)\): <span dir=\"auto\">(\w+)</span>", again) == [
        ("1", "Dog"),
        ("2", "Fish"),
        ("3", "Cat"),
    ]
    # a form that does not say what it showed removes nothing either
    bare = {"nav": "yes", "page_token": tab_b["page_token"] + "x"}
    assert child.post("/p/more/0/3/remove/2", data=bare).location.endswith("/p/more/0/3")
    assert sorted(row[2:] for row in _rows(app) if row[0] == "kind") == [(1, "dog"), (2, "fish"), (3, "cat")]


def _friend(child, location: str, answers: dict) -> str:
    assert re.fullmatch(r"/p/q/\d+/\d", location), location
    return _post(child, location, answers)


def _friends(app, issue_codes):
    """A child who added three friends: one described in words, one only in words and by a
    sensitive answer, one only by where they met."""
    consultation = _open(app, FRIENDS)
    child = _enter(app, issue_codes(consultation, 1)[0])

    def onward(location: str) -> str:
        if location.startswith("/p/noted"):  # the screener sent the words on: "Thank you for telling us", then on
            page = child.get(location).get_data(as_text=True)
            location = re.search(r'href="(/p/(?:more|q)/[^"]+)"', page).group(1)
        return location

    location = onward(_post(child, "/p/q/0/1", {"q_called": "the boy next door", "q_unsafe": "yes", "q_met": "school"}))
    location = onward(_post(child, _post(child, location, {}, nav="add"), {"q_called": "my cousin", "q_unsafe": "no"}))
    location = onward(_post(child, _post(child, location, {}, nav="add"), {"q_met": "park"}))
    assert location == "/p/more/0/3"
    return child


def test_the_list_recalls_a_friend_only_by_a_choice_that_is_not_sensitive(app, issue_codes):
    child = _friends(app, issue_codes)
    assert {row[3] for row in _rows(app) if row[0] == "called"} == {"the boy next door", "my cousin"}
    more = child.get("/p/more/0/3").get_data(as_text=True)
    shown = more.split('<ul class="instances">')[1].split("</ul>")[0]
    listed = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li>(.*?)</li>", shown, re.S)]
    assert listed == [
        "A friend (1): At school Remove A friend (1)",
        "A friend (2) Remove A friend (2)",  # written and sensitive answers only: the heading alone
        "A friend (3): In the park Remove A friend (3)",
    ]
    for answer in ("boy next door", "cousin", "Yes", "No"):
        assert answer not in shown


def test_the_question_says_a_note_may_be_kept_only_when_the_friend_had_written_answers(app, issue_codes):
    child = _friends(app, issue_codes)
    for number, written in ((1, True), (2, True), (3, False)):
        body = child.get(f"/p/more/0/3/remove/{number}").get_data(as_text=True)
        assert "Its answers will be deleted." in body
        assert (KEPT_NOTE in body) is written, number
    pets = _open(app, PETS)
    child = _enter(app, issue_codes(pets, 1)[0])
    _add_pet(child, "/p/q/0/1", "dog", "4")
    assert KEPT_NOTE not in child.get("/p/more/0/1/remove/1").get_data(as_text=True)

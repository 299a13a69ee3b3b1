"""Bad input from a child's browser gets a plain 4xx or the page again, never a 500 (found by an
independent review, December 2026; each failed on the code before its fix)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.survey.child_walk import OPEN_ANSWER, answers_for, enter


@pytest.mark.parametrize("raw", ["²", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_an_odd_comprehension_answer_is_a_4xx_not_a_500(app, make_consultation, issue_codes, raw) -> None:
    """/p/about: ``raw.isdigit()`` is true for "²" and for 5000 digits, and ``int(raw)`` then
    raises ValueError (survey/views/participate.py, about())."""
    client = app.test_client()
    assert client.post("/", data={"code": issue_codes(make_consultation(), 1)[0]}).status_code == 302
    assert client.post("/p/age", data={"age": "12"}).status_code == 302
    answered = client.post("/p/about", data={"check_0": raw, "check_1": "0", "decision": "yes"})
    assert answered.status_code < 500


def test_a_nul_in_a_written_answer_is_taken_out_not_a_500(app, make_consultation, issue_codes) -> None:
    """PostgreSQL refuses NUL in text: the page save raised DataError, a 500; SQLite stored the NUL.
    Control characters no keyboard types are taken out of what a child writes; the rest is kept."""
    client = enter(app, issue_codes(make_consultation(), 1)[0], 12)
    location = "/p/q/0"
    for _ in range(40):
        html = client.get(location).get_data(as_text=True)
        data = answers_for(html, 12, written="my answer\x00here")
        saved = client.post(location, data=data)
        assert saved.status_code == 302, (location, saved.status_code)
        location = saved.location.removeprefix("http://localhost")
        if not location.startswith("/p/q/"):
            break
    with app.app_context():
        written = [v for v in db.session.scalars(sa.select(Answer.value)) if "answer" in v]
    assert written and all(v == "my answerhere" for v in written), written


def _a_file() -> tuple[io.BytesIO, str]:
    return io.BytesIO(b"field-laptop\n"), "hostname"


REFUSED = "Something in that request was not right"


@pytest.mark.parametrize(
    ("path", "field"),
    [("/", "code"), ("/", "seat"), ("/change", "code"), ("/staff/sign-in", "username")],
)
def test_a_file_in_a_text_field_is_a_400_not_a_500(app, make_consultation, issue_codes, path, field) -> None:
    """F9: a file sent in place of a text field reached the form's validators as a FileStorage
    (``TypeError: object of type 'FileStorage' has no len()``), a 500 on every form."""
    code = issue_codes(make_consultation(), 1)[0]
    data: dict[str, object] = {"code": code, "username": "someone", "password": "a password"}
    data[field] = _a_file()
    answered = app.test_client().post(path, data=data, content_type="multipart/form-data")
    assert answered.status_code == 400, answered.status_code
    assert REFUSED in answered.get_data(as_text=True)


def test_a_file_in_an_answer_is_a_400_and_the_saved_answers_stay(app, make_consultation, issue_codes) -> None:
    """F9 on a question page: the file is refused with a 400 before the page is read, so the
    answers already saved on that page are neither changed nor lost."""
    client = enter(app, issue_codes(make_consultation(), 1)[0], 12)
    location = "/p/q/0"
    for _ in range(40):
        html = client.get(location).get_data(as_text=True)
        data = answers_for(html, 12)
        written = [name for name, value in data.items() if value == OPEN_ANSWER]
        saved = client.post(location, data=data)
        assert saved.status_code == 302, (location, saved.status_code)
        if written:
            break
        location = saved.location.removeprefix("http://localhost")
    assert written, "no page with a written answer"
    with app.app_context():
        before = sorted(tuple(row) for row in db.session.execute(sa.select(Answer.item, Answer.value)))
    html = client.get(location).get_data(as_text=True)
    data = answers_for(html, 12)
    data[written[0]] = _a_file()
    refused = client.post(location, data=data, content_type="multipart/form-data")
    assert refused.status_code == 400, refused.status_code
    assert REFUSED in refused.get_data(as_text=True)
    with app.app_context():
        after = sorted(tuple(row) for row in db.session.execute(sa.select(Answer.item, Answer.value)))
    assert after == before and any(value == OPEN_ANSWER for _, value in after)


def test_a_page_number_past_the_last_goes_back_to_the_childs_page_not_to_the_end(app) -> None:
    """Black-box review (session 13): /p/q/99, typed by mistake, showed the end question ("Are you
    happy for us to use your answers?" and "No, please delete them") ten pages early."""
    from tests.survey.child_walk import cards, open_bundled

    consultation = open_bundled(app, country_profile="example-ke")
    client = enter(app, cards(app, consultation, 1)[0], 12)
    location = "/p/q/0"
    for _ in range(2):
        sent = client.post(location, data=answers_for(client.get(location).get_data(as_text=True), 12))
        location = sent.location.removeprefix("http://localhost")
    assert location.startswith("/p/q/")
    for wrong in ("/p/q/99", "/p/q/99/1"):
        answered = client.get(wrong)
        assert answered.status_code == 302, wrong
        assert answered.location.removeprefix("http://localhost") == location, (wrong, answered.location)

"""A page sent without any of its answers keeps what was saved (second review: a "bare Next"
cleared a saved answer).  A browser always sends a text box and can never untick a radio
button, so a page whose fields are all missing was not unticked by a child: a replayed or
hand-made request, or a page drawn before the page named its questions.  Unticking every box
of a question still clears it: each question on the page says it was shown (``on_page``), as
the browser sends it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.survey.child_walk import answers_for, cards, enter, open_bundled

AGE = 12


def _saved(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Answer.item, Answer.value)).all())


def _answer_pages(client, count: int) -> list[tuple[str, str]]:
    """Answer the bundled consultation's first ``count`` pages; their addresses and HTML."""
    pages, location = [], "/p/q/0"
    for _ in range(count):
        html = client.get(location).get_data(as_text=True)
        sent = client.post(location, data=answers_for(html, AGE))
        assert sent.status_code == 302, (location, sent.status_code)
        pages.append((location, html))
        location = sent.location.removeprefix("http://localhost")
        assert location.startswith("/p/q/"), location
    return pages


def test_a_bare_next_keeps_every_saved_answer(app) -> None:
    consultation = open_bundled(app, country_profile="example-ke")
    client = enter(app, cards(app, consultation, 1)[0], AGE)
    pages = _answer_pages(client, 4)
    before = _saved(app)
    assert len(before) >= 4, before
    for location, _html in pages:
        html = client.get(location).get_data(as_text=True)  # the page again, answers in place
        token = re.search(r'name="page_token" value="([0-9a-f]+)"', html).group(1)
        bare = client.post(location, data={"page_token": token, "nav": "next"})
        assert bare.status_code == 302, (location, bare.status_code)  # taken as a Next, nothing cleared
    assert _saved(app) == before


def test_unticking_every_box_still_clears_the_answer(app) -> None:
    consultation = open_bundled(app, country_profile="example-ke")
    client = enter(app, cards(app, consultation, 1)[0], AGE)
    location, html = _answer_pages(client, 1)[0]
    ticked = re.findall(r'type="checkbox"[^>]*name="(q_[A-Za-z0-9_]+)"', html) or re.findall(
        r'name="(q_[A-Za-z0-9_]+)"[^>]*type="checkbox"', html
    )
    assert ticked, "the bundled first page asks with boxes to tick"
    item = ticked[0].removeprefix("q_")
    assert item in _saved(app)
    html = client.get(location).get_data(as_text=True)
    # What the browser sends when the child unticks every box: the page's hidden fields only.
    hidden = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html)
    data: dict[str, list[str]] = {}
    for name, value in hidden:
        data.setdefault(name, []).append(value)
    data["nav"] = ["next"]
    assert client.post(location, data=data).status_code == 302
    assert item not in _saved(app)

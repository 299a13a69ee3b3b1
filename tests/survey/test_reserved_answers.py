"""'I'd rather not say' and 'I don't know' stand alone (issue 16), on the bundled consultation.

A submission that pairs a reserved answer with another choice, or ticks "I'd rather not say"
next to a written answer, is refused: the page comes back (HTTP 400, like every other message on
a question page) with a plain message and the child's choices in place, and nothing is stored.
The reserved answer on its own is stored as its code.
"""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from instruments.bundled import load_bundled
from survey.extensions import db
from survey.models import Answer
from tests.factories import new_consultation

RNS_ALONE = "\u201cI'd rather not say\u201d can't go with other answers."
DK_ALONE = "\u201cI don't know\u201d can't go with other answers."


@pytest.fixture
def bundled(app):

    from survey.services import instrument_store

    instrument = load_bundled("reporting-mechanisms")  # English is approved as shipped
    with app.app_context():
        instrument_store.store(instrument, approved=True)
        return new_consultation(
            "Bundled", instrument.id, instrument.version, instrument.content_hash, bands=("A", "B", "C")
        )


@pytest.fixture
def child(app, bundled, issue_codes):
    client = app.test_client()
    assert client.post("/", data={"code": issue_codes(bundled, 1)[0]}).status_code == 302
    assert client.post("/p/age", data={"age": "9"}).status_code == 302
    response = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
    assert response.status_code == 302
    return client


def _token(body: str) -> str:
    return re.search(r'name="page_token" value="([^"]+)"', body).group(1)


def _page_with(child, field: str) -> tuple[int, str]:
    """Press Next on empty pages until the page asking ``field``; its index and its HTML."""
    index = 0
    for _ in range(60):
        shown = child.get(f"/p/q/{index}", follow_redirects=False)
        if shown.status_code == 302:
            index = int(shown.location.rsplit("/", 1)[-1])
            continue
        text = shown.get_data(as_text=True)
        if f'name="{field}"' in text:
            return index, text
        moved = child.post(f"/p/q/{index}", data={"page_token": _token(text), "nav": "next"})
        index = int(moved.location.rsplit("/", 1)[-1])
    raise AssertionError(f"no page asks {field}")


def _stored(app, item: str) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(Answer.value).where(Answer.item == item))


def test_rather_not_say_with_other_choices_is_refused(app, child) -> None:
    index, text = _page_with(child, "q_TR1")
    response = child.post(
        f"/p/q/{index}", data={"q_TR1": ["parent", "_rns"], "page_token": _token(text), "nav": "next"}
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert RNS_ALONE in page
    # the child's choices are shown again, as given
    assert re.search(r'<input checked[^>]*name="q_TR1"[^>]*value="parent"', page)
    assert re.search(r'<input checked[^>]*name="q_TR1"[^>]*value="_rns"', page)
    assert _stored(app, "TR1") is None


def test_dont_know_with_other_choices_or_with_rather_not_say_is_refused(app, child) -> None:
    index, text = _page_with(child, "q_TR1")
    for combination, message in ((["_dk", "friend"], DK_ALONE), (["_dk", "_rns"], RNS_ALONE)):
        response = child.post(f"/p/q/{index}", data={"q_TR1": combination, "page_token": _token(text), "nav": "next"})
        assert response.status_code == 400
        assert message in html.unescape(response.get_data(as_text=True))
    assert _stored(app, "TR1") is None
    # On its own, each reserved answer is kept as its code.
    response = child.post(f"/p/q/{index}", data={"q_TR1": ["_dk"], "page_token": _token(text), "nav": "next"})
    assert response.status_code == 302
    assert _stored(app, "TR1") == "_dk"


def test_rather_not_say_beside_a_written_answer_is_refused(app, child) -> None:
    index, text = _page_with(child, "q_ID2")
    response = child.post(
        f"/p/q/{index}",
        data={"q_ID2": "A button in every game", "rns_ID2": "y", "page_token": _token(text), "nav": "next"},
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert RNS_ALONE in page and "A button in every game" in page
    assert _stored(app, "ID2") is None
    response = child.post(f"/p/q/{index}", data={"rns_ID2": "y", "page_token": _token(text), "nav": "next"})
    assert response.status_code == 302
    assert _stored(app, "ID2") == "_rns"

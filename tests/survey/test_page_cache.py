"""Question pages drawn once and reused (survey/child_cache.py) look exactly as if drawn afresh."""

from __future__ import annotations

import re

import pytest

from consent.profiles import load_profile
from survey.child_cache import rendered_pages

TOKENS = re.compile(r'(name="(?:csrf_token|page_token)" value=")[^"]+"')


def _masked(html: str) -> str:
    return TOKENS.sub(r'\1…"', html)


def _page_token(html: str) -> str:
    return re.search(r'name="page_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def consultation(make_consultation):
    return make_consultation()


def _assented_child(app, consultation, issue_codes, age: str = "15"):
    client = app.test_client()
    code = issue_codes(consultation, 1)[0]
    assert client.post("/", data={"code": code}).status_code == 302
    assert client.post("/p/age", data={"age": age}).status_code == 302
    assert client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"}).status_code == 302
    return client


def test_a_kept_page_is_the_page_drawn_afresh_with_new_tokens(app, consultation, issue_codes) -> None:
    first, second = (_assented_child(app, consultation, issue_codes) for _ in range(2))
    rendered_pages.clear()
    fresh = first.get("/p/q/0").get_data(as_text=True)  # drawn, and kept
    assert len(rendered_pages) == 1
    kept = second.get("/p/q/0").get_data(as_text=True)  # from the kept page
    again = second.get("/p/q/0").get_data(as_text=True)
    assert len(rendered_pages) == 1
    assert _masked(kept) == _masked(fresh)
    assert "Who would you tell?" in kept and "<page-token>" not in kept and "<csrf-token>" not in kept
    # Every showing gets its own page token (a reload must not look like a double submit).
    assert len({_page_token(fresh), _page_token(kept), _page_token(again)}) == 3


def test_a_kept_page_works_for_saving(app, consultation, issue_codes) -> None:
    children = [_assented_child(app, consultation, issue_codes) for _ in range(2)]
    for child in children:
        html = child.get("/p/q/0").get_data(as_text=True)
        saved = child.post("/p/q/0", data={"q_who": "friend", "page_token": _page_token(html), "nav": "next"})
        assert saved.status_code == 302 and saved.location.endswith("/p/q/1")


def test_a_page_with_an_earlier_answer_is_drawn_with_it(app, consultation, issue_codes) -> None:
    child = _assented_child(app, consultation, issue_codes)
    html = child.get("/p/q/0").get_data(as_text=True)
    child.post("/p/q/0", data={"q_who": "parent", "page_token": _page_token(html), "nav": "next"})
    back = child.get("/p/q/0").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="parent"', back)
    # ... and another child still gets the untouched page.
    other = _assented_child(app, consultation, issue_codes).get("/p/q/0").get_data(as_text=True)
    assert "<input checked" not in other


def test_languages_bands_and_progress_never_share_a_kept_page(app, consultation, issue_codes) -> None:
    older = _assented_child(app, consultation, issue_codes, age="15")
    english = older.get("/p/q/0").get_data(as_text=True)
    french = older.get("/p/q/0?lang=fr").get_data(as_text=True)
    assert 'lang="fr"' in french and "Qui (fr)?" in french and "Qui (fr)?" not in english
    younger = _assented_child(app, consultation, issue_codes, age="9")  # band A: faces
    faces = younger.get("/p/q/0").get_data(as_text=True)
    assert "Not good" in faces and "Not good" not in english


def test_an_uploaded_profile_shows_at_once_on_kept_pages(app, consultation, issue_codes) -> None:
    from survey.services import profile_store

    child = _assented_child(app, consultation, issue_codes)
    before = child.get("/p/q/0").get_data(as_text=True)
    bundled = load_profile("example-uk")
    assert bundled.helplines and bundled.helplines[0].name in before
    with app.app_context():
        text = profile_store.document("example-uk").replace(bundled.helplines[0].name, "Kept Page Line")
        profile_store.upload(text.encode(), actor=None)
    after = child.get("/p/q/0").get_data(as_text=True)
    assert "Kept Page Line" in after and bundled.helplines[0].name not in after


def _answered(app, consultation, issue_codes, who: str, **more: str):
    """A child who answered the first page with ``who`` (and ``more``), back on it."""
    child = _assented_child(app, consultation, issue_codes)
    html = child.get("/p/q/0").get_data(as_text=True)
    saved = child.post("/p/q/0", data={"q_who": who, "page_token": _page_token(html), "nav": "next", **more})
    assert saved.status_code == 302
    return child


def test_a_page_showing_picked_answers_is_kept_by_the_picks(app, consultation, issue_codes) -> None:
    from survey.child_cache import answered_pages

    parents = [_answered(app, consultation, issue_codes, "parent") for _ in range(2)]
    friend = _answered(app, consultation, issue_codes, "friend")
    answered_pages.clear()
    fresh = parents[0].get("/p/q/0").get_data(as_text=True)  # drawn with the answer, and kept
    assert len(answered_pages) == 1
    kept = parents[1].get("/p/q/0").get_data(as_text=True)  # the same picks: the kept page
    assert len(answered_pages) == 1
    assert _masked(kept) == _masked(fresh)
    assert re.search(r'<input checked[^>]*value="parent"', kept)
    assert "<page-token>" not in kept and "<csrf-token>" not in kept
    # Another pick is another page; nobody else's pick ever shows.
    other = friend.get("/p/q/0").get_data(as_text=True)
    assert len(answered_pages) == 2
    assert re.search(r'<input checked[^>]*value="friend"', other) and 'checked value="parent"' not in other
    assert not re.search(r'<input checked[^>]*value="parent"', other)
    # A scale answered as well makes yet another page, kept by both picks.
    both = _answered(app, consultation, issue_codes, "parent", q_feel="1").get("/p/q/0").get_data(as_text=True)
    assert len(answered_pages) == 3 and _masked(both) != _masked(fresh)
    # The kept page, drawn afresh with nothing kept, is the same page.
    answered_pages.clear()
    assert _masked(parents[1].get("/p/q/0").get_data(as_text=True)) == _masked(fresh)
    # An untouched page is still the untouched one.
    untouched = _assented_child(app, consultation, issue_codes).get("/p/q/0").get_data(as_text=True)
    assert "<input checked" not in untouched


def test_a_page_showing_a_childs_own_words_is_never_kept(app, consultation, issue_codes) -> None:
    from survey.child_cache import answered_pages

    child = _assented_child(app, consultation, issue_codes)
    first = child.get("/p/q/0").get_data(as_text=True)
    child.post("/p/q/0", data={"q_who": "friend", "page_token": _page_token(first), "nav": "next"})
    html = child.get("/p/q/1").get_data(as_text=True)
    saved = child.post(
        "/p/q/1", data={"q_ways": "chat", "q_ideas": "my own idea", "page_token": _page_token(html), "nav": "next"}
    )
    assert saved.status_code == 302
    answered_pages.clear()
    back = child.get("/p/q/1").get_data(as_text=True)
    assert "my own idea" in back
    assert len(answered_pages) == 0


def test_an_uploaded_profile_shows_at_once_on_kept_answered_pages(app, consultation, issue_codes) -> None:
    from survey.child_cache import answered_pages
    from survey.services import profile_store

    child = _answered(app, consultation, issue_codes, "parent")
    answered_pages.clear()
    before = child.get("/p/q/0").get_data(as_text=True)
    assert len(answered_pages) == 1
    bundled = load_profile("example-uk")
    assert bundled.helplines and bundled.helplines[0].name in before
    with app.app_context():
        text = profile_store.document("example-uk").replace(bundled.helplines[0].name, "Kept Answered Line")
        profile_store.upload(text.encode(), actor=None)
    after = child.get("/p/q/0").get_data(as_text=True)
    assert "Kept Answered Line" in after and bundled.helplines[0].name not in after
    assert re.search(r'<input checked[^>]*value="parent"', after)

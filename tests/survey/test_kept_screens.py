"""The child's screens kept once drawn (survey/child_cache.py, kept_screen): the code box, age,
information, end and thank-you pages look exactly as if drawn afresh, each child's form token
its own, and a screen in another language or with another frame is never another's."""

from __future__ import annotations

import re

import pytest

from survey.child_cache import kept_screens

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ANY_TOKEN = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+"')


def _masked(html: str) -> str:
    return ANY_TOKEN.sub(r'\1…"', html)


def _token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page carries no form token"
    return found.group(1)


@pytest.fixture
def csrf_app(app):
    app.config.update(WTF_CSRF_ENABLED=True)
    return app


def _walk(client, code: str) -> dict[str, str]:
    """One child from the code box to the thank-you page, with real form tokens; every screen's HTML."""
    screens = {}
    screens["start"] = client.get("/").get_data(as_text=True)
    assert client.post("/", data={"code": code, "csrf_token": _token(screens["start"])}).status_code == 302
    screens["age"] = client.get("/p/age").get_data(as_text=True)
    assert client.post("/p/age", data={"age": "15", "csrf_token": _token(screens["age"])}).status_code == 302
    screens["about"] = client.get("/p/about").get_data(as_text=True)
    assent = {"check_0": "0", "check_1": "0", "decision": "yes", "csrf_token": _token(screens["about"])}
    assert client.post("/p/about", data=assent).status_code == 302
    screens["end"] = client.get("/p/end").get_data(as_text=True)
    finished = client.post("/p/end", data={"decision": "yes", "csrf_token": _token(screens["end"])})
    assert finished.status_code == 302
    screens["done"] = client.get(finished.location.removeprefix("http://localhost")).get_data(as_text=True)
    return screens


def test_kept_screens_are_the_screens_drawn_afresh_each_with_its_own_token(
    csrf_app, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()
    codes = issue_codes(consultation, 2)
    kept_screens.clear()
    first = _walk(csrf_app.test_client(), codes[0])  # drawn, and kept
    kept = len(kept_screens)
    assert kept == 5
    second = _walk(csrf_app.test_client(), codes[1])  # from the kept screens
    assert len(kept_screens) == kept
    for name in ("start", "age", "about", "end", "done"):
        assert _masked(second[name]) == _masked(first[name]), name
        assert "<csrf-token>" not in second[name]
    for name in ("start", "age", "about", "end"):
        assert _token(second[name]) != _token(first[name]), name  # each session signs its own
    assert "Thank you!" in second["done"]


def test_a_kept_screen_carries_this_child_s_token_not_the_first_child_s(
    csrf_app, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()
    codes = issue_codes(consultation, 2)
    kept_screens.clear()
    first, second = csrf_app.test_client(), csrf_app.test_client()
    for client, code in ((first, codes[0]), (second, codes[1])):
        html = client.get("/").get_data(as_text=True)
        assert client.post("/", data={"code": code, "csrf_token": _token(html)}).status_code == 302
    first_age = first.get("/p/age").get_data(as_text=True)
    second_age = second.get("/p/age").get_data(as_text=True)  # the kept screen
    # Another session's token is refused (400, never a 500), this child's own accepted.
    assert second.post("/p/age", data={"age": "15", "csrf_token": _token(first_age)}).status_code == 400
    assert second.post("/p/age", data={"age": "15", "csrf_token": "\x00é"}).status_code == 400
    assert second.post("/p/age", data={"age": "15", "csrf_token": _token(second_age)}).status_code == 302


def test_languages_and_answers_never_share_a_kept_screen(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    kept_screens.clear()
    english = app.test_client().get("/p/done?kept=1").get_data(as_text=True)
    french = app.test_client().get("/p/done?kept=1&lang=fr").get_data(as_text=True)
    deleted = app.test_client().get("/p/done?kept=0").get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="fr"' in french
    assert english != french and english != deleted
    assert "Your answers have been deleted" in deleted and "Thank you!" in english
    assert len(kept_screens) == 3
    # A code from a card's QR code fills the box: such a screen is drawn every time, never kept.
    code = issue_codes(consultation, 1)[0]
    prefilled = app.test_client().get(f"/?code={code}").get_data(as_text=True)
    assert code in prefilled
    assert all(code not in html for _sources, html in kept_screens._entries.values())


def test_a_facilitated_consultation_shows_its_own_frame(app, make_consultation, issue_codes) -> None:
    """The frame (here the "talk to someone" button of a facilitated session) is part of what
    a kept screen is kept by."""
    kept_screens.clear()
    screens = {}
    for facilitated in (True, False):
        consultation = make_consultation(facilitated=facilitated)
        client = app.test_client()
        assert client.post("/", data={"code": issue_codes(consultation, 1)[0]}).status_code == 302
        screens[facilitated] = client.get("/p/age").get_data(as_text=True)
    assert "talk to someone" in screens[True] and "talk to someone" not in screens[False]


def test_a_screen_kept_by_one_app_is_not_another_app_s(app, make_app, make_consultation, issue_codes) -> None:
    """Kept per app: a screen drawn without form tokens (an app that checks none) never reaches
    a child of an app that checks them (the child could not send the form)."""
    consultation = make_consultation(facilitated=False)  # no "talk to someone" form in the frame
    codes = issue_codes(consultation, 2)
    kept_screens.clear()
    plain = app.test_client()
    assert plain.post("/", data={"code": codes[0]}).status_code == 302
    assert "csrf_token" not in plain.get("/p/age").get_data(as_text=True)
    checking = make_app(WTF_CSRF_ENABLED=True).test_client()
    start = checking.get("/").get_data(as_text=True)
    assert checking.post("/", data={"code": codes[1], "csrf_token": _token(start)}).status_code == 302
    age = checking.get("/p/age").get_data(as_text=True)
    assert checking.post("/p/age", data={"age": "15", "csrf_token": _token(age)}).status_code == 302

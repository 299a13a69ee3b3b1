"""A child who picks a language reads every page in it (issue 17).

The consultation is the one ``sauti demo --languages en,fr,es,ar,sw`` runs: the bundled
questionnaire, the bundled consent texts and the generic country profile, as shipped, with the
shipped translations approved for the demonstration only.  A child of each age group walks it
in each translated language, from the code to the last page, with the side pages (help, "I feel
upset", stop); every page's visible text is checked for words of Sauti's other languages
(:mod:`tests.language_words`).  The browser tests (tests/browser/test_child_languages.py) do
the same in Chromium for one age group in Kiswahili and in Arabic.
"""

from __future__ import annotations

import re

import pytest

from tests.language_words import foreign_in, visible_text
from tests.survey.child_walk import answers_for

AGES = {"A": 9, "B": 12, "C": 15}
TRANSLATED = ("sw", "ar", "fr", "es")


@pytest.fixture
def demo(app):
    """The demonstration in every shipped language; returns the children's codes."""
    from survey.services.demo import set_up_demo

    with app.app_context():
        result = set_up_demo(code_count=len(AGES) * len(TRANSLATED), languages=["en", *TRANSLATED])
        return [card.code for card in result.cards]


def _page(client, url: str, language: str, seen: list) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.get_data(as_text=True)
    seen.append((url, html))
    return html


def _walk(app, code: str, language: str, age: int) -> list[tuple[str, str]]:
    """Every page a child sees on the way, in order: (address, HTML)."""
    seen: list[tuple[str, str]] = []
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.17.{age}.{len(code) + ord(language[0])}"
    _page(client, f"/?lang={language}", language, seen)
    assert client.post("/", data={"code": code}).status_code == 302
    _page(client, "/p/age", language, seen)
    assert client.post("/p/age", data={"age": str(age)}).status_code == 302
    _page(client, "/p/about", language, seen)
    # A wrong comprehension answer: the explanation comes back in the child's language too.
    wrong = client.post("/p/about", data={"check_0": "1", "check_1": "1"})
    seen.append(("/p/about (explained)", wrong.get_data(as_text=True)))
    assert (
        client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes", "explained": "1"}).status_code
        == 302
    )
    for side in ("/help", "/p/upset", "/p/stop"):
        _page(client, side, language, seen)
    location = "/p/q/0"
    for _ in range(80):
        html = _page(client, location, language, seen)
        posted = client.post(location, data=answers_for(html, age))
        assert posted.status_code == 302, (location, posted.status_code)
        location = posted.location.removeprefix("http://localhost")
        if not location.startswith("/p/q/"):
            break
    if location.startswith("/p/noted"):
        location = _page(client, location, language, seen) and "/p/end"
    _page(client, "/p/end", language, seen)
    done = client.post("/p/end", data={"decision": "yes"})
    assert done.status_code == 302
    _page(client, done.location.removeprefix("http://localhost"), language, seen)
    for after in ("/change", "/p/stopped?deleted=1", "/p/declined"):  # the withdrawal code, other endings
        _page(client, after, language, seen)
    return seen


def test_every_page_of_every_age_group_is_in_the_chosen_language(app, demo) -> None:
    codes = iter(demo)
    problems = {}
    for language in TRANSLATED:
        for band, age in AGES.items():
            pages = _walk(app, next(codes), language, age)
            assert len(pages) > 12
            for url, html in pages:
                assert re.search(rf'<html lang="{language}" dir="(rtl|ltr)"', html), (language, url)
                found = foreign_in(visible_text(html, language), language)
                if found:
                    problems[f"{language} {band} {url}"] = found
            if language == "ar":
                # Right to left, "116 111" would read "111 116" without an isolate around it.
                about = dict(pages)["/p/about"]
                assert 'dir="ltr">116 111</a>' in about  # the help panel's number
                assert "\u2066116 111\u2069" in about  # inside the translated opening hours
                assert "\u2068" in about and "\u2069" in about  # the {helpline} placeholder, set apart
    assert not problems, problems

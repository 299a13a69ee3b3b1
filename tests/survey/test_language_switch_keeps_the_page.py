"""The language menu keeps what a child's screen says: the thank-you page's menu linked to
``?lang=xx``, which dropped ``kept=1``, and a child whose answers were kept was told they were
deleted (found by an independent review, December 2026)."""

from __future__ import annotations

import html as html_text
import re
from html.parser import HTMLParser


def test_switching_language_on_the_thank_you_page_keeps_saying_the_answers_were_kept(
    app, make_consultation, issue_codes
) -> None:
    make_consultation(languages=("en", "fr"))
    client = app.test_client()
    thanks = client.get("/p/done?kept=1").get_data(as_text=True)
    assert "Thank you!" in thanks
    link = re.search(r'<a href="([^"]*lang=fr[^"]*)"', thanks)
    assert link, "no French link in the language menu"
    french = client.get("/p/done" + html_text.unescape(link.group(1)))  # as a browser reads the link
    html = french.get_data(as_text=True)
    assert 'lang="fr"' in html
    assert "Your answers have been deleted" not in html
    # the French thank-you text, as shown to a child whose answers were kept
    fresh = app.test_client().get("/p/done?kept=1&lang=fr").get_data(as_text=True)
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) == re.search(r"<h1>(.*?)</h1>", fresh).group(1)


def test_switching_language_on_the_stopped_page_keeps_saying_the_answers_were_deleted(
    app, make_consultation, issue_codes
) -> None:
    make_consultation(languages=("en", "fr"))
    client = app.test_client()
    stopped = client.get("/p/stopped?deleted=1").get_data(as_text=True)
    assert "Everything you answered has been deleted." in stopped
    link = re.search(r'<a href="([^"]*lang=fr[^"]*)"', stopped)
    assert link, "no French link in the language menu"
    html = client.get("/p/stopped" + html_text.unescape(link.group(1))).get_data(as_text=True)
    fresh = app.test_client().get("/p/stopped?deleted=1&lang=fr").get_data(as_text=True)
    assert 'lang="fr"' in html
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) == re.search(r"<h1>(.*?)</h1>", fresh).group(1)
    assert re.search(r"<h1>(.*?)</h1>", html).group(1) != re.search(
        r"<h1>(.*?)</h1>", app.test_client().get("/p/stopped?lang=fr").get_data(as_text=True)
    ).group(1)


# ----------------------------------------------------------------------------- question pages
class _Shown(HTMLParser):
    """What a question page shows as chosen or typed, and its language menu's buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.chosen: set[tuple[str, str]] = set()
        self.typed: dict[str, str] = {}
        self.switches: dict[str, dict[str, str]] = {}
        self._area: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "input" and a.get("type") in ("radio", "checkbox") and "checked" in a:
            self.chosen.add((a["name"], a["value"]))
        elif tag == "textarea":
            self._area = a["name"]
            self.typed[self._area] = ""
        elif tag == "button" and a.get("value") == "language":
            self.switches[a["lang"]] = a

    def handle_data(self, data: str) -> None:
        if self._area:
            self.typed[self._area] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._area = None


def _shown(html: str) -> _Shown:
    page = _Shown()
    page.feed(html)
    return page


def _stored_answers(app) -> int:
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import Answer

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Answer))


def _switch(client, address: str, html: str, data: dict, language: str):
    """Choose ``language`` in the menu of the page at ``address``, as a browser does: the menu's
    button sends the page's form (``form=``) to its ``formaction``, with its own name and value."""
    button = _shown(html).switches[language]
    assert button["form"] == "answers" and 'id="answers"' in html
    return client.post(
        address + html_text.unescape(button["formaction"]), data={**data, button["name"]: button["value"]}
    )


def test_switching_language_keeps_what_the_child_ticked_and_typed_on_the_page(app) -> None:
    """F13 (independent review, December 2026): the language menu on a question page threw away
    the page's unsaved ticks and words.  Now it sends the page: the same page comes back in the
    new language with them in place, nothing is saved, and Next then saves the page once."""
    from tests.survey.child_walk import answers_for, cards, enter, open_bundled

    consultation = open_bundled(app, country_profile="example-ke", languages=("en", "sw", "ar"))
    client = enter(app, cards(app, consultation, 1)[0], 12)
    address = "/p/q/0"
    while True:  # Next through the pages to the first with a text box
        html = client.get(address).get_data(as_text=True)
        if "<textarea" in html:
            break
        posted = client.post(address, data=answers_for(html, 12))
        assert posted.status_code == 302 and "/p/q/" in posted.location
        address = posted.location.removeprefix("http://localhost")
    data = answers_for(html, 12, written="TYPEDNOTSAVED my idea")
    data.pop("nav")
    ticked = {
        (name, value)
        for name, values in data.items()
        if name.startswith("q_")
        for value in (values if isinstance(values, list) else [values])
        if name not in _shown(html).typed
    }
    before = _stored_answers(app)

    for language in ("sw", "ar"):
        switched = _switch(client, address, html, data, language)
        assert switched.status_code == 200, switched.status_code
        html = switched.get_data(as_text=True)
        assert f'<html lang="{language}"' in html
        shown = _shown(html)
        assert ticked <= shown.chosen, (ticked, shown.chosen)
        # (a text box's first newline is not part of its value)
        assert {text.lstrip("\r\n") for text in shown.typed.values()} == {"TYPEDNOTSAVED my idea"}
        assert "TYPEDNOTSAVED" not in client.get(address).get_data(as_text=True)  # nothing saved
        assert _stored_answers(app) == before
        data["page_token"] = re.search(r'name="page_token" value="([0-9a-f]+)"', html).group(1)

    # The language stays chosen, and Next saves the page once.
    assert 'lang="ar"' in client.get(address).get_data(as_text=True)
    saved = client.post(address, data={**data, "nav": "next"})
    assert saved.status_code == 302 and saved.location.removeprefix("http://localhost") != address
    assert _stored_answers(app) > before
    again = _stored_answers(app)
    assert client.post(address, data={**data, "nav": "next"}).status_code in (302, 409)  # the same send again
    assert _stored_answers(app) == again


def test_the_language_menu_of_pages_without_answers_stays_links(app) -> None:
    from tests.survey.child_walk import open_bundled

    open_bundled(app, country_profile="example-ke", languages=("en", "sw"))
    start = app.test_client().get("/").get_data(as_text=True)
    assert 'hreflang="sw"' in start and 'value="language"' not in start

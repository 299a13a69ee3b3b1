"""The language menu keeps what a child's screen says: the thank-you page's menu linked to
``?lang=xx``, which dropped ``kept=1``, and a child whose answers were kept was told they were
deleted (found by an independent review, December 2026)."""

from __future__ import annotations

import html as html_text
import re


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

"""The quick exit in a real browser, with the shipped profiles' real destinations.

For each shipped country profile, with JavaScript on and off, a child on a question page
presses "Leave this page quickly": the browser must really go to the profile's neutral site
(the page's CSP must not stop it), and the session must be over (Back and reload show no
question).  Outside addresses are answered in the browser itself (Chromium's request
interception, redirects included), so no real network is used.
With ``--lan`` and no internet, the exit lands on the neutral page this server serves.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from consent.profiles import load_profile
from tests.browser.test_accessibility import _violations

SHIPPED_PROFILES = sorted(path.stem for path in (Path(__file__).parents[2] / "consent" / "profiles").glob("*.yaml"))
NEUTRAL_SITE = "<!doctype html><html lang='en'><title>Weather</title><main><h1>Weather</h1></main></html>"


@pytest.fixture
def app(make_app):
    """As shipped: no pinned exit address (the profile decides) and form tokens checked."""
    return make_app(QUICK_EXIT_URL="", WTF_CSRF_ENABLED=True)


def _codes(app, consultation_id: int, count: int = 1) -> list[str]:
    """Cards whose guardian forms were seen (the profiles with active opt-in need it)."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import participants

    with app.app_context():
        cards = participants.issue_codes(db.session.get(Consultation, consultation_id), count, permission_seen=True)
    return [card.code for card in cards]


def _device(browser, live_server: str, *, javascript: bool, internet: bool = True):
    """A fresh browser whose requests to other hosts are recorded and answered here (or refused).

    Playwright's own routing sees only the first address of a redirect, so the quick exit's
    redirect to the neutral site would slip past it to the real network.  Chromium's Fetch
    domain (over the DevTools protocol) pauses every request, redirects included: those to
    this server go on, all others are answered here (or fail as with no internet).
    """
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    outside: list[str] = []
    problems: list[str] = []

    def paused(event: dict) -> None:
        url, request_id = event["request"]["url"], event["requestId"]
        if url.startswith(live_server):
            devtools.send("Fetch.continueRequest", {"requestId": request_id})
            return
        if event.get("resourceType") == "Document":
            outside.append(url)
        if internet:
            devtools.send(
                "Fetch.fulfillRequest",
                {
                    "requestId": request_id,
                    "responseCode": 200,
                    "responseHeaders": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
                    "body": base64.b64encode(NEUTRAL_SITE.encode()).decode(),
                },
            )
        else:
            devtools.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "InternetDisconnected"})

    devtools.on("Fetch.requestPaused", paused)
    devtools.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or "form-action" in message.text
            else None
        ),
    )
    return context, page, outside, problems


def _to_question(page, code: str) -> str:
    page.goto("/")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/p/(age|about)$"))
    if page.url.endswith("/p/age"):
        page.check("input[name=age][value='12']")
        page.click("main button[type=submit]")
        page.wait_for_url("**/p/about")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    assert page.locator("main form input[name^=q_], main form textarea[name^=q_]").count() > 0
    return page.url


def _assert_no_question_after(page, question_url: str) -> None:
    """Back, then a reload of the question's address: no question either way."""
    page.go_back()
    page.wait_for_load_state()
    assert "/p/q/" not in page.url
    assert page.locator("input[name^=q_]").count() == 0
    page.goto(question_url)
    assert "/p/q/" not in page.url and page.url.endswith("/")
    assert page.locator("input[name^=q_]").count() == 0


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("profile_id", SHIPPED_PROFILES)
def test_the_quick_exit_reaches_the_profiles_neutral_site(
    app, browser, live_server, make_consultation, profile_id: str, javascript: bool
) -> None:
    destination = load_profile(profile_id).quick_exit_url
    code = _codes(app, make_consultation(country_profile=profile_id, facilitated=False))[0]
    context, page, outside, problems = _device(browser, live_server, javascript=javascript)
    try:
        question = _to_question(page, code)
        page.click(".quick-exit-button")
        page.wait_for_url(destination)
        assert outside == [destination]  # the navigation really went there ...
        assert problems == []  # ... and no policy of the page stood in its way
        assert page.title() == "Weather"
        _assert_no_question_after(page, question)
    finally:
        context.close()


def test_shift_three_times_reaches_the_profiles_neutral_site(
    browser, live_server, make_consultation, issue_codes
) -> None:
    destination = load_profile("example-uk").quick_exit_url
    code = issue_codes(make_consultation(facilitated=False), 1)[0]
    context, page, outside, problems = _device(browser, live_server, javascript=True)
    try:
        question = _to_question(page, code)
        for _ in range(3):
            page.keyboard.press("Shift")
        page.wait_for_url(destination)
        assert outside == [destination] and problems == []
        _assert_no_question_after(page, question)
    finally:
        context.close()


def test_capitals_and_shift_tab_are_not_the_shift_key_three_times(
    browser, live_server, make_consultation, issue_codes
) -> None:
    """Shift as part of another key (a capital letter, Shift+Tab back through the page) is not a
    quick exit: a child typing "My Uncle Juma" or going back with the keyboard stays on the page."""
    code = issue_codes(make_consultation(facilitated=False), 1)[0]
    context, page, outside, problems = _device(browser, live_server, javascript=True)
    try:
        question = _to_question(page, code)
        for key in ("Shift+M", "y", "Shift+U", "Shift+J", "Shift+Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
            page.keyboard.press(key)
        page.wait_for_timeout(500)
        assert page.url == question and outside == []
        # Three presses of Shift alone still leave, whatever came before them.
        for _ in range(3):
            page.keyboard.press("Shift")
        page.wait_for_url(load_profile("example-uk").quick_exit_url)
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_on_a_lan_without_internet_the_exit_lands_on_the_neutral_page_here(
    app, browser, live_server, make_consultation, monkeypatch, javascript: bool
) -> None:
    from survey.cli import serving as cli

    # `sauti serve --lan` in a room with no internet: the outside cannot be reached.
    monkeypatch.setattr(cli, "outside_reachable", lambda url: False)
    monkeypatch.setenv("SAUTI_QUICK_EXIT_LOCAL", "false")  # put back as it was afterwards
    with app.app_context():
        cli._quick_exit_for_lan(app)
    codes = _codes(app, make_consultation(country_profile="example-ke", facilitated=False), 2)
    context, page, outside, problems = _device(browser, live_server, javascript=javascript, internet=False)
    try:
        question = _to_question(page, codes[0])
        page.click(".quick-exit-button")
        page.wait_for_url("**/notes")
        assert page.title() == "Notes" and outside == [] and problems == []
        text = page.locator("body").inner_text().lower()
        assert not any(word in text for word in ("sauti", "survey", "question", "help", "leave"))
        if javascript:  # axe runs as a script in the page
            assert _violations(page) == []
        _assert_no_question_after(page, question)

        # Leaving before saying yes or no is not a No: the card takes the child back in later.
        page.goto("/")
        page.fill("#code", codes[1])
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/p/(age|about)$"))
        page.click(".quick-exit-button")
        page.wait_for_url("**/notes")
        page.goto("/")
        page.fill("#code", codes[1])
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/p/(age|about)$"))
    finally:
        context.close()

"""Every page passes axe-core's WCAG 2.2 AA rules in a real browser and loads nothing from outside."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.navigation import click_and_load
from tests.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.browser

WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def _violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG_AA)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]]


def _enter_code(page, code: str) -> None:
    page.goto("/")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")


def _sign_in(page, username: str) -> None:
    page.goto("/staff/sign-in")
    page.fill("#username", username)
    page.fill("#password", STRONG_PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_child_pages_pass_axe(page, make_consultation, issue_codes, language: str) -> None:
    # A child is offered only the consultation's languages (issue 17): this one offers Arabic.
    code = issue_codes(make_consultation("Ours", languages=("en", "ar")), 1)[0]
    problems = {}
    for path in (f"/?lang={language}", "/help", "/notes", "/hepl"):  # /hepl: a mistyped address (404)
        page.goto(path)
        problems[path] = _violations(page)
    _enter_code(page, code)
    problems["/p/age"] = _violations(page)
    page.check("input[name=age][value='12']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    problems["/p/about"] = _violations(page)
    page.check("#check_0_1")  # a wrong answer: the explanation comes back, accessibly
    click_and_load(page, "button[name=decision][value=yes]")
    problems["/p/about (explained)"] = _violations(page)
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")
    problems["/p/q/0"] = _violations(page)
    page.check("input[name=q_who][value=helpline]")
    page.click("button[name=nav][value=next]")
    page.wait_for_url("**/p/q/1")
    problems["/p/q/1"] = _violations(page)
    page.click("button[name=nav][value=next]")
    page.wait_for_url("**/p/q/2")
    problems["/p/q/2 (matrix, rank)"] = _violations(page)
    for path in ("/p/stop", "/p/upset", "/p/end"):
        page.goto(path)
        problems[path] = _violations(page)
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/done*")
    problems["/p/done"] = _violations(page)
    # A wrong code shows an error message that must be accessible too.
    page.goto("/")
    page.fill("#code", "AAAA-BBBB-CCCC")
    click_and_load(page, "form:not([data-quick-exit]) button[type=submit]")
    problems["/ (error)"] = _violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
    assert page.outside_requests == []


def test_staff_pages_pass_axe(page, app, world) -> None:
    from survey.extensions import db
    from survey.models import Consultation, User
    from survey.services import consultations

    with app.app_context():  # fiona is also this consultation's safeguarding lead
        consultations.add_member(
            db.session.get(Consultation, world.consultation),
            db.session.get(User, world.user_ids["facilitator"]),
            "safeguarding",
        )
    problems = {"/staff/sign-in": None}
    page.goto("/staff/sign-in")
    problems["/staff/sign-in"] = _violations(page)
    _sign_in(page, "ada")
    for path in ("/staff/", "/admin/users", f"/admin/users/{world.user_ids['facilitator']}", "/admin/field-laptops/"):
        page.goto(path)
        problems[path] = _violations(page)
    page.goto("/staff/sign-in")
    page.context.clear_cookies()
    _sign_in(page, "fiona")
    for path in (
        f"/facilitate/{world.consultation}/",
        f"/safeguarding/{world.consultation}/",
        f"/safeguarding/{world.consultation}/written",
        "/no-such-page",
    ):
        page.goto(path)
        problems[path] = _violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
    assert page.outside_requests == []


def test_quick_exit_by_keyboard_replaces_history(page, world, issue_codes) -> None:
    code = issue_codes(world.consultation, 1)[0]
    _enter_code(page, code)
    # The quick exit is the first thing a keyboard reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Leave this page quickly"
    page.locator("body").click()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url("**/notes")
    # Back does not return to the survey, and the session is gone.
    page.go_back()
    assert "/p/" not in page.url
    page.goto("/p/age")
    assert page.url.endswith("/")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_child_pages_fit_a_320_px_phone_without_sideways_scrolling(
    browser, live_server, make_consultation, issue_codes, language: str
) -> None:
    consultation = make_consultation("Ours", languages=("en", "ar"))
    context = browser.new_context(base_url=live_server, viewport={"width": 320, "height": 640})
    page = context.new_page()
    widths = {}
    page.goto(f"/?lang={language}")
    widths["/"] = page.evaluate("document.documentElement.scrollWidth")
    _enter_code(page, issue_codes(consultation, 1)[0])
    page.check("input[name=age][value='12']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")
    for path in ("/p/q/0", "/p/q/1", "/p/q/2", "/help", "/p/stop"):
        page.goto(path)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert {path: width for path, width in widths.items() if width > 320} == {}

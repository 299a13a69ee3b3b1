"""A child adds three pets, removes the second and goes on, in Chromium with and without
JavaScript; the "add another" list (also as shown again after a stale second tab's Yes) and the
"Remove ...?" question pass axe (WCAG 2.2 AA).

The form is the XLSForm of ``tests/survey/test_repeat_removal.py`` (pets the child adds, up to 5).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.browser.test_accessibility import _violations
from tests.survey.test_repeat_removal import PETS, _open

pytestmark = pytest.mark.browser


def _pet(page, kind: str, legs: str, then: str) -> None:
    page.check(f"input[name=q_kind][value={kind}]")
    page.fill("input[name=q_legs]", legs)
    page.click("button[name=nav][value=next]")
    page.wait_for_url(re.compile(then))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_child_removes_the_second_of_three_pets(app, browser, live_server, issue_codes, javascript) -> None:
    consultation = _open(app, PETS)
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    page = context.new_page()
    try:
        page.goto("/")
        page.fill("#code", issue_codes(consultation, 1)[0])
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r".*/p/about$"))
        page.click("button[name=decision][value=yes]")
        page.wait_for_url(re.compile(r".*/p/q/0/1$"))
        _pet(page, "dog", "4", r".*/p/more/0/1$")
        for number, kind in ((2, "cat"), (3, "fish")):
            page.click("button[name=nav][value=add]")
            page.wait_for_url(re.compile(rf".*/p/q/0/{number}$"))
            _pet(page, kind, "4" if kind == "cat" else "0", rf".*/p/more/0/{number}$")
        listed = page.locator("ul.instances li")
        assert listed.count() == 3 and "Cat" in listed.nth(1).inner_text()
        if javascript:
            assert _violations(page) == []
        other_tab = context.new_page()  # the same question, open in a second tab
        other_tab.goto("/p/more/0/3/remove/2")
        page.get_by_role("link", name="Remove A pet (2)").click()
        page.wait_for_url(re.compile(r".*/p/more/0/3/remove/2$"))
        assert page.locator("h1").inner_text() == "Remove A pet (2)?"
        if javascript:
            assert _violations(page) == []
        page.click("button[name=nav][value=yes]")
        page.wait_for_url(re.compile(r".*/p/more/0/2$"))
        assert [text.split(":")[1].split("Remove")[0].strip() for text in listed.all_inner_texts()] == ["Dog", "Fish"]
        # Yes in the stale tab removes nothing (not the fish) and shows the list again
        other_tab.click("button[name=nav][value=yes]")
        other_tab.wait_for_url(re.compile(r".*/p/more/0/2$"))
        assert "This list changed. Please check it again." in other_tab.locator("main").inner_text()
        assert other_tab.locator("ul.instances li").count() == 2
        if javascript:
            assert _violations(other_tab) == []
        page.click("button[name=nav][value=done]")
        page.wait_for_url(re.compile(r".*/p/q/1/1$"))
    finally:
        context.close()
    with app.app_context():
        rows = set(db.session.execute(sa.select(Answer.item, Answer.instance, Answer.value)).all())
    assert {row for row in rows if row[0] in ("pets", "kind")} == {
        ("pets", 0, "2"),
        ("kind", 1, "dog"),
        ("kind", 2, "fish"),
    }

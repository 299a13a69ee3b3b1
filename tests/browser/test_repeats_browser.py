"""A child adds two friends and says "that's all", in Chromium (issue 19).

The form is the real XLSForm of ``tests/instruments/data/repeats/friends.md``; the "add another"
page passes axe with the same WCAG 2.2 AA rules as every child page.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.browser.test_accessibility import _violations
from tests.survey.test_repeats import consultation as consultation  # the fixture

pytestmark = pytest.mark.browser


def _next(page, url: str) -> None:
    page.click("button[name=nav][value=next]")
    page.wait_for_url(re.compile(url))


def test_a_child_adds_two_friends_and_says_thats_all(app, page, consultation, issue_codes) -> None:
    page.goto("/")
    page.fill("#code", issue_codes(consultation, 1)[0])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/p/about$"))
    page.click("button[name=decision][value=yes]")
    page.wait_for_url(re.compile(r".*/p/q/0$"))
    page.fill("input[name=q_n]", "1")
    _next(page, r".*/p/q/1/1$")
    assert page.locator("h1.repeat-heading").inner_text() == "A friend you talk to (1)"
    page.check("input[name=q_online][value=yes]")
    _next(page, r".*/p/q/2/1$")
    page.check("input[name=q_often][value=weekly]")
    _next(page, r".*/p/more/2/1$")
    assert _violations(page) == []
    page.click("button[name=nav][value=add]")
    page.wait_for_url(re.compile(r".*/p/q/1/2$"))
    assert page.locator("h1.repeat-heading").inner_text() == "A friend you talk to (2)"
    page.check("input[name=q_online][value=no]")
    _next(page, r".*/p/more/2/2$")
    page.click("button[name=nav][value=done]")
    page.wait_for_url(re.compile(r".*/p/q/3/1$"))  # the one place the child said they go to
    assert page.outside_requests == []
    with app.app_context():
        rows = set(db.session.execute(sa.select(Answer.item, Answer.instance, Answer.value)).all())
    assert rows == {
        ("n", 0, "1"),
        ("online", 1, "yes"),
        ("often", 1, "weekly"),
        ("online", 2, "no"),
        ("friends", 0, "2"),
    }

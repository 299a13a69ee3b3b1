"""The analyst's results page passes axe-core's WCAG 2.2 AA rules and loads nothing from outside."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _sign_in, _violations
from tests.survey.test_reports import CHILDREN, complete_child

pytestmark = pytest.mark.browser


def test_reports_pages_pass_axe(app, page, world, issue_codes) -> None:
    problems = {}
    _sign_in(page, "ana")
    path = f"/reports/{world.consultation}/"
    page.goto(path)  # under the threshold: the plain "not enough answers yet" page
    problems["empty"] = _violations(page)
    children = [("12", *spec[1:]) for spec in CHILDREN * 2]  # 36: enough for shares (and bars)
    for n, (code, spec) in enumerate(zip(issue_codes(world.consultation, len(children)), children, strict=True)):
        complete_child(app, code, spec, f"10.6.0.{n + 1}")
    page.goto(path)  # finished children, nothing released yet: the live funnel only
    problems["unreleased"] = _violations(page)
    page.goto(f"/reports/{world.consultation}/report.html")  # refused: nothing released yet
    problems["refused"] = _violations(page)
    page.goto(path)
    page.get_by_role("button", name="Make a new release now").click()
    page.wait_for_load_state()
    assert page.get_by_text("Release 1 is ready").count() == 1
    problems["released"] = _violations(page)
    parts = page.locator("nav.results-parts a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(parts) >= 3
    bars = 0
    for href in parts:  # every part of the results, one page each
        page.goto(href)
        bars += page.locator("meter").count()
        problems[href] = _violations(page)
    assert bars > 0
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []

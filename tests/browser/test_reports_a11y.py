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
    for n, (code, spec) in enumerate(zip(issue_codes(world.consultation, len(CHILDREN)), CHILDREN, strict=True)):
        complete_child(app, code, spec, f"10.6.0.{n + 1}")
    page.goto(path)  # with results: tables and charts
    assert page.locator("img[alt]").count() > 0
    problems["results"] = _violations(page)
    page.goto(f"/reports/{world.consultation}/export.csv")  # refused: too few for record-level data
    problems["refused"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []

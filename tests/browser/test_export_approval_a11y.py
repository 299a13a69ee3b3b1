"""The export approval page (DP-07) passes axe-core's WCAG 2.2 AA rules, empty and with a record."""

from __future__ import annotations

import pytest

from tests.browser.navigation import click_and_load
from tests.browser.test_accessibility import _sign_in, _violations

pytestmark = pytest.mark.browser


def test_export_approval_page_passes_axe(page, world) -> None:
    _sign_in(page, "ada")
    path = f"/reports/{world.consultation}/export-approval"
    page.goto(path)
    problems = {"empty": _violations(page)}
    page.fill("textarea[name=reason]", "too short")
    click_and_load(page, "main form button[type=submit]")
    problems["refused"] = _violations(page)
    assert page.locator("[role=alert]").count() == 1
    page.fill("textarea[name=reason]", "The university partner analyses the answers for the ministry.")
    click_and_load(page, "main form button[type=submit]")
    assert "approved by ada until" in page.content()
    problems["recorded"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []

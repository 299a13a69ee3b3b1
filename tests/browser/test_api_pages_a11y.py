"""The console's API tokens page and the API's documentation page pass axe-core's WCAG 2.2 AA
rules, and load nothing from another host (issue 23)."""

from __future__ import annotations

import pytest

from tests.browser.navigation import click_and_load
from tests.browser.test_accessibility import _sign_in, _violations

pytestmark = pytest.mark.browser


def test_api_token_and_documentation_pages_pass_axe(page, world) -> None:
    problems = {}
    page.goto("/api/v1/docs")
    problems["documentation"] = _violations(page)
    _sign_in(page, "ana")
    page.goto("/staff/api-tokens/")
    problems["tokens, none yet"] = _violations(page)
    click_and_load(page, "form button[type=submit] >> text=Make the token")  # nothing filled in: the errors
    problems["tokens, refused"] = _violations(page)
    page.fill("#name", "Power BI dashboard")
    page.check("input[name=scopes][value='releases:read']")
    click_and_load(page, "form button[type=submit] >> text=Make the token")
    assert page.locator("#new-token").input_value().startswith("sauti_")
    problems["tokens, new token shown"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []

"""The programme-record pages and the country-profile admin pass axe-core's WCAG 2.2 AA rules."""

from __future__ import annotations

import pytest

from tests.browser.navigation import click_and_load
from tests.browser.test_accessibility import _sign_in, _violations
from tests.survey.test_reports import answered_many  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_programme_pages_pass_axe(page, answered_many) -> None:  # noqa: F811
    cid = answered_many.consultation
    problems = {}
    _sign_in(page, "ana")
    page.goto("/programme/")
    problems["overview"] = _violations(page)
    page.goto(f"/programme/{cid}/")
    problems["records"] = _violations(page)
    # A checklist answer without its evidence: the page comes back with the message.
    page.check("#lundy-space_sought-yes")
    click_and_load(page, "section[aria-labelledby=lundy] button[type=submit]")
    assert page.locator("#lundy-space_sought-error").is_visible()
    problems["records with an error"] = _violations(page)
    page.fill("#recommendation", "Posters with the helpline number")
    page.select_option("#decision", "accepted")
    page.click("section[aria-labelledby=influence] button[type=submit]")
    page.wait_for_url(f"**/programme/{cid}/#influence")
    click_and_load(page, "text=Edit")
    problems["influence entry"] = _violations(page)
    # The sheet's findings come from the latest release: the analyst makes one first.
    page.goto(f"/reports/{cid}")
    page.get_by_role("button", name="Make a new release now").click()
    page.wait_for_load_state()
    page.goto(f"/programme/{cid}/feedback/")
    problems["feedback list"] = _violations(page)
    page.goto(f"/programme/{cid}/feedback/B/en")
    problems["empty sheet"] = _violations(page)
    page.fill("#will_change", "Every class gets a help card.")
    page.fill("#cant_change", "A new phone line | It costs too much this year.")
    page.fill("#next_update", "We will come back in June.")
    page.click("section[aria-labelledby=write] button[type=submit]")
    page.wait_for_url("**#preview")
    assert page.locator("#signoff").count() == 1
    problems["sheet preview"] = _violations(page)
    page.fill("#reviewer", "Dana")
    click_and_load(page, "section[aria-labelledby=signoff] button[type=submit]")  # no trauma screen: refused
    assert page.locator("[role=alert]").count() == 1
    problems["sign-off refused"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []


def test_profile_admin_pages_pass_axe(page, world, tmp_path) -> None:
    problems = {}
    _sign_in(page, "ada")
    page.goto("/admin/profiles/")
    problems["list"] = _violations(page)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    page.set_input_files("#file", str(bad))
    click_and_load(page, "section[aria-labelledby=upload] button[type=submit]")
    assert page.locator("[role=alert] li").count() > 1
    problems["upload refused"] = _violations(page)
    page.goto("/admin/profiles/example-ke")
    problems["detail"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.outside_requests == []

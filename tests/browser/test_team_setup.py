"""Issue 17, "Done means", in Chromium: a facilitator creates a consultation, staffs it (adds an
analyst on its Team page) and opens it through the console alone, reading the checklist of what
still blocks opening; the analyst then sees its results page.

The organisation's part comes first, as an administrator would have done it once for every
consultation: the English consent texts approved and a checked country profile uploaded.
CSRF protection is on, so every form is submitted exactly as a browser submits it.  With
``SAUTI_SCREENSHOTS=<folder>`` the screens are saved as PNG files to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from importlib import resources
from pathlib import Path

import pytest

from tests.browser.test_accessibility import _violations
from tests.browser.test_facilitator_flow import flashes, sign_in
from tests.survey.test_setup_flow import developer_words

pytestmark = pytest.mark.browser


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def _organisation_ready(app, tmp_path: Path) -> None:
    """What an administrator did before: English texts approved, the profile checked."""
    from survey.extensions import db
    from survey.models import User
    from survey.services import instrument_store, profile_store
    from survey.services.consent_rules import text_registry
    from survey.services.translations import set_text_state

    real = (
        (resources.files("consent") / "profiles" / "generic.yaml")
        .read_text("utf-8")
        .replace("is_example: true", "is_example: false")
        .replace("last_verified: 2026-11-29", f"last_verified: {dt.date.today().isoformat()}")
    )
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "ada"))
        for text in text_registry():
            if text.language == "en":
                set_text_state(text.text_id, "approved", by="Amina Njeri", actor=admin)
        profile_store.upload(real.encode(), actor=admin)
        instrument_store.store_bundled()


def test_a_facilitator_creates_staffs_and_opens_a_consultation_and_the_analyst_sees_it(
    app, browser, live_server, make_user, tmp_path: Path
) -> None:
    shots = os.environ.get("SAUTI_SCREENSHOTS")

    def shot(page, name: str) -> None:
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)

    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    make_user("ada", "admin")
    _organisation_ready(app, tmp_path)
    staff = browser.new_context(base_url=live_server)
    analyst = browser.new_context(base_url=live_server)
    problems: dict[str, list] = {}
    try:
        page = staff.new_page()
        sign_in(page, "fiona")
        page.click("text=Create a consultation")
        page.wait_for_url("**/facilitate/new")
        assert page.locator("h2", has_text="Step 4: the team").count() == 1
        problems["new"] = _violations(page)
        shot(page, "01-new-consultation")
        today = dt.date.today()
        page.fill("#title", "Grade 6, Kibera")
        page.select_option("#instrument", index=0)
        page.check("input[name=languages][value=en]")
        page.check("input[name=age_bands][value=B]")
        page.fill("#site_code", "NRB-07")
        page.fill("#session_pin", "1357")
        page.select_option("#country_profile", "generic")
        page.fill("#organisation", "Helping Hands")
        page.fill("#purpose", "To learn how children want to ask for help.")
        page.fill("#audience", "The county children's officer")
        page.fill("#influence_scope", "How help desks explain themselves; not the law.")
        page.fill("#contact", "Ms Achieng at the centre")
        page.fill("#independent_contact", "The county ethics board")
        page.fill("#feedback_due", (today + dt.timedelta(days=60)).isoformat())
        page.fill("#analysis_cutoff", (today + dt.timedelta(days=30)).isoformat())
        page.fill("#retention_until", (today + dt.timedelta(days=365)).isoformat())
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/facilitate/\d+/$"))
        overview = page.url
        consultation = re.search(r"/facilitate/(\d+)/", overview).group(1)

        # The checklist: nothing blocks opening now, but nobody will see the results.
        checklist = page.locator("section.checklist").inner_text()
        assert "Nothing stops this consultation from opening." in checklist
        assert "No analyst is on the team yet" in checklist
        assert developer_words(page.locator("main").inner_text()) == []
        problems["overview"] = _violations(page)
        shot(page, "02-overview-checklist")

        # Staff it: the checklist's link leads to the Team page.
        page.click("section.checklist li:has-text('No analyst') >> text=Fix this")
        page.wait_for_url("**/team")
        problems["team"] = _violations(page)
        shot(page, "03-team")
        page.select_option("#user", label="ana: analyst")
        page.select_option("#role", "analyst")
        page.click("text=Add to the team")
        page.wait_for_url("**/team")
        assert "ana is now the analyst" in flashes(page)
        assert page.locator("tbody tr", has_text="analyst").count() == 1
        shot(page, "04-team-with-analyst")

        # Preview, read-only, then open.
        page.goto(overview)
        page.click("text=Preview the questionnaire")
        page.wait_for_url("**/preview")
        assert page.locator(".child-preview fieldset[disabled]").count() >= 1
        problems["preview"] = _violations(page)
        shot(page, "05-preview")
        page.goto(overview)
        assert "No analyst" not in page.locator("section.checklist").inner_text()
        page.click("button[name=to][value=open]")
        page.wait_for_url(overview)
        assert "The consultation is open" in flashes(page)
        assert developer_words(flashes(page)) == []
        shot(page, "06-open")
        page.goto("/safeguarding/")
        problems["safeguarding index"] = _violations(page)
        shot(page, "07-safeguarding-index")
        page.goto(f"/facilitate/{consultation}/settings")  # open: settings are for drafts
        assert "Only a draft" in flashes(page)

        # The analyst: the consultation is on their home page, and its results page opens.
        reader = analyst.new_page()
        sign_in(reader, "ana")
        reader.click("text=Grade 6, Kibera")
        reader.wait_for_url(f"**/reports/{consultation}/")
        assert reader.locator("h1").count() == 1
        shot(reader, "08-analyst-results")
        assert {name: found for name, found in problems.items() if found} == {}
    finally:
        staff.close()
        analyst.close()

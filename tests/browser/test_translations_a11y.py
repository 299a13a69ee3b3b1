"""The translation pages of the console pass axe-core's WCAG 2.2 AA rules (issue 17): the overview,
a consent text beside its source (Arabic, right to left), a questionnaire language page by page
(the youngest age group's faces and pictograms), and a consultation's words in its other languages.
"""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _sign_in, _violations

pytestmark = pytest.mark.browser


def test_translation_pages_pass_axe(app, page, make_user, make_consultation) -> None:
    from survey.services import instrument_store

    make_user("ada", "admin")
    consultation = make_consultation("Two languages", state="draft", languages=("en", "fr"))
    with app.app_context():
        record = instrument_store.store_bundled().id
    _sign_in(page, "ada")
    problems = {}
    for path in (
        "/admin/translations/",
        "/admin/texts/child_information/ar/B/v2",
        f"/admin/translations/questionnaire/{record}/sw?band=A",
        f"/admin/translations/consultation/{consultation}",
    ):
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        problems[path] = _violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
    assert page.outside_requests == []

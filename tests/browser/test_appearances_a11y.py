"""The drop-down (``minimal``) and side-by-side (``horizontal``) items pass axe in Chromium.

The items are drawn by the real builder and item macros from an imported XLSForm, with the
real stylesheet, and checked with the same WCAG 2.2 AA rules as every child page.
"""

from __future__ import annotations

import pytest
from flask import render_template_string

from survey.pages.builder import build_page_form
from tests.browser.test_accessibility import _violations
from tests.survey.test_appearances import PAGE, _items
from tests.survey.test_appearances import form as form  # the fixture

pytestmark = pytest.mark.browser


def test_drop_down_and_horizontal_items_pass_axe(app, page, live_server, form) -> None:
    with app.test_request_context():
        form_class, specs = build_page_form(_items(form, "more"), form, "en", "B", {"nick": "Ana"})
        items = render_template_string(PAGE, specs=specs, form=form_class())
    page.goto("/help")  # the site's origin, so the stylesheet loads as on a child's page
    page.set_content(
        f'<!doctype html><html lang="en"><head><title>Questions</title>'
        f'<link rel="stylesheet" href="{live_server}/static/css/sauti.min.css"></head>'
        f'<body><main><form method="post">{items}</form></main></body></html>'
    )
    assert page.locator("select[name=q_home]").count() == 1
    page.select_option("select[name=q_home]", "village")
    assert _violations(page) == []

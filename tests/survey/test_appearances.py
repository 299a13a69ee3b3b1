"""XLSForm appearances and ``${name}`` in the words, on a child's page (issue 19).

A select whose row asks for a drop-down (``minimal``) was drawn as radio buttons; ``horizontal``
was ignored; a label showing an earlier answer (``Hello ${nick}``) showed the raw reference.
The form is a real workbook, imported as an administrator's upload is.
"""

from __future__ import annotations

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from instruments import import_xlsform
from instruments.model import RATHER_NOT_SAY
from survey.child_cache import fixed_choices
from survey.pages.builder import build_page_form, stored_value_for
from tests.instruments.conftest import workbook_bytes


def _items(instrument, page_name):
    return next(p for p in instrument.pages if p.name == page_name).items


PAGE = (
    '{% from "macros/items.html" import render_item %}{% for spec in specs %}{{ render_item(spec, form) }}{% endfor %}'
)


@pytest.fixture
def form():
    sheets = {
        "survey": [
            ["type", "name", "label", "appearance"],
            ["text", "nick", "What should we call you?", None],
            ["begin_group", "more", "More", "field-list"],
            ["select_one place", "home", "Where do you live, ${nick}?", "minimal"],
            ["select_one yn", "likes", "Do you like it there?", "horizontal"],
            ["end_group", None, None, None],
        ],
        "choices": [
            ["list_name", "name", "label"],
            ["place", "town", "A town"],
            ["place", "village", "A village"],
            ["yn", "yes", "Yes"],
            ["yn", "no", "No"],
        ],
    }
    return import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument


def test_minimal_is_a_drop_down_and_horizontal_puts_choices_side_by_side(app, form):
    items = _items(form, "more")
    with app.test_request_context():
        form_class, specs = build_page_form(items, form, "en", "B", {"nick": "Ana"})
        html = render_template_string(PAGE, specs=specs, form=form_class())
    assert [s.kind for s in specs] == ["dropdown", "radio"]
    select = html[html.index("<select") : html.index("</select>")]
    assert 'name="q_home"' in select and "A village" in select and "_rns" not in select
    assert 'type="radio" value="town"' not in html  # not radio buttons any more
    assert "I&#39;d rather not say" in html or "I'd rather not say" in html  # still offered, apart
    assert 'class="options horizontal"' in html
    assert "Where do you live, Ana?" in html and "${nick}" not in html


def test_a_drop_down_answer_is_stored_as_the_choice_or_rather_not_say(app, form):
    items = _items(form, "more")
    with app.test_request_context(method="POST"):
        form_class, specs = build_page_form(items, form, "en", "B", {})
        chosen = form_class(formdata=MultiDict({"q_home": "village"}))
        assert chosen.validate() and stored_value_for(specs[0], chosen) == "village"
        refused = form_class(formdata=MultiDict({"q_home": "castle"}))
        assert not refused.validate()
        skipped = form_class(formdata=MultiDict({"rns_home": "y"}))
        assert skipped.validate() and stored_value_for(specs[0], skipped) == RATHER_NOT_SAY


def test_a_page_showing_an_answer_is_never_shared_between_children(app, form):
    with app.test_request_context():
        _class, specs = build_page_form(_items(form, "more"), form, "en", "B", {"nick": "_rns"})
    assert specs[0].label == "Where do you live, ?"
    assert not fixed_choices(_items(form, "more"))  # the page cache keeps no child's answer
    assert fixed_choices(_items(form, "nick"))

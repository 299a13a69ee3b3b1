"""A select whose choices are the child's own answers in a repeat (XLSForm ``select_one ${name}``,
issue 19): the page shows that child's answers, stores the instance's number, and is never kept
in the page cache that children share."""

from __future__ import annotations

from flask import render_template_string
from werkzeug.datastructures import MultiDict

from instruments import import_xlsform
from survey.child_cache import fixed_choices
from survey.pages.builder import build_page_form, stored_value_for
from tests.instruments.conftest import workbook_bytes

PAGE = (
    '{% from "macros/items.html" import render_item %}{% for spec in specs %}{{ render_item(spec, form) }}{% endfor %}'
)


def _instrument():
    sheets = {
        "survey": [
            ["type", "name", "label"],
            ["begin repeat", "friends", "A friend"],
            ["text", "nick", "Their nickname"],
            ["end repeat", None, None],
            ["select_one ${nick}", "best", "Who do you talk to most?"],
        ]
    }
    return import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument


def test_the_page_offers_this_childs_answers_and_stores_the_instance_number(app):
    inst = _instrument()
    items = next(p for p in inst.pages if p.name == "best").items
    answers = {"nick#1": "Jo", "nick#2": "Sam"}
    with app.test_request_context(method="POST"):
        form_class, specs = build_page_form(items, inst, "en", "B", answers)
        html = render_template_string(PAGE, specs=specs, form=form_class())
        chosen = form_class(formdata=MultiDict({"q_best": "2"}))
        assert chosen.validate() and stored_value_for(specs[0], chosen) == "2"
        _other_class, other_specs = build_page_form(items, inst, "en", "B", {})
        other = render_template_string(PAGE, specs=other_specs, form=_other_class())
    assert "Jo" in html and "Sam" in html
    assert "Jo" not in other and "Sam" not in other  # another child never sees these words
    assert not fixed_choices(items)  # so the shared page cache never keeps this page


def test_the_childs_own_words_as_choices_are_read_by_the_browser_never_written_or_served(app):
    """Each choice is what the child typed (a friend's nickname, perhaps the person who hurts
    them): its play control is the browser's own voice; no file under the instance folder holds
    the words, and no /audio/ address is made from them (anyone could ask for it)."""
    from pathlib import Path

    inst = _instrument()
    items = next(p for p in inst.pages if p.name == "best").items
    nickname = "the coach at football club"
    with app.test_request_context(method="POST"):
        form_class, specs = build_page_form(items, inst, "en", "B", {"nick#1": nickname, "nick#2": "Sam"})
        html = render_template_string(PAGE, specs=specs, form=form_class())
    at = html.index(f">{nickname}</label>")
    control = html[at : at + 300]
    assert '<span class="listen"' in control.split("</div>")[0], control
    assert 'class=listen href="/audio/' not in control.split("</div>")[0], control
    written = [p for p in Path(app.instance_path).rglob("*") if p.is_file() and nickname.encode() in p.read_bytes()]
    assert written == [], written

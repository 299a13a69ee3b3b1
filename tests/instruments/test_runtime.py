"""Run-time helpers the survey engine uses: visibility, choice filters,
answer checks (S-04: nothing required), calculations."""

from __future__ import annotations

import pytest

from instruments import (
    DONT_KNOW,
    RATHER_NOT_SAY,
    calculate_all,
    check_answer,
    context,
    import_xlsform,
    load_bundled,
    visible_choices,
    visible_items,
)

FORM = """
| survey |
| | type | name | label | relevant | constraint | constraint_message | parameters | allow_dont_know | max_choices |
| | begin_group | s1 | S1 | ${_setting} != 'school' | | | | | |
| | integer | age | Age | | . >= 8 and . <= 17 | Ages 8 to 17 only | | yes | |
| | select_multiple ch | ways | Ways | | | | | | 2 |
| | range | score | Score | | | | start=1 end=5 step=1 | | |
| | decimal | height | Height | | | | | | |
| | text | why | Why? | ${age} > 12 | | | | | |
| | end_group | | | | | | | | |
| choices |
| | list_name | name | label |
| | ch | chat | Chat |
| | ch | phone | Phone |
| | ch | box | Box |
"""


@pytest.fixture(scope="module")
def inst():
    return import_xlsform(FORM).instrument


def test_visible_items_follow_section_and_item_relevance(inst):
    page_names = [p.name for p in inst.pages]
    assert "why" in page_names
    why_page = inst.pages[page_names.index("why")]
    assert visible_items(inst, why_page, {"age": 13, **context(setting="community")}, "B")
    assert not visible_items(inst, why_page, {"age": 10}, "B")
    assert not visible_items(inst, why_page, {"age": 13, **context(setting="school")}, "B")
    assert not visible_items(inst, why_page, {"age": RATHER_NOT_SAY}, "B")


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("age", None, True),
        ("age", "", True),
        ("age", RATHER_NOT_SAY, True),
        ("age", DONT_KNOW, True),
        ("age", 12, True),
        ("age", "12", True),
        ("age", 30, False),
        ("age", "twelve", False),
        ("age", 12.5, False),
        ("ways", ["chat"], True),
        ("ways", "chat phone", True),
        ("ways", ["chat", "phone", "box"], False),
        ("ways", ["nope"], False),
        ("ways", ["chat", RATHER_NOT_SAY], False),
        ("ways", DONT_KNOW, False),
        ("score", 3, True),
        ("score", 3.5, False),
        ("score", 9, False),
        ("height", "1.42", True),
        ("height", "tall", False),
        ("why", "x" * 5000, False),
        ("why", "Because", True),
    ],
)
def test_check_answer(inst, name, value, ok):
    message = check_answer(inst, inst.item(name), value, {})
    assert (message is None) is ok, message


def test_constraint_message_comes_from_the_instrument(inst):
    assert check_answer(inst, inst.item("age"), 30) == "Ages 8 to 17 only"


def test_visible_choices_and_calculations():
    bundled = load_bundled()
    ba2 = bundled.item("BA2")
    answers = {"BA1": "trouble revenge"}
    assert [c.name for c in visible_choices(bundled, ba2, "C", answers)] == ["trouble", "revenge"]
    assert check_answer(bundled, ba2, "embarrassed", answers, band="C") is not None
    assert check_answer(bundled, ba2, "revenge", answers, band="C") is None
    md = (
        "| survey |\n| | type | name | label | calculation |\n| | integer | a | A | |\n"
        "| | calculate | b | | ${a} + 1 |\n| | calculate | c | | ${b} * 2 |\n"
    )
    assert calculate_all(import_xlsform(md).instrument, {"a": 1}) == {"b": 2.0, "c": 4.0}
    assert calculate_all(import_xlsform(md).instrument, {"a": RATHER_NOT_SAY})["b"] != 1

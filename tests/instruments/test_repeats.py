"""Repeat groups in XLSForms (issue 19): import, nesting, limits, round trip, run time.

Each case is a form written for it under ``data/repeats`` (Markdown, as pyxform's own tests
write them) or a real workbook written with openpyxl.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from instruments import InstrumentError, IssueCode, export_xlsform, import_xlsform
from instruments.model import DEFAULT_MAX_REPEATS, instance_key
from instruments.native import dump_native, load_native
from instruments.runtime import instance_count, instance_values, visible_items
from instruments.validate import validate

from .conftest import workbook_bytes

FORMS = Path(__file__).parent / "data" / "repeats"


def _load(name: str):
    return import_xlsform(FORMS / name).instrument


def test_a_repeat_with_relevance_inside_and_a_count_from_an_answer_is_imported():
    inst = _load("friends.md")
    friends, places = inst.repeats
    assert (friends.name, friends.count, friends.maximum, friends.child_controlled) == ("friends", None, 3, True)
    assert (places.name, places.count, places.maximum) == ("places", "${n}", DEFAULT_MAX_REPEATS)
    assert friends.title["en"] == "A friend you talk to"
    assert [p.repeat for p in inst.pages] == [None, "friends", "friends", "places", None, None]
    often = inst.item("often")
    assert often.relevance == "${online} = 'yes'"
    # relevance inside the repeat reads the instance's own answer
    stored = {"online#1": "yes", "online#2": "no"}
    page = next(p for p in inst.pages if p.name == "often")
    assert visible_items(inst, page, instance_values(stored, (1,)), "B") == (often,)
    assert visible_items(inst, page, instance_values(stored, (2,)), "B") == ()


def test_repeat_count_as_a_number_or_an_expression_is_capped_by_the_maximum():
    inst = _load("friends.md")
    places = inst.repeat("places")
    assert [instance_count(places, {"n": n}) for n in ("2", "0", "_rns", "99")] == [2, 0, 0, DEFAULT_MAX_REPEATS]
    rooms = _load("nested.md").repeat("rooms")
    assert rooms.count == "2" and instance_count(rooms, {}) == 2
    friends = inst.repeat("friends")
    assert instance_count(friends, {}) == 1 and instance_count(friends, {"friends": "9"}) == 3


def test_one_repeat_inside_another_is_kept_with_its_group():
    inst = _load("nested.md")
    rooms, things = inst.repeats
    assert things.parent == "rooms" and rooms.parent is None
    assert [s.name for s in inst.sections] == ["home"]
    assert [(p.name, p.repeat) for p in inst.pages] == [
        ("shared", "rooms"),
        ("thing", "things"),
        ("how_many", "things"),
    ]
    # pyxform's own calculate row for the fixed count is not an item
    assert "rooms_count" not in {i.name for i in inst.items}
    assert [r.name for r in inst.repeat_chain("things")] == ["rooms", "things"]
    assert instance_key("thing", (2, 1)) == "thing#2.1"
    values = instance_values({"shared#2": "no", "thing#2.1": "bed", "thing#1.1": "lamp"}, (2, 1))
    assert (values["shared"], values["thing"], values["_position"]) == ("no", "bed", 1)


def test_a_repeat_three_deep_is_refused_naming_sheet_row_column_and_fix():
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(FORMS / "too_deep.md")
    (issue,) = refused.value.issues
    assert issue.code is IssueCode.REPEAT_UNSUPPORTED
    assert issue.location == "too_deep.md, survey sheet, row 4, column type (desk)"
    assert "'desk'" in issue.fix and "end repeat" in issue.fix


def test_a_repeat_inside_a_one_page_group_and_a_bad_maximum_are_refused_with_their_rows():
    sheets = {
        "survey": [
            ["type", "name", "label", "appearance", "max_repeats"],
            ["begin_group", "page", "One page", "field-list", None],
            ["begin_repeat", "pets", "A pet", None, None],
            ["text", "pet", "Which pet?", None, None],
            ["end_repeat", None, None, None, None],
            ["end_group", None, None, None, None],
            ["begin_repeat", "toys", "A toy", None, "lots"],
            ["text", "toy", "Which toy?", None, None],
            ["end_repeat", None, None, None, None],
        ]
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    locations = [i.location for i in refused.value.issues]
    assert locations == [
        "<upload>, survey sheet, row 3, column type (pets)",
        "<upload>, survey sheet, row 7, column max_repeats (toys)",
    ]
    assert all(i.fix for i in refused.value.issues)


@pytest.mark.parametrize("name", ["friends.md", "nested.md"])
def test_export_to_xlsform_and_import_again_gives_the_same_instrument(name):
    inst = _load(name)
    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    again = import_xlsform(buffer.getvalue(), file_type="xlsx").instrument
    assert again == inst and again.content_hash == inst.content_hash
    assert load_native(dump_native(inst)).instrument == inst


def test_a_repeat_shown_as_one_page_round_trips_and_a_top_level_repeat_keeps_its_relevance():
    sheets = {
        "survey": [
            ["type", "name", "label", "appearance", "relevant"],
            ["select_one yn", "pets_at_home", "Are there pets at home?", None, None],
            ["begin_repeat", "pets", "A pet", "field-list", "${pets_at_home} = 'yes'"],
            ["text", "pet", "Which pet?", None, None],
            ["integer", "legs", "How many legs?", None, None],
            ["end_repeat", None, None, None, None],
        ],
        "choices": [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    (page,) = [p for p in inst.pages if p.repeat == "pets"]
    assert [i.name for i in page.items] == ["pet", "legs"]
    assert inst.section_of("pets").relevance == "${pets_at_home} = 'yes'"
    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    assert import_xlsform(buffer.getvalue(), file_type="xlsx").instrument == inst


def test_the_validator_refuses_scattered_pages_unknown_repeats_and_clashing_names():
    inst = _load("friends.md")
    pages = list(inst.sections[1].pages)
    scattered = replace(
        inst,
        sections=(
            inst.sections[0],
            replace(inst.sections[1], pages=(pages[0],)),
            replace(inst.sections[2], pages=(*inst.sections[2].pages, replace(pages[1]))),
        )
        + inst.sections[3:],
    )
    codes = validate(scattered).codes()
    assert IssueCode.REPEAT_UNSUPPORTED in codes
    unknown = replace(inst, repeats=inst.repeats[1:])
    assert any("not a repeat" in i.message for i in validate(unknown).errors)
    clash = replace(inst, repeats=(replace(inst.repeats[0], name="n"), inst.repeats[1]))
    assert IssueCode.DUPLICATE_NAME in validate(clash).codes()
    assert not validate(inst).errors


def test_position_indexed_repeat_sum_and_count_read_the_instances():
    from instruments.expressions import evaluate

    answers = {
        "n": "2",
        "age#1": "9",
        "age#2": "12",
        "toy#2.1": "ball",
        "toy#2.2": "_rns",
        "legs#1.1": "4",
        "legs#2.1": "2",
        "legs#2.2": "100",
    }
    inside = instance_values(answers, (2,))
    assert evaluate("position(..)", inside) == 2
    assert evaluate("indexed-repeat(${age}, ${kids}, position(..) - 1)", inside) == "9"
    assert evaluate("sum(${age})", instance_values(answers, ())) == 21
    assert evaluate("sum(${legs})", inside) == 102  # only inside this outer instance
    assert evaluate("count(${toy})", inside) == 1  # "rather not say" is no answer


def test_forms_as_people_write_them_import(tmp_path):
    """pyxform's ways of writing things that Sauti reads the same way (issue 19, the corpus)."""
    sheets = {
        "survey": [
            ["type", "name", "label", "hint", "relevant", "calculation"],
            ["string", "nick", "Your nickname?", None, None, None],
            ["integer", "n", None, "How many pets?", None, None],
            ["integer", "twice", None, None, None, "/data/n * 2"],
            ["text", "why", "Why?", None, "/data/n > 0 and ${nick} != '/a/b'", None],
        ]
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    assert inst.item("nick").type.value == "text"
    assert inst.item("n").label["en"] == "How many pets?" and not inst.item("n").hint
    assert inst.item("twice").type.value == "calculate" and inst.item("twice").calculation == "${n} * 2"
    assert inst.item("why").relevance == "${n} > 0 and ${nick} != '/a/b'"


def test_what_sauti_cannot_take_is_refused_saying_why():
    search = {
        "survey": [
            ["type", "name", "label", "appearance"],
            ["select_one c1", "fruit", "Fruit?", "search('fruits', 'fuzzy', 'kind', 'x')"],
        ],
        "choices": [["list_name", "name", "label"], ["c1", "id", "label"]],
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(search), file_type="xlsx")
    (issue,) = refused.value.issues
    # choices from an attached file wait for it (instruments.attachments), but a search Sauti
    # cannot do on its server is refused
    assert "column appearance" in issue.location and "cannot do on its server" in issue.message
    nothing = {"survey": [["type", "name", "label"], ["deviceid", "deviceid", None], ["start", "start", None]]}
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(nothing), file_type="xlsx")
    assert "Nothing is left to ask" in refused.value.issues[0].message
    timed = {
        "survey": [
            ["type", "name", "label", "calculation"],
            ["calculate", "seed", None, "once(decimal-date-time(now()))"],
            ["text", "q", "Q", None],
        ]
    }
    # a time stamp from the device's clock is device data: left out, never recorded
    result = import_xlsform(workbook_bytes(timed), file_type="xlsx")
    assert [i.name for i in result.instrument.items] == ["q"]
    assert any("clock" in i.message and "never records" in i.message for i in result.issues)


CORPUS = Path(__file__).parent / "data" / "corpus" / "pyxform"
CORPUS_REPEATS = sorted(p for p in CORPUS.glob("*.md") if "begin repeat" in p.read_text().replace("_", " "))


@pytest.mark.parametrize("path", CORPUS_REPEATS, ids=[p.stem for p in CORPUS_REPEATS])
def test_every_corpus_form_with_repeats_round_trips_or_is_refused_with_a_location(path):
    """The public forms with repeats: each imports and survives export and import unchanged, or
    is refused with its sheet and row (never a crash)."""
    try:
        inst = import_xlsform(path).instrument
    except InstrumentError as refused:
        assert all(issue.location and issue.fix for issue in refused.issues)
        return
    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    assert import_xlsform(buffer.getvalue(), file_type="xlsx").instrument == inst


def test_a_repeat_count_sauti_cannot_read_is_refused_with_its_row_and_column():
    sheets = {
        "survey": [
            ["type", "name", "label", "repeat_count"],
            ["integer", "n", "How many?", None],
            ["begin_repeat", "pets", "A pet", "pulldata('pets', 'n')"],
            ["text", "pet", "Which pet?", None],
            ["end_repeat", None, None, None],
        ]
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    locations = [i.location for i in refused.value.issues]
    assert any("row 3, column" in loc and "(pets)" in loc for loc in locations), locations


def test_a_bare_media_column_is_ignored_as_pyxform_ignores_it():
    """Found by the corpus (pyxform's test_sheet_columns): it crashed the importer."""
    sheets = {
        "survey": [["type", "name", "label", "media"], ["text", "c", "C", "m.png"]],
        "choices": [["list_name", "name", "label", "media"], ["l", "a", "A", "a.png"]],
    }
    inst = import_xlsform(workbook_bytes(sheets), file_type="xlsx").instrument
    assert not inst.item("c").media and inst.choice_lists["l"][0].media == inst.item("c").media

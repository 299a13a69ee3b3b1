"""XLSForm features of ODK forms that pyxform accepts and Sauti imports (issue 19): each with a
small workbook written with openpyxl, the way an author's form arrives."""

from __future__ import annotations

import pytest

from instruments import InstrumentError, IssueCode, ItemType, import_xlsform
from instruments.runtime import calculate_all, visible_choices

from .conftest import workbook_bytes

YN = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def _imported(survey: list[list], choices: list[list] | None = None):
    sheets = {"survey": survey, "choices": choices or YN}
    return import_xlsform(workbook_bytes(sheets), file_type="xlsx")


def _warnings(result, code: IssueCode) -> list:
    return [i for i in result.issues if i.code is code and i.severity.value == "warning"]


def test_last_saved_references_read_as_empty_with_a_warning_naming_the_rows():
    result = _imported(
        [
            ["type", "name", "label", "relevant", "default", "calculation"],
            ["integer", "score", "Your score?", None, "${last-saved#score}", None],
            ["text", "why", "Why?", "${last-saved#score} < 12", None, None],
            ["calculate", "older", None, None, None, "${last-saved#score} + 1"],
        ]
    )
    inst = result.instrument
    assert inst.item("score").default is None  # another child's answer is never offered
    assert "last-saved" not in (inst.item("why").relevance or "")
    assert "last-saved" not in (inst.item("older").calculation or "")
    [warning] = [i for i in result.issues if "last-saved" in i.message]
    assert "survey sheet, rows 2-4" in warning.location or "rows 2, 3, 4" in warning.location
    assert "another child's" in warning.message


def test_a_lookup_in_a_choice_list_reads_the_label_of_the_matching_choice():
    result = _imported(
        [
            ["type", "name", "label", "calculation"],
            ["integer", "pick", "Which number?", None],
            ["calculate", "fruit", None, "instance('fruits')/root/item[index = ${pick}]/label"],
            ["calculate", "second", None, "instance('fruits')/root/item[index > 1][position() = 2]/name"],
            ["note", "say", "You chose ${fruit}", None],
        ],
        [
            ["list_name", "name", "label", "index"],
            ["fruits", "mango", "Mango", "1"],
            ["fruits", "banana", "Banana", "2"],
            ["fruits", "lemon", "Lemon", "3"],
        ],
    )
    values = calculate_all(result.instrument, {"pick": "2"})
    assert values == {"fruit": "Banana", "second": "lemon"}


def test_a_lookup_in_a_list_neither_on_the_sheet_nor_attached_is_refused_with_its_row_and_the_fix():
    with pytest.raises(InstrumentError) as info:
        _imported(
            [
                ["type", "name", "label", "calculation"],
                ["xml-external", "places", None, None],
                ["text", "q", "Your words", None],
                ["calculate", "place", None, "instance('towns')/root/item[name = 'x']/label"],
            ]
        )
    issue = next(i for i in info.value.issues if i.code is IssueCode.MISSING_CHOICE_LIST)
    assert "survey sheet, row 4, column calculation (place)" in issue.location
    assert "nor a file attached" in issue.message
    assert "choices sheet" in issue.fix and "xml-external" in issue.fix


def test_a_lookup_reading_a_column_the_list_lacks_is_refused():
    with pytest.raises(InstrumentError) as info:
        _imported(
            [
                ["type", "name", "label", "calculation"],
                ["text", "q", "Your words", None],
                ["calculate", "c", None, "instance('yn')/root/item[index = 1]/label"],
            ]
        )
    issue = next(i for i in info.value.issues if i.code is IssueCode.UNKNOWN_REFERENCE)
    assert "row 3, column calculation (c)" in issue.location
    assert "'index'" in issue.message


def test_a_trigger_is_shown_as_a_note_and_stores_nothing():
    result = _imported([["type", "name", "label"], ["trigger", "ok", "Tap OK when ready"], ["text", "q", "Words"]])
    assert result.instrument.item("ok").type is ItemType.NOTE
    [warning] = [i for i in result.issues if "trigger" in i.message]
    assert "rows 2" in warning.location


def test_a_question_without_words_shows_its_name_with_a_warning():
    result = _imported(
        [
            ["type", "name", "label", "media::image", "hint"],
            ["text", "a", None, None, "Tell us"],
            ["text", "c", None, "m.png", None],
        ]
    )
    inst = result.instrument
    assert inst.item("a").label_for("en") == "Tell us"  # the hint stands in for the words
    assert inst.item("c").label_for("en") == "c"
    [warning] = _warnings(result, IssueCode.MISSING_LABEL)
    assert "row 3, column label (c)" in warning.location


def test_a_choice_filter_on_a_column_the_choices_lack_is_left_out_with_a_warning():
    result = _imported([["type", "name", "label", "choice_filter"], ["select_one yn", "q1", "Question 1", "q1 != ''"]])
    inst = result.instrument
    item = inst.item("q1")
    assert item.choice_filter is None
    assert [c.name for c in visible_choices(inst, item, None, {})] == ["yes", "no"]
    [warning] = _warnings(result, IssueCode.UNKNOWN_REFERENCE)
    assert "row 2, column choice_filter (q1)" in warning.location
    assert "shows all the choices" in warning.message


def test_device_data_is_left_out_with_a_warning_that_sauti_never_records_it():
    result = _imported(
        [
            ["type", "name", "label"],
            ["start", "start", None],
            ["deviceid", "deviceid", None],
            ["phonenumber", "phone", None],
            ["text", "q", "Words"],
        ]
    )
    assert [i.name for i in result.instrument.items] == ["q"]
    device = [i for i in result.issues if i.code is IssueCode.UNSUPPORTED_TYPE]
    assert len(device) == 3
    assert all("never records" in i.message and "device identifiers" in i.message for i in device)
    assert "column type, rows 3" in next(i.location for i in device if "'deviceid'" in i.message)


def test_videos_are_left_out_with_a_warning_naming_the_column_and_rows():
    result = _imported(
        [["type", "name", "label", "media::video", "media::image"], ["select_one yn", "q", "Pick", "q.mkv", "q.png"]],
        [["list_name", "name", "label", "media::video"], ["yn", "yes", "Yes", "y.mkv"], ["yn", "no", "No", None]],
    )
    assert result.instrument.item("q").media.image  # the picture is kept
    videos = [i for i in result.issues if "does not show" in i.message]
    assert [i.location.split(", ", 1)[1] for i in videos] == [
        "survey sheet, column media::video, rows 2",
        "choices sheet, column media::video, rows 2",
    ]


def test_a_loop_over_a_choice_list_says_its_questions_are_asked_once():
    result = _imported(
        [
            ["type", "name", "label"],
            ["begin loop over yn", "each", None],
            ["integer", "total", "How many?"],
            ["end loop", None, None],
        ]
    )
    [warning] = [i for i in result.issues if i.code is IssueCode.UNSUPPORTED_TYPE]
    assert "asks its questions once" in warning.message and "rows 2, 4" in warning.location
    assert "device" not in warning.message  # 'end loop' is no metadata 'end' row


def test_a_relative_path_to_an_item_beside_this_one_reads_as_its_reference():
    result = _imported(
        [
            ["type", "name", "label", "constraint", "relevant"],
            ["begin repeat", "vehicles", "A vehicle", None, None],
            ["integer", "total", "How many do you have?", None, None],
            ["integer", "working", "How many work?", ". <= ../total", "../total > 0"],
            ["end repeat", None, None, None, None],
        ]
    )
    item = result.instrument.item("working")
    assert (item.constraint, item.relevance) == (". <= ${total}", "${total} > 0")
    assert not [i for i in result.issues if i.severity.value == "error"]


FRIENDS = [
    ["type", "name", "label", "choice_filter"],
    ["begin repeat", "friends", "A friend", None],
    ["text", "nick", "Their nickname", None],
    ["select_one yn", "online", "Do you talk online?", None],
    ["end repeat", None, None, None],
    ["select_one ${nick}", "best", "Who do you talk to most?", None],
    ["select_one ${nick}", "online_ones", "Who do you talk to online most?", "${online} = 'yes'"],
]


def test_choices_made_of_the_answers_in_a_repeat_are_that_childs_answers_one_per_instance():
    from instruments.runtime import check_answer

    inst = _imported(FRIENDS).instrument
    best, online_ones = inst.item("best"), inst.item("online_ones")
    assert best.answers_as_choices == "nick"
    answers = {"nick#1": "Jo", "online#1": "yes", "nick#2": "_rns", "nick#3": "Sam", "online#3": "no"}
    assert [(c.name, c.label_for("fr")) for c in visible_choices(inst, best, "B", answers)] == [
        ("1", "Jo"),
        ("3", "Sam"),
    ]
    # the filter reads each instance's own answers
    assert [c.name for c in visible_choices(inst, online_ones, "B", answers)] == ["1"]
    assert check_answer(inst, best, "3", answers) is None
    assert check_answer(inst, best, "2", answers) is not None  # "I'd rather not say" gives no choice
    assert visible_choices(inst, best, "B", {}) == ()  # another child's answers are never there


def test_in_a_repeat_inside_another_the_choices_come_from_the_same_outer_instance():
    inst = _imported(
        [
            ["type", "name", "label"],
            ["begin repeat", "homes", "A home"],
            ["begin repeat", "people", "Someone who lives there"],
            ["text", "who", "Their name"],
            ["end repeat", None, None],
            ["begin repeat", "helpers", "Someone who helps"],
            ["select_one ${who}", "helper", "Who helps?"],
            ["end repeat", None, None],
            ["end repeat", None, None],
        ]
    ).instrument
    answers = {"who#1.1": "Ana", "who#1.2": "Ben", "who#2.1": "Cy", "_path": (2, 1)}
    assert [(c.name, c.label_for("en")) for c in visible_choices(inst, inst.item("helper"), "B", answers)] == [
        ("1", "Cy")
    ]


def test_choices_made_of_answers_survive_the_native_and_xlsform_round_trips(tmp_path):
    from instruments import dump_native, export_xlsform, load_native

    inst = _imported(FRIENDS).instrument
    assert load_native(dump_native(inst)).instrument.item("best").choices == "${nick}"
    path = tmp_path / "friends.xlsx"
    export_xlsform(inst, path)
    assert import_xlsform(path).instrument.item("best").answers_as_choices == "nick"


def test_choices_made_of_answers_asked_in_their_own_repeat_are_refused_with_the_row():
    with pytest.raises(InstrumentError) as info:
        _imported(
            [
                ["type", "name", "label"],
                ["begin repeat", "friends", "A friend"],
                ["text", "nick", "Their nickname"],
                ["select_one ${nick}", "same", "Which one?"],
                ["end repeat", None, None],
            ]
        )
    issue = next(i for i in info.value.issues if i.code is IssueCode.MISSING_CHOICE_LIST)
    assert "row 4" in issue.location and "same repeat" in issue.message


def test_a_time_stamp_from_the_clock_and_a_random_order_are_left_out_with_warnings():
    result = _imported(
        [
            ["type", "name", "label", "parameters", "calculation"],
            ["calculate", "seed", None, None, "once(decimal-date-time(now()))"],
            ["select_one yn", "q", "Pick one", "randomize=true, seed=${seed}", None],
        ]
    )
    inst = result.instrument
    assert [i.name for i in inst.items] == ["q"] and not inst.item("q").parameters
    clock = next(i for i in result.issues if "clock" in i.message)
    assert "column calculation, rows 2" in clock.location and "never records" in clock.message
    order = next(i for i in result.issues if "randomize" in i.message)
    assert "column parameters, rows 3" in order.location


def test_after_both_repeats_the_choices_are_every_inner_instance_named_by_its_path():
    inst = _imported(
        [
            ["type", "name", "label"],
            ["begin repeat", "homes", "A home"],
            ["begin repeat", "people", "Someone who lives there"],
            ["text", "who", "Their name"],
            ["end repeat", None, None],
            ["end repeat", None, None],
            ["select_one ${who}", "closest", "Who are you closest to?"],
        ]
    ).instrument
    answers = {"who#1.1": "Ana", "who#1.2": "Ben", "who#2.1": "Cy"}
    choices = visible_choices(inst, inst.item("closest"), "B", answers)
    assert [(c.name, c.label_for("en")) for c in choices] == [("1.1", "Ana"), ("1.2", "Ben"), ("2.1", "Cy")]

"""Forms pyxform accepts that Sauti refused (issue 19), each written as a real workbook.

An independent corpus of public XLSForms found them: repeated choice names allowed by the
settings, one name in two groups, macro-enabled workbooks, long location lists, ``${name}``
of a left-out row in a label, and a choice filter reading a column empty in that list.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from instruments import InstrumentError, IssueCode, import_xlsform
from instruments.xlsform import MAX_CHOICE_ROWS

from .conftest import rewrite_zip, workbook_bytes

YN = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def _codes(result, code):
    return [i for i in result.warnings if i.code is code]


def test_repeated_choice_names_allowed_by_the_settings_are_merged_with_a_warning():
    sheets = {
        "survey": [["type", "name", "label"], ["select_one yn", "likes", "Do you like school?"]],
        "choices": [*YN, ["yn", "yes", "Yes!"]],
        "settings": [["form_id", "allow_choice_duplicates"], ["dups", "yes"]],
    }
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert [c.name for c in result.instrument.choice_lists["yn"]] == ["yes", "no"]
    (warning,) = _codes(result, IssueCode.DUPLICATE_CHOICE)
    assert "row 4" in warning.location and "choices sheet" in warning.location
    # without the setting, pyxform refuses it too: a clear error naming the setting
    del sheets["settings"]
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert "allow_choice_duplicates" in refused.value.issues[0].fix


def test_repeated_choice_names_that_a_filter_tells_apart_are_refused_with_the_column():
    sheets = {
        "survey": [
            ["type", "name", "label", "choice_filter"],
            ["select_one region", "region", "Region?", None],
            ["select_one place", "place", "Place?", "region=${region}"],
        ],
        "choices": [
            ["list_name", "name", "label", "region"],
            ["region", "n", "North", None],
            ["region", "s", "South", None],
            ["place", "other", "Other", "n"],
            ["place", "other", "Other", "s"],
        ],
        "settings": [["allow_choice_duplicates"], ["yes"]],
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    issue = refused.value.issues[0]
    assert "row 5" in issue.location and "column region" in issue.location
    assert "other_5" in issue.fix


def test_a_long_location_list_is_read_and_a_longer_one_refused_with_the_row():
    rows = [["list_name", "name", "label"]] + [["village", f"v{i}", f"Village {i}"] for i in range(19_999)]
    sheets = {"survey": [["type", "name", "label"], ["select_one village", "home", "Where?"]], "choices": rows}
    started = time.process_time()
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert len(result.instrument.choice_lists["village"]) == 19_999
    assert time.process_time() - started < 30
    md = (
        "| survey |\n| | type | name | label |\n| | select_one v | home | Where? |\n"
        "| choices |\n| | list_name | name | label |\n"
        + "".join(f"| | v | v{i} | V {i} |\n" for i in range(MAX_CHOICE_ROWS + 5))
    )
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(md)
    issue = refused.value.issues[0]
    assert issue.code is IssueCode.TOO_MANY_ROWS and "choices sheet" in issue.location
    assert f"row {MAX_CHOICE_ROWS + 2}" in issue.location


def test_a_long_survey_sheet_is_refused_before_any_parser_reads_it():
    # the choices sheet may be long; the survey sheet keeps its limit, checked in the raw XML
    rows = [["type", "name", "label"]] + [["text", f"q{i}", "Why?"] for i in range(20_000)]
    data = workbook_bytes({"choices": YN, "survey": rows})
    started = time.process_time()
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(data, file_type="xlsx")
    assert time.process_time() - started < 1
    issue = refused.value.issues[0]
    assert issue.code is IssueCode.TOO_MANY_ROWS and "survey sheet" in issue.location
    assert "5,000 rows" in issue.message


def _macro_enabled(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
    return rewrite_zip(
        data,
        {"[Content_Types].xml": types},
        add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512},
    )


def test_a_macro_enabled_workbook_is_read_with_its_macros_ignored(tmp_path):
    sheets = {"survey": [["type", "name", "label"], ["select_one yn", "likes", "Like it?"]], "choices": YN}
    path = tmp_path / "form.xlsm"
    path.write_bytes(_macro_enabled(workbook_bytes(sheets)))
    result = import_xlsform(path)
    assert [i.name for i in result.instrument.items] == ["likes"]
    assert any("macro" in w.message for w in result.warnings)
    # embedded objects stay refused, macros or not
    hostile = rewrite_zip(path.read_bytes(), {}, add={"xl/embeddings/oleObject1.bin": b"x" * 64})
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(hostile, file_type="xlsx")
    assert refused.value.issues[0].code is IssueCode.ARCHIVE_UNSAFE


def test_a_name_used_in_two_groups_is_qualified_with_its_group():
    sheets = {
        "survey": [
            ["type", "name", "label"],
            ["begin_group", "home", "At home"],
            ["text", "why", "Why?"],
            ["end_group", None, None],
            ["begin_group", "school", "At school"],
            ["text", "why", "And why here?"],
            ["end_group", None, None],
        ]
    }
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert [i.name for i in result.instrument.items] == ["why", "school_why"]
    (warning,) = _codes(result, IssueCode.DUPLICATE_NAME)
    assert "row 6" in warning.location and "column name" in warning.location


def test_a_label_showing_a_left_out_row_is_read_and_an_expression_reading_it_refused():
    sheets = {
        "survey": [
            ["type", "name", "label", "relevant"],
            ["today", "today", None, None],
            ["text", "nick", "What should we call you?", None],
            ["note", "hi", "Hello ${nick}, today is ${today}.", None],
        ]
    }
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert result.instrument.item("hi").label["en"] == "Hello ${nick}, today is ${today}."
    assert any("${today}" in w.message and "row 4" in w.location for w in result.warnings)
    sheets["survey"].append(["text", "later", "Later?", "${today} != ''"])
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    issue = refused.value.issues[0]
    assert "row 5" in issue.location and "relevant" in issue.location


def test_a_choice_filter_may_read_a_column_left_empty_in_its_list():
    sheets = {
        "survey": [
            ["type", "name", "label", "choice_filter"],
            ["select_one region", "region", "Region?", None],
            ["select_one yn", "ok", "Is that right?", "filter=${region} or filter=''"],
        ],
        "choices": [["list_name", "name", "label", "filter"], ["region", "n", "North", "x"], *YN[1:]],
    }
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    from instruments.runtime import visible_choices

    shown = visible_choices(result.instrument, result.instrument.item("ok"), "B", {"region": "n"})
    assert [c.name for c in shown] == ["yes", "no"]


def test_a_function_sauti_cannot_run_is_refused_saying_what_to_do():
    sheets = {
        "survey": [
            ["type", "name", "label", "calculation"],
            ["text", "hh", "Household?", None],
            ["calculate", "size", None, "pulldata('households', 'size')"],
        ]
    }
    with pytest.raises(InstrumentError) as refused:
        import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    issue = refused.value.issues[0]
    assert "row 3" in issue.location and "column calculation" in issue.location
    assert "pulldata()" in issue.message
    assert "without pulldata()" in issue.fix and "attached" in issue.fix
    # the four-argument pulldata() reads the attached file: the form waits for it
    sheets["survey"][2][3] = "pulldata('households', 'size', 'id', ${hh})"
    result = import_xlsform(workbook_bytes(sheets), file_type="xlsx")
    assert result.instrument.item("size").calculation == "instance('households')/root/item[id = ${hh}]/size"
    (waiting,) = [i for i in result.issues if i.code is IssueCode.ATTACHMENT_EXPECTED]
    assert "households.csv" in waiting.message and "row 3" in waiting.location

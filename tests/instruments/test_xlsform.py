"""XLSForm import and export.

Forms are written inline as pyxform markdown tables and parsed by the real
pyxform readers; .xlsx files are real workbooks written with openpyxl.

Covers issue #3 item 3 and the "done means" list: multilingual with audio
columns (X1), groups and relevance (X2), cascading choice_filter (X3), Arabic
labels (X4), likert and matrix appearances (X5), repeats (X6), duplicate
choice names (X7), a broken expression (X8); required (S-04), or_other, rank,
range, default, unsupported types and columns, hostile files, round trips.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from instruments import (
    InstrumentError,
    IssueCode,
    ItemType,
    Sensitivity,
    export_xlsform,
    import_xlsform,
    load_bundled,
    load_instrument,
)
from instruments.model import Direction, LanguageStatus
from instruments.xlsform import MAX_ROWS, MAX_XLSFORM_BYTES

from .conftest import SIMPLE_SHEETS, rewrite_zip, workbook_bytes

# X1 multilingual with audio columns
_ML_HEADER = " | ".join(
    [
        "| | type",
        "name",
        "label::English (en)",
        "label::Français (fr)",
        "hint::English (en)",
        "hint::Français (fr)",
        "media::audio::English (en)",
        "media::audio::Français (fr)",
        "media::image::English (en) |",
    ]
)
_ML_SAFE = " | ".join(
    [
        "| | select_one yn",
        "safe",
        "Do you feel safe at school?",
        "Te sens-tu en sécurité à l'école ?",
        "Pick one.",
        "Choisis une réponse.",
        "safe_en.mp3",
        "safe_fr.mp3",
        "school.png |",
    ]
)
MULTILINGUAL = f"""
| survey |
{_ML_HEADER}
{_ML_SAFE}
| | note | bye | Thank you! | Merci ! | | | bye_en.mp3 | bye_fr.mp3 | |
| choices |
| | list_name | name | label::English (en) | label::Français (fr) | media::audio::English (en) |
| | yn | yes | Yes | Oui | yes_en.mp3 |
| | yn | no | No | Non | no_en.mp3 |
| settings |
| | form_title | form_id | version | default_language |
| | Safety | safety | 2 | English (en) |
"""

# X2 groups (sections, field-list pages) and relevance
GROUPS = """
| survey |
| | type | name | label | relevant | appearance | sensitivity | min_band | notice | skippable |
| | begin_group | warmup | Warm-up | | | | | | |
| | integer | age | How old are you? | | | | | | |
| | select_one yn | phone | Do you have a phone? | | | | | | |
| | end_group | | | | | | | | |
| | begin_group | hard | Hard things | ${age} >= 11 | | | | The next part is about hard things. You can skip it. | yes |
| | begin_group | together | Two questions | | field-list | | | | |
| | select_one yn | told | Would you tell someone? | | | S2 | B | | |
| | text | how | How would you tell them? | ${told} = 'yes' | | S2 | B | | |
| | end_group | | | | | | | | |
| | end_group | | | | | | | | |
| | begin_group | end | The end | | | | | | |
| | note | thanks | Thank you | | | | | | |
| | end_group | | | | | | | | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
"""

# X3 cascading choice_filter
CASCADE = """
| survey |
| | type | name | label | choice_filter |
| | select_one region | region | Region | |
| | select_one district | district | District | region = ${region} |
| choices |
| | list_name | name | label | region |
| | region | north | North | |
| | region | south | South | |
| | district | n1 | North one | north |
| | district | n2 | North two | north |
| | district | s1 | South one | south |
"""

# X4 Arabic labels
ARABIC = """
| survey |
| | type | name | label::English (en) | label::العربية (ar) |
| | select_one yn | q1 | Do you like school? | هل تحب المدرسة؟ |
| choices |
| | list_name | name | label::English (en) | label::العربية (ar) |
| | yn | yes | Yes | نعم |
| | yn | no | No | لا |
| settings |
| | default_language | sauti_languages |
| | English (en) | en=approved ar=translated |
"""

# X5 likert and matrix appearances
LIKERT_MATRIX = """
| survey |
| | type | name | label | appearance | band_choices |
| | select_one agree5 | fun | School is fun | likert | A=faces3 |
| | begin_group | ways | How do you feel about these? | table-list | |
| | select_one faces3 | ways_phone | Phone | | |
| | select_one faces3 | ways_chat | Chat | | |
| | end_group | | | | |
| choices |
| | list_name | name | label |
| | agree5 | 1 | Strongly disagree |
| | agree5 | 2 | Disagree |
| | agree5 | 3 | Neither |
| | agree5 | 4 | Agree |
| | agree5 | 5 | Strongly agree |
| | faces3 | sad | Sad |
| | faces3 | ok | OK |
| | faces3 | happy | Happy |
"""

# X6 repeats
REPEATS = """
| survey |
| | type | name | label |
| | begin_repeat | home | Home |
| | begin_repeat | room | Room |
| | begin_repeat | shelf | Shelf |
| | text | thing | Thing |
| | end_repeat | | |
| | end_repeat | | |
| | end_repeat | | |
"""

# X7 duplicate choice names
DUPLICATE_CHOICES = """
| survey |
| | type | name | label |
| | select_one yn | q1 | Question |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
| | yn | yes | Yes again |
"""

# X8 a broken expression
BROKEN_EXPRESSION = """
| survey |
| | type | name | label | relevant |
| | integer | age | Age | |
| | text | why | Why? | ${age} > > 3 |
"""

KOBO_STYLE = """
| survey |
| | type | name | label | required | guidance_hint | parameters | default |
| | start | start | | | | | |
| | deviceid | device | | | | | |
| | geopoint | where | Where are you? | | | | |
| | select_one yn or_other | q1 | Pick | yes | Read it aloud | | |
| | rank yn | order | Put these in order | | | | |
| | range | score | Score | | | start=1 end=5 step=1 | 3 |
| | decimal | height | Height | true() | | | |
| | calculate | double | | | | | |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
"""


def test_x1_multilingual_with_audio():
    result = import_xlsform(MULTILINGUAL)
    inst = result.instrument
    assert inst.language_codes == ("en", "fr")
    assert inst.language("fr").name == "Français"
    assert inst.id == "safety" and inst.version == "2"
    safe = inst.item("safe")
    assert safe.label_for("fr") == "Te sens-tu en sécurité à l'école ?"
    assert safe.hint_for("en") == "Pick one."
    assert safe.media.audio == {"en": "safe_en.mp3", "fr": "safe_fr.mp3"}
    assert safe.media.image == {"en": "school.png"}
    assert inst.choices_for(safe)[0].media.audio == {"en": "yes_en.mp3"}
    assert inst.item("bye").type is ItemType.NOTE
    # no approved language in a plain XLSForm: statuses start as draft
    assert all(lang.status is LanguageStatus.DRAFT for lang in inst.languages)


def test_form_with_only_translated_labels_takes_its_first_language_as_default():
    md = """
| survey |
| | type | name | label::Français (fr) | label::Wolof (wo) |
| | text | q | Qu'est-ce qui aide ? | Lan moo lay dimbali? |
"""
    inst = import_xlsform(md).instrument
    assert inst.settings.default_language == "fr"
    assert inst.language_codes == ("fr", "wo")
    assert inst.item("q").label_for("en", None, "fr") == "Qu'est-ce qui aide ?"


def test_x2_groups_become_sections_and_field_lists_pages():
    inst = import_xlsform(GROUPS).instrument
    assert [s.name for s in inst.sections] == ["warmup", "hard", "end"]
    assert [p.name for p in inst.sections[0].pages] == ["age", "phone"]
    hard = inst.sections[1]
    assert hard.relevance == "${age} >= 11"
    assert hard.skippable and hard.notice["en"].startswith("The next part")
    assert [p.name for p in hard.pages] == ["together"]
    assert [i.name for i in hard.pages[0].items] == ["told", "how"]
    how = inst.item("how")
    assert how.relevance == "${told} = 'yes'"
    assert how.sensitivity is Sensitivity.S2 and how.min_band == "B"
    assert [i.name for i in inst.items_for_band("A")] == ["age", "phone", "thanks"]
    assert len(inst.pages_for_band("B")) == 4


def test_x3_cascading_choice_filter():
    inst = import_xlsform(CASCADE).instrument
    district = inst.item("district")
    assert district.choice_filter == "region = ${region}"
    choices = inst.choices_for(district)
    assert [c.extra.get("region") for c in choices] == ["north", "north", "south"]
    from instruments import evaluate_bool

    shown = [
        c.name
        for c in choices
        if evaluate_bool(district.choice_filter, {"region": "north"}, choice={"name": c.name, **c.extra})
    ]
    assert shown == ["n1", "n2"]


def test_x4_arabic_labels_are_rtl():
    inst = import_xlsform(ARABIC).instrument
    arabic = inst.language("ar")
    assert arabic.direction is Direction.RTL
    assert arabic.status is LanguageStatus.TRANSLATED
    assert inst.language("en").status is LanguageStatus.APPROVED
    assert inst.item("q1").label_for("ar") == "هل تحب المدرسة؟"
    assert inst.choices_for("q1")[0].label_for("ar") == "نعم"


def test_x5_likert_and_matrix():
    inst = import_xlsform(LIKERT_MATRIX).instrument
    fun = inst.item("fun")
    assert fun.type is ItemType.LIKERT and fun.appearance is None
    assert [c.name for c in inst.choices_for(fun, "A")] == ["sad", "ok", "happy"]
    assert len(inst.choices_for(fun, "B")) == 5
    ways = inst.item("ways")
    assert ways.type is ItemType.MATRIX
    assert ways.label_for("en") == "How do you feel about these?"
    assert [r.name for r in inst.rows_for(ways)] == ["phone", "chat"]
    assert "ways_phone" in inst.answer_names() and "ways_chat" in inst.answer_names()


def test_x6_a_repeat_in_a_repeat_in_a_repeat_is_refused_with_its_row():
    with pytest.raises(InstrumentError) as info:
        import_xlsform(REPEATS)
    issue = info.value.issues[0]
    assert issue.code is IssueCode.REPEAT_UNSUPPORTED
    assert "survey sheet, row 4, column type (shelf)" in issue.location
    assert "end repeat" in issue.fix


def test_x7_duplicate_choice_names_name_the_row():
    with pytest.raises(InstrumentError) as info:
        import_xlsform(DUPLICATE_CHOICES)
    issue = info.value.issues[0]
    assert issue.code is IssueCode.DUPLICATE_CHOICE
    assert "choices sheet, row 4, column name" in issue.location
    assert "rows 2 and 4" in issue.message


def test_x8_broken_expression_names_row_and_column():
    with pytest.raises(InstrumentError) as info:
        import_xlsform(BROKEN_EXPRESSION)
    codes = info.value.codes
    assert codes & {IssueCode.EXPRESSION_SYNTAX, IssueCode.XLSFORM_INVALID}
    text = str(info.value)
    assert "row 3" in text


def test_unknown_reference_is_located():
    md = """
| survey |
| | type | name | label | constraint |
| | integer | age | Age | . < ${nope} |
"""
    with pytest.raises(InstrumentError) as info:
        import_xlsform(md)
    # pyxform itself already refuses unknown ${names}; either way the row is named
    assert "row 2" in str(info.value)


def test_kobo_style_form_drops_what_is_unsupported_with_warnings():
    result = import_xlsform(
        KOBO_STYLE.replace("| | calculate | double | | | | | |", "| | note | double | Done | | | | |")
    )
    inst = result.instrument
    codes = {w.code for w in result.warnings}
    assert {IssueCode.UNSUPPORTED_TYPE, IssueCode.REQUIRED_DROPPED, IssueCode.UNSUPPORTED_COLUMN} <= codes
    types = [w for w in result.warnings if w.code is IssueCode.UNSUPPORTED_TYPE]
    assert any("start" in w.message and "row" in w.location for w in types)
    assert any("geopoint" in w.message and "rows 4" in w.location for w in types)
    required = next(w for w in result.warnings if w.code is IssueCode.REQUIRED_DROPPED)
    assert "rows 5, 8" in required.location
    column = next(w for w in result.warnings if w.code is IssueCode.UNSUPPORTED_COLUMN)
    assert "guidance_hint" in column.location
    # or_other: the extra choice and the "specify other" text item
    assert [c.name for c in inst.choices_for("q1")][-1] == "other"
    assert inst.item("q1_other").type is ItemType.TEXT
    assert inst.item("order").type is ItemType.RANK
    score = inst.item("score")
    assert score.type is ItemType.RANGE and score.default == "3"
    assert dict(score.parameters) == {"start": "1", "end": "5", "step": "1"}
    assert "where" not in [i.name for i in inst.items]


def test_required_is_an_error_in_strict_mode():
    md = """
| survey |
| | type | name | label | required |
| | text | q | Q | yes |
| | text | r | R | no |
"""
    with pytest.raises(InstrumentError) as info:
        import_xlsform(md, strict_required=True)
    assert info.value.code is IssueCode.REQUIRED_ITEM
    assert "rows 2" in info.value.issues[0].location


def test_calculate_items_keep_their_calculation():
    md = """
| survey |
| | type | name | label | calculation |
| | integer | a | A | |
| | calculate | twice | | ${a} * 2 |
"""
    inst = import_xlsform(md).instrument
    assert inst.item("twice").calculation == "${a} * 2"
    assert "twice" in inst.answer_names()


def test_max_choices_from_count_selected_constraint():
    md = """
| survey |
| | type | name | label | constraint |
| | select_multiple yn | q | Q | count-selected(.) <= 1 |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
| | yn | no | No |
"""
    item = import_xlsform(md).instrument.item("q")
    assert item.max_choices == 1 and item.constraint is None


def test_sauti_columns_band_variants_and_invalid_sensitivity():
    md = """
| survey |
| | type | name | label | label_A | sensitivity | max_band | research_only | allow_dont_know |
| | text | q | What would help a young person? | What would help? | S1 | B | no | yes |
"""
    item = import_xlsform(md).instrument.item("q")
    assert item.label_for("en", "A") == "What would help?"
    assert item.label_for("en", "B") == "What would help a young person?"
    assert item.max_band == "B" and item.allow_dont_know and not item.research_only
    with pytest.raises(InstrumentError) as info:
        import_xlsform(md.replace("| S1 |", "| S9 |"))
    assert info.value.code is IssueCode.INVALID_SENSITIVITY
    assert "row 2, column sensitivity" in info.value.issues[0].location


def test_xlsx_file_written_with_openpyxl(simple_xlsx):
    result = load_instrument(simple_xlsx)
    inst = result.instrument
    assert [i.name for i in inst.items] == ["likes", "why"]
    assert inst.id == "simple"  # from the file name


def test_xlsx_bytes_and_file_objects(simple_xlsx):
    data = simple_xlsx.read_bytes()
    assert import_xlsform(data).instrument == import_xlsform(io.BytesIO(data)).instrument


def test_csv_form(tmp_path):
    csv = (
        "survey,,,\n,type,name,label\n,select_one yn,q1,Do you?\n"
        "choices,,,\n,list_name,name,label\n,yn,yes,Yes\n,yn,no,No\n"
    )
    path = tmp_path / "form.csv"
    path.write_text(csv, encoding="utf-8")
    inst = load_instrument(path).instrument
    assert [c.name for c in inst.choices_for("q1")] == ["yes", "no"]


def test_xls_goes_through_the_xls_reader(tmp_path):
    # No writer for the legacy BIFF format is installed; a damaged .xls proves the
    # .xls path (xlrd) is taken and fails cleanly.
    path = tmp_path / "form.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InstrumentError) as info:
        load_instrument(path)
    assert info.value.code is IssueCode.FILE_UNREADABLE
    assert ".xls workbook" in str(info.value)


def test_missing_survey_sheet():
    data = workbook_bytes({"choices": SIMPLE_SHEETS["choices"]})
    with pytest.raises(InstrumentError) as info:
        import_xlsform(data)
    assert info.value.code in {IssueCode.MISSING_SHEET, IssueCode.XLSFORM_INVALID}


def test_pyxform_errors_keep_the_row():
    md = """
| survey |
| | type | name | label |
| | select_one nolist | q | Q |
| choices |
| | list_name | name | label |
| | yn | yes | Yes |
"""
    with pytest.raises(InstrumentError) as info:
        import_xlsform(md)
    assert info.value.code is IssueCode.XLSFORM_INVALID
    assert "nolist" in info.value.issues[0].message


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "form.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(InstrumentError) as info:
        import_xlsform(path)
    assert info.value.code is IssueCode.FILE_TYPE_UNSUPPORTED


# ----------------------------------------------------------------------------
# hostile input: refused with a clear InstrumentError (how fast: bench/guard_speed.py)
# ----------------------------------------------------------------------------
def _refused(source, code, **kwargs):
    with pytest.raises(InstrumentError) as info:
        import_xlsform(source, **kwargs)
    assert info.value.code is code, str(info.value)
    return info.value


def test_binary_garbage():
    _refused(bytes(range(256)) * 40, IssueCode.FILE_UNREADABLE)
    _refused(b"PK\x03\x04" + b"\xff" * 1000, IssueCode.FILE_UNREADABLE)
    _refused(b"", IssueCode.FILE_UNREADABLE)


def test_too_large_file(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"\0" * (MAX_XLSFORM_BYTES + 1))
    _refused(path, IssueCode.FILE_TOO_LARGE)


def test_zip_bomb_xlsx():
    base = workbook_bytes(SIMPLE_SHEETS)
    bomb = rewrite_zip(base, {}, add={"xl/media/padding.bin": b"\0" * (80 * 1024 * 1024)})
    assert len(bomb) < MAX_XLSFORM_BYTES
    error = _refused(bomb, IssueCode.ARCHIVE_UNSAFE)
    assert "zip bomb" in str(error)


def test_high_ratio_part_is_refused():
    base = workbook_bytes(SIMPLE_SHEETS)
    bomb = rewrite_zip(base, {}, add={"xl/media/padding.bin": b"\0" * (20 * 1024 * 1024)})
    _refused(bomb, IssueCode.ARCHIVE_UNSAFE)


def test_xxe_xlsx():
    base = workbook_bytes(SIMPLE_SHEETS)
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        shared = archive.read("xl/worksheets/sheet1.xml")
    evil = shared.replace(
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        1,
    )
    if evil == shared:  # openpyxl writes a different prolog: prepend instead
        evil = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + shared
    data = rewrite_zip(base, {"xl/worksheets/sheet1.xml": evil})
    error = _refused(data, IssueCode.XML_UNSAFE)
    assert "DTD" in str(error)


def test_billion_laughs_in_workbook_xml():
    base = workbook_bytes(SIMPLE_SHEETS)
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        workbook = archive.read("xl/workbook.xml")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    body = workbook.split(b"?>", 1)[1] if workbook.startswith(b"<?xml") else workbook
    data = rewrite_zip(base, {"xl/workbook.xml": laughs + body})
    _refused(data, IssueCode.XML_UNSAFE)


def test_huge_row_count_xlsx():
    rows = [["type", "name", "label"]] + [["note", f"n{i}", "x"] for i in range(MAX_ROWS + 10)]
    data = workbook_bytes({"survey": rows})
    _refused(data, IssueCode.TOO_MANY_ROWS)


def test_huge_markdown_and_csv():
    md = "| survey |\n| | type | name | label |\n" + "| | note | n | x |\n" * (MAX_ROWS * 3)
    _refused(md, IssueCode.TOO_MANY_ROWS)
    _refused(b"survey,type\n\x00\x00", IssueCode.FILE_UNREADABLE, file_type="csv")


@pytest.mark.parametrize("depth", [30, 1500])
def test_deeply_nested_groups_do_not_crash(depth):
    rows = "".join(f"| | begin_group | g{i} | |\n" for i in range(depth))
    rows += "| | note | n | x |\n" + "| | end_group | | |\n" * depth
    md = "| survey |\n| | type | name | label |\n" + rows
    try:
        result = import_xlsform(md)
    except InstrumentError:
        return
    assert [i.name for i in result.instrument.items] == ["n"]


@pytest.mark.parametrize(
    "junk",
    [
        "| survey |\n| | type | name |\n| | integer |  |\n",
        "| survey |\n| | name | label |\n| | q | Q |\n",
        "| settings |\n| | form_id |\n| | x |\n",
        "| survey |\n| | type | name | label |\n| | select_one | q | Q |\n",
        "| survey |\n| | type | name | label |\n| | begin_group | g | G |\n",
        "| survey |\n| | type | name | label |\n| | end_group | | |\n",
        "just some text\nwith lines\n",
        "a,b,c\n1,2,3\n",
    ],
)
def test_malformed_forms_raise_instrument_error_only(junk):
    with pytest.raises(InstrumentError):
        import_xlsform(junk)


# ----------------------------------------------------------------------------
# export and round trips
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("form", [MULTILINGUAL, GROUPS, CASCADE, ARABIC, LIKERT_MATRIX])
def test_import_export_import_is_equal(form, tmp_path):
    first = import_xlsform(form).instrument
    path = tmp_path / "again.xlsx"
    export_xlsform(first, path)
    second = import_xlsform(path).instrument
    assert second.items == first.items
    assert second.choice_lists == first.choice_lists
    assert second.content_hash == first.content_hash
    assert [s.name for s in second.sections] == [s.name for s in first.sections]


def test_bundled_round_trips_through_xlsform(tmp_path):
    inst = load_bundled()
    path = tmp_path / "bundled.xlsx"
    export_xlsform(inst, path)
    again = import_xlsform(path)
    assert again.instrument == inst
    assert again.report.ok


def test_export_is_a_real_xlsform_pyxform_accepts(tmp_path):
    from pyxform.xls2xform import convert

    path = tmp_path / "bundled.xlsx"
    export_xlsform(load_bundled(), path)
    result = convert(str(path), validate=False)
    assert "<h:html" in result.xform
    assert "CH2_helpline" in result.xform


# ----------------------------------------------------------------------------
# real legacy .xls files (BIFF8 in OLE2, written by tests/instruments/xls_writer.py)
# ----------------------------------------------------------------------------
def test_real_xls_file_imports_like_the_xlsx(tmp_path):
    from .xls_writer import ole_wrap, xls_bytes

    sheets = {
        "survey": [
            ["type", "name", "label::English (en)", "label::Kiswahili (sw)", "relevant"],
            ["select_one yn", "likes", "Do you like school?", "Unapenda shule?", None],
            ["text", "why", "Why?", "Kwa nini?", "${likes} = 'yes'"],
        ],
        "choices": [
            ["list_name", "name", "label::English (en)", "label::Kiswahili (sw)"],
            ["yn", "yes", "Yes", "Ndiyo"],
            ["yn", "no", "No", "Hapana"],
        ],
    }
    path = tmp_path / "form.xls"
    path.write_bytes(ole_wrap(xls_bytes(sheets)))
    from_xls = load_instrument(path).instrument
    xlsx = tmp_path / "form.xlsx"
    xlsx.write_bytes(workbook_bytes(sheets))
    assert from_xls == load_instrument(xlsx).instrument
    assert from_xls.item("likes").label_for("sw") == "Unapenda shule?"
    # bytes without a name are recognised by their OLE2 signature
    assert import_xlsform(path.read_bytes()).instrument.items == from_xls.items


def test_xls_with_too_many_rows_is_refused_before_pyxform():
    from .xls_writer import ole_wrap, xls_bytes

    rows = [["type", "name", "label"]] + [["note", f"n{i}", "x"] for i in range(MAX_ROWS + 5)]
    _refused(ole_wrap(xls_bytes({"survey": rows})), IssueCode.TOO_MANY_ROWS)


def test_text_starting_with_equals_is_exported_as_text_not_a_formula(tmp_path):
    md = """
| survey |
| | type | name | label |
| | select_one yn | q | =1+1 is two? |
| choices |
| | list_name | name | label |
| | yn | yes | =HYPERLINK("http://x") |
| | yn | no | No |
"""
    inst = import_xlsform(md).instrument
    path = tmp_path / "eq.xlsx"
    export_xlsform(inst, path)
    from openpyxl import load_workbook

    sheet = load_workbook(path)["choices"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert import_xlsform(path).instrument == inst


# ----------------------------------------------------------------------------
# fuzzing: any markdown form either imports or raises InstrumentError
# ----------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_cell = st.one_of(
    st.sampled_from(
        [
            "",
            "text",
            "integer",
            "note",
            "select_one yn",
            "select_multiple yn",
            "rank yn",
            "begin_group",
            "end_group",
            "begin_repeat",
            "calculate",
            "range",
            "date",
            "select_one nope",
            "q1",
            "q2",
            "g",
            "${q1} = 'yes'",
            "${q9}",
            ". > 3",
            "S2",
            "S9",
            "B",
            "Z",
            "yes",
            "field-list",
            "table-list",
            "likert",
            "start=1 end=5",
            "1 + ",
            "((",
        ]
    ),
    st.text(alphabet=st.characters(exclude_characters="|\n\r"), max_size=12),
)


_typed_row = st.tuples(
    st.sampled_from(
        [
            "text",
            "integer",
            "decimal",
            "note",
            "select_one yn",
            "select_multiple yn",
            "rank yn",
            "begin_group",
            "end_group",
            "range",
            "calculate",
            "select_one yn or_other",
            "date",
            "begin_repeat",
            "end_repeat",
        ]
    ),
    st.sampled_from(["q1", "q2", "q3", "g", "g_a", "g_b", "1x", ""]),
    st.sampled_from(["Label", "", "Étiquette", "سؤال"]),
    st.sampled_from(
        [
            "",
            "${q1} = 'yes'",
            "${q2} > 1",
            "${q3}",
            "${q9}",
            "selected(${q1}, 'no')",
            "(",
            ". > 1",
            "count-selected(${q2}) > 1",
        ]
    ),
    st.sampled_from(["", "S0", "S2", "S3", "x"]),
    st.sampled_from(["", "field-list", "table-list", "likert", "minimal"]),
).map(list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_typed_row, st.lists(_cell, min_size=6, max_size=6)), min_size=1, max_size=8), st.booleans())
def test_fuzzed_markdown_forms_never_crash(rows, with_choices):
    header = "| | type | name | label | relevant | sensitivity | appearance |"
    body = "\n".join("| | " + " | ".join(c.strip() for c in row) + " |" for row in rows)
    md = f"| survey |\n{header}\n{body}\n"
    if with_choices:
        md += "| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n| | yn | no | No |\n"
    try:
        result = import_xlsform(md)
    except InstrumentError:
        return
    assert result.instrument.items is not None

"""The native YAML format: schema, round trips (including a hypothesis property),
safe YAML loading."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instruments import (
    Choice,
    Instrument,
    InstrumentError,
    IssueCode,
    Item,
    ItemType,
    Language,
    Page,
    Section,
    Text,
    dump_native,
    load_bundled,
    load_instrument,
    load_native,
)
from instruments.native import MAX_NATIVE_BYTES, instrument_to_dict, schema

MINIMAL = """
sauti: 1
id: mini
version: 3
languages: [{code: en, status: approved}, {code: "no", name: Norsk}]
choice_lists:
  yn:
    - {name: yes, label: {en: Yes, "no": Ja}}
    - {name: no, label: {en: No, "no": Nei}}
    - {name: 1, label: One}
    - {name: 2, label: 2}
sections:
  - name: main
    items:
      - {name: q1, type: select_one, label: "Do you like school?", choices: yn}
"""


def test_minimal_file_loads_and_yes_no_stay_strings():
    inst = load_native(MINIMAL).instrument
    assert inst.version == "3"
    assert inst.language_codes == ("en", "no")
    assert [c.name for c in inst.choice_lists["yn"]] == ["yes", "no", "1", "2"]
    assert inst.choice_lists["yn"][3].label == {"en": "2"}
    assert inst.choice_lists["yn"][0].label == {"en": "Yes", "no": "Ja"}
    # a plain string is the default language
    assert inst.item("q1").label == {"en": "Do you like school?"}


def test_round_trip_of_the_bundled_instrument():
    inst = load_bundled()
    text = dump_native(inst)
    again = load_native(text).instrument
    assert again == inst
    assert dump_native(again) == text


def test_dump_validates_against_the_schema():
    import jsonschema

    jsonschema.validate(instrument_to_dict(load_bundled()), schema())


def test_path_loading(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_instrument(path).instrument.id == "mini"
    assert load_native(path.read_bytes()).instrument.id == "mini"


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("sauti: 1\nid: [oops\n", IssueCode.YAML_INVALID, "line"),
        ("- just\n- a list\n", IssueCode.SCHEMA_INVALID, "top"),
        (MINIMAL.replace("type: select_one", "type: photo"), IssueCode.SCHEMA_INVALID, "sections[0].items[0].type"),
        (MINIMAL.replace("choices: yn}", "choices: yn, required: true}"), IssueCode.SCHEMA_INVALID, "required"),
        (
            MINIMAL.replace("sensitivity", "x").replace("choices: yn}", "choices: yn, sensitivity: S9}"),
            IssueCode.SCHEMA_INVALID,
            "sensitivity",
        ),
        ("a: &x [1]\nb: *x\n", IssueCode.YAML_INVALID, "line"),
        (MINIMAL.replace("choices: yn}", "choices: nope}"), IssueCode.MISSING_CHOICE_LIST, "item q1"),
    ],
)
def test_errors_are_coded_and_located(text, code, where):
    with pytest.raises(InstrumentError) as info:
        load_native(text)
    assert info.value.code is code
    assert where in str(info.value)


def test_required_message_explains_the_rule():
    with pytest.raises(InstrumentError) as info:
        load_native(MINIMAL.replace("choices: yn}", "choices: yn, required: true}"))
    assert "mandatory" in info.value.issues[0].message


def test_billion_laughs_yaml_is_refused_quickly():
    lol = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lol += f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(InstrumentError) as info:
        load_native(lol)
    assert info.value.code is IssueCode.YAML_INVALID


def test_too_large_and_binary(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_NATIVE_BYTES + 1))
    with pytest.raises(InstrumentError) as info:
        load_native(path)
    assert info.value.code is IssueCode.FILE_TOO_LARGE
    with pytest.raises(InstrumentError) as info:
        load_native(b"\xff\xfe\x00garbage\n")
    assert info.value.code is IssueCode.FILE_UNREADABLE
    with pytest.raises(InstrumentError) as info:
        load_native(tmp_path / "missing.yaml")
    assert info.value.code is IssueCode.FILE_UNREADABLE


# --- property: any instrument built from the model survives dump -> load ---------
_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
# words joined by single spaces: XLSForm readers collapse runs of whitespace
# and pyxform straightens typographic quotes (‘ ’ “ ”)
_word = st.text(
    alphabet=st.characters(categories=("L", "N", "P"), exclude_characters="\u2018\u2019\u201c\u201d"),
    min_size=1,
    max_size=8,
)
_words = st.lists(_word, min_size=1, max_size=4).map(" ".join)
_texts = st.builds(lambda en, fr: Text(en=en, fr=fr), _words, st.one_of(st.none(), _words))


@st.composite
def instruments_(draw):
    names = draw(st.lists(_names, min_size=1, max_size=6, unique=True))
    items = []
    for name in names:
        kind = draw(
            st.sampled_from(
                [ItemType.TEXT, ItemType.SELECT_ONE, ItemType.INTEGER, ItemType.NOTE, ItemType.SELECT_MULTIPLE]
            )
        )
        items.append(
            Item(
                name=name,
                type=kind,
                label=draw(_texts),
                hint=draw(st.one_of(st.just(Text()), _texts)),
                label_bands=draw(st.dictionaries(st.sampled_from("ABC"), _texts, max_size=2)),
                choices="yn" if kind.has_choices else None,
                min_band=draw(st.sampled_from([None, "A", "B", "C"])),
                sensitivity=draw(st.sampled_from(["S0", "S1"])),
                allow_dont_know=draw(st.booleans()),
                max_choices=2 if kind is ItemType.SELECT_MULTIPLE and draw(st.booleans()) else None,
            )
        )
    split = draw(st.integers(min_value=1, max_value=len(items)))
    pages = tuple(Page(i.name, (i,)) for i in items[:split])
    pages2 = (Page("rest_page", tuple(items[split:])),) if items[split:] else ()
    sections = (Section("s_one", pages, title=draw(_texts)),)
    if pages2:
        sections += (Section("s_two", pages2),)
    choices = (Choice("yes", draw(_texts)), Choice("no", draw(_texts)))
    return Instrument(
        id="prop",
        version=str(draw(st.integers(0, 99))),
        title=draw(_texts),
        languages=(Language("en", "English", status="approved"), Language("fr", "Français", status="translated")),
        sections=sections,
        choice_lists={"yn": choices},
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instruments_())
def test_dump_load_round_trip_property(inst):
    again = load_native(dump_native(inst)).instrument
    assert again == inst
    assert again.content_hash == inst.content_hash


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instruments_())
def test_xlsform_export_import_round_trip_property(inst):
    import io

    from instruments import export_xlsform, import_xlsform

    buffer = io.BytesIO()
    export_xlsform(inst, buffer)
    again = import_xlsform(buffer.getvalue()).instrument
    assert again == inst

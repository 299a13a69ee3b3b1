"""Issue 16: no phone number in child-facing text (helplines come from the country profile
through placeholders), and no question that keeps a child's exact age outside research mode."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from instruments import IssueCode, Severity, load_bundled, validate
from instruments.model import Choice, Item, Page, Section, Text
from instruments.native import instrument_from_dict
from instruments.placeholders import PLACEHOLDERS, fill_instrument, phone_numbers_in
from instruments.validate import asks_exact_age, child_facing_texts

LANGS = ("en", "fr", "es", "ar", "sw")


@pytest.fixture(scope="module")
def bundled():
    return load_bundled()


# ----------------------------------------------------------------------------- the bundled one
def test_the_bundled_instrument_writes_no_phone_number_in_any_language(bundled) -> None:
    found = [
        (where, lang, phone_numbers_in(value))
        for where, text in child_facing_texts(bundled)
        for lang, value in text.items()
        if phone_numbers_in(value)
    ]
    assert found == []
    codes = validate(bundled).codes()
    assert IssueCode.PHONE_NUMBER not in codes and IssueCode.UNKNOWN_PLACEHOLDER not in codes
    assert IssueCode.PLACEHOLDER_MISMATCH not in codes


@pytest.mark.parametrize(
    ("item", "band", "placeholder"),
    [("AW1", None, "{helpline}"), ("AW1", "A", "{helpline}"), ("EV5_help", None, "{helplines}")],
)
def test_the_bundled_helpline_texts_use_the_placeholder_in_every_language(bundled, item, band, placeholder) -> None:
    for lang in LANGS:
        assert placeholder in bundled.item(item).label_for(lang, band), (item, band, lang)


def test_the_bundled_instrument_asks_no_exact_age(bundled) -> None:
    assert "DM1" not in {i.name for i in bundled.items}
    assert [i.name for i in bundled.items if asks_exact_age(bundled, i)] == []
    assert IssueCode.EXACT_AGE not in validate(bundled).codes()
    assert validate(bundled).ok  # still valid, translations still complete
    for lang in bundled.languages:
        if lang.code != "en":
            assert IssueCode.MISSING_TRANSLATION not in validate(bundled).codes()


def test_filling_uses_each_languages_values(bundled) -> None:
    values = {lang: {"helpline": f"Line {lang} (0{i}0 1)", "helplines": f"All {lang}"} for i, lang in enumerate(LANGS)}
    filled = fill_instrument(bundled, values)
    for lang in LANGS:
        assert values[lang]["helpline"] in filled.item("AW1").label[lang]
        assert values[lang]["helpline"] in filled.item("AW1").label_bands["A"][lang]
        assert f"All {lang}" in filled.item("EV5_help").label[lang]
    assert filled.answer_names() == bundled.answer_names()  # the same questions and answers
    assert fill_instrument(filled, values) is filled  # nothing left to fill


# ----------------------------------------------------------------------------- the lint
BASE = {
    "sauti": 1,
    "id": "t",
    "version": "1",
    "languages": [
        {"code": "en", "name": "English", "status": "approved"},
        {"code": "fr", "name": "Français", "status": "translated"},
        {"code": "ar", "name": "العربية", "direction": "rtl", "status": "translated"},
    ],
    "settings": {"audio_fallback": "tts"},
    "choice_lists": {
        "yn": [
            {"name": "yes", "label": {"en": "Yes", "fr": "Oui", "ar": "نعم"}},
            {"name": "no", "label": {"en": "No", "fr": "Non", "ar": "لا"}},
        ]
    },
    "sections": [
        {
            "name": "main",
            "items": [
                {
                    "name": "q1",
                    "type": "select_one",
                    "choices": "yn",
                    "label": {"en": "Do you know a helpline?", "fr": "Connais-tu une ligne ?", "ar": "هل تعرف خطاً؟"},
                    "hint": {"en": "Any one.", "fr": "N'importe laquelle.", "ar": "أي واحد."},
                },
                {
                    "name": "n1",
                    "type": "note",
                    "label": {
                        "en": "You can call {helplines}.",
                        "fr": "Tu peux appeler {helplines}.",
                        "ar": "يمكنك الاتصال بـ {helplines}.",
                    },
                },
            ],
        }
    ],
}


def _codes_with(change) -> list:
    data = copy.deepcopy(BASE)
    change(data)
    return validate(instrument_from_dict(data)).issues


def test_the_lint_knows_the_placeholders() -> None:
    assert set(PLACEHOLDERS) == {"helpline", "helplines"}
    issues = _codes_with(lambda d: None)
    assert not [
        i
        for i in issues
        if i.code in (IssueCode.PHONE_NUMBER, IssueCode.UNKNOWN_PLACEHOLDER, IssueCode.PLACEHOLDER_MISMATCH)
    ]
    unknown = _codes_with(lambda d: d["sections"][0]["items"][1]["label"].update(fr="Appelle {numero}."))
    [issue] = [i for i in unknown if i.code is IssueCode.UNKNOWN_PLACEHOLDER]
    assert issue.severity is Severity.ERROR and "item n1" in issue.location and "'fr'" in issue.message


def _set(path, lang, value):
    def change(d):
        target = d
        for key in path:
            target = target[key]
        target[lang] = value

    return change


@pytest.mark.parametrize(
    ("where", "path", "location"),
    [
        ("label", ("sections", 0, "items", 0, "label"), "item q1, label"),
        ("hint", ("sections", 0, "items", 0, "hint"), "item q1, hint"),
        ("note", ("sections", 0, "items", 1, "label"), "item n1, label"),
        ("choice", ("choice_lists", "yn", 0, "label"), "choice list yn, choice yes"),
    ],
)
@pytest.mark.parametrize(
    ("lang", "number"),
    [("en", "116 111"), ("fr", "0800 1111"), ("ar", "116"), ("fr", "+254 722 178 177"), ("ar", "١١٦ ١١١")],
)
def test_the_lint_refuses_a_phone_number_in_child_facing_text(where, path, location, lang, number) -> None:
    issues = _codes_with(_set(path, lang, f"Call {number} now"))
    found = [i for i in issues if i.code is IssueCode.PHONE_NUMBER]
    assert len(found) == 1, (where, lang, issues)
    issue = found[0]
    assert issue.severity is Severity.ERROR
    assert issue.location == location
    assert f"'{lang}'" in issue.message and number in issue.message and "{helpline}" in issue.fix


@pytest.mark.parametrize("text", ["Pick up to 3.", "Ages 8-10 and 11-13", "In 2026", "Choose 1, 2 or 3"])
def test_ordinary_numbers_are_not_phone_numbers(text) -> None:
    assert phone_numbers_in(text) == ()


# ----------------------------------------------------------------------------- exact ages
def _ages(*values: str) -> tuple[Choice, ...]:
    return tuple(Choice(v, Text(en=v)) for v in values)


def _with(item: Item, choices: dict | None = None, **settings):
    inst = instrument_from_dict(copy.deepcopy(BASE))
    lists = {**inst.choice_lists, **(choices or {})}
    extra = Section("about", (Page(item.name, (item,)),))
    return dataclasses.replace(
        inst,
        sections=(*inst.sections, extra),
        choice_lists=lists,
        settings=dataclasses.replace(inst.settings, **settings),
    )


@pytest.mark.parametrize(
    ("item", "choices"),
    [
        (Item("age", "integer", Text(en="How old are you?")), None),
        (Item("q9", "integer", Text(en="How old are you?", fr="Quel âge as-tu ?")), None),
        (Item("child_age", "decimal", Text(en="Your age")), None),
        (Item("q8", "text", Text(en="When were you born?")), None),
        (Item("q7", "text", Text(en="What is your date of birth?")), None),
        (Item("q5", "text", Text(fr="Quel âge as-tu ?", en="Tell us about you")), None),
        (Item("DM1", "select_one", Text(en="How old are you?"), choices="ages"), {"ages": _ages("8", "9", "10")}),
        (
            Item("yob", "select_one", Text(en="Which year were you born?"), choices="years"),
            {"years": _ages("2012", "2013", "2014")},
        ),
        (
            Item("q6", "range", Text(sw="Una umri gani?", en="How many years?"), parameters={"start": 8, "end": 17}),
            None,
        ),
    ],
)
def test_an_item_asking_the_exact_age_is_refused_outside_research_mode(item, choices) -> None:
    inst = _with(item, choices)
    assert asks_exact_age(inst, item)
    issues = [i for i in validate(inst).issues if i.code is IssueCode.EXACT_AGE]
    assert len(issues) == 1 and issues[0].severity is Severity.ERROR
    assert issues[0].location == f"item {item.name}" and item.name in issues[0].message
    # research mode alone is not enough: it needs the ethics reference too
    assert IssueCode.EXACT_AGE in validate(inst, research_mode=True).codes()
    assert IssueCode.EXACT_AGE not in validate(inst, research_mode=True, ethics_reference="REC-9").codes()
    research_only = _with(dataclasses.replace(item, research_only=True), choices)
    assert IssueCode.EXACT_AGE not in validate(research_only).codes()
    in_research = _with(item, choices, mode="research", ethics_reference="REC-9")
    assert IssueCode.EXACT_AGE not in validate(in_research).codes()


@pytest.mark.parametrize(
    ("item", "choices"),
    [
        (
            Item("band", "select_one", Text(en="How old are you?"), choices="bands"),
            {"bands": (Choice("a", Text(en="8-10")), Choice("b", Text(en="11-13")))},
        ),
        (Item("times", "integer", Text(en="How many times?")), None),
        (Item("BA4", "likert", Text(en="Would a young person your age tell someone?"), choices="yn"), None),
        (Item("older", "integer", Text(en="How many people could you tell?")), None),
        (Item("idea", "text", Text(en="What would help a young person your age to tell?")), None),
    ],
)
def test_questions_that_keep_no_exact_age_pass(item, choices) -> None:
    inst = _with(item, choices)
    assert not asks_exact_age(inst, item)
    assert IssueCode.EXACT_AGE not in validate(inst).codes()

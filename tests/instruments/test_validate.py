"""Validation and the authoring lint: every IssueCode is triggered by a fixture.

Requirement IDs: S-04 (nothing required), S-08 (S3 research only, min_band),
S-09 (notice before sensitive blocks, not last), D-01 (band variants), D-02
(reading level, jargon, negation, double-barrel), D-03 (scales), D-04 (audio),
D-05 (time budget), D-07 (language status), D-09 (pictograms with alt text).
"""

from __future__ import annotations

import copy
import io

import pytest

from instruments import (
    InstrumentError,
    IssueCode,
    Severity,
    import_xlsform,
    load_native,
    validate,
)
from instruments.native import instrument_from_dict
from instruments.validate import STRUCTURAL_CODES, estimate_minutes, grade_level

from .conftest import SIMPLE_SHEETS, rewrite_zip, workbook_bytes

BASE = {
    "sauti": 1,
    "id": "t",
    "version": "1",
    "languages": [{"code": "en", "name": "English", "status": "approved"}],
    "settings": {"audio_fallback": "tts"},
    "choice_lists": {"yn": [{"name": "yes", "label": "Yes"}, {"name": "no", "label": "No"}]},
    "sections": [
        {
            "name": "main",
            "items": [
                {"name": "q1", "type": "select_one", "label": "Do you like school?", "choices": "yn"},
                {"name": "q2", "type": "text", "label": "What is fun?"},
            ],
        }
    ],
}


def base() -> dict:
    return copy.deepcopy(BASE)


def items(d: dict) -> list[dict]:
    return d["sections"][0]["items"]


def report_codes(d: dict, **kwargs) -> set[IssueCode]:
    return validate(instrument_from_dict(d), **kwargs).codes()


def test_base_fixture_is_clean():
    assert report_codes(base()) == {IssueCode.MISSING_AUDIO}


def _mutate(fn):
    def run(**kwargs):
        d = base()
        fn(d)
        return report_codes(d, **kwargs)

    return run


def _duplicate(d):
    items(d).append(dict(items(d)[0]))


def _cycle(d):
    items(d)[0]["relevance"] = "${q2} = 'a'"
    items(d)[1]["relevance"] = "${q1} = 'yes'"


def _two_languages(status):
    def fn(d):
        d["languages"].append({"code": "fr", "name": "Français", "status": status})

    return fn


def _sensitive_block(d, notice=False):
    item = {"name": "hard", "type": "select_one", "label": "Would you tell?", "choices": "yn", "sensitivity": "S2"}
    section = {"name": "hard", "items": [item]}
    if notice:
        section.update(notice="The next part is hard. You can skip it.", skippable=True)
    d["sections"].insert(0, section)


def _likert(d):
    d["choice_lists"]["five"] = [{"name": str(i), "label": f"Point {i}"} for i in range(5)]
    items(d).append({"name": "scale", "type": "likert", "label": "Is school fun?", "choices": "five"})


def _xlsform_codes(md, **kwargs):
    def run():
        try:
            result = import_xlsform(md, **kwargs)
        except InstrumentError as exc:
            return exc.codes
        return {w.code for w in result.warnings} | result.report.codes()

    return run


def _native_codes(text):
    def run():
        try:
            load_native(text)
        except InstrumentError as exc:
            return exc.codes
        return set()

    return run


def _xlsx_codes(data):
    def run():
        try:
            import_xlsform(data)
        except InstrumentError as exc:
            return exc.codes
        return set()

    return run


_XLSX = workbook_bytes(SIMPLE_SHEETS)


def _two_languages_placeholder(d):
    d["languages"].append({"code": "fr", "name": "Français", "status": "translated"})
    items(d)[1]["label"] = {"en": "Would you call {helpline}?", "fr": "Appellerais-tu ?"}


TRIGGERS = {
    # structure
    IssueCode.DUPLICATE_NAME: _mutate(_duplicate),
    IssueCode.INVALID_NAME: _mutate(lambda d: items(d)[1].update(name="1bad")),
    IssueCode.MISSING_CHOICE_LIST: _mutate(lambda d: items(d)[0].update(choices="nope")),
    IssueCode.EMPTY_CHOICE_LIST: _mutate(lambda d: d["choice_lists"].update(empty=[])),
    IssueCode.DUPLICATE_CHOICE: _mutate(lambda d: d["choice_lists"]["yn"].append({"name": "yes", "label": "Yes!"})),
    IssueCode.RESERVED_CHOICE_NAME: _mutate(
        lambda d: d["choice_lists"]["yn"].append({"name": "_rns", "label": "Skip"})
    ),
    IssueCode.EXPRESSION_SYNTAX: _mutate(lambda d: items(d)[1].update(relevance="${q1} = = 1")),
    IssueCode.UNKNOWN_REFERENCE: _mutate(lambda d: items(d)[1].update(relevance="${nope} = 1")),
    IssueCode.FORWARD_REFERENCE: _mutate(lambda d: items(d)[0].update(relevance="string-length(${q2}) > 0")),
    IssueCode.REFERENCE_CYCLE: _mutate(_cycle),
    IssueCode.INVALID_BAND: _mutate(lambda d: items(d)[1].update(min_band="Z")),
    IssueCode.BAND_ORDER: _mutate(lambda d: items(d)[1].update(min_band="C", max_band="A")),
    IssueCode.MAX_CHOICES_INVALID: _mutate(lambda d: items(d)[0].update(max_choices=2)),
    IssueCode.RANGE_INVALID: _mutate(
        lambda d: items(d).append(
            {"name": "r", "type": "range", "label": "How much?", "parameters": {"start": 5, "end": 1}}
        )
    ),
    IssueCode.MISSING_LABEL: _mutate(lambda d: items(d)[1].pop("label")),
    IssueCode.LANGUAGE_UNKNOWN: _mutate(
        lambda d: items(d)[1].update(label={"en": "What is fun?", "de": "Was macht Spaß?"})
    ),
    # safeguarding
    IssueCode.S3_NEEDS_RESEARCH: _mutate(lambda d: items(d)[0].update(sensitivity="S3")),
    IssueCode.SENSITIVE_LAST_SECTION: _mutate(lambda d: items(d)[0].update(sensitivity="S2")),
    IssueCode.SENSITIVE_WITHOUT_NOTICE: _mutate(_sensitive_block),
    # helplines and ages (issue 16; more in test_helplines_and_ages.py)
    IssueCode.PHONE_NUMBER: _mutate(lambda d: items(d)[1].update(label="Call 116 111?")),
    IssueCode.UNKNOWN_PLACEHOLDER: _mutate(lambda d: items(d)[1].update(label="Call {hotline}?")),
    IssueCode.PLACEHOLDER_MISMATCH: _mutate(_two_languages_placeholder),
    IssueCode.EXACT_AGE: _mutate(
        lambda d: items(d).append({"name": "age", "type": "integer", "label": "How old are you?"})
    ),
    # lint
    IssueCode.MISSING_TRANSLATION: _mutate(_two_languages("translated")),
    IssueCode.MISSING_BAND_VARIANT: _mutate(lambda d: items(d)[1].update(shared=False)),
    IssueCode.MISSING_AUDIO: _mutate(lambda d: None),
    IssueCode.OVER_TIME_BUDGET: _mutate(lambda d: items(d)[1].update(minutes=30)),
    IssueCode.READING_LEVEL: _mutate(
        lambda d: items(d)[1].update(label="Which organisational characteristics would increase your confidence?")
    ),
    IssueCode.JARGON: _mutate(lambda d: items(d)[1].update(label="Who would you disclose it to?")),
    IssueCode.NEGATION: _mutate(lambda d: items(d)[1].update(label="Why would you not tell?")),
    IssueCode.DOUBLE_BARRELLED: _mutate(lambda d: items(d)[1].update(label="Do you like school? Do you like home?")),
    IssueCode.LIKERT_SCALE: _mutate(_likert),
    IssueCode.CHANNEL_PICTOGRAM: _mutate(
        lambda d: d["choice_lists"].update(channels=[{"name": "phone", "label": "Phone"}])
    ),
    IssueCode.TEXT_NAMES_NOTICE: _mutate(
        lambda d: d["languages"].append({"code": "pt", "name": "Português", "status": "draft"})
    ),
    IssueCode.LANGUAGE_NOT_APPROVED: lambda: _mutate(_two_languages("translated"))(launch_languages=["fr"]),
    IssueCode.NO_APPROVED_LANGUAGE: _mutate(lambda d: d["languages"][0].update(status="draft")),
    IssueCode.DEFAULT_ANSWER: _mutate(lambda d: items(d)[1].update(default="fun")),
    # reading native files
    IssueCode.SCHEMA_INVALID: _native_codes("sauti: 1\nid: x\n"),
    IssueCode.YAML_INVALID: _native_codes("sauti: 1\nid: [x\n"),
    # reading XLSForms
    IssueCode.FILE_TOO_LARGE: _xlsx_codes(b"x" * (10 * 1024 * 1024 + 1)),
    IssueCode.FILE_UNREADABLE: _xlsx_codes(b"PK\x03\x04garbage"),
    IssueCode.FILE_TYPE_UNSUPPORTED: lambda: _xlsform_codes(io.BytesIO(b"x"), file_type="pdf")(),
    IssueCode.ARCHIVE_UNSAFE: _xlsx_codes(rewrite_zip(_XLSX, {}, add={"xl/media/big.bin": b"\0" * (70 * 1024 * 1024)})),
    IssueCode.XML_UNSAFE: _xlsx_codes(
        rewrite_zip(_XLSX, {"xl/styles.xml": b'<!DOCTYPE x [<!ENTITY e "e">]><styleSheet/>'})
    ),
    IssueCode.TOO_MANY_ROWS: _xlsform_codes("| survey |\n| | type | name | label |\n" + "| | note | n | x |\n" * 20000),
    IssueCode.XLSFORM_INVALID: _xlsform_codes("| survey |\n| | type | name | label |\n| | integer | | No name |\n"),
    IssueCode.MISSING_SHEET: _xlsform_codes("| choices |\n| | list_name | name | label |\n| | yn | yes | Yes |\n"),
    IssueCode.REPEAT_UNSUPPORTED: _xlsform_codes(
        "| survey |\n| | type | name | label |\n| | begin_repeat | r | R |\n"
        "| | begin_repeat | r2 | R2 |\n| | begin_repeat | r3 | R3 |\n"
        "| | text | t | T |\n| | end_repeat | | |\n| | end_repeat | | |\n"
        "| | end_repeat | | |\n"
    ),
    IssueCode.UNSUPPORTED_TYPE: _xlsform_codes(
        "| survey |\n| | type | name | label |\n| | date | d | When? |\n| | note | n | Hi |\n"
    ),
    IssueCode.UNSUPPORTED_COLUMN: _xlsform_codes(
        "| survey |\n| | type | name | label | read_only |\n| | text | t | T | yes |\n"
    ),
    IssueCode.REQUIRED_DROPPED: _xlsform_codes(
        "| survey |\n| | type | name | label | required |\n| | text | t | T | yes |\n"
    ),
    IssueCode.REQUIRED_ITEM: _xlsform_codes(
        "| survey |\n| | type | name | label | required |\n| | text | t | T | yes |\n", strict_required=True
    ),
    IssueCode.DUPLICATE_CHOICE: _mutate(lambda d: d["choice_lists"]["yn"].append({"name": "no", "label": "No!"})),
    IssueCode.ATTACHMENT_EXPECTED: _xlsform_codes(
        "| survey |\n| | type | name | label |\n| | select_one_from_file towns.csv | t | Town? |\n"
    ),
    IssueCode.PYXFORM_WARNING: _xlsform_codes(
        "| survey |\n| | type | name | label::English (en) | label::Français (fr) "
        "| hint::English (en) |\n| | text | t | T | T | A hint |\n"
    ),
    IssueCode.INVALID_SENSITIVITY: _xlsform_codes(
        "| survey |\n| | type | name | label | sensitivity |\n| | text | t | T | S7 |\n"
    ),
}


def test_every_issue_code_has_a_trigger():
    assert set(TRIGGERS) == set(IssueCode)


@pytest.mark.parametrize("code", list(TRIGGERS), ids=[c.value for c in TRIGGERS])
def test_issue_code_is_triggered(code):
    assert code in TRIGGERS[code]()


def test_structural_errors_make_loading_fail():
    d = base()
    items(d)[1]["relevance"] = "${nope} = 1"
    from instruments.native import dump_native

    text = dump_native(instrument_from_dict(d))
    with pytest.raises(InstrumentError) as info:
        load_native(text)
    assert info.value.code is IssueCode.UNKNOWN_REFERENCE
    assert IssueCode.UNKNOWN_REFERENCE in STRUCTURAL_CODES


def test_policy_errors_are_reported_not_raised():
    d = base()
    items(d)[0]["sensitivity"] = "S3"
    from instruments.native import dump_native

    result = load_native(dump_native(instrument_from_dict(d)))
    assert IssueCode.S3_NEEDS_RESEARCH in result.report.codes()
    assert not result.report.ok


def test_s3_allowed_in_research_mode_with_ethics_reference_or_research_only():
    d = base()
    items(d)[0]["sensitivity"] = "S3"
    assert IssueCode.S3_NEEDS_RESEARCH in report_codes(d)
    assert IssueCode.S3_NEEDS_RESEARCH in report_codes(d, research_mode=True)
    assert IssueCode.S3_NEEDS_RESEARCH not in report_codes(d, research_mode=True, ethics_reference="ERC-2026-14")
    d["settings"].update(mode="research", ethics_reference="ERC-2026-14")
    assert IssueCode.S3_NEEDS_RESEARCH not in report_codes(d)
    d = base()
    items(d)[0].update(sensitivity="S3", research_only=True)
    assert IssueCode.S3_NEEDS_RESEARCH not in report_codes(d)


def test_sensitive_block_with_notice_and_cool_down_passes():
    d = base()
    _sensitive_block(d, notice=True)
    codes = report_codes(d)
    assert IssueCode.SENSITIVE_WITHOUT_NOTICE not in codes
    assert IssueCode.SENSITIVE_LAST_SECTION not in codes


def test_missing_translation_is_an_error_for_approved_languages():
    d = base()
    _two_languages("approved")(d)
    report = validate(instrument_from_dict(d))
    issue = report.by_code(IssueCode.MISSING_TRANSLATION)[0]
    assert issue.severity is Severity.ERROR and issue.blocks_approval
    d = base()
    _two_languages("translated")(d)
    issue = validate(instrument_from_dict(d)).by_code(IssueCode.MISSING_TRANSLATION)[0]
    assert issue.severity is Severity.WARNING and issue.blocks_approval


def test_missing_audio_blocks_approval_without_tts():
    d = base()
    assert not validate(instrument_from_dict(d)).by_code(IssueCode.MISSING_AUDIO)[0].blocks_approval
    d["settings"]["audio_fallback"] = "none"
    issue = validate(instrument_from_dict(d)).by_code(IssueCode.MISSING_AUDIO)[0]
    assert issue.blocks_approval
    items(d)[0]["audio"] = {"en": "q1.mp3"}
    items(d)[1]["audio"] = {"en": "q2.mp3"}
    assert IssueCode.MISSING_AUDIO not in report_codes(d)


def test_lint_can_be_switched_off():
    d = base()
    items(d)[1]["label"] = "Why would you not tell?"
    assert IssueCode.NEGATION not in validate(instrument_from_dict(d), lint=False).codes()


def test_xlsform_issues_name_sheet_row_and_column():
    md = (
        "| survey |\n| | type | name | label | relevant |\n"
        "| | integer | age | Age | |\n| | text | why | Why? | ${age} > 1 and ${ghost} = 2 |\n"
    )
    with pytest.raises(InstrumentError) as info:
        import_xlsform(md)
    issue = info.value.issues[0]
    assert "survey sheet, row 3, column relevant (why)" in issue.location or "row 3" in issue.location
    assert issue.fix


def test_choice_filter_columns_must_exist():
    d = base()
    d["choice_lists"]["yn"][0]["extra"] = {"group": "a"}
    items(d)[0]["choice_filter"] = "group = 'a'"
    assert IssueCode.UNKNOWN_REFERENCE not in report_codes(d)
    items(d)[0]["choice_filter"] = "grp = 'a' and name != 'no'"
    report = validate(instrument_from_dict(d))
    issue = report.by_code(IssueCode.UNKNOWN_REFERENCE)[0]
    assert "'grp'" in issue.message and "group" in issue.message


def test_time_estimate_and_grade_level():
    inst = instrument_from_dict(base())
    assert 0 < estimate_minutes(inst, "A") < 2
    assert estimate_minutes(inst, "A") > estimate_minutes(inst, "C")
    assert grade_level("") == 0.0
    assert grade_level("Do you like it?") < grade_level(
        "Do institutional accountability mechanisms adequately incorporate perspectives?"
    )


def test_report_helpers():
    d = base()
    items(d)[1]["label"] = "Why would you not tell?"
    report = validate(instrument_from_dict(d))
    assert report.ok and len(report) == len(report.issues)
    assert report.warnings and not report.errors
    assert "NEGATION" in report.format()
    assert report.issues[0].to_dict()["code"] in {c.value for c in IssueCode}


def test_approve_language_checks_the_blockers():
    from instruments import approve_language, load_bundled

    inst = load_bundled()
    # the French text is complete, and text-to-speech covers audio: it could be approved
    approved = approve_language(inst, "fr")
    assert approved.language("fr").approved
    assert approved.content_hash == inst.content_hash
    d = base()
    _two_languages("translated")(d)
    with pytest.raises(InstrumentError) as info:
        approve_language(instrument_from_dict(d), "fr")
    assert IssueCode.MISSING_TRANSLATION in info.value.codes
    d["settings"]["audio_fallback"] = "none"
    with pytest.raises(InstrumentError) as info:
        approve_language(instrument_from_dict(base() | {"settings": {}}), "en")
    assert info.value.code is IssueCode.MISSING_AUDIO
    with pytest.raises(KeyError):
        approve_language(inst, "de")

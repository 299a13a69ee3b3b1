"""The bundled consultation follows the default question bank
(child-participation.md §6.3) and its administration rules (§6.4)."""

from __future__ import annotations

import re

import pytest

from instruments import (
    DONT_KNOW,
    RATHER_NOT_SAY,
    IssueCode,
    ItemType,
    LanguageStatus,
    bundled_names,
    evaluate_bool,
    load_bundled,
    preview_text,
    validate,
)
from instruments.bundled import pictogram_svg

# ID -> (bands, sensitivity) from the §6.3 table
BANK = {
    "CX1": ("ABC", "S0"),
    "CX2": ("BC", "S1"),
    "TR1": ("ABC", "S2"),
    "TR2": ("BC", "S2"),
    "TR3": ("ABC", "S1"),
    "TR4": ("ABC", "S2"),
    "AW1": ("ABC", "S0"),
    "AW2": ("ABC", "S0"),
    "AW3": ("ABC", "S0"),
    "AW4": ("BC", "S0"),
    "CH1": ("ABC", "S2"),
    "CH2": ("ABC", "S2"),
    "CH3": ("ABC", "S2"),
    "CH4": ("BC", "S0"),
    "CH5": ("BC", "S1"),
    "CH6": ("ABC", "S0"),
    "BA1": ("ABC", "S2"),
    "BA2": ("BC", "S2"),
    "BA3": ("BC", "S2"),
    "BA4": ("C", "S3"),
    "TC1": ("ABC", "S0"),
    "TC2": ("BC", "S2"),
    "TC3": ("ABC", "S1"),
    "AF1": ("BC", "S2"),
    "AF2": ("BC", "S0"),
    "AF3": ("BC", "S1"),
    "AF4": ("A", "S2"),
    "ID1": ("ABC", "S0"),
    "ID2": ("ABC", "S0"),
    "EV1": ("ABC", "S1"),
    "EV2": ("ABC", "S0"),
    "EV3": ("ABC", "S0"),
    "EV4": ("ABC", "S0"),
    "EV5": ("ABC", "S1"),
    "DM2": ("ABC", "S1"),
    "DM3": ("ABC", "S1"),
    "DM4": ("ABC", "S1"),
}
# DM1 (the age) is not asked: the age group comes from the age given at the start, and only the
# group is kept (issue 16).


@pytest.fixture(scope="module")
def inst():
    return load_bundled()


def test_bundled_names():
    assert "reporting-mechanisms" in bundled_names()
    with pytest.raises(KeyError):
        load_bundled("nope")


def test_34_core_and_3_demographic_items(inst):
    ids = [i.name for i in inst.items if re.fullmatch(r"[A-Z]{2}\d", i.name)]
    assert len(ids) == 37 == len(set(ids))
    assert "DM1" not in ids
    assert len([i for i in ids if not i.startswith("DM")]) == 34
    assert set(ids) == set(BANK)


@pytest.mark.parametrize("item_id", sorted(BANK))
def test_bands_and_sensitivity_follow_the_bank(inst, item_id):
    bands, sensitivity = BANK[item_id]
    item = inst.item(item_id)
    assert item.sensitivity.name == sensitivity
    research = item_id == "BA4"
    shown = "".join(b for b in "ABC" if item in inst.items_for_band(b, research_mode=research))
    assert shown == bands


def test_band_counts_match_section_6_3(inst):
    core = {
        b: {
            i.name
            for i in inst.items_for_band(b)
            if re.fullmatch(r"[A-Z]{2}\d", i.name) and not i.name.startswith("DM")
        }
        for b in "ABC"
    }
    optional = {"CH6", "ID2"}
    assert len(core["A"] - optional) == 20
    assert len(core["B"] - optional) == 30
    assert len(core["C"] - optional) == 30  # + BA4 in research mode only
    research_c = {i.name for i in inst.items_for_band("C", research_mode=True)}
    assert "BA4" in research_c and "BA4" not in core["C"]


def test_passes_its_own_lint_with_zero_errors(inst):
    report = validate(inst)
    assert report.errors == ()
    assert report.codes() <= {IssueCode.MISSING_AUDIO, IssueCode.READING_LEVEL, IssueCode.NEGATION}
    # the only accepted approval blocker-free state for English
    assert validate(inst, launch_languages=["en"]).ok
    assert not validate(inst, launch_languages=["fr"]).ok


def test_youngest_band_reads_at_its_target(inst):
    """Issue 16: no item reaches 8-10-year-olds above the lint's grade target, in any language."""
    report = validate(inst)
    too_hard = [
        f"{issue.location}: {issue.message}"
        for issue in report.issues
        if issue.code is IssueCode.READING_LEVEL and re.search(r"\bA \(grade", issue.message)
    ]
    assert too_hard == []
    for item in inst.items_for_band("A"):
        for code in inst.language_codes:
            # a band-A wording exists in every language where it exists in English
            has_own = item.label_for("en", "A") != item.label_for("en")
            assert not has_own or item.label_for(code, "A") != item.label_for(code), (item.name, code)
        if item.type is ItemType.TEXT:
            # a text box takes words, not drawings
            assert "draw" not in item.label_for("en", "A").lower()


def test_languages_and_statuses(inst):
    status = {lang.code: lang.status for lang in inst.languages}
    assert status == {
        "en": LanguageStatus.APPROVED,
        "fr": LanguageStatus.TRANSLATED,
        "es": LanguageStatus.TRANSLATED,
        "ar": LanguageStatus.TRANSLATED,
        "sw": LanguageStatus.TRANSLATED,
    }
    assert inst.language("ar").direction.value == "rtl"
    for item in inst.items:
        for code in inst.language_codes:
            assert item.label_for(code), (item.name, code)


def test_order_puts_the_sensitive_block_in_the_middle_after_a_notice(inst):
    names = [s.name for s in inst.sections]
    assert names == [
        "devices",
        "trust",
        "awareness",
        "channels",
        "barriers",
        "after",
        "ideas",
        "about_you",
        "evaluation",
    ]
    barriers = inst.sections[names.index("barriers")]
    assert barriers.skippable and "skip" in barriers.notice["en"]
    assert {i.name for i in barriers.items} >= {"BA1", "BA2", "BA3", "BA4", "TC2"}
    assert inst.sections[-1].sensitivity.name in ("S0", "S1")


def test_channel_options_have_pictograms_with_alt_text(inst):
    for list_name in ("channels", "channel_rows"):
        for choice in inst.choice_lists[list_name]:
            image = choice.media.image["en"]
            svg = pictogram_svg(image.split("/")[-1])
            assert svg.startswith(b"<svg") and b"<title" in svg
            assert set(choice.alt) == set(inst.language_codes)


def test_likert_scales_per_band(inst):
    tr4 = inst.item("TR4")
    assert tr4.type is ItemType.LIKERT
    assert len(inst.choices_for(tr4, "A")) == 3
    assert all(c.media.image for c in inst.choices_for(tr4, "A"))
    assert len(inst.choices_for(tr4, "B")) == 5
    ch2 = inst.item("CH2")
    assert ch2.type is ItemType.MATRIX and len(inst.rows_for(ch2)) == 7


def test_skip_logic(inst):
    tr2 = inst.item("TR2")
    answers = {"TR1": ["parent", "friend"]}
    assert evaluate_bool(tr2.relevance, answers)
    shown = [
        c.name for c in inst.choices_for(tr2, "B") if evaluate_bool(tr2.choice_filter, answers, choice={"name": c.name})
    ]
    assert shown == ["parent", "friend"]
    assert not evaluate_bool(tr2.relevance, {"TR1": RATHER_NOT_SAY})
    assert evaluate_bool(inst.item("CH1_other").relevance, {"CH1": "chat other"})
    help_note = inst.item("EV5_help")
    assert evaluate_bool(help_note.relevance, {"EV5": "not_good"})
    assert evaluate_bool(help_note.relevance, {"EV5": RATHER_NOT_SAY})
    assert not evaluate_bool(help_note.relevance, {"EV5": "good"})
    dm4 = inst.item("DM4")
    assert not evaluate_bool(dm4.relevance, {"_setting": "school"})
    assert evaluate_bool(dm4.relevance, {"_setting": "community"})
    assert inst.item("TR1").allow_dont_know and DONT_KNOW != RATHER_NOT_SAY


def test_text_items_carry_the_no_names_notice(inst):
    for item in inst.items:
        if item.type is ItemType.TEXT:
            for code in inst.language_codes:
                assert item.notice_for(code)


def test_preview_lists_pages(inst):
    text = preview_text(inst, "B", "fr")
    assert "Comment les enfants" in text.splitlines()[0]
    assert "[skip this part]" in text
    assert "BA4" not in text and "AF4" not in text
    assert "BA4" in preview_text(inst, "C", "en", research_mode=True)
    assert "Je préfère ne pas répondre" in text and "Je ne sais pas" in text

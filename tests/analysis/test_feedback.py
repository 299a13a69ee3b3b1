"""Child-friendly feedback sheet: built from released tables, released only with sign-off."""

import datetime as dt

import pytest

from analysis import frequencies
from analysis.disclosure import DisclosureError, disclose
from analysis.feedback import (
    SignOff,
    feedback_sheet,
    findings_from,
    out_of_ten,
    reading_grade,
    release_feedback,
    render_feedback_html,
)
from analysis.synthetic import synthetic_long
from analysis.textscreen import release_quote, screen_text

HELP = [("Child helpline", "116 111")]


def sheet(band="B", **kw):
    args = {
        "band": band,
        "told_us": ["About 7 out of 10 of you would tell a friend first."],
        "will_change": ["The chat will be open at night."],
        "cant_change": [("A phone line in every language.", "We do not have money yet.")],
        "next_update": "We will come back in March.",
        "helplines": HELP,
    }
    args.update(kw)
    return feedback_sheet(**args)


def test_out_of_ten_and_reading_grade():
    assert [out_of_ten(p) for p in (2, 34, 68, 97)] == [
        "hardly anyone",
        "about 3 out of 10",
        "about 7 out of 10",
        "almost everyone",
    ]
    easy = reading_grade("You told us. We listened. Thank you.")
    hard = reading_grade(
        "Institutional accountability mechanisms necessitate comprehensive multidisciplinary consultation procedures."
    )
    assert easy < 3 < 12 < hard


def test_findings_use_released_numbers_only():
    long = synthetic_long(800, n_items=8, seed=5)
    rel = disclose(frequencies(long, items=["q07"]))
    (f,) = findings_from(rel, "q07", "{share} of you said {answer}.")
    top = rel.data[rel.data["kind"] == "valid"].sort_values("percent").iloc[-1]
    expected = f"{out_of_ten(top.percent)} of you said {top.answer}."
    assert f == expected[:1].upper() + expected[1:]
    with pytest.raises(TypeError):
        findings_from(frequencies(long, items=["q07"]), "q07", "{share}")


def test_release_needs_signoff_and_trauma_screen():
    s = sheet()
    assert not s.released
    with pytest.raises(DisclosureError, match="sign-off"):
        release_feedback(s, None)
    with pytest.raises(DisclosureError, match="trauma"):
        release_feedback(s, SignOff("Dsl", "safeguarding lead", dt.date(2026, 11, 29), False))
    ok = release_feedback(s, SignOff("Dsl", "safeguarding lead", dt.date(2026, 11, 29), True))
    assert ok.released and ok.signoff.reviewer == "Dsl"
    html = render_feedback_html(ok)
    for heading in (
        "What you told us",
        "What will change",
        "What can't change yet, and why",
        "When you'll hear from us next",
        "Where to get help",
        "116 111",
    ):
        assert heading.replace("'", "&#39;") in html
    assert "DRAFT" in render_feedback_html(s) and "DRAFT" not in html


def test_readability_lint_blocks_release_without_override():
    hard = sheet(
        band="A",
        told_us=["Institutional accountability mechanisms necessitate comprehensive multidisciplinary consultation."],
    )
    assert hard.warnings
    so = SignOff("Dsl", "lead", dt.date(2026, 11, 29), True)
    with pytest.raises(DisclosureError, match="readability"):
        release_feedback(hard, so)
    assert release_feedback(
        hard, SignOff("Dsl", "lead", dt.date(2026, 11, 29), True, "read aloud by facilitator")
    ).released


def test_structure_and_quotes_rules():
    with pytest.raises(ValueError, match="what will change"):
        sheet(will_change=[])
    q = release_quote(screen_text("A chat that is open at night"), released=True, reviewer="x", band="C")
    assert sheet(band="C", quotes=[q]).quotes == (q,)
    with pytest.raises(DisclosureError):
        sheet(band="A", quotes=[q])
    with pytest.raises(DisclosureError):
        sheet(quotes=["raw text"])
    sw = sheet(language="sw")
    assert "Mlichotuambia" in render_feedback_html(sw)


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar", "sw"])
def test_every_interface_language_has_its_own_headings_and_direction(language):
    s = feedback_sheet(
        language=language,
        **{
            k: v
            for k, v in sheet().__dict__.items()
            if k in ("band", "told_us", "will_change", "cant_change", "next_update", "helplines")
        },
    )
    html = render_feedback_html(s)
    assert f'lang="{language}"' in html
    assert ('dir="rtl"' in html) == (language == "ar")
    if language != "en":  # never the English headings on another language's sheet
        assert "What you told us" not in html and "Where to get help" not in html

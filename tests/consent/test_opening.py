"""Opening a consultation: helplines, permission choice, texts bound, values filled."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from consent.opening import check_opening, check_permission_choice, consultation_permission
from consent.profiles import PermissionMode, load_profile
from consent.texts import TextRegistry, bundled_texts

TODAY = date(2026, 11, 29)
VALUES = {
    "organisation": "Org",
    "independent_contact": "the ethics board",
    "contact": "0700 000",
    "minutes": 15,
    "pages": 8,
    "audience": "the council",
    "influence_scope": "school posters, not the law",
    "feedback_date": date(2027, 3, 1),
    "cutoff_date": date(2027, 1, 15),
    "helpline": "116 111",
    "reporting_role": "our safeguarding lead",
    "session_date": date(2026, 12, 3),
    "return_by_date": date(2026, 12, 1),
    "ethics_reference": "REC-1",
}
GENERIC = load_profile("generic")


def real_profile(days_since_verified=10, **changes):
    helpline = dataclasses.replace(GENERIC.helplines[0], last_verified=TODAY - timedelta(days=days_since_verified))
    return dataclasses.replace(GENERIC, is_example=False, helplines=(helpline,), **changes)


def approved_texts() -> TextRegistry:
    reg = TextRegistry()
    for t in bundled_texts():
        if t.language == "en":
            reg.add(t)
            reg.with_status(t.text_id, "approved")
    return reg


def run(**kw):
    args = {
        "profile": real_profile(),
        "today": TODAY,
        "texts": approved_texts(),
        "languages": ["en"],
        "bands": ["A", "B", "C"],
        "values": VALUES,
    }
    args.update(kw)
    return check_opening(**args)


def codes(check):
    return sorted({i.code for i in check.problems})


def test_real_consultation_with_approved_texts_opens():
    check = run()
    assert check.ok and bool(check)
    assert check.problems == () and check.warnings == ()
    assert sorted(check.bindings) == [
        "assent_script/en/A",
        "assent_script/en/B",
        "assent_script/en/C",
        "child_information/en/A",
        "child_information/en/B",
        "child_information/en/C",
        "guardian_consent_form/en/-",
        "guardian_information/en/-",
    ]
    ref = check.bindings["assent_script/en/B"]
    assert ref.text_id == "assent_script/en/B/v1" and len(ref.content_hash) == 64
    assert check.permission.mode is PermissionMode.ACTIVE_OPT_IN


@pytest.mark.parametrize(("days", "ok"), [(90, True), (91, False)])
def test_stale_helplines_block(days, ok):
    check = run(profile=real_profile(days))
    assert check.ok is ok
    if not ok:
        assert codes(check) == ["helplines_stale"]


def test_demo_opens_with_examples_and_drafts_but_says_so():
    check = run(
        profile=GENERIC, texts=bundled_texts(), require_approved=False, today=TODAY + timedelta(days=3650), demo=True
    )
    assert check.ok
    assert any("examples to replace" in w.lower() for w in check.warnings)
    assert any("draft, not approved" in w for w in check.warnings)
    assert any("days ago" in w for w in check.warnings)  # the stale dates are still said


@pytest.mark.parametrize("pid", ["generic", "example-ke", "example-uk"])
@pytest.mark.parametrize("days_later", [0, 1, 91, 3650])
def test_a_real_consultation_never_opens_on_an_example_profile(pid, days_later):
    """Issue 16: every bundled example profile is refused outside a demo, at any date, even
    with approved texts and freshly checked helplines, with plain words and what to do."""
    check = run(profile=load_profile(pid), today=TODAY + timedelta(days=days_later))
    assert not check.ok
    assert "example_profile" in codes(check)
    message = next(i.message for i in check.problems if i.code == "example_profile")
    assert "is an example" in message and "Choose your organisation's own country profile" in message
    assert "is_example" not in message and ".yaml" not in message


@pytest.mark.parametrize("pid", ["generic", "example-ke", "example-uk"])
def test_example_helplines_age_like_any_others(pid):
    """Outside a demo, an example profile's old helpline checks block as well (the real date
    decides: the bundled checks are dated 2026-11-29)."""
    late = TODAY + timedelta(days=load_profile(pid).helpline_check_days + 1)
    assert "helplines_stale" in codes(run(profile=load_profile(pid), today=late))
    assert "helplines_stale" not in codes(run(profile=load_profile(pid), today=TODAY))


def test_the_profile_sets_how_long_a_helpline_check_counts():
    strict = real_profile(31, helpline_check_days=30)
    assert codes(run(profile=strict)) == ["helplines_stale"]
    message = run(profile=strict).problems[0].message
    assert "checked in the last 30 days" in message and "Country profiles" in message
    assert "(helplines_stale)" not in message and "last_verified" not in message
    assert run(profile=real_profile(31, helpline_check_days=31)).ok


def test_draft_texts_block_a_real_consultation():
    check = run(texts=bundled_texts())
    assert codes(check) == ["text_not_approved"]
    assert len(check.problems) == 8


@pytest.mark.parametrize("missing", ["audience", "influence_scope", "feedback_date", "cutoff_date", "helpline"])
def test_missing_p02_values_block(missing):
    check = run(values={k: v for k, v in VALUES.items() if k != missing})
    assert codes(check) == ["missing_value"]
    assert all(missing in i.message for i in check.problems)


def test_mode_needs_its_values():
    values = {k: v for k, v in VALUES.items() if k != "reporting_role"}
    assert run(values=values, mode="anonymous").ok
    assert codes(run(values=values, mode="facilitated")) == ["missing_value"]


def test_identified_mode_needs_an_ethics_reference():
    values = dict(VALUES, ethics_reference="")
    check = run(values=values, mode="identified", bands=["C"], profile=real_profile(own_consent_age=14))
    assert "ethics_reference_missing" in codes(check)


def test_missing_language_texts_block():
    check = run(languages=["en", "xx"])
    assert "text_missing" in codes(check)
    assert any("child_information" in i.message and "'xx'" in i.message for i in check.problems)


def test_a_text_failing_the_lint_blocks():
    reg = approved_texts()
    bad = reg.revise(
        "child_information",
        "en",
        "B",
        body=reg.latest("child_information", "en", "B").body.replace("[no_right_answers]", "[no_right_answer]"),
        status="approved",
    )
    check = run(texts=reg)
    assert "missing_element" in codes(check)
    assert all(i.element == bad.text_id for i in check.problems if i.code == "missing_element")
    assert check.bindings["child_information/en/B"] == bad.ref


def test_guardian_texts_not_needed_from_own_consent_age():
    reg = TextRegistry(t for t in approved_texts() if t.kind.is_child_facing)
    assert codes(run(texts=reg, bands=["C"])) == ["text_missing"]  # C starts at 14 < 16
    older = real_profile(own_consent_age=14)
    check = run(texts=reg, bands=["C"], profile=older)
    assert check.ok
    assert not any(k.startswith("guardian") for k in check.bindings)


def test_guardian_text_in_another_language_is_a_warning():
    reg = approved_texts()
    for kind, band in (("child_information", b) for b in "ABC"):
        src = reg.latest(kind, "en", band)
        reg.add(dataclasses.replace(src, language="fr"))
    for band in "ABC":
        reg.add(dataclasses.replace(reg.latest("assent_script", "en", band), language="fr"))
    check = run(texts=reg, languages=["en", "fr"])
    assert check.ok
    assert any("no guardian_information in 'fr'" in w for w in check.warnings)


# ---------------------------------------------------------------- permission choice


@pytest.mark.parametrize(
    ("profile_mode", "choice", "fields", "expected"),
    [
        ("active_opt_in", None, {}, []),
        ("active_opt_in", "passive_opt_out", {}, ["ethics_reference_missing"]),
        ("active_opt_in", "passive_opt_out", {"ethics_reference": "REC-9"}, []),
        ("passive_opt_out", "active_opt_in", {}, []),  # stricter is always allowed
        ("passive_opt_out", "passive_opt_out", {}, ["ethics_reference_missing"]),
        (
            "active_opt_in",
            "waived_with_substitute_protection",
            {"ethics_reference": "REC"},
            ["substitute_protection_missing"],
        ),
        (
            "active_opt_in",
            "waived_with_substitute_protection",
            {"ethics_reference": "REC", "substitute_protection": "assent monitor"},
            [],
        ),
        ("active_opt_in", "not_required_from_age", {"ethics_reference": "REC"}, ["permission_incomplete"]),
        (
            "active_opt_in",
            "not_required_from_age",
            {"not_required_from_age": 13, "below_age_mode": "active_opt_in"},
            ["ethics_reference_missing"],
        ),
    ],
)
def test_permission_choice(profile_mode, choice, fields, expected):
    profile = load_profile("example-uk") if profile_mode == "passive_opt_out" else GENERIC
    assert profile.permission_mode.value == profile_mode
    perm = consultation_permission(profile, choice, **fields)
    assert [i.code for i in check_permission_choice(profile, perm)] == expected


def test_permission_choice_blocks_opening():
    perm = consultation_permission(GENERIC, "passive_opt_out")
    assert codes(run(permission=perm)) == ["ethics_reference_missing"]
    perm = consultation_permission(GENERIC, "passive_opt_out", ethics_reference="REC-2")
    assert run(permission=perm).ok


def test_bindings_refuse_a_later_edit():
    from consent.texts import TextVersionMismatch, check_binding

    reg = approved_texts()
    check = run(texts=reg)
    ref = check.bindings["child_information/en/A"]
    bound = reg.latest("child_information", "en", "A")
    edited = reg.revise("child_information", "en", "A", body=bound.body + "\nP.S.\n")
    with pytest.raises(TextVersionMismatch):
        check_binding(ref, reg.latest("child_information", "en", "A"))
    assert edited.version == bound.version + 1
    assert reg.resolve(ref).version == bound.version


def test_mandated_reporters_and_anonymous_mode_warns():
    from consent.profiles import MandatoryReporting, ReportingStatus

    profile = real_profile(mandatory_reporting=MandatoryReporting(ReportingStatus.SOME_ROLES, ("teachers",)))
    check = run(profile=profile, mode="anonymous")
    assert check.ok
    assert any("facilitated mode" in w for w in check.warnings)
    assert not any("facilitated mode" in w for w in run(profile=profile, mode="facilitated").warnings)


@pytest.mark.parametrize("language", ["en", "fr", "es", "sw", "ar"])
@pytest.mark.parametrize("mode", ["anonymous", "facilitated"])
def test_every_bundled_language_opens_a_demo(language, mode):
    check = run(
        profile=GENERIC, texts=bundled_texts(), languages=[language], require_approved=False, mode=mode, demo=True
    )
    assert check.ok, check.problems
    assert len(check.bindings) == 8

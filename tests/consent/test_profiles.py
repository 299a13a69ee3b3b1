"""Country profiles: bundled examples, every validation rule, helpline freshness."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
import yaml

from consent.profiles import (
    EXAMPLE_HELPLINES_WARNING,
    PROFILE_SCHEMA,
    CountryProfile,
    PermissionMode,
    ProfileError,
    bundled_profiles,
    helplines_fresh,
    load_profile,
    profile_from_mapping,
    profile_from_yaml,
    profile_schema,
)

TODAY = date(2026, 11, 29)


def valid() -> dict:
    """A minimal real (non-example) profile, as parsed from YAML."""
    return {
        "id": "testland",
        "name": "Testland",
        "is_example": False,
        "permission": {"mode": "active_opt_in"},
        "own_consent_age": 16,
        "helplines": [
            {
                "name": "Testland Child Helpline",
                "number": "116 111",
                "hours": "24 hours",
                "languages": ["en"],
                "last_verified": date(2026, 11, 1),
            }
        ],
        "quick_exit_url": "https://www.bbc.co.uk/weather",
        "mandatory_reporting": {"status": "none"},
        "retention": {"incomplete_days": 7, "raw_responses_days": 365},
        "disclosure_protocol": "Testland disclosure protocol v2 (intranet)",
    }


def test_valid_minimal_profile():
    p = profile_from_mapping(valid())
    assert isinstance(p, CountryProfile)
    assert p.permission_mode is PermissionMode.ACTIVE_OPT_IN
    assert p.own_consent_age == 16
    assert p.retention.incomplete_days == 7
    assert p.helplines[0].last_verified == date(2026, 11, 1)
    assert p.school_name_as_site_code is False
    assert not p.is_example


def test_profiles_are_immutable():
    p = profile_from_mapping(valid())
    with pytest.raises(AttributeError):
        p.own_consent_age = 12  # type: ignore[misc]


# ---------------------------------------------------------------- bundled


def test_bundled_profiles():
    profiles = bundled_profiles()
    assert set(profiles) == {"generic", "example-ke", "example-uk"}
    for pid, p in profiles.items():
        assert p.id == pid
        assert p.is_example, f"{pid} ships as an example and must say so"
        assert p.helplines
        assert p.quick_exit_url.startswith("https://")
        assert p.retention.incomplete_days == 7
        assert p.disclosure_protocol
        assert "replace" in p.name.lower()


def test_bundled_helpline_numbers():
    profiles = bundled_profiles()
    assert profiles["generic"].helplines[0].number == "116 111"
    assert profiles["example-ke"].helplines[0].number == "116"
    assert profiles["example-uk"].helplines[0].number == "0800 1111"
    assert profiles["example-uk"].helplines[0].name == "Childline"


def test_bundled_modes_differ():
    profiles = bundled_profiles()
    assert profiles["generic"].permission_mode is PermissionMode.ACTIVE_OPT_IN
    assert profiles["example-uk"].permission_mode is PermissionMode.PASSIVE_OPT_OUT
    assert profiles["example-ke"].own_consent_age == 18


def test_load_by_id_and_by_path(tmp_path):
    assert load_profile("example-uk").name.startswith("UK-like")
    path = tmp_path / "testland.yaml"
    data = valid()
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_profile(path).id == "testland"
    assert load_profile(str(path)).id == "testland"


def test_an_id_is_not_mistaken_for_a_file(tmp_path, monkeypatch):
    (tmp_path / "generic").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_profile("generic").id == "generic"


def test_load_unknown():
    with pytest.raises(LookupError, match="bundled: example-ke, example-uk, generic"):
        load_profile("atlantis")
    with pytest.raises(LookupError, match="no profile file"):
        load_profile("/nonexistent/x.yaml")


def test_schema_is_a_valid_json_schema_and_copied():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(PROFILE_SCHEMA)
    s = profile_schema()
    s["title"] = "changed"
    assert PROFILE_SCHEMA["title"] != "changed"


# ---------------------------------------------------------------- validation rules


def _set(path: str, value):
    def mutate(d: dict) -> None:
        *parents, last = path.split(".")
        node = d
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


DELETE = object()

RULES = [
    # (case id, mutation, field named, words in the message or fix)
    (
        "waived-needs-ethics-ref",
        _set(
            "permission",
            {
                "mode": "waived_with_substitute_protection",
                "substitute_protection": "An independent assent monitor is present",
            },
        ),
        "permission.ethics_reference",
        "ethics committee",
    ),
    (
        "waived-needs-substitute",
        _set("permission", {"mode": "waived_with_substitute_protection", "ethics_reference": "IRB-2026-17"}),
        "permission.substitute_protection",
        "describe the protection",
    ),
    (
        "waived-blank-substitute",
        _set(
            "permission",
            {
                "mode": "waived_with_substitute_protection",
                "ethics_reference": "IRB-2026-17",
                "substitute_protection": "   ",
            },
        ),
        "permission.substitute_protection",
        "is required",
    ),
    (
        "from-age-needs-age",
        _set("permission", {"mode": "not_required_from_age", "below_age_mode": "active_opt_in"}),
        "permission.not_required_from_age",
        "give the age",
    ),
    (
        "from-age-needs-below-mode",
        _set("permission", {"mode": "not_required_from_age", "not_required_from_age": 13}),
        "permission.below_age_mode",
        "active_opt_in or passive_opt_out",
    ),
    (
        "age-only-with-from-age-mode",
        _set("permission", {"mode": "active_opt_in", "not_required_from_age": 13}),
        "permission.not_required_from_age",
        "only applies",
    ),
    ("unknown-mode", _set("permission.mode", "opt_sideways"), "permission.mode", "use one of: active_opt_in"),
    (
        "below-mode-not-waived",
        _set(
            "permission",
            {
                "mode": "not_required_from_age",
                "not_required_from_age": 13,
                "below_age_mode": "waived_with_substitute_protection",
            },
        ),
        "permission.below_age_mode",
        "use one of",
    ),
    ("own-consent-age-low", _set("own_consent_age", 5), "own_consent_age", "out of range"),
    ("own-consent-age-high", _set("own_consent_age", 21), "own_consent_age", "out of range"),
    ("own-consent-age-missing", _set("own_consent_age", DELETE), "own_consent_age", "missing"),
    ("gdpr-age-range", _set("data_protection", {"gdpr_art8_age": 12}), "data_protection.gdpr_art8_age", "13 to 16"),
    ("no-helplines", _set("helplines", []), "helplines", "at least one helpline"),
    ("helpline-number-unquoted", _set("helplines.0.number", 116111), "helplines[0].number", "in quotes"),
    ("helpline-number-letters", _set("helplines.0.number", "call us"), "helplines[0].number", "digits and spaces"),
    ("helpline-no-date", _set("helplines.0.last_verified", DELETE), "helplines[0].last_verified", "YYYY-MM-DD"),
    (
        "helpline-bad-date",
        _set("helplines.0.last_verified", "2026-02-30"),
        "helplines[0].last_verified",
        "not a real date",
    ),
    ("helpline-date-text", _set("helplines.0.last_verified", "last week"), "helplines[0].last_verified", "YYYY-MM-DD"),
    ("helpline-no-languages", _set("helplines.0.languages", []), "helplines[0].languages", "language codes"),
    ("helpline-typo", _set("helplines.0.nmber", "1"), "helplines[0].nmber", "check the spelling"),
    ("quick-exit-http", _set("quick_exit_url", "http://www.bbc.co.uk/weather"), "quick_exit_url", "https://"),
    ("quick-exit-relative", _set("quick_exit_url", "/weather"), "quick_exit_url", "https://"),
    ("quick-exit-creds", _set("quick_exit_url", "https://u:p@example.org/"), "quick_exit_url", "neutral"),
    (
        "reporting-roles",
        _set("mandatory_reporting", {"status": "some_roles"}),
        "mandatory_reporting.roles",
        "list the roles",
    ),
    ("reporting-status", _set("mandatory_reporting", {"status": "maybe"}), "mandatory_reporting.status", "use one of"),
    ("retention-incomplete-zero", _set("retention.incomplete_days", 0), "retention.incomplete_days", "out of range"),
    ("retention-incomplete-long", _set("retention.incomplete_days", 90), "retention.incomplete_days", "7 recommended"),
    (
        "retention-raw-shorter",
        _set("retention.raw_responses_days", 3),
        "retention.raw_responses_days",
        "at least as long",
    ),
    ("no-disclosure-protocol", _set("disclosure_protocol", DELETE), "disclosure_protocol", "S-10"),
    ("empty-disclosure-protocol", _set("disclosure_protocol", ""), "disclosure_protocol", "S-10"),
    ("is-example-missing", _set("is_example", DELETE), "is_example", "true only for shipped"),
    ("is-example-text", _set("is_example", "yes"), "is_example", "must be boolean"),
    ("bad-id", _set("id", "Test Land"), "id", "lower-case id"),
    ("blank-name", _set("name", "   "), "name", "is blank"),
    ("blank-helpline-name", _set("helplines.0.name", " "), "helplines[0].name", "is blank"),
    ("unknown-top-field", _set("helpline", []), "helpline", "known fields"),
    ("school-name-flag-type", _set("school_name_as_site_code", "no"), "school_name_as_site_code", "must be boolean"),
]


@pytest.mark.parametrize(("mutate", "field", "words"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_each_validation_rule_names_field_and_fix(mutate, field, words):
    data = copy.deepcopy(valid())
    mutate(data)
    with pytest.raises(ProfileError) as info:
        profile_from_mapping(data, source="testland.yaml")
    fields = [p.field for p in info.value.problems]
    assert field in fields, f"expected a problem on {field}, got {fields}"
    problem = next(p for p in info.value.problems if p.field == field)
    assert words.lower() in (problem.message + " " + problem.fix).lower(), str(problem)
    assert str(info.value).startswith("testland.yaml is not a valid country profile")
    assert field in str(info.value)


def test_valid_modes():
    for perm in (
        {"mode": "passive_opt_out"},
        {
            "mode": "waived_with_substitute_protection",
            "ethics_reference": "REC 26/0042",
            "substitute_protection": "An independent child advocate attends every session",
        },
        {"mode": "not_required_from_age", "not_required_from_age": 13, "below_age_mode": "passive_opt_out"},
    ):
        data = valid()
        data["permission"] = perm
        p = profile_from_mapping(data)
        assert p.permission.mode.value == perm["mode"]


def test_all_problems_reported_at_once():
    data = valid()
    del data["name"]
    data["own_consent_age"] = 30
    with pytest.raises(ProfileError) as info:
        profile_from_mapping(data)
    assert {"name", "own_consent_age"} <= {p.field for p in info.value.problems}


def test_each_problem_reported_once():
    with pytest.raises(ProfileError) as info:
        profile_from_mapping({"permission": 3})
    fields = [p.field for p in info.value.problems]
    assert len(fields) == len(set(fields))
    assert "retention" in fields and "permission" in fields


def test_rule_problems_reported_alongside_schema_problems():
    data = valid()
    data["name"] = ""
    data["quick_exit_url"] = "http://example.org"
    with pytest.raises(ProfileError) as info:
        profile_from_mapping(data)
    assert {"name", "quick_exit_url"} <= {p.field for p in info.value.problems}


def test_yaml_errors():
    with pytest.raises(ProfileError, match="not valid YAML"):
        profile_from_yaml("id: [unclosed")
    with pytest.raises(ProfileError, match="is missing"):
        profile_from_yaml("")
    with pytest.raises(ProfileError, match="not a mapping"):
        profile_from_yaml("- a list")


def test_yaml_dates_accepted_as_written():
    text = yaml.safe_dump(valid()).replace("'2026-11-01'", "2026-11-01")
    assert profile_from_yaml(text).helplines[0].last_verified == date(2026, 11, 1)


# ---------------------------------------------------------------- freshness


def real(verified: date, *more: date) -> CountryProfile:
    data = valid()
    data["helplines"] = [
        {**data["helplines"][0], "name": f"Line {i}", "last_verified": d} for i, d in enumerate((verified, *more))
    ]
    return profile_from_mapping(data)


@pytest.mark.parametrize(
    ("age_days", "ok"),
    [(0, True), (1, True), (89, True), (90, True), (91, False), (365, False)],
)
def test_freshness_boundary(age_days, ok):
    result = helplines_fresh(real(TODAY - timedelta(days=age_days)), TODAY)
    assert result.ok is ok
    assert bool(result) is ok
    assert result.is_example is False
    if ok:
        assert result.stale == () and result.warnings == ()
    else:
        assert result.stale[0].age_days == age_days
        assert "record the date of the check" in result.warnings[0]


def test_freshness_custom_limit():
    p = real(TODAY - timedelta(days=31))
    assert helplines_fresh(p, TODAY, max_age_days=30).ok is False
    assert helplines_fresh(p, TODAY, max_age_days=31).ok is True
    with pytest.raises(ValueError):
        helplines_fresh(p, TODAY, max_age_days=-1)


def test_one_stale_helpline_blocks():
    p = real(TODAY, TODAY - timedelta(days=91))
    result = helplines_fresh(p, TODAY)
    assert not result.ok
    assert [s.name for s in result.stale] == ["Line 1"]


def test_future_verification_date_blocks():
    result = helplines_fresh(real(TODAY + timedelta(days=1)), TODAY)
    assert not result.ok
    assert result.future and "after today" in result.warnings[0]


@pytest.mark.parametrize("pid", ["generic", "example-ke", "example-uk"])
@pytest.mark.parametrize("years", [0, 1, 10, 30])
def test_example_profiles_are_fresh_only_while_their_checks_are(pid, years):
    """Issue 16: an example profile no longer passes the helpline check at any date."""
    today = TODAY + timedelta(days=365 * years)
    result = helplines_fresh(load_profile(pid), today)
    assert result.is_example
    assert result.ok is (years == 0)
    assert result.warnings[0] == EXAMPLE_HELPLINES_WARNING
    assert "these helplines are examples to replace" in result.warnings[0].lower()
    if years:
        assert result.stale and "days ago" in result.warnings[1]


def test_the_check_interval_is_the_profiles():
    data = valid()
    data["helpline_check_days"] = 30
    data["helplines"][0]["last_verified"] = (TODAY - timedelta(days=31)).isoformat()
    profile = profile_from_mapping(data)
    assert profile.helpline_check_days == 30
    assert not helplines_fresh(profile, TODAY).ok
    assert helplines_fresh(profile, TODAY - timedelta(days=1)).ok
    assert load_profile("generic").helpline_check_days == 90
    data["helpline_check_days"] = 0
    with pytest.raises(ProfileError, match="helpline_check_days"):
        profile_from_mapping(data)


def test_freshness_does_not_read_the_clock():
    # the same profile gives opposite answers for two "todays": only the argument decides
    p = real(date(2020, 1, 1))
    assert helplines_fresh(p, date(2020, 3, 31)).ok
    assert not helplines_fresh(p, date(2020, 4, 1)).ok

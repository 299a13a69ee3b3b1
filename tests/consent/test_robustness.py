"""Hostile or broken input gives clear errors, never a crash (admin uploads, typed codes)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.codes import InvalidCode, normalize_code
from consent.profiles import ProfileError, profile_from_mapping, profile_from_yaml
from consent.texts import (
    ConfidentialityMode,
    ConsentText,
    MissingValues,
    lint_assent,
    lint_guardian,
    parse_body,
    parse_text_file,
    render_text,
)

markup_lines = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "[who_we_are]",
            "[privacy anonymous]",
            "[privacy]",
            "[choice]",
            "[understanding_check]",
            "? Q",
            "+ yes",
            "- no",
            "= why",
            "> yes: Y",
            "> no: N",
            "* item",
            "",
            "{audience}",
            "{",
            "}",
            "[x y z]",
            "[]",
        ]
    ),
)
bodies = st.lists(markup_lines, max_size=30).map("\n".join)


@given(bodies, st.sampled_from(list(ConfidentialityMode)))
@settings(max_examples=150, deadline=None)
def test_parse_and_lint_never_crash(body, mode):
    parse_body(body)
    issues = lint_assent(body, mode)
    assert all(i.code and i.message for i in issues)
    lint_guardian(body)


@given(bodies)
@settings(max_examples=100, deadline=None)
def test_render_fills_every_placeholder_or_names_the_missing(body):
    if not body.strip():
        return
    text = ConsentText("assent_script", "en", "B", 1, "T", body)
    try:
        rendered = render_text(text, {"audience": "A"}, mode="facilitated")
    except MissingValues as exc:
        assert exc.names and "audience" not in exc.names
        return
    assert "{audience}" not in rendered.plain_text


@given(st.text(max_size=60))
def test_typed_codes_fail_only_with_invalid_code(typed):
    try:
        normalize_code(typed)
    except InvalidCode as exc:
        assert str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.dates(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "name",
                "is_example",
                "permission",
                "own_consent_age",
                "helplines",
                "quick_exit_url",
                "mandatory_reporting",
                "retention",
                "disclosure_protocol",
                "other",
            ]
        )
        | st.integers(),
        json_values,
        max_size=10,
    )
)
@settings(max_examples=200, deadline=None)
def test_profile_validation_only_raises_profile_error(data):
    try:
        profile_from_mapping(data)
    except ProfileError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.field and p.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00",
        "id: [",
        "last_verified: 2026-13-45",
        "1: 2",
        "- 1\n- 2",
        "a: b: c",
        "!!python/object:os.system x",
        "&a [*a]",
    ],
)
def test_profile_yaml_junk(text):
    with pytest.raises(ProfileError):
        profile_from_yaml(text)


def test_yaml_tags_are_not_executed():
    # safe_load: a python tag is a YAML error, never code
    with pytest.raises(ProfileError):
        profile_from_yaml(yaml.dump({"id": object()}))


@pytest.mark.parametrize(
    "content",
    [
        "",
        "---\n",
        "---\n---\n",
        "---\n: :\n---\nbody",
        "---\nkind: x\nd: 2026-13-45\n---\nb",
        "---\nkind: nope\nlanguage: en\nversion: 1\ntitle: t\n---\nb",
    ],
)
def test_text_file_junk(content):
    with pytest.raises(ValueError):
        parse_text_file(content)

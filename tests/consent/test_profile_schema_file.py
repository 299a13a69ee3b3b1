"""The profile JSON Schema ships as a data file (consent/schema/profile.schema.json), not as code."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema

from consent.profiles import PROFILE_SCHEMA, PermissionMode, ReportingStatus, profile_schema

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_is_read_from_the_packaged_file() -> None:
    text = resources.files("consent").joinpath("schema/profile.schema.json").read_text(encoding="utf-8")
    assert json.loads(text) == PROFILE_SCHEMA == profile_schema()
    jsonschema.Draft202012Validator.check_schema(PROFILE_SCHEMA)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "schema/*.json" in package_data["consent"]


def test_the_files_choices_are_the_enums_values() -> None:
    properties = PROFILE_SCHEMA["properties"]
    assert properties["permission"]["properties"]["mode"]["enum"] == [m.value for m in PermissionMode]
    assert properties["mandatory_reporting"]["properties"]["status"]["enum"] == [s.value for s in ReportingStatus]
    below = properties["permission"]["properties"]["below_age_mode"]["enum"]
    assert set(below) - {None} <= {m.value for m in PermissionMode}

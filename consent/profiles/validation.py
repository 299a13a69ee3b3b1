"""Checking a profile file: the JSON Schema (``consent/schema/profile.schema.json``), the rules a
schema cannot say, and each problem in plain words with its fix (:class:`ProfileProblem`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from consent.profiles.model import PermissionMode, ReportingStatus

# --------------------------------------------------------------------------- schema


def _load_schema() -> dict[str, Any]:
    text = resources.files("consent").joinpath("schema/profile.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


#: The JSON Schema (2020-12) of a profile file (consent/schema/profile.schema.json; its enums
#: are checked against :class:`PermissionMode` and :class:`ReportingStatus` by the tests).
#: ``description`` holds the fix shown on errors.
PROFILE_SCHEMA: dict[str, Any] = _load_schema()

_VALIDATOR = jsonschema.Draft202012Validator(PROFILE_SCHEMA)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class ProfileProblem:
    """One problem in a profile: the field (dotted path), what is wrong and how to fix it."""

    field: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" + (f"; fix: {self.fix}" if self.fix else "")


class ProfileError(ValueError):
    """A profile failed validation.  :attr:`problems` lists every problem found."""

    def __init__(self, problems: list[ProfileProblem], source: str = "profile") -> None:
        self.problems = tuple(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} is not a valid country profile:\n{lines}")


def _path(parts: Iterable[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _schema_problem(err: jsonschema.ValidationError) -> list[ProfileProblem]:
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    fix = schema.get("description", "")
    explain = _SCHEMA_EXPLAINED.get(str(err.validator))
    if explain is None:
        return [ProfileProblem(_path(err.absolute_path), err.message, fix)]
    return explain(err, _path(err.absolute_path), schema, fix)


_SchemaError = jsonschema.ValidationError
_Schema = Mapping[str, Any]


def _prefix(where: str) -> str:
    return "" if where == "(top level)" else where + "."


def _missing(err: _SchemaError, where: str, schema: _Schema, fix: str) -> list[ProfileProblem]:
    instance: Any = err.instance
    required: Any = err.validator_value
    missing = [p for p in required if p not in instance]
    properties = schema.get("properties", {})
    return [
        ProfileProblem(_prefix(where) + name, "is missing", properties.get(name, {}).get("description", "add it"))
        for name in missing
    ]


def _unknown(err: _SchemaError, where: str, schema: _Schema, fix: str) -> list[ProfileProblem]:
    known = sorted(schema.get("properties", {}))
    instance: Any = err.instance
    extra = sorted((str(k) for k in instance if k not in known), key=str)
    hint = "check the spelling; known fields: " + ", ".join(known)
    return [ProfileProblem(_prefix(where) + str(x), "is not a known field", hint) for x in extra]


def _wrong_type(
    err: jsonschema.ValidationError, where: str, schema: Mapping[str, Any], fix: str
) -> list[ProfileProblem]:
    want: Any = err.validator_value
    want = " or ".join(want) if isinstance(want, list) else want
    hint = fix
    if want == "string" and isinstance(err.instance, int | float):
        hint = "put the value in quotes so it is read as text" + (f" ({fix})" if fix else "")
    return [ProfileProblem(where, f"must be {want}, not {type(err.instance).__name__}", hint)]


def _not_allowed(
    err: jsonschema.ValidationError, where: str, schema: Mapping[str, Any], fix: str
) -> list[ProfileProblem]:
    validator_value: Any = err.validator_value
    allowed = ", ".join(str(x) for x in validator_value if x is not None)
    return [ProfileProblem(where, f"{err.instance!r} is not allowed", f"use one of: {allowed}")]


def _out_of_range(
    err: jsonschema.ValidationError, where: str, schema: Mapping[str, Any], fix: str
) -> list[ProfileProblem]:
    return [ProfileProblem(where, f"{err.instance!r} is out of range", fix)]


def _no_items(err: _SchemaError, where: str, schema: _Schema, fix: str) -> list[ProfileProblem]:
    return [ProfileProblem(where, "is empty", fix or "add at least one entry")]


def _no_text(err: _SchemaError, where: str, schema: _Schema, fix: str) -> list[ProfileProblem]:
    return [ProfileProblem(where, "is empty", fix or "fill it in")]


def _bad_form(err: _SchemaError, where: str, schema: _Schema, fix: str) -> list[ProfileProblem]:
    if isinstance(err.instance, str) and not err.instance.strip():
        return [ProfileProblem(where, "is blank", fix or "fill it in")]
    return [ProfileProblem(where, f"{err.instance!r} is not in the expected form", fix)]


#: What each JSON Schema keyword's failure means, in plain words with its fix (any other keyword:
#: jsonschema's own message).
_SCHEMA_EXPLAINED: Mapping[str, Callable[[_SchemaError, str, _Schema, str], list[ProfileProblem]]] = {
    "required": _missing,
    "additionalProperties": _unknown,
    "type": _wrong_type,
    "enum": _not_allowed,
    "minimum": _out_of_range,
    "maximum": _out_of_range,
    "minItems": _no_items,
    "minLength": _no_text,
    "pattern": _bad_form,
}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _waiver_documented(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    """A waived permission names the ethics decision and the protection that replaces it."""
    perm = _section(data, "permission")
    if perm.get("mode") != PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION:
        return
    if _blank(perm.get("ethics_reference")):
        yield ProfileProblem(
            "permission.ethics_reference",
            "is required when permission is waived",
            "give the reference of the ethics committee decision that waived permission",
        )
    if _blank(perm.get("substitute_protection")):
        yield ProfileProblem(
            "permission.substitute_protection",
            "is required when permission is waived",
            "describe the protection that replaces parental permission "
            "(e.g. an independent assent monitor or child advocate), as approved",
        )


def _age_rule_complete(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    """``not_required_from_age`` needs its age and the mode below it; other modes neither."""
    perm = _section(data, "permission")
    mode = perm.get("mode")
    if mode == PermissionMode.NOT_REQUIRED_FROM_AGE:
        if perm.get("not_required_from_age") is None:
            yield ProfileProblem(
                "permission.not_required_from_age",
                "is required for mode not_required_from_age",
                "give the age (whole years) from which permission is not required",
            )
        if perm.get("below_age_mode") is None:
            yield ProfileProblem(
                "permission.below_age_mode",
                "is required for mode not_required_from_age",
                "say how permission is obtained below that age: active_opt_in or passive_opt_out",
            )
        return
    for key in ("not_required_from_age", "below_age_mode"):
        if perm.get(key) is not None:
            yield ProfileProblem(
                f"permission.{key}",
                f"only applies to mode not_required_from_age, but mode is {mode}",
                "remove it, or change the mode",
            )


def _quick_exit_neutral(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    url = data.get("quick_exit_url")
    if not isinstance(url, str):
        return
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        yield ProfileProblem(
            "quick_exit_url",
            f"{url!r} is not a neutral https:// address",
            "use a full https:// address of a neutral site, e.g. https://www.bbc.co.uk/weather",
        )


def _reporting_roles_named(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    rep = _section(data, "mandatory_reporting")
    if rep.get("status") == ReportingStatus.SOME_ROLES and not rep.get("roles"):
        yield ProfileProblem(
            "mandatory_reporting.roles",
            "is empty but status is some_roles",
            "list the roles that must report (e.g. teachers, health workers)",
        )


def _retention_ordered(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    ret = _section(data, "retention")
    inc, raw = ret.get("incomplete_days"), ret.get("raw_responses_days")
    if isinstance(inc, int) and isinstance(raw, int) and raw < inc:
        yield ProfileProblem(
            "retention.raw_responses_days",
            f"({raw}) is shorter than incomplete_days ({inc})",
            "keep raw responses at least as long as incomplete ones",
        )


def _helpline_dates_real(data: Mapping[str, Any]) -> Iterator[ProfileProblem]:
    helplines = data.get("helplines")
    for i, h in enumerate(helplines if isinstance(helplines, list) else []):
        if isinstance(h, dict) and isinstance(h.get("last_verified"), str):
            try:
                date.fromisoformat(h["last_verified"])
            except ValueError:
                yield ProfileProblem(
                    f"helplines[{i}].last_verified",
                    f"{h['last_verified']!r} is not a real date",
                    "write the date as YYYY-MM-DD",
                )


#: The rules a JSON Schema cannot say, checked after it, in the order their problems are listed.
RULE_CHECKS: tuple[Callable[[Mapping[str, Any]], Iterable[ProfileProblem]], ...] = (
    _waiver_documented,
    _age_rule_complete,
    _quick_exit_neutral,
    _reporting_roles_named,
    _retention_ordered,
    _helpline_dates_real,
)


def _rule_problems(data: Mapping[str, Any]) -> list[ProfileProblem]:
    return [problem for check in RULE_CHECKS for problem in check(data)]


def profile_schema() -> dict[str, Any]:
    """A deep copy of :data:`PROFILE_SCHEMA` (e.g. to publish for editors).

    Examples
    --------
    >>> import json
    >>> json.loads(json.dumps(profile_schema()))["title"]
    'Sauti country profile'
    """
    return copy.deepcopy(PROFILE_SCHEMA)

"""Country (jurisdiction) profiles: consent rules, helplines, quick exit, retention (C-01, S-01).

A profile is a YAML file validated against :data:`PROFILE_SCHEMA` (JSON Schema 2020-12) and
then against rules a schema cannot express (a waiver needs its ethics reference and the
substitute protection described, and so on).  Every problem names the field and the fix.

Three profiles ship, all marked ``is_example: true``: ``generic``, ``example-ke`` (a
Kenya-like worked example) and ``example-uk`` (a UK-like one).  Their values are examples to
replace with ones checked by local counsel, ethics and safeguarding leads (§9.1): **they are
not legal advice**.  Only a demonstration may open on an example profile (see
:func:`consent.opening.check_opening`); a real consultation needs a profile with
``is_example: false`` whose every helpline was checked within the profile's
``helpline_check_days`` (90 unless the profile says otherwise) of the real date.
:func:`helplines_fresh` applies that date rule to every profile, examples included: an
example is no fresher than its dates.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml

__all__ = [
    "CountryProfile",
    "DEFAULT_MAX_HELPLINE_AGE_DAYS",
    "DEFAULT_SAFEGUARDING_DAYS",
    "EXAMPLE_HELPLINES_WARNING",
    "HELPLINE_PLACEHOLDERS",
    "FreshnessResult",
    "Helpline",
    "MandatoryReporting",
    "ParentalPermission",
    "PermissionMode",
    "PROFILE_SCHEMA",
    "ProfileError",
    "ProfileProblem",
    "ReportingStatus",
    "RetentionDefaults",
    "StaleHelpline",
    "bundled_profiles",
    "helpline_label",
    "helpline_placeholders",
    "helplines_for",
    "helplines_missing_language",
    "helplines_fresh",
    "load_profile",
    "profile_from_mapping",
    "profile_from_yaml",
    "profile_schema",
]

#: Helplines last verified longer ago than this block a consultation from opening (S-01),
#: unless a profile sets its own ``helpline_check_days``.
DEFAULT_MAX_HELPLINE_AGE_DAYS = 90

#: Days a resolved concern record is kept when a profile does not say (``retention.safeguarding_days``):
#: long enough for the safeguarding lead to check the referral was taken up, short enough that a
#: child's words do not outlive the need.  The organisation's own case file is the lasting record.
DEFAULT_SAFEGUARDING_DAYS = 30

#: Days a field laptop keeps its copy of children's records after the central server confirmed
#: it holds them (``retention.field_copy_days``): time to check the central copy, no longer.
DEFAULT_FIELD_COPY_DAYS = 7

#: Shown (to facilitators, and on the demo's help panel) whenever an example profile is used.
EXAMPLE_HELPLINES_WARNING = (
    "These helplines are examples to replace: this is an example country profile. "
    "Check every number with the helpline itself and record the date before a real "
    "consultation."
)


class PermissionMode(StrEnum):
    """How parents' or guardians' permission is obtained (§3.3, C-01)."""

    ACTIVE_OPT_IN = "active_opt_in"
    """A signed paper form must be seen for each card before the child may continue."""
    PASSIVE_OPT_OUT = "passive_opt_out"
    """Parents were told and could opt out; the school withholds those children's cards."""
    WAIVED_WITH_SUBSTITUTE_PROTECTION = "waived_with_substitute_protection"
    """An ethics committee waived permission and approved a substitute protection."""
    NOT_REQUIRED_FROM_AGE = "not_required_from_age"
    """Permission is not required from a stated age; below it ``below_age_mode`` applies."""


class ReportingStatus(StrEnum):
    """Who is a mandated reporter of child abuse in the jurisdiction (§4.1)."""

    NONE = "none"
    SOME_ROLES = "some_roles"
    EVERYONE = "everyone"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Helpline:
    """One entry of the verified helpline directory (§4.2).

    Attributes
    ----------
    name, number, hours : str
        As shown on the help panel; ``number`` is text ("116 111", "0800 1111").
    languages : tuple of str
        Language codes the helpline answers in.
    last_verified : date
        When someone last checked the entry with the helpline itself.
    verified_by : str or None
        Who checked (a role, not a personal name, is enough).
    url, text : str or None
        Web/chat address and SMS/chat details, where offered.
    free : bool or None
        Free to call from a mobile phone, if known.
    age_range : str or None
    """

    name: str
    number: str
    hours: str
    languages: tuple[str, ...]
    last_verified: date
    verified_by: str | None = None
    url: str | None = None
    text: str | None = None
    free: bool | None = None
    age_range: str | None = None
    #: ``(language, name, hours)`` for each language other than the profile's first one, in
    #: which the help panel shows the helpline (``translations:`` in the profile file).
    translations: tuple[tuple[str, str, str], ...] = ()

    def in_language(self, language: str) -> Helpline:
        """The helpline as a page in ``language`` shows it (its name and hours translated).

        Examples
        --------
        >>> ke = load_profile("example-ke").helplines[0]
        >>> ke.in_language("sw").hours
        'Saa 24'
        >>> ke.in_language("xx").hours
        '24 hours'
        """
        for code, name, hours in self.translations:
            if code == language:
                return replace(self, name=name, hours=hours)
        return self

    def written_in(self, language: str, base_language: str) -> bool:
        """True when the name and hours can be shown in ``language`` (the profile's first
        language, or a translation given)."""
        return language == base_language or any(code == language for code, _, _ in self.translations)


@dataclass(frozen=True, slots=True)
class ParentalPermission:
    """The permission rule of a profile.

    Attributes
    ----------
    mode : PermissionMode
    ethics_reference : str or None
        Required for ``waived_with_substitute_protection``.
    substitute_protection : str or None
        The protection that replaces permission (child advocate, assent monitor...); required
        for ``waived_with_substitute_protection``.
    not_required_from_age : int or None
        The age from which permission is not required (mode ``not_required_from_age`` only).
    below_age_mode : PermissionMode or None
        For ``not_required_from_age``: the rule below that age (``active_opt_in`` or
        ``passive_opt_out``).
    """

    mode: PermissionMode
    ethics_reference: str | None = None
    substitute_protection: str | None = None
    not_required_from_age: int | None = None
    below_age_mode: PermissionMode | None = None


@dataclass(frozen=True, slots=True)
class MandatoryReporting:
    """Mandatory-reporting notes; they decide the assent's confidentiality wording (§3.4.8)."""

    status: ReportingStatus
    roles: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True, slots=True)
class RetentionDefaults:
    """Retention defaults a consultation starts from (DP-06).

    Attributes
    ----------
    incomplete_days : int
        Incomplete and quick-exited responses are deleted this many days after last activity.
    raw_responses_days : int
        Raw responses are deleted this many days after the consultation closes.
    safeguarding_days : int
        A concern record (the safeguarding lead's note of a flagged open answer) is deleted this
        many days after the lead resolves it; an unresolved one is never deleted by the clock
        (default :data:`DEFAULT_SAFEGUARDING_DAYS`).
    field_copy_days : int
        A field laptop deletes its copy of a child's records this many days after the central
        server's signed receipt covers them (0: at once; default :data:`DEFAULT_FIELD_COPY_DAYS`).

    Examples
    --------
    >>> RetentionDefaults().safeguarding_days
    30
    >>> RetentionDefaults().field_copy_days
    7
    """

    incomplete_days: int = 7
    raw_responses_days: int = 365
    safeguarding_days: int = 30
    field_copy_days: int = 7


@dataclass(frozen=True, slots=True)
class CountryProfile:
    """A validated, immutable country profile.  Build one with :func:`load_profile`.

    Attributes
    ----------
    id, name : str
    is_example : bool
        Shipped example whose values must be replaced before real use.
    permission : ParentalPermission
    own_consent_age : int
        From this age the child's own consent suffices (default 16).
    helplines : tuple of Helpline
        At least one.
    quick_exit_url : str
        Neutral https address the quick exit goes to.
    quick_exit_local : bool
        Send the quick exit to the neutral page the Sauti server serves itself instead
        (where children's devices have no internet; default no).
    disclosure_protocol : str
        Reference to the jurisdiction's disclosure protocol document (S-10), shown in
        facilitator mode.
    mandatory_reporting : MandatoryReporting
    retention : RetentionDefaults
    school_name_as_site_code : bool
        Whether a facilitator may record the school's name as the site code (default no:
        use a neutral code).
    languages : tuple of str
    helpline_check_days : int
        How many days a helpline check stays valid: a consultation cannot open once any
        helpline was last verified longer ago (default 90).
    data_protection_basis : str or None
        The lawful basis for processing, kept apart from the ethics rules (§3.2).
    gdpr_art8_age : int or None
        GDPR Art. 8 age where consent is the lawful basis (13-16).
    notes : str
        Free notes for the people who maintain the profile.

    Examples
    --------
    >>> uk = load_profile("example-uk")
    >>> uk.permission_mode.value, uk.own_consent_age, uk.helplines[0].number
    ('passive_opt_out', 16, '0800 1111')
    """

    id: str
    name: str
    is_example: bool
    permission: ParentalPermission
    helplines: tuple[Helpline, ...]
    quick_exit_url: str
    disclosure_protocol: str
    own_consent_age: int = 16
    mandatory_reporting: MandatoryReporting = field(default_factory=lambda: MandatoryReporting(ReportingStatus.UNKNOWN))
    retention: RetentionDefaults = field(default_factory=RetentionDefaults)
    school_name_as_site_code: bool = False
    languages: tuple[str, ...] = ("en",)
    helpline_check_days: int = DEFAULT_MAX_HELPLINE_AGE_DAYS
    data_protection_basis: str | None = None
    gdpr_art8_age: int | None = None
    notes: str = ""
    quick_exit_local: bool = False

    @property
    def permission_mode(self) -> PermissionMode:
        """Shortcut for ``permission.mode``."""
        return self.permission.mode


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
    where = _path(err.absolute_path)
    schema: Mapping[str, Any] = err.schema if isinstance(err.schema, Mapping) else {}
    fix = schema.get("description", "")
    v = err.validator
    validator_value: Any = err.validator_value
    instance: Any = err.instance
    if v == "required":
        missing = [p for p in validator_value if p not in instance]
        prefix = "" if where == "(top level)" else where + "."
        out = []
        for name in missing:
            sub = schema.get("properties", {}).get(name, {})
            out.append(ProfileProblem(prefix + name, "is missing", sub.get("description", "add it")))
        return out
    if v == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted((str(k) for k in instance if k not in known), key=str)
        prefix = "" if where == "(top level)" else where + "."
        return [
            ProfileProblem(
                prefix + str(x), "is not a known field", "check the spelling; known fields: " + ", ".join(known)
            )
            for x in extra
        ]
    if v == "type":
        want = validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        got = type(err.instance).__name__
        hint = fix
        if want == "string" and isinstance(err.instance, int | float):
            hint = "put the value in quotes so it is read as text" + (f" ({fix})" if fix else "")
        return [ProfileProblem(where, f"must be {want}, not {got}", hint)]
    if v == "enum":
        allowed = ", ".join(str(x) for x in validator_value if x is not None)
        return [ProfileProblem(where, f"{err.instance!r} is not allowed", f"use one of: {allowed}")]
    if v in ("minimum", "maximum"):
        return [ProfileProblem(where, f"{err.instance!r} is out of range", fix)]
    if v == "minItems":
        return [ProfileProblem(where, "is empty", fix or "add at least one entry")]
    if v == "minLength":
        return [ProfileProblem(where, "is empty", fix or "fill it in")]
    if v == "pattern":
        if isinstance(err.instance, str) and not err.instance.strip():
            return [ProfileProblem(where, "is blank", fix or "fill it in")]
        return [ProfileProblem(where, f"{err.instance!r} is not in the expected form", fix)]
    return [ProfileProblem(where, err.message, fix)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rule_problems(data: Mapping[str, Any]) -> list[ProfileProblem]:
    problems: list[ProfileProblem] = []

    def section(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        return value if isinstance(value, Mapping) else {}

    perm = section("permission")
    mode = perm.get("mode")
    if mode == PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION:
        if _blank(perm.get("ethics_reference")):
            problems.append(
                ProfileProblem(
                    "permission.ethics_reference",
                    "is required when permission is waived",
                    "give the reference of the ethics committee decision that waived permission",
                )
            )
        if _blank(perm.get("substitute_protection")):
            problems.append(
                ProfileProblem(
                    "permission.substitute_protection",
                    "is required when permission is waived",
                    "describe the protection that replaces parental permission "
                    "(e.g. an independent assent monitor or child advocate), as approved",
                )
            )
    if mode == PermissionMode.NOT_REQUIRED_FROM_AGE:
        if perm.get("not_required_from_age") is None:
            problems.append(
                ProfileProblem(
                    "permission.not_required_from_age",
                    "is required for mode not_required_from_age",
                    "give the age (whole years) from which permission is not required",
                )
            )
        if perm.get("below_age_mode") is None:
            problems.append(
                ProfileProblem(
                    "permission.below_age_mode",
                    "is required for mode not_required_from_age",
                    "say how permission is obtained below that age: active_opt_in or passive_opt_out",
                )
            )
    else:
        for key in ("not_required_from_age", "below_age_mode"):
            if perm.get(key) is not None:
                problems.append(
                    ProfileProblem(
                        f"permission.{key}",
                        f"only applies to mode not_required_from_age, but mode is {mode}",
                        "remove it, or change the mode",
                    )
                )
    url = data.get("quick_exit_url")
    if isinstance(url, str):
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
            problems.append(
                ProfileProblem(
                    "quick_exit_url",
                    f"{url!r} is not a neutral https:// address",
                    "use a full https:// address of a neutral site, e.g. https://www.bbc.co.uk/weather",
                )
            )
    rep = section("mandatory_reporting")
    if rep.get("status") == ReportingStatus.SOME_ROLES and not rep.get("roles"):
        problems.append(
            ProfileProblem(
                "mandatory_reporting.roles",
                "is empty but status is some_roles",
                "list the roles that must report (e.g. teachers, health workers)",
            )
        )
    ret = section("retention")
    inc, raw = ret.get("incomplete_days"), ret.get("raw_responses_days")
    if isinstance(inc, int) and isinstance(raw, int) and raw < inc:
        problems.append(
            ProfileProblem(
                "retention.raw_responses_days",
                f"({raw}) is shorter than incomplete_days ({inc})",
                "keep raw responses at least as long as incomplete ones",
            )
        )
    helplines = data.get("helplines")
    for i, h in enumerate(helplines if isinstance(helplines, list) else []):
        if isinstance(h, dict) and isinstance(h.get("last_verified"), str):
            try:
                date.fromisoformat(h["last_verified"])
            except ValueError:
                problems.append(
                    ProfileProblem(
                        f"helplines[{i}].last_verified",
                        f"{h['last_verified']!r} is not a real date",
                        "write the date as YYYY-MM-DD",
                    )
                )
    return problems


def _dates_to_text(value: Any) -> Any:
    # YAML reads 2026-11-01 as a date; the schema checks text, so turn dates back into ISO text.
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    return value


def _opt_text(value: Any) -> str | None:
    return None if _blank(value) else str(value).strip()


def profile_from_mapping(data: Mapping[str, Any], *, source: str = "profile") -> CountryProfile:
    """Validate a mapping (a parsed profile file) and build a :class:`CountryProfile`.

    Raises
    ------
    ProfileError
        Listing every problem, each with its field and fix.

    Examples
    --------
    >>> profile_from_mapping({"id": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    consent.profiles.ProfileError: profile is not a valid country profile:
      - name: is missing; fix: the profile's display name
    ...
    """
    if not isinstance(data, Mapping):
        raise ProfileError(
            [ProfileProblem("(top level)", "is not a mapping of fields", "start from consent/profiles/generic.yaml")],
            source,
        )
    data = _dates_to_text(dict(data))
    problems: list[ProfileProblem] = []
    for err in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_schema_problem(err))
    problems = list(dict.fromkeys(problems))  # jsonschema reports "required" once per field
    reported = {p.field for p in problems}
    problems.extend(p for p in _rule_problems(data) if p.field not in reported)
    if problems:
        raise ProfileError(problems, source)

    perm = data["permission"]
    below = perm.get("below_age_mode")
    rep = data["mandatory_reporting"]
    dp = data.get("data_protection") or {}
    return CountryProfile(
        id=data["id"],
        name=data["name"].strip(),
        is_example=data["is_example"],
        permission=ParentalPermission(
            mode=PermissionMode(perm["mode"]),
            ethics_reference=_opt_text(perm.get("ethics_reference")),
            substitute_protection=_opt_text(perm.get("substitute_protection")),
            not_required_from_age=perm.get("not_required_from_age"),
            below_age_mode=PermissionMode(below) if below else None,
        ),
        helplines=tuple(
            Helpline(
                name=h["name"].strip(),
                number=h["number"].strip(),
                hours=h["hours"].strip(),
                languages=tuple(h["languages"]),
                last_verified=date.fromisoformat(h["last_verified"]),
                verified_by=_opt_text(h.get("verified_by")),
                url=_opt_text(h.get("url")),
                text=_opt_text(h.get("text")),
                free=h.get("free"),
                age_range=_opt_text(h.get("age_range")),
                translations=tuple(
                    (code, (words.get("name") or h["name"]).strip(), (words.get("hours") or h["hours"]).strip())
                    for code, words in sorted((h.get("translations") or {}).items())
                ),
            )
            for h in data["helplines"]
        ),
        quick_exit_url=data["quick_exit_url"].strip(),
        quick_exit_local=data.get("quick_exit_local", False),
        disclosure_protocol=data["disclosure_protocol"].strip(),
        own_consent_age=data["own_consent_age"],
        mandatory_reporting=MandatoryReporting(
            ReportingStatus(rep["status"]), tuple(rep.get("roles") or ()), rep.get("notes") or ""
        ),
        retention=RetentionDefaults(**data["retention"]),
        school_name_as_site_code=data.get("school_name_as_site_code", False),
        languages=tuple(data.get("languages") or ("en",)),
        helpline_check_days=data.get("helpline_check_days", DEFAULT_MAX_HELPLINE_AGE_DAYS),
        data_protection_basis=_opt_text(dp.get("basis")),
        gdpr_art8_age=dp.get("gdpr_art8_age"),
        notes=data.get("notes") or "",
    )


def profile_from_yaml(text: str, *, source: str = "profile") -> CountryProfile:
    """Parse and validate a profile from YAML text (see :func:`profile_from_mapping`).

    Examples
    --------
    >>> text = (_bundled_dir() / "generic.yaml").read_text("utf-8")
    >>> profile_from_yaml(text.replace("is_example: true", "is_example: false")).is_example
    False
    """
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. a date like 2026-13-45
        raise ProfileError(
            [ProfileProblem("(file)", f"is not valid YAML: {exc}", "fix the YAML syntax")],
            source,
        ) from None
    return profile_from_mapping(data if data is not None else {}, source=source)


def _bundled_dir() -> Traversable:
    return resources.files("consent") / "profiles"


@functools.cache
def _bundled() -> tuple[CountryProfile, ...]:
    out = []
    for entry in sorted(_bundled_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml") and not entry.name.startswith("_"):
            profile = profile_from_yaml(entry.read_text("utf-8"), source=entry.name)
            if profile.id != entry.name.removesuffix(".yaml"):
                raise ProfileError(
                    [
                        ProfileProblem(
                            "id",
                            f"{profile.id!r} differs from the file name",
                            "make the id equal to the file name without .yaml",
                        )
                    ],
                    entry.name,
                )
            out.append(profile)
    return tuple(out)


def bundled_profiles() -> dict[str, CountryProfile]:
    """The profiles shipped with Sauti, by id (all are examples to replace).

    Examples
    --------
    >>> sorted(bundled_profiles())
    ['example-ke', 'example-uk', 'generic']
    >>> all(p.is_example for p in bundled_profiles().values())
    True
    """
    return {p.id: p for p in _bundled()}


def load_profile(path_or_id: str | Path) -> CountryProfile:
    """Load a profile from a YAML file, or a bundled profile by id.

    Parameters
    ----------
    path_or_id : str or Path
        A path to a ``.yaml``/``.yml`` file, or the id of a bundled profile.

    Raises
    ------
    ProfileError
        The file is not a valid profile (every problem listed).
    LookupError
        No such file or bundled profile.

    Examples
    --------
    >>> load_profile("generic").permission_mode.value
    'active_opt_in'
    """
    p = Path(path_or_id)
    as_text = str(path_or_id)
    if isinstance(path_or_id, Path) or p.suffix in (".yaml", ".yml") or "/" in as_text or "\\" in as_text:
        if not p.is_file():
            raise LookupError(f"no profile file at {str(p)!r}")
        text = p.read_text(encoding="utf-8")
        profile = profile_from_yaml(text, source=str(p))
        return profile
    profiles = bundled_profiles()
    try:
        return profiles[str(path_or_id)]
    except KeyError:
        raise LookupError(
            f"no bundled profile {str(path_or_id)!r}; bundled: {', '.join(sorted(profiles))}; "
            "or give the path of a .yaml file"
        ) from None


# --------------------------------------------------------------------------- freshness


@dataclass(frozen=True, slots=True)
class StaleHelpline:
    """A helpline whose verification is too old (or dated in the future)."""

    name: str
    number: str
    last_verified: date
    age_days: int


@dataclass(frozen=True, slots=True)
class FreshnessResult:
    """Whether a consultation may open as far as the helpline directory is concerned (S-01).

    Attributes
    ----------
    ok : bool
        ``False`` blocks opening.  Truthiness follows ``ok``.
    stale : tuple of StaleHelpline
        Entries verified more than ``max_age_days`` ago.
    future : tuple of StaleHelpline
        Entries whose verification date is after ``today`` (a typo, most likely).
    warnings : tuple of str
        Plain-language messages for the facilitator or administrator.
    is_example : bool
        The profile is a shipped example.
    """

    ok: bool
    stale: tuple[StaleHelpline, ...] = ()
    future: tuple[StaleHelpline, ...] = ()
    warnings: tuple[str, ...] = ()
    is_example: bool = False

    def __bool__(self) -> bool:
        return self.ok


def helplines_fresh(profile: CountryProfile, today: date, max_age_days: int | None = None) -> FreshnessResult:
    """Check that every helpline was verified within ``max_age_days`` days of ``today``.

    ``max_age_days`` defaults to the profile's ``helpline_check_days``.  Exactly that many days
    old is still fresh; one day more is stale.  The rule is the same for a shipped example
    profile (``is_example``), which also gets :data:`EXAMPLE_HELPLINES_WARNING`: whether a
    demonstration may still open on it is decided by :func:`consent.opening.check_opening`.
    Pass the real date: nothing here reads the clock.

    Examples
    --------
    >>> from datetime import date
    >>> result = helplines_fresh(load_profile("generic"), date(2040, 1, 1))
    >>> result.ok, "examples to replace" in result.warnings[0]
    (False, True)
    >>> helplines_fresh(load_profile("generic"), date(2026, 12, 1)).ok
    True
    """
    if max_age_days is None:
        max_age_days = profile.helpline_check_days
    if max_age_days < 0:
        raise ValueError("max_age_days must not be negative")
    stale, future = [], []
    for h in profile.helplines:
        age = (today - h.last_verified).days
        entry = StaleHelpline(h.name, h.number, h.last_verified, age)
        if age < 0:
            future.append(entry)
        elif age > max_age_days:
            stale.append(entry)
    warnings: list[str] = [EXAMPLE_HELPLINES_WARNING] if profile.is_example else []
    for s in stale:
        warnings.append(
            f"{s.name} ({s.number}) was last checked on {s.last_verified.isoformat()}, "
            f"{s.age_days} days ago; a check counts for {max_age_days} days. Call or check "
            "the helpline, then record the date of the check in the country profile."
        )
    for s in future:
        warnings.append(
            f"{s.name} ({s.number}) was checked on {s.last_verified.isoformat()}, which is "
            "after today: correct the date of the check in the country profile."
        )
    if not profile.helplines:
        warnings.append("The country profile lists no helpline: add at least one.")
    ok = not stale and not future and bool(profile.helplines)
    return FreshnessResult(ok, tuple(stale), tuple(future), tuple(warnings), profile.is_example)


def helplines_for(profile: CountryProfile, language: str) -> tuple[Helpline, ...]:
    """The profile's helplines for a help panel in ``language``: those answering in it first,
    each with its name and hours in that language where the profile gives them.

    Every helpline is kept (a child may still call one in another language); the order is
    otherwise the profile's.

    Examples
    --------
    >>> [(h.name, h.hours) for h in helplines_for(load_profile("example-ke"), "sw")]
    [('Childline Kenya', 'Saa 24')]
    """
    return tuple(h.in_language(language) for h in sorted(profile.helplines, key=lambda h: language not in h.languages))


def helplines_missing_language(profile: CountryProfile, language: str) -> tuple[str, ...]:
    """Names of the helplines whose name and hours the profile does not give in ``language``
    (they are written in the profile's first language; others need ``translations``).

    Examples
    --------
    >>> helplines_missing_language(load_profile("example-ke"), "sw")
    ()
    >>> helplines_missing_language(load_profile("example-ke"), "pt")
    ('Childline Kenya',)
    """
    base = profile.languages[0] if profile.languages else "en"
    return tuple(h.name for h in profile.helplines if not h.written_in(language, base))


#: What an instrument's ``{helpline}`` and ``{helplines}`` placeholders become (see
#: :mod:`instruments.placeholders`); filled by :func:`helpline_placeholders`.
HELPLINE_PLACEHOLDERS = ("helpline", "helplines")


def helpline_label(helpline: Helpline) -> str:
    """A helpline as children read it in a sentence: "Name (number)".

    Examples
    --------
    >>> helpline_label(load_profile("example-ke").helplines[0])
    'Childline Kenya (116)'
    """
    return f"{helpline.name} ({helpline.number})"


def helpline_placeholders(profile: CountryProfile, language: str) -> dict[str, str]:
    """The values of the ``{helpline}`` and ``{helplines}`` placeholders for ``language``.

    ``helpline`` is the first of :func:`helplines_for` (one answering in the language comes
    first); ``helplines`` lists them all, separated by commas.

    Examples
    --------
    >>> helpline_placeholders(load_profile("example-uk"), "en")
    {'helpline': 'Childline (0800 1111)', 'helplines': 'Childline (0800 1111)'}
    """
    ordered = helplines_for(profile, language)
    labels = [helpline_label(h) for h in ordered]
    return {"helpline": labels[0] if labels else "", "helplines": ", ".join(labels)}


def profile_schema() -> dict[str, Any]:
    """A deep copy of :data:`PROFILE_SCHEMA` (e.g. to publish for editors).

    Examples
    --------
    >>> import json
    >>> json.loads(json.dumps(profile_schema()))["title"]
    'Sauti country profile'
    """
    return copy.deepcopy(PROFILE_SCHEMA)

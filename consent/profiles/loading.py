"""Reading profiles: from a mapping or YAML (checked first), the bundled examples (the YAML files
beside these modules, in ``consent/profiles/``), or a file or id (:func:`load_profile`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from consent.profiles.model import (
    DEFAULT_MAX_HELPLINE_AGE_DAYS,
    CountryProfile,
    Helpline,
    MandatoryReporting,
    ParentalPermission,
    PermissionMode,
    ReportingStatus,
    RetentionDefaults,
)
from consent.profiles.validation import (
    _VALIDATOR,
    ProfileError,
    ProfileProblem,
    _blank,
    _rule_problems,
    _schema_problem,
)


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
    consent.profiles.validation.ProfileError: profile is not a valid country profile:
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
        country=data.get("country"),
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

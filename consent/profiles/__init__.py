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

from consent.profiles.helplines import (
    HELPLINE_PLACEHOLDERS as HELPLINE_PLACEHOLDERS,
)
from consent.profiles.helplines import (
    FreshnessResult as FreshnessResult,
)
from consent.profiles.helplines import (
    StaleHelpline as StaleHelpline,
)
from consent.profiles.helplines import (
    helpline_label as helpline_label,
)
from consent.profiles.helplines import (
    helpline_placeholders as helpline_placeholders,
)
from consent.profiles.helplines import (
    helplines_for as helplines_for,
)
from consent.profiles.helplines import (
    helplines_fresh as helplines_fresh,
)
from consent.profiles.helplines import (
    helplines_missing_language as helplines_missing_language,
)
from consent.profiles.loading import (
    _bundled as _bundled,
)
from consent.profiles.loading import (
    _bundled_dir as _bundled_dir,
)
from consent.profiles.loading import (
    _dates_to_text as _dates_to_text,
)
from consent.profiles.loading import (
    _opt_text as _opt_text,
)
from consent.profiles.loading import (
    bundled_profiles as bundled_profiles,
)
from consent.profiles.loading import (
    load_profile as load_profile,
)
from consent.profiles.loading import (
    profile_from_mapping as profile_from_mapping,
)
from consent.profiles.loading import (
    profile_from_yaml as profile_from_yaml,
)
from consent.profiles.model import (
    DEFAULT_FIELD_COPY_DAYS as DEFAULT_FIELD_COPY_DAYS,
)
from consent.profiles.model import (
    DEFAULT_MAX_HELPLINE_AGE_DAYS as DEFAULT_MAX_HELPLINE_AGE_DAYS,
)
from consent.profiles.model import (
    DEFAULT_SAFEGUARDING_DAYS as DEFAULT_SAFEGUARDING_DAYS,
)
from consent.profiles.model import (
    EXAMPLE_HELPLINES_WARNING as EXAMPLE_HELPLINES_WARNING,
)
from consent.profiles.model import (
    CountryProfile as CountryProfile,
)
from consent.profiles.model import (
    Helpline as Helpline,
)
from consent.profiles.model import (
    MandatoryReporting as MandatoryReporting,
)
from consent.profiles.model import (
    ParentalPermission as ParentalPermission,
)
from consent.profiles.model import (
    PermissionMode as PermissionMode,
)
from consent.profiles.model import (
    ReportingStatus as ReportingStatus,
)
from consent.profiles.model import (
    RetentionDefaults as RetentionDefaults,
)
from consent.profiles.validation import (
    _VALIDATOR as _VALIDATOR,
)
from consent.profiles.validation import (
    PROFILE_SCHEMA as PROFILE_SCHEMA,
)
from consent.profiles.validation import (
    ProfileError as ProfileError,
)
from consent.profiles.validation import (
    ProfileProblem as ProfileProblem,
)
from consent.profiles.validation import (
    _blank as _blank,
)
from consent.profiles.validation import (
    _load_schema as _load_schema,
)
from consent.profiles.validation import (
    _path as _path,
)
from consent.profiles.validation import (
    _rule_problems as _rule_problems,
)
from consent.profiles.validation import (
    _schema_problem as _schema_problem,
)
from consent.profiles.validation import (
    profile_schema as profile_schema,
)

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

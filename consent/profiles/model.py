"""What a country profile holds: the permission modes, helplines, mandatory reporting, the
retention defaults, and :class:`CountryProfile` itself (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

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
        >>> from consent.profiles import load_profile
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
    country : str or None
        The country's ISO 3166-1 alpha-2 code (``KE``); its name, in the child's language, heads
        the helplines where a page shows several countries' helplines.
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
    >>> from consent.profiles import load_profile
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
    country: str | None = None

    @property
    def permission_mode(self) -> PermissionMode:
        """Shortcut for ``permission.mode``."""
        return self.permission.mode

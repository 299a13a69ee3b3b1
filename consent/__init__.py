"""Sauti consent: pure rules on who may take part, what they are told, and what is kept.

No Flask, no database, no ``survey`` or ``instruments`` import: the survey app calls these
functions and owns the storage.

Modules
-------
profiles
    Country profiles: permission mode, own-consent age, helplines and their freshness, quick
    exit address, mandatory-reporting notes, retention defaults, disclosure protocol.
texts
    Immutable, versioned, content-hashed consent and assent texts; the twelve-element assent
    lint; rendering with the consultation's values.
permission
    Guardian permission by mode, on code cards only (no names).
states
    The participant state machine.
withdrawal
    Stop-and-delete, end re-affirmation, withdrawal codes and retention, as decisions.
storage_policy
    What may never be stored for children; date coarsening; age to band.
codes
    Participation and withdrawal codes: generation, normalisation, keyed hashing.
events
    The consent events the consent store keeps (version, type, method, outcome, date).
opening
    Every consent-side check before a consultation opens, and the text versions to bind.
bands
    Age bands.
"""

from consent.bands import BAND_CODES, DEFAULT_BANDS, Band, band_by_code, validate_bands
from consent.codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeKind,
    InvalidCode,
    code_entropy_bits,
    format_code,
    hash_code,
    is_valid_code,
    new_code,
    new_codes,
    new_participation_code,
    new_withdrawal_code,
    normalize_code,
)
from consent.events import (
    ConsentEvent,
    ConsentEventType,
    ConsentMethod,
    assent_event,
    withdrawal_event,
)
from consent.opening import (
    OpeningCheck,
    check_opening,
    check_permission_choice,
    consultation_permission,
)
from consent.permission import (
    CardAction,
    CardActionRefused,
    CardState,
    PermissionCounts,
    PermissionDecision,
    PermissionReason,
    apply_card_action,
    effective_mode,
    may_proceed_to_assent,
    permission_counts,
)
from consent.profiles import (
    EXAMPLE_HELPLINES_WARNING,
    CountryProfile,
    FreshnessResult,
    Helpline,
    MandatoryReporting,
    ParentalPermission,
    PermissionMode,
    ProfileError,
    ProfileProblem,
    ReportingStatus,
    RetentionDefaults,
    StaleHelpline,
    bundled_profiles,
    helplines_for,
    helplines_fresh,
    load_profile,
    profile_from_mapping,
    profile_from_yaml,
    profile_schema,
)
from consent.states import (
    Event,
    State,
    TransitionRefused,
    allowed_events,
    may_store_answers,
    transition,
)
from consent.storage_policy import (
    FieldKind,
    Finding,
    age_to_band,
    classify_field,
    coarsen_to_date,
    forbidden_columns,
    join_paths,
    normalize_station_label,
    site_code_problem,
)
from consent.texts import (
    ASSENT_ELEMENTS,
    P02_PLACEHOLDERS,
    PLACEHOLDERS,
    CheckOutcome,
    ConfidentialityMode,
    ConsentText,
    ImmutableTextError,
    Issue,
    MissingValues,
    RenderedText,
    TextKind,
    TextRef,
    TextRegistry,
    TextStatus,
    TextStore,
    TextVersionMismatch,
    bundled_texts,
    check_answer,
    check_binding,
    lint_assent,
    lint_guardian,
    render_text,
)
from consent.withdrawal import (
    DataKind,
    RetentionDecision,
    RetentionReason,
    WithdrawalDecision,
    WithdrawalOutcome,
    reaffirmation_decision,
    retention_decision,
    retention_until,
    stop_and_delete,
    withdraw_by_code,
)

__all__ = [
    # bands
    "BAND_CODES",
    "DEFAULT_BANDS",
    "Band",
    "band_by_code",
    "validate_bands",
    # codes
    "ALPHABET",
    "CODE_LENGTH",
    "CodeKind",
    "InvalidCode",
    "code_entropy_bits",
    "format_code",
    "hash_code",
    "is_valid_code",
    "new_code",
    "new_codes",
    "new_participation_code",
    "new_withdrawal_code",
    "normalize_code",
    # events
    "ConsentEvent",
    "ConsentEventType",
    "ConsentMethod",
    "assent_event",
    "withdrawal_event",
    # opening
    "OpeningCheck",
    "check_opening",
    "check_permission_choice",
    "consultation_permission",
    # permission
    "CardAction",
    "CardActionRefused",
    "CardState",
    "PermissionCounts",
    "PermissionDecision",
    "PermissionReason",
    "apply_card_action",
    "effective_mode",
    "may_proceed_to_assent",
    "permission_counts",
    # profiles
    "EXAMPLE_HELPLINES_WARNING",
    "CountryProfile",
    "FreshnessResult",
    "Helpline",
    "MandatoryReporting",
    "ParentalPermission",
    "PermissionMode",
    "ProfileError",
    "ProfileProblem",
    "ReportingStatus",
    "RetentionDefaults",
    "StaleHelpline",
    "bundled_profiles",
    "helplines_for",
    "helplines_fresh",
    "load_profile",
    "profile_from_mapping",
    "profile_from_yaml",
    "profile_schema",
    # states
    "Event",
    "State",
    "TransitionRefused",
    "allowed_events",
    "may_store_answers",
    "transition",
    # storage policy
    "FieldKind",
    "Finding",
    "age_to_band",
    "classify_field",
    "coarsen_to_date",
    "forbidden_columns",
    "join_paths",
    "normalize_station_label",
    "site_code_problem",
    # texts
    "ASSENT_ELEMENTS",
    "P02_PLACEHOLDERS",
    "PLACEHOLDERS",
    "CheckOutcome",
    "ConfidentialityMode",
    "ConsentText",
    "ImmutableTextError",
    "Issue",
    "MissingValues",
    "RenderedText",
    "TextKind",
    "TextRef",
    "TextRegistry",
    "TextStatus",
    "TextStore",
    "TextVersionMismatch",
    "bundled_texts",
    "check_answer",
    "check_binding",
    "lint_assent",
    "lint_guardian",
    "render_text",
    # withdrawal
    "DataKind",
    "RetentionDecision",
    "RetentionReason",
    "WithdrawalDecision",
    "WithdrawalOutcome",
    "reaffirmation_decision",
    "retention_decision",
    "retention_until",
    "stop_and_delete",
    "withdraw_by_code",
]

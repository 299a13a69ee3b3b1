"""Opening a consultation: every consent-side check in one call (S-01, C-01, C-04, C-06, P-02).

The facilitator's or administrator's "Open" action calls :func:`check_opening` with the
consultation's settings.  It checks, without touching a database:

* the country profile is a real one (``is_example: false``), and every helpline was checked
  within the profile's interval of the real date; only a demonstration (``demo=True``) may
  open on an example profile, whose stale helplines are then warnings;
* the permission mode chosen for the consultation is the profile's or stricter, or carries the
  ethics approval that allows it (waiver: plus the substitute protection; passive opt-out:
  the approval reference, §3.3);
* identified mode has an ethics reference (§4.1);
* for every language and band offered, the child information sheet and assent script exist,
  pass :func:`~consent.texts.lint_assent` for the mode, and render with the consultation's
  values (P-02: audience, scope of influence, feedback date, cut-off date);
* the guardian letter and reply form exist (where permission is needed) and pass their lint;
* in a real consultation every bound text is ``approved`` (a demo may pass
  ``require_approved=False`` and gets warnings instead).

It returns the exact text versions to bind (:class:`~consent.texts.TextRef` per document),
which the app stores on the consultation and checks again at enrolment
(:func:`~consent.texts.check_binding`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from consent.bands import DEFAULT_BANDS, Band, band_by_code
from consent.permission import effective_mode
from consent.profiles import (
    EXAMPLE_HELPLINES_WARNING,
    CountryProfile,
    ParentalPermission,
    PermissionMode,
    ReportingStatus,
    helplines_fresh,
)
from consent.texts import (
    ConfidentialityMode,
    ConsentText,
    Issue,
    MissingValues,
    TextKind,
    TextRef,
    TextStatus,
    TextStore,
    lint_assent,
    lint_guardian,
    render_text,
)

__all__ = [
    "OpeningCheck",
    "check_opening",
    "check_permission_choice",
    "consultation_permission",
]

# How protective each mode is for the youngest children (higher is stricter).
_STRICTNESS = {
    PermissionMode.ACTIVE_OPT_IN: 3,
    PermissionMode.NOT_REQUIRED_FROM_AGE: 2,
    PermissionMode.PASSIVE_OPT_OUT: 1,
    PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION: 0,
}


def consultation_permission(
    profile: CountryProfile,
    mode: PermissionMode | str | None = None,
    *,
    ethics_reference: str | None = None,
    substitute_protection: str | None = None,
    not_required_from_age: int | None = None,
    below_age_mode: PermissionMode | str | None = None,
) -> ParentalPermission:
    """The permission rule of one consultation: the profile's, unless a mode is chosen.

    Check the result with :func:`check_permission_choice` before opening.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> consultation_permission(load_profile("generic")).mode.value
    'active_opt_in'
    >>> consultation_permission(load_profile("generic"), "passive_opt_out",
    ...                         ethics_reference="REC-7").ethics_reference
    'REC-7'
    """
    if mode is None:
        return profile.permission
    return ParentalPermission(
        PermissionMode(mode),
        ethics_reference=(ethics_reference or "").strip() or None,
        substitute_protection=(substitute_protection or "").strip() or None,
        not_required_from_age=not_required_from_age,
        below_age_mode=PermissionMode(below_age_mode) if below_age_mode else None,
    )


def check_permission_choice(profile: CountryProfile, permission: ParentalPermission) -> list[Issue]:
    """Problems with a consultation's permission rule, given its country profile.

    Examples
    --------
    >>> from consent.profiles import load_profile
    >>> generic = load_profile("generic")   # active opt-in
    >>> [i.code for i in check_permission_choice(generic,
    ...     consultation_permission(generic, "passive_opt_out"))]
    ['ethics_reference_missing']
    """
    issues: list[Issue] = []
    mode = permission.mode
    looser = _STRICTNESS[mode] < _STRICTNESS[profile.permission.mode]
    if not permission.ethics_reference and (
        looser or mode in (PermissionMode.PASSIVE_OPT_OUT, PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION)
    ):
        why = (
            f"{mode.value} is less protective than the profile's {profile.permission.mode.value}"
            if looser
            else f"{mode.value} needs a documented ethics approval (§3.3)"
        )
        issues.append(
            Issue(
                "ethics_reference_missing",
                f"{why}: record the ethics approval reference for this consultation",
                "permission",
            )
        )
    if mode is PermissionMode.WAIVED_WITH_SUBSTITUTE_PROTECTION and not (permission.substitute_protection):
        issues.append(
            Issue(
                "substitute_protection_missing",
                "a waiver of parental permission needs the substitute protection described "
                "(e.g. an independent assent monitor or child advocate)",
                "permission",
            )
        )
    if mode is PermissionMode.NOT_REQUIRED_FROM_AGE and (
        permission.not_required_from_age is None or permission.below_age_mode is None
    ):
        issues.append(
            Issue(
                "permission_incomplete",
                "not_required_from_age needs the age and the rule below it (below_age_mode)",
                "permission",
            )
        )
    return issues


@dataclass(frozen=True, slots=True)
class OpeningCheck:
    """The result of :func:`check_opening`.  Truthiness follows ``ok``.

    Attributes
    ----------
    ok : bool
        ``False`` blocks opening.
    problems : tuple of Issue
        Each blocking problem; ``element`` holds the text id or the setting concerned.
    warnings : tuple of str
        Shown to the facilitator (e.g. example helplines, draft texts in a demo).
    bindings : mapping of str to TextRef
        The exact versions to store on the consultation, keyed
        ``"<kind>/<language>/<band or ->"`` (e.g. ``"assent_script/en/B"``).
    permission : ParentalPermission
    """

    ok: bool
    problems: tuple[Issue, ...]
    warnings: tuple[str, ...]
    bindings: Mapping[str, TextRef] = field(default_factory=dict)
    permission: ParentalPermission | None = None

    def __bool__(self) -> bool:
        return self.ok


def _slot(kind: TextKind, language: str, band: str | None) -> str:
    return f"{kind.value}/{language}/{band or '-'}"


def check_opening(
    *,
    profile: CountryProfile,
    today: date,
    texts: TextStore,
    languages: Iterable[str],
    bands: Iterable[str | Band],
    values: Mapping[str, object],
    mode: ConfidentialityMode | str = ConfidentialityMode.ANONYMOUS,
    permission: ParentalPermission | None = None,
    require_approved: bool = True,
    max_helpline_age_days: int | None = None,
    all_bands: Iterable[Band] = DEFAULT_BANDS,
    demo: bool = False,
) -> OpeningCheck:
    """Run every consent-side check before a consultation opens to children.

    Parameters
    ----------
    profile : CountryProfile
    today : date
        The opening date: pass the real date (it is never read from the clock here).
    texts : TextStore
        Where text versions live (e.g. :func:`~consent.texts.bundled_texts`).
    languages, bands : iterables
        What the consultation offers children (band codes or :class:`Band`).
    values : mapping
        The consultation's placeholder values (:data:`~consent.texts.PLACEHOLDERS`).
    mode : ConfidentialityMode
    permission : ParentalPermission, optional
        The consultation's rule (:func:`consultation_permission`); the profile's by default.
    require_approved : bool
        ``True`` for a real consultation: every bound text must be ``approved``.
    max_helpline_age_days : int, optional
        How old a helpline check may be; the profile's ``helpline_check_days`` by default.
    all_bands : iterable of Band
        The band definitions the codes refer to.
    demo : bool
        A demonstration: it may open on an example profile, whose stale helplines are then
        warnings.  A real consultation never opens on an example profile.

    Examples
    --------
    >>> from datetime import date
    >>> from consent.profiles import load_profile
    >>> from consent.texts import bundled_texts
    >>> values = dict(organisation="Org", independent_contact="the ethics board",
    ...     contact="0700 000", minutes=15, pages=8, audience="the council",
    ...     influence_scope="school posters, not the law", feedback_date=date(2027, 3, 1),
    ...     cutoff_date=date(2027, 1, 15), helpline="116 111", session_date=date(2026, 12, 3),
    ...     return_by_date=date(2026, 12, 1), ethics_reference="REC-1")
    >>> check = check_opening(profile=load_profile("generic"), today=date(2040, 11, 29),
    ...     texts=bundled_texts(), languages=["en"], bands=["A", "B", "C"], values=values,
    ...     require_approved=False, demo=True)
    >>> check.ok, sorted(check.bindings)[0]
    (True, 'assent_script/en/A')
    >>> refused = check_opening(profile=load_profile("generic"), today=date(2026, 11, 29),
    ...     texts=bundled_texts(), languages=["en"], bands=["B"], values=values)
    >>> refused.ok, refused.problems[0].code
    (False, 'example_profile')
    """
    known_bands = tuple(all_bands)
    opening = _Opening(
        profile=profile,
        today=today,
        texts=texts,
        languages=list(dict.fromkeys(languages)),
        bands=[b if isinstance(b, Band) else band_by_code(b, known_bands) for b in bands],
        values=values,
        mode=ConfidentialityMode(mode),
        permission=permission or profile.permission,
        require_approved=require_approved,
        max_helpline_age_days=max_helpline_age_days,
        demo=demo,
    )
    for check in OPENING_CHECKS:
        check(opening)
    return OpeningCheck(
        not opening.problems,
        tuple(opening.problems),
        tuple(dict.fromkeys(opening.warnings)),
        dict(sorted(opening.bindings.items())),
        opening.permission,
    )


@dataclass(slots=True)
class _Opening:
    """What the checks of :data:`OPENING_CHECKS` read, and the findings they add to."""

    profile: CountryProfile
    today: date
    texts: TextStore
    languages: list[str]
    bands: list[Band]
    values: Mapping[str, object]
    mode: ConfidentialityMode
    permission: ParentalPermission
    require_approved: bool
    max_helpline_age_days: int | None
    demo: bool
    problems: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bindings: dict[str, TextRef] = field(default_factory=dict)

    def bind(self, kind: TextKind, language: str, band: str | None) -> ConsentText | None:
        """The latest text of a slot, bound to the consultation; a problem when it is missing."""
        slot = _slot(kind, language, band)
        try:
            text = self.texts.latest(kind, language, band)
        except LookupError:
            self.problems.append(
                Issue(
                    "text_missing",
                    f"there is no {kind.value} text in {language!r}"
                    + (f" for band {band}" if band else "")
                    + ": write or import one",
                    slot,
                )
            )
            return None
        self.bindings[slot] = text.ref
        if text.status is not TextStatus.APPROVED:
            message = f"{text.text_id} is {text.status.value}, not approved" + (f" ({text.note})" if text.note else "")
            if self.require_approved:
                self.problems.append(
                    Issue(
                        "text_not_approved",
                        message + ": have it reviewed and approved before a real consultation",
                        text.text_id,
                    )
                )
            else:
                self.warnings.append(message)
        return text

    def lint_errors(self, text: ConsentText, issues: Iterable[Issue]) -> None:
        for issue in issues:
            if issue.severity == "error":
                self.problems.append(Issue(issue.code, f"{text.text_id}: {issue.message}", text.text_id))

    def rendered_ok(self, text: ConsentText, permission_mode: str | None = None) -> None:
        try:
            render_text(text, self.values, mode=self.mode, permission_mode=permission_mode)
        except MissingValues as exc:
            self.problems.append(Issue("missing_value", f"{text.text_id}: {exc}", text.text_id))


def _not_an_example(c: _Opening) -> None:
    """A real consultation never opens on an example profile."""
    if c.profile.is_example and not c.demo:
        c.problems.append(
            Issue(
                "example_profile",
                f'The country profile "{c.profile.name}" is an example: its helplines and rules '
                "have not been checked for a real consultation. Choose your organisation's own "
                "country profile for this consultation, or ask an administrator to add one under "
                "Country profiles (marked as not an example, with every helpline checked).",
                "country_profile",
            )
        )


def _helplines_checked(c: _Opening) -> None:
    """Every helpline checked recently (an example's stale helplines are warnings in a demo)."""
    fresh = helplines_fresh(c.profile, c.today, c.max_helpline_age_days)
    c.warnings.extend(fresh.warnings)
    if not fresh.ok and not (c.demo and c.profile.is_example):
        days = c.profile.helpline_check_days if c.max_helpline_age_days is None else c.max_helpline_age_days
        details = " ".join(w for w in fresh.warnings if w != EXAMPLE_HELPLINES_WARNING)
        c.problems.append(
            Issue(
                "helplines_stale",
                f"Children must be shown helplines checked in the last {days} days. {details} "
                "When an administrator has recorded the new checks under Country profiles, open "
                "the consultation again.",
                "helplines",
            )
        )


def _permission_allowed(c: _Opening) -> None:
    c.problems.extend(check_permission_choice(c.profile, c.permission))


def _ethics_reference(c: _Opening) -> None:
    """Identified mode needs an ethics approval."""
    if c.mode is ConfidentialityMode.IDENTIFIED and not str(c.values.get("ethics_reference") or "").strip():
        c.problems.append(
            Issue(
                "ethics_reference_missing", "identified mode needs an ethics approval: fill in ethics_reference", "mode"
            )
        )


def _reporting_duty(c: _Opening) -> None:
    """Anonymous mode where adults must report: a warning to choose facilitated mode."""
    status = c.profile.mandatory_reporting.status
    if c.mode is ConfidentialityMode.ANONYMOUS and status in (ReportingStatus.EVERYONE, ReportingStatus.SOME_ROLES):
        c.warnings.append(
            "In this country some adults must report abuse they learn of. If an adult runs "
            "the session in person, use facilitated mode so children are told what happens "
            "if they tell that adult something (§4.1, §9.6)."
        )


def _offers_something(c: _Opening) -> None:
    if not c.languages:
        c.problems.append(Issue("no_language", "offer at least one language", "languages"))
    if not c.bands:
        c.problems.append(Issue("no_band", "offer at least one age band", "bands"))


def _child_texts(c: _Opening) -> None:
    """Each language and band: the information sheet and assent script, linted and filled."""
    for language in c.languages:
        for band in c.bands:
            for kind in (TextKind.CHILD_INFORMATION, TextKind.ASSENT_SCRIPT):
                text = c.bind(kind, language, band.code)
                if text is None:
                    continue
                c.lint_errors(text, lint_assent(text, c.mode))
                c.rendered_ok(text)


def _guardian_texts(c: _Opening) -> None:
    """Where guardians take part: their letter and reply form in at least one offered language."""
    youngest = min((b.min_age for b in c.bands), default=None)
    needs_guardian = (
        youngest is not None and effective_mode(c.profile, min_age=youngest, permission=c.permission) is not None
    )
    if not (needs_guardian and c.languages):
        return
    pm = c.permission.mode.value
    if c.permission.mode is PermissionMode.NOT_REQUIRED_FROM_AGE:
        pm = c.permission.below_age_mode.value if c.permission.below_age_mode else pm
    for kind in (TextKind.GUARDIAN_INFORMATION, TextKind.GUARDIAN_CONSENT_FORM):
        found = [lang for lang in c.languages if _has(c.texts, kind, lang)]
        if not found:
            c.problems.append(
                Issue(
                    "text_missing", f"guardians need a {kind.value} text in one of {', '.join(c.languages)}", kind.value
                )
            )
            continue
        for lang in c.languages:
            if lang not in found:
                c.warnings.append(f"no {kind.value} in {lang!r}: guardians get {', '.join(found)}")
                continue
            text = c.bind(kind, lang, None)
            if text is None:  # pragma: no cover - _has said it exists
                continue
            c.lint_errors(text, lint_guardian(text, pm))
            c.rendered_ok(text, pm)


#: The checks of :func:`check_opening`, in the order their findings are listed.
OPENING_CHECKS: tuple[Callable[[_Opening], None], ...] = (
    _not_an_example,
    _helplines_checked,
    _permission_allowed,
    _ethics_reference,
    _reporting_duty,
    _offers_something,
    _child_texts,
    _guardian_texts,
)


def _has(texts: TextStore, kind: TextKind, language: str) -> bool:
    try:
        texts.latest(kind, language, None)
    except LookupError:
        return False
    return True

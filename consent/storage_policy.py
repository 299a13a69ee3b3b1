"""What may be stored about children, stated once (DP-01, DP-02, C-10, §3.7).

The survey app's schema test calls :func:`forbidden_columns` on its SQLAlchemy metadata, passed
as plain ``{table: [(column name, type name), ...]}`` so this module stays free of Flask and
SQLAlchemy::

    tables = {t.name: [(c.name, type(c.type).__name__) for c in t.columns]
              for t in db.metadata.sorted_tables if t.name in CHILD_DATA_TABLES}
    assert forbidden_columns(tables) == []

Pass the tables that hold children's data (responses, answers, participants/cards, consent
events, session logs, safeguarding queue); staff tables legitimately hold staff e-mail
addresses.  A reviewed exception is passed as ``allow={"table.column"}``.

The same rules check log-record keys (:func:`classify_field`), so child-facing request logs can
be tested for IP addresses and user agents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from consent.bands import DEFAULT_BANDS, Band

__all__ = [
    "FORBIDDEN_RULES",
    "JoinPath",
    "FieldKind",
    "Finding",
    "ForbiddenRule",
    "age_to_band",
    "classify_field",
    "coarsen_to_date",
    "forbidden_columns",
    "join_paths",
    "normalize_station_label",
    "site_code_problem",
]


class FieldKind(StrEnum):
    """Kinds of data never stored for children."""

    PERSON_NAME = "person_name"
    DATE_OF_BIRTH = "date_of_birth"
    EXACT_AGE = "exact_age"
    EMAIL = "email"
    PHONE = "phone"
    POSTAL_ADDRESS = "postal_address"
    STUDENT_ID = "student_id"
    IP_ADDRESS = "ip_address"
    USER_AGENT = "user_agent"
    DEVICE_FINGERPRINT = "device_fingerprint"
    GEOLOCATION = "geolocation"
    REFERRER = "referrer"
    EXACT_TIMESTAMP = "exact_timestamp"
    SOCIAL_HANDLE = "social_handle"
    SIGNATURE_OR_MEDIA = "signature_or_media"
    PLAIN_CODE = "plain_code"


@dataclass(frozen=True, slots=True)
class ForbiddenRule:
    """One declarative rule: column names (as ``_``-separated tokens) that reveal a kind.

    Attributes
    ----------
    kind : FieldKind
    exact : frozenset of str
        Whole column names (lower case) that match.
    token_sets : tuple of frozenset of str
        A column matches when all tokens of any one set appear among its name's tokens.
    requirement : str
        The requirement IDs that forbid it.
    fix : str
        What to store instead.
    """

    kind: FieldKind
    exact: frozenset[str]
    token_sets: tuple[frozenset[str], ...]
    requirement: str
    fix: str

    def matches(self, name: str) -> bool:
        """Whether a column or key name matches this rule."""
        low = name.lower()
        if low in self.exact:
            return True
        tokens = set(_tokens(low))
        return any(ts <= tokens for ts in self.token_sets)


def _rule(
    kind: FieldKind, exact: Iterable[str], token_sets: Iterable[str], requirement: str, fix: str
) -> ForbiddenRule:
    return ForbiddenRule(
        kind,
        frozenset(exact),
        tuple(frozenset(ts.split()) for ts in token_sets),
        requirement,
        fix,
    )


_PERSON_WORDS = (
    "child",
    "pupil",
    "student",
    "learner",
    "parent",
    "guardian",
    "caregiver",
    "carer",
    "participant",
    "respondent",
    "signatory",
    "mother",
    "father",
    "family",
    "person",
    "teacher",
)

#: The declarative list of what may never be a column of a child-data table.
FORBIDDEN_RULES: tuple[ForbiddenRule, ...] = (
    _rule(
        FieldKind.PERSON_NAME,
        {
            "name",
            "names",
            "first_name",
            "firstname",
            "last_name",
            "lastname",
            "surname",
            "full_name",
            "fullname",
            "given_name",
            "family_name",
            "forename",
            "middle_name",
            "nickname",
            "maiden_name",
            "initials",
        },
        [f"{w} name" for w in _PERSON_WORDS] + [f"{w} initials" for w in _PERSON_WORDS],
        "C-03, DP-01",
        "store no names at all; a card is identified only by its code hash",
    ),
    _rule(
        FieldKind.DATE_OF_BIRTH,
        {"dob", "birthday", "birthdate", "born", "born_on", "yob"},
        ["birth", "birthday"],
        "DP-01, §3.7",
        "store the age band (see age_to_band), not a birth date or birth year",
    ),
    _rule(
        FieldKind.EXACT_AGE,
        {"age", "age_years", "exact_age", "age_in_years"},
        [],
        "D-01, §5.1",
        "store the age band; keep the exact age only where the consultation is configured "
        "to, and then list the column in allow= with the reason",
    ),
    _rule(
        FieldKind.EMAIL,
        {"email", "e_mail", "mail", "email_address", "emailaddress"},
        ["email"],
        "DP-01",
        "children have no accounts; store no e-mail addresses",
    ),
    _rule(
        FieldKind.PHONE,
        {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "msisdn", "whatsapp"},
        ["phone"],
        "DP-01",
        "store no phone numbers; helplines live in the country profile",
    ),
    _rule(
        FieldKind.POSTAL_ADDRESS,
        {
            "address",
            "home_address",
            "street",
            "street_address",
            "postcode",
            "post_code",
            "postal_code",
            "zip",
            "zipcode",
            "zip_code",
            "house_number",
        },
        ["home address", "street", "postcode", "zipcode"],
        "§3.7",
        "store at most a non-identifying site code",
    ),
    _rule(
        FieldKind.STUDENT_ID,
        {"upn", "national_id", "admission_number", "roll_number"},
        [f"{w} id" for w in ("student", "pupil", "learner", "school")]
        + [f"{w} number" for w in ("student", "pupil", "learner", "admission", "roll")],
        "§3.7",
        "store no school-issued identifiers; the code card is the only key",
    ),
    _rule(
        FieldKind.IP_ADDRESS,
        {
            "ip",
            "ip_address",
            "ipaddress",
            "ip_addr",
            "remote_addr",
            "remote_address",
            "client_ip",
            "x_forwarded_for",
            "forwarded_for",
            "real_ip",
        },
        ["ip"],
        "DP-01",
        "store no IP address (and keep it out of child-facing request logs)",
    ),
    _rule(
        FieldKind.USER_AGENT,
        {"user_agent", "useragent", "ua", "browser", "http_user_agent"},
        ["user agent", "useragent"],
        "DP-01",
        "store no user-agent string (and keep it out of child-facing request logs)",
    ),
    _rule(
        FieldKind.DEVICE_FINGERPRINT,
        {"fingerprint", "device_fingerprint", "device_id", "deviceid", "canvas_hash"},
        ["fingerprint", "device id"],
        "DP-01, ICO standard 12",
        "store no device identifiers; sessions are server-side and expire",
    ),
    _rule(
        FieldKind.GEOLOCATION,
        {
            "lat",
            "lng",
            "lon",
            "long",
            "latitude",
            "longitude",
            "geo",
            "geolocation",
            "gps",
            "coordinates",
            "coords",
            "geohash",
            "geopoint",
        },
        ["latitude", "longitude", "geolocation", "gps", "geohash", "geopoint"],
        "DP-01, ICO standard 10",
        "store no location; at most the site code the facilitator chose",
    ),
    _rule(
        FieldKind.REFERRER,
        {"referrer", "referer", "http_referer", "http_referrer", "referrer_url"},
        ["referrer", "referer"],
        "DP-01",
        "store no referrer",
    ),
    _rule(
        FieldKind.SOCIAL_HANDLE,
        {
            "username",
            "user_name",
            "handle",
            "social_handle",
            "instagram",
            "tiktok",
            "snapchat",
            "facebook",
            "twitter",
            "telegram",
        },
        ["social handle", "social media"],
        "S-06, §3.7",
        "children have no accounts; store no handles",
    ),
    _rule(
        FieldKind.SIGNATURE_OR_MEDIA,
        {"signature", "photo", "picture", "selfie", "audio_recording", "voice_recording", "video", "recording"},
        ["signature", "recording", "photo", "selfie"],
        "§3.6, §3.7, D-04",
        "paper permission forms stay with the school; no audio or video of children",
    ),
    _rule(
        FieldKind.PLAIN_CODE,
        {"code", "participation_code", "withdrawal_code", "card_code", "access_code", "resume_code"},
        [],
        "DP-05, security §2.2",
        "store hash_code(code, secret) in a column named *_hash, never the code itself",
    ),
)

_TIME_TYPES = re.compile(r"^(DATETIME|TIMESTAMP|TIME|TIMETZ|DATETIME2|DATETIMEOFFSET)\b")
_TIMESTAMP_FIX = "store a Date (coarsen_to_date) or a session-level window, never a time of day"


@dataclass(frozen=True, slots=True)
class Finding:
    """A column that must not exist in a child-data table.

    Attributes
    ----------
    table, column, type_name : str
    kind : FieldKind
    requirement : str
    fix : str
        What to store instead.
    """

    table: str
    column: str
    type_name: str
    kind: FieldKind
    requirement: str
    fix: str

    def __str__(self) -> str:
        return (
            f"{self.table}.{self.column} ({self.type_name}) looks like {self.kind.value} "
            f"[{self.requirement}]: {self.fix}"
        )


def _tokens(name: str) -> list[str]:
    # split snake_case, kebab-case, dotted and camelCase names into lower-case tokens
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", name.lower()) if t]


def classify_field(name: str, type_name: str | None = None) -> FieldKind | None:
    """Return the forbidden kind a column (or log key) name or type reveals, or ``None``.

    ``type_name`` is a SQLAlchemy type class name (``"DateTime"``) or a SQL type
    (``"TIMESTAMP WITH TIME ZONE"``); any type holding a time of day is an exact timestamp.

    Examples
    --------
    >>> classify_field("guardian_name"), classify_field("instrument_name")
    (<FieldKind.PERSON_NAME: 'person_name'>, None)
    >>> classify_field("created_at", "DateTime"), classify_field("created_on", "Date")
    (<FieldKind.EXACT_TIMESTAMP: 'exact_timestamp'>, None)
    >>> classify_field("remoteAddr"), classify_field("code_hash")
    (<FieldKind.IP_ADDRESS: 'ip_address'>, None)
    """
    for rule in FORBIDDEN_RULES:
        if rule.matches(name) or rule.matches("_".join(_tokens(name))):
            return rule.kind
    if type_name is not None and _TIME_TYPES.match(type_name.strip().upper()):
        return FieldKind.EXACT_TIMESTAMP
    return None


def forbidden_columns(
    table_columns: Mapping[str, Iterable[tuple[str, str]]],
    *,
    allow: Iterable[str] = (),
) -> list[Finding]:
    """List the columns of child-data tables that could hold data children must not give.

    Parameters
    ----------
    table_columns : mapping of table name to iterable of (column name, type name)
        The child-data tables only (see the module docstring).
    allow : iterable of str
        Reviewed exceptions as ``"table.column"`` (e.g. an exact age the ethics board approved).

    Returns
    -------
    list of Finding
        Sorted by table then column; empty when the schema is clean.

    Examples
    --------
    >>> schema = {"responses": [("id", "Uuid"), ("band", "String"), ("ip_address", "String"),
    ...                         ("submitted_at", "DateTime"), ("submitted_on", "Date")]}
    >>> [(f.column, f.kind.value) for f in forbidden_columns(schema)]
    [('ip_address', 'ip_address'), ('submitted_at', 'exact_timestamp')]
    """
    allowed = set(allow)
    findings: list[Finding] = []
    for table, columns in table_columns.items():
        for column, type_name in columns:
            if f"{table}.{column}" in allowed:
                continue
            kind = classify_field(column, type_name)
            if kind is None:
                continue
            if kind is FieldKind.EXACT_TIMESTAMP:
                requirement, fix = "DP-02", _TIMESTAMP_FIX
            else:
                rule = next(r for r in FORBIDDEN_RULES if r.kind is kind)
                requirement, fix = rule.requirement, rule.fix
            findings.append(Finding(table, column, str(type_name), kind, requirement, fix))
    findings.sort(key=lambda f: (f.table, f.column))
    return findings


def coarsen_to_date(moment: datetime | date, tz: tzinfo | None = None) -> date:
    """Drop the time of day: the only form in which children's activity is dated (DP-02).

    Parameters
    ----------
    moment : datetime or date
        A date is returned unchanged.
    tz : tzinfo, optional
        For an aware ``moment``, the zone whose calendar date is wanted (the consultation's
        local zone); without it the moment's own zone is used.

    Examples
    --------
    >>> from datetime import datetime, timezone, timedelta
    >>> coarsen_to_date(datetime(2026, 11, 29, 23, 30))
    datetime.date(2026, 11, 29)
    >>> nairobi = timezone(timedelta(hours=3))
    >>> coarsen_to_date(datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc), nairobi)
    datetime.date(2026, 11, 30)
    """
    if isinstance(moment, datetime):
        if tz is not None and moment.tzinfo is not None:
            moment = moment.astimezone(tz)
        return moment.date()
    if isinstance(moment, date):
        return moment
    raise TypeError(f"expected a datetime or date, got {type(moment).__name__}")


def age_to_band(age: int, bands: Sequence[Band] = DEFAULT_BANDS) -> Band | None:
    """Map an age in whole years to its band, or ``None`` if no band covers it.

    The exact age is used only for this mapping and then dropped (D-01).  Ages outside every
    band (under 8, or 18 and over by default) return ``None``: the app explains that this
    consultation is for another age group.

    Examples
    --------
    >>> age_to_band(12).code
    'B'
    >>> age_to_band(7) is None, age_to_band(18) is None
    (True, True)
    """
    if isinstance(age, bool) or not isinstance(age, int):
        raise TypeError(f"age must be whole years (int), got {age!r}")
    for band in bands:
        if band.contains(age):
            return band
    return None


# --------------------------------------------------------------------------- join paths (C-10)

JoinPath = tuple[str, ...]


def join_paths(
    foreign_keys: Iterable[tuple[str, str]],
    source: str,
    targets: Iterable[str],
    *,
    ignore: Iterable[str] = (),
    max_length: int = 8,
) -> list[JoinPath]:
    """Every join path (over foreign keys, either direction) from ``source`` to a target table.

    The app's schema test passes its foreign keys as ``(table, referenced table)`` pairs and
    asserts that no path leads from the answers to the consent records or to anything that
    identifies a person (C-10, DP-01).  Tables that identify nobody and are shared by many
    rows, such as the consent-text versions both sides may reference, go in ``ignore``: a
    join through a text version links every child who saw it, so it reveals nothing.

    Parameters
    ----------
    foreign_keys : iterable of (table, referenced table)
    source : str
    targets : iterable of str
    ignore : iterable of str
        Tables a path may not pass through.
    max_length : int
        Longest path (in tables) explored.

    Returns
    -------
    list of tuple of str
        Simple paths, shortest first; empty when no join path exists.

    Examples
    --------
    >>> fks = [("answer", "participant"), ("consent_event", "participant"),
    ...        ("participant", "consultation"), ("consent_event", "consent_text"),
    ...        ("participant", "consent_text")]
    >>> join_paths(fks, "answer", ["consent_event"], ignore=["consent_text", "consultation"])
    [('answer', 'participant', 'consent_event')]
    """
    blocked = set(ignore)
    goal = set(targets)
    graph: dict[str, set[str]] = {}
    for a, b in foreign_keys:
        if a == b:
            continue
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    found: list[JoinPath] = []
    stack: list[JoinPath] = [(source,)]
    while stack:
        path = stack.pop()
        here = path[-1]
        if here in goal and len(path) > 1:
            found.append(path)
            continue
        if len(path) >= max_length:
            continue
        for nxt in sorted(graph.get(here, ()), reverse=True):
            if nxt in path or (nxt in blocked and nxt not in goal):
                continue
            stack.append(path + (nxt,))
    return sorted(set(found), key=lambda p: (len(p), p))


# --------------------------------------------------------------------------- labels and codes

_LABEL_CHARS = re.compile(r"^[0-9A-Za-z][0-9A-Za-z \-]*$")


def normalize_station_label(text: str, *, max_length: int = 8) -> str:
    """Check and tidy the seat or station label a child enters for "talk to someone" (S-07).

    The label is shown on the facilitator's live view, so it must never be a name.  Accepted:
    up to ``max_length`` letters, digits, spaces and hyphens, containing a digit (``"Seat 4"``,
    ``"T3"``) or no longer than two characters (``"B"``).  Anything else is refused.

    Raises
    ------
    ValueError
        With a reason the page can turn into "use the number on your table".

    Examples
    --------
    >>> normalize_station_label("  seat 4 ")
    'SEAT 4'
    >>> normalize_station_label("Amina")
    Traceback (most recent call last):
    ...
    ValueError: a seat label is a number or one or two letters, never a name
    """
    label = " ".join(str(text).split()).upper()
    if not label or len(label) > max_length or not _LABEL_CHARS.match(label):
        raise ValueError(f"a seat label is up to {max_length} letters and numbers, like 'T3' or 'Seat 4'")
    if len(label) > 2 and not any(ch.isdigit() for ch in label):
        raise ValueError("a seat label is a number or one or two letters, never a name")
    return label


_SCHOOL_WORDS = frozenset(
    {
        "school",
        "academy",
        "primary",
        "secondary",
        "college",
        "high",
        "grammar",
        "shule",
        "msingi",
        "sekondari",
        "ecole",
        "école",
        "lycee",
        "lycée",
        "collège",
        "escuela",
        "colegio",
        "liceo",
        "instituto",
        "مدرسة",
    }
)


def site_code_problem(code: str, *, school_name_allowed: bool = False) -> str | None:
    """A reason to refuse a site code, or ``None`` if it is fine.

    A site code labels where a session happened (e.g. ``"NRB-07"``).  Unless the country
    profile's ``school_name_as_site_code`` allows it, a code that looks like a school's name is
    refused: with small groups, a school name plus age band can point to individual children.

    Examples
    --------
    >>> site_code_problem("NRB-07") is None
    True
    >>> site_code_problem("Kilimani Primary School")
    "this looks like a school's name; use a neutral code such as 'SITE-07'"
    """
    value = " ".join(str(code).split())
    if not value:
        return "the site code is empty"
    if len(value) > 40:
        return "keep the site code short (40 characters at most)"
    words = {w.lower() for w in re.split(r"[^\w]+", value) if w}
    if not school_name_allowed and words & _SCHOOL_WORDS:
        return "this looks like a school's name; use a neutral code such as 'SITE-07'"
    return None

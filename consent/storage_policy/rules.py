"""The rules of what may not be stored about a child: the kinds of field (:class:`FieldKind`) and
:data:`FORBIDDEN_RULES`, each with the words of a column or log key that it catches and its fix."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


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


def _tokens(name: str) -> list[str]:
    # split snake_case, kebab-case, dotted and camelCase names into lower-case tokens
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", name.lower()) if t]

"""Country profiles uploaded by administrators, kept in the database (issue 6 item 7).

``consent.profiles`` stays pure: it validates a YAML text and builds the profile.  This module
stores validated texts, lists them beside the bundled examples, and records helplines'
verification dates.  An uploaded profile takes precedence over a bundled one with the same id,
so an organisation can replace an example with its checked values without renaming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import time
from importlib import resources

import sqlalchemy as sa
import yaml
from flask_babel import gettext as _

from consent.profiles import CountryProfile, ProfileError, ProfileProblem, bundled_profiles, profile_from_mapping
from consent.profiles import profile_from_yaml as _parse
from survey.database import database_key, write_transaction
from survey.extensions import db
from survey.models import StoredProfile, User
from survey.services import audit

#: Profiles are short: a larger upload is refused before it is parsed.
MAX_PROFILE_BYTES = 64 * 1024


class ProfileUploadError(ValueError):
    """An upload that could not be stored; ``problems`` lists each one (field, message, fix)."""

    def __init__(self, message: str, problems: tuple[ProfileProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class ProfileEntry:
    profile: CountryProfile
    source: str  # bundled | uploaded
    updated_on: dt.date | None = None
    updated_by: str = ""
    replaces_bundled: bool = False


@functools.lru_cache(maxsize=64)
def _parsed(document: str, content_hash: str) -> CountryProfile:  # the hash keys the cache
    return _parse(document, source="stored profile")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: How long a worker process keeps a profile it has read.  Every child-facing page shows the
#: helplines, so reading the profile row on each request cost a query per page under load; an
#: upload shows everywhere within this many seconds (at once in the process that stored it).
STORED_PROFILE_TTL_S = 30.0

_RECENT: dict[tuple[int, str], tuple[float, CountryProfile | None]] = {}


def stored(profile_id: str) -> CountryProfile | None:
    """The uploaded profile with this id, or None.  Parsed once per stored version."""
    key = (database_key(), profile_id)
    now = time.monotonic()
    recent = _RECENT.get(key)
    if recent is not None and recent[0] > now:
        return recent[1]
    row = db.session.get(StoredProfile, profile_id)
    profile = None if row is None else _parsed(row.document, row.content_hash)
    if len(_RECENT) > 256:
        _RECENT.clear()
    _RECENT[key] = (now + STORED_PROFILE_TTL_S, profile)
    return profile


def entries() -> list[ProfileEntry]:
    """Every profile consultations may use: uploaded ones, then bundled ones not replaced."""
    bundled = bundled_profiles()
    out = []
    rows = list(db.session.scalars(sa.select(StoredProfile).order_by(StoredProfile.profile_id)))
    for row in rows:
        out.append(
            ProfileEntry(
                _parsed(row.document, row.content_hash),
                "uploaded",
                row.updated_on,
                row.updated_by,
                row.profile_id in bundled,
            )
        )
    uploaded = {row.profile_id for row in rows}
    out.extend(ProfileEntry(p, "bundled") for pid, p in sorted(bundled.items()) if pid not in uploaded)
    return out


def entry(profile_id: str) -> ProfileEntry | None:
    return next((e for e in entries() if e.profile.id == profile_id), None)


def choices() -> list[tuple[str, str]]:
    """(id, name) pairs for the new-consultation form."""
    return [(e.profile.id, e.profile.name) for e in entries()]


def document(profile_id: str) -> str | None:
    """The YAML text of a profile: the uploaded one, else the bundled file."""
    if "\x00" in profile_id:  # no profile id holds one, and PostgreSQL refuses NUL in a query
        return None
    row = db.session.get(StoredProfile, profile_id)
    if row is not None:
        return row.document
    if profile_id not in bundled_profiles():
        return None
    return (resources.files("consent") / "profiles" / f"{profile_id}.yaml").read_text("utf-8")


def _store(profile: CountryProfile, text: str, actor: User | None, action: str, detail: str = "") -> None:
    with write_transaction() as session:
        row = session.get(StoredProfile, profile.id)
        if row is None:
            row = StoredProfile(profile_id=profile.id)
            session.add(row)
        row.document, row.content_hash = text, _hash(text)
        row.updated_on, row.updated_by = dt.date.today(), actor.username if actor is not None else ""
        audit.record(actor, action, f"profile:{profile.id} {detail}".strip())
    _RECENT.clear()


def upload(data: bytes, *, actor: User | None) -> CountryProfile:
    """Validate an uploaded YAML profile and store it (replacing one with the same id).

    Raises :class:`ProfileUploadError` with every problem consent.profiles found.
    """
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileUploadError(
            _("The file is larger than %(kb)s KB; a country profile is much shorter.", kb=MAX_PROFILE_BYTES // 1024)
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileUploadError(
            _("The file is not UTF-8 text. Save it as YAML (UTF-8) and upload it again.")
        ) from None
    if "\x00" in text:
        raise ProfileUploadError(_("The file is not a text file."))
    try:
        profile = _parse(text, source="the uploaded file")
    except ProfileError as error:
        raise ProfileUploadError(
            _("The profile was not stored: fix these problems and upload it again."), error.problems
        ) from None
    except (RecursionError, TypeError) as error:  # hostile nesting or keys YAML allows
        raise ProfileUploadError(_("The file could not be read as a country profile.")) from error
    _store(profile, text, actor, "profile.upload")
    return profile


def record_verification(profile_id: str, index: int, on: dt.date, *, actor: User | None) -> CountryProfile:
    """Record that helpline ``index`` was checked on ``on`` (by the acting administrator).

    The profile text is rewritten (YAML comments are not kept) and validated again before it is
    stored; a bundled profile becomes an uploaded copy.
    """
    text = document(profile_id)
    if text is None:
        raise LookupError(profile_id)
    if on > dt.date.today():
        raise ProfileUploadError(_("The verification date cannot be in the future."))
    data = yaml.safe_load(text)
    helplines = data.get("helplines") or []
    if not 0 <= index < len(helplines):
        raise LookupError(f"{profile_id} helpline {index}")
    helplines[index]["last_verified"] = on.isoformat()
    helplines[index]["verified_by"] = actor.username if actor is not None else "administrator"
    try:
        profile = profile_from_mapping(data, source=profile_id)
    except ProfileError as error:
        raise ProfileUploadError(
            _("The profile has problems to fix first: upload a corrected file."), error.problems
        ) from None
    new_text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    _store(profile, new_text, actor, "profile.helpline_verified", f"helpline:{index} on:{on.isoformat()}")
    return profile

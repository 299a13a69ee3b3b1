"""Personal access tokens for the API (issue 23): made in the console, stored hashed, scoped.

A token is ``sauti_`` followed by 43 characters from :func:`secrets.token_urlsafe` (256 random
bits).  Only its SHA-256 is stored, as the staff sessions' tokens are
(:mod:`survey.services.accounts`): a slow password hash such as argon2 protects *guessable*
secrets, and a 256-bit random token cannot be guessed, so a fast hash is as safe here and lets
each API call find its token with one indexed look-up instead of ~50 ms of argon2 work.

A token carries scopes (:data:`SCOPES`).  On every call it is worth at most its scopes *and*
what its owner may do now: a scope whose role the owner has lost (:data:`SCOPE_ROLES`) counts
for nothing, a disabled account's tokens stop working, and so do expired and revoked ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from survey.database import write_transaction
from survey.extensions import db
from survey.models import ApiToken, User, utcnow
from survey.services import audit

#: The scopes a token may carry, and what each is called in the console.
SCOPES = {
    "releases:read": _l("Read released results (consultations, releases and their tables, instruments)"),
    "records:read": _l("Read programme records (checklists, influence log, feedback)"),
    "admin": _l("Administer (users, teams and country profiles)"),
}
#: The account roles a scope needs: a token is never worth more than its owner.
SCOPE_ROLES = {"releases:read": ("analyst",), "records:read": ("analyst", "admin"), "admin": ("admin",)}
#: How long a new token may last (days); the console offers these.
EXPIRY_CHOICES = (7, 30, 90, 365)
PREFIX = "sauti_"


class TokenError(ValueError):
    """The token could not be made (the message is for the person who tried)."""


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who an API call acts for: the token's id, its owner and the scopes that count now."""

    token_id: int
    user: User
    scopes: frozenset[str]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def allowed_scopes(user: User) -> list[str]:
    """The scopes ``user``'s roles allow, in :data:`SCOPES` order."""
    return [scope for scope in SCOPES if user.has_role(*SCOPE_ROLES[scope])]


def create(
    user: User, *, name: str, scopes: list[str], days: int, today: dt.date | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the record and the token (shown once, never stored)."""
    wanted = [scope for scope in SCOPES if scope in set(scopes)]
    if not wanted:
        raise TokenError(_l("Choose at least one thing the token may do."))
    refused = set(scopes) - set(allowed_scopes(user))
    if refused:
        raise TokenError(_l("Your account cannot give a token that permission."))
    if days not in EXPIRY_CHOICES:
        raise TokenError(_l("Choose how long the token lasts."))
    name = " ".join((name or "").split())[:80]
    if not name:
        raise TokenError(_l("Give the token a name, such as the dashboard that will use it."))
    today = today or utcnow().date()
    token = PREFIX + secrets.token_urlsafe(32)
    with write_transaction() as session:
        record = ApiToken(
            token_hash=hash_token(token),
            prefix=token[: len(PREFIX) + 4],
            user_id=user.id,
            name=name,
            scopes=" ".join(wanted),
            created_on=today,
            expires_on=today + dt.timedelta(days=days),
        )
        session.add(record)
        session.flush()
        audit.record(user, "api.token.create", f"token:{record.id} scopes:{record.scopes} until:{record.expires_on}")
    return record, token


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones included, marked as such)."""
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke(user: User, token_id: int, today: dt.date | None = None) -> bool:
    """Revoke one of ``user``'s own tokens; False when it is not theirs or already revoked."""
    today = today or utcnow().date()
    with write_transaction() as session:
        record = session.get(ApiToken, token_id)
        if record is None or record.user_id != user.id or record.revoked_on is not None:
            return False
        record.revoked_on = today
        audit.record(user, "api.token.revoke", f"token:{record.id}")
    return True


def is_live(record: ApiToken, today: dt.date | None = None) -> bool:
    today = today or utcnow().date()
    return record.revoked_on is None and record.expires_on >= today


def authenticate(token: str, today: dt.date | None = None) -> Caller | None:
    """The caller a presented token stands for, or None (unknown, expired, revoked, disabled)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    record = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if record is None or not is_live(record, today):
        return None
    user = record.user
    if user is None or not user.active:
        return None
    scopes = frozenset(
        scope for scope in record.scope_set if scope in SCOPE_ROLES and user.has_role(*SCOPE_ROLES[scope])
    )
    return Caller(token_id=record.id, user=user, scopes=scopes)


def note_use(caller: Caller | None, endpoint: str, ids: str, status: int) -> None:
    """The audit log's record of one API call: the token's id, the operation, the ids and the status.

    Nothing else (no address, no query, no answer); the token's ``last_used_on`` is kept to the day.
    """
    today = utcnow().date()
    with write_transaction() as session:
        actor = None
        if caller is not None:
            actor = session.get(User, caller.user.id)
            session.execute(
                sa.update(ApiToken)
                .where(
                    ApiToken.id == caller.token_id,
                    sa.or_(ApiToken.last_used_on.is_(None), ApiToken.last_used_on != today),
                )
                .values(last_used_on=today)
            )
        token = f"token:{caller.token_id}" if caller is not None else "token:none"
        audit.record(actor, "api.call", f"{token} {endpoint[:60]} {ids[:80]} {status}".replace("  ", " "))

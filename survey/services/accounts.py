"""Staff accounts: passwords, server-side sessions, sign-in throttling."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from survey.config import ROLES
from survey.database import write_transaction
from survey.extensions import db
from survey.models import StaffSession, User, utcnow
from survey.services import audit
from survey.throttle import allowed, hit


@functools.cache
def _hasher_for(parameters: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(**dict(parameters))
    # Unknown usernames are checked against this, so they cost as much time as known ones.
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def password_hasher() -> PasswordHasher:
    """argon2id with the configured parameters (default: argon2-cffi's RFC 9106 low-memory
    profile).  Hashes made with weaker parameters are upgraded at the next sign-in."""
    return _hasher_for(tuple(sorted(current_app.config["ARGON2_PARAMETERS"].items())))[0]


def _dummy_hash() -> str:
    return _hasher_for(tuple(sorted(current_app.config["ARGON2_PARAMETERS"].items())))[1]

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message is for the user."""


class SigninThrottled(Exception):
    """Too many failed sign-ins for this account name or this client."""


@dataclasses.dataclass(frozen=True)
class SigninResult:
    user: User | None
    token: str | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def validate_roles(roles: list[str] | tuple[str, ...]) -> str:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise AccountError(
            f"Unknown role(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ROLES)}."
        )
    return " ".join(r for r in ROLES if r in roles)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(
    username: str, password: str, roles: list[str] | tuple[str, ...], *,
    display_name: str = "", actor: User | None = None,
) -> User:
    """Create a staff account.  Raises :class:`AccountError` with a message for the user."""
    name = normalise_username(username)
    if not name or len(name) > 80 or not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError("A username is 1-80 letters, digits or . _ - @, without spaces.")
    role_text = validate_roles(roles)
    validate_password(password)
    with write_transaction() as session:
        if session.scalar(sa.select(User.id).where(User.username == name)) is not None:
            raise AccountError(f"The username {name!r} is taken.")
        user = User(
            username=name, display_name=display_name.strip()[:120],
            password_hash=password_hasher().hash(password), roles=role_text,
        )
        session.add(user)
        session.flush()
        audit.record(actor, "user.create", f"user:{name} roles:{role_text}")
    return user


def update_user(
    user: User, *, roles: list[str] | None = None, active: bool | None = None,
    password: str | None = None, actor: User | None = None,
) -> None:
    with write_transaction() as session:
        user = session.merge(user)
        changes = []
        if roles is not None:
            user.roles = validate_roles(roles)
            changes.append(f"roles:{user.roles}")
        if password:
            validate_password(password)
            user.password_hash = password_hasher().hash(password)
            changes.append("password")
        if active is not None and active != user.active:
            if not active and actor is not None and actor.id == user.id:
                raise AccountError("You cannot deactivate your own account.")
            user.active = active
            changes.append("active" if active else "deactivated")
        if active is False or password:
            # A deactivated account or a new password ends every open session at once.
            session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user.id))
        audit.record(actor, "user.update", f"user:{user.username} {' '.join(changes)}")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_keys(username: str, client_key: str) -> list[tuple[str, str]]:
    name_key = hashlib.sha256(normalise_username(username).encode()).hexdigest()[:32]
    return [
        (current_app.config["SIGNIN_MAX_FAILURES"], f"signin-fail:name:{name_key}"),
        (current_app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"], f"signin-fail:client:{client_key}"),
    ]


def _check_throttle(username: str, client_key: str) -> None:
    for limit_text, key in _throttle_keys(username, client_key):
        if not allowed(limit_text, key):
            raise SigninThrottled


def _count_failure(username: str, client_key: str) -> None:
    for limit_text, key in _throttle_keys(username, client_key):
        hit(limit_text, key)


def sign_in(username: str, password: str, client_key: str) -> SigninResult:
    """Check a password and open a server-side session.

    An unknown user and a wrong password take the same time and give the same answer
    (``SigninResult(None)``); after repeated failures for the name or the client,
    :class:`SigninThrottled` is raised whatever the password, and
    :class:`~survey.throttle.ThrottleUnavailable` when the store cannot count.
    """
    _check_throttle(username, client_key)
    name = normalise_username(username)
    user = db.session.scalar(sa.select(User).where(User.username == name))
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        password_hasher().verify(stored, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        _count_failure(username, client_key)
        with write_transaction():
            audit.record(None, "signin.failed", "")
        return SigninResult(None)
    token = secrets.token_urlsafe(32)
    with write_transaction() as session:
        user = session.merge(user)
        if password_hasher().check_needs_rehash(user.password_hash):
            user.password_hash = password_hasher().hash(password)
        session.add(StaffSession(token_hash=_hash_token(token), user_id=user.id))
        audit.record(user, "signin", f"user:{user.username}")
    user.session_token = token
    return SigninResult(user, token)


def load_session(token: str) -> User | None:
    """Return the user of a live session, or None when it was ended or has been idle too long."""
    key = _hash_token(token)
    record = db.session.get(StaffSession, key)
    if record is None:
        return None
    now = utcnow()
    if now - record.last_seen_at > current_app.config["STAFF_IDLE_TIMEOUT"] or not record.user.active:
        with write_transaction() as session:
            session.execute(sa.delete(StaffSession).where(StaffSession.token_hash == key))
        return None
    if now - record.last_seen_at > dt.timedelta(seconds=30):
        # Refresh at most twice a minute: idle time is measured in minutes, writes are not free.
        with write_transaction() as session:
            session.execute(
                sa.update(StaffSession)
                .where(StaffSession.token_hash == key)
                .values(last_seen_at=now)
            )
        record = db.session.get(StaffSession, key)  # signed out meanwhile in another request?
        if record is None:
            return None
    user = record.user
    user.session_token = token
    return user


def sign_out(user: User) -> None:
    """End the session on the server, so the old cookie is worthless."""
    if not user.session_token:
        return
    with write_transaction() as session:
        session.execute(
            sa.delete(StaffSession).where(StaffSession.token_hash == _hash_token(user.session_token))
        )
        audit.record(session.merge(user), "signout", f"user:{user.username}")


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))

"""Staff accounts: passwords, server-side sessions, sign-in throttling."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import hashlib
import hmac
import secrets
from importlib import resources

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from survey.config import ROLES
from survey.database import write_transaction
from survey.extensions import db
from survey.models import SigninFailure, StaffSession, User, utcnow
from survey.services import audit


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
        raise AccountError(f"Unknown role(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ROLES)}.")
    return " ".join(r for r in ROLES if r in roles)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, lower-cased (survey/data/README.md)."""
    with resources.files("survey").joinpath("data/common-passwords.txt.gz").open("rb") as handle:
        return frozenset(gzip.decompress(handle.read()).decode("utf-8").split())


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if password.lower() in common_passwords() or password.lower().replace(" ", "") in common_passwords():
        raise AccountError("That password is on a list of common or breached passwords; choose another.")


def create_user(
    username: str,
    password: str,
    roles: list[str] | tuple[str, ...],
    *,
    display_name: str = "",
    actor: User | None = None,
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
            username=name,
            display_name=display_name.strip()[:120],
            password_hash=password_hasher().hash(password),
            roles=role_text,
        )
        session.add(user)
        session.flush()
        audit.record(actor, "user.create", f"user:{name} roles:{role_text}")
    return user


def update_user(
    user: User,
    *,
    roles: list[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
    actor: User | None = None,
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


# ---------------------------------------------------------------- failed sign-ins
# Failures are counted in the database (table signin_failure), so that every worker process
# and every server sees the same count (with per-process memory, 2 workers locked after 3).
# Three keys, each with progressive delays rather than a lock that stays:
#
# - the account from one client: SIGNIN_MAX_FAILURES free failures, then a wait that doubles
#   with each further failure (1 min, 2, 4, ... up to SIGNIN_MAX_DELAY);
# - the account from everywhere (bounds guessing from many addresses): more free failures,
#   then doubling waits, but a device the account has signed in from before (the device cookie
#   set at sign-in) is exempt, so someone who only knows the username cannot lock its owner out;
# - the client, whatever account it tries (stops one machine trying many usernames).
#
# Failures are forgotten SIGNIN_FAILURE_MEMORY after the last one; an administrator can
# unlock an account at once (`sauti users unlock NAME`, or the account's page).


@dataclasses.dataclass(frozen=True)
class _Budget:
    key: str
    free: int
    first_delay: dt.timedelta


def _keyed(*parts: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def _account_key(username: str) -> str:
    return _keyed("account", normalise_username(username))


def _budgets(username: str, client_key: str, known_device: bool) -> list[_Budget]:
    config = current_app.config
    account = _account_key(username)
    budgets = [
        _Budget(
            _keyed("account-client", account, client_key), int(config["SIGNIN_MAX_FAILURES"]), dt.timedelta(minutes=1)
        ),
        _Budget(_keyed("client", client_key), int(config["SIGNIN_MAX_FAILURES_PER_CLIENT"]), dt.timedelta(minutes=1)),
    ]
    if not known_device:
        budgets.append(_Budget(account, int(config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]), dt.timedelta(seconds=30)))
    return budgets


def _duration(name: str) -> dt.timedelta:
    """A duration setting: a timedelta, or seconds (as ``SAUTI_*`` environment variables give)."""
    value = current_app.config[name]
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=float(value))


def _delay(budget: _Budget, failures: int) -> dt.timedelta | None:
    if failures < budget.free:
        return None
    delay = budget.first_delay * 2 ** min(failures - budget.free, 20)
    return min(delay, _duration("SIGNIN_MAX_DELAY"))


def _check_throttle(username: str, client_key: str, known_device: bool) -> None:
    now = utcnow()
    keys = [budget.key for budget in _budgets(username, client_key, known_device)]
    rows = db.session.scalars(sa.select(SigninFailure).where(SigninFailure.key.in_(keys)))
    if any(row.blocked_until is not None and row.blocked_until > now for row in rows):
        raise SigninThrottled


def _count_failure(username: str, client_key: str, known_device: bool) -> None:
    now = utcnow()
    memory = _duration("SIGNIN_FAILURE_MEMORY")
    account = _account_key(username)
    for _attempt in range(3):  # two processes inserting the same new key: the loser retries
        try:
            with write_transaction() as session:
                session.execute(sa.delete(SigninFailure).where(SigninFailure.last_failure_at < now - memory))
                for budget in _budgets(username, client_key, known_device):
                    row = session.get(SigninFailure, budget.key, with_for_update=True)
                    if row is None:
                        row = SigninFailure(key=budget.key, account_key=account, failures=0)
                        session.add(row)
                    row.failures += 1
                    row.last_failure_at = now
                    delay = _delay(budget, row.failures)
                    row.blocked_until = now + delay if delay is not None else None
            return
        except sa.exc.IntegrityError:
            continue


def _clear_failures(username: str, client_key: str) -> None:
    """A right password from this client: forget this client's failures for the account."""
    key = _keyed("account-client", _account_key(username), client_key)
    with write_transaction() as session:
        session.execute(sa.delete(SigninFailure).where(SigninFailure.key == key))


def unlock(user: User, *, actor: User | None = None) -> None:
    """End every wait on ``user``'s account at once (an administrator's unlock)."""
    with write_transaction() as session:
        session.execute(sa.delete(SigninFailure).where(SigninFailure.account_key == _account_key(user.username)))
        audit.record(actor, "user.unlock", f"user:{user.username}")


def is_waiting(user: User) -> bool:
    """Whether sign-ins to ``user``'s account are being delayed for some client just now."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SigninFailure)
            .where(SigninFailure.account_key == _account_key(user.username), SigninFailure.blocked_until > utcnow())
        )
        > 0
    )


# A device an account has signed in from before carries a signed cookie naming the account
# (by keyed hash); failures from it never count towards the account-wide wait.
DEVICE_COOKIE_MAX_AGE = dt.timedelta(days=365)


def _device_serializer():  # itsdangerous.URLSafeTimedSerializer
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sauti-staff-device")


def device_token(username: str) -> str:
    return _device_serializer().dumps(_account_key(username)[:32])


def is_known_device(token: str | None, username: str) -> bool:
    if not token:
        return False
    from itsdangerous import BadData

    try:
        value = _device_serializer().loads(token, max_age=int(DEVICE_COOKIE_MAX_AGE.total_seconds()))
    except BadData:
        return False
    return hmac.compare_digest(str(value), _account_key(username)[:32])


def sign_in(username: str, password: str, client_key: str, *, device: str | None = None) -> SigninResult:
    """Check a password and open a server-side session.

    An unknown user and a wrong password take the same time and give the same answer
    (``SigninResult(None)``); after repeated failures for the name or the client,
    :class:`SigninThrottled` is raised whatever the password (see "failed sign-ins" above).
    ``device`` is the device cookie a previous sign-in set, if any.
    """
    known_device = is_known_device(device, username)
    _check_throttle(username, client_key, known_device)
    name = normalise_username(username)
    user = db.session.scalar(sa.select(User).where(User.username == name))
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        password_hasher().verify(stored, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        _count_failure(username, client_key, known_device)
        with write_transaction():
            audit.record(None, "signin.failed", "")
        return SigninResult(None)
    _clear_failures(username, client_key)
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
    if (
        now - record.last_seen_at > current_app.config["STAFF_IDLE_TIMEOUT"]
        or now - record.created_at > _duration("STAFF_SESSION_LIFETIME")
        or not record.user.active
    ):
        with write_transaction() as session:
            session.execute(sa.delete(StaffSession).where(StaffSession.token_hash == key))
        return None
    if now - record.last_seen_at > dt.timedelta(seconds=30):
        # Refresh at most twice a minute: idle time is measured in minutes, writes are not free.
        with write_transaction() as session:
            session.execute(sa.update(StaffSession).where(StaffSession.token_hash == key).values(last_seen_at=now))
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
        session.execute(sa.delete(StaffSession).where(StaffSession.token_hash == _hash_token(user.session_token)))
        audit.record(session.merge(user), "signout", f"user:{user.username}")


def sign_out_everywhere(user: User, *, actor: User | None = None) -> int:
    """End every session of ``user`` on every device (by the user, or by an administrator).

    Returns the number of sessions ended.
    """
    with write_transaction() as session:
        ended = session.execute(sa.delete(StaffSession).where(StaffSession.user_id == user.id)).rowcount
        audit.record(actor or session.merge(user), "signout.everywhere", f"user:{user.username} sessions:{ended}")
    return ended


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))

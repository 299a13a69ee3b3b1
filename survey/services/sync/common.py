"""What every part of the hand-over shares: limits, the refusal, keys (:mod:`survey.services.sync`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from consent.states import State
from consent.withdrawal import COUNT_ONLY_STATES
from survey.extensions import db
from survey.models import CLONED_FIELDS, FieldPackage, utcnow
from survey.sync import bundle as fmt

#: Days a field package can be imported and used after it was made, unless told otherwise.
PACKAGE_DAYS = 60
#: The largest bundle the central server takes (an upload or a file).
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
#: How far a device's signed request may be from the central server's clock (seconds).
REQUEST_SKEW_S = 15 * 60

#: Consultation columns a field package carries: the settings a clone copies (one owner:
#: ``CLONED_FIELDS``) but the site, which the package names for the laptop, plus the title and the
#: approved texts' bindings.
CONSULTATION_FIELDS = ("title", *(name for name in CLONED_FIELDS if name != "site_code"), "text_bindings")
_DATE_FIELDS = ("feedback_due", "analysis_cutoff", "retention_until")

#: Participant states after which a laptop's copy of the child's records is finished with.
ENDED_STATES = frozenset({State.COMPLETED.value, State.WITHDRAWN.value, State.DECLINED.value, State.EXPIRED.value})
#: Participant states in which a card holds no answers (a withdrawal, a No, an expiry): consent's
#: count-only states, as stored.
EMPTY_STATES = frozenset(state.value for state in COUNT_ONLY_STATES)


class SyncRefused(Exception):
    """A package, bundle, receipt or request refused; nothing was changed.  The message is for people."""


def today() -> dt.date:
    return utcnow().date()


def _hex(data: bytes) -> str:
    return data.hex()


def _unhex(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError) as error:
        raise SyncRefused(f"The {what} cannot be read.") from error


# ============================================================================= keys
def _key_file(name: str) -> Path:
    from survey.instance import make_private_folder

    folder = make_private_folder(Path(current_app.instance_path) / "sync")
    return folder / name


def _read_or_make(path: Path, make) -> bytes:  # a function returning 32/64 bytes
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    raw = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    return raw


def central_keys() -> fmt.CentralKeys:
    """The central server's keys, in ``<instance>/sync/central.key`` (0600), made on first use."""
    configured = current_app.config.get("SYNC_CENTRAL_KEY")
    if configured:
        return fmt.central_keys_from(_unhex(configured, "central key"))
    return fmt.central_keys_from(_read_or_make(_key_file("central.key"), lambda: fmt.new_central_keys().to_bytes()))


def central_fingerprint() -> str:
    return fmt.fingerprint(central_keys().sign_public)


def device_key(package_id: str):  # a nacl SigningKey
    """This laptop's signing key for one package, in ``<instance>/sync/device-<package>.key`` (0600)."""
    import nacl.signing

    raw = _read_or_make(_key_file(f"device-{package_id}.key"), lambda: fmt.new_device_key().encode())
    return nacl.signing.SigningKey(raw)


def site_key(consultation_id: int, site: str) -> bytes:
    """The key of a site's card hashes, derived from the app's secret: never stored centrally."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, f"sauti-field-site:{consultation_id}:{site}".encode(), hashlib.sha256).digest()


def field_code_keys() -> list[bytes]:
    """The site keys of the field packages imported here (a laptop); empty on a central server."""
    return [bytes.fromhex(key) for key in db.session.scalars(sa.select(FieldPackage.code_key))]


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise SyncRefused("This bundle cannot be read.") from error

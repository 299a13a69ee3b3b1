"""A field laptop's database, encrypted: unreadable without its instance key (issue 22).

A laptop carried between schools can be lost or stolen; the children's answers on it must not be
readable.  ``sauti sync protect`` turns the laptop's SQLite file into a SQLCipher file (the
``sqlcipher3-binary`` wheel: SQLite with every page encrypted with AES-256 and authenticated
with HMAC-SHA512, write-ahead log included).  Nothing here is home-made cryptography: SQLCipher
encrypts the pages, PyNaCl (libsodium) derives and wraps the key.

The instance key is 32 random bytes.  It is never stored as it is: ``<instance>/instance.key``
holds it sealed (``SecretBox``, XSalsa20-Poly1305) under a key derived from the facilitator's
passphrase with Argon2id (libsodium's "moderate" limits, 256 MiB and about a second, so that
guessing passphrases on a stolen laptop is slow).  The file is what tells Sauti that the
database is protected; without the passphrase it opens nothing.

At start (:func:`instance_key`) the key comes, in this order, from ``SAUTI_DATABASE_KEY`` (the
raw key in hex: how ``sauti serve`` hands it to its worker processes and helpers, which inherit
the environment of the process the facilitator started), from ``SAUTI_DATABASE_PASSPHRASE``
(a service started without a terminal), or from the passphrase typed at the terminal.  A wrong
passphrase or key stops the start with a plain message (:class:`DatabaseLocked`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

#: The sealed instance key, in the instance folder beside the database (never the key itself).
KEY_FILE = "instance.key"
#: Environment variables: the raw key (hex; set by Sauti for its own child processes), or the passphrase.
KEY_VARIABLE = "SAUTI_DATABASE_KEY"
PASSPHRASE_VARIABLE = "SAUTI_DATABASE_PASSPHRASE"  # noqa: S105 # nosec B105 - a variable's name
#: A passphrase shorter than this is refused when the key is sealed.
MIN_PASSPHRASE = 10
_TRIES = 3


class DatabaseLocked(click.ClickException):
    """The database is protected and the key or passphrase given does not open it (a plain message)."""


def key_file(instance_path: str | os.PathLike) -> Path:
    return Path(instance_path) / KEY_FILE


def sqlcipher():  # the sqlcipher3 DB-API module
    """The SQLCipher driver, or a plain message saying how to install it."""
    try:
        from sqlcipher3 import dbapi2  # type: ignore[import-untyped]
    except ImportError as error:  # pragma: no cover - installed with Sauti on Linux; see README
        raise DatabaseLocked(
            "The encryption library (SQLCipher) is not installed on this computer: "
            "see the field-laptop section of the deployment guide."
        ) from error
    return dbapi2


def _kdf(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    import nacl.pwhash

    return nacl.pwhash.argon2id.kdf(32, passphrase.encode(), salt, opslimit=ops, memlimit=mem)


def seal_key(key: bytes, passphrase: str) -> bytes:
    """``key`` sealed under ``passphrase`` (Argon2id, then SecretBox), as the key file's bytes."""
    import nacl.pwhash
    import nacl.secret
    import nacl.utils

    if len(passphrase) < MIN_PASSPHRASE:
        raise click.ClickException(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters.")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    ops, mem = nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    sealed = nacl.secret.SecretBox(_kdf(passphrase, salt, ops, mem)).encrypt(key)
    document = {"v": 1, "kdf": "argon2id", "ops": ops, "mem": mem, "salt": salt.hex(), "sealed": sealed.hex()}
    return (json.dumps(document, indent=1) + "\n").encode()


def open_key(data: bytes, passphrase: str) -> bytes:
    """The instance key from the key file's bytes; :class:`DatabaseLocked` for a wrong passphrase."""
    import nacl.exceptions
    import nacl.secret

    try:
        document: dict[str, Any] = json.loads(data)
        salt, sealed = bytes.fromhex(document["salt"]), bytes.fromhex(document["sealed"])
        box = nacl.secret.SecretBox(_kdf(passphrase, salt, int(document["ops"]), int(document["mem"])))
    except (ValueError, KeyError, TypeError) as error:
        raise DatabaseLocked("This laptop's key file is damaged; restore it from where it was copied.") from error
    try:
        return box.decrypt(sealed)
    except nacl.exceptions.CryptoError as error:
        raise DatabaseLocked("That passphrase does not open this laptop's data.") from error


def write_private(path: Path, data: bytes) -> None:
    """Write ``path`` readable by this user only, replacing it whole."""
    partial = path.with_name(path.name + ".new")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def connect(database: str, key: bytes, *, timeout: float = 10.0):  # a sqlcipher3 connection
    """A connection to the encrypted ``database``, keyed before anything else is read."""
    connection = sqlcipher().connect(database, timeout=timeout, check_same_thread=False)
    connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return connection


def check_key(database: str, key: bytes) -> None:
    """Read the schema with ``key``: :class:`DatabaseLocked` if it does not open ``database``."""
    module = sqlcipher()
    try:
        with contextlib.closing(connect(database, key)) as connection:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except module.DatabaseError as error:
        raise DatabaseLocked("That key does not open this laptop's data.") from error


def instance_key(instance_path: str, database: str | None, config_key: object = None) -> bytes | None:
    """The key of the protected database, or None when the instance is not protected.

    The raw key (environment or ``config_key``) wins; then the passphrase from the environment;
    then, at a terminal, the facilitator types it (three tries).  The raw key is then put into
    this process's environment so that the server's worker processes, started after this, open
    the database without asking again.
    """
    path = key_file(instance_path)
    if not path.exists() or not database:
        return None
    raw = os.environ.get(KEY_VARIABLE) or (config_key if isinstance(config_key, str) else "")
    if raw:
        try:
            key = bytes.fromhex(raw)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise DatabaseLocked(f"{KEY_VARIABLE} is not a key for this laptop's data.")
        check_key(database, key)
        return key
    sealed = path.read_bytes()
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    if passphrase is not None:
        key = open_key(sealed, passphrase)
        os.environ.pop(PASSPHRASE_VARIABLE, None)  # programs started from here need the key, never the passphrase
    elif sys.stdin is not None and sys.stdin.isatty():
        for attempt in range(_TRIES):
            typed = click.prompt("Passphrase of this laptop's data", hide_input=True, err=True)
            try:
                key = open_key(sealed, typed)
                break
            except DatabaseLocked:
                if attempt == _TRIES - 1:
                    raise
                click.echo("That passphrase does not open this laptop's data; try again.", err=True)
    else:
        raise DatabaseLocked(
            "This laptop's data is encrypted: start Sauti from a terminal and type its passphrase, "
            f"or set {PASSPHRASE_VARIABLE}."
        )
    check_key(database, key)
    os.environ[KEY_VARIABLE] = key.hex()
    return key


def encrypt_database(database: str, key: bytes) -> None:
    """Rewrite the plain SQLite file ``database`` encrypted with ``key``, in place.

    The plain file's bytes are overwritten with zeros before it is removed (a best effort: an
    SSD may keep old blocks, which is why docs/deploy.md asks for disk encryption as well).
    """
    module = sqlcipher()
    target = database + ".encrypting"
    Path(target).unlink(missing_ok=True)
    with contextlib.closing(module.connect(database, isolation_level=None)) as plain:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.execute("ATTACH DATABASE ? AS encrypted KEY \"x'" + key.hex() + "'\"", (target,))
        plain.execute("SELECT sqlcipher_export('encrypted')")
        version = plain.execute("PRAGMA user_version").fetchone()[0]
        plain.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        plain.execute("DETACH DATABASE encrypted")
    os.chmod(target, 0o600)
    check_key(target, key)
    size = os.path.getsize(database)
    with open(database, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(target, database)
    for suffix in ("-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)

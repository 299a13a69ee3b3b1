"""The bytes of field packages, bundles and receipts: signatures and encryption, nothing else.

No Flask and no database here (the service, :mod:`survey.services.sync`, decides what goes in
and what an import changes).  All cryptography is PyNaCl's (libsodium):

* signatures are Ed25519 (:class:`nacl.signing.SigningKey`): the central server signs field
  packages and receipts, a field laptop's device key signs its bundles and requests;
* a bundle's contents are sealed to the central server's X25519 public key
  (:class:`nacl.public.SealedBox`: an ephemeral key per bundle, so the laptop that made a bundle
  cannot read it back, and nobody else can either).

A bundle is ``BUNDLE_MAGIC`` then a signed message (64-byte signature, then the message); the
message is a 4-byte length, the header (JSON: device, package, consultation, sequence) and the
sealed, zlib-compressed JSON payload.  The header is signed but readable, so the central server
can refuse a bundle for another consultation, out of order or from an unknown device before it
decrypts anything; the payload repeats the header, and both must agree.

Examples
--------
>>> central = new_central_keys()
>>> device = new_device_key()
>>> data = seal_bundle({"sequence": 1}, {"answers": []}, device, central.box_public)
>>> read_header(data)["sequence"]
1
>>> open_bundle(data, device.verify_key.encode(), central)[1]["answers"]
[]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from typing import Any

import nacl.exceptions
import nacl.public
import nacl.signing

PACKAGE_MAGIC = b"SAUTI-FIELD-PACKAGE 1\n"
BUNDLE_MAGIC = b"SAUTI-BUNDLE 1\n"
RECEIPT_MAGIC = b"SAUTI-RECEIPT 1\n"

#: The largest payload a bundle may unpack to (a decompression bomb stops here).
MAX_PAYLOAD_BYTES = 512 * 1024 * 1024
#: The largest header a bundle may carry.
MAX_HEADER_BYTES = 16 * 1024


class BundleError(ValueError):
    """A package, bundle or receipt that cannot be trusted or read; the message is for people."""


@dataclasses.dataclass(frozen=True)
class CentralKeys:
    """The central server's two key pairs: one signs, one opens sealed bundles."""

    signing: nacl.signing.SigningKey
    box: nacl.public.PrivateKey

    @property
    def sign_public(self) -> bytes:
        return self.signing.verify_key.encode()

    @property
    def box_public(self) -> bytes:
        return self.box.public_key.encode()

    def to_bytes(self) -> bytes:
        """64 bytes: the signing seed, then the box's private key (keep them secret)."""
        return self.signing.encode() + self.box.encode()


def new_central_keys() -> CentralKeys:
    return CentralKeys(nacl.signing.SigningKey.generate(), nacl.public.PrivateKey.generate())


def central_keys_from(raw: bytes) -> CentralKeys:
    if len(raw) != 64:
        raise BundleError("The central server's key file is damaged.")
    return CentralKeys(nacl.signing.SigningKey(raw[:32]), nacl.public.PrivateKey(raw[32:]))


def new_device_key() -> nacl.signing.SigningKey:
    return nacl.signing.SigningKey.generate()


def fingerprint(public_key: bytes) -> str:
    """A short form of a public key for people to compare: 32 hex digits in groups of four.

    >>> len(fingerprint(bytes(32)))
    39
    """
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return "-".join(digest[i : i + 4] for i in range(0, 32, 4))


def device_id(public_key: bytes) -> str:
    """The id the central server files a device under: 32 hex digits of its key's SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _parse(raw: bytes, what: str) -> dict:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BundleError(f"The {what} cannot be read.") from error
    if not isinstance(value, dict):
        raise BundleError(f"The {what} cannot be read.")
    return value


def _verify(data: bytes, public_key: bytes, what: str) -> bytes:
    try:
        return nacl.signing.VerifyKey(public_key).verify(data)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError) as error:
        raise BundleError(f"The {what} has been changed or damaged: its signature does not match.") from error


# ----------------------------------------------------------------------------- signed documents
def sign_document(magic: bytes, content: dict, key: nacl.signing.SigningKey) -> bytes:
    """``magic`` then ``content`` as JSON, signed (packages and receipts)."""
    return magic + bytes(key.sign(_json(content)))


def open_document(magic: bytes, data: bytes, public_key: bytes, what: str) -> dict:
    """The content of a document made by :func:`sign_document`, if ``public_key`` signed it."""
    if not data.startswith(magic):
        raise BundleError(f"This file is not a Sauti {what}.")
    return _parse(_verify(data[len(magic) :], public_key, what), what)


def unverified_document(magic: bytes, data: bytes, what: str) -> dict:
    """The content of a signed document without checking the signature (to find its signer)."""
    if not data.startswith(magic) or len(data) < len(magic) + 64:
        raise BundleError(f"This file is not a Sauti {what}.")
    return _parse(data[len(magic) + 64 :], what)


def sign_request(key: nacl.signing.SigningKey, content: dict) -> bytes:
    """A device's request to the central server: its JSON, signed."""
    return bytes(key.sign(_json(content)))


def open_request(data: bytes, public_key: bytes) -> dict:
    return _parse(_verify(data, public_key, "request"), "request")


def unverified_request(data: bytes) -> dict:
    if len(data) < 64:
        raise BundleError("The request cannot be read.")
    return _parse(data[64:], "request")


# ----------------------------------------------------------------------------- bundles
def seal_bundle(header: dict, payload: dict, device_key: nacl.signing.SigningKey, central_box_public: bytes) -> bytes:
    """A bundle: ``header`` readable and signed, ``payload`` compressed and sealed to the central server."""
    head = _json(header)
    body = zlib.compress(_json({**payload, "header": header}), 6)
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(central_box_public)).encrypt(body)
    return BUNDLE_MAGIC + bytes(device_key.sign(len(head).to_bytes(4, "big") + head + sealed))


def _split(message: bytes) -> tuple[dict, bytes]:
    if len(message) < 4:
        raise BundleError("This bundle is incomplete.")
    length = int.from_bytes(message[:4], "big")
    if length > MAX_HEADER_BYTES or len(message) < 4 + length:
        raise BundleError("This bundle is incomplete.")
    return _parse(message[4 : 4 + length], "bundle"), message[4 + length :]


def read_header(data: bytes) -> dict:
    """The bundle's header, not yet checked (to find the device whose key must have signed it)."""
    if not data.startswith(BUNDLE_MAGIC):
        raise BundleError("This file is not a Sauti bundle.")
    return _split(data[len(BUNDLE_MAGIC) + 64 :])[0]


def open_bundle(data: bytes, device_public: bytes, central: CentralKeys) -> tuple[dict, dict]:
    """Check the device's signature, open the sealed payload; ``(header, payload)``.

    Raises :class:`BundleError` for anything changed, damaged, or sealed to another server.
    """
    if not data.startswith(BUNDLE_MAGIC):
        raise BundleError("This file is not a Sauti bundle.")
    header, sealed = _split(_verify(data[len(BUNDLE_MAGIC) :], device_public, "bundle"))
    try:
        body = nacl.public.SealedBox(central.box).decrypt(sealed)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, TypeError) as error:
        raise BundleError("This bundle was not made for this server: it cannot be opened here.") from error
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(body, MAX_PAYLOAD_BYTES)
    except zlib.error as error:
        raise BundleError("This bundle is damaged.") from error
    if inflate.unconsumed_tail:
        raise BundleError("This bundle is too large to import.")
    payload = _parse(raw, "bundle")
    if payload.pop("header", None) != header:
        raise BundleError("This bundle is damaged: its contents do not match its label.")
    return header, payload

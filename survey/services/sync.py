"""Field laptops and the central server (issue 22): provisioning, bundles, merging, receipts.

A laptop in a school runs ``sauti serve`` on SQLite with no internet; the programme's central
server runs ``sauti serve`` on PostgreSQL behind TLS.  This module owns every commit of the hand-over
on both sides; the bytes, signatures and encryption are :mod:`survey.sync.bundle` (PyNaCl).

Central server
    :func:`make_package` issues code cards for a site (their hashes under the site's key, kept
    in :class:`~survey.models.FieldCard`) and signs a field package: the consultation, the
    instrument version, the country profile, the bound consent texts and their hashes, the
    site's card hashes and the central server's public keys.  :func:`register_device` files a
    laptop's Ed25519 key for one package.  :func:`import_bundle` checks and merges a bundle
    in one transaction and answers with a signed receipt.

Laptop
    :func:`import_package` refuses a package that is changed, expired, signed by another key
    or meant for another site, then sets up the consultation here.  :func:`export_bundle` seals
    what happened (participants' states, answers, page saves, assent events, withdrawals,
    session logs, concern records, audit entries) to the central server and signs it with the
    device key.  :func:`accept_receipt` records the signed receipt; :func:`purge_confirmed`
    deletes the children's records it covers ``retention.field_copy_days`` later.

The merging rules (one place):

* every row has a global id: participants, answers, page saves and assent events carry the
  UUIDs both sides share; concern records, session logs and audit entries are filed under
  ``device:kind:local id`` (:class:`~survey.models.SyncedRecord`).  A participant's answers in a
  bundle are the whole of them, so importing the same or an overlapping bundle again changes
  nothing;
* a withdrawal made anywhere wins: a card withdrawn centrally (or by an earlier bundle) keeps
  no answers that arrive later, and a withdrawal in a bundle deletes what the central server held;
* a card is used on one device only: the first bundle that used it names its device
  (``FieldCard.laptop_id``); another device's answers for it are refused (counted), and that
  laptop learns at its next pull (:func:`device_status`);
* a bundle is refused whole, changing nothing, when it is changed, from an unknown or revoked
  device, for another consultation, or older than the newest imported from that device (the
  same bundle again is "already imported" and gets its receipt again);
* every import is in the audit log on both sides, with counts only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from consent.states import State
from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    AuditEvent,
    ConcernFlag,
    Consultation,
    FacilitationSession,
    FieldBundle,
    FieldCard,
    FieldPackage,
    InstrumentVersion,
    PageSave,
    Participant,
    StoredProfile,
    SyncDevice,
    SyncedRecord,
    SyncImport,
    SyncPackage,
    SyncUpload,
    User,
    new_uuid,
    utcnow,
)
from survey.services import audit
from survey.sync import bundle as fmt

#: Days a field package can be imported and used after it was made, unless told otherwise.
PACKAGE_DAYS = 60
#: The largest bundle the central server takes (an upload or a file).
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
#: How far a device's signed request may be from the central server's clock (seconds).
REQUEST_SKEW_S = 15 * 60

#: Consultation columns a field package carries (the laptop's copy is opened with them).
CONSULTATION_FIELDS = (
    "title",
    "instrument_id",
    "instrument_version",
    "instrument_hash",
    "screening_deny_list",
    "languages",
    "age_bands",
    "country_profile",
    "consent_mode",
    "facilitated",
    "shared_device",
    "setting",
    "research_mode",
    "ethics_reference",
    "organisation",
    "purpose",
    "audience",
    "influence_scope",
    "contact",
    "independent_contact",
    "session_pin_hash",
    "text_bindings",
    "feedback_due",
    "analysis_cutoff",
    "retention_until",
)
_DATE_FIELDS = ("feedback_due", "analysis_cutoff", "retention_until")

#: Participant states after which a laptop's copy of the child's records is finished with.
ENDED_STATES = frozenset({State.COMPLETED.value, State.WITHDRAWN.value, State.DECLINED.value, State.EXPIRED.value})
#: Participant states in which a card holds no answers (a withdrawal, a No, an expiry).
EMPTY_STATES = frozenset({State.WITHDRAWN.value, State.DECLINED.value, State.EXPIRED.value})


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


# ============================================================================= central: packages
@dataclasses.dataclass(frozen=True)
class MadePackage:
    package_id: str
    data: bytes
    enrol_token: str
    cards: list  # participants.CodeCard: printed once, never stored
    fingerprint: str


def _clean_site(site: str) -> str:
    site = " ".join(site.split())
    if not site or len(site) > 60:
        raise SyncRefused("Give the site a name of 1 to 60 characters (a school or centre code).")
    return site


def make_package(
    consultation: Consultation,
    site: str,
    *,
    cards: int,
    actor: User | None = None,
    days: int = PACKAGE_DAYS,
    central_url: str = "",
) -> MadePackage:
    """Issue ``cards`` code cards for ``site`` and make a signed field package for one laptop.

    ``cards=0`` issues none (a second laptop for a site whose cards exist: it gets them all).
    """
    from survey.services import participants

    site = _clean_site(site)
    if consultation.state != "open":
        raise SyncRefused("Open the consultation (its consent checks) before making field packages.")
    key = site_key(consultation.id, site)
    printed = participants.issue_codes(consultation, cards, actor=actor, site=site, field_key=key) if cards else []
    if (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(FieldCard)
            .where(FieldCard.consultation_id == consultation.id, FieldCard.site == site)
        )
        == 0
    ):
        raise SyncRefused("This site has no code cards yet: issue some with the package.")
    token = secrets.token_urlsafe(18)
    with write_transaction() as session:
        package = SyncPackage(
            consultation_id=consultation.id,
            site=site,
            expires_on=today() + dt.timedelta(days=days),
            made_by=actor.username if actor is not None else "",
            enrol_hash=hashlib.sha256(token.encode()).hexdigest(),
        )
        session.add(package)
        session.flush()
        audit.record(actor, "sync.package", f"consultation:{consultation.id} site:{site} new cards:{cards}")
    data = package_content(consultation, package, central_url)
    return MadePackage(package.id, data, token, printed, central_fingerprint())


def package_document(package_id: str, enrol_token: str, central_url: str = "") -> bytes:
    """The field package again, for ``sauti sync pull URL`` (the enrolment token shows it may):
    signed afresh, with the site's cards as they stand now."""
    package = db.session.get(SyncPackage, package_id)
    if package is None or not _token_matches(package, enrol_token):
        raise SyncRefused("No such field package, or the enrolment code is wrong.")
    if package.expires_on < today():
        raise SyncRefused("This field package has expired: make a new one.")
    return package_content(db.session.get(Consultation, package.consultation_id), package, central_url)


def package_content(consultation: Consultation, package: SyncPackage, central_url: str = "") -> bytes:
    """The signed field package of ``package``: everything a laptop needs to run the consultation."""
    from survey.services import profile_store
    from survey.services.instrument_store import find

    keys = central_keys()
    rows = db.session.execute(
        sa.select(
            FieldCard.participant_id,
            FieldCard.code_hash,
            FieldCard.withdrawal_hash,
            Participant.card_number,
            Participant.permission,
            Participant.state,
        )
        .join(Participant, Participant.id == FieldCard.participant_id)
        .where(FieldCard.consultation_id == consultation.id, FieldCard.site == package.site)
    ).all()
    record = find(consultation.instrument_id, consultation.instrument_version)
    profile_doc = db.session.get(StoredProfile, consultation.country_profile)
    consultation_fields = {}
    for name in CONSULTATION_FIELDS:
        value = getattr(consultation, name)
        consultation_fields[name] = value.isoformat() if isinstance(value, dt.date) else value
    content = {
        "package": package.id,
        "site": package.site,
        "made_on": package.made_on.isoformat(),
        "expires_on": package.expires_on.isoformat(),
        "central_consultation_id": consultation.id,
        "central": {"sign": _hex(keys.sign_public), "box": _hex(keys.box_public), "url": central_url},
        "consultation": consultation_fields,
        "instrument": {
            "id": record.instrument_id,
            "version": record.version,
            "hash": record.content_hash,
            "document": record.document,
        },
        "profile": {
            "id": consultation.country_profile,
            "document": profile_doc.document if profile_doc is not None else None,
            "hash": profile_doc.content_hash
            if profile_doc is not None
            else profile_store._hash(profile_store.document(consultation.country_profile) or ""),
        },
        "texts": json.loads(consultation.text_bindings or "{}"),
        "code_key": _hex(site_key(consultation.id, package.site)),
        # Only cards not used yet: a card used centrally or withdrawn never works on a laptop.
        "cards": [
            {"id": pid, "code_hash": code, "withdrawal_hash": withdrawal, "number": number, "permission": permission}
            for pid, code, withdrawal, number, permission, state in rows
            if state == State.ISSUED.value
        ],
    }
    return fmt.sign_document(fmt.PACKAGE_MAGIC, content, keys.signing)


def _token_matches(package: SyncPackage, token: str) -> bool:
    return hmac.compare_digest(package.enrol_hash, hashlib.sha256((token or "").encode()).hexdigest())


# ============================================================================= central: devices
def register_device(package_id: str, public_key: bytes, enrol_token: str) -> SyncDevice:
    """File a laptop's key for a package (once; the enrolment token shows it holds the package)."""
    package = db.session.get(SyncPackage, package_id)
    if package is None or not _token_matches(package, enrol_token):
        raise SyncRefused("This laptop could not be registered: the enrolment code is wrong.")
    if package.expires_on < today():
        raise SyncRefused("This field package has expired: make a new one.")
    device_id = fmt.device_id(public_key)
    existing = db.session.scalar(sa.select(SyncDevice).where(SyncDevice.package_id == package_id))
    if existing is not None:
        if existing.id == device_id:
            return existing
        raise SyncRefused("Another laptop is already registered with this field package.")
    with write_transaction() as session:
        device = SyncDevice(id=device_id, public_key=_hex(public_key), package_id=package_id)
        session.add(device)
        audit.record(
            None,
            "sync.device.register",
            f"consultation:{package.consultation_id} site:{package.site} device:{device_id}",
        )
    return device


def register_request(data: bytes) -> bytes:
    """``POST /sync/api/devices``: a signed registration; answers with a signed confirmation."""
    try:
        request = fmt.unverified_request(data)
        public_key = _unhex(str(request.get("public_key", "")), "request")
        fmt.open_request(data, public_key)
    except (fmt.BundleError, ValueError) as error:
        raise SyncRefused(str(error)) from error
    _check_clock(request)
    device = register_device(str(request.get("package", "")), public_key, str(request.get("enrol", "")))
    return fmt.sign_document(
        fmt.RECEIPT_MAGIC,
        {"kind": "registered", "device": device.id, "package": device.package_id},
        central_keys().signing,
    )


def revoke_device(device_id: str, actor: User | None = None) -> None:
    with write_transaction() as session:
        device = session.get(SyncDevice, device_id)
        if device is None:
            raise SyncRefused("No such device.")
        device.state = "revoked"
        audit.record(actor, "sync.device.revoke", f"device:{device_id}")


def devices() -> list[tuple[SyncDevice, SyncPackage]]:
    return list(
        db.session.execute(
            sa.select(SyncDevice, SyncPackage)
            .join(SyncPackage, SyncPackage.id == SyncDevice.package_id)
            .order_by(SyncPackage.site)
        )
    )


def recent_imports(limit: int = 50) -> list[tuple[SyncImport, str, dict]]:
    """The newest imports: the import, its site, and its counts."""
    rows = db.session.execute(
        sa.select(SyncImport, SyncPackage.site)
        .join(SyncDevice, SyncDevice.id == SyncImport.laptop_id)
        .join(SyncPackage, SyncPackage.id == SyncDevice.package_id)
        .order_by(SyncImport.id.desc())
        .limit(limit)
    ).all()
    return [(row, site, json.loads(row.counts)) for row, site in rows]


def receipt_for_import(import_id: int) -> tuple[bytes, int]:
    """The signed receipt of an import again (for a bundle that came by hand), and its number."""
    record = db.session.get(SyncImport, import_id)
    if record is None:
        raise SyncRefused("No such import.")
    device = db.session.get(SyncDevice, record.laptop_id)
    package = db.session.get(SyncPackage, device.package_id)
    return _receipt(device, package, record.sequence, record.digest, json.loads(record.counts)), record.sequence


def _check_clock(request: dict) -> None:
    at = request.get("at")
    if not isinstance(at, int | float) or abs(utcnow().timestamp() - at) > REQUEST_SKEW_S:
        raise SyncRefused("The laptop's clock is too far from the central server's: set its date and time.")


def signed_device_request(data: bytes) -> tuple[SyncDevice, dict]:
    """The active device that signed ``data`` (a request to the central server), and its content."""
    try:
        request = fmt.unverified_request(data)
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error
    device = db.session.get(SyncDevice, str(request.get("device", "")))
    if device is None:
        raise SyncRefused("This laptop is not registered with the central server.")
    try:
        content = fmt.open_request(data, bytes.fromhex(device.public_key))
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error
    if device.state != "active":
        raise SyncRefused("This laptop's key has been revoked: ask the programme team.")
    _check_clock(content)
    return device, content


def device_status(device: SyncDevice) -> bytes:
    """What a laptop must learn at its next pull, signed: cards used elsewhere or withdrawn."""
    package = db.session.get(SyncPackage, device.package_id)
    rows = db.session.execute(
        sa.select(FieldCard.participant_id, FieldCard.laptop_id, Participant.state)
        .join(Participant, Participant.id == FieldCard.participant_id)
        .where(FieldCard.consultation_id == package.consultation_id, FieldCard.site == package.site)
    ).all()
    withdrawn, elsewhere = [], []
    for participant_id, used_by, state in rows:
        if state in EMPTY_STATES:
            withdrawn.append(participant_id)
        elif (used_by and used_by != device.id) or (used_by is None and state != State.ISSUED.value):
            elsewhere.append(participant_id)
    return fmt.sign_document(
        fmt.RECEIPT_MAGIC,
        {
            "kind": "status",
            "device": device.id,
            "package": package.id,
            "last_sequence": device.last_sequence,
            "withdrawn": sorted(withdrawn),
            "used_elsewhere": sorted(elsewhere),
            "on": today().isoformat(),
        },
        central_keys().signing,
    )


def withdraw_field_card(participant: Participant) -> bool:
    """A withdrawal code typed here for a card still out on a field laptop (state issued here).

    The withdrawal wins: the card is marked withdrawn now, so answers arriving later in a bundle
    are dropped (:func:`import_bundle`), and the laptop deletes its copy at its next pull.
    Returns False for a card that is not a field card (nothing to do).
    """
    if participant.state != State.ISSUED.value or db.session.get(FieldCard, participant.id) is None:
        return False
    with write_transaction() as session:
        record = session.get(Participant, participant.id)
        record.state = State.WITHDRAWN.value
        record.withdrawal_hash = None
        audit.record(None, "sync.field_withdrawal", f"consultation:{record.consultation_id}")
    return True


# ============================================================================= central: import
@dataclasses.dataclass(frozen=True)
class Imported:
    receipt: bytes
    counts: dict[str, int]
    already: bool = False


def import_bundle(data: bytes, *, actor: User | None = None) -> Imported:
    """Check and merge one bundle (all or nothing); a signed receipt.  Raises :class:`SyncRefused`."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise SyncRefused("This bundle is too large to import.")
    try:
        header = fmt.read_header(data)
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error
    device, package, enrol_key = _bundle_device(header)
    keys = central_keys()
    try:
        header, payload = fmt.open_bundle(data, enrol_key or bytes.fromhex(device.public_key), keys)
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error
    if header.get("consultation") != package.consultation_id or header.get("package") != package.id:
        raise SyncRefused("This bundle is for another consultation: nothing was imported.")
    if device is None:  # first contact by file: the bundle carries the enrolment
        device = register_device(package.id, enrol_key, str(payload.get("enrol", "")))
    if device.state != "active":
        raise SyncRefused("This laptop's key has been revoked: its bundle was not imported.")
    sequence = header.get("sequence")
    if not isinstance(sequence, int) or sequence < 1:
        raise SyncRefused("This bundle cannot be read.")
    digest = fmt.digest(data)
    earlier = db.session.scalar(
        sa.select(SyncImport).where(SyncImport.laptop_id == device.id, SyncImport.sequence == sequence)
    )
    if earlier is not None:
        if earlier.digest != digest:
            raise SyncRefused("A different bundle with this number was already imported: nothing was imported.")
        counts = json.loads(earlier.counts)
        return Imported(_receipt(device, package, sequence, digest, counts), counts, already=True)
    if sequence <= device.last_sequence:
        raise SyncRefused(
            f"This bundle is older than one already imported from this laptop "
            f"(number {sequence}, newest {device.last_sequence}): nothing was imported."
        )
    counts = _merge(device, package, payload, sequence, digest, actor)
    return Imported(_receipt(device, package, sequence, digest, counts), counts)


def _bundle_device(header: dict) -> tuple[SyncDevice | None, SyncPackage, bytes | None]:
    """The registered device that must have signed, or (first bundle by file) the key it names."""
    package = db.session.get(SyncPackage, str(header.get("package", "")))
    if package is None:
        raise SyncRefused("This bundle is from a laptop this server does not know: nothing was imported.")
    device = db.session.get(SyncDevice, str(header.get("device", "")))
    if device is not None:
        if device.package_id != package.id:
            raise SyncRefused("This bundle's labels do not match: nothing was imported.")
        return device, package, None
    public_key = _unhex(str(header.get("public_key", "")), "bundle")
    if len(public_key) != 32 or fmt.device_id(public_key) != header.get("device"):
        raise SyncRefused("This bundle is from a laptop that is not registered: nothing was imported.")
    if db.session.scalar(sa.select(SyncDevice.id).where(SyncDevice.package_id == package.id)) is not None:
        raise SyncRefused("This bundle is from a laptop that is not registered: nothing was imported.")
    return None, package, public_key


def _receipt(device: SyncDevice, package: SyncPackage, sequence: int, digest: str, counts: dict) -> bytes:
    return fmt.sign_document(
        fmt.RECEIPT_MAGIC,
        {
            "kind": "receipt",
            "device": device.id,
            "package": package.id,
            "sequence": sequence,
            "digest": digest,
            "counts": counts,
            "on": today().isoformat(),
        },
        central_keys().signing,
    )


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


def _merge(
    device: SyncDevice, package: SyncPackage, payload: dict, sequence: int, digest: str, actor: User | None
) -> dict[str, int]:
    from survey.services.retention import delete_childs_records, holder_tag

    counts: Counter[str] = Counter()
    try:
        people = {str(p["id"]): p for p in payload.get("participants", [])}
        answers = payload.get("answers", [])
        page_saves = payload.get("page_saves", [])
        assents = payload.get("assent_events", [])
    except (TypeError, KeyError) as error:
        raise SyncRefused("This bundle cannot be read.") from error
    with write_transaction() as session:
        # Lock the device row (PostgreSQL): two imports from one device never interleave.
        locked = session.execute(sa.select(SyncDevice).where(SyncDevice.id == device.id).with_for_update()).scalar_one()
        if sequence <= locked.last_sequence:
            raise SyncRefused("This bundle was imported meanwhile: nothing more was imported.")
        cards: dict[str, tuple[FieldCard, Participant]] = {}
        for chunk in _chunks(list(people)):
            for card, participant in session.execute(
                sa.select(FieldCard, Participant)
                .join(Participant, Participant.id == FieldCard.participant_id)
                .where(
                    FieldCard.participant_id.in_(chunk),
                    FieldCard.consultation_id == package.consultation_id,
                    FieldCard.site == package.site,
                )
            ):
                cards[participant.id] = (card, participant)
        accepted: set[str] = set()
        for pid, row in people.items():
            found = cards.get(pid)
            state = str(row.get("state", ""))
            if found is None:
                counts["cards_unknown"] += 1
                continue
            card, participant = found
            if state == State.ISSUED.value and card.laptop_id != device.id:
                continue  # not used on this laptop: nothing to say about it
            if card.laptop_id is None:
                if participant.state != State.ISSUED.value and participant.state not in EMPTY_STATES:
                    counts["cards_used_elsewhere"] += 1  # used on the central server itself
                    continue
                card.laptop_id = device.id
            elif card.laptop_id != device.id:
                counts["cards_used_elsewhere"] += 1
                continue
            if participant.state in EMPTY_STATES:
                # Withdrawn (or declined) already: withdrawal wins over answers arriving later.
                counts["withdrawn_before_arrival" if state not in EMPTY_STATES else "withdrawals_known"] += 1
                continue
            if state in EMPTY_STATES:
                delete_childs_records(session, participant)
                participant.state = state
                participant.withdrawal_hash = None
                counts["withdrawals"] += 1
                continue
            participant.state = state
            participant.band = row.get("band")
            participant.language = row.get("language")
            participant.seat_label = str(row.get("seat_label") or "")[:20]
            participant.page_index = int(row.get("page_index") or 0)
            participant.last_active_on = _date(row.get("last_active_on"))
            participant.permission = str(row.get("permission") or participant.permission)[:20]
            accepted.add(pid)
            counts[f"participants_{state}"] += 1
        session.flush()
        ids = sorted(accepted)
        for chunk in _chunks(ids):
            session.execute(sa.delete(Answer).where(Answer.participant_id.in_(chunk)))
        # Answers travel as [participant, item, value, saved_on]: their key is participant and
        # item, and the central server gives each its own random id (DP-02).
        try:
            rows = [
                {
                    "id": new_uuid(),
                    "participant_id": str(a[0]),
                    "item": str(a[1])[:120],
                    "value": str(a[2]),
                    "saved_on": _date(a[3]) or today(),
                }
                for a in answers
                if str(a[0]) in accepted
            ]
        except (TypeError, IndexError, KeyError) as error:
            raise SyncRefused("This bundle cannot be read.") from error
        _insert_rows(session, Answer.__table__, rows)
        counts["answers"] = len(rows)
        counts["answers_refused"] = len(answers) - len(rows)
        saves = [
            {"token": str(s["token"])[:64], "participant_id": str(s["participant"]), "digest": str(s["digest"])[:64]}
            for s in page_saves
            if str(s.get("participant")) in accepted
        ]
        counts["page_saves"] = _insert_new(session, PageSave.__table__, saves, "token")
        events = []
        for event in assents:
            holder = event.get("participant")
            if holder is not None and str(holder) not in accepted:
                continue
            events.append(
                {
                    "id": str(event["id"]),
                    "consultation_id": package.consultation_id,
                    "text_id": str(event["text_id"])[:80],
                    "text_hash": str(event["text_hash"])[:64],
                    "outcome": str(event["outcome"])[:10],
                    "method": str(event.get("method") or "screen")[:20],
                    "recorded_on": _date(event.get("recorded_on")) or today(),
                    "holder_tag": holder_tag(str(holder)) if holder is not None else None,
                }
            )
        counts["assent_events"] = _insert_new(session, AssentEvent.__table__, events, "id")
        sessions_map = _merge_sessions(session, device, package, payload.get("sessions", []), counts)
        _merge_concerns(session, device, package, payload.get("concerns", []), sessions_map, counts)
        _merge_audit(session, device, package, payload.get("audit", []), counts)
        locked.last_sequence = sequence
        result = {key: int(value) for key, value in sorted(counts.items()) if value}
        session.add(SyncImport(laptop_id=device.id, sequence=sequence, digest=digest, counts=json.dumps(result)))
        audit.record(
            actor,
            "sync.import",
            f"consultation:{package.consultation_id} site:{package.site} "
            f"bundle:{sequence} " + " ".join(f"{k}:{v}" for k, v in result.items()),
        )
    return result


def _insert_new(session, table: sa.Table, rows: list[dict], key: str) -> int:
    """Insert the rows whose ``key`` is not stored yet; how many were new."""
    if not rows:
        return 0
    seen: set[str] = set()
    column = table.c[key]
    values = [row[key] for row in rows]
    for chunk in _chunks(values):
        seen.update(session.scalars(sa.select(column).where(column.in_(chunk))))
    fresh, kept = [], set()
    for row in rows:
        if row[key] not in seen and row[key] not in kept:
            fresh.append(row)
            kept.add(row[key])
    _insert_rows(session, table, fresh)
    return len(fresh)


def _insert_rows(session, table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` fast: PostgreSQL's COPY (one statement per row, even pipelined, took
    10 s for a 2,000-child bundle's 86,000 answers), SQLite's executemany."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    names = [column.name for column in table.columns if column.name in rows[0]]
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(tuple(row[name] for name in names))


def _synced(session, global_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(global_ids):
        found.update(
            session.execute(
                sa.select(SyncedRecord.global_id, SyncedRecord.local_id).where(SyncedRecord.global_id.in_(chunk))
            ).all()
        )
    return found


def _merge_sessions(session, device: SyncDevice, package: SyncPackage, rows: list, counts: Counter) -> dict[str, int]:
    """Session logs (counts only): new ones added, known ones brought up to date (closed later)."""
    gids = {f"{device.id}:session:{row['id']}": row for row in rows}
    known = _synced(session, list(gids))
    mapping: dict[str, int] = {}
    for gid, row in gids.items():
        values = {
            "started_on": _date(row.get("started_on")) or today(),
            "training_attested_on": _date(row.get("training_attested_on")) or today(),
            "checklist": str(row.get("checklist") or "")[:200],
            "state": str(row.get("state") or "open")[:10],
            "closed_on": _date(row.get("closed_on")),
            "number_present": row.get("number_present"),
            "incident": bool(row.get("incident")),
            "referral_category": str(row.get("referral_category") or "")[:30],
            "summary": json.dumps(row.get("summary") or {}),
        }
        if gid in known:
            record = session.get(FacilitationSession, int(known[gid]))
            if record is not None:
                for name, value in values.items():
                    setattr(record, name, value)
                mapping[str(row["id"])] = record.id
            continue
        record = FacilitationSession(consultation_id=package.consultation_id, **values)
        session.add(record)
        session.flush()
        session.add(SyncedRecord(global_id=gid, kind="session", local_id=str(record.id)))
        mapping[str(row["id"])] = record.id
        counts["sessions"] += 1
    return mapping


def _merge_concerns(
    session, device: SyncDevice, package: SyncPackage, rows: list, sessions_map: dict[str, int], counts: Counter
) -> None:
    gids = {f"{device.id}:concern:{row['id']}": row for row in rows}
    known = _synced(session, list(gids))
    for gid, row in gids.items():
        if gid in known:
            continue
        local_session = row.get("session")
        record = ConcernFlag(
            consultation_id=package.consultation_id,
            item=str(row.get("item") or "")[:120],
            excerpt=str(row.get("excerpt") or ""),
            concerns=str(row.get("concerns") or "")[:400],
            flagged_on=_date(row.get("flagged_on")) or today(),
            session_id=sessions_map.get(str(local_session)) if local_session is not None else None,
            seat_label=str(row.get("seat_label") or "")[:20],
        )
        session.add(record)
        session.flush()
        session.add(SyncedRecord(global_id=gid, kind="concern", local_id=str(record.id)))
        counts["concerns"] += 1


def _merge_audit(session, device: SyncDevice, package: SyncPackage, rows: list, counts: Counter) -> None:
    gids = {f"{device.id}:audit:{row['id']}": row for row in rows}
    known = _synced(session, list(gids))
    for gid, row in gids.items():
        if gid in known:
            continue
        try:
            at = dt.datetime.fromisoformat(str(row.get("at")))
        except ValueError:
            at = utcnow()
        record = AuditEvent(
            at=at,
            actor_name=f"{package.site}/{row.get('actor_name') or ''}"[:80],
            action=str(row.get("action") or "")[:60],
            target=f"field:{package.site} {row.get('target') or ''}"[:200],
        )
        session.add(record)
        session.flush()
        session.add(SyncedRecord(global_id=gid, kind="audit", local_id=str(record.id)))
        counts["audit_entries"] += 1


# ============================================================================= central: uploads
UPLOAD_CHUNK_MAX = 4 * 1024 * 1024


def _upload_path(upload_id: str) -> Path:
    return _key_file(f"upload-{upload_id}.part")


def start_upload(device: SyncDevice, size: int, digest: str) -> SyncUpload:
    """A resumable upload of one bundle; the same bundle again resumes where it stopped."""
    if (
        not isinstance(size, int)
        or not 0 < size <= MAX_BUNDLE_BYTES
        or not isinstance(digest, str)
        or len(digest) != 64
    ):
        raise SyncRefused("This bundle is too large, or its description cannot be read.")
    upload = db.session.scalar(
        sa.select(SyncUpload).where(
            SyncUpload.laptop_id == device.id, SyncUpload.digest == digest, SyncUpload.size == size
        )
    )
    if upload is not None:
        path = _upload_path(upload.id)
        on_disk = path.stat().st_size if path.exists() else 0
        if on_disk != upload.received:  # a chunk written but not recorded (a crash): keep what is recorded
            with open(path, "ab") as handle:
                handle.truncate(upload.received)
        return upload
    with write_transaction() as session:
        upload = SyncUpload(id=secrets.token_hex(16), laptop_id=device.id, size=size, digest=digest)
        session.add(upload)
    from survey.instance import make_private_file

    make_private_file(_upload_path(upload.id))
    return upload


def put_chunk(upload_id: str, offset: int, chunk: bytes) -> int:
    """Append a chunk at ``offset`` (which must be what was received so far); the new total."""
    upload = db.session.get(SyncUpload, upload_id)
    if upload is None:
        raise SyncRefused("No such upload: start again.")
    if offset != upload.received:
        raise UploadOffset(upload.received)
    if len(chunk) > UPLOAD_CHUNK_MAX or offset + len(chunk) > upload.size:
        raise SyncRefused("This piece does not fit the bundle described.")
    path = _upload_path(upload.id)
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as handle:
        handle.seek(offset)
        handle.write(chunk)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    with write_transaction() as session:
        record = session.get(SyncUpload, upload_id)
        record.received = offset + len(chunk)
    return offset + len(chunk)


class UploadOffset(SyncRefused):
    """The chunk does not start where the upload stands; ``received`` says where it does."""

    def __init__(self, received: int) -> None:
        super().__init__("This piece does not start where the upload stands.")
        self.received = received


def finish_upload(upload_id: str) -> Imported:
    upload = db.session.get(SyncUpload, upload_id)
    if upload is None:
        raise SyncRefused("No such upload: start again.")
    if upload.received != upload.size:
        raise UploadOffset(upload.received)
    path = _upload_path(upload.id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    try:
        if fmt.digest(data) != upload.digest:
            raise SyncRefused("The bundle was damaged on the way: send it again.")
        return import_bundle(data)
    finally:
        with write_transaction() as session:
            session.execute(sa.delete(SyncUpload).where(SyncUpload.id == upload_id))
        path.unlink(missing_ok=True)


# ============================================================================= laptop: packages
def import_package(
    data: bytes,
    *,
    enrol_token: str,
    fingerprint: str = "",
    central_url: str = "",
    facilitators: tuple[str, ...] = (),
    site: str | None = None,
) -> FieldPackage:
    """Check a field package and set up its consultation on this laptop (open, with its cards).

    The package must be signed by the central server whose key has ``fingerprint`` (or, for a
    later package, the key of a package already imported here), not expired, and, when
    ``site`` is given, meant for that site.  Refusals raise :class:`SyncRefused`, changing nothing.
    """
    from survey.services import consent_rules, instrument_store

    try:
        content = fmt.unverified_document(fmt.PACKAGE_MAGIC, data, "field package")
        sign_key = _unhex(str(content.get("central", {}).get("sign", "")), "field package")
        trusted = set(db.session.scalars(sa.select(FieldPackage.central_sign_key)))
        wanted = fingerprint.replace("-", "").replace(" ", "").lower()
        if wanted:
            if fmt.fingerprint(sign_key).replace("-", "") != wanted:
                raise SyncRefused(
                    "This field package was not signed by the central server you named "
                    "(the key fingerprint differs): it was not imported."
                )
        elif sign_key.hex() not in trusted:
            raise SyncRefused("Give the central server's key fingerprint (--fingerprint) to check this package.")
        content = fmt.open_document(fmt.PACKAGE_MAGIC, data, sign_key, "field package")
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error
    except AttributeError as error:
        raise SyncRefused("This field package cannot be read.") from error
    if _date(content.get("expires_on")) is None or _date(content["expires_on"]) < today():
        raise SyncRefused("This field package has expired: ask the programme team for a new one.")
    if site is not None and site != content.get("site"):
        raise SyncRefused(f"This field package is for site {content.get('site')!r}, not {site!r}: it was not imported.")
    if db.session.get(FieldPackage, str(content["package"])) is not None:
        raise SyncRefused("This field package is already imported on this laptop.")
    # The consent texts: this laptop's Sauti must hold exactly the versions the consultation bound.
    registry = consent_rules.text_registry()
    for slot, ref in content["texts"].items():
        if ref["text_id"] not in registry or registry.get(ref["text_id"]).content_hash != ref["content_hash"]:
            raise SyncRefused(
                f"This laptop's Sauti has a different version of a consent text ({slot}): "
                "install the same Sauti version as the central server."
            )
    instrument = content["instrument"]
    existing = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument["id"], InstrumentVersion.version == instrument["version"]
        )
    )
    if existing is not None and existing.content_hash != instrument["hash"]:
        raise SyncRefused("This laptop holds a different questionnaire under the same version: it was not imported.")
    profile = content["profile"]
    if profile["document"] is None:
        from consent.profiles import bundled_profiles

        if profile["id"] not in bundled_profiles():
            raise SyncRefused("This laptop's Sauti lacks the consultation's country profile.")
    cards = content["cards"]
    fields = dict(content["consultation"])
    for name in _DATE_FIELDS:
        fields[name] = _date(fields.get(name))
    with write_transaction() as session:
        if existing is None:
            session.add(
                InstrumentVersion(
                    instrument_id=instrument["id"],
                    version=instrument["version"],
                    content_hash=instrument["hash"],
                    document=instrument["document"],
                    approved=True,
                )
            )
        if profile["document"] is not None:
            row = session.get(StoredProfile, profile["id"]) or StoredProfile(profile_id=profile["id"])
            row.document, row.content_hash, row.updated_by = profile["document"], profile["hash"], "field package"
            session.add(row)
        consultation = Consultation(
            **{k: v for k, v in fields.items() if k in CONSULTATION_FIELDS},
            site_code=str(content["site"]),
            state="open",
        )
        session.add(consultation)
        session.flush()
        if cards:
            session.execute(
                sa.insert(Participant),
                [
                    {
                        "id": str(card["id"]),
                        "consultation_id": consultation.id,
                        "code_hash": str(card["code_hash"]),
                        "withdrawal_hash": card.get("withdrawal_hash"),
                        "card_number": int(card["number"]),
                        "permission": str(card["permission"]),
                        "site": str(content["site"]),
                        "state": State.ISSUED.value,
                        "issued_on": today(),
                        "seat_label": "",
                        "page_index": 0,
                    }
                    for card in cards
                ],
            )
        key = device_key(str(content["package"]))
        package = FieldPackage(
            id=str(content["package"]),
            consultation_id=consultation.id,
            central_consultation_id=int(content["central_consultation_id"]),
            site=str(content["site"]),
            central_url=central_url or content["central"].get("url", ""),
            central_sign_key=sign_key.hex(),
            central_box_key=str(content["central"]["box"]),
            code_key=str(content["code_key"]),
            expires_on=_date(content["expires_on"]),
            enrol_token=enrol_token,
            laptop_id=fmt.device_id(key.verify_key.encode()),
        )
        session.add(package)
        for username in facilitators:
            user = session.scalar(sa.select(User).where(User.username == username))
            if user is None:
                raise SyncRefused(f"No staff account {username!r} on this laptop: create it first.")
            from survey.models import Membership

            session.add(Membership(user_id=user.id, consultation_id=consultation.id, role="facilitator"))
        audit.record(
            None, "sync.package.import", f"consultation:{consultation.id} site:{package.site} cards:{len(cards)}"
        )
    instrument_store.find(instrument["id"], instrument["version"])  # parses on first use
    return package


def only_package() -> FieldPackage:
    """The field package of this laptop (the commands act on it when there is one)."""
    packages = list(db.session.scalars(sa.select(FieldPackage)))
    if not packages:
        raise SyncRefused("No field package is imported on this laptop: `sauti sync pull URL` imports one.")
    if len(packages) > 1:
        raise SyncRefused("Several field packages are imported here: name one with --package.")
    return packages[0]


def package_named(package_id: str | None) -> FieldPackage:
    if not package_id:
        return only_package()
    package = db.session.get(FieldPackage, package_id)
    if package is None:
        raise SyncRefused("No such field package on this laptop.")
    return package


def registration_request(package: FieldPackage) -> bytes:
    key = device_key(package.id)
    return fmt.sign_request(
        key,
        {
            "package": package.id,
            "public_key": key.verify_key.encode().hex(),
            "enrol": package.enrol_token,
            "at": int(utcnow().timestamp()),
        },
    )


def accept_registration(package: FieldPackage, data: bytes) -> None:
    content = _central_document(package, data)
    if content.get("kind") != "registered" or content.get("device") != package.laptop_id:
        raise SyncRefused("The central server's answer does not match this laptop.")
    with write_transaction() as session:
        record = session.get(FieldPackage, package.id)
        record.registered, record.enrol_token = True, ""
        audit.record(None, "sync.device.registered", f"site:{record.site}")


def _central_document(package: FieldPackage, data: bytes) -> dict:
    try:
        return fmt.open_document(
            fmt.RECEIPT_MAGIC, data, bytes.fromhex(package.central_sign_key), "answer from the central server"
        )
    except fmt.BundleError as error:
        raise SyncRefused(str(error)) from error


def device_request(package: FieldPackage, content: dict) -> bytes:
    """A request to the central server, signed by this laptop's device key."""
    return fmt.sign_request(
        device_key(package.id), {**content, "device": package.laptop_id, "at": int(utcnow().timestamp())}
    )


# ============================================================================= laptop: bundles
@dataclasses.dataclass(frozen=True)
class Exported:
    data: bytes
    sequence: int
    counts: dict[str, int]


def _collect(package: FieldPackage, concerns_only: bool) -> tuple[dict, list[str], list[int], dict[str, int]]:
    from survey.services.retention import holder_tag

    cid = package.consultation_id
    concerns = list(
        db.session.scalars(sa.select(ConcernFlag).where(ConcernFlag.consultation_id == cid).order_by(ConcernFlag.id))
    )
    sessions_rows = list(
        db.session.scalars(
            sa.select(FacilitationSession)
            .where(FacilitationSession.consultation_id == cid)
            .order_by(FacilitationSession.id)
        )
    )
    payload: dict[str, Any] = {
        "concerns": [
            {
                "id": c.id,
                "item": c.item,
                "excerpt": c.excerpt,
                "concerns": c.concerns,
                "flagged_on": c.flagged_on.isoformat(),
                "session": c.session_id,
                "seat_label": c.seat_label,
            }
            for c in concerns
        ],
        "sessions": [
            {
                "id": s.id,
                "started_on": s.started_on.isoformat(),
                "training_attested_on": s.training_attested_on.isoformat(),
                "checklist": s.checklist,
                "state": s.state,
                "closed_on": s.closed_on.isoformat() if s.closed_on else None,
                "number_present": s.number_present,
                "incident": s.incident,
                "referral_category": s.referral_category,
                "summary": json.loads(s.summary or "{}"),
            }
            for s in sessions_rows
        ],
        "participants": [],
        "answers": [],
        "page_saves": [],
        "assent_events": [],
        "audit": [],
    }
    counts = {"concerns": len(concerns), "sessions": len(sessions_rows)}
    if concerns_only:
        return payload, [], [c.id for c in concerns], counts
    participants = db.session.execute(
        sa.select(
            Participant.id,
            Participant.state,
            Participant.band,
            Participant.language,
            Participant.seat_label,
            Participant.page_index,
            Participant.last_active_on,
            Participant.permission,
        ).where(Participant.consultation_id == cid)
    ).all()
    payload["participants"] = [
        {
            "id": p.id,
            "state": p.state,
            "band": p.band,
            "language": p.language,
            "seat_label": p.seat_label,
            "page_index": p.page_index,
            "last_active_on": p.last_active_on.isoformat() if p.last_active_on else None,
            "permission": p.permission,
        }
        for p in participants
        if p.state != State.ISSUED.value
    ]
    used = [p["id"] for p in payload["participants"]]
    answers = db.session.execute(
        sa.select(Answer.participant_id, Answer.item, Answer.value, Answer.saved_on)
        .join(Participant)
        .where(Participant.consultation_id == cid)
    ).all()
    payload["answers"] = [[pid, item, value, saved_on.isoformat()] for pid, item, value, saved_on in answers]
    saves = db.session.execute(
        sa.select(PageSave.token, PageSave.participant_id, PageSave.digest)
        .join(Participant)
        .where(Participant.consultation_id == cid)
    ).all()
    payload["page_saves"] = [{"token": s.token, "participant": s.participant_id, "digest": s.digest} for s in saves]
    tags = {holder_tag(pid): pid for pid in used}
    events = db.session.scalars(sa.select(AssentEvent).where(AssentEvent.consultation_id == cid)).all()
    payload["assent_events"] = [
        {
            "id": e.id,
            "text_id": e.text_id,
            "text_hash": e.text_hash,
            "outcome": e.outcome,
            "method": e.method,
            "recorded_on": e.recorded_on.isoformat(),
            "participant": tags.get(e.holder_tag or ""),
        }
        for e in events
    ]
    entries = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    payload["audit"] = [
        {"id": e.id, "at": e.at.isoformat(), "actor_name": e.actor_name, "action": e.action, "target": e.target}
        for e in entries
    ]
    ended = [[p["id"], p["state"]] for p in payload["participants"] if p["state"] in ENDED_STATES]
    counts.update(participants=len(used), answers=len(answers), assent_events=len(events), audit_entries=len(entries))
    return payload, ended, [c.id for c in concerns], counts


def export_bundle(package: FieldPackage, *, concerns_only: bool = False) -> Exported:
    """Seal what happened on this laptop into the next bundle (and keep it in the outbox)."""
    if package.expires_on < today() - dt.timedelta(days=PACKAGE_DAYS):
        raise SyncRefused("This field package expired long ago: ask the programme team.")
    payload, ended, concern_ids, counts = _collect(package, concerns_only)
    key = device_key(package.id)
    with write_transaction() as session:
        record = session.get(FieldPackage, package.id)
        record.sequence += 1
        sequence = record.sequence
        header = {
            "v": 1,
            "device": record.laptop_id,
            "package": record.id,
            "consultation": record.central_consultation_id,
            "sequence": sequence,
            "site": record.site,
            "made_on": today().isoformat(),
            "kind": "concerns" if concerns_only else "full",
        }
        if not record.registered:
            header["public_key"] = key.verify_key.encode().hex()
            payload["enrol"] = record.enrol_token
        data = fmt.seal_bundle(header, payload, key, bytes.fromhex(record.central_box_key))
        session.add(
            FieldBundle(
                package_id=record.id,
                sequence=sequence,
                digest=fmt.digest(data),
                finished=json.dumps(ended),
                concerns=json.dumps(concern_ids),
            )
        )
        audit.record(
            None,
            "sync.export",
            f"site:{record.site} bundle:{sequence} " + " ".join(f"{k}:{v}" for k, v in counts.items()),
        )
    outbox = _key_file(f"bundle-{package.id}-{sequence}.sauti")
    fd = os.open(outbox, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return Exported(data, sequence, counts)


def outbox_file(package: FieldPackage, sequence: int) -> Path:
    return _key_file(f"bundle-{package.id}-{sequence}.sauti")


def accept_receipt(package: FieldPackage, data: bytes) -> dict:
    """Record the central server's signed receipt for a bundle; then delete what is due."""
    content = _central_document(package, data)
    if content.get("kind") != "receipt" or content.get("package") != package.id:
        raise SyncRefused("This receipt is not for this laptop.")
    sequence = content.get("sequence")
    with write_transaction() as session:
        bundle = session.scalar(
            sa.select(FieldBundle).where(FieldBundle.package_id == package.id, FieldBundle.sequence == sequence)
        )
        if bundle is None or bundle.digest != content.get("digest"):
            raise SyncRefused("This receipt is for a bundle this laptop did not make.")
        record = session.get(FieldPackage, package.id)
        if bundle.confirmed_on is None:
            bundle.confirmed_on = today()
            bundle.receipt = data.decode("latin-1")
            counts = content.get("counts") or {}
            audit.record(
                None,
                "sync.receipt",
                f"site:{record.site} bundle:{sequence} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())),
            )
        record.registered, record.enrol_token = True, ""
        record.confirmed = max(record.confirmed, int(sequence))
    outbox_file(package, int(sequence)).unlink(missing_ok=True)
    purge_confirmed(today())
    return content


def apply_status(package: FieldPackage, data: bytes) -> dict[str, int]:
    """What the central server says about this site's cards: withdrawn ones are emptied here,
    ones used on another device stop working here."""
    from survey.services.retention import delete_childs_records

    content = _central_document(package, data)
    if content.get("kind") != "status" or content.get("package") != package.id:
        raise SyncRefused("The central server's answer is not for this laptop.")
    counts: Counter[str] = Counter()
    with write_transaction() as session:
        for pid in content.get("withdrawn", []):
            participant = session.get(Participant, str(pid))
            if (
                participant is not None
                and participant.consultation_id == package.consultation_id
                and participant.state not in EMPTY_STATES
            ):
                delete_childs_records(session, participant)
                participant.state, participant.withdrawal_hash = State.WITHDRAWN.value, None
                counts["withdrawn"] += 1
        for pid in content.get("used_elsewhere", []):
            participant = session.get(Participant, str(pid))
            if (
                participant is not None
                and participant.consultation_id == package.consultation_id
                and participant.state == State.ISSUED.value
            ):
                participant.state = State.EXPIRED.value
                counts["used_elsewhere"] += 1
        record = session.get(FieldPackage, package.id)
        record.registered, record.enrol_token = True, ""
        if counts:
            audit.record(
                None, "sync.status", f"site:{package.site} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))
            )
    return dict(counts)


def purge_confirmed(on: dt.date) -> dict[str, int]:
    """Delete this laptop's copy of children's records the central server confirmed holding,
    ``retention.field_copy_days`` after the receipt (the country profile's schedule)."""
    from survey.services.retention import delete_childs_records
    from survey.services.safeguarding import country_profile

    counts: Counter[str] = Counter()
    rows = db.session.execute(
        sa.select(FieldBundle, FieldPackage, Consultation)
        .join(FieldPackage, FieldPackage.id == FieldBundle.package_id)
        .join(Consultation, Consultation.id == FieldPackage.consultation_id)
        .where(FieldBundle.confirmed_on.is_not(None), FieldBundle.purged.is_(False))
    ).all()
    for bundle, package, consultation in rows:
        days = country_profile(consultation.country_profile).retention.field_copy_days
        if bundle.confirmed_on + dt.timedelta(days=days) > on:
            continue
        with write_transaction() as session:
            sent = dict(json.loads(bundle.finished))
            for chunk in _chunks(list(sent)):
                for participant in session.scalars(sa.select(Participant).where(Participant.id.in_(chunk))):
                    if participant.state != sent[participant.id]:
                        continue  # changed since (a withdrawal here): kept until a bundle carries it
                    delete_childs_records(session, participant)
                    session.delete(participant)
                    counts["participants"] += 1
            for chunk in _chunks(json.loads(bundle.concerns)):
                counts["concerns"] += session.execute(sa.delete(ConcernFlag).where(ConcernFlag.id.in_(chunk))).rowcount
            session.get(FieldBundle, bundle.id).purged = True
            audit.record(
                None,
                "sync.purge",
                f"site:{package.site} bundle:{bundle.sequence} "
                + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())),
            )
    return dict(counts)

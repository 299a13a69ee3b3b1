"""Provisioning: field packages and device keys, on the central server and on a laptop."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets

import sqlalchemy as sa

from consent.permission import CardState
from consent.states import State
from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Consultation,
    FieldCard,
    FieldPackage,
    InstrumentAttachment,
    InstrumentVersion,
    Participant,
    StoredProfile,
    SyncDevice,
    SyncImport,
    SyncPackage,
    User,
    utcnow,
)
from survey.services import audit
from survey.services.sync.common import (
    _DATE_FIELDS,
    CONSULTATION_FIELDS,
    EMPTY_STATES,
    PACKAGE_DAYS,
    REQUEST_SKEW_S,
    SyncRefused,
    _date,
    _hex,
    _unhex,
    central_fingerprint,
    central_keys,
    device_key,
    site_key,
    today,
)
from survey.sync import bundle as fmt


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
            # the files some choice lists come from (survey.services.attachments)
            "attachments": [
                {"filename": f.filename, "rows": f.rows_json, "sha256": f.sha256, "row_count": f.row_count}
                for f in db.session.scalars(
                    sa.select(InstrumentAttachment).where(InstrumentAttachment.instrument_version_id == record.id)
                )
            ],
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
        sa.select(FieldCard.participant_id, FieldCard.laptop_id, Participant.state, Participant.permission)
        .join(Participant, Participant.id == FieldCard.participant_id)
        .where(FieldCard.consultation_id == package.consultation_id, FieldCard.site == package.site)
    ).all()
    withdrawn, elsewhere = [], []
    for participant_id, used_by, state, permission in rows:
        # A guardian's No given here reaches the laptop as a withdrawal: its copy goes, the card
        # stops (a card finished and combined before the No keeps its answers, here and there).
        if state in EMPTY_STATES or (permission == CardState.WITHHELD and state != State.COMPLETED.value):
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
            existing = InstrumentVersion(
                instrument_id=instrument["id"],
                version=instrument["version"],
                content_hash=instrument["hash"],
                document=instrument["document"],
                approved=True,
            )
            session.add(existing)
            session.flush()
        held = set(
            session.scalars(
                sa.select(InstrumentAttachment.filename).where(
                    InstrumentAttachment.instrument_version_id == existing.id
                )
            )
        )
        for attached in instrument.get("attachments") or []:
            if attached["filename"] not in held:
                session.add(
                    InstrumentAttachment(
                        instrument_version_id=existing.id,
                        filename=attached["filename"],
                        rows_json=attached["rows"],
                        row_count=int(attached.get("row_count", 0)),
                        sha256=attached["sha256"],
                        uploaded_by="field package",
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

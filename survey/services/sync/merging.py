"""Merging on the central server: checking a bundle, merging it in one transaction, resumable uploads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from consent.permission import CardState
from consent.states import State
from consent.withdrawal import withdraw_by_code
from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    AuditEvent,
    ConcernFlag,
    FacilitationSession,
    FieldCard,
    PageSave,
    Participant,
    SyncDevice,
    SyncedRecord,
    SyncImport,
    SyncPackage,
    SyncUpload,
    User,
    new_uuid,
    utcnow,
)
from survey.services import audit, journey
from survey.services.sync.common import (
    EMPTY_STATES,
    MAX_BUNDLE_BYTES,
    SyncRefused,
    _chunks,
    _date,
    _key_file,
    _unhex,
    central_keys,
    today,
)
from survey.services.sync.provisioning import register_device
from survey.sync import bundle as fmt


# ============================================================================= central: import
@dataclasses.dataclass(frozen=True)
class Imported:
    receipt: bytes
    counts: dict[str, int]
    already: bool = False


def receipt_for_import(import_id: int) -> tuple[bytes, int]:
    """The signed receipt of an import again (for a bundle that came by hand), and its number."""
    record = db.session.get(SyncImport, import_id)
    if record is None:
        raise SyncRefused("No such import.")
    device = db.session.get(SyncDevice, record.laptop_id)
    package = db.session.get(SyncPackage, device.package_id)
    return _receipt(device, package, record.sequence, record.digest, json.loads(record.counts)), record.sequence


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
            if row.get("permission") == CardState.WITHHELD and participant.permission != CardState.WITHHELD:
                # A guardian's No given to the laptop's facilitator holds everywhere: the card
                # stops here too, and whatever it holds here goes as the laptop's copy went.
                participant.permission = CardState.WITHHELD.value
                journey.guardian_withheld(session, participant)
                counts["withheld"] += 1
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
            if participant.permission == CardState.WITHHELD:
                # Withheld here while the card was out on the laptop: the answers arriving are
                # decided as the withholding would have decided them had they been here.
                cutoff = participant.consultation.analysis_cutoff or dt.date.max
                try:
                    decision = withdraw_by_code(state, cutoff=cutoff, today=today())
                except ValueError as error:
                    raise SyncRefused("This bundle cannot be read.") from error
                if decision.deletes:
                    delete_childs_records(session, participant)
                    participant.state = decision.new_state.value
                    participant.withdrawal_hash = None
                    counts["withheld_before_arrival"] += 1
                    continue
            participant.state = state
            participant.band = row.get("band")
            participant.language = row.get("language")
            participant.seat_label = str(row.get("seat_label") or "")[:20]
            participant.page_index = int(row.get("page_index") or 0)
            participant.last_active_on = _date(row.get("last_active_on"))
            if participant.permission != CardState.WITHHELD:  # a guardian's No is never undone by a bundle
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

"""Receipts and status on a laptop: what the central server confirmed, and deleting the copy it covers."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import sqlalchemy as sa

from consent.states import State
from survey.database import write_transaction
from survey.extensions import db
from survey.models import ConcernFlag, Consultation, FieldBundle, FieldPackage, Participant
from survey.services import audit
from survey.services.sync.bundles import outbox_file
from survey.services.sync.common import EMPTY_STATES, SyncRefused, _chunks, today
from survey.services.sync.provisioning import _central_document


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

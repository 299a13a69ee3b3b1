"""Bundles on a laptop: what happened here, sealed to the central server and signed by the device."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from consent.permission import CardState
from consent.states import State
from survey.database import write_transaction
from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    AuditEvent,
    ConcernFlag,
    FacilitationSession,
    FieldBundle,
    FieldPackage,
    PageSave,
    Participant,
)
from survey.services import audit
from survey.services.sync.common import ENDED_STATES, PACKAGE_DAYS, SyncRefused, _key_file, device_key, today
from survey.sync import bundle as fmt


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
        # An unused card travels only when a guardian withheld it here: that No holds everywhere.
        if p.state != State.ISSUED.value or p.permission == CardState.WITHHELD
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


def unsent_concerns(package: FieldPackage) -> list[int]:
    """Concern records of this laptop that no bundle the central server confirmed has carried."""
    carried: set[int] = set()
    confirmed = sa.select(FieldBundle.concerns).where(
        FieldBundle.package_id == package.id, FieldBundle.confirmed_on.is_not(None)
    )
    for listed in db.session.scalars(confirmed):
        carried.update(json.loads(listed))
    ids = db.session.scalars(
        sa.select(ConcernFlag.id).where(ConcernFlag.consultation_id == package.consultation_id).order_by(ConcernFlag.id)
    )
    return [concern for concern in ids if concern not in carried]


def waiting_bundle(package: FieldPackage) -> tuple[int, bytes] | None:
    """The newest bundle made here, if the central server has not confirmed it and it is still
    in the outbox: a push resumes it rather than making another."""
    newest = db.session.scalar(
        sa.select(FieldBundle).where(FieldBundle.package_id == package.id, FieldBundle.sequence == package.sequence)
    )
    if newest is None or newest.confirmed_on is not None:
        return None
    try:
        return newest.sequence, outbox_file(package, newest.sequence).read_bytes()
    except FileNotFoundError:
        return None

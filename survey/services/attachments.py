"""Files attached to a questionnaire version: what it waits for, uploading one, filling its lists.

An XLSForm whose choices come from a CSV or XML file (``select_one_from_file``, ``search()``,
``xml-external``/``csv-external``, ``pulldata()``) is stored waiting for the files
(:mod:`instruments.attachments`). An administrator uploads each file on the version's page; the
rows are checked (size, rows, columns, defused XML) and kept as text in
:class:`~survey.models.InstrumentAttachment`. :func:`filled` gives the instrument with its lists
filled, which every reader of a stored version gets (``instrument_store.instrument_for_version``),
so the child's page, the preview, analysis and exports all read the same choices. A consultation
cannot open while a file is missing (:func:`opening_problems`), and a file cannot be replaced once
a consultation using the version has opened (children's answers name its values).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import sqlalchemy as sa
from flask_babel import gettext as _

from instruments.attachments import (
    MAX_ATTACHMENT_BYTES,
    AttachmentError,
    expected_files,
    fill,
    read_rows,
    shown_problems,
)
from instruments.model import Instrument
from survey.database import write_transaction
from survey.extensions import db
from survey.models import Consultation, InstrumentAttachment, InstrumentVersion


class AttachmentRefused(Exception):
    """An attached file that cannot be stored; the message says why in plain words."""


def _stored(record_id: int) -> dict[str, InstrumentAttachment]:
    rows = db.session.scalars(
        sa.select(InstrumentAttachment).where(InstrumentAttachment.instrument_version_id == record_id)
    )
    return {row.filename: row for row in rows}


#: (version's content hash, each file's name and hash) -> the filled instrument, whether it could be
#: filled, and why not (the file's own words). Kept together: a list that could not be filled is
#: never later taken for a complete one.
_FILLED: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Instrument, bool, str]] = {}


def _fill(record: InstrumentVersion, instrument: Instrument) -> tuple[Instrument, bool, str]:
    """The instrument filled from the stored files, whether every file it waits for is there and
    filled its lists, and why a stored file could not fill them ("" when it could)."""
    stored = _stored(record.id)
    complete = all(name in stored for name in expected_files(instrument))
    if not stored:
        return instrument, complete, ""
    key = _key(record, stored)
    found = _FILLED.get(key)
    if found is None:
        try:
            found = (fill(instrument, {name: json.loads(row.rows_json) for name, row in stored.items()}), True, "")
        except AttachmentError as error:  # checked on upload; a list that no longer fits stays waiting
            found = (instrument, False, str(error))
        if len(_FILLED) >= 32:
            _FILLED.clear()
        _FILLED[key] = found
    return found[0], complete and found[1], found[2]


def filled(record: InstrumentVersion, instrument: Instrument) -> tuple[Instrument, bool]:
    """The instrument with its attached lists filled from the files uploaded so far, and whether
    every file it waits for is there and filled its lists."""
    found, complete, _why = _fill(record, instrument)
    return found, complete


def _reasons(instrument: Instrument, base: Instrument | None) -> tuple[str, ...]:
    from instruments import validate

    known = {(i.code, i.location, i.message) for i in validate(base).errors} if base is not None else set()
    found = [i.message for i in validate(instrument).errors if (i.code, i.location, i.message) not in known]
    return (*found, *shown_problems(instrument))


#: The _FILLED key of a stored version -> what stops it reaching children (the checklist asks
#: on every page of the consultation; a 10,000-row list takes a fifth of a second to validate).
_REASONS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, ...]] = {}


def _key(record: InstrumentVersion, stored: dict[str, InstrumentAttachment]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return record.content_hash, tuple(sorted((name, row.sha256) for name, row in stored.items()))


def problems(instrument: Instrument, base: Instrument | None = None) -> list[str]:
    """What stops a filled instrument reaching children, in plain words: validation errors
    (those ``base``, the instrument before its files, does not have already) and lists too long
    for one page (:func:`instruments.attachments.shown_problems`)."""
    return [
        _("With its files, the questionnaire has a problem to fix: %(why)s", why=why)
        for why in _reasons(instrument, base)
    ]


def status(record: InstrumentVersion) -> list[tuple[str, InstrumentAttachment | None]]:
    """Each file the version waits for, with its upload (None while missing)."""
    from survey.services.instrument_store import _parse

    stored = _stored(record.id)
    return [(name, stored.get(name)) for name in expected_files(_parse(record.content_hash, record.document))]


def missing(record: InstrumentVersion) -> list[str]:
    """The files the version still waits for."""
    return [name for name, upload in status(record) if upload is None]


def opening_problems(consultation: Consultation) -> tuple[int | None, list[str]]:
    """The stored version's id and the files it still waits for (plain-words messages)."""
    record = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == consultation.instrument_id,
            InstrumentVersion.version == consultation.instrument_version,
        )
    )
    if record is None:
        return None, []
    out = [
        _(
            "Some questions take their choices from the file %(file)s, which has not been uploaded yet. "
            "An administrator uploads it on the questionnaire's files page.",
            file=name,
        )
        for name in missing(record)
    ]
    if out:
        return record.id, out
    from survey.services.instrument_store import _parse

    instrument, complete, why = _fill(record, _parse(record.content_hash, record.document))
    if not complete:
        return record.id, [
            _(
                "A file uploaded for this questionnaire no longer fills its choices: %(why)s Upload it again.",
                why=why,
            )
        ]
    key = _key(record, _stored(record.id))
    if key not in _REASONS:
        if len(_REASONS) >= 32:
            _REASONS.clear()
        _REASONS[key] = _reasons(instrument, None)
    return record.id, [
        _("With its files, the questionnaire has a problem to fix: %(why)s", why=why) for why in _REASONS[key]
    ]


def upload(record_id: int, file_name: str, data: bytes, *, actor) -> Uploaded:  # a staff User
    """Check and keep one attached file of a stored version (replacing an earlier upload).

    Raises
    ------
    AttachmentRefused
        For a file the version does not wait for, a version already used by an opened
        consultation, a file that is too large, malformed, unsafe or lacks a column the form
        reads, or one with which the questionnaire would not pass validation or would show a
        child too many choices at once (the limit: :data:`instruments.attachments.MAX_SHOWN_CHOICES`).
    """
    from survey.services import audit
    from survey.services.instrument_store import _parse

    record = db.session.get(InstrumentVersion, record_id)
    if record is None:
        raise AttachmentRefused(_("There is no such questionnaire version."))
    base = _parse(record.content_hash, record.document)
    if file_name not in expected_files(base):
        raise AttachmentRefused(_("This questionnaire version does not use a file called %(file)s.", file=file_name))
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Consultation)
        .where(
            Consultation.instrument_id == record.instrument_id,
            Consultation.instrument_version == record.version,
            Consultation.state != "draft",
        )
    )
    if used and file_name in _stored(record.id):
        raise AttachmentRefused(
            _(
                "A consultation using this version has already opened, so its file cannot be replaced: "
                "children's answers refer to it. Upload the form again as a new version with the new file."
            )
        )
    if len(data) > MAX_ATTACHMENT_BYTES:
        size, limit = f"{len(data):,}", f"{MAX_ATTACHMENT_BYTES:,}"
        raise AttachmentRefused(
            _("The file is too large (%(size)s bytes); the limit is %(limit)s.", size=size, limit=limit)
        )
    try:
        rows = read_rows(data, file_name)
        stored_rows = {name: json.loads(row.rows_json) for name, row in _stored(record.id).items()}
        after = fill(base, {**stored_rows, file_name: rows})
    except AttachmentError as error:
        raise AttachmentRefused(_("The file cannot be used: %(why)s", why=str(error))) from error
    found = problems(after, base)
    if found:
        raise AttachmentRefused(found[0])
    before = _fill(record, base)[0].content_hash
    stored = _stored(record.id).get(file_name)
    with write_transaction() as session:
        row = session.merge(stored) if stored is not None else InstrumentAttachment(instrument_version_id=record.id)
        row.filename = file_name
        row.rows_json = json.dumps(rows, ensure_ascii=False)
        row.row_count = len(rows)
        row.sha256 = hashlib.sha256(data).hexdigest()
        row.uploaded_by = getattr(actor, "username", "") or ""
        if stored is None:
            session.add(row)
        audit.record(
            actor, "instrument.attachment", f"instrument:{record.instrument_id} {record.version} {file_name}"[:200]
        )
    return Uploaded(row, approvals_lost=before != after.content_hash and _approvals_recorded(base, before))


@dataclasses.dataclass(frozen=True)
class Uploaded:
    """A stored file, and whether language approvals given before no longer count (they were
    given to the questionnaire as it was before this file changed its choices)."""

    row: InstrumentAttachment
    approvals_lost: bool


def _approvals_recorded(instrument: Instrument, content_hash: str) -> bool:
    from survey.models import TranslationStep
    from survey.services.translations import questionnaire_subject

    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(TranslationStep)
            .where(
                TranslationStep.subject == questionnaire_subject(instrument),
                TranslationStep.content_hash == content_hash,
            )
        )
    )

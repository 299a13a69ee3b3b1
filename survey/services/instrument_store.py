"""Instruments kept in the database (native YAML), parsed once per process.

A stored version never changes (:func:`store` refuses new content under an old version), so
what a child's request needs of it, the parsed instrument and its pages for a band, is worked
out once per process and kept: a page request neither reads the document nor parses it.
"""

from __future__ import annotations

import dataclasses
import functools
import threading

import sqlalchemy as sa

from instruments import dump_native, load_bundled, load_native
from instruments.expressions import parse
from instruments.model import Instrument, Item, ItemType, Page, Section
from survey.database import database_key, write_transaction
from survey.extensions import db
from survey.models import Consultation, InstrumentVersion


class InstrumentMissing(LookupError):
    """A consultation names an instrument version that is not stored."""


def store(instrument: Instrument, *, approved: bool = False) -> InstrumentVersion:
    """Keep an instrument version; storing the same version twice needs the same content."""
    existing = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument.id, InstrumentVersion.version == instrument.version
        )
    )
    if existing is not None:
        if existing.content_hash != instrument.content_hash:
            raise ValueError(
                f"{instrument.id} version {instrument.version} is already stored with "
                "different content; give the changed instrument a new version."
            )
        return existing
    with write_transaction() as session:
        record = InstrumentVersion(
            instrument_id=instrument.id,
            version=instrument.version,
            content_hash=instrument.content_hash,
            document=dump_native(instrument),
            approved=approved,
        )
        session.add(record)
    return record


@functools.lru_cache(maxsize=16)
def _parse(content_hash: str, document: str) -> Instrument:
    # Keyed by the content hash: a page request never parses YAML after the first time.
    return load_native(document).instrument


def find(instrument_id: str, version: str | None = None) -> InstrumentVersion:
    """A stored version, or the newest one stored for ``instrument_id``."""
    query = sa.select(InstrumentVersion).where(InstrumentVersion.instrument_id == instrument_id)
    if version is not None:
        query = query.where(InstrumentVersion.version == version)
    record = db.session.scalar(query.order_by(InstrumentVersion.id.desc()).limit(1))
    if record is None:
        raise LookupError(
            f"No stored instrument {instrument_id!r}"
            + (f" version {version!r}" if version else "")
            + "; `sauti instruments import FILE` stores one."
        )
    return record


def instrument_for_version(record: InstrumentVersion) -> Instrument:
    """The stored version, with the choice lists that come from attached files filled from the
    files uploaded so far (see :mod:`survey.services.attachments`)."""
    instrument = _parse(record.content_hash, record.document)
    if not instrument.settings.attachments:
        return instrument
    from survey.services.attachments import filled

    return filled(record, instrument)[0]


#: (database, instrument id, version, content hash) -> the parsed instrument.  Keyed by the
#: app too (`database_key`), so that two databases in one process (tests) never share an entry.
_BY_VERSION: dict[tuple[int, str, str, str], Instrument] = {}
_CACHE_SIZE = 32


def instrument_for(consultation: Consultation) -> Instrument:
    """The instrument version a consultation was opened with.

    Consultations record the content hash of their version; once that version has been read
    and its hash checked, it comes from memory.
    """
    key = (database_key(), consultation.instrument_id, consultation.instrument_version, consultation.instrument_hash)
    cached = _BY_VERSION.get(key) if consultation.instrument_hash else None
    if cached is not None:
        return cached
    record = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == consultation.instrument_id,
            InstrumentVersion.version == consultation.instrument_version,
        )
    )
    if record is None:
        raise InstrumentMissing(f"{consultation.instrument_id} {consultation.instrument_version}")
    instrument = _parse(record.content_hash, record.document)
    complete = True
    if instrument.settings.attachments:
        from survey.services.attachments import filled

        # a list still waiting for its file, or a draft whose files may yet be replaced: not kept
        instrument, complete = filled(record, instrument)
        complete = complete and consultation.state != "draft"
    if consultation.instrument_hash and record.content_hash == consultation.instrument_hash and complete:
        if len(_BY_VERSION) >= _CACHE_SIZE:
            _BY_VERSION.clear()
        _BY_VERSION[key] = instrument
    return instrument


@dataclasses.dataclass(frozen=True, eq=False)
class BandView:
    """An instrument as one age band sees it, with the look-ups a page request needs."""

    instrument: Instrument
    pages: tuple[Page, ...]  # Instrument.pages_for_band: band rules (S-08) already applied
    sections: tuple[Section, ...]  # the section of each page, by index
    section_pages: tuple[frozenset[str], ...]  # the names of all pages of that section
    shown_items: tuple[tuple[Item, ...], ...]  # each page's items but calculations
    has_relevance: tuple[bool, ...]  # whether a page's section, the page or an item has relevance
    items: dict[str, Item]  # every item of the instrument, by name
    #: The answer and context names that any relevance on these pages reads, and whether one of
    #: them calls ``today()``: together with the date, all a child's page plan depends on.
    relevance_inputs: tuple[str, ...] = ()
    relevance_uses_today: bool = False
    #: Page plans already worked out, by the values of ``relevance_inputs`` (see journey.plan).
    plans: dict = dataclasses.field(default_factory=dict)
    #: The repeats each page is asked in, outermost first (empty outside repeats).
    repeat_chains: tuple[tuple[str, ...], ...] = ()


_VIEWS: dict[tuple[int, str, bool], BandView] = {}
_VIEWS_LOCK = threading.Lock()


def band_view(instrument: Instrument, band: str, research_mode: bool = False) -> BandView:
    """The pages a band sees, worked out once per (instrument, band, mode) in this process."""
    key = (id(instrument), band, research_mode)
    view = _VIEWS.get(key)
    if view is not None and view.instrument is instrument:
        return view
    pages = instrument.pages_for_band(band, research_mode)
    section_by_page = {page.name: section for section in instrument.sections for page in section.pages}
    sections = tuple(section_by_page[page.name] for page in pages)
    expressions = [
        parse(target.relevance)
        for target in (*sections, *pages, *(i for p in pages for i in p.items))
        if target.relevance
    ]
    view = BandView(
        instrument,
        pages,
        sections,
        section_pages=tuple(frozenset(p.name for p in section.pages) for section in sections),
        shown_items=tuple(tuple(item for item in page.items if item.type is not ItemType.CALCULATE) for page in pages),
        has_relevance=tuple(
            bool(sections[i].relevance or page.relevance or any(item.relevance for item in page.items))
            for i, page in enumerate(pages)
        ),
        items={item.name: item for item in instrument.items},
        relevance_inputs=tuple(sorted(set().union(*(e.references for e in expressions)))),
        relevance_uses_today=any("today" in e.text for e in expressions),
        repeat_chains=tuple(tuple(r.name for r in instrument.repeat_chain(page.repeat)) for page in pages)
        if instrument.repeats
        else (),
    )
    with _VIEWS_LOCK:
        if len(_VIEWS) >= 4 * _CACHE_SIZE:
            _VIEWS.clear()
        _VIEWS[key] = view  # identity is checked on reading, so a reused id() is harmless
    return view


def store_bundled(name: str = "reporting-mechanisms") -> InstrumentVersion:
    return store(load_bundled(name), approved=True)


def offered() -> list[tuple[str, str]]:
    """Approved instrument versions a consultation can use, as (key, label); the bundled
    consultations are offered too and stored when first chosen."""
    from instruments import bundled_names

    records = db.session.scalars(
        sa.select(InstrumentVersion)
        .where(InstrumentVersion.approved.is_(True))
        .order_by(InstrumentVersion.instrument_id, InstrumentVersion.id)
    ).all()
    options = [(f"{r.instrument_id}@{r.version}", f"{r.instrument_id} {r.version}") for r in records]
    stored = {(r.instrument_id, r.version) for r in records}
    for name in bundled_names():
        instrument = load_bundled(name)
        if (instrument.id, instrument.version) not in stored:
            title = instrument.title.get_for("en") or instrument.id
            options.append((f"bundled:{name}", f"{title} ({instrument.id} {instrument.version}, bundled)"))
    return options


def resolve_choice(key: str) -> InstrumentVersion:
    """The stored version behind a key from :func:`offered` (storing a bundled one if needed)."""
    if key.startswith("bundled:"):
        return store_bundled(key.removeprefix("bundled:"))
    instrument_id, _, version = key.partition("@")
    record = find(instrument_id, version)
    if not record.approved:
        raise LookupError("That questionnaire version is not approved.")
    return record


class UploadRefused(Exception):
    """An uploaded instrument that cannot be stored or approved; ``issues`` say why and how to fix it."""

    def __init__(self, message: str, issues: tuple = ()) -> None:
        super().__init__(message)
        self.issues = issues


def upload(file, *, actor) -> tuple[InstrumentVersion, tuple]:  # a Werkzeug FileStorage and a User
    """Read an uploaded file through the instruments loader (size and row limits, defused XML),
    store it unapproved, and return the record with the validation issues to show."""
    import os
    import tempfile

    from instruments import InstrumentError, load_instrument
    from survey.services import audit

    suffix = os.path.splitext(file.filename or "")[1].lower()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "upload" + suffix)
        file.save(path)
        try:
            result = load_instrument(path)
        except InstrumentError as error:
            raise UploadRefused("The file cannot be used; the problems are listed below.", error.issues) from error
    try:
        record = store(result.instrument, approved=False)
    except ValueError as error:
        raise UploadRefused(str(error), result.issues) from error
    with write_transaction():
        audit.record(actor, "instrument.upload", f"instrument:{record.instrument_id} {record.version}")
    return record, result.issues


def approve(record_id: int, *, actor) -> None:  # a staff User
    """Approve a stored version for consultations, unless its validation finds errors."""
    from instruments import validate
    from survey.services import audit

    record = db.session.get(InstrumentVersion, record_id)
    if record is None:
        raise UploadRefused("There is no such questionnaire version.")
    report = validate(instrument_for_version(record))
    if report.errors:
        raise UploadRefused(f"{len(report.errors)} error(s) must be fixed before approval.", report.errors)
    with write_transaction() as session:
        session.merge(record).approved = True
        audit.record(actor, "instrument.approve", f"instrument:{record.instrument_id} {record.version}")


def stored_versions() -> list[InstrumentVersion]:
    return list(
        db.session.scalars(
            sa.select(InstrumentVersion).order_by(InstrumentVersion.instrument_id, InstrumentVersion.id.desc())
        )
    )

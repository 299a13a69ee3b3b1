"""What the API serves (issue 23), read as plain dicts.  Reads only: the API changes nothing.

Results come only from stored releases (:mod:`survey.services.releases`): a consultation's
funnel and every table are the latest or a named release's numbers, never live answers.
Record-level answers leave only through the gated de-identified export
(:func:`record_level_export`), which needs an approval record on top of the export's own
microdata check.  Who may see which consultation follows the console's rules: results for the
consultation's analysts (as on the results page), programme records for its analysts and
administrators (as on the programme pages).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa

from analysis.release_tables import table_rows
from survey.extensions import db
from survey.models import Consultation, InstrumentVersion, Membership, Release, ReleaseTable, User
from survey.services import consultations as consultation_service
from survey.services import programme, releases


class NotFound(LookupError):
    """Nothing here, or nothing this caller may see (the API answers 404 either way)."""


class NothingToServe(LookupError):
    """The thing exists but cannot be served yet (no release, too few children)."""


# ----------------------------------------------------------------------------- visibility
def result_consultations(user: User) -> list[Consultation]:
    """Consultations whose released results ``user`` may read: those they are an analyst of."""
    return consultation_service.consultations_for(user, "analyst") if user.has_role("analyst") else []


def _result_consultation(user: User, consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not consultation_service.is_member(user, consultation_id, ("analyst",)):
        raise NotFound(consultation_id)
    return consultation


def _record_consultation(user: User, consultation_id: int) -> Consultation:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(consultation_id)
    if not (user.has_role("admin") or consultation_service.is_member(user, consultation_id, ("analyst",))):
        raise NotFound(consultation_id)
    return consultation


# ----------------------------------------------------------------------------- consultations
def _metadata(c: Consultation, latest: Release | None) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "state": c.state,
        "instrument_id": c.instrument_id,
        "instrument_version": c.instrument_version,
        "languages": c.language_list,
        "age_bands": c.band_list,
        "country_profile": c.country_profile,
        "setting": c.setting,
        "facilitated": c.facilitated,
        "created_on": c.created_on,
        "feedback_due": c.feedback_due,
        "latest_release": latest.number if latest is not None else None,
    }


def consultations(user: User) -> list[dict[str, Any]]:
    return [_metadata(c, releases.latest(c.id)) for c in result_consultations(user)]


def consultation(user: User, consultation_id: int) -> dict[str, Any]:
    """Metadata and the funnel of the latest release (its small counts hidden, as released)."""
    c = _result_consultation(user, consultation_id)
    latest = releases.latest(c.id)
    out = _metadata(c, latest)
    if latest is None:
        out.update(n_children=None, funnel=[])
    else:
        content = releases.content_of(latest)
        out.update(
            n_children=latest.n_children,
            funnel=[{"stage": r["stage"], "count": r["count"]} for r in content.get("funnel", [])],
        )
    return out


# ----------------------------------------------------------------------------- releases
def _release(user: User, consultation_id: int, number: int) -> Release:
    _result_consultation(user, consultation_id)
    release = db.session.scalar(
        sa.select(Release).where(Release.consultation_id == consultation_id, Release.number == number)
    )
    if release is None:
        raise NotFound(number)
    return release


def _entry(release: Release, with_tables: bool) -> dict[str, Any]:
    out = {
        "consultation_id": release.consultation_id,
        "number": release.number,
        "made_on": release.made_on,
        "made_by": release.made_by,
        "audience": release.audience,
        "reason": release.reason,
        "n_children": release.n_children,
        "rules": releases.content_of(release).get("rules", {}),
    }
    if with_tables:
        out["tables"] = [{"key": t.key, "title": t.title, "n": t.n} for t in _tables(release)]
    return out


def _tables(release: Release) -> list[ReleaseTable]:
    return list(
        db.session.scalars(
            sa.select(ReleaseTable).where(ReleaseTable.release_id == release.id).order_by(ReleaseTable.id)
        )
    )


def release_list(user: User, consultation_id: int) -> list[dict[str, Any]]:
    _result_consultation(user, consultation_id)
    return [_entry(r, with_tables=False) for r in releases.ledger(consultation_id)]


def release_entry(user: User, consultation_id: int, number: int) -> dict[str, Any]:
    """The ledger entry: who made the release, when, for whom, under which rules, and its tables."""
    return _entry(_release(user, consultation_id, number), with_tables=True)


def release_tag(user: User, consultation_id: int, number: int) -> str:
    """A strong validator for anything read from one release (releases never change)."""
    release = _release(user, consultation_id, number)
    return hashlib.sha256(
        f"{release.id}:{release.consultation_id}:{release.number}:{release.content}".encode()
    ).hexdigest()[:40]


def table(user: User, consultation_id: int, number: int, key: str) -> dict[str, Any]:
    """One released table as rows with the stable columns of :data:`analysis.release_tables.COLUMNS`."""
    release = _release(user, consultation_id, number)
    found = db.session.scalar(
        sa.select(ReleaseTable).where(ReleaseTable.release_id == release.id, ReleaseTable.key == key)
    )
    if found is None:
        raise NotFound(key)
    population = _json(found.population)
    return {
        "key": found.key,
        "title": found.title,
        "n": found.n,
        "population": population,
        "rows": table_rows(found.key, population, found.n, _json(found.cells)),
    }


def all_rows(user: User, consultation_id: int, number: int) -> list[dict[str, Any]]:
    """Every published cell of a release, one long table (what Power BI and Excel load best)."""
    release = _release(user, consultation_id, number)
    rows: list[dict[str, Any]] = []
    for found in _tables(release):
        rows.extend(table_rows(found.key, _json(found.population), found.n, _json(found.cells)))
    return rows


def _json(text: str) -> Any:  # JSON
    return json.loads(text)


# ----------------------------------------------------------------------------- record-level export
def record_level_export(user: User, consultation_id: int, today: dt.date | None = None) -> tuple[bytes, int]:
    """The de-identified export (CSV) and the id of the approval that allows it.

    Only for the consultation's analysts, only with a current approval record (whether or not
    the export holds sensitive items), and only through the export's own gate
    (:func:`survey.services.reporting.render_download`: the microdata risk check).
    """
    from survey.services import export_approvals, offload, reporting

    _result_consultation(user, consultation_id)
    approval = export_approvals.current(consultation_id, today)
    if approval is None:
        raise PermissionError(consultation_id)
    try:
        body = offload.run(reporting.download, consultation_id, "export", "csv")
    except (reporting.NotEnoughResponses, reporting.DisclosureError) as error:
        raise NothingToServe(consultation_id) from error
    return body, approval.id


# ----------------------------------------------------------------------------- instruments
def instruments() -> list[dict[str, Any]]:
    from survey.services import instrument_store

    return [
        {"instrument_id": r.instrument_id, "version": r.version, "content_hash": r.content_hash, "approved": r.approved}
        for r in instrument_store.stored_versions()
    ]


def instrument_file(instrument_id: str, version: str, fmt: str) -> tuple[bytes, str]:
    """The instrument as Sauti YAML or an XLSForm workbook, and its content hash."""
    import io

    from instruments import dump_native, export_xlsform
    from survey.services import instrument_store

    if "\x00" in instrument_id or "\x00" in version:  # PostgreSQL refuses NUL in a query
        raise NotFound(instrument_id)
    record = db.session.scalar(
        sa.select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument_id, InstrumentVersion.version == version
        )
    )
    if record is None:
        raise NotFound(instrument_id)
    # the version as stored (labelled with its hash), not filled from its files: they are not
    # part of the form, and an export of the filled lists would not import as the same version
    instrument = instrument_store._parse(record.content_hash, record.document)
    if fmt == "yaml":
        return dump_native(instrument).encode("utf-8"), record.content_hash
    out = io.BytesIO()
    export_xlsform(instrument, out)
    return out.getvalue(), record.content_hash


# ----------------------------------------------------------------------------- programme records
def record_consultations(user: User) -> list[dict[str, Any]]:
    return [{"id": c.id, "title": c.title, "state": c.state} for c in programme.visible_consultations(user)]


def checklists(user: User, consultation_id: int) -> list[dict[str, Any]]:
    """The Lundy process checklist and the GC12 self-assessment, one row per question."""
    _record_consultation(user, consultation_id)
    out = []
    for checklist, questions in programme.CHECKLISTS.items():
        answers = programme.checklist_answers(consultation_id, checklist)
        for key in questions:
            answer = answers.get(key)
            out.append(
                {
                    "checklist": checklist,
                    "question": key,
                    "label": str(programme.question_label(checklist, key)),
                    "status": answer.status if answer else None,
                    "evidence": answer.evidence if answer else "",
                    "updated_on": answer.updated_on if answer else None,
                    "updated_by": answer.updated_by if answer else "",
                }
            )
    return out


def influence(user: User, consultation_id: int) -> list[dict[str, Any]]:
    _record_consultation(user, consultation_id)
    return [
        {
            "id": e.id,
            "recommendation": e.recommendation,
            "source_finding": e.source_finding,
            "decision": e.decision,
            "reason": e.reason,
            "owner": e.owner,
            "decided_on": e.decided_on,
            "recorded_on": e.recorded_on,
            "recorded_by": e.recorded_by,
        }
        for e in programme.influence_entries(consultation_id)
    ]


def feedback(user: User, consultation_id: int) -> dict[str, Any]:
    """The feedback tracker and the sheets' staff-written parts and sign-off."""
    c = _record_consultation(user, consultation_id)
    sheets = programme.sheet_records(consultation_id)
    return {
        "due": c.feedback_due,
        "given_on": c.feedback_given_on,
        "formats": c.feedback_formats,
        "overdue": programme.feedback_overdue(c),
        "sheets": [
            {
                "band": s.band,
                "language": s.language,
                "state": s.state,
                "will_change": s.will_change,
                "cant_change": s.cant_change,
                "next_update": s.next_update,
                "updated_on": s.updated_on,
                "reviewer": s.reviewer,
                "reviewer_role": s.reviewer_role,
                "signed_on": s.signed_on,
            }
            for _key, s in sorted(sheets.items())
        ],
    }


# ----------------------------------------------------------------------------- administration
def users() -> list[dict[str, Any]]:
    return [
        {
            "id": u.id,
            "username": u.username,
            "display_name": u.display_name,
            "roles": sorted(u.role_set),
            "active": u.active,
            "created_on": u.created_at.date(),
        }
        for u in db.session.scalars(sa.select(User).order_by(User.id))
    ]


def teams() -> list[dict[str, Any]]:
    """Each consultation and who works on it, as what."""
    members: dict[int, list[dict[str, Any]]] = {}
    for m, username in db.session.execute(
        sa.select(Membership, User.username)
        .join(User, User.id == Membership.user_id)
        .order_by(Membership.consultation_id, Membership.id)
    ):
        members.setdefault(m.consultation_id, []).append({"user_id": m.user_id, "username": username, "role": m.role})
    return [
        {"consultation_id": c.id, "title": c.title, "members": members.get(c.id, [])}
        for c in db.session.scalars(sa.select(Consultation).order_by(Consultation.id))
    ]


def profiles() -> list[dict[str, Any]]:
    from survey.services import profile_store

    return [
        {
            "id": e.profile.id,
            "name": e.profile.name,
            "source": e.source,
            "is_example": e.profile.is_example,
            "languages": list(e.profile.languages),
            "helplines": len(e.profile.helplines),
            "updated_on": e.updated_on,
        }
        for e in profile_store.entries()
    ]


def profile_document(profile_id: str) -> str:
    from survey.services import profile_store

    text = profile_store.document(profile_id)
    if text is None:
        raise NotFound(profile_id)
    return text

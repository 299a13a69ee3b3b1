"""The API's operations: thin views over :mod:`survey.services.api_data`.

Every operation reads; none changes anything.  Each declares the scope it needs with
:func:`scoped` (the access hook checks the token before the view runs) and is documented in the
OpenAPI document from its decorators.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, g, request
from flask_smorest import Blueprint, Page, abort

from analysis.release_tables import rows_to_csv
from survey.access import api_token
from survey.api import schemas
from survey.api.auth import caller
from survey.services import api_data

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "/api/v1"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YAML = "application/yaml; charset=utf-8"

results = Blueprint(
    "api-results",
    __name__,
    url_prefix=PREFIX,
    description="Released results: consultations, their releases and released tables, instruments.",
)
records = Blueprint(
    "api-records", __name__, url_prefix=PREFIX, description="Programme records: checklists, influence log, feedback."
)
admin = Blueprint(
    "api-admin", __name__, url_prefix=PREFIX, description="Administration: users, teams and country profiles."
)
meta = Blueprint("api-token", __name__, url_prefix=PREFIX, description="The token itself.")
BLUEPRINTS = (results, records, admin, meta)


def scoped(*scopes: str) -> Callable[[F], F]:
    """The access rule (a token with ``scopes``) and its documentation, in one decorator."""
    security = [{"bearerAuth": list(scopes)}]
    scope_text = ", ".join(scopes) if scopes else "any scope"

    def decorate(view: F) -> F:
        rest = (view.__doc__ or "").strip().partition("\n\n")[2]
        description = (rest + "\n\n" if rest else "") + f"Needs a token with: {scope_text}."
        view = Blueprint.doc(security=security, description=description)(view)
        for status in (401, 403, 404, 429):
            view = results.alt_response(status, response=_RESPONSE_NAMES[status])(view)
        return api_token(*scopes)(view)

    return decorate


_RESPONSE_NAMES = {
    304: "NOT_MODIFIED",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "TOO_MANY_REQUESTS",
}


def _found(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except api_data.NotFound:
        abort(404)


def _ids(**ids: object) -> None:
    """The ids of what the call read, for its audit record (numbers and keys only)."""
    g.api_audit_ids = " ".join(f"{name}:{value}" for name, value in ids.items())


def _file(body: bytes, mimetype: str, tag: str, filename: str) -> Response:
    """A download with a strong ETag; 304 when the caller already holds it."""
    response = Response(body, content_type=mimetype)
    response.set_etag(tag)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response.make_conditional(request)


def _file_docs(blueprint: Blueprint, media: str, description: str) -> Callable[[F], F]:
    if "yaml" in media:  # a YAML document (a mapping); clients parse it as YAML
        schema: dict[str, str] = {"type": "object"}
    elif media.startswith("text/"):
        schema = {"type": "string"}
    else:
        schema = {"type": "string", "contentMediaType": media.split(";")[0]}

    def decorate(view: F) -> F:
        view = blueprint.alt_response(304, response=_RESPONSE_NAMES[304])(view)
        return blueprint.response(
            200, schema, content_type=media.split(";")[0], description=description, headers={"ETag": "ETAG"}
        )(view)

    return decorate


# ----------------------------------------------------------------------------- the token
@meta.route("/token")
@scoped()
@meta.response(200, schemas.TokenInfo)
def token_info():
    """Which token this is, whose, and the scopes that count now."""
    from survey.extensions import db
    from survey.models import ApiToken

    me = caller()
    record = db.session.get(ApiToken, me.token_id)
    return {
        "token_id": me.token_id,
        "username": me.user.username,
        "scopes": sorted(me.scopes),
        "expires_on": record.expires_on,
    }


# ----------------------------------------------------------------------------- consultations and releases
@results.route("/consultations")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.Consultation(many=True))
@results.paginate(Page)
def list_consultations():
    """The consultations whose released results this token's owner may read (as an analyst of each)."""
    return api_data.consultations(caller().user)


@results.route("/consultations/<int:consultation_id>")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.ConsultationDetail)
def get_consultation(consultation_id: int):
    """A consultation's metadata and the participation funnel of its latest release (small counts hidden)."""
    _ids(consultation=consultation_id)
    return _found(api_data.consultation, caller().user, consultation_id)


@results.route("/consultations/<int:consultation_id>/releases")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.Release(many=True))
@results.paginate(Page)
def list_releases(consultation_id: int):
    """Every release of a consultation, oldest first (the ledger)."""
    _ids(consultation=consultation_id)
    return _found(api_data.release_list, caller().user, consultation_id)


@results.route("/consultations/<int:consultation_id>/releases/<int:number>")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.ReleaseEntry)
def get_release(consultation_id: int, number: int):
    """The ledger entry of one release: when, by whom, for whom, under which rules, and its tables."""
    _ids(consultation=consultation_id, release=number)
    return _found(api_data.release_entry, caller().user, consultation_id, number)


@results.route("/consultations/<int:consultation_id>/releases/<int:number>/tables/<key>")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.Table)
def get_table(consultation_id: int, number: int, key: str):
    """One released table as rows with stable column names (count and percent null where hidden)."""
    _ids(consultation=consultation_id, release=number)
    return _found(api_data.table, caller().user, consultation_id, number, key)


@results.route("/consultations/<int:consultation_id>/releases/<int:number>/tables/<key>.csv")
@scoped("releases:read")
@_file_docs(results, CSV, "The table as CSV (UTF-8 with a byte-order mark; hidden numbers are empty)")
def get_table_csv(consultation_id: int, number: int, key: str):
    """One released table as CSV, with the same columns as its JSON rows."""
    _ids(consultation=consultation_id, release=number)
    found = _found(api_data.table, caller().user, consultation_id, number, key)
    tag = (
        _found(api_data.release_tag, caller().user, consultation_id, number)
        + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    )
    return _file(
        rows_to_csv(found["rows"]).encode("utf-8"), CSV, tag, f"sauti-{consultation_id}-release-{number}-table.csv"
    )


@results.route("/consultations/<int:consultation_id>/releases/<int:number>/cells.csv")
@scoped("releases:read")
@_file_docs(results, CSV, "Every table of the release in one long CSV (the columns of a table's rows)")
def get_release_csv(consultation_id: int, number: int):
    """Every published cell of a release in one CSV: the file to point Excel or Power BI at."""
    _ids(consultation=consultation_id, release=number)
    rows = _found(api_data.all_rows, caller().user, consultation_id, number)
    tag = _found(api_data.release_tag, caller().user, consultation_id, number)
    return _file(rows_to_csv(rows).encode("utf-8"), CSV, tag, f"sauti-{consultation_id}-release-{number}.csv")


@results.route("/consultations/<int:consultation_id>/export.csv")
@scoped("releases:read")
@results.alt_response(409, response=_RESPONSE_NAMES[409])
@_file_docs(results, CSV, "The de-identified record-level export (one row per child, no identifiers)")
def get_export(consultation_id: int):
    """The gated de-identified export: only for the consultation's analysts, only while an administrator's
    approval record is current, and only when the export passes the microdata risk check (409 otherwise)."""
    user = caller().user
    try:
        body, approval_id = api_data.record_level_export(user, consultation_id)
    except api_data.NotFound:
        abort(404)
    except PermissionError:
        abort(
            403,
            detail="Record-level answers need a current export approval: an administrator records it "
            "on the consultation's export approval page.",
        )
    except api_data.NothingToServe:
        abort(
            409,
            detail="The de-identified export cannot be served: too few children, or some would be too "
            "easy to recognise.",
        )
    _ids(consultation=consultation_id, approval=approval_id)
    response = Response(body, content_type=CSV)
    response.headers["Content-Disposition"] = f'attachment; filename="sauti-consultation-{consultation_id}-export.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    return response.make_conditional(request)


# ----------------------------------------------------------------------------- instruments
@results.route("/instruments")
@scoped("releases:read")
@results.etag
@results.response(200, schemas.Instrument(many=True))
@results.paginate(Page)
def list_instruments():
    """The stored instrument versions (the questionnaires consultations run)."""
    return api_data.instruments()


@results.route("/instruments/<instrument_id>/<version>.yaml")
@scoped("releases:read")
@_file_docs(results, YAML, "The instrument in Sauti's YAML format")
def get_instrument_yaml(instrument_id: str, version: str):
    """One instrument version as Sauti YAML."""
    body, content_hash = _found(api_data.instrument_file, instrument_id, version, "yaml")
    return _file(body, YAML, content_hash[:40], "instrument.yaml")


@results.route("/instruments/<instrument_id>/<version>.xlsx")
@scoped("releases:read")
@_file_docs(results, XLSX, "The instrument as an XLSForm workbook (KoboToolbox, ODK)")
def get_instrument_xlsform(instrument_id: str, version: str):
    """One instrument version as an XLSForm workbook."""
    body, content_hash = _found(api_data.instrument_file, instrument_id, version, "xlsx")
    return _file(body, XLSX, content_hash[:40] + "x", "instrument.xlsx")


# ----------------------------------------------------------------------------- programme records
@records.route("/records/consultations")
@scoped("records:read")
@records.etag
@records.response(200, schemas.RecordConsultation(many=True))
@records.paginate(Page)
def list_record_consultations():
    """The consultations whose programme records this token's owner may read."""
    return api_data.record_consultations(caller().user)


@records.route("/records/consultations/<int:consultation_id>/checklists")
@scoped("records:read")
@records.etag
@records.response(200, schemas.ChecklistRow(many=True))
def get_checklists(consultation_id: int):
    """The Lundy process checklist and the General Comment 12 self-assessment, one row per question."""
    _ids(consultation=consultation_id)
    return _found(api_data.checklists, caller().user, consultation_id)


@records.route("/records/consultations/<int:consultation_id>/influence")
@scoped("records:read")
@records.etag
@records.response(200, schemas.InfluenceEntry(many=True))
@records.paginate(Page)
def get_influence(consultation_id: int):
    """The influence log: each recommendation, the decision and the reason."""
    _ids(consultation=consultation_id)
    return _found(api_data.influence, caller().user, consultation_id)


@records.route("/records/consultations/<int:consultation_id>/feedback")
@scoped("records:read")
@records.etag
@records.response(200, schemas.Feedback)
def get_feedback(consultation_id: int):
    """The feedback tracker (due, given, overdue) and each feedback sheet's written parts and sign-off."""
    _ids(consultation=consultation_id)
    return _found(api_data.feedback, caller().user, consultation_id)


# ----------------------------------------------------------------------------- administration
@admin.route("/admin/users")
@scoped("admin")
@admin.etag
@admin.response(200, schemas.User(many=True))
@admin.paginate(Page)
def list_users():
    """Staff accounts and their roles."""
    return api_data.users()


@admin.route("/admin/teams")
@scoped("admin")
@admin.etag
@admin.response(200, schemas.Team(many=True))
@admin.paginate(Page)
def list_teams():
    """Each consultation's team: who works on it, as what."""
    return api_data.teams()


@admin.route("/admin/profiles")
@scoped("admin")
@admin.etag
@admin.response(200, schemas.Profile(many=True))
@admin.paginate(Page)
def list_profiles():
    """The country profiles consultations may use (uploaded, then bundled examples)."""
    return api_data.profiles()


@admin.route("/admin/profiles/<profile_id>.yaml")
@scoped("admin")
@_file_docs(admin, YAML, "The country profile's YAML document")
def get_profile_yaml(profile_id: str):
    """One country profile as YAML."""
    text = _found(api_data.profile_document, profile_id)
    body = text.encode("utf-8")
    return _file(body, YAML, hashlib.sha256(body).hexdigest()[:40], "profile.yaml")

"""The API's response shapes (marshmallow), from which the OpenAPI document is generated."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f

from analysis.release_tables import COLUMNS


class _Out(ma.Schema):
    class Meta:
        ordered = True


def _n(description: str) -> f.Integer:
    return f.Integer(allow_none=True, metadata={"description": description})


class TokenInfo(_Out):
    token_id = f.Integer(required=True)
    username = f.String(required=True)
    scopes = f.List(
        f.String(),
        required=True,
        metadata={"description": "The scopes that count now: the token's scopes that its owner's roles still allow"},
    )
    expires_on = f.Date(required=True)


class Consultation(_Out):
    id = f.Integer(required=True)
    title = f.String(required=True)
    state = f.String(required=True, metadata={"description": "draft, open, closed or archived"})
    instrument_id = f.String(required=True)
    instrument_version = f.String(required=True)
    languages = f.List(f.String(), required=True)
    age_bands = f.List(f.String(), required=True)
    country_profile = f.String(required=True)
    setting = f.String(required=True)
    facilitated = f.Boolean(required=True)
    created_on = f.Date(required=True)
    feedback_due = f.Date(allow_none=True, required=True)
    latest_release = _n("The number of the latest release, or null before the first")


class FunnelStage(_Out):
    stage = f.String(required=True)
    count = _n("Children at this stage, as released; null where the release hides a small number")


class ConsultationDetail(Consultation):
    n_children = _n("Children in the latest release")
    funnel = f.List(
        f.Nested(FunnelStage),
        required=True,
        metadata={"description": "The participation funnel of the latest release (empty before one)"},
    )


class TableSummary(_Out):
    key = f.String(required=True)
    title = f.String(required=True)
    n = f.Integer(required=True)


class Release(_Out):
    consultation_id = f.Integer(required=True)
    number = f.Integer(required=True)
    made_on = f.Date(required=True)
    made_by = f.String(required=True)
    audience = f.String(required=True)
    reason = f.String(required=True, metadata={"description": "analyst, closed or cli"})
    n_children = f.Integer(required=True)
    rules = f.Dict(required=True, metadata={"description": "The disclosure rules the release was made under"})


class ReleaseEntry(Release):
    tables = f.List(f.Nested(TableSummary), required=True)


class TableRow(_Out):
    """One published cell.  The columns are stable: dashboards may rely on them."""

    table = f.String(required=True, metadata={"description": "The table's key"})
    group = f.String(required=True, metadata={"description": "The group of children the row is about"})
    population = f.String(required=True, metadata={"description": "The group as dim=v1|v2;dim2=v (empty: all)"})
    group_total = _n("Children in the group (null in participation tables)")
    answer = f.String(required=True, metadata={"description": "The answer (empty in participation tables)"})
    codes = f.String(required=True, metadata={"description": "The answer codes merged into this cell, | between"})
    count = _n("Children; null where hidden by disclosure control")
    percent = _n("Whole per cent of group_total; null where hidden or the group is too small")
    coded = f.String(
        allow_none=True,
        required=True,
        metadata={"description": "'<5 %' or '>95 %' for sensitive items, in place of the extremes"},
    )


assert tuple(TableRow._declared_fields) == COLUMNS  # one owner of the column names


class Table(_Out):
    key = f.String(required=True)
    title = f.String(required=True)
    n = f.Integer(required=True)
    population = f.Dict(keys=f.String(), values=f.List(f.String()), required=True)
    rows = f.List(f.Nested(TableRow), required=True)


class Instrument(_Out):
    instrument_id = f.String(required=True)
    version = f.String(required=True)
    content_hash = f.String(required=True)
    approved = f.Boolean(required=True)


class RecordConsultation(_Out):
    id = f.Integer(required=True)
    title = f.String(required=True)
    state = f.String(required=True)


class ChecklistRow(_Out):
    checklist = f.String(required=True, metadata={"description": "lundy or gc12"})
    question = f.String(required=True)
    label = f.String(required=True)
    status = f.String(allow_none=True, required=True, metadata={"description": "yes, partly, no, or null"})
    evidence = f.String(required=True)
    updated_on = f.Date(allow_none=True, required=True)
    updated_by = f.String(required=True)


class InfluenceEntry(_Out):
    id = f.Integer(required=True)
    recommendation = f.String(required=True)
    source_finding = f.String(required=True)
    decision = f.String(required=True, metadata={"description": "pending, accepted, partly or rejected"})
    reason = f.String(required=True)
    owner = f.String(required=True)
    decided_on = f.Date(allow_none=True, required=True)
    recorded_on = f.Date(required=True)
    recorded_by = f.String(required=True)


class FeedbackSheet(_Out):
    band = f.String(required=True)
    language = f.String(required=True)
    state = f.String(required=True, metadata={"description": "draft or released"})
    will_change = f.String(required=True)
    cant_change = f.String(required=True)
    next_update = f.String(required=True)
    updated_on = f.Date(required=True)
    reviewer = f.String(required=True)
    reviewer_role = f.String(required=True)
    signed_on = f.Date(allow_none=True, required=True)


class Feedback(_Out):
    due = f.Date(allow_none=True, required=True)
    given_on = f.Date(allow_none=True, required=True)
    formats = f.String(required=True)
    overdue = f.Boolean(required=True)
    sheets = f.List(f.Nested(FeedbackSheet), required=True)


class User(_Out):
    id = f.Integer(required=True)
    username = f.String(required=True)
    display_name = f.String(required=True)
    roles = f.List(f.String(), required=True)
    active = f.Boolean(required=True)
    created_on = f.Date(required=True)


class Member(_Out):
    user_id = f.Integer(required=True)
    username = f.String(required=True)
    role = f.String(required=True)


class Team(_Out):
    consultation_id = f.Integer(required=True)
    title = f.String(required=True)
    members = f.List(f.Nested(Member), required=True)


class Profile(_Out):
    id = f.String(required=True)
    name = f.String(required=True)
    source = f.String(required=True, metadata={"description": "bundled or uploaded"})
    is_example = f.Boolean(required=True)
    languages = f.List(f.String(), required=True)
    helplines = f.Integer(required=True, metadata={"description": "How many helplines the profile lists"})
    updated_on = f.Date(allow_none=True, required=True)

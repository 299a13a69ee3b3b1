"""A world for the API tests: the bundled consultation with 30 finished children and a release,
programme records, an approval-less export, and staff of every kind with tokens of every scope."""

from __future__ import annotations

import dataclasses
import datetime as dt

from survey.extensions import db
from tests.release_seed import bundled_consultation, seed_completed

#: The token kinds the API tests use: none, each scope alone, and every scope together.
TOKEN_KINDS = {
    "releases": ("releases:read",),
    "records": ("records:read",),
    "admin": ("admin",),
    "all": ("releases:read", "records:read", "admin"),
}


@dataclasses.dataclass
class ApiWorld:
    consultation: int  # with a release, the analyst a member
    other: int  # a consultation the analyst does not work on
    release: int  # the release's number
    tokens: dict[str, str]  # kind -> token (the owner holds every role the scopes need)
    user_ids: dict[str, int]


def make_api_world(app, make_user, *, children: int = 30) -> ApiWorld:
    from survey.models import Consultation, User
    from survey.services import api_tokens, consultations, programme, releases

    ids = {
        "owner": make_user("olu", "analyst", "admin"),
        "analyst": make_user("ana", "analyst"),
        "facilitator": make_user("fiona", "facilitator"),
    }
    with app.app_context():
        cid = bundled_consultation("Class consultation")
        other = bundled_consultation("Another school")
        owner = db.session.get(User, ids["owner"])
        for user_id in (ids["owner"], ids["analyst"]):
            consultations.add_member(db.session.get(Consultation, cid), db.session.get(User, user_id), "analyst")
        consultations.add_member(
            db.session.get(Consultation, cid), db.session.get(User, ids["facilitator"]), "facilitator"
        )
        seed_completed(cid, children, bands=("B", "C"))
        number = releases.make_release(db.session.get(Consultation, cid), owner).number
        consultation = db.session.get(Consultation, cid)
        programme.save_checklist(
            consultation, "lundy", {next(iter(programme.LUNDY_QUESTIONS)): ("yes", "minutes")}, actor=owner
        )
        programme.add_influence(
            consultation,
            {
                "recommendation": "More helpline posters",
                "decision": "partly",
                "reason": "budget",
                "decided_on": dt.date.today(),
            },
            actor=owner,
        )
        tokens = {
            kind: api_tokens.create(db.session.get(User, ids["owner"]), name=kind, scopes=list(scopes), days=30)[1]
            for kind, scopes in TOKEN_KINDS.items()
        }
    return ApiWorld(cid, other, number, tokens, ids)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}

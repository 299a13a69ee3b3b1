"""Issue 17: a team per consultation (owner, facilitators, analysts, safeguarding lead), changed
by its owner or an administrator, every change audited, and the access rules reading it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, Membership, User
from tests.conftest import sign_in
from tests.survey.test_consultation_setup import FORM


def _created_by(app, client) -> int:
    created = client.post("/facilitate/new", data=FORM)
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        return db.session.scalars(sa.select(Consultation.id).order_by(Consultation.id.desc())).first()


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def _audit(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (e.actor_name, e.action, e.target)
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action.startswith("team.")).order_by(AuditEvent.id)
            )
        ]


def test_an_analyst_added_to_the_team_sees_its_results_and_loses_them_when_removed(app, make_user) -> None:
    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    facilitator, analyst = app.test_client(), app.test_client()
    sign_in(facilitator, "fiona")
    sign_in(analyst, "ana")
    consultation = _created_by(app, facilitator)
    # What issue 17 found: the analyst is refused a consultation the facilitator created.
    assert analyst.get(f"/reports/{consultation}/").status_code == 403

    team_page = facilitator.get(f"/facilitate/{consultation}/team")
    assert team_page.status_code == 200 and "ana" in team_page.get_data(as_text=True)
    added = facilitator.post(
        f"/facilitate/{consultation}/team/add",
        data={"user": str(_user_id(app, "ana")), "role": "analyst"},
        follow_redirects=True,
    )
    assert added.status_code == 200 and "is now the analyst" in added.get_data(as_text=True)
    assert analyst.get(f"/reports/{consultation}/").status_code == 200
    assert f"/reports/{consultation}/" in analyst.get("/staff/").get_data(as_text=True)

    with app.app_context():
        membership = db.session.scalar(
            sa.select(Membership.id).where(Membership.consultation_id == consultation, Membership.role == "analyst")
        )
    removed = facilitator.post(f"/facilitate/{consultation}/team/{membership}/remove", follow_redirects=True)
    assert "is no longer the analyst" in removed.get_data(as_text=True)
    assert analyst.get(f"/reports/{consultation}/").status_code == 403
    assert _audit(app)[-2:] == [
        ("fiona", "team.add", f"consultation:{consultation} user:ana analyst"),
        ("fiona", "team.remove", f"consultation:{consultation} user:ana analyst"),
    ]


def test_only_the_owner_or_an_administrator_changes_the_team(app, make_user) -> None:
    make_user("fiona", "facilitator")
    make_user("femi", "facilitator")
    make_user("ana", "analyst")
    make_user("ada", "admin")
    owner, other, admin = app.test_client(), app.test_client(), app.test_client()
    for client, name in ((owner, "fiona"), (other, "femi"), (admin, "ada")):
        sign_in(client, name)
    consultation = _created_by(app, owner)
    femi, ana = _user_id(app, "femi"), _user_id(app, "ana")
    assert other.get(f"/facilitate/{consultation}/").status_code == 403  # not on the team
    owner.post(f"/facilitate/{consultation}/team/add", data={"user": str(femi), "role": "facilitator"})
    # A facilitator on the team runs it, sees the team, and cannot change it.
    assert other.get(f"/facilitate/{consultation}/").status_code == 200
    page = other.get(f"/facilitate/{consultation}/team").get_data(as_text=True)
    assert "Add to the team" not in page and "Remove" not in page
    assert (
        other.post(f"/facilitate/{consultation}/team/add", data={"user": str(ana), "role": "analyst"}).status_code
        == 403
    )
    # An administrator may, without being on the team.
    assert (
        admin.post(f"/facilitate/{consultation}/team/add", data={"user": str(ana), "role": "analyst"}).status_code
        == 303
    )
    # The team's roles need the account's role: an analyst account cannot run sessions.
    refused = owner.post(f"/facilitate/{consultation}/team/add", data={"user": str(ana), "role": "facilitator"})
    assert refused.status_code == 400 and "not a facilitator account" in refused.get_data(as_text=True)
    assert [(actor, action) for actor, action, _target in _audit(app)][-2:] == [
        ("fiona", "team.add"),
        ("ada", "team.add"),
    ]


def test_the_last_owner_stays_and_a_lost_account_role_ends_the_access(app, make_user) -> None:
    from survey.services import accounts

    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    owner, analyst = app.test_client(), app.test_client()
    sign_in(owner, "fiona")
    sign_in(analyst, "ana")
    consultation = _created_by(app, owner)
    with app.app_context():
        only_owner = db.session.scalar(
            sa.select(Membership.id).where(Membership.consultation_id == consultation, Membership.role == "owner")
        )
    kept = owner.post(f"/facilitate/{consultation}/team/{only_owner}/remove", follow_redirects=True)
    assert "needs an owner" in kept.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Membership, only_owner) is not None
    owner.post(f"/facilitate/{consultation}/team/add", data={"user": str(_user_id(app, "ana")), "role": "analyst"})
    assert analyst.get(f"/reports/{consultation}/").status_code == 200
    with app.app_context():
        accounts.update_user(db.session.get(User, _user_id(app, "ana")), roles=["facilitator"])
    assert analyst.get(f"/reports/{consultation}/").status_code == 403


def test_the_setup_form_staffs_the_consultation(app, make_user) -> None:
    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    make_user("sam", "facilitator")
    client = app.test_client()
    sign_in(client, "fiona")
    form = client.get("/facilitate/new").get_data(as_text=True)
    assert re.search(rf'name="analysts"[^>]*value="{_user_id(app, "ana")}"', form)
    consultation = _created_by_with(
        app, client, analysts=[str(_user_id(app, "ana"))], safeguarding_lead=str(_user_id(app, "sam"))
    )
    with app.app_context():
        roles = sorted(
            (m.user.username, m.role)
            for m in db.session.scalars(sa.select(Membership).where(Membership.consultation_id == consultation))
        )
    assert roles == [("ana", "analyst"), ("fiona", "facilitator"), ("fiona", "owner"), ("sam", "safeguarding")]


def _created_by_with(app, client, **extra) -> int:
    created = client.post("/facilitate/new", data={**FORM, **extra})
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        return db.session.scalars(sa.select(Consultation.id).order_by(Consultation.id.desc())).first()


def test_the_migration_gives_existing_consultations_an_owner(tmp_path) -> None:
    """Upgrading a database made before teams: each consultation's first facilitator owns it."""
    from flask_migrate import downgrade, upgrade

    from survey import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'old.sqlite'}"), instance_path=str(tmp_path / "i"))
    with app.app_context():
        upgrade(revision="9c41e7d2b6a3")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO staff_user (id, username, display_name, password_hash, roles, active, created_at) "
                "VALUES (1, 'fiona', '', 'x', 'facilitator', 1, '2026-01-01'), "
                "(2, 'femi', '', 'x', 'facilitator', 1, '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO consultation (id, title, instrument_id, instrument_version, instrument_hash, "
                "screening_deny_list, languages, age_bands, country_profile, consent_mode, facilitated, "
                "shared_device, setting, site_code, research_mode, ethics_reference, organisation, purpose, "
                "audience, influence_scope, contact, independent_contact, session_pin_hash, text_bindings, "
                "feedback_formats, state, created_on) VALUES (1, 'Old', 'i', '1', '', '', 'en', 'B', 'generic', "
                "'', 1, 0, 'school', '', 0, '', '', '', '', '', '', '', '', '{}', '', 'draft', '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO membership (id, user_id, consultation_id, role) VALUES "
                "(1, 2, 1, 'analyst'), (2, 1, 1, 'facilitator'), (3, 2, 1, 'facilitator')"
            )
        upgrade()
        owners = db.session.execute(sa.text("SELECT user_id FROM membership WHERE role = 'owner'")).scalars().all()
        assert owners == [1]
        db.session.remove()
        downgrade(revision="9c41e7d2b6a3")
        assert db.session.execute(sa.text("SELECT count(*) FROM membership")).scalar() == 3
        db.session.remove()
        db.engine.dispose()

"""Staff sign-in: argon2id, server-side sessions, idle time-out, throttling, CSRF."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from argon2 import PasswordHasher

from survey.extensions import db
from survey.models import AuditEvent, StaffSession, User, utcnow
from tests.conftest import STRONG_PASSWORD, csrf_token_from, sign_in


def test_sign_in_opens_a_server_side_session_and_sign_out_ends_it(app, client, make_user) -> None:
    make_user("fiona", "facilitator")
    assert sign_in(client, "FIONA ").status_code == 302  # usernames ignore case and spaces
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1
    stolen_cookie = client.get_cookie("sauti").value

    assert client.post("/staff/sign-out").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0
    # Replaying the cookie from before sign-out gets nowhere: the session is gone on the server.
    replay = app.test_client()
    replay.set_cookie("sauti", stolen_cookie)
    response = replay.get("/staff/")
    assert response.status_code == 302 and "/staff/sign-in" in response.location


def test_password_hashes_are_argon2id(app, make_user) -> None:
    make_user("fiona", "facilitator")
    with app.app_context():
        stored = db.session.scalar(sa.select(User.password_hash))
    assert stored.startswith("$argon2id$")
    assert STRONG_PASSWORD not in stored


def test_weaker_hash_is_upgraded_at_sign_in(make_app) -> None:
    weak = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    app = make_app(ARGON2_PARAMETERS={"time_cost": 2, "memory_cost": 2048, "parallelism": 1})
    with app.app_context():
        db.session.add(
            User(username="old", roles="analyst", password_hash=PasswordHasher(**weak).hash(STRONG_PASSWORD))
        )
        db.session.commit()
    assert sign_in(app.test_client(), "old").status_code == 302
    with app.app_context():
        upgraded = db.session.scalar(sa.select(User.password_hash).where(User.username == "old"))
    assert "m=2048,t=2,p=1" in upgraded


def test_production_parameters_are_argon2_cffi_defaults() -> None:
    from survey.config import DefaultConfig

    default = PasswordHasher()
    assert DefaultConfig.ARGON2_PARAMETERS == {
        "time_cost": default.time_cost,
        "memory_cost": default.memory_cost,
        "parallelism": default.parallelism,
    }


def test_idle_staff_session_times_out_after_30_minutes(app, client, make_user) -> None:
    make_user("ana", "analyst")
    sign_in(client, "ana")
    with app.app_context():
        db.session.execute(sa.update(StaffSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))
        db.session.commit()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/sign-in" in response.location
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0


def test_active_session_survives_29_minutes(app, client, make_user) -> None:
    make_user("ana", "analyst")
    sign_in(client, "ana")
    with app.app_context():
        db.session.execute(sa.update(StaffSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=29)))
        db.session.commit()
    assert client.get("/staff/").status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_answer(client, make_user) -> None:
    make_user("fiona", "facilitator")
    unknown = client.post("/staff/sign-in", data={"username": "nobody", "password": "x" * 12})
    wrong = client.post("/staff/sign-in", data={"username": "fiona", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    # Identical pages, apart from the username the person typed being shown back to them.
    assert unknown.get_data(as_text=True).replace("nobody", "fiona") == wrong.get_data(as_text=True)


def test_repeated_failures_are_throttled_even_with_the_right_password(app, make_user) -> None:
    make_user("fiona", "facilitator")
    client = app.test_client()
    statuses = [sign_in(client, "fiona", "wrong password!").status_code for _ in range(5)]
    assert statuses == [401] * 5
    assert sign_in(client, "fiona").status_code == 429
    # The same throttle answers for an unknown name, so it reveals nothing about accounts.
    for _ in range(5):
        sign_in(client, "ghost", "wrong password!")
    ghost = sign_in(client, "ghost", "wrong password!")
    assert ghost.status_code == 429
    with app.app_context():
        failures = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "signin.failed")
        )
    assert failures == 10


def test_sign_in_failures_are_counted_in_the_database_whatever_the_rate_limit_store(make_app) -> None:
    # Nothing listens on port 1: the code-guess store is unreachable, yet sign-in neither fails
    # open nor stops: its failures are counted in the database.
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    from survey.services import accounts

    with app.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["facilitator"])
    client = app.test_client()
    assert [sign_in(client, "fiona", "wrong password!").status_code for _ in range(6)] == [401] * 5 + [429]
    assert sign_in(app.test_client(), "fiona").status_code == 429  # same client address: waits
    with app.app_context():
        accounts.unlock(db.session.scalar(sa.select(User).where(User.username == "fiona")))
    assert sign_in(app.test_client(), "fiona").status_code == 302


def test_open_redirect_is_refused(client, make_user) -> None:
    make_user("fiona", "facilitator")
    response = client.post(
        "/staff/sign-in?next=//evil.example/", data={"username": "fiona", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 302 and response.location == "/staff/"


def test_forms_need_a_csrf_token(make_app, make_user) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey.services import accounts

    with app.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["facilitator"])
    client = app.test_client()
    refused = client.post("/staff/sign-in", data={"username": "fiona", "password": STRONG_PASSWORD})
    assert refused.status_code == 400
    token = csrf_token_from(client.get("/staff/sign-in").get_data(as_text=True))
    accepted = client.post(
        "/staff/sign-in", data={"username": "fiona", "password": STRONG_PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302


def test_session_fixation_is_useless(make_app) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey.services import accounts

    with app.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["facilitator"])
    client = app.test_client()
    token = csrf_token_from(client.get("/staff/sign-in").get_data(as_text=True))
    planted = client.get_cookie("sauti").value
    client.post("/staff/sign-in", data={"username": "fiona", "password": STRONG_PASSWORD, "csrf_token": token})
    assert client.get_cookie("sauti").value != planted
    attacker = app.test_client()
    attacker.set_cookie("sauti", planted)
    assert attacker.get("/staff/").status_code == 302


def test_admin_manages_users(app, make_user) -> None:
    make_user("ada", "admin")
    fiona = make_user("fiona", "facilitator")
    admin = app.test_client()
    sign_in(admin, "ada")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and b"fiona" in page.data
    created = admin.post(
        "/admin/users",
        data={"username": "Ben", "display_name": "Ben K", "password": STRONG_PASSWORD, "roles": ["analyst"]},
    )
    assert created.status_code == 302
    duplicate = admin.post("/admin/users", data={"username": "ben", "password": STRONG_PASSWORD, "roles": ["analyst"]})
    assert duplicate.status_code == 400 and b"taken" in duplicate.data
    short = admin.post("/admin/users", data={"username": "cy", "password": "short", "roles": ["analyst"]})
    assert short.status_code == 400

    # Deactivating an account ends its open sessions at once.
    other = app.test_client()
    sign_in(other, "fiona")
    assert other.get("/staff/").status_code == 200
    response = admin.post(f"/admin/users/{fiona}", data={"roles": ["facilitator"]})  # active unticked
    assert response.status_code == 302
    assert other.get("/staff/").status_code == 302
    assert sign_in(app.test_client(), "fiona").status_code == 401
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    assert "user.create" in actions and "user.update" in actions


def test_admin_cannot_lock_themselves_out(app, make_user) -> None:
    ada = make_user("ada", "admin")
    admin = app.test_client()
    sign_in(admin, "ada")
    response = admin.post(f"/admin/users/{ada}", data={"roles": ["admin"]})
    assert response.status_code == 400
    assert admin.get("/staff/").status_code == 200


def test_two_workers_without_redis_allow_the_documented_five_failures(make_app) -> None:
    """Two worker processes, no shared store: the failures are counted in the shared database,
    so the sixth attempt waits on either worker, not the third (the old per-process split)."""
    from survey.services import accounts

    first, second = make_app(THROTTLE_WORKERS=2), make_app(THROTTLE_WORKERS=2)
    with first.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["analyst"])

    def client(worker):
        test_client = worker.test_client()
        test_client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        return test_client

    statuses = [
        sign_in(client(worker), "fiona", "wrong password!").status_code
        for worker in (first, second, first, second, first)
    ]
    assert statuses == [401] * 5  # the old code answered 429 from the third on
    assert sign_in(client(second), "fiona").status_code == 429
    assert sign_in(client(first), "fiona").status_code == 429


def test_audit_log_shows_staff_actions_to_admins_only(app, world) -> None:
    world.clients["facilitator"].post(f"/facilitate/{world.consultation}/codes", data={"count": "2"})
    page = world.clients["admin"].get("/admin/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "codes.issue" in html and "signin" in html and "fiona" in html
    filtered = world.clients["admin"].get("/admin/audit?action=codes").get_data(as_text=True)
    assert "codes.issue" in filtered and "user.create" not in filtered
    assert world.clients["analyst"].get("/admin/audit").status_code == 403
    assert world.clients["admin"].get("/admin/audit?page=abc&action=%25").status_code == 200


def _post_routes(app) -> list[tuple[str, str]]:
    """Every route that takes a POST, with made-up arguments, as (endpoint, path)."""
    routes = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "POST" not in (rule.methods or ()):
                continue
            values = {
                name: 1 if "int" in type(conv).__name__.lower() else "x" for name, conv in rule._converters.items()
            }
            routes.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return routes


def test_every_form_route_refuses_a_post_without_a_token_unless_it_checks_its_own(make_app) -> None:
    """CSRF is checked by the access hook (``WTF_CSRF_CHECK_DEFAULT`` is off): every POST route
    refuses a form without a token (400) before anything else runs, except the routes marked
    exempt because they check the token themselves or take none (the child's pages, the API's
    and the field laptops' token-authenticated calls)."""
    app = make_app(WTF_CSRF_ENABLED=True)
    assert app.config["WTF_CSRF_CHECK_DEFAULT"] is False
    client = app.test_client()
    unchecked = set()
    for endpoint, path in _post_routes(app):
        response = client.post(path, data={"x": "1"})
        if response.status_code != 400 or b"open too long" not in response.data:
            unchecked.add(endpoint.split(".")[0] if endpoint.startswith(("api", "sync")) else endpoint)
    assert unchecked == EXEMPT_FROM_THE_HOOK, unchecked
    # A GET is never asked for a token.
    assert client.get("/staff/sign-in").status_code == 200


#: ``csrf.exempt``: the question pages check the token themselves (a stale one shows the page
#: again), leaving only ends this device's own child session, field laptops sign their calls.
EXEMPT_FROM_THE_HOOK = {
    "participate.leave",
    "participate.more",
    "participate.page",
    "participate.page_in_repeat",
    "participate.remove_instance",
    "sync",
}

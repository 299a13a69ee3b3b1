"""Staff accounts: absolute session lifetime, signing out everywhere, a lockout nobody can use
against an account's owner, common passwords refused, and HTTPS-only cookie and header."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import SigninFailure, StaffSession, User, utcnow
from survey.services import accounts
from tests.conftest import STRONG_PASSWORD, sign_in


def _signed_in(app, username: str, address: str = "10.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert sign_in(client, username).status_code == 302
    assert client.get("/staff/").status_code == 200
    return client


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, make_user) -> None:
    make_user("fiona", "facilitator")
    client = _signed_in(app, "fiona")
    with app.app_context():
        # Signed in 13 hours ago and busy ever since: never idle, but past the 12-hour lifetime.
        db.session.execute(
            sa.update(StaffSession).values(created_at=utcnow() - dt.timedelta(hours=13), last_seen_at=utcnow())
        )
        db.session.commit()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/sign-in" in response.location


def test_signing_out_everywhere_ends_every_session_of_the_account(app, make_user) -> None:
    make_user("fiona", "facilitator")
    make_user("omar", "facilitator")
    laptop, phone = _signed_in(app, "fiona"), _signed_in(app, "fiona", "10.0.0.2")
    omar = _signed_in(app, "omar")
    assert phone.post("/staff/sign-out-everywhere").status_code == 302
    for device in (laptop, phone):
        assert device.get("/staff/").status_code == 302
    assert omar.get("/staff/").status_code == 200  # other accounts keep theirs


def test_an_administrator_signs_a_user_out_everywhere_and_unlocks(app, make_user) -> None:
    make_user("ada", "admin")
    fiona = make_user("fiona", "facilitator")
    admin = _signed_in(app, "ada")
    laptop = _signed_in(app, "fiona", "10.0.0.5")
    assert admin.post(f"/admin/users/{fiona}/sign-out-everywhere").status_code == 302
    assert laptop.get("/staff/").status_code == 302

    for _ in range(6):
        sign_in(laptop, "fiona", "wrong password!")
    assert sign_in(laptop, "fiona").status_code == 429
    page = admin.get(f"/admin/users/{fiona}").get_data(as_text=True)
    assert "being delayed" in page
    assert admin.post(f"/admin/users/{fiona}/unlock").status_code == 302
    assert sign_in(laptop, "fiona").status_code == 302


def test_someone_who_knows_the_username_cannot_lock_its_owner_out(app, make_user) -> None:
    make_user("fiona", "facilitator")
    owner = _signed_in(app, "fiona", "10.0.0.9")  # her laptop: it now carries the device cookie
    owner.post("/staff/sign-out")
    # Wrong passwords for "fiona" from 40 addresses, 5 each: 200 failures.
    for n in range(40):
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
        for _ in range(5):
            sign_in(attacker, "fiona", "wrong password!")
    # Guessing is slowed down for every device that never signed in as fiona ...
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    assert sign_in(stranger, "fiona").status_code == 429
    # ... but her own laptop gets in at once (on the old code: "Too many failed sign-ins").
    assert sign_in(owner, "fiona").status_code == 302


def test_waits_grow_with_each_failure_and_are_bounded(app, make_user) -> None:
    make_user("fiona", "facilitator")
    client = app.test_client()
    waits = []
    for _ in range(9):
        sign_in(client, "fiona", "wrong password!")
        with app.app_context():
            rows = list(db.session.scalars(sa.select(SigninFailure)))
            waits.append(
                max(
                    (row.blocked_until - row.last_failure_at for row in rows if row.blocked_until),
                    default=dt.timedelta(0),
                )
            )
            # Let the wait pass, so the next attempt is evaluated.
            db.session.execute(sa.update(SigninFailure).values(blocked_until=None))
            db.session.commit()
    minutes = [wait.total_seconds() / 60 for wait in waits]
    assert minutes == [0, 0, 0, 0, 1, 2, 4, 8, 15]


@pytest.mark.parametrize("password", ["Q1w2e3r4t5y6", "qwerty123456", "1qaz2wsx3edc"])
def test_common_and_breached_passwords_are_refused(app, password) -> None:
    assert password.lower() in accounts.common_passwords()
    with app.app_context(), pytest.raises(accounts.AccountError, match="common or breached"):
        accounts.create_user("fiona", password, ["facilitator"])


def test_the_shipped_password_list_is_large_and_a_strong_password_passes(app) -> None:
    assert len(accounts.common_passwords()) >= 10_000
    with app.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["facilitator"])
        with pytest.raises(accounts.AccountError, match="at least"):
            accounts.create_user("omar", "short", ["facilitator"])


def test_over_https_the_cookie_has_the_host_prefix_and_hsts_is_sent(make_app, make_user) -> None:
    app = make_app(SESSION_COOKIE_SECURE=True, TRUSTED_PROXIES=1)
    with app.app_context():
        accounts.create_user("fiona", STRONG_PASSWORD, ["facilitator"])
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.3"}
    response = client.post("/staff/sign-in", data={"username": "fiona", "password": STRONG_PASSWORD}, headers=https)
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-sauti="))
    assert "Secure" in session_cookie and "Path=/" in session_cookie and "Domain" not in session_cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # Plain HTTP (no proxy saying otherwise): no HSTS.
    assert "Strict-Transport-Security" not in client.get("/notes").headers


def test_plain_http_keeps_the_plain_cookie_name(client) -> None:
    response = client.get("/")
    assert "Strict-Transport-Security" not in response.headers
    with client.application.app_context():
        assert client.application.config["SESSION_COOKIE_NAME"] == "sauti"


def test_users_cli_unlocks_and_signs_out(app, make_user, runner) -> None:
    make_user("fiona", "facilitator")
    laptop = _signed_in(app, "fiona")
    result = runner.invoke(args=["users", "sign-out", "fiona"])
    assert result.exit_code == 0 and "Ended 1 session" in result.output
    assert laptop.get("/staff/").status_code == 302
    for _ in range(6):
        sign_in(laptop, "fiona", "wrong password!")
    assert runner.invoke(args=["users", "unlock", "fiona"]).exit_code == 0
    assert sign_in(laptop, "fiona").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.username)) == "fiona"

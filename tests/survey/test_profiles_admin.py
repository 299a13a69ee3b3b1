"""Country profiles in the console: list, upload with clear messages, helpline checks, use by consultations."""

from __future__ import annotations

import datetime as dt
import io
from importlib import resources

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, StoredProfile
from tests.conftest import World


def _generic() -> str:
    return (resources.files("consent") / "profiles" / "generic.yaml").read_text("utf-8")


def _real(verified: dt.date, profile_id: str = "test-land") -> str:
    """A non-example profile (its helplines must be fresh for a consultation to open)."""
    return (
        _generic()
        .replace("id: generic", f"id: {profile_id}")
        .replace("name: Generic profile (example, replace before use)", "name: Test Land")
        .replace("is_example: true", "is_example: false")
        .replace("last_verified: 2026-11-29", f"last_verified: {verified.isoformat()}")
    )


def _upload(client, text: str | bytes, filename: str = "profile.yaml"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/admin/profiles/", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def test_only_administrators_reach_country_profiles(world: World) -> None:
    for visitor in ("facilitator", "analyst"):
        assert world.clients[visitor].get("/admin/profiles/").status_code == 403
        assert _upload(world.clients[visitor], _real(dt.date.today())).status_code == 403
        assert (
            world.clients[visitor]
            .post("/admin/profiles/generic/helplines/0/verified", data={"verified_on": "2026-11-01"})
            .status_code
            == 403
        )
    child = world.clients["child"].get("/admin/profiles/")
    assert child.status_code == 302 and "/staff/sign-in" in child.location


def test_the_list_shows_each_profiles_rules(world: World) -> None:
    html = world.clients["admin"].get("/admin/profiles/").get_data(as_text=True)
    for text in (
        "example-ke",
        "example-uk",
        "generic",
        "guardians may say no (opt-out)",
        "guardians say yes first (opt-in)",
        "0800 1111",
        "incomplete: 7",
    ):
        assert text in html, text
    detail = world.clients["admin"].get("/admin/profiles/example-uk")
    assert detail.status_code == 200 and "Childline" in detail.get_data(as_text=True)
    assert world.clients["admin"].get("/admin/profiles/no-such").status_code == 404


def test_an_uploaded_profile_is_stored_audited_and_offered_to_consultations(app, world: World) -> None:
    admin = world.clients["admin"]
    response = _upload(admin, _real(dt.date.today()))
    assert response.status_code == 302 and response.location.endswith("/admin/profiles/test-land")
    assert "Test Land" in admin.get("/admin/profiles/").get_data(as_text=True)
    with app.app_context():
        from survey.services.safeguarding import country_profile

        assert country_profile("test-land").name == "Test Land"
        assert (
            db.session.scalar(sa.select(AuditEvent.target).where(AuditEvent.action == "profile.upload"))
            == "profile:test-land"
        )
    form = world.clients["facilitator"].get("/facilitate/new").get_data(as_text=True)
    assert 'value="test-land"' in form
    # Uploading a profile with a bundled id replaces the example for every consultation.
    replaced = _generic().replace("name: Generic profile (example, replace before use)", "name: Our generic")
    assert _upload(admin, replaced).status_code == 302
    with app.app_context():
        from survey.services.safeguarding import country_profile

        assert country_profile("generic").name == "Our generic"
    assert "replaces the bundled one" in admin.get("/admin/profiles/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: x\n", "name"),  # most fields missing: each named
        ("[unclosed", "is not valid YAML"),
        (None, "permission.ethics_reference"),  # waived without the ethics reference
        ("- just\n- a list\n", "is not a mapping"),
    ],
)
def test_bad_profiles_are_refused_with_the_field_and_the_fix(app, world: World, text, expected) -> None:
    if text is None:
        text = _real(dt.date.today()).replace("mode: active_opt_in", "mode: waived_with_substitute_protection")
    response = _upload(world.clients["admin"], text)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The profile was not stored" in html and expected in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredProfile)) == 0


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"\xff\xfe\x00bad", "p.yaml", "not UTF-8"),
        (b"id: x\x00\n", "p.yaml", "not a text file"),
        (b"a" * (70 * 1024), "p.yaml", "larger than 64 KB"),
        (b"id: x\n", "p.txt", "Choose a YAML file"),
        (b"", "p.yaml", ""),
    ],
)
def test_files_that_are_not_profiles_are_refused(world: World, data, filename, expected) -> None:
    response = _upload(world.clients["admin"], data, filename)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


def test_recording_a_helpline_check_lets_a_stale_profile_open(app, world: World, make_consultation) -> None:
    admin = world.clients["admin"]
    stale = dt.date.today() - dt.timedelta(days=120)
    assert _upload(admin, _real(stale)).status_code == 302
    assert "Stale" in admin.get("/admin/profiles/").get_data(as_text=True)
    cid = make_consultation("Test Land consultation", state="draft", country_profile="test-land")
    from survey.services import consultations

    with app.app_context():
        with pytest.raises(consultations.OpeningRefused, match="was last checked on"):
            consultations.open_consultation(db.session.get(Consultation, cid), today=dt.date.today(), demo=True)
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    refused = admin.post("/admin/profiles/test-land/helplines/0/verified", data={"verified_on": future})
    assert refused.status_code == 400 and "cannot be in the future" in refused.get_data(as_text=True)
    assert admin.post("/admin/profiles/test-land/helplines/0/verified", data={"verified_on": ""}).status_code == 400
    assert (
        admin.post("/admin/profiles/test-land/helplines/7/verified", data={"verified_on": "2026-11-01"}).status_code
        == 404
    )
    today = dt.date.today()
    ok = admin.post("/admin/profiles/test-land/helplines/0/verified", data={"verified_on": today.isoformat()})
    assert ok.status_code == 302
    with app.app_context():
        from survey.services.safeguarding import country_profile

        helpline = country_profile("test-land").helplines[0]
        assert (helpline.last_verified, helpline.verified_by) == (today, "ada")
        consultations.open_consultation(db.session.get(Consultation, cid), today=today, demo=True)
        assert db.session.get(Consultation, cid).state == "open"
        targets = list(
            db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "profile.helpline_verified"))
        )
    assert targets == [f"profile:test-land helpline:0 on:{today.isoformat()}"]
    assert "Stale" not in admin.get("/admin/profiles/").get_data(as_text=True)


def test_verifying_a_bundled_profile_makes_a_stored_copy(app, world: World) -> None:
    response = world.clients["admin"].post(
        "/admin/profiles/example-ke/helplines/0/verified", data={"verified_on": dt.date.today().isoformat()}
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(StoredProfile, "example-ke")
        assert row is not None and row.updated_by == "ada"
        from survey.services.safeguarding import country_profile

        assert country_profile("example-ke").helplines[0].last_verified == dt.date.today()

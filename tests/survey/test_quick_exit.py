"""The quick exit cannot fail: a plain GET link, no form token, the child's own session only,
the shipped profiles' real destinations, Sauti's own neutral page where there is no internet,
and a card that still works after leaving before assent.

The browser half (JavaScript on and off, CSP, history) is in tests/browser/test_quick_exit.py.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from consent.profiles import load_profile
from survey.extensions import db
from survey.models import Participant

SHIPPED_PROFILES = sorted(path.stem for path in (Path(__file__).parents[2] / "consent" / "profiles").glob("*.yaml"))
LANGUAGES = ("en", "fr", "es", "ar", "sw")


@pytest.fixture
def real_app(make_app):
    """The shipped setting: no pinned address, so the country profile decides; form tokens on."""
    return make_app(QUICK_EXIT_URL="", WTF_CSRF_ENABLED=True)


def _states(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Participant.state)))


def _enter(client, code: str):
    page = client.get("/")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = {"code": code, **({"csrf_token": token.group(1)} if token else {})}
    return client.post("/", data=data)


def _to_information(client, code: str) -> None:
    assert _enter(client, code).location.endswith("/p/age")  # straight there, not through /p/
    page = client.get("/p/age")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    data = {"age": "12", **({"csrf_token": token.group(1)} if token else {})}
    assert client.post("/p/age", data=data).location.endswith("/p/about")
    assert client.get("/p/about").status_code == 200


@pytest.mark.parametrize("profile_id", SHIPPED_PROFILES)
def test_the_quick_exit_is_a_get_without_a_token_to_the_profiles_own_site(
    real_app, make_consultation, issue_codes, profile_id
) -> None:
    consultation = make_consultation(country_profile=profile_id, facilitated=False)
    child = real_app.test_client()
    _to_information(child, issue_codes(consultation, 1)[0])
    html = child.get("/p/about").get_data(as_text=True)
    # A plain link, first on the page, not a form: nothing a policy on forms can stop.
    link = re.search(r'<a [^>]*href="/leave"[^>]*data-quick-exit', html)
    assert link and html.index(link.group(0)) < html.index("skip-link")
    assert 'action="/leave"' not in html

    response = child.get("/leave")  # no token, no form
    assert response.status_code == 303
    assert response.location == load_profile(profile_id).quick_exit_url
    # The session is over: the question pages send the child back to the start.
    assert child.get("/p/").status_code in (302, 303, 401, 403)
    assert "/p/about" not in (child.get("/p/").location or "")


def test_a_quick_exit_posted_without_a_token_still_ends_the_session(real_app, make_consultation, issue_codes) -> None:
    """A page opened before the link existed posts a form: no token must keep the child in."""
    consultation = make_consultation(facilitated=False)
    child = real_app.test_client()
    _to_information(child, issue_codes(consultation, 1)[0])
    response = child.post("/leave")
    assert response.status_code == 303
    assert response.location == load_profile("example-uk").quick_exit_url
    assert not (child.get("/p/").location or "").endswith(("/p/about", "/p/age"))


@pytest.mark.parametrize("method", ["get", "post"])
def test_leaving_before_assent_is_not_a_no_and_the_card_still_works(
    real_app, make_consultation, issue_codes, method
) -> None:
    consultation = make_consultation(facilitated=False)
    code = issue_codes(consultation, 1)[0]
    child = real_app.test_client()
    _to_information(child, code)
    if method == "get":
        assert child.get("/leave").status_code == 303
    else:  # as the old form did, token and all: only the state is in question here
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', child.get("/p/about").get_data(as_text=True))
        assert child.post("/leave", data={"csrf_token": token.group(1)}).status_code == 303
    assert _states(real_app) == ["issued"]
    again = real_app.test_client()
    response = _enter(again, code)
    # The card still works: straight back to the information (the age band was kept).
    assert response.status_code == 302 and response.location.endswith("/p/about"), response.get_data(as_text=True)
    assert again.get("/p/").location.endswith("/p/about")


@pytest.mark.parametrize("choice", ["delete", "later"])
def test_stopping_before_assent_leaves_the_card_usable(real_app, make_consultation, issue_codes, choice) -> None:
    consultation = make_consultation(facilitated=False)
    code = issue_codes(consultation, 1)[0]
    child = real_app.test_client()
    _to_information(child, code)
    page = child.get("/p/stop").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert child.post("/p/stop", data={"choice": choice, "csrf_token": token}).status_code == 302
    assert _states(real_app) == ["issued"]
    assert _enter(real_app.test_client(), code).location.endswith("/p/about")


def test_a_quick_exit_ends_only_this_devices_child_session(real_app, make_consultation, issue_codes, make_user) -> None:
    from tests.conftest import csrf_token_from

    consultation = make_consultation(facilitated=False)
    one, two = issue_codes(consultation, 2)
    first, second = real_app.test_client(), real_app.test_client()
    _to_information(first, one)
    _to_information(second, two)
    make_user("fiona", "facilitator")
    staff = real_app.test_client()
    token = csrf_token_from(staff.get("/staff/sign-in").get_data(as_text=True))
    assert (
        staff.post(
            "/staff/sign-in",
            data={"username": "fiona", "password": "correct horse battery staple", "csrf_token": token},
        ).status_code
        == 302
    )
    assert first.get("/leave").status_code == 303
    assert staff.get("/leave").status_code == 303
    # The other child and the signed-in adult are untouched; no state changed anywhere.
    assert second.get("/p/").location.endswith("/p/about")
    assert staff.get("/staff/").status_code == 200
    assert _states(real_app) == ["issued", "issued"]


def test_a_shared_tablet_still_goes_back_to_the_start(real_app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(facilitated=False, shared_device=True)
    child = real_app.test_client()
    _to_information(child, issue_codes(consultation, 1)[0])
    assert child.get("/leave").location == "/"


def test_offline_the_quick_exit_lands_on_the_neutral_page_served_here(make_app, make_consultation, issue_codes) -> None:
    app = make_app(QUICK_EXIT_URL="", QUICK_EXIT_LOCAL=True)
    consultation = make_consultation(facilitated=False)
    child = app.test_client()
    _to_information(child, issue_codes(consultation, 1)[0])
    assert child.get("/leave").location == "/notes"
    assert child.get("/p/").location.endswith("/")


def test_a_country_profile_can_send_the_quick_exit_to_the_neutral_page(
    real_app, make_consultation, issue_codes
) -> None:
    from survey.services import profile_store

    data = yaml.safe_load((Path(__file__).parents[2] / "consent" / "profiles" / "example-ke.yaml").read_text())
    data.update(id="example-offline", name="Offline example", quick_exit_local=True)
    with real_app.app_context():
        assert profile_store.upload(yaml.safe_dump(data).encode(), actor=None).quick_exit_local
    consultation = make_consultation(facilitated=False, country_profile="example-offline")
    child = real_app.test_client()
    _to_information(child, issue_codes(consultation, 1)[0])
    assert child.get("/leave").location == "/notes"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_neutral_page_says_nothing_of_sauti_a_survey_or_a_child(real_app, lang) -> None:
    response = real_app.test_client().get(f"/notes?lang={lang}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    lowered = html.lower()
    for word in ("sauti", "survey", "question", "child", "help", "/leave", "/p/", "quick", "script"):
        assert word not in lowered, word
    assert re.search(r"<title>[^<]+</title>", html)


def test_the_information_step_says_what_the_quick_exit_does_and_cannot_do(
    real_app, make_consultation, issue_codes
) -> None:
    from flask_babel import force_locale, gettext

    consultation = make_consultation(facilitated=False, languages=LANGUAGES)
    codes = issue_codes(consultation, len(LANGUAGES))
    english = "It cannot clean this device's history everywhere"
    for lang, code in zip(LANGUAGES, codes, strict=True):
        child = real_app.test_client()
        child.get(f"/?lang={lang}")
        _to_information(child, code)
        html = child.get("/p/about").get_data(as_text=True)
        with real_app.test_request_context(), force_locale(lang):
            limits = gettext(
                "It cannot clean this device's history everywhere, and someone who uses this device "
                "after you may still find that you were here. When you have finished, close this tab."
            )
            coming_back = gettext(
                "Leaving like this is not saying no: you can come back later with the code on your card."
            )
        assert (limits in html.replace("&#39;", "'")) and (coming_back in html.replace("&#39;", "'")), lang
        assert (english in limits) == (lang == "en"), f"{lang} is not translated"


def test_lan_without_internet_sends_the_quick_exit_to_the_neutral_page(app, monkeypatch) -> None:
    from survey.cli import serving as cli

    checked: list[str] = []
    monkeypatch.setattr(cli, "outside_reachable", lambda url: checked.append(url) or False)
    monkeypatch.setenv("SAUTI_QUICK_EXIT_LOCAL", "false")  # put back as it was afterwards
    app.config["QUICK_EXIT_URL"] = ""
    with app.app_context():
        cli._quick_exit_for_lan(app)
    assert checked == [load_profile("generic").quick_exit_url]
    assert app.config["QUICK_EXIT_LOCAL"] is True
    import os

    assert os.environ["SAUTI_QUICK_EXIT_LOCAL"] == "true"  # for Granian's worker processes
    from survey.config import environment_overrides

    assert environment_overrides()["QUICK_EXIT_LOCAL"] is True


def test_lan_with_internet_keeps_the_profiles_site(app, monkeypatch) -> None:
    from survey.cli import serving as cli

    monkeypatch.setattr(cli, "outside_reachable", lambda url: True)
    monkeypatch.setenv("SAUTI_QUICK_EXIT_LOCAL", "false")  # put back as it was afterwards
    app.config["QUICK_EXIT_URL"] = ""
    with app.app_context():
        cli._quick_exit_for_lan(app)
    assert not app.config["QUICK_EXIT_LOCAL"]


def test_reachability_is_a_real_connection_attempt() -> None:
    from survey.cli import outside_reachable

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert outside_reachable(f"https://127.0.0.1:{port}/weather", timeout=2)
    assert not outside_reachable(f"https://127.0.0.1:{port}/weather", timeout=2)  # closed now
    assert not outside_reachable("https://name.invalid/", timeout=2)
    assert not outside_reachable("/notes", timeout=2)

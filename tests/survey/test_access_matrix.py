"""Every route in the URL map, against every kind of visitor, agrees with its declared rule."""

from __future__ import annotations

import pytest
from flask import Flask

from survey.access import AccessRule, rule_for
from tests.conftest import VISITORS, World

ROLE_OF = {"facilitator": "facilitator", "other_facilitator": "facilitator", "analyst": "analyst", "admin": "admin"}


def expected_allowed(rule: AccessRule, visitor: str) -> bool:
    if rule.kind == "public":
        return True
    if rule.kind == "token":
        return False  # the API: a bearer token or nothing (the session cookie counts for nothing)
    if rule.kind == "child":
        # The world's child has a session but has not said Yes: the assent gate refuses it.
        return visitor == "child" and rule.arg != "assented"
    role = ROLE_OF.get(visitor)
    if role is None:
        return False
    if rule.kind == "staff" and rule.roles and role not in rule.roles:
        return False
    if rule.kind == "member":
        # URLs are built for "our" consultation: the other facilitator is not a member of it,
        # and nobody in the world is its safeguarding lead.
        # Programme records also let administrators in (``admins=True``).
        return (visitor in ("facilitator", "analyst") and role in rule.roles) or (rule.admins and role == "admin")
    return True


def url_arguments(world: World, arguments: set[str]) -> dict:
    values = {
        "consultation_id": world.consultation,
        "user_id": world.user_ids["facilitator"],
        "filename": "css/sauti.css",
        "index": 0,
        "signal_id": 1,
        "text_id": "child_information/en/A/v1",
        "flag_id": 1,
        "answer_id": "an-answer",
        "fmt": "html",
        "record_id": 1,
        # programme records and country profiles
        "kind": "lundy",
        "entry_id": 1,
        "band": "A",
        "language": "en",
        "profile_id": "generic",
        # the API and its tokens
        "number": 1,
        "key": "participation:all",
        "version": "1",
        "token_id": 1,
        "membership_id": 999999,  # no such member: nobody is removed mid-walk
        "path": "1",  # a repeat instance
        # read-aloud audio (and the API's instrument downloads)
        "name": "0" * 24 + ".opus",
        "instrument_id": "reporting-mechanisms",
        "file_name": "AW1.ogg",
        # field laptops' endpoints (issue 22)
        "package_id": "no-such-package",
        "upload_id": "no-such-upload",
        "import_id": 1,
        "device_id": "no-such-laptop",
    }
    missing = arguments - values.keys()
    assert not missing, f"teach this test a value for URL arguments {missing}"
    return {name: values[name] for name in arguments}


def was_refused(response, rule: AccessRule) -> bool:
    location = response.headers.get("Location", "")
    if response.status_code == 403 or (rule.kind == "token" and response.status_code == 401):
        return True
    if response.status_code in (301, 302, 303):
        if rule.kind == "child":
            return location in ("/", "/p/")
        return "/staff/sign-in?next=" in location
    return False


def all_routes(app: Flask):
    for url_rule in app.url_map.iter_rules():
        for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
            yield url_rule, method


def test_every_route_declares_who_may_reach_it(app: Flask) -> None:
    undeclared = [r.endpoint for r in app.url_map.iter_rules() if rule_for(app, r.endpoint) is None]
    assert undeclared == []


#: Routes that end a session (the visitor's own, or the facilitator's): checked on their own.
SESSION_ENDING = ("participate.leave", "auth.sign_out", "auth.sign_out_everywhere", "admin.sign_out_user_everywhere")


def test_every_route_against_every_visitor(app: Flask, world: World) -> None:
    checked = 0
    problems = []
    for url_rule, method in all_routes(app):
        rule = rule_for(app, url_rule.endpoint)
        with app.test_request_context():
            from flask import url_for

            url = url_for(url_rule.endpoint, **url_arguments(world, set(url_rule.arguments)))
        # Quick exit and sign-out end the visitor's session: they are checked last, each on a
        # visitor of its own, so that they do not sign the other checks out.
        if url_rule.endpoint in SESSION_ENDING:
            continue
        for visitor in VISITORS:
            response = world.clients[visitor].open(url, method=method)
            allowed = expected_allowed(rule, visitor)
            refused = was_refused(response, rule)
            response.close()  # static files are streamed from an open file
            if response.status_code >= 500 or allowed == refused:
                problems.append((method, url, visitor, response.status_code, response.headers.get("Location")))
            checked += 1
    assert problems == []
    assert checked >= len(VISITORS) * 10


@pytest.mark.parametrize("visitor", VISITORS)
def test_session_ending_routes(app: Flask, world: World, visitor: str) -> None:
    client = world.clients[visitor]
    sign_out = client.post("/staff/sign-out")
    rule = rule_for(app, "auth.sign_out")
    assert was_refused(sign_out, rule) != expected_allowed(rule, visitor)
    leave = client.post("/leave")
    assert leave.status_code == 303 and leave.location.endswith("/notes")


@pytest.mark.parametrize("visitor", VISITORS)
def test_sign_out_everywhere_routes(app: Flask, world: World, visitor: str) -> None:
    client = world.clients[visitor]
    others = client.post(f"/admin/users/{world.user_ids['facilitator']}/sign-out-everywhere")
    rule = rule_for(app, "admin.sign_out_user_everywhere")
    assert was_refused(others, rule) != expected_allowed(rule, visitor)
    own = client.post("/staff/sign-out-everywhere")
    rule = rule_for(app, "auth.sign_out_everywhere")
    assert was_refused(own, rule) != expected_allowed(rule, visitor)


def test_child_session_reaches_no_staff_route(world: World) -> None:
    child = world.clients["child"]
    for path in ("/staff/", "/admin/users", f"/facilitate/{world.consultation}/", f"/reports/{world.consultation}/"):
        response = child.get(path)
        assert response.status_code == 302 and "/staff/sign-in" in response.location


def test_facilitator_of_another_consultation_is_refused(world: World) -> None:
    response = world.clients["other_facilitator"].get(f"/facilitate/{world.consultation}/")
    assert response.status_code == 403
    own = world.clients["other_facilitator"].get(f"/facilitate/{world.other_consultation}/")
    assert own.status_code == 200

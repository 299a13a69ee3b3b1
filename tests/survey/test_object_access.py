"""Object-level access: one consultation's staff never see or change another's objects.

Generic over the URL map, so routes added later are covered: every rule that takes a
consultation id is asked for the other consultation, and every rule that also takes an object id
(signal, concern flag, influence entry, ...) is asked, under the staff member's own consultation,
for an object that belongs to the other one.  Each POST must leave every table as it was.  Then:
free text nobody has reviewed never reaches an analyst or an administrator (pages, reports,
exports, codebooks, feedback sheets); session identifiers change at staff sign-in and when a
child's code is accepted; every state-changing staff POST without a CSRF token is refused with
400 and changes nothing.  (A child's POST with an expired token keeps the answers:
tests/survey/test_journey.py::test_an_expired_form_token_reshows_the_page_with_the_answers.)
"""

from __future__ import annotations

import io
import re
import urllib.parse
import zipfile
import zlib

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from survey.access import rule_for
from survey.extensions import db
from tests.conftest import csrf_token_from, sign_in
from tests.survey.test_journey import _assent, _post_page

# Tables a refused request may still touch: the audit trail (a refusal is logged) and the
# signed-in staff member's own server-side session (last seen).
MAY_CHANGE = {"audit_event", "staff_session"}
TEXT_VALUES = {
    "fmt": ["html", "pdf", "xlsx", "csv", "sav", "parquet", "json", "md", "txt"],
    "band": ["A", "B", "C"],
    "language": ["en", "fr"],
    "kind": ["safe-space", "debrief", "before"],
}
CANARY = "QUOKKA7731"


def _snapshot(app) -> dict[str, list]:
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            if table.name not in MAY_CHANGE:
                tables[table.name] = sorted(map(repr, db.session.execute(sa.select(table)).all()))
        db.session.remove()
        return tables


def _changed(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _url(rule, arguments: dict) -> str:
    def fill(match: re.Match) -> str:
        return urllib.parse.quote(str(arguments[match.group(1).split(":")[-1]]), safe="/")

    return re.sub(r"<([^>]+)>", fill, rule.rule)


def _argument_sets(rule, consultation_id: int, object_id: int) -> list[dict]:
    """Concrete arguments: the given consultation, ``object_id`` for every other integer, and each
    known value for text arguments (so routes are reached past "no such format")."""
    sets = [{}]
    for name, converter in rule._converters.items():
        if name == "consultation_id":
            options = [consultation_id]
        elif isinstance(converter, IntegerConverter):
            options = [object_id]
        else:
            options = TEXT_VALUES.get(name, ["x"])
        sets = [{**s, name: option} for s in sets for option in options]
    return sets


@pytest.fixture
def insider(app, world, make_user):
    """A facilitator, analyst and safeguarding lead of our consultation only (not an administrator)."""
    from survey.models import Consultation, User
    from survey.services import consultations

    user_id = make_user("insa", "facilitator", "analyst")
    with app.app_context():
        user = db.session.get(User, user_id)
        for role in ("facilitator", "analyst", "safeguarding"):
            consultations.add_member(db.session.get(Consultation, world.consultation), user, role)
    client = app.test_client()
    assert sign_in(client, "insa").status_code == 302
    return client


@pytest.fixture
def their_objects(app, world):
    """One of each consultation-owned object, all in the other consultation (so each has id 1)."""
    from survey.models import ConcernFlag, InfluenceEntry, Signal

    with app.app_context():
        theirs = world.other_consultation
        db.session.add_all(
            [
                Signal(consultation_id=theirs, seat_label="table 3"),
                ConcernFlag(consultation_id=theirs, item="ideas", excerpt="their excerpt", concerns="harm"),
                InfluenceEntry(consultation_id=theirs, recommendation="their recommendation"),
            ]
        )
        db.session.commit()
    return world.other_consultation


def _consultation_rules(app):
    for rule in app.url_map.iter_rules():
        if "consultation_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_staff_of_one_consultation_reach_nothing_of_another(app, world, insider, their_objects) -> None:
    """B's consultation-level URLs and B's objects under A's URLs: refused, and nothing changes."""
    visitors = {"insider": insider, "facilitator": world.clients["facilitator"], "analyst": world.clients["analyst"]}
    problems = []
    checked = 0
    for rule, method in _consultation_rules(app):
        cases = [("their consultation", args) for args in _argument_sets(rule, world.other_consultation, 1)]
        if len(rule.arguments - {"consultation_id"} - TEXT_VALUES.keys()) > 0:
            # An object id: theirs (id 1), asked for under our own consultation.
            cases += [("their object under ours", args) for args in _argument_sets(rule, world.consultation, 1)]
        for label, arguments in cases:
            url = _url(rule, arguments)
            for name, client in visitors.items():
                before = _snapshot(app) if method == "POST" else None
                response = client.open(
                    url,
                    method=method,
                    data={"status": "resolved", "recommendation": "x", "decision": "accepted", "count": "5"},
                )
                response.close()
                checked += 1
                status = response.status_code
                # 401: the API counts no session cookie, only a token (refused before any look-up).
                if label == "their consultation" and status not in (401, 403, 404):
                    problems.append((label, method, url, name, status))
                if label == "their object under ours" and method == "GET" and status not in (401, 403, 404):
                    problems.append((label, method, url, name, status))
                if status >= 500 or (200 <= status < 300 and label == "their consultation"):
                    problems.append((label, method, url, name, status))
                if before is not None and (changed := _changed(before, _snapshot(app))):
                    problems.append((label, method, url, name, status, f"changed {changed}"))
    assert problems == []
    assert checked >= 30


def _complete_with_free_text(app, code: str, address: str) -> None:
    child = app.test_client()
    child.environ_base["REMOTE_ADDR"] = address
    assert child.post("/", data={"code": code}).status_code == 302
    _assent(child, age="12")
    answers = {
        0: {"q_who": "helpline", "q_feel": "4"},
        1: {
            "q_ways": ["phone"],
            "q_why_helpline": f"because {CANARY} said so",
            "q_ideas": f"my idea is {CANARY}",
            "q_times": "3",
        },
        2: {"q_grid_safe": "4", "q_grid_easy": "3", "q_order__1": "chat"},
    }
    index = 0
    for _ in range(6):
        response = _post_page(child, index, answers.get(index, {"q_older": "2"}))
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.location.endswith("/p/end"):
            break
        index = int(response.location.rstrip("/").rsplit("/", 1)[1])
    assert child.post("/p/end", data={"decision": "yes"}).location.endswith("/p/done?kept=1")


def _texts_in(body: bytes) -> bytes:
    """The body, plus every zip member (XLSX, Parquet-in-zip) and every deflated PDF stream."""
    parts = [body]
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts += [archive.read(name) for name in archive.namelist()]
    if body[:4] == b"%PDF":
        for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.DOTALL):
            try:
                parts.append(zlib.decompress(stream))
            except zlib.error:
                parts.append(stream)
    return b"\n".join(parts)


def test_free_text_nobody_reviewed_reaches_no_analyst_or_administrator(app, world, issue_codes) -> None:
    from survey.models import Answer

    for n, code in enumerate(issue_codes(world.consultation, 12)):
        _complete_with_free_text(app, code, f"10.7.0.{n + 1}")
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Answer).where(Answer.value.contains(CANARY)))
    assert stored >= 12  # the free text is kept, for review ...
    leaks, fetched = [], 0
    for rule in app.url_map.iter_rules():
        if "consultation_id" not in rule.arguments or "GET" not in rule.methods:
            continue
        for arguments in _argument_sets(rule, world.consultation, 1):
            url = _url(rule, arguments)
            for name in ("analyst", "admin", "facilitator"):
                response = world.clients[name].get(url)
                body = response.get_data()
                response.close()
                if response.status_code == 200:
                    fetched += 1
                    if CANARY.encode() in _texts_in(body) or CANARY.encode("utf-16-le") in body:
                        leaks.append((url, name))
    assert leaks == []  # ... and never shown before review
    assert fetched >= 8


def test_the_session_identifier_changes_when_a_childs_code_is_accepted(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    code = issue_codes(consultation, 1)[0]
    child = app.test_client()
    child.get("/?lang=en")  # the language choice is kept in the session: a cookie before the code
    child.post("/", data={"code": "WRONGCODE1"})  # something in the session before the code
    planted = child.get_cookie("sauti")
    assert child.post("/", data={"code": code}).status_code == 302
    accepted = child.get_cookie("sauti")
    assert planted is not None and accepted is not None and accepted.value != planted.value
    assert child.get("/p/").status_code == 302 and child.get("/p/").location.endswith("/p/age")
    # Whoever kept the cookie from before the code gets nothing of the child's session.
    attacker = app.test_client()
    attacker.set_cookie("sauti", planted.value)
    assert attacker.get("/p/age").location.endswith("/")


def test_a_staff_session_planted_before_sign_in_is_useless_after_it(make_app, make_user) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    make_user("fiona", "facilitator")
    client = app.test_client()
    token = csrf_token_from(client.get("/staff/sign-in").get_data(as_text=True))
    planted = client.get_cookie("sauti").value
    assert (
        client.post(
            "/staff/sign-in",
            data={"username": "fiona", "password": "correct horse battery staple", "csrf_token": token},
        ).status_code
        == 302
    )
    assert client.get_cookie("sauti").value != planted
    assert client.get("/staff/").status_code == 200
    attacker = app.test_client()
    attacker.set_cookie("sauti", planted)
    assert attacker.get("/staff/").status_code == 302


def test_every_state_changing_staff_post_needs_a_csrf_token(make_app, world, insider, their_objects) -> None:
    """With CSRF on, each staff POST in the URL map, sent by someone allowed to make it but without
    a token (or with a forged one), is refused with 400 and changes nothing."""
    app = make_app(WTF_CSRF_ENABLED=True)
    admin, member = app.test_client(), app.test_client()
    for client, username in ((admin, "ada"), (member, "insa")):
        token = csrf_token_from(client.get("/staff/sign-in").get_data(as_text=True))
        assert (
            client.post(
                "/staff/sign-in",
                data={"username": username, "password": "correct horse battery staple", "csrf_token": token},
            ).status_code
            == 302
        )
    problems, checked = [], 0
    for url_rule in app.url_map.iter_rules():
        rule = rule_for(app, url_rule.endpoint)
        if "POST" not in url_rule.methods or rule.kind not in ("staff", "member"):
            continue
        client = member if rule.kind == "member" else admin
        values = {
            "consultation_id": world.consultation,
            "user_id": world.user_ids["facilitator"],
            "record_id": 1,
            "text_id": "child_information/en/A/v1",
            "profile_id": "generic",
        }
        arguments = _argument_sets(url_rule, world.consultation, 1)[0]
        arguments.update({k: v for k, v in values.items() if k in url_rule.arguments})
        url = _url(url_rule, arguments)
        for forged in (None, "forged-token"):
            before = _snapshot(app)
            data = {
                "status": "resolved",
                "count": "3",
                "roles": ["admin"],
                "username": "mallory",
                "password": "correct horse battery staple",
                "title": "Evil",
                "recommendation": "x",
            }
            if forged:
                data["csrf_token"] = forged
            response = member.post(url, data=data) if client is member else admin.post(url, data=data)
            checked += 1
            changed = _changed(before, _snapshot(app))
            if response.status_code != 400 or changed:
                problems.append((url, forged, response.status_code, changed))
    assert problems == []
    assert checked >= 2 * 15


def test_the_insider_fixture_is_no_administrator(insider, world) -> None:
    # The object checks above mean something only if the insider gets no administrator bypass.
    assert insider.get("/admin/users").status_code == 403
    assert insider.get(f"/facilitate/{world.consultation}/").status_code == 200
    assert insider.get(f"/reports/{world.consultation}/").status_code == 200

"""How many requests a child's way through a consultation takes, and that fewer never weakens the gate.

Every step's POST redirects straight to the next screen's own address: a child never passes
through ``/p/`` (which is only how a closed tab resumes), so the server answers no request that
merely passes the child on.  The consent gate still stands in front of every question route.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Participant
from tests.survey.child_walk import answers_for

#: Code (page and answer), age (page and answer), information and assent (page and answer), the
#: end question (page and answer) and the thank-you page.
ENTRY_AND_CONSENT_REQUESTS = 9


class Browser:
    """A test client that follows redirects one at a time, as a phone's browser does, and keeps
    every request it made as (method, path, status)."""

    def __init__(self, client) -> None:
        self.client = client
        self.requests: list[tuple[str, str, int]] = []

    def get(self, path: str):
        for _ in range(10):
            response = self.client.get(path)
            self.requests.append(("GET", path, response.status_code))
            if response.status_code not in (302, 303):
                return path, response
            path = response.location.removeprefix("http://localhost")
        raise AssertionError("more than 10 redirects")

    def post(self, path: str, data: dict):
        response = self.client.post(path, data=data)
        self.requests.append(("POST", path, response.status_code))
        assert response.status_code in (302, 303), (path, response.status_code)
        return self.get(response.location.removeprefix("http://localhost"))


def _take_part(browser: Browser, code: str) -> list[tuple[str, str, int]]:
    path, response = browser.get("/")
    path, response = browser.post("/", {"code": code})
    assert path == "/p/age", path
    path, response = browser.post("/p/age", {"age": "12"})
    assert path == "/p/about", path
    path, response = browser.post("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes"})
    for _ in range(20):
        if not path.startswith("/p/q/"):
            break
        path, response = browser.post(path, answers_for(response.get_data(as_text=True), age=12))
    assert path == "/p/end", path
    path, response = browser.post("/p/end", {"decision": "yes"})
    assert path.startswith("/p/done") and response.status_code == 200
    return browser.requests


def test_a_childs_whole_path_never_passes_through_a_redirect_hop(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    requests = _take_part(Browser(app.test_client()), issue_codes(consultation, 1)[0])
    assert not [r for r in requests if r[1] == "/p/"], requests
    # Only a POST is answered with a redirect; every GET shows a page.
    assert all(status == 200 for method, _path, status in requests if method == "GET"), requests
    with app.app_context():
        assert db.session.scalar(sa.select(Participant.state)) == "completed"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0


def test_the_code_age_assent_and_end_steps_take_nine_requests(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    requests = _take_part(Browser(app.test_client()), issue_codes(consultation, 1)[0])
    entry = [r for r in requests if not r[1].startswith("/p/q/")]
    assert len(entry) == ENTRY_AND_CONSENT_REQUESTS, entry


def test_one_age_band_goes_from_the_code_straight_to_the_information(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(bands=("B",))
    client = app.test_client()
    response = client.post("/", data={"code": issue_codes(consultation, 1)[0]})
    assert response.location.endswith("/p/about")
    assert client.get("/p/about").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Participant.band)) == "B"


#: Every route that shows questions or takes answers, by method.
QUESTION_ROUTES = [
    ("get", "/p/q/0"),
    ("post", "/p/q/0"),
    ("get", "/p/q/0/1"),
    ("post", "/p/q/0/1"),
    ("get", "/p/more/0/1"),
    ("post", "/p/more/0/1"),
    ("get", "/p/noted"),
    ("get", "/p/end"),
    ("post", "/p/end"),
]


@pytest.mark.parametrize(("method", "path"), QUESTION_ROUTES)
def test_the_gate_refuses_every_question_route_before_assent(app, make_consultation, issue_codes, method, path) -> None:
    consultation = make_consultation()
    client = app.test_client()
    assert client.post("/", data={"code": issue_codes(consultation, 1)[0]}).status_code == 302
    assert client.post("/p/age", data={"age": "12"}).status_code == 302
    data = {"q_who": "friend", "page_token": "t" * 32, "nav": "add", "decision": "yes"}
    response = getattr(client, method)(path, data=data if method == "post" else None)
    assert response.status_code == 302 and "/p/q/" not in response.location and "/p/end" not in response.location
    with app.app_context():
        assert db.session.scalar(sa.select(Participant.state)) == "issued"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_a_child_who_says_no_is_never_shown_a_question(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    browser = Browser(app.test_client())
    browser.get("/")
    browser.post("/", {"code": issue_codes(consultation, 1)[0]})
    browser.post("/p/age", {"age": "12"})
    path, response = browser.post("/p/about", {"check_0": "0", "check_1": "0", "decision": "no"})
    assert path == "/p/declined" and response.status_code == 200
    path, response = browser.get("/p/q/0")
    assert path == "/" and 'name="code"' in response.get_data(as_text=True)
    assert not [r for r in browser.requests if r[1].startswith("/p/q/") and r[2] == 200]


def test_a_code_entered_after_the_participant_was_read_in_the_same_request_is_seen(
    app, make_consultation, issue_codes
) -> None:
    """The code's POST reads "no child yet" (the language choice does), then enters the code:
    the next screen is worked out for the child just entered, not for the remembered nobody."""
    from survey.services import participants

    consultation = make_consultation()
    code = issue_codes(consultation, 1)[0]
    with app.test_request_context("/", method="POST"):
        assert participants.current_participant() is None
        participants.enter_code(code, "10.0.0.1")
        assert participants.current_participant() is not None

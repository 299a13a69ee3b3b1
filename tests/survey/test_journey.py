"""The child's journey: code → age → information and assent → pages → the end, with nothing lost."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, AssentEvent, PageSave, Participant


def _answers(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(sa.select(Answer.item, Answer.value)).all())


def _participant(app) -> Participant:
    with app.app_context():
        return db.session.scalars(sa.select(Participant)).first()


def _token(html: str) -> str:
    return re.search(r'name="page_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def consultation(make_consultation):
    return make_consultation()


@pytest.fixture
def child(app, consultation, issue_codes):
    client = app.test_client()
    code = issue_codes(consultation, 1)[0]
    assert client.post("/", data={"code": code}).status_code == 302
    client.code = code
    return client


def _assent(child, age: str = "12"):
    assert child.get("/p/").location.endswith("/p/age")
    assert child.post("/p/age", data={"age": age}).status_code == 302
    assert child.get("/p/").location.endswith("/p/about")
    response = child.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _post_page(child, index: int, data: dict, nav: str = "next"):
    page = child.get(f"/p/q/{index}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    shown = re.findall(r'name="on_page" value="([^"]+)"', html)  # sent by the browser with every page
    return child.post(f"/p/q/{index}", data={**data, "on_page": shown, "page_token": _token(html), "nav": nav})


def test_information_screen_tells_the_child_what_p02_requires(child) -> None:
    child.post("/p/age", data={"age": "9"})
    html = child.get("/p/about").get_data(as_text=True)
    for value in ("the county council", "how help works", "2027", "January 31"):
        assert value in html
    # Read aloud: the part before the choice is heard from the title's play control.
    assert re.search(r'<h1>[^<]*</h1><a class=listen href="/audio/', html)


def test_whole_journey_stores_answers_with_codes_and_only_the_band(app, child) -> None:
    _assent(child, age="12")
    participant = _participant(app)
    assert participant.state == "assented" and participant.band == "B"
    with app.app_context():
        event = db.session.scalars(sa.select(AssentEvent)).one()
        assert event.outcome == "yes" and len(event.text_hash) == 64 and "/en/B/" in event.text_id

    response = _post_page(child, 0, {"q_who": "helpline", "q_feel": "_rns"})
    assert response.location.endswith("/p/q/1")
    page = child.get("/p/q/1").get_data(as_text=True)
    assert "Why a helpline?" in page  # relevant because of the answer on page 1
    assert "Please don&#39;t write names" in page or "Please don't write names" in page
    response = _post_page(
        child, 1, {"q_ways": ["phone", "chat"], "q_why_helpline": "they listen", "q_ideas": "", "rns_ideas": "y"}
    )
    assert response.location.endswith("/p/q/2")
    html = child.get("/p/q/2").get_data(as_text=True)
    assert "harder things" in html and "Skip this part" in html
    response = _post_page(
        child, 2, {"q_grid__safe": "4", "q_grid__easy": "_dk", "q_order__1": "chat", "q_order__2": "phone"}
    )
    # Page 4 is for band C only: a child in band B goes straight to the end.
    assert response.location.endswith("/p/end")
    assert child.post("/p/end", data={"decision": "yes"}).location.endswith("/p/done?kept=1")

    answers = _answers(app)
    assert answers["who"] == "helpline"
    assert answers["feel"] == "_rns"
    assert answers["ways"] == '["phone", "chat"]'
    assert answers["why_helpline"] == "they listen"
    assert answers["ideas"] == "_rns"
    assert answers["order"] == '["chat", "phone"]'
    assert "older" not in answers
    assert _participant(app).state == "completed"
    # The session is over: the device keeps nothing that leads back in.
    assert child.get("/p/").location.endswith("/")


def test_no_stores_nothing_but_the_declined_state(app, child, issue_codes) -> None:
    child.post("/p/age", data={"age": "15"})
    response = child.post("/p/about", data={"decision": "no"})
    assert response.location.endswith("/p/declined")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 0
    assert _participant(app).state == "declined"
    # The code cannot be used again.
    assert app.test_client().post("/", data={"code": child.code}).status_code == 400


def test_a_wrong_comprehension_answer_explains_again_and_never_blocks(app, child) -> None:
    child.post("/p/age", data={"age": "10"})
    first = child.post("/p/about", data={"check_0": "1", "check_1": "0", "decision": "yes"})
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert 'class="explain"' in html and 'name="explained" value="1"' in html
    assert _participant(app).state == "issued"
    again = child.post("/p/about", data={"check_0": "1", "check_1": "0", "decision": "yes", "explained": "1"})
    assert again.status_code == 302 and _participant(app).state == "assented"


def test_no_child_route_stores_an_answer_before_assent(app, child) -> None:
    """Walk every child-facing route with a session that has not said Yes."""
    from survey.access import is_child_facing, rule_for

    child.post("/p/age", data={"age": "12"})
    posted = 0
    for url_rule in app.url_map.iter_rules():
        if not is_child_facing(rule_for(app, url_rule.endpoint)) or url_rule.endpoint in (
            "participate.leave",
            "participate.stop",
            "static",
        ):
            continue
        path = url_rule.rule.replace("<int:index>", "0")
        for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
            response = child.open(
                path,
                method=method,
                data={"q_who": "friend", "q_feel": "4", "page_token": "t" * 32, "nav": "next", "decision": "maybe"},
            )
            assert response.status_code < 500
            posted += 1
    assert posted >= 10
    assert _answers(app) == {}
    assert _participant(app).state == "issued"


def test_double_submit_stores_once_and_an_altered_replay_gets_409(app, child) -> None:
    _assent(child)
    token = _token(child.get("/p/q/0").get_data(as_text=True))
    data = {"q_who": "friend", "q_feel": "4", "page_token": token, "nav": "next"}
    cookie = child.get_cookie("sauti").value
    statuses: list[int] = []

    def post() -> None:
        client = app.test_client()
        client.set_cookie("sauti", cookie)
        statuses.append(client.post("/p/q/0", data=data).status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 10
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PageSave)) == 1
    altered = child.post("/p/q/0", data={**data, "q_who": "parent"})
    assert altered.status_code == 409
    assert _answers(app)["who"] == "friend"


def test_back_reload_and_changing_an_answer_keep_one_answer_per_item(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend", "q_feel": "2"})
    page = child.get("/p/q/0").get_data(as_text=True)
    assert re.search(r'value="friend"[^>]*checked|checked[^>]*value="friend"', page)
    _post_page(child, 0, {"q_who": "parent", "q_feel": "2"})
    assert _answers(app) == {"who": "parent", "feel": "2"}
    # Clearing an answer removes it: a skipped question is stored as nothing.
    _post_page(child, 0, {"q_feel": "2"})
    assert _answers(app) == {"feel": "2"}


def test_switching_language_keeps_answers(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend", "q_feel": "5"})
    french = child.get("/p/q/0?lang=fr").get_data(as_text=True)
    assert "Qui (fr)?" in french and 'lang="fr"' in french
    assert re.search(r'value="friend"[^>]*checked|checked[^>]*value="friend"', french)
    assert _answers(app) == {"who": "friend", "feel": "5"}


def test_a_child_who_closes_the_tab_resumes_where_they_left(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    later = app.test_client()
    assert later.post("/", data={"code": child.code.lower().replace("-", " ")}).status_code == 302
    assert later.get("/p/").location.endswith("/p/q/1")


def test_stop_and_delete_removes_every_row(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    response = child.post("/p/stop", data={"choice": "delete"})
    assert response.location.endswith("/p/stopped?deleted=1")
    with app.app_context():
        # The assent event goes with what it documented (tests/survey/test_deletion.py has the rest).
        for model in (Answer, PageSave, AssentEvent):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    participant = _participant(app)
    assert participant.state == "withdrawn" and participant.band is None


def test_end_question_no_deletes_the_response(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    assert child.post("/p/end", data={"decision": "no"}).location.endswith("/p/done?kept=0")
    assert _answers(app) == {}
    assert _participant(app).state == "withdrawn"


def test_too_many_choices_is_a_clear_message_and_nothing_is_lost(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    response = _post_page(child, 1, {"q_ways": ["phone", "chat", "person"]})
    assert response.status_code == 400 and "up to 2" in response.get_data(as_text=True)
    assert _answers(app) == {"who": "friend"}


def test_an_expired_form_token_reshows_the_page_with_the_answers(
    make_app, make_user, make_consultation, issue_codes
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    consultation = make_consultation()
    code = issue_codes(consultation, 1)[0]
    client = app.test_client()

    def token_of(path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    client.post("/", data={"code": code, "csrf_token": token_of("/")})
    client.post("/p/age", data={"age": "12", "csrf_token": token_of("/p/age")})
    client.post(
        "/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes", "csrf_token": token_of("/p/about")}
    )
    page = client.get("/p/q/0").get_data(as_text=True)
    response = client.post(
        "/p/q/0", data={"q_who": "parent", "csrf_token": "expired-token", "page_token": _token(page), "nav": "next"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "please press the button again" in html.lower()
    assert re.search(r'value="parent"[^>]*checked|checked[^>]*value="parent"', html)
    assert _answers(app) == {}


def test_a_kept_pages_form_token_saves_for_its_own_child_only(make_app, make_consultation, issue_codes) -> None:
    """Kept pages carry a form token reused per session (survey.child_cache.FormTokens): the
    child's own comes back accepted, another child's is refused and stores nothing."""
    app = make_app(WTF_CSRF_ENABLED=True)
    codes = issue_codes(make_consultation(), 2)

    def at_first_page(code: str):
        client = app.test_client()

        def token_of(path: str) -> str:
            html = client.get(path).get_data(as_text=True)
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

        client.post("/", data={"code": code, "csrf_token": token_of("/")})
        client.post("/p/age", data={"age": "12", "csrf_token": token_of("/p/age")})
        client.post(
            "/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes", "csrf_token": token_of("/p/about")}
        )
        html = client.get("/p/q/0").get_data(as_text=True)  # the second child's comes from the kept pages
        return client, html, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    first, first_page, first_token = at_first_page(codes[0])
    second, second_page, second_token = at_first_page(codes[1])
    assert first_token != second_token
    refused = second.post(
        "/p/q/0", data={"q_who": "parent", "csrf_token": first_token, "page_token": _token(second_page), "nav": "next"}
    )
    assert refused.status_code == 400 and _answers(app) == {}
    again = second.get("/p/q/0").get_data(as_text=True)
    assert re.search(r'name="csrf_token"[^>]*value="([^"]+)"', again).group(1) == second_token  # reused
    saved = second.post(
        "/p/q/0", data={"q_who": "parent", "csrf_token": second_token, "page_token": _token(again), "nav": "next"}
    )
    assert saved.status_code in (302, 303) and _answers(app) == {"who": "parent"}


DENY_LIST = ("abuse", "exploitation", "sexual", "report", "violence")


def test_child_facing_titles_and_addresses_are_neutral(app, child) -> None:
    _assent(child)
    paths = ["/", "/help", "/p/upset", "/p/stop", "/p/q/0", "/p/q/1", "/p/q/2", "/p/end", "/notes"]
    for path in paths:
        html = child.get(path).get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).lower()
        assert not any(word in title for word in DENY_LIST), (path, title)
        assert not any(word in path for word in DENY_LIST)
    from survey.access import is_child_facing, rule_for

    for url_rule in app.url_map.iter_rules():
        if is_child_facing(rule_for(app, url_rule.endpoint)):
            assert not any(word in url_rule.rule.lower() for word in DENY_LIST), url_rule.rule


def test_shared_devices_keep_nothing_and_return_to_the_start(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(shared_device=True)
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    cookie = child.get_cookie("sauti")
    assert cookie.expires is None  # a browser-session cookie, gone when the browser closes
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    done = child.post("/p/end", data={"decision": "yes"}, follow_redirects=True)
    assert "js/shared-device.js" in done.get_data(as_text=True)  # back to the start after a minute
    assert child.get("/p/").location.endswith("/")
    # A quick exit on a shared device lands on the start screen for the next child.
    other = app.test_client()
    other.post("/", data={"code": issue_codes(consultation, 1)[0]})
    assert other.post("/leave").location == "/"


def test_an_answer_that_brings_in_help_on_the_same_page_shows_it_first(app, child) -> None:
    _assent(child)
    response = _post_page(child, 0, {"q_who": "friend", "q_feel": "1"})
    assert response.location.endswith("/p/q/0")
    html = child.get("/p/q/0").get_data(as_text=True)
    assert "You can talk to someone at any time" in html
    assert _post_page(child, 0, {"q_who": "friend", "q_feel": "1"}).location.endswith("/p/q/1")


def test_the_instruments_own_constraint_is_checked_with_its_message(app, child) -> None:
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    refused = _post_page(child, 1, {"q_times": "50"})
    assert refused.status_code == 400 and "Please write a number up to 20." in refused.get_data(as_text=True)
    assert "times" not in _answers(app)
    accepted = _post_page(child, 1, {"q_times": "3"})
    assert accepted.status_code == 302 and _answers(app)["times"] == "3"


def test_pictograms_show_with_alt_text_from_this_server(app, child) -> None:
    _assent(child)
    html = child.get("/p/q/0").get_data(as_text=True)
    match = re.search(r'<img class="pictogram" src="([^"]+)" alt="A telephone"', html)
    assert match and match.group(1) == "/media/pictograms/helpline.svg"
    image = child.get(match.group(1))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml" and b"<svg" in image.data
    image.close()
    for probe in ("/media/../../pyproject.toml", "/media/reporting-mechanisms.yaml", "/media/pictograms/none.svg"):
        response = child.get(probe)
        assert response.status_code == 404
        response.close()


def test_open_answers_that_look_like_json_are_kept_as_text(app, make_consultation, issue_codes) -> None:
    """An answer such as "{{7*7}}" or "[maybe" is text, not JSON: saving and the next pages work."""
    child = app.test_client()
    child.post("/", data={"code": issue_codes(make_consultation(), 1)[0]})
    _assent(child)
    assert _post_page(child, 0, {"q_who": "friend"}).status_code == 302
    assert _post_page(child, 1, {"q_ideas": "{{7*7}} [maybe"}).status_code == 302
    assert _post_page(child, 2, {}).status_code == 302  # relevance is evaluated over the stored text
    with app.app_context():
        assert db.session.scalar(sa.select(Answer.value).where(Answer.item == "ideas")) == "{{7*7}} [maybe"


def test_a_save_racing_a_stop_in_another_tab_keeps_nothing_and_is_no_error(app, child, monkeypatch) -> None:
    """The child stops (another tab) after this request passed the consent gate, before its write."""
    from survey.services import journey

    _assent(child, age="12")
    page = child.get("/p/q/0").get_data(as_text=True)
    screen = journey.screen_open_answers

    def stopped_meanwhile(*args, **kwargs):
        with db.engine.begin() as connection:  # the other tab's stop, committed first
            connection.execute(sa.update(Participant).values(state="withdrawn"))
        return screen(*args, **kwargs)

    monkeypatch.setattr(journey, "screen_open_answers", stopped_meanwhile)
    response = child.post("/p/q/0", data={"q_who": "friend", "page_token": _token(page), "nav": "next"})
    assert response.status_code == 302 and response.location.endswith("/p/")
    assert _answers(app) == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PageSave)) == 0


def test_a_childs_request_reads_the_participant_and_consultation_as_stored(app, child) -> None:
    """current_participant reads plain rows; every column matches the ORM record, and the row
    cannot be changed by accident (services change the record inside a write transaction)."""
    import dataclasses

    from survey.models import Consultation
    from survey.services import participants

    assert child.get("/p/").status_code == 302  # the journey's start records the language
    with child:
        assert child.get("/help").status_code == 200
        row = participants.current_participant()
        record = db.session.get(Participant, row.id)
        for column in sa.inspect(Participant).column_attrs:
            assert getattr(row, column.key) == getattr(record, column.key), column.key
        consultation = db.session.get(Consultation, record.consultation_id)
        for column in sa.inspect(Consultation).column_attrs:
            assert getattr(row.consultation, column.key) == getattr(consultation, column.key), column.key
        assert row.consultation.band_list == consultation.band_list
        assert row.consultation.language_list == consultation.language_list
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.state = "completed"

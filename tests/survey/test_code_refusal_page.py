"""A refused code (wrong, too many tries, session not started) gets the code box drawn once and
reused (survey/views/participate.py, _code_refused): the very page a fresh drawing gives, with
what this child typed put back, escaped; and a guesser's refusals cost no page drawing and, once
its device is over budget, no database count."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask, render_template, template_rendered
from flask_babel import gettext

from consent.codes import new_code
from survey.child_cache import kept_screens
from survey.extensions import db
from survey.forms import CodeForm

ANY_TOKEN = re.compile(r'(name="csrf_token" (?:type="hidden" )?value=")[^"]+"')
TOO_MANY = "Too many tries. Please wait a minute, or ask the adult with you."
NOT_FOUND = "We could not find that code. Check the letters on your card and try again."
NOT_STARTED = "The session has not started yet. Please wait for the adult running it."
# What a child (or a guesser) may type: markup, quotes, ampersands, the page's own stand-ins in
# the code box; a seat label (only labels like T3 get past the form), put back as normalised.
TYPED = [
    ("ABCD-EFGH-JKMN", ""),
    ("<b>\"x\"</b> & 'y'", "t 12"),
    ("<typed-seat>", "Seat 4"),
    ("&lt;typed-code&gt;", "7"),
    ("<csrf-token>", " Table  9 "),
]


def _fresh(app: Flask, data: dict[str, str], message: str, *, query: str = "", client=None) -> str:
    """The code box as the view drew it before refusals were kept: the posted form, validated,
    with ``message`` under the code, drawn afresh (with ``client``'s session cookie, if given)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name) if client is not None else None
    headers = {"Cookie": f"{name}={cookie.value}"} if cookie is not None else {}
    with app.test_request_context(f"/{query}", method="POST", data=data, headers=headers):
        app.preprocess_request()
        form = CodeForm()
        assert form.validate_on_submit()
        form.code.errors.append(message)
        return render_template("participate/start.html", form=form)


def _masked(html: str) -> str:
    return ANY_TOKEN.sub(r'\1…"', html)


def _over_budget(app: Flask, address: str) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert [client.post("/", data={"code": new_code()}).status_code for _ in range(11)][-1] == 429


def test_a_refused_code_gets_the_page_a_fresh_drawing_gives(app, make_consultation) -> None:
    make_consultation()
    kept_screens.clear()
    client = app.test_client()
    for typed, seat in TYPED:
        response = client.post("/", data={"code": typed, "seat": seat})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert html == _fresh(app, {"code": typed, "seat": seat}, NOT_FOUND)
    assert len(kept_screens) == 1  # one drawing for every wrong code


def test_a_throttled_code_gets_the_page_a_fresh_drawing_gives_in_each_language(app, make_consultation) -> None:
    make_consultation(languages=("en", "fr"))
    _over_budget(app, "127.0.0.1")  # the test client's own address
    for query in ("", "?lang=fr"):
        client = app.test_client()
        for typed, seat in TYPED:
            response = client.post(f"/{query}", data={"code": typed, "seat": seat})
            assert response.status_code == 429
            with app.test_request_context(f"/{query}"):
                app.preprocess_request()
                message = gettext(TOO_MANY)
            assert (message == TOO_MANY) == (query == "")  # the French page says it in French
            assert response.get_data(as_text=True) == _fresh(app, {"code": typed, "seat": seat}, message, query=query)


def test_a_code_before_the_session_starts_gets_the_page_a_fresh_drawing_gives(app, world, issue_codes) -> None:
    code = issue_codes(world.consultation, 1)[0]
    closed = world.clients["facilitator"].post(
        f"/facilitate/{world.consultation}/session", data={"close-number_present": "24", "close-referral_category": ""}
    )
    assert closed.status_code == 303
    response = app.test_client().post("/", data={"code": code, "seat": "7"})
    assert response.status_code == 409
    assert response.get_data(as_text=True) == _fresh(app, {"code": code, "seat": "7"}, NOT_STARTED)


def test_with_form_tokens_the_page_differs_only_by_this_session_s_token(app, make_consultation) -> None:
    app.config.update(WTF_CSRF_ENABLED=True)
    make_consultation()
    kept_screens.clear()
    pages = []
    for typed, seat in TYPED[:3]:
        client = app.test_client()
        start = client.get("/").get_data(as_text=True)
        token = ANY_TOKEN.search(start).group(0).split('value="')[1].rstrip('"')
        response = client.post("/", data={"code": typed, "seat": seat, "csrf_token": token})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "<csrf-token>" not in html
        assert _masked(html) == _masked(
            _fresh(app, {"code": typed, "seat": seat, "csrf_token": token}, NOT_FOUND, client=client)
        )
        pages.append(html)
        # The token on the refusal is this session's: the next try with it is checked, not refused as forged.
        again = ANY_TOKEN.search(html).group(0).split('value="')[1].rstrip('"')
        assert client.post("/", data={"code": new_code(), "csrf_token": again}).status_code == 400
    tokens = {ANY_TOKEN.search(page).group(0) for page in pages}
    assert len(tokens) == len(pages)  # each session its own token


def test_a_guesser_s_refusals_draw_no_page_and_count_nothing_once_over_budget(app, make_consultation) -> None:
    make_consultation()
    _over_budget(app, "203.0.113.9")
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    drawn: list[str] = []
    statements: list[str] = []

    def rendered(sender: Flask, template, context, **_: object) -> None:
        drawn.append(template.name)

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    template_rendered.connect(rendered, app)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", executed)
    try:
        statuses = [guesser.post("/", data={"code": new_code()}).status_code for _ in range(50)]
    finally:
        template_rendered.disconnect(rendered, app)
        sa.event.remove(engine, "before_cursor_execute", executed)
    assert statuses == [429] * 50
    assert drawn == []  # the refusal was drawn once, by the eleventh try
    assert not [s for s in statements if "count(" in s.lower()]  # the server-wide budget never asked for


@pytest.mark.parametrize("status", [400, 429])
def test_the_typed_code_comes_back_escaped(app, make_consultation, status) -> None:
    make_consultation()
    if status == 429:
        _over_budget(app, "127.0.0.1")
    html = app.test_client().post("/", data={"code": '"><script>x</script>'}).get_data(as_text=True)
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert "<script>x" not in html

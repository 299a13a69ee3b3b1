"""The session cookie's signer kept by survey/child_cache.py signs as Flask's own does."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from survey.child_cache import SignedCookieSessions


def _app(secret: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret
    return app


def test_cookies_signed_by_flask_and_by_the_kept_signer_are_the_same_cookies() -> None:
    app = _app("a secret of some length")
    flask_signer = SecureCookieSessionInterface().get_signing_serializer(app)
    kept = SignedCookieSessions()
    ours = kept.get_signing_serializer(app)
    assert ours is kept.get_signing_serializer(app)  # made once per key
    assert ours.loads(flask_signer.dumps({"child": "p-1"})) == {"child": "p-1"}
    assert flask_signer.loads(ours.dumps({"lang": "sw"})) == {"lang": "sw"}


def test_a_new_secret_key_makes_a_new_signer_and_refuses_the_old_cookies() -> None:
    app = _app("the first secret key")
    kept = SignedCookieSessions()
    cookie = kept.get_signing_serializer(app).dumps({"child": "p-1"})
    app.secret_key = "the second secret key"
    with pytest.raises(BadSignature):
        kept.get_signing_serializer(app).loads(cookie)


def test_the_app_uses_the_kept_signer(app) -> None:
    assert isinstance(app.session_interface, SignedCookieSessions)


def test_the_app_runs_async_views_still_and_checks_plain_functions_once(app) -> None:
    from survey.child_cache import SautiFlask

    assert isinstance(app, SautiFlask)

    def plain() -> str:
        return "plain"

    async def waited() -> str:
        return "waited"

    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is app.ensure_sync(plain)
    # A coroutine still goes to Flask's own handling (without the 'async' extra: its refusal).
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(waited)


def test_a_method_hook_is_checked_once_and_an_async_method_still_refused(app) -> None:
    class Hooks:
        def plain(self) -> str:
            return "plain"

        async def waited(self) -> str:
            return "waited"

    hooks = Hooks()
    bound = hooks.plain
    assert app.ensure_sync(bound) is bound
    assert bound in app._ensured  # kept: the same answer on every request
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(hooks.waited)


def test_a_method_of_an_unhashable_object_is_run_all_the_same(app) -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def plain(self) -> str:
            return "plain"

    bound = Unhashable().plain
    assert app.ensure_sync(bound)() == "plain"


def test_the_same_cookie_header_is_parsed_once_and_read_the_same(app) -> None:
    header = 'session=abc.def; lang="fr"; other=1'
    with app.test_request_context("/", headers={"Cookie": header}) as first:
        cookies = first.request.cookies
    with app.test_request_context("/", headers={"Cookie": header}) as second:
        assert second.request.cookies is cookies  # parsed once, the same immutable mapping
    assert dict(cookies) == {"session": "abc.def", "lang": "fr", "other": "1"}
    with pytest.raises(TypeError):
        cookies["session"] = "forged"  # type: ignore[index]  # nobody can change what others read
    with app.test_request_context("/", headers={"Cookie": "session=xyz"}) as third:
        assert third.request.cookies["session"] == "xyz"
    with app.test_request_context("/") as none:
        assert dict(none.request.cookies) == {}


def test_a_header_a_view_sets_itself_is_kept_and_the_others_added() -> None:
    from werkzeug.test import Client
    from werkzeug.wrappers import Response as PlainResponse

    from survey.headers import SECURITY_HEADERS, SecurityHeaders

    def view(environ, start_response):  # a WSGI app setting its own policy and cache rule
        page = PlainResponse("x", mimetype="text/html")
        page.headers["Content-Security-Policy"] = "default-src 'none'"
        page.headers["Cache-Control"] = "max-age=600"
        page.headers["Server"] = "granian"
        return page(environ, start_response)

    response = Client(SecurityHeaders(view)).get("/")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    for name, value in SECURITY_HEADERS.items():
        if name != "Content-Security-Policy":
            assert response.headers.getlist(name) == [value]
    assert response.headers.getlist("Cache-Control") == ["no-store"]  # a page is never cached
    assert response.headers.getlist("Server") == ["Sauti"]
    assert "Strict-Transport-Security" not in response.headers
    over_https = Client(SecurityHeaders(view)).get("/", base_url="https://localhost/")
    assert over_https.headers["Strict-Transport-Security"].startswith("max-age=")


def _open(interface: SignedCookieSessions, app: Flask, cookie: str):
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as ctx:
        return interface.open_session(app, ctx.request)


def test_a_cookie_read_again_opens_the_same_session_without_checking_its_signature_again() -> None:
    app = _app("a secret of some length")
    kept = SignedCookieSessions()
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"child": "p-1", "step": [1, "2"]})
    signer = kept.get_signing_serializer(app)
    checked = []
    real_loads = signer.loads
    signer.loads = lambda *args, **kwargs: checked.append(1) or real_loads(*args, **kwargs)
    first = _open(kept, app, cookie)
    assert dict(first) == {"child": "p-1", "step": [1, "2"]}
    first["step"].append("changed by a view")  # each request has its own copy
    first["child"] = "p-2"
    assert dict(_open(kept, app, cookie)) == {"child": "p-1", "step": [1, "2"]}
    assert len(checked) == 1


def test_a_forged_an_expired_or_an_old_key_cookie_opens_an_empty_session(monkeypatch) -> None:
    import time

    app = _app("the first secret key")
    app.permanent_session_lifetime = 60
    kept = SignedCookieSessions()
    cookie = kept.get_signing_serializer(app).dumps({"child": "p-1"})
    assert dict(_open(kept, app, cookie)) == {"child": "p-1"}
    assert dict(_open(kept, app, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))) == {}
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 120)  # the kept cookie has expired meanwhile
    assert dict(_open(kept, app, cookie)) == {}
    monkeypatch.setattr(time, "time", lambda: now)
    assert dict(_open(kept, app, cookie)) == {"child": "p-1"}
    app.secret_key = "the second secret key"
    assert dict(_open(kept, app, cookie)) == {}


def _csrf_app() -> Flask:
    app = _app("a secret of some length")
    app.config.update(WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=600)
    return app


def test_a_sessions_form_token_is_reused_for_a_minute_and_accepted_as_flask_wtf_would(monkeypatch) -> None:
    import time

    from flask import session
    from flask_wtf.csrf import generate_csrf

    from survey.child_cache import FormTokens

    app, tokens = _csrf_app(), FormTokens()
    with app.test_request_context("/"):
        first = tokens.token()
        raw = session["csrf_token"]
        assert tokens.accepted(first)
        assert not tokens.accepted(first[:-3] + "abc") and not tokens.accepted("") and not tokens.accepted(None)
    with app.test_request_context("/"):
        session["csrf_token"] = raw  # the same child session, a later request
        assert tokens.token() == first
        assert tokens.accepted(first)
        assert tokens.accepted(generate_csrf())  # a token Flask-WTF signed itself: checked by Flask-WTF
    with app.test_request_context("/"):
        assert not tokens.accepted(first)  # another session: its raw token differs
        assert tokens.token() != first
    now = time.time()
    with app.test_request_context("/"):
        session["csrf_token"] = raw
        monkeypatch.setattr(time, "time", lambda: now + 120)
        assert tokens.accepted(first)  # within WTF_CSRF_TIME_LIMIT
        assert tokens.token() != first  # but no longer handed out again
        monkeypatch.setattr(time, "time", lambda: now + 700)
        assert not tokens.accepted(first)  # past WTF_CSRF_TIME_LIMIT


def test_the_consent_texts_minutes_are_estimated_once_per_instrument_and_band(
    app, make_consultation, monkeypatch
) -> None:
    import copy

    from survey.child_cache import instrument_figures
    from survey.services import consent_rules
    from survey.services.instrument_store import instrument_for

    estimated = []
    real = consent_rules.estimate_minutes
    monkeypatch.setattr(consent_rules, "estimate_minutes", lambda *args: estimated.append(args[1:]) or real(*args))
    from survey.extensions import db
    from survey.models import Consultation

    consultation_id = make_consultation()
    with app.test_request_context("/"):
        consultation = db.session.get(Consultation, consultation_id)
        instrument = instrument_for(consultation)
        estimated.clear()  # opening the consultation estimated every band
        instrument_figures.clear()  # and another test may have kept this instrument's figures
        first = consent_rules.text_values(consultation, instrument, "B", "en")
        again = consent_rules.text_values(consultation, instrument, "B", "en")
        assert (first["minutes"], first["pages"]) == (again["minutes"], again["pages"])
        assert len(estimated) == 1
        other = copy.copy(instrument)  # another version of the instrument is estimated afresh
        assert consent_rules.text_values(consultation, other, "B", "en")["minutes"] == first["minutes"]
        assert len(estimated) == 2


def test_whether_a_page_looks_the_same_for_everyone_is_answered_per_item_object() -> None:
    """fixed_choices keeps its answer per item object: an item of a new instrument version (a
    new object, here with a choice filter or an earlier answer in its words) gets its own."""
    import dataclasses

    from instruments.model import Item, Text
    from survey.child_cache import fixed_choices

    plain = Item(name="q1", type="select_one", label=Text(en="Pick"), choices="yn")
    assert fixed_choices([plain]) and fixed_choices([plain])
    filtered = dataclasses.replace(plain, choice_filter="region = ${where}")
    assert not fixed_choices([plain, filtered])
    personal = dataclasses.replace(plain, label=Text(en="You said ${name}: pick"))
    assert not fixed_choices([personal])
    assert fixed_choices([plain])


@pytest.mark.parametrize("refresh_each_request", [False, True])
@pytest.mark.parametrize("vary", [None, "Accept-Language"])
def test_saving_a_session_sets_the_same_headers_as_flask(refresh_each_request: bool, vary: str | None) -> None:
    from flask import Response
    from flask.sessions import SecureCookieSession

    app = _app("a secret of some length")
    app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh_each_request

    def sessions():  # every kind of session a request can end with
        yield SecureCookieSession()  # never touched
        read = SecureCookieSession({"child": "p-1"})
        read.get("child")
        yield read
        for permanent in (False, True):
            changed = SecureCookieSession({"child": "p-1"})
            changed.permanent = permanent  # (marks it changed, as in a request)
            yield changed
            kept = SecureCookieSession({"child": "p-1", "_permanent": permanent})
            kept.get("child")
            yield kept
        emptied = SecureCookieSession({"child": "p-1"})
        emptied.pop("child")
        yield emptied
        empty_read = SecureCookieSession()
        empty_read.get("child")
        yield empty_read

    def headers(interface, session) -> list[tuple[str, str]]:
        response = Response("page", headers={"Vary": vary} if vary else {})
        with app.test_request_context():
            interface.save_session(app, session, response)
        # A cookie's signature and expiry hold the time: compared by name and settings.
        return [
            (name, value if name != "Set-Cookie" else [part.split("=")[0] for part in value.split("; ")])
            for name, value in response.headers
        ]

    cases = list(sessions())
    for flasks, ours in zip(cases, sessions(), strict=True):
        assert headers(SignedCookieSessions(), ours) == headers(SecureCookieSessionInterface(), flasks)
    said = [dict(headers(SignedCookieSessions(), session)).get("Vary", "") for session in sessions()]
    assert any("Cookie" in value for value in said) and any("Cookie" not in value for value in said)


def test_kept_addresses_are_the_addresses_url_for_builds(app) -> None:
    from flask import url_for

    from survey.child_cache import KeptAddresses
    from survey.views.question_pages import step_url

    addresses = KeptAddresses()
    steps = [(0, (), False), (12, (), False), (3, (2,), False), (3, (2, 1), False), (4, (1,), True)]
    for root in ("", "/sauti", "/other"):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            for _ in range(2):  # built, then kept
                assert [addresses.url_for("participate.page", index=i) for i in (0, 7)] == [
                    url_for("participate.page", index=i) for i in (0, 7)
                ]
                assert addresses.url_for("participate.more", index=4, path="1") == url_for(
                    "participate.more", index=4, path="1"
                )
            assert step_url(steps[0]) == f"{root}/p/q/0"
            assert [step_url(step) for step in steps] == [
                f"{root}/p/q/0",
                f"{root}/p/q/12",
                f"{root}/p/q/3/2",
                f"{root}/p/q/3/2.1",
                f"{root}/p/more/4/1",
            ]
    assert len(addresses) == 9  # three addresses under each of three roots


def test_kept_addresses_are_bounded_and_never_cross_apps() -> None:
    from flask import Flask

    from survey.child_cache import KeptAddresses

    addresses = KeptAddresses(max_entries=3)
    first, second = Flask("first"), Flask("second")
    first.add_url_rule("/a/<int:n>", "a", lambda n: "")
    second.add_url_rule("/b/<int:n>", "a", lambda n: "")
    with first.test_request_context("/"):
        assert [addresses.url_for("a", n=n) for n in range(5)] == [f"/a/{n}" for n in range(5)]
    assert len(addresses) <= 3
    with second.test_request_context("/"):
        assert addresses.url_for("a", n=4) == "/b/4"


def test_a_permanent_session_is_reissued_every_ten_minutes_not_on_every_request() -> None:
    import time

    from survey.child_cache import REFRESHED_KEY, SESSION_REFRESH_AFTER_S

    app = _app("a secret of some length")
    kept = SignedCookieSessions()
    signer = kept.get_signing_serializer(app)
    now = int(time.time())
    stale = _open(kept, app, signer.dumps({"_permanent": True, REFRESHED_KEY: now - SESSION_REFRESH_AFTER_S}))
    assert stale.modified and stale[REFRESHED_KEY] >= now  # its cookie goes out again, with a new expiry
    fresh = _open(kept, app, signer.dumps({"_permanent": True, REFRESHED_KEY: now - 5}))
    assert not fresh.modified and fresh.accessed  # read (Vary: Cookie), not sent again
    passing = _open(kept, app, signer.dumps({"child": "p-1"}))
    assert not passing.modified and REFRESHED_KEY not in passing  # not permanent: never re-issued
    empty = _open(kept, app, "")
    assert not empty.modified and empty.accessed


def test_each_request_gets_the_apps_form_limits_as_they_are_set_now(app) -> None:
    """The served app gives every request its form limits when the request is made (Flask
    would look them up through ``current_app`` on each reading): the app's settings, changed
    after start-up too, still bound a POST."""
    from flask import request

    app.config.update(MAX_CONTENT_LENGTH=2_000, MAX_FORM_MEMORY_SIZE=300, MAX_FORM_PARTS=4)
    with app.test_request_context("/", method="POST"):
        assert (request.max_content_length, request.max_form_memory_size, request.max_form_parts) == (2_000, 300, 4)
    client = app.test_client()
    assert client.post("/", data={"code": "x" * 3_000}).status_code == 413
    big_field = {"code": "x" * 400}  # one field over the memory limit
    assert client.post("/", data=big_field, content_type="multipart/form-data").status_code == 413
    assert (
        client.post("/", data={f"field{n}": "1" for n in range(6)}, content_type="multipart/form-data").status_code
        == 413
    )
    assert client.post("/", data={"code": "ABCD"}).status_code != 413

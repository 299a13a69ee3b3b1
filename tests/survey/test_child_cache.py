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

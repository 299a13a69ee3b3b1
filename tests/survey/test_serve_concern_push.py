"""A laptop served by waitress (where Granian cannot be imported) pushes concern records too.

Granian's workers start the concern pusher when they build the app (survey/wsgi.py); the
waitress path builds no worker app, so `sauti serve` starts it itself (issue 22).
"""

from __future__ import annotations

import threading

import pytest

from survey.cli import serving
from survey.database import is_sqlite


def test_serving_with_waitress_starts_the_concern_pusher(make_app, monkeypatch) -> None:
    app = make_app(SYNC_CONCERN_PUSH_SECONDS=30)
    if not is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
        pytest.skip("the pusher runs on a field laptop's SQLite only")  # the PostgreSQL run covers the central side
    served: list[str] = []
    monkeypatch.setattr(serving, "_has_granian", lambda: False)
    # the real waitress would block this test; what matters is what was started before it
    monkeypatch.setattr(serving, "_serve_waitress", lambda *args: served.append("waitress"))
    before = {t for t in threading.enumerate() if t.name == "sauti-concern-push"}
    serving._serve(app, "127.0.0.1", 0, False, 4)
    started = {t for t in threading.enumerate() if t.name == "sauti-concern-push"} - before
    assert served == ["waitress"] and started, "no concern pusher beside waitress"

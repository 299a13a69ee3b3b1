"""Fixtures: an app per test on a migrated database, clients for each kind of visitor, factories.

The database is SQLite by default.  With ``DATABASE_URL`` set to a PostgreSQL URL (as CI does on
its second run) every test runs against the real server instead: the schema is migrated once per
test run into a private schema, and each test starts from empty tables.

Every test that can touch a database is marked ``database`` here, at collection (see
:func:`touches_database`); CI's PostgreSQL run selects them with ``-m database``.  The others
(pure analysis, instruments and consent functions, static checks on files) give the same result
on either database, so they run once, on SQLite.  A test left unmarked that builds the app or
connects to a database server fails (:func:`_database_free_tests_stay_free`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from survey import create_app
from survey.config import normalise_database_url
from survey.extensions import db

TEST_SECRET = "test-secret-key-not-for-production"
STRONG_PASSWORD = "correct horse battery staple"
SESSION_PIN = "2468"
ROOT = Path(__file__).resolve().parents[1]


# The folders of the Flask app's tests (tests/survey, tests/browser): all of them run on both
# databases, including the few that need no fixture (servers and the CLI in subprocesses, which
# take their database from DATABASE_URL).
APP_TEST_FOLDERS = ("survey", "browser")


def touches_database(path: Path, fixturenames: Iterable[str]) -> bool:
    """Whether a test can touch a database, so that it must run on PostgreSQL as well as SQLite.

    Yes when it requests the test database through any fixture (``app``, ``client``, ``runner``,
    ``make_app``, ``world``, the factories, ``live_server``, ``page`` ... all depend on
    ``test_database``), or when it is one of the Flask app's tests (``tests/survey``,
    ``tests/browser``).  Tests elsewhere (``tests/analysis``, ``tests/instruments``,
    ``tests/consent``, the doctests of those packages, the static checks in ``tests/``) are pure.
    """
    parts = path.resolve().relative_to(ROOT).parts if path.resolve().is_relative_to(ROOT) else ()
    return (len(parts) > 2 and parts[0] == "tests" and parts[1] in APP_TEST_FOLDERS) or "test_database" in fixturenames


# Tests of a minute or more in CI besides those marked slow (thousands of requests each).
LONG_TESTS = (
    "tests/survey/test_api_fuzz.py::",
    "tests/survey/test_fuzz_routes.py::test_no_route_answers_500_to_arbitrary_input",
    "tests/survey/test_code_guessing.py::test_ten_thousand_guesses_get_nowhere",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if touches_database(item.path, getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
    # The long tests first (the order is otherwise kept): with two workers, one long test queued
    # last would leave the other worker idle for its whole length at the end of the run.
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.nodeid.startswith(LONG_TESTS)))


@pytest.fixture(autouse=True)
def _database_free_tests_stay_free(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test not marked ``database`` fails when it builds the Flask app (pushes an app context)
    or connects to a database server: it would then need the PostgreSQL run too."""
    if request.node.get_closest_marker("database"):
        yield
        return
    from flask import appcontext_pushed

    seen: list[str] = []
    # Only this test's own thread: a server thread another test left behind may still be working.
    mine = threading.get_ident()

    def app_built(sender: Flask, **_: object) -> None:
        if threading.get_ident() == mine:
            seen.append(f"pushed a context of the Flask app {sender.name!r}")

    def connected(dbapi_connection: object, record: object) -> None:
        if threading.get_ident() == mine:
            seen.append(f"connected to a database with {type(dbapi_connection).__module__}")

    appcontext_pushed.connect(app_built)
    sa.event.listen(sa.pool.Pool, "connect", connected)
    try:
        yield
    finally:
        appcontext_pushed.disconnect(app_built)
        sa.event.remove(sa.pool.Pool, "connect", connected)
    server = [what for what in seen if "sqlite" not in what]
    assert not server, f"{request.node.nodeid} is not marked database but {server[0]}: see touches_database"


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return normalise_database_url(url) if url.startswith(("postgres", "postgresql")) else None


def with_search_path(url: str, schema: str) -> str:
    """A PostgreSQL URL whose connections see only ``schema`` (psycopg passes ``options`` on)."""
    return str(sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now (for a server in a subprocess)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, seconds: float = 30) -> None:
    """Return once ``url`` answers (a server started in a subprocess); fail after ``seconds``."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # 127.0.0.1 only
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not start: {url}")


@contextlib.contextmanager
def scratch_database_url(folder: Path, prefix: str) -> Iterator[str]:
    """A database for a server started in a subprocess: ``folder/sauti.sqlite``, or, when the
    tests run on PostgreSQL, a fresh schema there, dropped afterwards."""
    postgres = _postgres_url()
    if not postgres:
        yield f"sqlite:///{folder / 'sauti.sqlite'}"
        return
    schema = f"{prefix}_{os.getpid()}"
    engine = sa.create_engine(postgres)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(postgres, schema)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def base_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SESSION_COOKIE_SECURE": False,
        # Tests never leave 127.0.0.1: the quick exit lands on Sauti's own neutral page.
        "QUICK_EXIT_URL": "/notes",
        # Cheap hashing keeps the suite fast; test_auth checks the production parameters.
        "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }


def migrate_database(url: str, instance_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(url), instance_path=str(instance_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@dataclasses.dataclass
class TestDatabase:
    """Where a test's app keeps its data, and how it is emptied afterwards."""

    backend: str
    template: Path | None = None  # SQLite: a migrated file copied for each test
    url: str | None = None  # PostgreSQL: the per-run schema

    def url_for(self, tmp_path: Path) -> str:
        if self.backend == "sqlite":
            target = tmp_path / "sauti.sqlite"
            shutil.copy(self.template, target)
            return f"sqlite:///{target}"
        return self.url

    def reset(self, app: Flask) -> None:
        if self.backend != "postgresql":
            return
        # Empty tables as a fresh schema has them, and every sequence back at 1.  DELETE in the
        # order of the foreign keys, on the tables a test wrote to only: TRUNCATE of every table
        # made new files for each table and index: about a second a test, 30 ms with DELETE.
        with app.app_context():
            tables = [t.name for t in reversed(db.metadata.sorted_tables)]
            with db.engine.begin() as connection:
                written = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
                holding = set(connection.exec_driver_sql(written).scalars())
                for name in tables:
                    if name in holding:
                        connection.exec_driver_sql(f"DELETE FROM {name}")
                used = connection.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                ).scalars()
                for sequence in list(used):
                    connection.exec_driver_sql(f"SELECT setval('{sequence}', 1, false)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, migrated once per run: copy it for a database of one's own (the
    SQLite run's test databases; field laptops on either run)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    template = folder / "template.sqlite"
    migrate_database(f"sqlite:///{template}", folder / "instance")
    return template


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    postgres = _postgres_url()
    folder = tmp_path_factory.mktemp("db-template")
    if postgres is None:
        yield TestDatabase("sqlite", template=request.getfixturevalue("sqlite_template"))
        return
    schema = f"sauti_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    # Commits of the tests' own connections do not wait for the WAL's flush to disk (about 3 ms
    # each): only a crash of the PostgreSQL server could lose them, and no test crashes it.
    options = f"-csearch_path={schema} -csynchronous_commit=off"
    url = sa.engine.make_url(postgres).update_query_dict({"options": options}).render_as_string(hide_password=False)
    try:
        migrate_database(url, folder / "instance")
        yield TestDatabase("postgresql", url=url)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def make_app(test_database: TestDatabase, tmp_path: Path) -> Iterator:
    """Build an app on this test's database, with config overrides."""
    apps: list[Flask] = []
    url = test_database.url_for(tmp_path)

    def factory(**overrides: object) -> Flask:
        app = create_app({**base_config(url), **overrides}, instance_path=str(tmp_path / "instance"))
        apps.append(app)
        return app

    yield factory
    if apps:
        test_database.reset(apps[0])
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


# ----------------------------------------------------------------------------- factories
@pytest.fixture
def make_user(app: Flask):
    from survey.services import accounts

    def factory(username: str, *roles: str, password: str = STRONG_PASSWORD):
        with app.app_context():
            user = accounts.create_user(username, password, list(roles))
            return user.id

    return factory


@pytest.fixture
def make_consultation(app: Flask):
    from survey.services import consultations

    def factory(
        title: str = "Consultation",
        *,
        state: str = "open",
        members=(),
        bands=("A", "B", "C"),
        languages=("en", "fr"),
        country_profile="example-uk",
        **details,
    ):
        """A consultation on the test instrument.  The default profile (example-uk) uses passive
        opt-out, so cards need no marking; pass country_profile="generic" for active opt-in."""
        from survey.models import Consultation, User
        from survey.services import instrument_store
        from survey.services.translations import set_wording
        from tests.factories import consultation_wording, make_test_instrument

        with app.app_context():
            extra = [code for code in languages if code not in ("en", "fr")]
            instrument = make_test_instrument("1-" + "-".join(extra) if extra else "1", ("en", "fr", *extra))
            instrument_store.store(instrument, approved=True)
            defaults = {
                "organisation": "Test organisation",
                "contact": "the test team",
                "independent_contact": "the ethics board",
                "audience": "the county council",
                "ethics_reference": "REC-TEST-1",
                "influence_scope": "how help works",
                "feedback_due": dt.date(2027, 3, 1),
                "analysis_cutoff": dt.date(2027, 1, 31),
            }
            facilitated = details.pop("facilitated", True)
            consultation = consultations.create_consultation(
                title=title,
                instrument_id=instrument.id,
                instrument_version=instrument.version,
                instrument_hash=instrument.content_hash,
                languages=list(languages),
                age_bands=list(bands),
                facilitated=facilitated,
                country_profile=country_profile,
                details={**defaults, **details},
            )
            for code, words in consultation_wording(languages, {**defaults, **details}).items():
                set_wording(consultation, code, words)
            for user_id, role in members:
                consultations.add_member(consultation, db.session.get(User, user_id), role)
            if state != "draft":
                # The bundled consent texts are drafts until reviewed: open as a demo would.
                consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
                if facilitated:
                    # Codes work in a facilitated consultation only during a session.
                    from survey.services import sessions

                    record = db.session.get(Consultation, consultation.id)
                    sessions.set_pin(record, SESSION_PIN)
                    sessions.start(
                        db.session.get(Consultation, consultation.id),
                        pin=SESSION_PIN,
                        checklist=list(sessions.CHECKLIST),
                        trained_on=dt.date.today(),
                        today=dt.date.today(),
                        actor=None,
                    )
            if state in ("closed", "archived"):
                consultations.set_state(consultation, "closed")
            if state == "archived":
                from survey.services import programme

                for checklist, questions in programme.CHECKLISTS.items():  # P-06, before archiving
                    programme.save_checklist(
                        consultation, checklist, dict.fromkeys(questions, ("yes", "recorded by the test")), actor=None
                    )
                consultations.set_state(consultation, "archived")
            return consultation.id

    return factory


@pytest.fixture
def issue_codes(app: Flask):
    from survey.models import Consultation
    from survey.services import participants

    def factory(consultation_id: int, count: int = 1) -> list[str]:
        return [card.code for card in issue_cards(consultation_id, count)]

    def issue_cards(consultation_id: int, count: int = 1):
        with app.app_context():
            return participants.issue_codes(db.session.get(Consultation, consultation_id), count)

    factory.cards = issue_cards
    return factory


def sign_in(client: FlaskClient, username: str, password: str = STRONG_PASSWORD):
    return client.post("/staff/sign-in", data={"username": username, "password": password})


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclasses.dataclass
class World:
    """Two consultations and one client per kind of visitor."""

    consultation: int
    other_consultation: int
    user_ids: dict[str, int]
    clients: dict[str, FlaskClient]


VISITORS = ("anonymous", "child", "facilitator", "other_facilitator", "analyst", "admin")


@pytest.fixture
def world(app: Flask, make_user, make_consultation, issue_codes) -> World:
    ids = {
        "facilitator": make_user("fiona", "facilitator"),
        "other_facilitator": make_user("omar", "facilitator"),
        "analyst": make_user("ana", "analyst"),
        "admin": make_user("ada", "admin"),
    }
    consultation = make_consultation("Ours", members=[(ids["facilitator"], "facilitator"), (ids["analyst"], "analyst")])
    other = make_consultation("Theirs", members=[(ids["other_facilitator"], "facilitator")])
    clients = {}
    for visitor in VISITORS:
        clients[visitor] = app.test_client()
    for visitor, username in (
        ("facilitator", "fiona"),
        ("other_facilitator", "omar"),
        ("analyst", "ana"),
        ("admin", "ada"),
    ):
        response = sign_in(clients[visitor], username)
        assert response.status_code == 302, response.get_data(as_text=True)
    code = issue_codes(consultation, 1)[0]
    response = clients["child"].post("/", data={"code": code})
    assert response.status_code == 302 and response.location.endswith(("/p/age", "/p/about"))
    return World(consultation, other, ids, clients)

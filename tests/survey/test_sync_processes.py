"""Field laptops end to end (issue 22): a central `sauti serve` on PostgreSQL and two laptop
`sauti serve` on SQLite, as real processes on 127.0.0.1, driven by the real `sauti sync` commands.

Provisioning by URL (registering each laptop's key), children answering through each laptop's
real HTTP pages, a push killed half-way and resumed, a bundle carried as a file and imported
twice, a byte flipped, a bundle for the wrong consultation, and a withdrawal on the central
server before its bundle arrives.  In the end every answer a laptop acknowledged is on the
central server exactly once, and the withdrawn child's are nowhere.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack

import pytest
import sqlalchemy as sa

from tests.conftest import SESSION_PIN, TEST_SECRET, base_config, free_port, wait_until_serving

# The central server runs on PostgreSQL: this runs in the PostgreSQL run (CI's second), where the
# server is known to be there, and is skipped in the SQLite run.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
        reason="runs with DATABASE_URL=postgresql://... (the central server's database)",
    ),
]

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SAUTI = [sys.executable, "-c", "from survey.cli import main; main()"]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTR = re.compile(r'(\w+)="([^"]*)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Child:
    """One child's device on a laptop's Wi-Fi: cookies, CSRF tokens, the pages as served."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        self.acknowledged: dict[str, str] = {}  # item -> value, for every save answered with a redirect

    def call(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=20) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def form(self, path: str, data: dict) -> tuple[int, str, str]:
        _, _, html = self.call(path)
        return self.call(path, {**data, "csrf_token": TOKEN.search(html).group(1)})

    def take_part(self, code: str) -> None:
        assert self.form("/", {"code": code})[0] == 302
        assert self.form("/p/age", {"age": "12"})[0] == 302
        assert self.form("/p/about", {"check_0": "0", "check_1": "0", "decision": "yes"})[0] == 302
        index = 0
        for _ in range(100):
            status, _, html = self.call(f"/p/q/{index}")
            assert status == 200, status
            answers = {}
            for tag in INPUT.findall(html):
                attrs = dict(ATTR.findall(tag))
                name, value = attrs.get("name", ""), attrs.get("value", "")
                if attrs.get("type") == "radio" and name.startswith("q_") and value and not value.startswith("_"):
                    answers.setdefault(name, value)
            status, location, _ = self.call(
                f"/p/q/{index}",
                {
                    "csrf_token": TOKEN.search(html).group(1),
                    "page_token": PAGE_TOKEN.search(html).group(1),
                    "nav": "next",
                    **answers,
                },
            )
            assert status in (302, 303), status
            self.acknowledged.update({name[2:]: value for name, value in answers.items()})
            match = re.search(r"/p/q/(\d+)", location)
            if match:
                index = int(match.group(1))
                continue
            assert location.endswith("/p/end"), location
            assert self.form("/p/end", {"decision": "yes"})[0] in (302, 303)
            return
        raise AssertionError("no end")


def _run(env: dict, *args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*SAUTI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _app(url: str, instance: str, secret: str):  # a Flask app on a process's database
    from survey import create_app

    return create_app({**base_config(url), "SECRET_KEY": secret}, instance_path=instance)


def _open_consultation(app, title: str) -> int:
    import datetime as dt

    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import consultations, instrument_store, sessions
    from tests.factories import make_test_instrument

    with app.app_context():
        instrument = make_test_instrument()
        instrument_store.store(instrument, approved=True)
        consultation = consultations.create_consultation(
            title=title,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=["en"],
            age_bands=["A", "B", "C"],
            country_profile="example-uk",
            details={
                "organisation": "Test organisation",
                "contact": "the test team",
                "independent_contact": "the ethics board",
                "audience": "the county council",
                "ethics_reference": "REC-TEST-1",
                "influence_scope": "how help works",
                "feedback_due": dt.date(2027, 3, 1),
                "analysis_cutoff": dt.date(2027, 1, 31),
            },
        )
        consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
        sessions.set_pin(db.session.get(Consultation, consultation.id), SESSION_PIN)
        return consultation.id


def _start_session(app) -> None:  # the laptop's app, on its SQLite file
    import datetime as dt

    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import sessions

    with app.app_context():
        consultation = db.session.scalars(sa.select(Consultation)).one()
        sessions.start(
            consultation,
            pin=SESSION_PIN,
            checklist=list(sessions.CHECKLIST),
            trained_on=dt.date.today(),
            today=dt.date.today(),
            actor=None,
        )


def _serve(servers: list, env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [*SAUTI, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    servers.append(server)
    wait_until_serving(f"http://127.0.0.1:{port}/", seconds=60)
    return server


def _value(output: str, label: str) -> str:
    return next(line.split(": ", 1)[1].strip() for line in output.splitlines() if line.startswith(label))


@pytest.fixture
def central_database():
    engine = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"sauti_sync_test_{uuid.uuid4().hex[:8]}"
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    finally:
        from survey.extensions import db  # noqa: F401 - engines of this test are disposed by then

        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_two_field_laptops_hand_their_childrens_answers_to_the_central_server(tmp_path, central_database) -> None:
    from consent.codes import hash_code
    from survey.extensions import db
    from survey.models import Answer, AuditEvent, Participant, SyncImport, SyncUpload
    from survey.services import sync
    from survey.sync import bundle as fmt

    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    central_env = {
        **base_env,
        "DATABASE_URL": central_database,
        "SAUTI_INSTANCE_PATH": str(tmp_path / "central"),
        "SAUTI_SECRET_KEY": TEST_SECRET,
    }
    central_app = _app(central_database, str(tmp_path / "central"), TEST_SECRET)
    _upgrade(central_app)
    cid = _open_consultation(central_app, "Field consultation")
    other_cid = _open_consultation(central_app, "Another consultation")
    with ExitStack() as stack:
        stack.callback(lambda: _dispose(central_app))
        servers: list[subprocess.Popen] = []
        stack.callback(lambda: _stop(servers))
        port = free_port()
        _serve(servers, central_env, port)
        central = f"http://127.0.0.1:{port}"
        # The site's cards, as printed for its children (the test keeps their codes to type them).
        codes = {site: _issue_known_codes(central_app, cid, site, 4) for site in ("school-1", "school-2")}
        laptops = {}
        for site in ("school-1", "school-2"):
            made = _run(
                central_env,
                "sync",
                "package",
                str(cid),
                "--site",
                site,
                "--cards",
                "0",
                "--out",
                str(tmp_path / f"{site}.package"),
                "--url",
                central,
            ).stdout
            env = {
                **base_env,
                "DATABASE_URL": f"sqlite:///{tmp_path / site}.sqlite",
                "SAUTI_INSTANCE_PATH": str(tmp_path / site),
                "SAUTI_SECRET_KEY": f"{site}-secret-not-for-production",
            }
            app = _app(env["DATABASE_URL"], env["SAUTI_INSTANCE_PATH"], env["SAUTI_SECRET_KEY"])
            stack.callback(lambda app=app: _dispose(app))
            _upgrade(app, user="fiona")
            pulled = _run(
                env,
                "sync",
                "pull",
                _value(made, "Pull address"),
                "--enrol",
                _value(made, "Enrolment code"),
                "--fingerprint",
                _value(made, "Central key fingerprint"),
                "--site",
                site,
                "--facilitator",
                "fiona",
            ).stdout
            assert "registered with the central server" in pulled
            _start_session(app)
            laptops[site] = {"env": env, "app": app, "port": free_port()}
            _serve(servers, env, laptops[site]["port"])
        children: dict[str, list[tuple[str, Child]]] = {}
        for site, laptop in laptops.items():
            children[site] = []
            for code, _withdrawal in codes[site]:
                child = Child(f"http://127.0.0.1:{laptop['port']}")
                child.take_part(code)
                children[site].append((code, child))
        # One child of school-1 withdraws on the central server, before school-1's bundle arrives.
        withdrawing = codes["school-1"][0]
        assert Child(central).form("/change", {"code": withdrawing[1]})[0] == 200

        # school-2 pushes over the network, slowly; the push is killed half-way and resumed.
        env_2 = laptops["school-2"]["env"]
        slow = subprocess.Popen(
            [*SAUTI, "sync", "push", "--chunk-size", "1024", "--max-rate", "2048"],
            env=env_2,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with central_app.app_context():
            deadline = time.monotonic() + 60
            while not db.session.scalar(sa.select(sa.func.max(SyncUpload.received))):
                assert time.monotonic() < deadline and slow.poll() is None, "the push never started"
                db.session.rollback()
                time.sleep(0.1)
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=20)
        slow.stdout.close()
        resumed = _run(env_2, "sync", "push").stdout
        assert "Resuming bundle" in resumed and "confirmed by the central server" in resumed

        # school-1 carries its bundle on a USB stick: imported twice, once with a byte flipped.
        env_1 = laptops["school-1"]["env"]
        stick = tmp_path / "school-1.bundle"
        _run(env_1, "sync", "export", str(stick))
        data = stick.read_bytes()
        flipped = tmp_path / "flipped.bundle"
        flipped.write_bytes(data[:500] + bytes([data[500] ^ 1]) + data[501:])
        refused = _run(central_env, "sync", "import", str(flipped), ok=False)
        assert refused.returncode != 0 and "changed or damaged" in refused.stderr
        first = _run(central_env, "sync", "import", str(stick)).stdout
        assert first.startswith("Imported:") and "withdrawn_before_arrival 1" in first
        again = _run(central_env, "sync", "import", str(stick)).stdout
        assert again.startswith("Already imported:")
        # A bundle signed by school-1's own key but for another consultation is refused whole.
        with laptops["school-1"]["app"].app_context():
            package = sync.only_package()
            forged = fmt.seal_bundle(
                {**fmt.read_header(data), "consultation": other_cid, "sequence": 99},
                {"participants": []},
                sync.device_key(package.id),
                bytes.fromhex(package.central_box_key),
            )
        with central_app.app_context(), pytest.raises(sync.SyncRefused, match="another consultation"):
            sync.import_bundle(forged)
        _run(env_1, "sync", "receipt", str(stick) + ".receipt")
        # At its next pull school-1 learns of the withdrawal and deletes its copy of those answers.
        assert "withdrawn 1" in _run(env_1, "sync", "pull").stdout

        with central_app.app_context():
            withdrawn = db.session.scalar(
                sa.select(Participant).where(Participant.code_hash == hash_code(withdrawing[0], TEST_SECRET))
            )
            assert withdrawn.state == "withdrawn"
            assert (
                db.session.scalar(
                    sa.select(sa.func.count()).select_from(Answer).where(Answer.participant_id == withdrawn.id)
                )
                == 0
            )
            for site, taken in children.items():
                for code, child in taken:
                    if code == withdrawing[0]:
                        continue
                    participant = db.session.scalar(
                        sa.select(Participant).where(Participant.code_hash == hash_code(code, TEST_SECRET))
                    )
                    assert participant.state == "completed" and participant.site == site
                    stored = db.session.execute(
                        sa.select(Answer.item, Answer.value).where(Answer.participant_id == participant.id)
                    ).all()
                    assert len(stored) == len({item for item, _ in stored})  # each answer once
                    assert _as_posted(stored) == child.acknowledged  # every acknowledged answer, as given
            imports = db.session.scalars(sa.select(SyncImport)).all()
            # school-1: its one bundle (the replay, the flipped and the forged changed nothing);
            # school-2: the resumed bundle and the one made after it.
            assert sorted(i.sequence for i in imports) == [1, 1, 2]
            logged = db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "sync.import")).all()
            assert len(logged) == 3 and all(re.fullmatch(r"[\w:. -]+", target) for target in logged)
        with laptops["school-1"]["app"].app_context():
            actions = db.session.scalars(sa.select(AuditEvent.action)).all()
            assert {"sync.export", "sync.receipt", "sync.status"} <= set(actions)
            assert (
                db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Answer)
                    .join(Participant)
                    .where(Participant.code_hash == hash_code(withdrawing[0], bytes.fromhex(package.code_key)))
                )
                == 0
            )


def _issue_known_codes(central_app, cid: int, site: str, count: int) -> list[tuple[str, str]]:
    """Cards for ``site``, issued on the central server as `sauti sync package --cards` does."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import participants, sync

    with central_app.app_context():
        consultation = db.session.get(Consultation, cid)
        cards = participants.issue_codes(consultation, count, site=site, field_key=sync.site_key(cid, site))
        return [(card.code, card.withdrawal_code) for card in cards]


def _as_posted(stored: list) -> dict[str, str]:
    """Stored answers as the form posted them (a matrix's rows are one JSON answer when stored)."""
    posted = {}
    for item, value in stored:
        if value.startswith("{"):
            posted.update({f"{item}_{row}": code for row, code in json.loads(value).items()})
        else:
            posted[item] = value
    return posted


def _upgrade(app, user: str = "") -> None:
    """Migrate a process's database from here (as `sauti db upgrade`), and make a staff account."""
    from flask_migrate import upgrade

    from survey.services import accounts

    with app.app_context():
        upgrade()
        if user:
            accounts.create_user(user, "correct horse battery staple", ["facilitator"])


def _stop(servers: list) -> None:
    for server in servers:  # all at once: each may take a few seconds to finish
        server.terminate()
    for server in servers:
        server.wait(timeout=30)


def _dispose(app) -> None:
    from survey.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()

"""Nothing of a child is kept that should not be (issue 16; C-07, C-08, C-09, DP-06, S-06).

Stop-and-delete, the withdrawal code and retention delete the child's answers, page saves,
assent event and resolved signals; what stays is the card's state, a signal the facilitator has
not yet resolved (unlinked), and the safeguarding lead's concern record, which holds no
unredacted words and goes ``safeguarding_days`` after the lead resolves it.  Deleted answers
are unreadable in the database files afterwards (SQLite ``secure_delete`` and a checkpoint;
PostgreSQL ``VACUUM FULL``), and ``sauti serve`` / ``sauti demo`` run retention by themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import (
    Answer,
    AssentEvent,
    ConcernFlag,
    Consultation,
    FacilitationSession,
    Participant,
    Signal,
    User,
)
from tests.conftest import SESSION_PIN, free_port
from tests.survey.test_journey import _assent, _post_page, _token

#: A disclosure with personal details: the concern is kept for the lead, the details never.
DISCLOSURE = "My uncle hits me at home and I am scared, please call Amina on 0722 123 456"
#: A distinctive open answer with no concern in it, to look for in the database files.
CANARY = "zanzibarquokkaflamingo"


def _bundled_consultation(app, *, facilitated: bool = True, **details) -> int:
    """An open consultation on the bundled instrument, as in tests/browser/conftest.py."""
    from instruments.bundled import load_bundled
    from survey.services import consultations, instrument_store, sessions

    bundled = load_bundled("reporting-mechanisms")
    instrument = dataclasses.replace(
        bundled, languages=tuple(dataclasses.replace(language, status="approved") for language in bundled.languages)
    )
    today = dt.date.today()
    values = {
        "organisation": "Test organisation",
        "contact": "the test team",
        "independent_contact": "the ethics board",
        "audience": "the county council",
        "purpose": "To learn how children would like to ask for help.",
        "influence_scope": "how help works",
        "setting": "community",
        "ethics_reference": "REC-TEST-1",
        "feedback_due": today + dt.timedelta(days=60),
        "analysis_cutoff": today + dt.timedelta(days=30),
        **details,
    }
    with app.app_context():
        instrument_store.store(instrument, approved=True)
        consultation = consultations.create_consultation(
            title="Bundled",
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=["en"],
            age_bands=["A", "B", "C"],
            facilitated=facilitated,
            country_profile="example-uk",
            details=values,
        )
        consultations.open_consultation(consultation, today=today, demo=True)
        if facilitated:
            record = db.session.get(Consultation, consultation.id)
            sessions.set_pin(record, SESSION_PIN)
            sessions.start(
                db.session.get(Consultation, consultation.id),
                pin=SESSION_PIN,
                checklist=list(sessions.CHECKLIST),
                trained_on=today,
                today=today,
                actor=None,
            )
        return consultation.id


def _answer_open_questions_until(child, item: str, text: str) -> None:
    """Walk the pages, writing ``text`` in every open question shown, until ``item`` is saved."""
    location = child.get("/p/").location
    for _ in range(40):
        match = re.search(r"/p/q/(\d+)$", location or "")
        assert match, f"the walk left the questions at {location}"
        page = child.get(match.group(0)).get_data(as_text=True)
        boxes = re.findall(r'<textarea[^>]*name="(q_[^"]+)"', page)
        response = child.post(
            match.group(0), data={**dict.fromkeys(boxes, text), "page_token": _token(page), "nav": "next"}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if f"q_{item}" in boxes:
            return
        location = response.location
    raise AssertionError(f"{item} was never shown")


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def _every_value(app, skip=()):  # (table, column, text) of every stored value
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in db.session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is not None:
                        yield table.name, column, str(value)


def test_stop_and_delete_leaves_only_the_note_for_the_safeguarding_lead(app, make_user, issue_codes) -> None:
    """The real child path, bundled instrument, facilitated, a flagged open answer, two signals."""
    from survey.services import facilitation

    consultation = _bundled_consultation(app, screening_deny_list="Amina")
    lead = make_user("fiona", "facilitator")
    code = issue_codes(consultation, 1)[0]
    before = _row_counts(app)

    child = app.test_client()
    assert child.post("/", data={"code": code, "seat": "Table 4"}).status_code == 302
    _assent(child, age="12")
    assert child.post("/p/talk").status_code == 200
    with app.app_context():  # the facilitator comes over and resolves the first signal
        first = db.session.scalars(sa.select(Signal)).one()
        facilitation.update_signal(consultation, first.id, "resolved", db.session.get(User, lead))
    _answer_open_questions_until(child, "ID2", DISCLOSURE)
    assert child.post("/p/talk").status_code == 200  # a second request for help, still open
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 1
        flags = db.session.scalar(sa.select(sa.func.count()).select_from(ConcernFlag))
        assert flags >= 1, "the disclosure was not flagged"

    response = child.post("/p/stop", data={"choice": "delete"})
    assert response.location.endswith("/p/stopped?deleted=1")

    after = _row_counts(app)
    grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    # What the rule allows: the lead's concern records and the signal nobody has answered yet
    # (and the audit log's line for the facilitator's own action of resolving the first signal).
    # No answer, page save, assent event or resolved signal of the child is left.
    assert grown == {"concern_flag": flags, "signal": 1, "audit_event": 1}
    with app.app_context():
        participant = db.session.scalars(sa.select(Participant)).one()
        assert (
            participant.state,
            participant.band,
            participant.language,
            participant.seat_label,
            participant.page_index,
        ) == ("withdrawn", None, None, "", 0)
        kept_signal = db.session.scalars(sa.select(Signal)).one()
        assert kept_signal.status == "open" and kept_signal.holder_tag is None  # unlinked
        session_id = db.session.scalar(sa.select(FacilitationSession.id))
        for flag in db.session.scalars(sa.select(ConcernFlag)):
            assert flag.session_id == session_id and flag.seat_label == "TABLE 4"
            assert flag.concerns and flag.flagged_on == dt.date.today() and flag.resolved_on is None
            assert "hits me" in flag.excerpt  # what the lead needs to act on
    # Nowhere is the child's unredacted text kept: not the whole answer, not the name or number
    # (the consultation's own deny-list is where the name was typed by staff).
    for table, column, value in _every_value(app, skip=("consultation",)):
        for secret in (DISCLOSURE, "Amina", "0722", "123 456"):
            assert secret not in value, f"{table}.{column} keeps {secret!r}"
    # The child is told, honestly, that a short note may be kept.
    page = child.get(response.location).get_data(as_text=True)
    assert "Everything you answered has been deleted" in page
    assert "a short note of it, without your name, so that someone can help" in page


def test_the_concern_record_goes_after_the_lead_resolves_it_and_the_profiles_period(
    app, runner, make_user, make_consultation, issue_codes
) -> None:
    from consent.profiles import load_profile

    days = load_profile("example-uk").retention.safeguarding_days
    assert days == 30
    consultation = make_consultation()
    lead = make_user("sam", "facilitator")
    with app.app_context():
        from survey.services import consultations

        consultations.add_member(db.session.get(Consultation, consultation), db.session.get(User, lead), "safeguarding")
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    _post_page(child, 1, {"q_ideas": "someone at home hits me and I am scared"})
    child.post("/p/stop", data={"choice": "delete"})
    from survey.services.retention import run_retention

    with app.app_context():
        flag_id = db.session.scalars(sa.select(ConcernFlag.id)).one()
        assert run_retention(dt.date.today() + dt.timedelta(days=3650)).get("concern_record_resolved") is None
        assert db.session.get(ConcernFlag, flag_id) is not None  # unresolved: never lost to a clock
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, "sam")
    client.post(f"/safeguarding/{consultation}/{flag_id}")  # the lead resolves it
    with app.app_context():
        resolved_on = db.session.get(ConcernFlag, flag_id).resolved_on
        assert resolved_on == dt.date.today()
        run_retention(resolved_on + dt.timedelta(days=days))
        assert db.session.get(ConcernFlag, flag_id) is not None  # the last day it is kept
        assert run_retention(resolved_on + dt.timedelta(days=days + 1))["concern_record_resolved"] == 1
        assert db.session.get(ConcernFlag, flag_id) is None


def test_withdrawal_code_and_retention_delete_the_assent_event_too(app, make_consultation, issue_codes) -> None:
    from survey.services.retention import run_retention

    consultation = make_consultation(analysis_cutoff=dt.date.today())
    card = issue_codes.cards(consultation, 1)[0]
    child = app.test_client()
    child.post("/", data={"code": card.code})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    child.post("/p/end", data={"decision": "yes"})
    stale = app.test_client()
    stale.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(stale)
    _post_page(stale, 0, {"q_who": "parent"})  # then never comes back
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 2
    page = app.test_client().post("/change", data={"code": card.withdrawal_code})
    assert "Anything kept with this code has been deleted" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 1
        counts = run_retention(dt.date.today() + dt.timedelta(days=8))
        assert counts["incomplete_window_passed"] == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssentEvent)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_after_the_cutoff_a_completed_responses_records_are_unlinked(app, make_consultation, issue_codes) -> None:
    from survey.services.retention import run_retention

    consultation = make_consultation(analysis_cutoff=dt.date.today())
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    child.post("/p/end", data={"decision": "yes"})
    with app.app_context():
        assert db.session.scalars(sa.select(AssentEvent.holder_tag)).one() is not None
        run_retention(dt.date.today())  # the cut-off day itself: still withdrawable
        assert db.session.scalars(sa.select(AssentEvent.holder_tag)).one() is not None
        assert run_retention(dt.date.today() + dt.timedelta(days=1))["unlinked_after_cutoff"] == 1
        assert db.session.scalars(sa.select(AssentEvent.holder_tag)).one() is None


def _database_bytes(app) -> bytes:
    path = Path(sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    return b"".join(candidate.read_bytes() for candidate in (path, Path(f"{path}-wal")) if candidate.exists())


def test_a_deleted_answer_is_gone_from_the_sqlite_files(app, runner, test_database, issue_codes) -> None:
    if test_database.backend != "sqlite":
        pytest.skip("the SQLite files are checked when the tests run on SQLite")
    consultation = _bundled_consultation(app, facilitated=False)
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child, age="12")
    _answer_open_questions_until(child, "ID2", f"An app called {CANARY} for asking")
    assert CANARY.encode() in _database_bytes(app)
    child.post("/p/stop", data={"choice": "delete"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
        db.session.remove()
    result = runner.invoke(args=["retention", "run"])  # what the daily run does after deleting
    assert result.exit_code == 0, result.output
    assert CANARY.encode() not in _database_bytes(app)


@pytest.mark.postgres
def test_retention_vacuums_the_deleted_answer_out_of_the_postgresql_table(
    app, runner, test_database, issue_codes
) -> None:
    if test_database.backend != "postgresql":
        pytest.skip("runs with DATABASE_URL=postgresql://...")
    consultation = _bundled_consultation(app, facilitated=False)
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child, age="12")
    _answer_open_questions_until(child, "ID2", f"An app called {CANARY} for asking")

    def table_file_holds_canary() -> bool:
        with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CHECKPOINT")  # the table file on disk, not shared buffers
            return bool(
                connection.execute(
                    sa.text(
                        "SELECT position(CAST(:canary AS bytea) IN pg_read_binary_file(pg_relation_filepath('answer')))"
                    ),
                    {"canary": CANARY},
                ).scalar()
            )

    assert table_file_holds_canary()
    child.post("/p/stop", data={"choice": "delete"})
    assert table_file_holds_canary(), "a deleted row stays in the table file until it is vacuumed"
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert not table_file_holds_canary()


# ----------------------------------------------------------------------------- the daily run
class _Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def _stale_child(app, consultation: int, issue_codes) -> str:
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "parent"})
    with app.app_context():
        participant = db.session.scalars(sa.select(Participant).where(Participant.state == "answering")).one()
        participant.last_active_on = dt.date.today() - dt.timedelta(days=8)
        db.session.commit()
        return participant.id


def _state(app, participant_id: str) -> str:
    with app.app_context():
        state = db.session.get(Participant, participant_id).state
        db.session.remove()
        return state


def _wait_for(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_server_runs_retention_once_a_day_by_itself(make_app, make_consultation, issue_codes) -> None:
    from survey.services import retention_schedule

    app = make_app(RETENTION_SCHEDULE=True)
    consultation = make_consultation()
    first = _stale_child(app, consultation, issue_codes)
    clock = _Clock(dt.datetime.now(dt.UTC))
    schedule = retention_schedule.start(app, clock=clock, check_every=0.05)
    try:
        assert _wait_for(lambda: schedule.runs == 1)  # at start
        assert _state(app, first) == "expired"
        second = _stale_child(app, consultation, issue_codes)
        time.sleep(0.5)  # ten looks at the clock, the same day: no second run
        assert schedule.runs == 1 and _state(app, second) == "answering"
        clock.now += dt.timedelta(days=1)
        assert _wait_for(lambda: schedule.runs == 2)
        assert _state(app, second) == "expired" and schedule.last_run_on == clock.now.date()
    finally:
        schedule.stop()


def test_a_failed_run_is_logged_and_tried_again(app, caplog) -> None:
    from survey.services.retention_schedule import DailyRetention, retention_in_app

    real = retention_in_app(app)
    calls = []

    def flaky(today: dt.date) -> dict[str, int]:
        calls.append(today)
        if len(calls) == 1:
            raise RuntimeError("database went away: secret answer text")
        return real(today)

    schedule = DailyRetention(flaky, clock=_Clock(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)), check_every=0)
    assert schedule.tick() is False and schedule.failures == 1
    records = [r for r in caplog.records if r.name == "sauti.retention"]
    assert [getattr(r, "error", None) for r in records] == ["RuntimeError"]
    assert "secret answer text" not in caplog.text + repr([vars(r) for r in records])
    assert schedule.tick() is True and schedule.runs == 1
    assert schedule.tick() is False and len(calls) == 2  # done for that date


def test_without_sauti_serve_nothing_runs_by_itself(app) -> None:
    from survey.services import retention_schedule

    assert app.config["RETENTION_SCHEDULE"] is False  # cron or `sauti serve` decide
    assert retention_schedule.start(app) is None


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="Granian's worker processes")
@pytest.mark.parametrize("command", [["serve", "--workers", "2"], ["demo"]])
def test_sauti_serve_and_demo_run_retention_in_one_process(tmp_path, command) -> None:
    database = tmp_path / "serve.sqlite"
    env = {**os.environ, "SAUTI_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("SAUTI_RETENTION_SCHEDULE", None)
    sauti = [sys.executable, "-c", "from survey.cli import main; main()"]
    subprocess.run(
        [*sauti, "demo", "--no-serve", "--codes", "2"], env=env, check=True, capture_output=True, timeout=180
    )
    stale = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    with sqlite3.connect(database) as connection:  # a child who stopped answering a month ago
        connection.execute(
            "UPDATE participant SET state = 'answering', last_active_on = ? "
            "WHERE card_number = (SELECT min(card_number) FROM participant)",
            (stale,),
        )
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen(
            [*sauti, *command, "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        assert _wait_for(lambda: '"retention run"' in log.read_text(errors="replace"), 120), log.read_text(
            errors="replace"
        )[-3000:]
        time.sleep(3)  # time enough for a second process to run it too, were there one
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log.read_text(errors="replace")
    assert output.count('"retention run"') == 1, output[-3000:]  # one process ran it, once
    assert '"incomplete_window_passed": 1' in output  # counts only
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM participant WHERE state = 'expired'").fetchone()[0] == 1

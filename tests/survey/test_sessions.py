"""Facilitated sessions: a PIN, the safe-space checklist and training to start (F-01), scripts in
the session language (F-02), a non-identifying log at the close (F-03)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from survey.extensions import db
from survey.models import FacilitationSession
from tests.conftest import SESSION_PIN, World

CHECKLIST = ["screens_private", "alternative_activity", "help_cards", "referral_contact"]


def _close(world: World, **data) -> object:
    return world.clients["facilitator"].post(
        f"/facilitate/{world.consultation}/session", data={f"close-{k}": v for k, v in data.items()}
    )


def _start(world: World, **data) -> object:
    return world.clients["facilitator"].post(
        f"/facilitate/{world.consultation}/session", data={f"start-{k}": v for k, v in data.items()}
    )


def test_codes_work_only_while_a_session_runs(app, world: World, issue_codes) -> None:
    code = issue_codes(world.consultation, 1)[0]
    assert _close(world, number_present="24", referral_category="").status_code == 303
    child = app.test_client()
    refused = child.post("/", data={"code": code})
    assert refused.status_code == 409 and "has not started yet" in refused.get_data(as_text=True)

    wrong_pin = _start(world, pin="0000", checklist=CHECKLIST, trained_on=dt.date.today().isoformat())
    assert wrong_pin.status_code == 400 and "PIN is not right" in wrong_pin.get_data(as_text=True)
    unchecked = _start(world, pin=SESSION_PIN, checklist=CHECKLIST[:3], trained_on=dt.date.today().isoformat())
    assert unchecked.status_code == 400 and "checklist" in unchecked.get_data(as_text=True)
    stale = _start(world, pin=SESSION_PIN, checklist=CHECKLIST, trained_on="2019-01-01")
    assert stale.status_code == 400 and "training" in stale.get_data(as_text=True)
    started = _start(world, pin=SESSION_PIN, checklist=CHECKLIST, trained_on=dt.date.today().isoformat())
    assert started.status_code == 303
    assert child.post("/", data={"code": code}).status_code == 302


def test_running_session_shows_scripts_and_disclosure_protocol(world: World) -> None:
    page = world.clients["facilitator"].get(f"/facilitate/{world.consultation}/session?language=fr")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "If a child tells you about harm" in html and "<details>" in html
    assert "Bonjour à tous" in html and "Test organisation" in html  # the French script, filled in
    assert world.clients["analyst"].get(f"/facilitate/{world.consultation}/session").status_code == 403


def test_closing_keeps_a_log_of_counts_only(app, world: World) -> None:
    missing_referral = _close(world, number_present="20", incident="y", referral_category="")
    assert missing_referral.status_code == 400
    assert _close(world, number_present="20", incident="y", referral_category="helpline").status_code == 303
    with app.app_context():
        record = db.session.scalars(
            sa.select(FacilitationSession).where(FacilitationSession.consultation_id == world.consultation)
        ).one()
        assert record.state == "closed" and record.incident and record.referral_category == "helpline"
        summary = json.loads(record.summary)
        # The world's child entered a code today; nothing in the log names or links to them.
        assert set(summary) == {"bands", "completed", "declined", "stopped_early", "signals"}
        assert set(FacilitationSession.__table__.columns.keys()) == {
            "id",
            "consultation_id",
            "facilitator_id",
            "started_on",
            "training_attested_on",
            "checklist",
            "state",
            "closed_on",
            "number_present",
            "incident",
            "referral_category",
            "summary",
        }

"""Exports (issue 15 item 8): the codebook is never refused; record-level data of sensitive
items needs an administrator's approval (who, why, when) in the database and the audit log
(DP-07), and still passes the microdata risk check."""

from __future__ import annotations

import datetime as dt
import io
import pickle

import pandas as pd
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, ExportApproval
from tests.conftest import World
from tests.survey import test_reports
from tests.survey.test_reports import approve_exports

# The consultations answered in test_reports (18 children across bands; 36 of one band).
answered = test_reports.answered
answered_many = test_reports.answered_many


def _downloads(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.target).where(AuditEvent.action == "report.download")))


def test_the_codebook_is_never_refused(app, world: World, issue_codes) -> None:
    """No child has answered yet: the codebook (the instrument's variables, no data) downloads."""
    analyst = world.clients["analyst"]
    response = analyst.get(f"/reports/{world.consultation}/codebook.csv")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str)
    assert {"variable", "label", "type", "values"} <= set(frame.columns)
    variables = set(frame["variable"])
    assert {"band", "who", "ways/phone", "order/chat"} <= variables
    assert "ideas" not in variables  # free text never leaves
    assert _downloads(app) == [f"consultation:{world.consultation} codebook.csv"]


def test_the_codebook_of_a_few_children_is_not_refused(app, answered) -> None:
    response = answered.clients["analyst"].get(f"/reports/{answered.consultation}/codebook.csv")
    assert response.status_code == 200
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str)
    # Only the instrument's words: no count, no answer.
    assert not frame.apply(lambda c: c.str.fullmatch(r"\d+").fillna(False)).to_numpy().any()


def test_sensitive_record_level_export_needs_an_approval(app, answered_many) -> None:
    world = answered_many
    analyst, admin = world.clients["analyst"], world.clients["admin"]
    base = f"/reports/{world.consultation}"
    refused = analyst.get(f"{base}/export.csv")
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "sensitive questions" in text and "attachment" not in refused.headers.get("Content-Disposition", "")
    assert _downloads(app) == []
    # The analyst cannot approve their own export; an administrator can, with a reason.
    assert analyst.get(f"{base}/export-approval").status_code == 403
    assert analyst.post(f"{base}/export-approval", data={"reason": "x" * 40}).status_code == 403
    short = admin.post(f"{base}/export-approval", data={"reason": "ok"})
    assert short.status_code == 400 and "at least" in short.get_data(as_text=True)
    approve_exports(world)
    page = admin.get(f"{base}/export-approval").get_data(as_text=True)
    assert "approved by ada until" in page and "university partner" in page
    with app.app_context():
        approval = db.session.scalars(sa.select(ExportApproval)).one()
        assert approval.approved_by == "ada" and "ministry briefing" in approval.reason
        assert approval.valid_until >= dt.date.today()
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.approve")))
        assert [e.actor_name for e in events] == ["ada"]
        assert f"approval:{approval.id}" in events[0].target
    allowed = analyst.get(f"{base}/export.csv")
    assert allowed.status_code == 200  # and still through the risk check (36 children of one band)
    assert _downloads(app) == [f"consultation:{world.consultation} export.csv approval:{approval.id}"]


def test_an_expired_approval_no_longer_allows_the_export(app, answered_many) -> None:
    from survey.services import export_approvals

    approve_exports(answered_many)
    with app.app_context():
        approval = db.session.scalars(sa.select(ExportApproval)).one()
        later = approval.valid_until + dt.timedelta(days=1)
        assert export_approvals.current(answered_many.consultation, approval.valid_until) is not None
        assert export_approvals.current(answered_many.consultation, later) is None
        approval.valid_until = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
    assert answered_many.clients["analyst"].get(f"/reports/{answered_many.consultation}/export.csv").status_code == 403


def test_the_refusal_crosses_the_helper_process_as_itself(app, answered_many) -> None:
    from survey.services import offload
    from survey.services.export_approvals import ApprovalRequired

    error = pickle.loads(pickle.dumps(ApprovalRequired(7, ("feel", "order"))))
    assert isinstance(error, ApprovalRequired) and error.items == ("feel", "order")
    app.config["OFFLOAD_HEAVY_WORK"] = True
    try:
        response = answered_many.clients["analyst"].get(f"/reports/{answered_many.consultation}/export.csv")
        assert response.status_code == 403 and "sensitive questions" in response.get_data(as_text=True)
    finally:
        offload.shutdown(app)

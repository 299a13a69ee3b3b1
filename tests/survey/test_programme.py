"""Programme records: checklists, influence log, feedback tracker, the overview, and who may reach them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, ChecklistAnswer, Consultation, InfluenceEntry
from tests.conftest import World, sign_in
from tests.survey.test_reports import answered  # noqa: F401 - fixture

LUNDY_KEYS = ("space_sought", "space_safe", "voice_voluntary")


def _audit(app, prefix: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.actor_name, AuditEvent.action, AuditEvent.target)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]


# ----------------------------------------------------------------------------- access
def test_who_may_reach_a_consultations_programme_records(app, world: World, make_user) -> None:
    ours = f"/programme/{world.consultation}/"
    assert world.clients["analyst"].get(ours).status_code == 200
    assert world.clients["admin"].get(ours).status_code == 200  # administrators: every consultation
    assert world.clients["facilitator"].get(ours).status_code == 403  # facilitators never see results
    child = world.clients["child"].get(ours)
    assert child.status_code == 302 and "/staff/sign-in" in child.location
    # An analyst of another consultation is refused ours, for reading and for writing.
    make_user("bea", "analyst")
    with app.app_context():
        from survey.models import User
        from survey.services import consultations

        consultations.add_member(
            db.session.get(Consultation, world.other_consultation),
            db.session.scalar(sa.select(User).where(User.username == "bea")),
            "analyst",
        )
    bea = app.test_client()
    sign_in(bea, "bea")
    assert bea.get(ours).status_code == 403
    assert bea.get(f"/programme/{world.consultation}/feedback/").status_code == 403
    posted = bea.post(f"/programme/{world.consultation}/influence", data={"recommendation": "x", "decision": "pending"})
    assert posted.status_code == 403
    assert bea.get(f"/programme/{world.other_consultation}/").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InfluenceEntry)) == 0


def test_the_overview_lists_only_the_analysts_consultations(app, world: World) -> None:
    analyst = world.clients["analyst"].get("/programme/")
    html = analyst.get_data(as_text=True)
    assert analyst.status_code == 200
    assert "Ours" in html and "Theirs" not in html
    assert f"/reports/{world.consultation}/" in html  # links to the results the analyst may see
    admin = world.clients["admin"].get("/programme/").get_data(as_text=True)
    assert "Ours" in admin and "Theirs" in admin
    assert "/reports/" not in admin  # an administrator is no analyst: no link to refused results
    assert world.clients["facilitator"].get("/programme/").status_code == 403
    assert world.clients["child"].get("/programme/").status_code == 302


# ----------------------------------------------------------------------------- checklists
def test_lundy_checklist_needs_evidence_and_is_audited(app, world: World) -> None:
    analyst = world.clients["analyst"]
    url = f"/programme/{world.consultation}/checklist/lundy"
    refused = analyst.post(
        url,
        data={
            "status-space_sought": "yes",
            "evidence-space_sought": "",
            "status-space_safe": "maybe",
            "evidence-space_safe": "x",
        },
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Say what shows this" in html and "Choose yes, partly or no." in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistAnswer)) == 0
    saved = analyst.post(
        url,
        data={
            "status-space_sought": "yes",
            "evidence-space_sought": "Class votes on the questions",
            "status-space_safe": "partly",
            "evidence-space_safe": "Screens private in 2 of 3 rooms",
            "status-voice_voluntary": "no",
            "evidence-voice_voluntary": "Teacher present at one site",
        },
    )
    assert saved.status_code == 302
    page = analyst.get(f"/programme/{world.consultation}/").get_data(as_text=True)
    assert "Screens private in 2 of 3 rooms" in page and "Last changed on" in page
    with app.app_context():
        rows = {r.question: (r.status, r.updated_by) for r in db.session.scalars(sa.select(ChecklistAnswer))}
    assert rows == {"space_sought": ("yes", "ana"), "space_safe": ("partly", "ana"), "voice_voluntary": ("no", "ana")}
    # Clearing an answer removes it; saving the same again changes nothing and records nothing.
    analyst.post(
        url,
        data={
            "status-space_sought": "yes",
            "evidence-space_sought": "Class votes on the questions",
            "status-space_safe": "partly",
            "evidence-space_safe": "Screens private in 2 of 3 rooms",
        },
    )
    analyst.post(
        url,
        data={
            "status-space_sought": "yes",
            "evidence-space_sought": "Class votes on the questions",
            "status-space_safe": "partly",
            "evidence-space_safe": "Screens private in 2 of 3 rooms",
        },
    )
    events = _audit(app, "programme.lundy")
    assert [e[0] for e in events] == ["ana", "ana"]
    assert events[0][2] == f"consultation:{world.consultation} space_sought space_safe voice_voluntary"
    assert events[1][2] == f"consultation:{world.consultation} voice_voluntary"


def test_gc12_self_assessment_and_unknown_checklists(app, world: World) -> None:
    analyst = world.clients["analyst"]
    url = f"/programme/{world.consultation}/checklist/gc12"
    assert analyst.post(url, data={"status-i": "partly", "evidence-i": "Feedback sheet planned"}).status_code == 302
    assert analyst.post(f"/programme/{world.consultation}/checklist/other", data={}).status_code == 404
    with app.app_context():
        (row,) = db.session.scalars(sa.select(ChecklistAnswer))
    assert (row.checklist, row.question, row.status) == ("gc12", "i", "partly")


# ----------------------------------------------------------------------------- influence log
def test_influence_log_decisions_need_reasons(app, world: World) -> None:
    analyst = world.clients["analyst"]
    base = f"/programme/{world.consultation}/influence"
    refused = analyst.post(
        base, data={"recommendation": "A helpline poster in every classroom", "decision": "rejected", "reason": ""}
    )
    assert refused.status_code == 400
    assert "needs the reason" in refused.get_data(as_text=True)
    assert analyst.post(base, data={"recommendation": "", "decision": "pending"}).status_code == 400
    assert analyst.post(base, data={"recommendation": "x", "decision": "maybe"}).status_code == 400
    ok = analyst.post(
        base,
        data={
            "recommendation": "A helpline poster in every classroom",
            "decision": "accepted",
            "owner": "Head teachers",
        },
    )
    assert ok.status_code == 302
    pending = analyst.post(base, data={"recommendation": "Chat-based reporting", "decision": "pending"})
    assert pending.status_code == 302
    with app.app_context():
        first, second = db.session.scalars(sa.select(InfluenceEntry).order_by(InfluenceEntry.id))
        assert first.decided_on == dt.date.today() and second.decided_on is None
    edit = f"{base}/{second.id}"
    assert analyst.get(edit).status_code == 200
    assert (
        analyst.post(
            edit, data={"recommendation": "Chat-based reporting", "decision": "partly", "reason": ""}
        ).status_code
        == 400
    )
    assert (
        analyst.post(
            edit,
            data={
                "recommendation": "Chat-based reporting",
                "decision": "partly",
                "reason": "Only during school hours this year",
                "decided_on": "2026-11-01",
            },
        ).status_code
        == 302
    )
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert (
        analyst.post(
            edit, data={"recommendation": "Chat-based reporting", "decision": "accepted", "decided_on": future}
        ).status_code
        == 400
    )
    # An entry of another consultation is not reachable through ours.
    assert analyst.get(f"/programme/{world.consultation}/influence/999").status_code == 404
    overview = analyst.get("/programme/").get_data(as_text=True)
    assert "Accepted: 1" in overview and "Partly accepted: 1" in overview and "Pending: 0" in overview
    assert analyst.post(f"{edit}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InfluenceEntry)) == 1
    actions = [e[1] for e in _audit(app, "programme.influence")]
    assert actions == [
        "programme.influence.add",
        "programme.influence.add",
        "programme.influence.update",
        "programme.influence.delete",
    ]


# ----------------------------------------------------------------------------- feedback tracker
def test_overdue_feedback_is_flagged_until_a_date_is_recorded(app, world: World) -> None:
    with app.app_context():
        record = db.session.get(Consultation, world.consultation)
        record.feedback_due = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
    analyst = world.clients["analyst"]
    assert "Overdue" in analyst.get("/programme/").get_data(as_text=True)
    assert "Overdue" in analyst.get(f"/programme/{world.consultation}/").get_data(as_text=True)
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    refused = analyst.post(f"/programme/{world.consultation}/tracker", data={"given_on": future})
    assert refused.status_code == 400 and "cannot be in the future" in refused.get_data(as_text=True)
    assert analyst.post(f"/programme/{world.consultation}/tracker", data={"given_on": "not a date"}).status_code == 400
    today = dt.date.today().isoformat()
    saved = analyst.post(
        f"/programme/{world.consultation}/tracker", data={"given_on": today, "formats": "feedback sheet, class visit"}
    )
    assert saved.status_code == 302
    overview = analyst.get("/programme/").get_data(as_text=True)
    assert "Overdue" not in overview and f"given {today}" in overview
    assert _audit(app, "programme.feedback_tracker")[0][2] == f"consultation:{world.consultation} given:{today}"


def test_overview_funnel_passes_the_disclosure_gate(app, world: World, issue_codes) -> None:
    from tests.survey.test_reports import decline_child

    decline_child(app, issue_codes(world.consultation, 12)[0], "10.7.0.1")  # 13 cards with the world's child
    html = world.clients["analyst"].get("/programme/").get_data(as_text=True)
    # The one child who said no is a small count, and a decision at 0 is hidden like one
    # (services.progress.funnel_hidden); so is "assented" while "withdrawn" is hidden.
    assert "13 · s · s · s · s" in html
    assert "s: hidden, a small number." in html


# ----------------------------------------------------------------------------- the report
def test_programme_records_reach_the_report(app, answered: World) -> None:  # noqa: F811
    analyst = answered.clients["analyst"]
    cid = answered.consultation
    analyst.post(
        f"/programme/{cid}/checklist/lundy",
        data={"status-influence_feedback": "partly", "evidence-influence_feedback": "Sheets for bands B and C"},
    )
    analyst.post(f"/programme/{cid}/checklist/gc12", data={"status-h": "yes", "evidence-h": "Helplines checked"})
    analyst.post(
        f"/programme/{cid}/influence",
        data={
            "recommendation": "Posters with the helpline number",
            "decision": "rejected",
            "reason": "No budget before June",
            "owner": "Programme lead",
        },
    )
    analyst.post(
        f"/programme/{cid}/tracker", data={"given_on": dt.date.today().isoformat(), "formats": "feedback sheet"}
    )
    from tests.survey.test_reports import release

    assert release(analyst, cid).status_code == 303
    report = analyst.get(f"/reports/{cid}/report.html")
    assert report.status_code == 200
    html = report.get_data(as_text=True)
    for text in (
        "Sheets for bands B and C",
        "Influence: Have children received feedback",
        "Helplines checked",
        "(h) Safe and sensitive to risk",
        "Posters with the helpline number",
        "No budget before June",
        "rejected: 1",
        "feedback sheet",
    ):
        assert text in html, text
    page = analyst.get(f"/reports/{cid}/?part=programme").get_data(as_text=True)
    assert "Posters with the helpline number" in page


def test_archiving_waits_for_both_checklists_but_closing_never_does(app, world: World) -> None:
    from survey.services.programme import CHECKLISTS

    facilitator, analyst = world.clients["facilitator"], world.clients["analyst"]
    state_url = f"/facilitate/{world.consultation}/state"
    # Closing is never held up: it is how a consultation stops taking children.
    assert facilitator.post(state_url, data={"to": "closed"}).status_code == 303
    refused = facilitator.post(state_url, data={"to": "archived"}, follow_redirects=True)
    assert "Before archiving, complete the Lundy process checklist" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consultation, world.consultation).state == "closed"
    for checklist, questions in CHECKLISTS.items():
        answers = {}
        for key in questions:
            answers[f"status-{key}"], answers[f"evidence-{key}"] = "partly", "Noted at the review meeting"
        assert analyst.post(f"/programme/{world.consultation}/checklist/{checklist}", data=answers).status_code == 302
    done = facilitator.post(state_url, data={"to": "archived"}, follow_redirects=True)
    assert "The consultation is archived." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consultation, world.consultation).state == "archived"
    assert [e[1] for e in _audit(app, "consultation.")][-2:] == ["consultation.closed", "consultation.archived"]

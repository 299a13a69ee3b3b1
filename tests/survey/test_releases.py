"""Releases in the web app (issue 15): frozen results from a ledger, one owner of the rules,
the bundled consultation at class size, and closing that releases by itself."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, Release, ReleaseTable
from tests.conftest import World
from tests.release_seed import bundled_consultation, seed_completed
from tests.survey.test_reports import release


def _parts(client, cid: int) -> dict[str, str]:
    """Every part of the results page, by its slug."""
    first = client.get(f"/reports/{cid}/").get_data(as_text=True)
    slugs = dict.fromkeys(re.findall(r"\?part=([a-z_]+)", first))
    return {slug: client.get(f"/reports/{cid}/?part={slug}").get_data(as_text=True) for slug in slugs}


def _results(html: str) -> str:
    """The released results of a page (the live funnel left out)."""
    return html[html.index('id="release"') :]


@pytest.fixture
def class_of(app, world: World):
    """A consultation on the bundled instrument, with the world's analyst as a member."""
    from survey.models import User
    from survey.services import consultations

    def make(n: int, *, seed: int = 3, bands=("B",)) -> int:
        with app.app_context():
            cid = bundled_consultation()
            consultations.add_member(
                db.session.get(Consultation, cid), db.session.get(User, world.user_ids["analyst"]), "analyst"
            )
            seed_completed(cid, n, seed=seed, bands=bands)
        return cid

    return make


def test_one_more_child_changes_nothing_until_a_release_and_a_release_waits_for_k(app, world: World, class_of) -> None:
    """The review's case: between 10 and 11 children, cells went from 0 to "s" and pinned the 11th."""
    analyst = world.clients["analyst"]
    cid = class_of(20)
    assert release(analyst, cid).status_code == 303
    before = {slug: _results(html) for slug, html in _parts(analyst, cid).items()}
    with app.app_context():
        seed_completed(cid, 1, start=20)
    after = {slug: _results(html) for slug, html in _parts(analyst, cid).items()}
    assert after == before  # the 21st child shows nowhere
    refused = analyst.post(f"/reports/{cid}/release", follow_redirects=True).get_data(as_text=True)
    assert "No new release was made: at least 10 more children must finish" in refused
    with app.app_context():
        assert [r.number for r in db.session.scalars(sa.select(Release).where(Release.consultation_id == cid))] == [1]
        seed_completed(cid, 9, start=21)
    made = analyst.post(f"/reports/{cid}/release", follow_redirects=True).get_data(as_text=True)
    assert "Release 2 is ready" in made and "from the answers of 30 children" in made
    with app.app_context():
        from analysis.release import intruder_audit
        from survey.services import releases

        contents = [releases.content_of(r) for r in releases.ledger(cid)]
        assert intruder_audit(contents) == []  # nothing pinned across both releases


def test_a_class_of_30_gets_question_text_headlines_and_no_rate_beside_a_hidden_count(
    app, world: World, class_of
) -> None:
    analyst = world.clients["analyst"]
    cid = class_of(30)
    assert release(analyst, cid).status_code == 303
    pages = _parts(analyst, cid)
    summary = pages["summary"]
    rows = re.findall(r'<tr><th scope="row"><a [^>]*>(.*?)</a></th>\s*<td>(.*?)</td></tr>', summary, re.S)
    assert len(rows) >= 30
    with_figure = [h for _, h in rows if " in 10 children " in h or h.startswith("Almost all")]
    assert len(with_figure) / len(rows) >= 0.7, f"{len(with_figure)} of {len(rows)}"
    assert "Did you feel safe answering these questions?" in summary
    for slug, html in pages.items():
        results = _results(html)
        for code in (">EV1<", "TR4[A]", "another_way", ">CH2_helpline<"):
            assert code not in results, (slug, code)
        # no percentage or bar beside a hidden count; every shown count 0 or >= 10
        for count, pct in re.findall(r'<th scope="row">[^<]*</th><td>([^<]*)</td><td>([^<]*)</td>', results):
            if count == "s":
                assert pct == "", (slug, count, pct)
            elif re.fullmatch(r"[0-9,]+", count) and slug not in ("programme",):
                assert int(count.replace(",", "")) == 0 or int(count.replace(",", "")) >= 10, (slug, count)
    # one part at a time, not one huge page
    assert max(len(html) for html in pages.values()) < 120_000


def test_the_ledger_holds_every_published_table_as_published(app, world: World, class_of) -> None:
    analyst = world.clients["analyst"]
    cid = class_of(30)
    assert release(analyst, cid).status_code == 303
    with app.app_context():
        rel = db.session.scalar(sa.select(Release).where(Release.consultation_id == cid))
        assert rel.made_by == "ana" and rel.audience == "programme team" and rel.reason == "analyst"
        assert rel.n_children == 30
        content = json.loads(rel.content)
        stored = db.session.scalars(sa.select(ReleaseTable).where(ReleaseTable.release_id == rel.id))
        tables = {t.key: t for t in stored}
        assert "item:EV1" in tables and "participation:all" in tables
        ev1 = next(i for i in content["items"] if i["item"] == "EV1")
        assert json.loads(tables["item:EV1"].cells) == ev1["cells"]
        assert json.loads(rel.rules)["k"] == 10
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "release.make")
            )
            == 1
        )


def test_closing_a_consultation_makes_a_release(app, world: World, class_of) -> None:
    from survey.services import consultations, releases

    cid = class_of(30)
    with app.app_context():
        consultation = db.session.get(Consultation, cid)
        consultation.state = "open"
        db.session.commit()
        consultations.set_state(db.session.get(Consultation, cid), "closed")
        ledger = releases.ledger(cid)
        assert [(r.number, r.reason, r.n_children) for r in ledger] == [(1, "closed", 30)]


def test_live_monitoring_shows_only_the_funnel(app, world: World, class_of) -> None:
    analyst = world.clients["analyst"]
    cid = class_of(30)
    html = analyst.get(f"/reports/{cid}/").get_data(as_text=True)
    assert "Children at each stage" in html and "No results have been released yet" in html
    assert "?part=" not in html and "report.pdf" not in html
    assert analyst.get(f"/reports/{cid}/report.html").status_code == 409


def test_a_threshold_below_the_minimum_stops_the_app_with_a_message(make_app) -> None:
    """SAUTI_DISCLOSURE_K=3 used to become 5 without a word."""
    from analysis.release_rules import ReleaseRulesError

    with pytest.raises(ReleaseRulesError, match="DISCLOSURE_K is 3, below the minimum of 5"):
        make_app(DISCLOSURE_K=3)
    app = make_app(DISCLOSURE_K=12)
    with app.app_context():
        from survey.services import releases, reporting

        assert releases.rules().k == 12 == reporting.policy().k


def test_a_class_of_25_gets_a_feedback_sheet(app, world: World, class_of) -> None:
    analyst = world.clients["analyst"]
    cid = class_of(25)
    assert release(analyst, cid).status_code == 303
    with app.app_context():
        from survey.services.programme import told_us

        findings = told_us(db.session.get(Consultation, cid), "B", "en")
    assert len(findings) == 5
    assert all(re.match(r"(About \d out of 10|Almost everyone) of you answered “", f) for f in findings), findings


def test_closing_with_too_few_children_logs_no_small_count(app, world: World, class_of) -> None:
    """F11 (review, December 2026): closing logged "Only 1 children have finished" on the
    facilitator's own terminal, a count every page shows only as "s"."""
    import logging

    from survey.services import consultations, releases

    logged: list[str] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record.getMessage())

    kept = Kept()
    logging.getLogger("sauti.releases").addHandler(kept)
    try:
        cid = class_of(1)
        with app.app_context():
            consultation = db.session.get(Consultation, cid)
            consultation.state = "open"
            db.session.commit()
            consultations.set_state(db.session.get(Consultation, cid), "closed")
            assert releases.ledger(cid) == []
            k = releases.rules().k
    finally:
        logging.getLogger("sauti.releases").removeHandler(kept)
    refused = f"Fewer than {k} children have finished; at least {k} are needed for a release."
    assert logged == [f"no release on close: {refused}"]

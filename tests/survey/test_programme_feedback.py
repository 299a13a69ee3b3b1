"""The child-friendly feedback sheet in the console: findings through the gate, sign-off before release."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, FeedbackSheetRecord
from tests.conftest import World
from tests.survey.test_reports import answered, answered_many, release  # noqa: F401 - fixtures


@pytest.fixture
def released_many(answered_many: World) -> World:  # noqa: F811
    """36 children, and the results released (findings come from the latest release)."""
    assert release(answered_many.clients["analyst"], answered_many.consultation).status_code == 303
    return answered_many


SIMPLE = {
    "will_change": "Every class gets a help card.\nWe will tell the head.",
    "cant_change": "A new phone line | It costs too much this year.",
    "next_update": "We will come back in June.",
}

HARD = (
    "Comprehensive institutional reconfiguration necessitates multidimensional organisational "
    "consultation regarding confidentiality considerations."
)


def _sheet(client, cid: int, band: str = "B", language: str = "en"):
    return client.get(f"/programme/{cid}/feedback/{band}/{language}")


def test_findings_come_only_from_shares_the_gate_released(app, answered: World) -> None:  # noqa: F811
    analyst = answered.clients["analyst"]
    cid = answered.consultation
    # No release yet: no findings.  Then a release of 18 children: percentages of fewer than
    # 25 children asked are not published, so still none.
    assert "of you answered" not in _sheet(analyst, cid, "B").get_data(as_text=True)
    assert release(analyst, cid).status_code == 303
    band_b = _sheet(analyst, cid, "B").get_data(as_text=True)
    assert "of you answered" not in band_b
    assert "at least 25 children were asked the question" in band_b
    # Without findings the sheet is incomplete: it cannot be downloaded, let alone released.
    assert analyst.post(f"/programme/{cid}/feedback/B/en", data=SIMPLE).status_code == 302
    assert "what you told us" in _sheet(analyst, cid, "B").get_data(as_text=True)
    assert analyst.get(f"/programme/{cid}/feedback/B/en/sheet.html").status_code == 409
    # A band or language the consultation does not offer does not exist.
    assert _sheet(analyst, cid, "B", "sw").status_code == 404
    assert _sheet(analyst, cid, "Z").status_code == 404


def test_band_findings_in_words(app, released_many: World) -> None:
    page = _sheet(released_many.clients["analyst"], released_many.consultation, "B").get_data(as_text=True)
    findings = re.findall(r"<li>([^<]*of you answered[^<]*)</li>", page)  # 36 children in band B
    assert 1 <= len(findings) <= 5
    assert all(
        re.match(r"(About \d+ out of 10|Almost everyone|Hardly anyone) of you answered “", f) for f in findings
    ), findings
    assert not re.search(r"\b36\b", " ".join(findings))  # shares in words, never counts
    # A French sheet is a French document, whatever the analyst's own language.
    analyst, cid = released_many.clients["analyst"], released_many.consultation
    assert (
        analyst.post(
            f"/programme/{cid}/feedback/B/fr",
            data={
                "will_change": "Chaque classe aura une carte d'aide.",
                "cant_change": "Une ligne | Trop cher.",
                "next_update": "En juin.",
            },
        ).status_code
        == 302
    )
    french = analyst.get(f"/programme/{cid}/feedback/B/fr/sheet.html").get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french and "Ce que vous nous avez dit" in french
    assert "Qui (fr)?" in french and "a friend (fr)" in french  # the instrument's French wording
    assert re.search(r"(Environ \d+ sur 10|Presque tout le monde) ", french)  # and French share words


def test_sheet_is_released_only_after_a_complete_sign_off(app, released_many: World) -> None:
    analyst = released_many.clients["analyst"]
    cid = released_many.consultation
    url = f"/programme/{cid}/feedback/B/en"
    bad = analyst.post(url, data={**SIMPLE, "cant_change": "A new phone line"})
    assert bad.status_code == 400 and "what | why" in bad.get_data(as_text=True)
    assert analyst.post(url, data=SIMPLE).status_code == 302
    page = _sheet(analyst, cid).get_data(as_text=True)
    assert "Every class gets a help card." in page and "It costs too much this year." in page
    assert "0800 1111" in page  # the country profile's helpline (example-uk)
    draft = analyst.get(f"{url}/sheet.html")
    assert draft.status_code == 200 and "DRAFT" in draft.get_data(as_text=True)
    assert "attachment" in draft.headers["Content-Disposition"]
    pdf = analyst.get(f"{url}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert analyst.get(f"{url}/sheet.docx").status_code == 404

    # No trauma screen: refused, and the sheet stays a draft.
    refused = analyst.post(f"{url}/release", data={"reviewer": "Dana", "role": "safeguarding lead"})
    assert refused.status_code == 409 and "trauma screen" in refused.get_data(as_text=True)
    assert analyst.post(f"{url}/release", data={"reviewer": "", "trauma_screen_done": "y"}).status_code == 400
    with app.app_context():
        record = db.session.scalar(sa.select(FeedbackSheetRecord))
        assert record.state == "draft" and record.reviewer == ""
    assert _warnings(app, cid) == ()  # short words and sentences: within band B's reading level
    # Hard words read above band B's level: release then needs a recorded reason.
    assert analyst.post(url, data={**SIMPLE, "will_change": HARD}).status_code == 302
    assert any(w.startswith("reading grade") for w in _warnings(app, cid))
    assert "reading grade" in _sheet(analyst, cid).get_data(as_text=True)
    signoff = {"reviewer": "Dana", "role": "safeguarding lead", "trauma_screen_done": "y"}
    refused = analyst.post(f"{url}/release", data=signoff)
    assert refused.status_code == 409 and "reads above" in refused.get_data(as_text=True)
    signoff["readability_override"] = "Read aloud and explained by the facilitator"
    released = analyst.post(f"{url}/release", data=signoff)
    assert released.status_code == 302
    with app.app_context():
        record = db.session.scalar(sa.select(FeedbackSheetRecord))
        assert (record.state, record.reviewer, record.trauma_screen_done) == ("released", "Dana", True)
    final = analyst.get(f"{url}/sheet.html").get_data(as_text=True)
    assert "DRAFT" not in final and "reconfiguration" in final
    assert "released (signed off by Dana" in analyst.get(f"/programme/{cid}/feedback/").get_data(as_text=True)
    assert "1 / 1" in analyst.get("/programme/").get_data(as_text=True)

    # Changing the words after release needs a new sign-off.
    assert analyst.post(url, data={**SIMPLE, "next_update": "We will come back in July."}).status_code == 302
    with app.app_context():
        record = db.session.scalar(sa.select(FeedbackSheetRecord))
        assert (record.state, record.reviewer, record.trauma_screen_done) == ("draft", "", False)
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.action.startswith("feedback.")).order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "feedback.edit",
        "feedback.download",
        "feedback.download",
        "feedback.edit",
        "feedback.release",
        "feedback.download",
        "feedback.edit",
    ]


def _warnings(app, cid: int) -> tuple[str, ...]:
    from survey.models import Consultation
    from survey.services import programme

    with app.test_request_context():
        consultation = db.session.get(Consultation, cid)
        record = programme.sheet_record(cid, "B", "en")
        return programme.build_sheet(consultation, record).warnings


def test_an_unfinished_sheet_cannot_be_downloaded_or_released(app, released_many: World) -> None:
    analyst = released_many.clients["analyst"]
    url = f"/programme/{released_many.consultation}/feedback/B/en"
    assert analyst.post(url, data={**SIMPLE, "will_change": ""}).status_code == 302
    page = _sheet(analyst, released_many.consultation, "B").get_data(as_text=True)
    assert "The sheet is not complete yet" in page and "what will change" in page
    assert analyst.get(f"{url}/sheet.html").status_code == 409
    refused = analyst.post(f"{url}/release", data={"reviewer": "Dana", "trauma_screen_done": "y"})
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(FeedbackSheetRecord.state)) == "draft"


def test_facilitators_and_other_analysts_cannot_reach_sheets(app, world: World) -> None:
    url = f"/programme/{world.consultation}/feedback/B/en"
    assert world.clients["facilitator"].get(url).status_code == 403
    assert world.clients["facilitator"].post(url, data=SIMPLE).status_code == 403
    assert world.clients["other_facilitator"].get(f"{url}/sheet.pdf").status_code == 403
    assert world.clients["child"].post(f"{url}/release", data={}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackSheetRecord)) == 0

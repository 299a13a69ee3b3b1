"""Questions asked in repeat instances on the results page and in the report (issue 19): counted
per child, under the same release rules as every other item (small cells hidden)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer
from tests.factories import new_consultation

from .test_repeats import (
    FORMS,
    consultation,  # noqa: F401 - the friends-and-places consultation
)


def _completed(app, consultation_id, issue_codes, children: int) -> None:
    """``children`` completed responses: every child talks with a first friend online, every
    third child with a second friend offline; two children talk with a friend every day."""
    from survey.models import Participant

    cards = issue_codes.cards(consultation_id, children)
    with app.app_context():
        for number, card in enumerate(cards):
            participant = db.session.scalar(
                sa.select(Participant).where(
                    Participant.card_number == card.number, Participant.consultation_id == consultation_id
                )
            )
            participant.state, participant.band = "completed", "B"
            friends = 2 if number % 3 == 0 else 1
            rows = [("n", 0, 0, "0"), ("friends", 0, 0, str(friends)), ("liked", 0, 0, "yes")]
            rows += [("online", 0, 1, "yes"), ("often", 0, 1, "daily" if number < 2 else "weekly")]
            rows += [("online", 0, 2, "no")] if friends == 2 else []
            db.session.add_all(
                Answer(participant_id=participant.id, item=item, parent_instance=parent, instance=instance, value=value)
                for item, parent, instance, value in rows
            )
        db.session.commit()


def test_repeat_questions_are_counted_per_child_in_the_release_and_the_report(app, consultation, issue_codes):  # noqa: F811
    from survey.models import Consultation
    from survey.services import releases, reporting

    _completed(app, consultation, issue_codes, 40)
    with app.app_context():
        record = db.session.get(Consultation, consultation)
        long, cb = reporting.long_frame(record)
        assert cb["online"].type == "multi" and "any of their answers" in cb["online"].label
        online = long[long["item"] == "online"]
        # one row per child and answer, however many friends gave it
        assert online.groupby("answer", observed=True)["response_id"].nunique().to_dict() == {"yes": 40, "no": 14}
        release = releases.make_release(record, None)
        content = releases.content_of(release)
        items = {it["item"]: it for it in content["items"]}
        assert {"online", "often"} <= set(items)
        headlines = reporting.results_overview(consultation, "summary").headlines
        html = reporting.render_download(record, "report", "html").decode()
        export = reporting.render_download(record, "export", "csv").decode()
    daily = next(cell for cell in items["often"]["cells"] if cell["codes"] == ["daily"])
    assert daily["count"] is None and items["often"]["hidden_cells"] >= 2  # 2 children: hidden
    assert items["often"]["total"] == 40
    assert {"online", "often"} <= {headline[1] for headline in headlines}  # the results page
    assert "Do you talk with this friend online?" in html
    assert "online" not in export.splitlines()[0]  # the export keeps its table per repeat


def test_a_select_made_of_a_childs_answers_stays_out_of_the_results_and_the_release_works(app, issue_codes):
    """``select_one ${nick}``: its codes are instance numbers and its words the child's own, so
    the results, the report and the per-child export leave it out; the rest is released."""

    from instruments import import_xlsform
    from survey.models import Consultation, Participant
    from survey.services import instrument_store, releases, reporting

    instrument = import_xlsform(FORMS / "best_friend.md").instrument
    with app.app_context():
        instrument_store.store(instrument, approved=True)
        consultation_id = new_consultation("Best friend", instrument.id, instrument.version, instrument.content_hash)
    cards = issue_codes.cards(consultation_id, 40)
    with app.app_context():
        for number, card in enumerate(cards):
            participant = db.session.scalar(
                sa.select(Participant).where(
                    Participant.card_number == card.number, Participant.consultation_id == consultation_id
                )
            )
            participant.state, participant.band = "completed", "B"
            rows = [("friends", 0, 0, "2"), ("liked", 0, 0, "yes"), ("best", 0, 0, str(number % 2 + 1))]
            rows += [("nick", 0, 1, f"Friend {number}"), ("online", 0, 1, "yes")]
            rows += [("nick", 0, 2, f"Other {number}"), ("online", 0, 2, "no")]
            db.session.add_all(
                Answer(participant_id=participant.id, item=item, parent_instance=parent, instance=instance, value=value)
                for item, parent, instance, value in rows
            )
        db.session.commit()
        record = db.session.get(Consultation, consultation_id)
        long, cb = reporting.long_frame(record)
        release = releases.make_release(record, None)
        items = {it["item"] for it in releases.content_of(release)["items"]}
        export = reporting.render_download(record, "export", "csv").decode()
    assert "best" not in cb and "best" not in items and "nick" not in items
    assert {"online", "liked"} <= items
    assert "best" not in export.splitlines()[0] and "Friend" not in export

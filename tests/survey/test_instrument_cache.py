"""The per-process caches of a child's request: keyed by what decides their content.

A page request reads no instrument document and parses nothing once a version has been seen
(issue 5, item 8); these tests show that a new version, another band or another database is
never served from an old entry.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from instruments.model import Text
from survey.extensions import db
from survey.models import Consultation
from survey.services import consultations, instrument_store
from tests.factories import make_test_instrument


def _queries(app):  # a Flask app; a list that fills as SQL runs
    seen: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def _consultation_on(instrument) -> Consultation:  # an Instrument
    instrument_store.store(instrument, approved=True)
    consultation = consultations.create_consultation(
        title=f"On version {instrument.version}",
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_hash=instrument.content_hash,
        languages=["en"],
        age_bands=["A", "B", "C"],
        facilitated=False,
        country_profile="example-uk",
        details={},
    )
    return db.session.get(Consultation, consultation.id)


def test_an_instrument_version_is_read_once_and_a_new_version_is_picked_up(app) -> None:
    with app.app_context():
        first = _consultation_on(make_test_instrument("1"))
        instrument = instrument_store.instrument_for(first)
        queries = _queries(app)
        assert instrument_store.instrument_for(first) is instrument
        assert not [q for q in queries if "instrument_version" in q]  # served from memory

        changed = make_test_instrument("2")
        page = changed.sections[0].pages[0]
        relabelled = dataclasses.replace(page.items[0], label=Text(en="Who would you tell first?"))
        changed = dataclasses.replace(
            changed,
            sections=(
                dataclasses.replace(
                    changed.sections[0],
                    pages=(
                        dataclasses.replace(page, items=(relabelled, *page.items[1:])),
                        *changed.sections[0].pages[1:],
                    ),
                ),
                *changed.sections[1:],
            ),
        )
        second = _consultation_on(changed)
        newer = instrument_store.instrument_for(second)
        assert newer.version == "2"
        assert newer.item("who").label.get_for("en") == "Who would you tell first?"
        assert instrument_store.instrument_for(first).item("who").label.get_for("en") == "Who would you tell?"


def test_a_consultation_without_a_recorded_hash_is_always_read_from_the_database(app) -> None:
    with app.app_context():
        consultation = _consultation_on(make_test_instrument("1"))
        consultation.instrument_hash = ""
        queries = _queries(app)
        instrument_store.instrument_for(consultation)
        instrument_store.instrument_for(consultation)
        assert len([q for q in queries if "instrument_version" in q]) == 2


def test_another_database_engine_never_shares_an_entry(make_app) -> None:
    for app in (make_app(), make_app()):  # two apps: two engines, as two test databases would be
        with app.app_context():
            consultation = _consultation_on(make_test_instrument("1"))
            queries = _queries(app)
            instrument_store.instrument_for(consultation)
            assert [q for q in queries if "instrument_version" in q], "each engine reads the version once"


def test_band_views_are_kept_per_instrument_band_and_mode() -> None:
    instrument = make_test_instrument("1")
    view = instrument_store.band_view(instrument, "C")
    assert instrument_store.band_view(instrument, "C") is view
    assert view.pages == instrument.pages_for_band("C")
    assert instrument_store.band_view(instrument, "A") is not view
    assert instrument_store.band_view(instrument, "A").pages == instrument.pages_for_band("A")
    assert instrument_store.band_view(instrument, "C", True).pages == instrument.pages_for_band("C", True)
    other = make_test_instrument("2")  # an equal but distinct instrument gets its own view
    assert instrument_store.band_view(other, "C") is not view
    assert instrument_store.band_view(other, "C").instrument is other


def _reference_plan(instrument, band: str, answers: dict) -> tuple[str, ...]:  # an Instrument
    """The pages shown, by the instruments package's own rule (visible_items), page by page."""
    from instruments.runtime import visible_items

    return tuple(
        page.name for page in instrument.pages_for_band(band) if visible_items(instrument, page, answers, band)
    )


def test_a_kept_page_plan_is_the_plan_worked_out_afresh_for_every_answer_relevance_reads() -> None:
    """Plans are kept by the values relevance reads: every combination of those values (and the
    setting, which the bundled instrument's relevance also reads) gives the pages that the
    instruments package's visible_items shows, whether the plan was kept or new."""
    import itertools

    from instruments import load_bundled
    from instruments.runtime import context
    from survey.models import Participant
    from survey.services import journey

    instrument = load_bundled("reporting-mechanisms")
    view = instrument_store.band_view(instrument, "C")
    assert {"TR1", "BA1", "EV5", "_setting"} <= set(view.relevance_inputs)
    options = {  # for each input relevance reads: a value that makes it true, one that does not, none
        "TR1": [None, '["adult"]', '["adult", "friend"]'],
        "CH1": [None, '["other"]', '["teacher"]'],
        "BA1": [None, '["other"]', '["other", "shame"]'],
        "AF3": [None, "yes", "no"],
        "EV5": [None, "not_good", "_rns", "good"],
    }
    assert set(options) <= set(view.relevance_inputs)
    for setting in ("school", "community"):
        consultation = Consultation(
            setting=setting, research_mode=False, ethics_reference="", languages="en", age_bands="C"
        )
        participant = Participant(band="C", language="en", consultation=consultation)
        combinations = list(itertools.product(*options.values()))
        for first_pass in (True, False):  # worked out, then kept
            for values in combinations:
                stored = {name: value for name, value in zip(options, values, strict=True) if value is not None}
                kept = journey.plan(participant, instrument, stored)
                answers = {
                    **journey.expression_values(stored),
                    **context(band="C", lang="en", setting=setting, mode="consultation"),
                }
                assert tuple(kept.all_pages[i].name for i in kept.shown) == _reference_plan(instrument, "C", answers)
                if not first_pass:
                    assert journey.plan(participant, instrument, stored) is kept
        # An answer relevance does not read leaves the plan as it was.
        plain = journey.plan(participant, instrument, {})
        assert journey.plan(participant, instrument, {"TR2": "3", "ideas": "more posters"}) is plain

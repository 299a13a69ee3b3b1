"""No table can hold what identifies a child (BRIEF non-negotiable 2; DP-01, C-10)."""

from __future__ import annotations

import re

from survey.extensions import db

# Columns that would identify a person or pin down when they answered.  Staff tables may hold a
# staff username and times of staff actions; children's tables may hold neither.
IDENTIFYING = re.compile(
    r"(^|_)(name|first_?name|last_?name|surname|dob|birth|email|phone|mobile|address|ip|ip_address|"
    r"user_?agent|referr?er|geo|latitude|longitude|location|fingerprint)(_|$)",
    re.I,
)
# Staff records (failed staff sign-ins and API tokens among them), plus signals: a seat label and a minute for the
# facilitator, linked to no participant.
STAFF_TABLES = {
    "staff_user",
    "staff_session",
    "audit_event",
    "membership",
    "instrument_version",
    "signal",
    "signin_failure",
    "api_token",
    "translation_step",
}


def test_children_tables_hold_no_identifying_columns() -> None:
    findings = []
    for table in db.metadata.sorted_tables:
        if table.name in STAFF_TABLES:
            continue
        for column in table.columns:
            if IDENTIFYING.search(column.name):
                findings.append(f"{table.name}.{column.name}")
    assert findings == []


def test_children_tables_keep_dates_not_times() -> None:
    import sqlalchemy as sa

    timed = [
        f"{table.name}.{column.name}"
        for table in db.metadata.sorted_tables
        if table.name not in STAFF_TABLES
        for column in table.columns
        if isinstance(column.type, sa.DateTime)
    ]
    assert timed == []


def test_participant_ids_are_random_not_sequential(app, make_consultation, issue_codes) -> None:
    import uuid

    import sqlalchemy as sa

    from survey.models import Participant

    consultation = make_consultation()
    issue_codes(consultation, 5)
    with app.app_context():
        ids = list(db.session.scalars(sa.select(Participant.id)))
    assert len(ids) == 5 and all(uuid.UUID(i).version == 4 for i in ids)


def _child_tables() -> dict:
    return {
        table.name: [(c.name, type(c.type).__name__) for c in table.columns]
        for table in db.metadata.sorted_tables
        if table.name not in STAFF_TABLES
    }


def test_consent_policy_finds_nothing_forbidden_in_childrens_tables() -> None:
    """The same check, by consent.storage_policy's independent list of forbidden data."""
    from consent.storage_policy import forbidden_columns

    assert forbidden_columns(_child_tables()) == []


def test_no_join_path_leads_from_an_answer_to_a_consent_record_or_a_person() -> None:
    """C-10: consent records are apart from responses; staff identities are out of reach."""
    from consent.storage_policy import join_paths

    foreign_keys = [
        (table.name, fk.column.table.name) for table in db.metadata.sorted_tables for fk in table.foreign_keys
    ]
    # A consultation is shared by every child in it: a join through it links no one to anyone.
    paths = join_paths(
        foreign_keys, "answer", ["assent_event", "signal", "staff_user", "audit_event"], ignore=["consultation"]
    )
    assert paths == []


# ----------------------------------------------------------------------------- what is stored
# The schema tests above say what columns exist; these walk the way a child goes (code, age,
# assent, every page answered) and look at what was stored, on the bundled instrument as shipped
# and on the test instrument (issue 16: only the age group is kept, never the age in years).

DATE_LIKE = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})\b")


def _stored_strings(app) -> list[tuple[str, str, str]]:
    """Every text value in the children's tables: (table, column, value)."""
    import sqlalchemy as sa

    out = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in STAFF_TABLES:
                continue
            columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
            for row in db.session.execute(sa.select(*columns)) if columns else ():
                out += [(table.name, c.name, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)]
    return out


def _assert_no_age_or_birth_date_kept(app, instrument, ages) -> None:
    import sqlalchemy as sa

    from instruments.validate import asks_exact_age
    from survey.models import Answer, Participant

    with app.app_context():
        answers = list(db.session.execute(sa.select(Answer.item, Answer.value)))
        bands = sorted(db.session.scalars(sa.select(Participant.band)))
    assert answers, "the walk stored no answer"
    assert bands == sorted({9: "A", 12: "B", 15: "C"}[a] for a in ages)  # the group is kept
    asked_age = [item for item, _value in answers if asks_exact_age(instrument, instrument.item(item.split("[")[0]))]
    assert asked_age == [], f"answers to questions asking the exact age: {asked_age}"
    for table, column, value in _stored_strings(app):
        assert value.strip() not in {str(a) for a in ages}, f"{table}.{column} holds an age in years: {value!r}"
        assert not DATE_LIKE.search(value), f"{table}.{column} holds something like a date: {value!r}"


def test_a_child_answering_every_bundled_page_leaves_only_the_age_group(app) -> None:
    from instruments import load_bundled
    from tests.survey.child_walk import cards, enter, open_bundled, walk

    consultation = open_bundled(app, country_profile="example-uk")
    ages = (9, 12, 15)
    for age, code in zip(ages, cards(app, consultation, len(ages)), strict=True):
        assert walk(enter(app, code, age), age).end_status == 200
    _assert_no_age_or_birth_date_kept(app, load_bundled(), ages)


def test_a_child_answering_every_test_instrument_page_leaves_only_the_age_group(
    app, make_consultation, issue_codes
) -> None:
    from tests.factories import make_test_instrument
    from tests.survey.child_walk import enter, walk

    consultation = make_consultation()
    ages = (9, 12, 15)
    for age, code in zip(ages, issue_codes(consultation, len(ages)), strict=True):
        assert walk(enter(app, code, age), age).end_status == 200
    _assert_no_age_or_birth_date_kept(app, make_test_instrument(), ages)

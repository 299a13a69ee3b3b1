"""Open answers are screened when saved: personal information never stored, concerns queued (S-06)."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, ConcernFlag, Consultation, Membership
from tests.conftest import sign_in
from tests.survey.test_journey import _assent, _post_page


def test_personal_information_is_redacted_before_it_is_stored(app, make_user, make_consultation, issue_codes) -> None:
    consultation = make_consultation(screening_deny_list="Amina\nBaraka")
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    _post_page(child, 1, {"q_ideas": "Amina said call 0722 123 456 or mail amina@example.org", "q_why_helpline": ""})
    with app.app_context():
        stored = db.session.scalars(sa.select(Answer.value).where(Answer.item == "ideas")).one()
    assert "0722" not in stored and "example.org" not in stored and "Amina" not in stored
    assert "<PHONE>" in stored and "<EMAIL>" in stored and "<NAME>" in stored


def test_concerns_reach_the_safeguarding_lead_with_no_link_to_the_child(
    app, make_user, make_consultation, issue_codes
) -> None:
    lead = make_user("sam", "facilitator")
    consultation = make_consultation()
    from survey.services import consultations

    with app.app_context():
        from survey.models import User

        consultations.add_member(db.session.get(Consultation, consultation), db.session.get(User, lead), "safeguarding")
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child)
    _post_page(child, 0, {"q_who": "friend"})
    _post_page(child, 1, {"q_ideas": "someone at home hits me and I am scared"})
    with app.app_context():
        flag = db.session.scalars(sa.select(ConcernFlag)).one()
        assert flag.consultation_id == consultation and flag.status == "open"
        assert set(ConcernFlag.__table__.columns.keys()) == {
            "id",
            "consultation_id",
            "item",
            "excerpt",
            "concerns",
            "flagged_on",
            "status",
            "resolved_on",
            "session_id",
            "seat_label",
        }
    client = app.test_client()
    sign_in(client, "sam")
    page = client.get(f"/safeguarding/{consultation}/")
    assert page.status_code == 200 and "hits me" in page.get_data(as_text=True)
    client.post(f"/safeguarding/{consultation}/{flag.id}")
    with app.app_context():
        assert db.session.get(ConcernFlag, flag.id).status == "reviewed"
        assert db.session.get(ConcernFlag, flag.id).resolved_on is not None
        assert db.session.scalars(sa.select(Membership.role)).all() == ["safeguarding"]
    # A facilitator who is not this consultation's lead cannot see the queue.
    make_user("fiona", "facilitator")
    other = app.test_client()
    sign_in(other, "fiona")
    assert other.get(f"/safeguarding/{consultation}/").status_code == 403


# --- issue 16: written disclosures reach the lead at once, and the child sees what happens next

DISCLOSURE = "my uncle touches my private parts and I want to end my life"


def _child_at_ideas(app, consultation, issue_codes, age: str = "9"):
    child = app.test_client()
    child.post("/", data={"code": issue_codes(consultation, 1)[0]})
    _assent(child, age=age)
    _post_page(child, 0, {"q_who": "friend"})
    return child


def _lead_of(app, consultation, make_user) -> None:
    from survey.models import User
    from survey.services import consultations

    lead = make_user("sam", "facilitator")
    with app.app_context():
        consultations.add_member(db.session.get(Consultation, consultation), db.session.get(User, lead), "safeguarding")


def test_a_written_disclosure_reaches_the_lead_at_once_and_the_child_sees_a_calm_page(
    app, make_user, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()  # the bundled example-uk profile
    _lead_of(app, consultation, make_user)
    child = _child_at_ideas(app, consultation, issue_codes, age="9")
    response = _post_page(child, 1, {"q_ideas": DISCLOSURE})
    assert response.status_code == 302 and "/p/noted" in response.location
    # The lead's queue shows it before the child has gone any further.
    lead = app.test_client()
    sign_in(lead, "sam")
    queue = lead.get(f"/safeguarding/{consultation}/").get_data(as_text=True)
    assert "private parts" in queue
    with app.app_context():
        flag = db.session.scalars(sa.select(ConcernFlag)).one()
        assert flag.status == "open" and "en:sexual_touch" in flag.concerns and "en:self_harm" in flag.concerns
    page = child.get(response.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Thank you for telling us" in html and "What happens next" in html
    assert "without your name" in html
    # the country profile's helplines, in the page itself (not only in the help panel)
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Childline" in main and 'href="tel:08001111"' in main
    # a facilitated session: the "talk to someone" action on the page itself
    assert 'action="/p/talk"' in html and html.count("talk to someone") >= 2
    # and a way on with the survey: the page after the one just answered
    assert 'href="/p/q/2"' in html


def test_an_ordinary_answer_goes_straight_on(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    child = _child_at_ideas(app, consultation, issue_codes, age="12")
    response = _post_page(child, 1, {"q_ideas": "i would tell my teacher because she is kind"})
    assert response.status_code == 302 and response.location.endswith("/p/q/2")
    with app.app_context():
        assert db.session.scalars(sa.select(ConcernFlag)).all() == []


def test_the_calm_page_in_a_self_completed_consultation_has_no_talk_button_and_is_translated(
    app, make_consultation, issue_codes
) -> None:
    consultation = make_consultation(facilitated=False, languages=("en", "fr", "ar", "sw", "es"))
    child = _child_at_ideas(app, consultation, issue_codes, age="12")
    response = _post_page(child, 1, {"q_ideas": "my stepdad comes into my room at night and does things"})
    assert "/p/noted" in response.location
    html = child.get(response.location).get_data(as_text=True)
    assert "Thank you for telling us" in html and 'action="/p/talk"' not in html
    # the consultation's own words on what can and cannot happen (anonymous self-completion)
    assert "come to help you because of something you answer here" in html
    for lang, words in (
        ("fr", "Merci de nous l’avoir dit"),
        ("es", "Gracias por contárnoslo"),
        ("ar", "شكرًا لأنك أخبرتنا"),
        ("sw", "Asante kwa kutuambia"),
    ):
        page = child.get(response.location + f"&lang={lang}").get_data(as_text=True)
        assert words in page, lang


def test_the_calm_page_leads_to_the_end_after_the_last_page_and_refuses_nothing_odd(
    app, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()
    child = _child_at_ideas(app, consultation, issue_codes, age="12")
    _post_page(child, 1, {"q_ideas": "ok"})
    html = child.get("/p/noted?then=end").get_data(as_text=True)
    assert 'href="/p/end"' in html
    for odd in ("-1", "abc", "99999999", ""):
        page = child.get(f"/p/noted?then={odd}")
        assert page.status_code == 200 and 'href="/p/"' in page.get_data(as_text=True)
    # before assent there is no such page
    other = app.test_client()
    other.post("/", data={"code": issue_codes(consultation, 1)[0]})
    assert other.get("/p/noted?then=2").status_code in (302, 303)


def test_names_of_several_words_and_titles_are_removed_before_storing(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation(screening_deny_list="Mrs Achieng, Kibera Hope Academy\nBaraka")
    child = _child_at_ideas(app, consultation, issue_codes, age="12")
    _post_page(
        child,
        1,
        {
            "q_ideas": "Achieng and Mr Otieno at Kibera Hope Academy, my name is Amina Wanjiru",
            "q_why_helpline": "I told Mrs Achieng and Baraka",
        },
    )
    with app.app_context():
        stored = " ".join(
            db.session.scalars(sa.select(Answer.value).where(Answer.item.in_(("ideas", "why_helpline")))).all()
        )
    for leaked in ("Achieng", "Otieno", "Kibera", "Amina", "Wanjiru", "Baraka"):
        assert leaked not in stored, stored
    assert "<NAME>" in stored and "<SCHOOL>" not in stored


def test_stored_lists_of_names_keep_their_meaning_after_the_upgrade() -> None:
    """Lists stored before names could have several words were split on spaces: the migration
    puts each of their words on its own line, so "Amina Baraka" still removes both names."""
    import importlib.util
    from pathlib import Path

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    import survey
    from analysis.textscreen import parse_name_list

    path = Path(survey.__file__).parent / "migrations" / "versions" / "b7d41c2e9a10_names_to_remove_one_a_line.py"
    spec = importlib.util.spec_from_file_location("names_one_a_line", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE consultation (id INTEGER PRIMARY KEY, screening_deny_list TEXT NOT NULL DEFAULT '')")
        )
        connection.execute(sa.text("INSERT INTO consultation VALUES (1, 'Amina Baraka  Otieno,'), (2, '')"))
        with Operations.context(MigrationContext.configure(connection)):
            migration.upgrade()
        stored = dict(connection.execute(sa.text("SELECT id, screening_deny_list FROM consultation")).all())
    assert stored == {1: "Amina\nBaraka\nOtieno", 2: ""}
    assert parse_name_list(stored[1]) == ["Amina", "Baraka", "Otieno"]

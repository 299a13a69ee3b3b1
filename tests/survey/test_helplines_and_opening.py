"""Issue 16: the right helpline everywhere, and a real consultation opens only on a real profile
with checked helplines and a questionnaire that keeps no exact age.

Every test goes the way a user goes: a child's code, age, assent and pages; a facilitator's
"Open for children" button; an administrator's profile upload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from importlib import resources

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Consultation
from tests.survey.child_walk import cards, enter, open_bundled, walk

PROFILE_LINES = {
    "example-ke": "Childline Kenya (116)",
    "example-uk": "Childline (0800 1111)",
    "generic": "Child helpline (116 111)",
}


def _pages_with(walked, words: str) -> list[str]:
    return [html for html in walked.pages if words in html]


# ----------------------------------------------------------------------------- child pages
def test_each_child_reads_the_helpline_of_their_consultations_country(app) -> None:
    """AW1 and the EV5 help note name the country profile's helpline, in the child's language,
    and never 116 111 where that is not the number; two countries in one process never mix."""
    walks = {}
    for profile in ("example-ke", "example-uk"):
        consultation = open_bundled(app, country_profile=profile, languages=("en", "sw"))
        code = cards(app, consultation, 1)[0]
        walks[profile] = walk(enter(app, code, 9), 9, choose={"EV5": "not_good"})
    for profile, walked in walks.items():
        line = PROFILE_LINES[profile]
        aw1 = _pages_with(walked, "Do you know a free phone line for children")
        help_note = _pages_with(walked, "Thank you for telling us. If you feel upset")
        assert len(aw1) == 1 and len(help_note) == 1
        assert f"Do you know a free phone line for children, like {line}?" in aw1[0]
        assert f"call a helpline: {line}." in help_note[0]
        for html in walked.pages:
            assert "{helpline" not in html
            if profile != "generic":
                assert "116 111" not in html  # not this country's number
        other = PROFILE_LINES["example-uk" if profile == "example-ke" else "example-ke"]
        assert other not in aw1[0] + help_note[0]


def test_the_helpline_is_filled_in_the_childs_language(app) -> None:
    consultation = open_bundled(app, country_profile="example-ke", languages=("en", "sw"))
    code = cards(app, consultation, 1)[0]
    walked = walk(enter(app, code, 12, language="sw"), 12, choose={"EV5": "not_good"}, language="sw")
    assert (
        _pages_with(walked, "Je, umewahi kusikia kuhusu simu au gumzo la bure")[0].count("kama Childline Kenya (116)?")
        == 1
    )
    assert "au kupiga simu ya msaada: Childline Kenya (116)." in "".join(walked.pages)


def test_an_uploaded_profile_changes_the_helpline_in_questions_at_once(app, world) -> None:
    consultation = open_bundled(app, country_profile="example-ke")
    first = walk(enter(app, cards(app, consultation, 1)[0], 9), 9)
    assert _pages_with(first, "like Childline Kenya (116)?")
    text = (resources.files("consent") / "profiles" / "example-ke.yaml").read_text("utf-8")
    changed = text.replace('number: "116"', 'number: "0800 720 600"')
    upload = world.clients["admin"].post(
        "/admin/profiles/", data={"file": (io.BytesIO(changed.encode()), "p.yaml")}, content_type="multipart/form-data"
    )
    assert upload.status_code == 302
    second = walk(enter(app, cards(app, consultation, 1)[0], 9), 9)
    assert _pages_with(second, "like Childline Kenya (0800 720 600)?")
    assert not _pages_with(second, "like Childline Kenya (116)?")


# ----------------------------------------------------------------------------- opening
def _approve_every_text(admin) -> None:
    from survey.services.consent_rules import text_registry

    for text in text_registry():
        if text.language == "en":
            assert admin.post(f"/admin/texts/{text.text_id}", data={"by": "Ada Okafor"}).status_code == 303


def _draft(app, profile: str, **details) -> int:
    """A draft consultation on the bundled instrument, created the way the staff form does."""
    from survey.services import consultations, instrument_store

    with app.app_context():
        record = instrument_store.store_bundled()
        values = {
            "organisation": "Helping Hands",
            "contact": "the team",
            "independent_contact": "the board",
            "audience": "the council",
            "influence_scope": "how help desks work",
            "feedback_due": dt.date(2027, 3, 1),
            "analysis_cutoff": dt.date(2027, 1, 31),
            **details,
        }
        consultation = consultations.create_consultation(
            title=f"On {profile}",
            instrument_id=record.instrument_id,
            instrument_version=record.version,
            instrument_hash=record.content_hash,
            languages=["en"],
            age_bands=["A", "B", "C"],
            country_profile=profile,
            details=values,
        )
        return consultation.id


def _press_open(app, world, consultation: int) -> str:
    from survey.models import Membership

    with app.app_context():
        exists = db.session.scalar(
            sa.select(Membership.id).where(
                Membership.consultation_id == consultation, Membership.user_id == world.user_ids["facilitator"]
            )
        )
        if exists is None:
            db.session.add(
                Membership(user_id=world.user_ids["facilitator"], consultation_id=consultation, role="facilitator")
            )
            db.session.commit()
    page = world.clients["facilitator"].post(
        f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True
    )
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _state(app, consultation: int) -> str:
    with app.app_context():
        return db.session.get(Consultation, consultation).state


def _real_profile(verified: dt.date, profile_id: str = "test-land", check_days: int | None = None) -> bytes:
    text = (resources.files("consent") / "profiles" / "generic.yaml").read_text("utf-8")
    text = (
        text.replace("id: generic", f"id: {profile_id}")
        .replace("is_example: true", "is_example: false")
        .replace("last_verified: 2026-11-29", f"last_verified: {verified.isoformat()}")
    )
    if check_days is not None:
        text = text.replace("helpline_check_days: 90", f"helpline_check_days: {check_days}")
    return text.encode("utf-8")


def _upload(admin, data: bytes):
    return admin.post(
        "/admin/profiles/", data={"file": (io.BytesIO(data), "profile.yaml")}, content_type="multipart/form-data"
    )


@pytest.mark.parametrize("profile", ["generic", "example-ke", "example-uk"])
def test_a_real_consultation_cannot_open_on_an_example_profile(app, world, profile) -> None:
    """Every text approved, helplines checked days ago: still refused, in plain words saying
    what to do, because the profile is an example (only the demo opens on one)."""
    _approve_every_text(world.clients["admin"])
    consultation = _draft(app, profile, ethics_reference="REC-7")
    html = _press_open(app, world, consultation)
    assert _state(app, consultation) == "draft"
    assert "is an example" in html and "Choose your organisation&#39;s own country profile" in html
    for internal in ("example_profile", "is_example", ".yaml", "error:"):
        assert internal not in html


def test_a_real_profile_with_checked_helplines_opens(app, world) -> None:
    _approve_every_text(world.clients["admin"])
    assert _upload(world.clients["admin"], _real_profile(dt.date.today())).status_code == 302
    consultation = _draft(app, "test-land")
    html = _press_open(app, world, consultation)
    assert "The consultation is open" in html and _state(app, consultation) == "open"


def test_helplines_older_than_the_profiles_interval_refuse_opening(app, world) -> None:
    _approve_every_text(world.clients["admin"])
    admin = world.clients["admin"]
    checked = dt.date.today() - dt.timedelta(days=31)
    assert _upload(admin, _real_profile(checked, check_days=30)).status_code == 302
    consultation = _draft(app, "test-land")
    html = _press_open(app, world, consultation)
    assert _state(app, consultation) == "draft"
    assert "checked in the last 30 days" in html and "Country profiles" in html
    assert "helplines_stale" not in html and "last_verified" not in html
    assert (
        admin.post(
            "/admin/profiles/test-land/helplines/0/verified", data={"verified_on": dt.date.today().isoformat()}
        ).status_code
        == 302
    )
    assert "The consultation is open" in _press_open(app, world, consultation)


def test_the_demo_still_opens_on_the_generic_example(app, tmp_path) -> None:
    from survey.services import demo

    with app.app_context():
        result = demo.set_up_demo(code_count=2)
        assert result.consultation.country_profile == "generic"
        assert db.session.get(Consultation, result.consultation.id).state == "open"
    assert any("examples to replace" in w for w in result.warnings)


# ----------------------------------------------------------------------------- exact age
def _with_age_question(research_only: bool = False):
    from instruments.model import Item, Page, Section, Text
    from tests.factories import make_test_instrument

    base = make_test_instrument(version="age-1" if not research_only else "age-2")
    age = Item(
        name="age_years",
        type="integer",
        label=Text(en="How old are you?", fr="Quel âge as-tu ?"),
        research_only=research_only,
    )
    extra = Section("about", (Page("age_years", (age,)),), title=Text(en="About you"))
    return dataclasses.replace(base, sections=(extra, *base.sections))


@pytest.mark.parametrize("research_only", [False, True])
def test_a_questionnaire_asking_the_exact_age_opens_only_in_research_mode(
    app, make_consultation, research_only
) -> None:
    from survey.services import consultations, instrument_store

    instrument = _with_age_question(research_only)
    with app.app_context():
        instrument_store.store(instrument, approved=True)
    consultation = make_consultation(state="draft", languages=("en",))
    with app.test_request_context():  # the facilitator's request: messages in their language
        record = db.session.get(Consultation, consultation)
        record.instrument_version, record.instrument_hash = instrument.version, instrument.content_hash
        db.session.commit()
        if not research_only:
            with pytest.raises(consultations.OpeningRefused) as refused:
                consultations.open_consultation(db.session.get(Consultation, consultation), demo=True)
            message = str(refused.value)
            assert "exact age" in message and "age_years" in message and "research mode" in message
            assert "EXACT_AGE" not in message
        record = db.session.get(Consultation, consultation)
        record.research_mode = True  # with the ethics reference REC-TEST-1 the factory sets
        db.session.commit()
        consultations.open_consultation(db.session.get(Consultation, consultation), demo=True)
        assert db.session.get(Consultation, consultation).state == "open"


# ----------------------------------------------------------------------------- feedback sheet
def test_the_feedback_sheet_quotes_questions_with_the_countrys_helpline(app) -> None:
    """The child-friendly "what you told us" quotes question wording: AW1's names the country
    profile's helpline there too, never a placeholder or another country's number."""
    from survey.services import releases
    from survey.services.programme import told_us

    consultation = open_bundled(app, country_profile="example-ke", bands=("A",))
    for n, code in enumerate(cards(app, consultation, 25)):  # the gate shows shares of 25 or more
        walk(enter(app, code, 9), 9, pick=n % 2)  # two answers per question, neither too rare
    with app.test_request_context(), app.app_context():
        # The sheet's findings come from the latest release (survey.services.releases).
        releases.make_release(db.session.get(Consultation, consultation), None)
        findings = told_us(db.session.get(Consultation, consultation), "A", "en", top=100)
    assert findings and not [f for f in findings if "{helpline" in f or "116 111" in f]
    assert [f for f in findings if "like Childline Kenya (116)?" in f]


# ----------------------------------------------------------------------------- before the code
#: The child pages a child can reach before typing a code: start, Help, "I feel upset", and the
#: withdrawal page a child may use at home after a worrying session.
BEFORE_THE_CODE = ("/", "/help", "/p/upset", "/change")


def _close(app, consultation: int) -> None:
    from survey.services import consultations

    with app.app_context():
        consultations.set_state(db.session.get(Consultation, consultation), "closed")


def _before_the_code(app, language: str = "en") -> dict[str, str]:
    client = app.test_client()
    pages = {}
    for address in BEFORE_THE_CODE:
        response = client.get(f"{address}?lang={language}")
        assert response.status_code == 200, address
        pages[address] = response.get_data(as_text=True)
    return pages


@pytest.mark.parametrize("language", ["en", "sw"])
def test_before_the_code_a_child_reads_the_only_open_consultations_helpline(app, language) -> None:
    """F10: with one Kenyan consultation open (and the generic one closed), the start page, Help,
    "I feel upset" and the withdrawal page give Kenya's helpline, not the example 116 111."""
    _close(app, open_bundled(app, country_profile="generic", languages=("en", "sw")))
    open_bundled(app, country_profile="example-ke", languages=("en", "sw"))
    for address, html in _before_the_code(app, language).items():
        assert 'href="tel:116"' in html, address
        assert "Childline Kenya" in html, address
        assert "116 111" not in html and "tel:116111" not in html, address
        assert "Check locally" not in html, address


def test_before_the_code_each_open_countrys_helplines_under_its_name(app) -> None:
    """F10: consultations open on two countries' profiles: each country's helplines, under the
    country's name in the child's language; never the generic example in their place."""
    open_bundled(app, country_profile="example-ke", languages=("en", "sw"))
    open_bundled(app, country_profile="example-uk", languages=("en", "sw"))
    for language, names in {"en": ("Kenya", "United Kingdom"), "sw": ("Kenya", "Ufalme wa Muungano")}.items():
        for address, html in _before_the_code(app, language).items():
            assert 'href="tel:116"' in html and 'href="tel:08001111"' in html, address
            assert html.index(names[0]) < html.index("Childline Kenya") < html.index(names[1]), address
            assert "116 111" not in html, address


def test_before_the_code_a_deployments_pinned_profile_wins_over_several(make_app) -> None:
    """F10: a deployment that pins its country profile (DEFAULT_COUNTRY_PROFILE) shows that one's
    helplines before the code when the open consultations use several profiles."""
    app = make_app(DEFAULT_COUNTRY_PROFILE="example-uk")
    open_bundled(app, country_profile="example-ke")
    open_bundled(app, country_profile="example-uk")
    for address, html in _before_the_code(app).items():
        assert 'href="tel:08001111"' in html and "Childline Kenya" not in html, address
        assert "United Kingdom" not in html, address  # one country: no heading


def test_before_the_code_the_quick_exit_goes_to_the_open_consultations_profiles_site(make_app) -> None:
    app = make_app(QUICK_EXIT_URL="")  # the tests pin one; a deployment leaves it to the profile
    open_bundled(app, country_profile="example-ke")
    assert app.test_client().get("/leave").location == "https://www.bbc.com/weather"  # example-ke's


def test_before_the_code_the_generic_example_only_when_nothing_is_known(app) -> None:
    for address, html in _before_the_code(app).items():
        assert 'href="tel:116111"' in html, address
        assert "These helpline details are examples" in html, address


@pytest.mark.parametrize("address", ["/p/qq/3", "/hepl", "/p/q/2/nowhere/else"])
def test_a_mistyped_child_address_gets_the_quick_exit_and_the_helplines(app, address) -> None:
    """Second review: a child who mistypes or half-remembers an address got the staff layout's
    "There is no page here", without the quick exit or any helpline.  Now the child's layout, in
    the open consultation's language, with its country's helplines."""
    open_bundled(app, country_profile="example-ke", languages=("en", "sw"))
    response = app.test_client().get(f"{address}?lang=sw")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "data-quick-exit" in html and 'href="/leave"' in html
    assert 'href="tel:116"' in html and "Childline Kenya" in html
    assert 'lang="sw"' in html


def test_a_mistyped_staff_address_keeps_the_staff_layout(app) -> None:
    html = app.test_client().get("/staff/nonsense").get_data(as_text=True)
    assert "data-quick-exit" not in html and "Childline" not in html


@pytest.mark.parametrize(
    ("language", "other"), [("en", "Other countries"), ("fr", "Autres pays"), ("sw", "Nchi nyingine")]
)
def test_before_the_code_the_generic_profiles_helplines_come_under_other_countries(app, language, other) -> None:
    """Second review: with the generic example and a Kenyan consultation open, the generic
    profile's helplines came under its internal name ("Generic profile (example, replace before
    use)") as a heading a child reads.  Now under "Other countries", in the child's language."""
    open_bundled(app, country_profile="generic", languages=("en", "fr", "sw"))
    open_bundled(app, country_profile="example-ke", languages=("en", "fr", "sw"))
    for address, html in _before_the_code(app, language).items():
        assert "Generic profile" not in html and "replace before use" not in html, address
        assert f"<strong>{other}</strong>" in html, address
        assert 'href="tel:116"' in html and 'href="tel:116111"' in html, address

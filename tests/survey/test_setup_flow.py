"""Issue 17: a consultation a facilitator can set up alone, in plain words.

The checklist of what blocks opening (each with a link that fixes it), the settings page, the
copy, the questionnaire preview that stores nothing, the safeguarding index, and a walk of the
console of a realistic set-up that fails on any developer's words in what staff read.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from importlib import resources
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditEvent, Consultation, Membership, Participant, User
from tests.conftest import sign_in
from tests.survey.test_consultation_setup import FORM

#: What a staff member must never read: requirement codes (S-04, DP-07), references to the
#: guidance's sections, file names, bracketed ids ([child_information/en/B/v1], [who_we_are])
#: and internal reason codes (text_not_approved, child_information).
DEVELOPER_WORDS = {
    "requirement code": re.compile(r"\b[A-Z]{1,2}-\d{2}\b"),
    "section sign": re.compile("§"),
    "file name": re.compile(r"\b[\w-]+\.(?:md|ya?ml|py)\b"),
    "bracketed id": re.compile(r"\[[a-z_]+(?:/[^\]\s]*)?\]"),
    "internal code": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),
    "raw data": re.compile(r"\{\}|\{'|\{\"|\[\]"),
}


def developer_words(text: str) -> list[tuple[str, str]]:
    """Each (kind, match) of developer words in ``text``."""
    return [(kind, match.group(0)) for kind, pattern in DEVELOPER_WORDS.items() for match in pattern.finditer(text)]


def test_the_checker_catches_what_issue_17_found() -> None:
    found = developer_words(
        "error: [child_information/en/B/v1] is draft, see child-participation.md §3.4 "
        "(text_not_approved); S-04 and DP-07; log: {}"
    )
    assert {kind for kind, _word in found} == set(DEVELOPER_WORDS)
    assert (
        developer_words(
            "The information for children aged 11 to 13, in English, has not been "
            "approved yet. Site NRB-07, card ABCD-EFGH-JKLM, 2027-03-01."
        )
        == []
    )


class _Page(HTMLParser):
    """The text a person reads on a page (no scripts, no styles, no attribute values), its links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _approve_english_texts(admin) -> None:
    from survey.services.consent_rules import text_registry

    for text in text_registry():
        if text.language == "en" and text.band in ("B", None):
            assert (
                admin.post(f"/admin/texts/{text.text_id}", data={"state": "approved", "by": "Amina Njeri"}).status_code
                == 303
            )


def _upload_checked_profile(admin, profile: str = "generic") -> None:
    real = (
        (resources.files("consent") / "profiles" / f"{profile}.yaml")
        .read_text("utf-8")
        .replace("is_example: true", "is_example: false")
        .replace("last_verified: 2026-11-29", f"last_verified: {dt.date.today().isoformat()}")
    )
    assert (
        admin.post(
            "/admin/profiles/",
            data={"file": (io.BytesIO(real.encode()), f"{profile}.yaml")},
            content_type="multipart/form-data",
        ).status_code
        == 302
    )


@pytest.fixture
def people(app, make_user):
    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    make_user("ada", "admin")
    clients = {name: app.test_client() for name in ("fiona", "ana", "ada")}
    for name, client in clients.items():
        sign_in(client, name)
    return clients


def _create(app, client, **extra) -> int:
    created = client.post("/facilitate/new", data={**FORM, **extra})
    assert created.status_code == 302, created.get_data(as_text=True)
    with app.app_context():
        return db.session.scalars(sa.select(Consultation.id).order_by(Consultation.id.desc())).first()


def test_the_checklist_says_what_blocks_opening_and_links_to_each_fix(app, people) -> None:
    fiona, ada = people["fiona"], people["ada"]
    consultation = _create(app, fiona, session_pin="1357")
    page = fiona.get(f"/facilitate/{consultation}/")
    html = page.get_data(as_text=True)
    shown = read(html)
    text = " ".join(shown.text)
    assert "Before it can open" in text
    assert "has not been approved yet" in text and "aged 11 to 13, in English" in text
    assert "is an example" in text  # the generic profile
    assert "No analyst is on the team yet" in text
    assert developer_words(text) == []
    # The facilitator cannot approve texts: the checklist names who can instead of a dead link.
    assert "Administrators: ada (ada)." in text or "Administrators: ada." in text
    fixes = re.findall(r'<a href="([^"]+)">Fix this</a>', html)
    assert f"/facilitate/{consultation}/settings" in fixes and f"/facilitate/{consultation}/team" in fixes
    for href in set(fixes):
        assert fiona.get(href).status_code == 200, href
    # An administrator sees links to the pages only administrators reach.
    admin_fixes = re.findall(
        r'<a href="([^"]+)">Fix this</a>', ada.get(f"/facilitate/{consultation}/").get_data(as_text=True)
    )
    assert any(href.startswith("/admin/texts/child_information/en/B/") for href in admin_fixes)
    for href in set(admin_fixes):
        assert ada.get(href).status_code == 200, href

    # Pressed anyway, "Open for children" is refused in the same plain words.
    refused = fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True)
    flashes = " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', refused.get_data(as_text=True), re.S))
    assert "cannot open yet" in flashes and "has not been approved yet" in html
    assert developer_words(flashes) == []

    # Fixed one by one, the checklist empties and the consultation opens.
    _approve_english_texts(ada)
    _upload_checked_profile(ada)
    ana = _user_id(app, "ana")
    fiona.post(f"/facilitate/{consultation}/team/add", data={"user": str(ana), "role": "analyst"})
    text = " ".join(read(fiona.get(f"/facilitate/{consultation}/").get_data(as_text=True)).text)
    assert "Nothing stops this consultation from opening." in text and "No analyst" not in text
    opened = fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True)
    assert "The consultation is open" in opened.get_data(as_text=True)


def test_refusals_of_open_for_children_read_as_plain_sentences(app, people) -> None:
    """What issue 17 found: "error: [child_information/en/B/v1] ... (text_not_approved)"."""
    fiona = people["fiona"]
    consultation = _create(app, fiona, session_pin="1357")
    refused = fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True)
    html = refused.get_data(as_text=True)
    flashes = re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', html, re.S)
    steps = re.findall(r"<li>(.*?)(?:<a |</li>)", html.split('class="checklist"', 1)[1].split("</section>")[0], re.S)
    assert any("cannot open yet" in f for f in flashes)
    assert len(steps) >= 3 and any("approved" in step for step in steps)
    assert {f: developer_words(f) for f in flashes + steps if developer_words(f)} == {}


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_a_drafts_settings_are_changed_on_the_same_form(app, people) -> None:
    fiona = people["fiona"]
    consultation = _create(app, fiona, session_pin="1357")
    form = fiona.get(f"/facilitate/{consultation}/settings").get_data(as_text=True)
    assert 'value="Grade 6, Kibera"' in form and "Step 4: the dates" in form
    changed = fiona.post(
        f"/facilitate/{consultation}/settings", data={**FORM, "title": "Grade 7, Kibera", "age_bands": ["B", "C"]}
    )
    assert changed.status_code == 303, changed.get_data(as_text=True)
    with app.app_context():
        record = db.session.get(Consultation, consultation)
        assert (record.title, record.age_bands, bool(record.session_pin_hash)) == ("Grade 7, Kibera", "B C", True)
        assert (
            db.session.scalar(sa.select(AuditEvent.actor_name).where(AuditEvent.action == "consultation.settings"))
            == "fiona"
        )
    # A language still in review may be chosen for a draft; the checklist then says what stops it.
    draft = fiona.post(f"/facilitate/{consultation}/settings", data={**FORM, "languages": ["en", "sw"]})
    assert draft.status_code == 303, draft.get_data(as_text=True)
    checklist = fiona.get(f"/facilitate/{consultation}/").get_data(as_text=True)
    assert "questionnaire is" in checklist and "not approved" in checklist
    # Someone not on the team cannot.
    assert people["ana"].get(f"/facilitate/{consultation}/settings").status_code == 403


def test_a_copy_has_the_settings_and_team_and_none_of_the_childrens_data(
    app, make_user, make_consultation, issue_codes
) -> None:
    make_user("fiona", "facilitator")
    make_user("ana", "analyst")
    with app.app_context():
        fiona, ana = (db.session.scalar(sa.select(User.id).where(User.username == n)) for n in ("fiona", "ana"))
    original = make_consultation(
        "Spring group", members=[(fiona, "owner"), (fiona, "facilitator"), (ana, "analyst")], site_code="NRB-07"
    )
    issue_codes(original, 5)
    client = app.test_client()
    sign_in(client, "fiona")
    copied = client.post(f"/facilitate/{original}/clone")
    assert copied.status_code == 303
    copy = int(re.search(r"/facilitate/(\d+)/", copied.location).group(1))
    assert copy != original
    with app.app_context():
        a, b = db.session.get(Consultation, original), db.session.get(Consultation, copy)
        assert b.title == "Copy of Spring group" and b.state == "draft" and b.text_bindings == "{}"
        for name in (
            "instrument_id",
            "instrument_version",
            "languages",
            "age_bands",
            "country_profile",
            "organisation",
            "purpose",
            "site_code",
            "feedback_due",
            "session_pin_hash",
            # the words in the consultation's other languages (a copy once lost them: it could
            # not open in French until they were written again)
            "wording",
        ):
            assert getattr(a, name) == getattr(b, name), name
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Participant).where(Participant.consultation_id == copy)
            )
            == 0
        )
        team = sorted(
            db.session.execute(
                sa.select(User.username, Membership.role).join(User).where(Membership.consultation_id == copy)
            ).all()
        )
        assert team == [("ana", "analyst"), ("fiona", "facilitator"), ("fiona", "owner")]
    assert "This is a copy" in client.get(copied.location).get_data(as_text=True)


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_the_preview_shows_each_age_group_and_language_and_stores_nothing(app, people) -> None:
    from tests.browser.conftest import bundled_consultation  # noqa: F401 - documents the same set-up

    fiona, ada = people["fiona"], people["ada"]
    _approve_bundled_arabic(app)
    consultation = _create(app, fiona, languages=["en", "ar"], age_bands=["A", "C"], session_pin="1357")
    before = _row_counts(app)
    english = fiona.get(f"/facilitate/{consultation}/preview?band=A&language=en")
    assert english.status_code == 200
    html = english.get_data(as_text=True)
    assert "stores nothing" in html and 'dir="ltr"' in html and "You can skip any question." in html
    assert html.count("disabled") >= 1 and "<button" not in html.split("child-preview", 1)[1].split("</div>\n  <p>")[0]
    arabic = ada.get(f"/facilitate/{consultation}/preview?band=C&language=ar").get_data(as_text=True)
    child_part = arabic.split('class="child-preview"', 1)[1]
    assert 'lang="ar" dir="rtl"' in arabic and re.search("[\u0600-\u06ff]{3,}", child_part)
    assert "You can skip any question." not in child_part  # the child's own words, in Arabic
    # Band C sees pages band A does not: the age groups differ.
    pages_a = int(re.search(r"(\d+) pages for children", html).group(1))
    pages_c = int(re.search(r"(\d+) pages", arabic).group(1))
    assert pages_a >= 1 and pages_c >= 1
    assert _row_counts(app) == before  # no participant, answer, audit event: nothing
    assert people["ana"].get(f"/facilitate/{consultation}/preview").status_code == 403


def _approve_bundled_arabic(app) -> None:
    """The bundled translations stay drafts until reviewed; an administrator has reviewed Arabic
    (as the browser tests' bundled_consultation fixture does)."""
    import dataclasses

    from instruments.bundled import load_bundled
    from survey.services import instrument_store

    bundled = load_bundled("reporting-mechanisms")
    instrument = dataclasses.replace(
        bundled, languages=tuple(dataclasses.replace(language, status="approved") for language in bundled.languages)
    )
    with app.app_context():
        instrument_store.store(instrument, approved=True)


def test_every_console_address_leads_somewhere(app, people) -> None:
    fiona, ana = people["fiona"], people["ana"]
    consultation = _create(app, fiona, session_pin="1357")
    # What issue 17 found: /safeguarding/ was a 404.
    index = fiona.get("/safeguarding/")
    assert index.status_code == 200 and f"/safeguarding/{consultation}/" in index.get_data(as_text=True)
    assert "not the safeguarding lead of any" in ana.get("/safeguarding/").get_data(as_text=True)
    for prefix in ("/facilitate/", "/reports/"):  # a trimmed address leads home, not to a 404
        assert fiona.get(prefix).status_code == 302 and fiona.get(prefix).location.endswith("/staff/")
    assert people["ada"].get("/admin/").location.endswith("/staff/")
    assert "/safeguarding/" in fiona.get("/staff/").get_data(as_text=True)


def _walk(client, start: list[str], *, skip: tuple[str, ...] = ()) -> dict[str, list]:
    """Follow every link of the console from ``start``; each page's status and developer words."""
    seen: dict[str, list] = {}
    queue = list(start)
    while queue:
        url = queue.pop()
        if url in seen or url.startswith(skip):
            continue
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            seen[url] = []
            queue.append(urlsplit(response.location).path)
            continue
        assert response.status_code == 200, (url, response.status_code)
        if not response.mimetype.startswith("text/html"):
            seen[url] = []
            continue
        page = read(response.get_data(as_text=True))
        seen[url] = developer_words(" ".join(page.text))
        for href in page.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith(
                ("/staff", "/facilitate", "/reports", "/programme", "/safeguarding", "/admin")
            ):
                continue
            if re.search(r"\.(pdf|xlsx|csv|zip|json)$", parts.path) or parts.path.endswith("sign-out"):
                continue
            if "lang=" in parts.query:  # the same page in another interface language
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def test_the_console_of_a_realistic_setup_shows_no_developer_words(app, people) -> None:
    """A consultation created, staffed, fixed, opened and run through the console: every page
    each kind of staff member can reach, and every message they get, in plain words."""
    fiona, ana, ada = people["fiona"], people["ana"], people["ada"]
    consultation = _create(app, fiona, session_pin="1357")
    flashes = []

    def flashed(response) -> None:
        flashes.extend(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', response.get_data(as_text=True), re.S))

    flashed(fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True))
    _approve_english_texts(ada)
    flashed(fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True))
    _upload_checked_profile(ada)
    flashed(
        fiona.post(
            f"/facilitate/{consultation}/team/add",
            data={"user": str(_user_id(app, "ana")), "role": "analyst"},
            follow_redirects=True,
        )
    )
    flashed(fiona.post(f"/facilitate/{consultation}/state", data={"to": "open"}, follow_redirects=True))
    # A session with a child in it, closed with its log.
    flashed(
        fiona.post(
            f"/facilitate/{consultation}/session",
            follow_redirects=True,
            data={
                "start-pin": "1357",
                "start-checklist": ["screens_private", "alternative_activity", "help_cards", "referral_contact"],
                "start-trained_on": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
            },
        )
    )
    _child_takes_part(app, consultation, fiona)
    flashed(
        fiona.post(
            f"/facilitate/{consultation}/session",
            follow_redirects=True,
            data={"close-number_present": "1", "close-referral_category": ""},
        )
    )
    flashed(fiona.post(f"/facilitate/{consultation}/clone", follow_redirects=True))
    assert any("cannot open yet" in f for f in flashes) and any("is open" in f for f in flashes)
    problems = {f: developer_words(f) for f in flashes if developer_words(f)}
    assert problems == {}

    everything = {}
    starts = {
        "fiona": ["/staff/", f"/facilitate/{consultation}/", "/safeguarding/"],
        "ana": ["/staff/", f"/reports/{consultation}/", "/programme/"],
        "ada": ["/staff/", f"/facilitate/{consultation}/", "/admin/users"],
    }
    for name, client in (("fiona", fiona), ("ana", ana), ("ada", ada)):
        # The review of consent texts and the audit log show text names to administrators on
        # purpose (the translation workflow of issue 17 owns those pages), and the read-aloud page
        # names the files an administrator drops recordings in as; they must still answer.
        walked = _walk(client, starts[name], skip=("/admin/texts", "/admin/audit", "/admin/instruments/"))
        everything.update({f"{name} {url}": found for url, found in walked.items() if found})
        assert len(walked) >= 5, (name, sorted(walked))
    assert everything == {}, "\n".join(f"{k}: {v}" for k, v in everything.items())
    # Languages are named, never shown as codes (the letter's and the preview's pickers).
    for path in (f"/facilitate/{consultation}/letter", f"/facilitate/{consultation}/preview"):
        options = re.findall(r'<option value="en"[^>]*>([^<]*)<', fiona.get(path).get_data(as_text=True))
        assert options == ["English"], (path, options)


def _child_takes_part(app, consultation: int, facilitator) -> None:
    from survey.services import participants

    with app.app_context():
        card = participants.issue_codes(db.session.get(Consultation, consultation), 1, permission_seen=True)[0]
    child = app.test_client()
    assert child.post("/", data={"code": card.code}).status_code == 302
    about = child.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes", "explained": "1"})
    assert about.status_code == 302, about.get_data(as_text=True)
    index = 0
    for _ in range(30):
        page = child.get(f"/p/q/{index}")
        if page.status_code == 302:
            break
        token = re.search(r'name="page_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        moved = child.post(f"/p/q/{index}", data={"nav": "next", "page_token": token})
        if moved.location.endswith("/p/end"):
            break
        index = int(moved.location.rstrip("/").rsplit("/", 1)[1])
    assert child.post("/p/end", data={"decision": "yes"}).status_code == 302


def test_opening_warnings_are_plain_words(app) -> None:
    """The warnings shown when a consultation opens (a demo's draft texts, a guardian text in
    fewer languages, mandatory reporting) lose their text ids and section references."""
    from survey.services.setup import plain_warning

    warnings = [
        "child_information/en/B/v1 is draft, not approved (Written by the maintainers.)",
        "no guardian_information in 'sw': guardians get en, fr",
        "In this country some adults must report abuse they learn of. If an adult runs the "
        "session in person, use facilitated mode so children are told what happens if they "
        "tell that adult something (§4.1, §9.6).",
    ]
    with app.test_request_context():
        shown = [plain_warning(warning) for warning in warnings]
    assert shown[0].startswith("The information for children aged 11 to 13, in English is not approved yet")
    assert "parents and carers get it in English, French" in shown[1] and "Swahili" in shown[1]
    assert "An adult runs the session in the room" in shown[2]
    assert [developer_words(text) for text in shown] == [[], [], []]


def test_every_consultation_column_is_either_copied_or_named_as_left_behind() -> None:
    """A new setting must be considered for copies and field packages (both use CLONED_FIELDS):
    the consultation's other-language words were once left out of both."""
    from survey.models import CLONED_FIELDS, Consultation

    columns = {column.key for column in Consultation.__mapper__.column_attrs}
    left_behind = {"id", "title", "text_bindings", "state", "created_on", "feedback_given_on", "feedback_formats"}
    assert columns - set(CLONED_FIELDS) == left_behind
    assert set(CLONED_FIELDS) <= columns

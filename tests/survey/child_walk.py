"""A child's way through a consultation with the test client: code, age, assent, every page.

Used by the privacy and helpline tests to go the way a child goes, on the bundled instrument
as shipped.  Each page is read from its HTML (the inputs the page really offers) and answered
like a child who answers everything: the first option of each question (or the child's own age
where a question offers a list of ages), a short sentence in open boxes, a small number in
number boxes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient

RESERVED = ("_rns", "_dk")
_ADDRESSES = itertools.count()
OPEN_ANSWER = "A chat line that is open at night would help"


class _Inputs(HTMLParser):
    """The form fields of a question page: radios, checkboxes, selects, text boxes."""

    def __init__(self) -> None:
        super().__init__()
        self.radios: dict[str, list[str]] = {}
        self.checkboxes: dict[str, list[str]] = {}
        self.selects: dict[str, list[str]] = {}
        self.texts: list[str] = []  # open-answer boxes
        self.numbers: list[str] = []  # one-line boxes (number items)
        self.hidden: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v or "") for k, v in attrs}
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text")
            if kind == "radio" and name.startswith("q_"):
                self.radios.setdefault(name, []).append(a.get("value", ""))
            elif kind == "checkbox" and name.startswith("q_"):
                self.checkboxes.setdefault(name, []).append(a.get("value", ""))
            elif kind == "hidden":
                self.hidden[name] = a.get("value", "")
            elif kind == "text" and name.startswith("q_"):
                self.numbers.append(name)
        elif tag == "textarea" and name.startswith("q_"):
            self.texts.append(name)
        elif tag == "select" and name.startswith("q_"):
            self._select = name
            self.selects[name] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


@dataclasses.dataclass
class Walk:
    """What a child saw on the way."""

    pages: list[str] = dataclasses.field(default_factory=list)
    end_status: int = 0


def answers_for(
    html: str, age: int, choose: dict[str, str] | None = None, pick: int = 0, written: str = OPEN_ANSWER
) -> dict[str, object]:
    """The form data a child who answers everything sends for this page (option ``pick`` of
    each question, counting round; the first by default; ``written`` in every text box)."""
    choose = choose or {}
    page = _Inputs()
    page.feed(html)
    data: dict[str, object] = {"page_token": page.hidden.get("page_token", ""), "nav": "next"}
    for name, values in page.radios.items():
        offered = [v for v in values if v not in RESERVED]
        if name.removeprefix("q_") in choose and choose[name.removeprefix("q_")] in values:
            data[name] = choose[name.removeprefix("q_")]
        elif str(age) in offered:
            data[name] = str(age)  # a list of ages: the child picks their own
        elif offered:
            data[name] = offered[pick % len(offered)]
    for name, values in page.checkboxes.items():
        offered = [v for v in values if v not in RESERVED]
        if offered:
            data[name] = [offered[pick % len(offered)]]
    ranks: dict[str, list[str]] = {}
    for name, values in page.selects.items():
        base = name.split("__")[0]
        offered = [v for v in values if v]
        used = ranks.setdefault(base, [])
        left = [v for v in offered if v not in used]
        if left:
            data[name] = left[0]
            used.append(left[0])
    for name in page.texts:
        data[name] = written
    for name in page.numbers:
        data[name] = "3"
    return data


def enter(app: Flask, code: str, age: int, language: str = "en") -> FlaskClient:
    """Enter the code, give the age and say yes, as a child does."""
    client = app.test_client()
    n = next(_ADDRESSES)
    client.environ_base["REMOTE_ADDR"] = f"10.16.{n // 200}.{n % 200 + 1}"  # code entry is throttled per client
    assert client.post(f"/?lang={language}", data={"code": code}).status_code == 302
    assert client.post("/p/age", data={"age": str(age)}).status_code == 302
    about = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
    if about.status_code == 200:  # a wrong comprehension answer explains once, then lets go on
        about = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes", "explained": "1"})
    assert about.status_code == 302, about.get_data(as_text=True)[:500]
    return client


def walk(
    client: FlaskClient,
    age: int,
    *,
    choose: dict[str, str] | None = None,
    language: str | None = None,
    pick: int = 0,
    finish: bool = True,
    limit: int = 200,
    written: str = OPEN_ANSWER,
) -> Walk:
    """Answer every page, then say the answers may be used; returns the pages' HTML in order."""
    seen = Walk()
    suffix = f"?lang={language}" if language else ""
    location = "/p/q/0"
    for _ in range(limit):
        response = client.get(location + suffix)
        assert response.status_code == 200, (location, response.status_code)
        html = response.get_data(as_text=True)
        seen.pages.append(html)
        posted = client.post(location, data=answers_for(html, age, choose, pick, written))
        assert posted.status_code == 302, (location, posted.status_code, posted.get_data(as_text=True)[:800])
        location = posted.location.removeprefix("http://localhost")
        if location.startswith("/p/noted"):  # a written answer went to the safeguarding lead
            noted = client.get(location)
            assert noted.status_code == 200, noted.status_code
            seen.pages.append(noted.get_data(as_text=True))
            onward = re.search(r'href="(/p/(?:q/[^"]+|end))"', seen.pages[-1])
            assert onward, "the calm page leads nowhere"
            location = onward.group(1)
            continue
        if not location.startswith("/p/q/"):
            end = client.get(location)
            seen.end_status = end.status_code
            seen.pages.append(end.get_data(as_text=True))
            if finish:  # "yes, you can use my answers"
                done = client.post(location, data={"decision": "yes"})
                assert done.status_code == 302 and "/p/done" in done.location, done.status_code
            return seen
    raise AssertionError("the walk did not reach the end")


def open_bundled(
    app: Flask, *, country_profile: str, bands=("A", "B", "C"), languages=("en",), **details: object
) -> int:
    """A running consultation on the bundled instrument as shipped (opened the demo's way,
    since the bundled consent texts are drafts until an administrator approves them)."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import consultations, instrument_store, sessions

    with app.app_context():
        stored = instrument_store.store_bundled()
        instrument = instrument_store.instrument_for_version(stored)
        values = {
            "organisation": "Test organisation",
            "contact": "the test team",
            "independent_contact": "the ethics board",
            "audience": "the county council",
            "influence_scope": "how help works",
            "feedback_due": dt.date(2027, 3, 1),
            "analysis_cutoff": dt.date(2027, 1, 31),
            "ethics_reference": "REC-TEST-1",
            **details,
        }
        consultation = consultations.create_consultation(
            title="Bundled",
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=list(languages),
            age_bands=list(bands),
            country_profile=country_profile,
            facilitated=True,
            details=values,
        )
        # The shipped translations are drafts: approved here for a demonstration only.
        from survey.services.demo import approve_for_demo
        from survey.services.translations import set_wording
        from tests.factories import consultation_wording

        approve_for_demo(instrument, stored, list(languages), list(bands))
        for code, words in consultation_wording(languages, values).items():
            set_wording(consultation, code, words)
        consultations.open_consultation(consultation, today=dt.date.today(), demo=True)
        record = db.session.get(Consultation, consultation.id)
        sessions.set_pin(record, "246810")
        sessions.start(
            db.session.get(Consultation, consultation.id),
            pin="246810",
            checklist=list(sessions.CHECKLIST),
            trained_on=dt.date.today(),
            today=dt.date.today(),
            actor=None,
        )
        return consultation.id


def cards(app: Flask, consultation_id: int, count: int) -> list[str]:
    """Codes for ``count`` children, with guardian permission marked as seen."""
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import participants

    with app.app_context():
        issued = participants.issue_codes(db.session.get(Consultation, consultation_id), count, permission_seen=True)
        return [card.code for card in issued]

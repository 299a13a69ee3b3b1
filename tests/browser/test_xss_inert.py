"""Issue 8, item 6: hostile text stays inert in every staff view, the HTML report and the child's pages.

Every payload in ``xss_payloads.txt`` (script tags, event handlers, javascript: URLs, SVG and
MathML, attribute breakouts, template injection, polyglots, encoded variants) would, if it ran,
call ``alert(N)`` or set ``window.__xss_N``.  They are batched into few records: an instrument's
title, section, labels, hints, choices and matrix rows (stored, and uploaded through the admin
page); a consultation's title, purpose, audience and the other fields children and staff read;
staff display names; and children's open answers (one also a safeguarding concern).  Chromium
then opens each staff page, the downloaded HTML report (served without the app's CSP, as a file
opened from disk would be) and the child's pages: no dialog may open and no marker may be set.
Content-Security-Policy violations are collected and printed: with escaping working there are none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest

from instruments.model import Choice, Instrument, Item, Language, Page, Section, Text
from instruments.native import dump_native
from survey.extensions import db
from survey.models import Consultation, User
from tests.conftest import SESSION_PIN, STRONG_PASSWORD

pytestmark = pytest.mark.browser

PAYLOAD_FILE = Path(__file__).with_name("xss_payloads.txt")
TEMPLATE_PRODUCT = "54439"  # 7*7777: a template engine that evaluated a payload would print it
TEXT_LIMIT = 480

_WATCH_JS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  e => window.__csp.push(e.violatedDirective + " " + (e.sample || e.blockedURI)));
"""


class Watcher:
    """Records dialogs, ``window.__xss_*`` markers and CSP violations page by page."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.markers: dict[str, list[str]] = {}
        self.csp: dict[str, list[str]] = {}
        self.pages = 0

    def watch(self, page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))

    def inspect(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_timeout(80)  # autofocus, toggle and media error handlers run just after load
        markers, violations, text = page.evaluate(
            "() => [Object.keys(window).filter(k => k.startsWith('__xss_')), window.__csp || [],"
            " document.body ? document.body.innerText : '']"
        )
        self.pages += 1
        if markers:
            self.markers[name] = markers
        if violations:
            self.csp[name] = violations
        assert TEMPLATE_PRODUCT not in text and "test-secret-key" not in text, name


def load_payloads() -> list[str]:
    lines = PAYLOAD_FILE.read_text(encoding="utf-8").splitlines()
    payloads = [line for line in lines if line.strip() and not line.startswith("#")]
    return [payload.replace("XSSN", str(n)) for n, payload in enumerate(payloads, start=1)]


PAYLOADS = load_payloads()


class Feed:
    """Hands out payloads in turn (round and round), joined to fit a field's length."""

    def __init__(self) -> None:
        self._cycle = itertools.cycle(PAYLOADS)
        self.used = 0

    def take(self, count: int, limit: int = 10_000) -> str:
        parts: list[str] = []
        for _ in range(count):
            payload = next(self._cycle)
            if len(" ".join([*parts, payload])) > limit:
                break
            parts.append(payload)
            self.used += 1
        return " ".join(parts) or next(self._cycle)[:limit]


def chunks(limit: int) -> list[str]:
    """Every payload, packed into pieces of at most ``limit`` characters."""
    out, current = [], ""
    for payload in PAYLOADS:
        joined = f"{current} {payload}".strip()
        if len(joined) > limit and current:
            out.append(current)
            current = payload[:limit]
        else:
            current = joined[:limit]
    return [*out, current]


def hostile_instrument(feed: Feed, version: str = "1") -> Instrument:
    def text(count: int) -> Text:
        return Text(en=feed.take(count))

    pages = []
    choice_lists = {
        "scale": tuple(Choice(f"s{n}", text(1)) for n in range(3)),
        "rows": tuple(Choice(f"r{n}", text(1)) for n in range(3)),
    }
    for n in range(8):
        choice_lists[f"l{n}"] = tuple(Choice(f"c{k}", text(2)) for k in range(3))
        items = [
            Item(name=f"pick{n}", type="select_one", label=text(4), hint=text(3), choices=f"l{n}"),
            Item(name=f"say{n}", type="text", label=text(1), constraint=". != 'never'", constraint_message=text(1)),
        ]
        if n == 0:
            items.append(Item(name="grid", type="matrix", label=text(2), choices="scale", rows="rows"))
            items.append(Item(name="note0", type="note", label=text(3)))
        pages.append(Page(f"p{n}", tuple(items)))
    return Instrument(
        id="hostile",
        version=version,
        title=text(2),
        description=text(3),
        languages=(Language("en", "English", status="approved"),),
        choice_lists=choice_lists,
        sections=(
            Section("s1", tuple(pages[:4]), title=text(2), notice=text(3), skippable=True),
            Section("s2", tuple(pages[4:]), title=text(2)),
        ),
    )


def column_limit(name: str) -> int:
    return Consultation.__table__.c[name].type.length or 2000


@pytest.fixture
def app(make_app):
    return make_app(DISCLOSURE_K=5)


def _seed_child(app, code: str, number: int, answers: list[str]) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.0.{number}"
    assert client.post("/", data={"code": code, "seat": f"T{number}"}).status_code == 302
    assert client.get("/p/age").location.endswith("/p/about")  # one age band: set without asking
    assert client.post("/p/about", data={"decision": "yes"}).status_code == 302
    index = 0
    texts = iter(answers)
    while True:
        data = {"nav": "next", f"q_pick{index}": "c1", f"q_say{index}": next(texts, "")}
        if index == 0:
            data.update({"q_grid_r0": "s0", "q_grid_r1": "s2"})
        response = client.post(f"/p/q/{index}", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        location = response.location
        if "/p/noted" in location:  # the concern: the calm page first, then where it leads
            assert client.get(location).status_code == 200
            then = location.split("then=", 1)[1]
            location = "/p/end" if then == "end" else f"/p/q/{then}"
        if location.endswith("/p/end"):
            break
        assert re.search(r"/p/q/\d+$", location), (index, location)
        index = int(location.rsplit("/", 1)[1])
    if number == 1:
        client.post("/p/talk")  # a signal in the live view, with this child's seat label
    assert client.post("/p/end", data={"decision": "yes"}).status_code == 302


def test_payloads_stay_inert_everywhere(app, browser, live_server, make_user, issue_codes, tmp_path) -> None:
    from survey.services import accounts, consultations, instrument_store, sessions

    assert len(PAYLOADS) >= 100
    feed = Feed()
    instrument = hostile_instrument(feed)
    assert feed.used >= len(PAYLOADS)  # every payload is in the instrument at least once
    admin_id = make_user("boss", "admin", "facilitator", "analyst")
    today = dt.date.today()
    with app.app_context():
        # Staff display names (the username itself allows only letters, digits and . _ - @).
        name_feed = Feed()
        user_ids = [
            accounts.create_user(
                f"user{n}", STRONG_PASSWORD, ["facilitator"], display_name=name_feed.take(3, limit=120)
            ).id
            for n in range(12)
        ]
        instrument_store.store(instrument, approved=True)
        consultation_feed = Feed()
        details = {
            name: consultation_feed.take(40, limit=column_limit(name))
            for name in (
                "organisation",
                "contact",
                "independent_contact",
                "purpose",
                "audience",
                "influence_scope",
                "ethics_reference",
                "site_code",
                "screening_deny_list",
            )
        }
        consultation = consultations.create_consultation(
            title=consultation_feed.take(3, limit=200),
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            instrument_hash=instrument.content_hash,
            languages=["en"],
            age_bands=["B"],
            facilitated=True,
            country_profile="example-uk",
            details={
                **details,
                "feedback_due": today + dt.timedelta(days=60),
                "analysis_cutoff": today + dt.timedelta(days=30),
            },
        )
        for role in ("facilitator", "analyst", "safeguarding"):
            consultations.add_member(consultation, db.session.get(User, admin_id), role)
        consultations.open_consultation(consultation, today=today, demo=True)
        record = db.session.get(Consultation, consultation.id)
        sessions.set_pin(record, SESSION_PIN)
        sessions.start(
            db.session.get(Consultation, consultation.id),
            pin=SESSION_PIN,
            checklist=list(sessions.CHECKLIST),
            trained_on=today,
            today=today,
            actor=None,
        )
        cid = consultation.id
    # Children's open answers: all the payloads, spread over six children; one is also a concern.
    pieces = chunks(TEXT_LIMIT - 30)
    codes = issue_codes(cid, 7)
    for number, code in enumerate(codes[:6], start=1):
        mine = pieces[number - 1 :: 6]
        if number == 2:
            mine = ["he hurts me at home " + mine[0][: TEXT_LIMIT - 30], *mine[1:]]
        _seed_child(app, code, number, mine)

    watcher = Watcher()
    watch, inspect = watcher.watch, watcher.inspect

    staff = browser.new_context(base_url=live_server, accept_downloads=True)
    staff.add_init_script(_WATCH_JS)
    try:
        page = staff.new_page()
        watch(page)
        page.goto("/staff/sign-in")
        page.fill("#username", "boss")
        page.fill("#password", STRONG_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/staff/")

        # An administrator uploads the hostile questionnaire and reads its validation report.
        upload = tmp_path / "hostile.yaml"
        upload.write_text(dump_native(hostile_instrument(Feed(), version="2")), encoding="utf-8")
        page.goto("/admin/instruments")
        page.set_input_files("input[type=file]", str(upload))
        page.click("main form[enctype] button[type=submit]")
        inspect(page, "/admin/instruments (upload report)")
        assert "Stored hostile version 2" in " ".join(page.locator(".flash").all_inner_texts())

        # Every page of the console that needs at most a consultation or a user.
        visited = 0
        for path in _staff_paths(app, cid, [admin_id, *user_ids[:2]]):
            response = page.goto(path)
            assert response is not None and response.status < 500, (path, response and response.status)
            inspect(page, path)
            visited += 1
        assert visited >= 15
        page.goto(f"/reports/{cid}/")
        page.click("text=Make a new release now")
        page.wait_for_url(f"**/reports/{cid}/")
        assert page.locator("main table").count() >= 2, "the results page shows no tables"
        for href in page.locator("nav.results-parts a").evaluate_all("a => a.map(x => x.getAttribute('href'))"):
            page.goto(href)  # every part of the release: the hostile labels stay text
            inspect(page, href)
        page.goto(f"/safeguarding/{cid}/")
        assert page.locator("main tbody tr").count() >= 1, "the concern is not in the queue"
        page.goto(f"/facilitate/{cid}/live")
        assert page.locator("li.signal").count() == 1

        # The programme report, opened as the downloaded file would be: without the app's CSP.
        report = page.request.get(f"/reports/{cid}/report.html")
        assert report.status == 200
        html = report.text()
        assert "&lt;script&gt;" in html or "&lt;img" in html  # the labels are there, escaped
        page.route(
            "**/downloaded-report.html",
            lambda route: route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8"),
        )
        page.goto("/downloaded-report.html")
        inspect(page, "report.html")
    finally:
        staff.close()

    # The child's pages render the consultation's texts and the instrument's labels.
    child = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    child.add_init_script(_WATCH_JS)
    try:
        page = child.new_page()
        watch(page)
        page.goto("/")
        page.fill("#code", codes[6])
        page.click("main button[type=submit]")
        page.wait_for_url("**/p/about")
        inspect(page, "child /p/about")
        page.click("button[name=decision][value=yes]")
        page.wait_for_url("**/p/q/0")
        seen = 0
        while "/p/q/" in page.url:
            seen += 1
            inspect(page, f"child {page.url}")
            page.fill("textarea", "never")  # the constraint message (a payload) is shown too
            page.click("button[name=nav][value=next]")
            page.wait_for_load_state()
            inspect(page, f"child {page.url} (constraint)")
            page.fill("textarea", "")
            page.click("button[name=nav][value=next]")
            page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
        assert seen == 8
        for path in ("/p/end", "/help", "/p/upset", "/p/stop"):
            page.goto(path)
            inspect(page, f"child {path}")
    finally:
        child.close()

    if watcher.csp:
        print(f"CSP violations (blocked, but a payload reached the page unescaped): {watcher.csp}")
    assert watcher.pages >= 40
    assert watcher.dialogs == []
    assert watcher.markers == {}
    assert watcher.csp == {}


def _staff_paths(app, consultation_id: int, user_ids: list[int]) -> list[str]:
    """Every GET route of the console whose only arguments are a consultation or a user."""
    paths = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint.split(".")[0] in ("participate", "static", "auth"):
                continue
            if not set(rule.arguments) <= {"consultation_id", "user_id"}:
                continue
            values = [{"consultation_id": consultation_id}] if "consultation_id" in rule.arguments else [{}]
            if "user_id" in rule.arguments:
                values = [{**v, "user_id": u} for v in values for u in user_ids]
            paths += [url_for(rule.endpoint, **v) for v in values]
    return sorted(set(paths))


def test_the_watcher_sees_a_payload_that_runs(browser, live_server) -> None:
    """The checks above can fail: a page that does run payloads is caught (dialog, marker, CSP)."""
    context = browser.new_context(base_url=live_server)
    context.add_init_script(_WATCH_JS)
    try:
        page = context.new_page()
        watcher = Watcher()
        watcher.watch(page)
        raw = " ".join(PAYLOADS[:12])
        page.route("**/raw.html", lambda route: route.fulfill(status=200, body=raw, content_type="text/html"))
        page.goto("/raw.html")
        watcher.inspect(page, "raw")
        assert watcher.dialogs and watcher.markers["raw"]
        # The same payloads on a page served with the app's CSP are blocked, and the block is seen.
        page.route(
            "**/csp.html",
            lambda route: route.fulfill(
                status=200,
                body=raw,
                content_type="text/html",
                headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"},
            ),
        )
        page.goto("/csp.html")
        watcher.inspect(page, "csp")
        assert watcher.csp["csp"] and "csp" not in watcher.markers
    finally:
        context.close()

"""Issue 6, "Done means", in Chromium: a facilitator, as a new user would, goes from sign-in to
printed code cards to a closed, logged session; a child joins with a code from the cards and
asks to talk to someone; an analyst sees the summaries and downloads the report.

CSRF protection is on here (the other test modules turn it off for the Flask test client), so
every form is submitted exactly as a browser submits it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from importlib import resources
from pathlib import Path

import pytest

from tests.browser.navigation import click_and_load
from tests.browser.test_accessibility import _violations
from tests.conftest import STRONG_PASSWORD
from tests.survey.test_reports import CHILDREN, complete_child

pytestmark = pytest.mark.browser

CODE = r"[2-9A-HJ-KM-NP-TV-Z]{4}-[2-9A-HJ-KM-NP-TV-Z]{4}-[2-9A-HJ-KM-NP-TV-Z]{4}"
PIN = "8264"


@pytest.fixture
def app(make_app):
    # A small disclosure threshold keeps the analyst's seeding quick; the rules are the same.
    return make_app(WTF_CSRF_ENABLED=True, DISCLOSURE_K=5)


def pdf_pages_and_text(data: bytes) -> tuple[int, str]:
    """Page count and the text shown, read back as a copy-and-paste would (fonts are embedded)."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(data)).pages
    return len(pages), "\n".join(page.extract_text() or "" for page in pages).replace("\u00a0", " ")


def sign_in(page, username: str) -> None:
    page.goto("/staff/sign-in")
    page.fill("#username", username)
    page.fill("#password", STRONG_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/staff/")


def flashes(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def test_facilitator_from_sign_in_to_a_closed_logged_session(
    app, browser, live_server, new_phone, make_user, tmp_path: Path
) -> None:
    from survey.services import instrument_store

    make_user("fiona", "facilitator")
    make_user("ada", "admin")
    with app.app_context():
        instrument_store.store_bundled()  # an approved questionnaire, as `sauti demo` leaves it
    staff = browser.new_context(base_url=live_server, accept_downloads=True)
    admin = browser.new_context(base_url=live_server)
    try:
        page = staff.new_page()
        sign_in(page, "fiona")
        page.click("text=Create a consultation")
        page.wait_for_url("**/facilitate/new")
        problems = {"new": _violations(page)}
        click_and_load(page, "main form button[type=submit]")  # nothing filled in: every problem explained
        assert page.locator(".errors").count() >= 5
        problems["new (errors)"] = _violations(page)

        # ------------------------------------------------------------ the consultation form
        today = dt.date.today()
        page.fill("#title", "Year 7 group, spring")
        page.select_option("#instrument", index=0)
        page.check("input[name=languages][value=en]")
        page.check("input[name=age_bands][value=B]")
        page.select_option("#setting", "school")
        page.fill("#site_code", "SITE-7")
        assert page.is_checked("#facilitated")
        page.fill("#session_pin", PIN)
        page.select_option("#country_profile", "example-uk")
        page.fill("#ethics_reference", "REC-2026-14")
        page.fill("#organisation", "Northside Children's Forum")
        page.fill("#purpose", "To learn how you would like to ask for help.")
        page.fill("#audience", "The county's child protection team")
        page.fill("#influence_scope", "How help is explained to children; not the law.")
        page.fill("#contact", "Ms Rivera at the forum")
        page.fill("#independent_contact", "The county ethics board")
        page.fill("#feedback_due", (today + dt.timedelta(days=60)).isoformat())
        page.fill("#analysis_cutoff", (today + dt.timedelta(days=30)).isoformat())
        page.fill("#retention_until", (today + dt.timedelta(days=365)).isoformat())
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/facilitate/\d+/$"))
        assert "Draft consultation created" in flashes(page)
        overview = page.url
        problems["overview"] = _violations(page)

        # ------------------------------------------------------------ opening needs approved texts
        page.click("button[name=to][value=open]")
        page.wait_for_url(overview)
        refused = flashes(page) + page.locator("section.checklist").inner_text()
        assert "approved" in refused.lower()
        assert page.locator("button[name=to][value=open]").count() == 1  # still a draft

        reviewer = admin.new_page()
        sign_in(reviewer, "ada")
        reviewer.click("text=Translations: review and approve questionnaire languages and consent texts")
        reviewer.wait_for_url("**/admin/translations/")
        problems["texts"] = _violations(reviewer)
        rows = reviewer.locator("table:has(caption:text-is('Every version')) tbody tr").evaluate_all(
            "rows => rows.map(r => [r.querySelector('a').getAttribute('href'),"
            " ...Array.from(r.querySelectorAll('td')).slice(1).map(td => td.textContent.trim())])"
        )
        needed = [
            href
            for href, language, band, _version, status in rows
            if language == "English" and band in ("B", "-") and status != "approved"
        ]
        assert len(needed) >= 3
        for href in needed:
            reviewer.goto(href)
            if href == needed[0]:
                problems["text"] = _violations(reviewer)
            # The reviewer's name is recorded with the approval (issue 17).
            reviewer.fill("#by", "Ada Okafor")
            reviewer.click("main form.review-step button[type=submit]")
            reviewer.wait_for_url(f"**{href}")
            assert "Recorded: approved, by Ada Okafor." in flashes(reviewer)

        # The UK-like profile is an example: a real consultation does not open on it (issue 16),
        # and the facilitator is told in plain words what to do.
        page.click("button[name=to][value=open]")
        page.wait_for_url(overview)
        refused = flashes(page) + page.locator("section.checklist").inner_text()
        assert "is an example" in refused and "Country profiles" in refused and "is_example" not in refused
        # The administrator uploads the organisation's checked profile under the same id.
        checked = tmp_path / "profile.yaml"
        checked.write_text(
            (resources.files("consent") / "profiles" / "example-uk.yaml")
            .read_text("utf-8")
            .replace("is_example: true", "is_example: false")
            .replace("last_verified: 2026-11-29", f"last_verified: {today.isoformat()}"),
            "utf-8",
        )
        reviewer.goto("/admin/profiles/")
        reviewer.set_input_files("input[type=file]", str(checked))
        reviewer.click("main form button[type=submit]")
        reviewer.wait_for_url("**/admin/profiles/example-uk")

        page.click("button[name=to][value=open]")
        page.wait_for_url(overview)
        assert "The consultation is open" in flashes(page)
        assert page.locator("button[name=to][value=closed]").count() == 1

        # ------------------------------------------------------------ start a session
        page.click("text=Session: start, scripts, close")
        page.wait_for_url("**/session")
        click_and_load(page, "main form button[type=submit]")  # nothing ticked, no PIN: refused, explained
        assert page.locator(".errors, .flash-error").count() > 0
        for box in page.locator("input[name='start-checklist']").all():
            box.check()
        page.fill("#start-trained_on", (today - dt.timedelta(days=40)).isoformat())
        page.fill("#start-pin", PIN)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/session")
        assert "The session has started" in flashes(page)
        assert page.locator("details summary").count() >= 1  # the assent script to read aloud
        assert _violations(page) == []

        # ------------------------------------------------------------ print code cards
        for path in ("cards", "letter"):
            page.goto(overview + path)
            problems[path] = _violations(page)
        page.goto(overview)
        page.fill("#count", "12")
        with page.expect_download() as download_info:
            page.click("text=Make code cards (PDF)")
        download = download_info.value
        assert download.suggested_filename.endswith(".pdf")
        pages, text = pdf_pages_and_text(Path(download.path()).read_bytes())
        assert pages == 2  # ten cards a page
        codes = re.findall(rf"\b({CODE})\b", text)
        assert len(codes) == 24 and len(set(codes)) == 24  # a code and a withdrawal code per card
        assert text.count("Your code") == 12
        assert "0800 1111" in text  # the country profile's helpline on every card
        code = re.search(rf"Your code[^\n]*\n({CODE})", text).group(1)

        # ------------------------------------------------------------ a child joins and asks to talk
        child = new_phone()
        child.goto("/")
        child.fill("#code", code.lower())
        child.fill("#seat", "Table 4")
        child.click("main button[type=submit]")
        child.wait_for_url("**/p/about")  # one age band: not asked
        child.click("button[name=decision][value=yes]")
        child.wait_for_url("**/p/q/*")
        click_and_load(child, "text=I'd like to talk to someone")
        assert child.locator("h1").inner_text() == "An adult will come to you"
        assert "TABLE 4" in child.locator("main").inner_text()  # seat labels are normalised
        assert _violations(child) == []

        page.click("text=Open the live view (signals from children)")
        page.wait_for_url("**/live")
        # It reloads itself, and the automatic refresh can be paused (WCAG 2.2.1).
        pause = page.locator("button[data-live-refresh]")
        assert pause.is_visible() and pause.get_attribute("aria-pressed") == "false"
        assert page.locator("text=Refresh now").count() == 1  # and without scripts, a link
        signal = page.locator("li.signal")
        assert signal.count() == 1 and "TABLE 4" in signal.inner_text() and "NEW" in signal.inner_text()
        # Where children are is counted (never what they decided): one started today, a number
        # under the threshold, so hidden (services.progress).
        stages = dict(
            page.locator("table:has(caption:text('Children by stage')) tbody tr").evaluate_all(
                "rows => rows.map(r => [r.querySelector('th').textContent.trim(),"
                " r.querySelector('td').textContent.trim()])"
            )
        )
        assert stages == {"started today": "s"}, stages
        live_text = page.locator("main").inner_text()
        assert "Mobile phone" not in live_text  # counts and seats, never answers
        assert _violations(page) == []
        page.click("li.signal button[value=acknowledged]")
        page.wait_for_url("**/live")
        assert "someone is going" in page.locator("li.signal").inner_text()
        page.click("li.signal button[value=resolved]")
        page.wait_for_url("**/live")
        assert page.locator("li.signal").count() == 0
        assert "No one is waiting." in page.locator("main").inner_text()

        # ------------------------------------------------------------ close the session with its log
        page.goto(overview)
        page.click("text=Session: start, scripts, close")
        page.fill("#close-number_present", "12")
        page.check("#close-incident")
        page.select_option("#close-referral_category", "helpline")
        page.click("text=Close the session >> nth=-1")
        page.wait_for_url("**/session")
        assert "The session is closed and its log is kept." in flashes(page)
        log = page.locator("table:has(caption:text('Session log')) tbody tr")
        assert log.count() == 1
        cells = log.first.locator("td").all_inner_texts()
        assert cells[1] == "closed" and cells[2] == "12" and cells[3] == "yes (helpline)"
        assert page.locator("#start-pin").count() == 1  # a new session could start; this one is over
        # Codes work only while a session runs.
        late = new_phone()
        late.goto("/")
        late.fill("#code", re.findall(rf"Your code[^\n]*\n({CODE})", text)[1])
        click_and_load(late, "main button[type=submit]")
        assert "The session has not started yet" in late.locator("main").inner_text()

        problems["session (closed, with log)"] = _violations(page)
        assert {name: found for name, found in problems.items() if found} == {}

        # ------------------------------------------------------------ the facilitator's role ends here
        consultation_id = re.search(r"/facilitate/(\d+)/", overview).group(1)
        response = page.goto(f"/reports/{consultation_id}/")
        assert response.status == 403
        response = page.goto("/admin/translations/")
        assert response.status == 403
    finally:
        staff.close()
        admin.close()


def test_analyst_sees_summaries_and_downloads_the_report(
    app, make_app, browser, live_server, make_user, make_consultation, issue_codes
) -> None:
    analyst = make_user("ana", "analyst")
    facilitator = make_user("fiona", "facilitator")
    consultation = make_consultation("Spring round", members=[(analyst, "analyst"), (facilitator, "facilitator")])
    seeder = make_app(DISCLOSURE_K=5)  # the Flask test client posts without CSRF tokens
    children = CHILDREN[:8]
    for n, (code, spec) in enumerate(zip(issue_codes(consultation, len(children)), children, strict=True)):
        complete_child(seeder, code, spec, f"10.7.0.{n + 1}")

    context = browser.new_context(base_url=live_server, accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, "ana")
        page.click("text=Spring round")
        page.wait_for_url(f"**/reports/{consultation}/")
        main = page.locator("main").inner_text()
        assert "No results have been released yet" in main  # live: the funnel only
        page.click("text=Make a new release now")
        page.wait_for_url(f"**/reports/{consultation}/")
        assert "Release 1 is ready" in page.locator(".flashes").inner_text()
        assert page.locator("main table").count() >= 2  # the funnel and the headlines
        assert page.locator("nav.results-parts a").count() >= 3  # the results in parts
        with page.expect_download() as download_info:
            page.click("text=Programme report (HTML)")
        download = download_info.value
        report = Path(download.path()).read_text(encoding="utf-8")
        assert download.suggested_filename == f"sauti-consultation-{consultation}-report.html"
        assert report.lstrip().lower().startswith("<!doctype html")
        assert "Spring round" in report and "<table" in report
        # The answers of children stay summaries: no codes in the report.
        assert not re.search(CODE, report)

        # The facilitator of the same consultation cannot open the analyst's results.
        context.clear_cookies()
        sign_in(page, "fiona")
        assert page.locator("text=Spring round").count() >= 1
        for path in (f"/reports/{consultation}/", f"/reports/{consultation}/report.html"):
            response = page.goto(path)
            assert response.status == 403, path
    finally:
        context.close()

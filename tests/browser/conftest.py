"""A live server on 127.0.0.1 and the system Chromium driven by Playwright.

The browser is Debian's Chromium (``apt-get install chromium``); nothing is downloaded.  Where
it is missing these tests are skipped locally, but CI sets ``SAUTI_REQUIRE_BROWSER=1`` and
installs it, so there they fail instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("SAUTI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM:
        if os.environ.get("SAUTI_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (apt-get install chromium) and was not found")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    outside: list[str] = []

    def _watch(request) -> None:
        if not request.url.startswith((live_server, "data:", "about:")):
            outside.append(request.url)

    page.on("request", _watch)
    page.outside_requests = outside
    yield page
    context.close()


@pytest.fixture
def bundled_consultation(app):
    """Open a consultation on the bundled "reporting mechanisms" instrument; returns its id.

    The bundled Arabic (and other) translations are marked ``translated`` until they are
    back-translated and piloted; here they are approved, as an administrator would after that
    review, so that a child can take the survey in Arabic.
    """
    import dataclasses
    import datetime as dt

    from instruments.bundled import load_bundled
    from survey.extensions import db
    from survey.models import Consultation
    from survey.services import consultations, instrument_store, sessions
    from tests.conftest import SESSION_PIN

    def factory(*, languages=("en", "ar"), bands=("A", "B", "C"), facilitated=False, **details) -> int:
        bundled = load_bundled("reporting-mechanisms")
        instrument = dataclasses.replace(
            bundled, languages=tuple(dataclasses.replace(language, status="approved") for language in bundled.languages)
        )
        today = dt.date.today()
        defaults = {
            "organisation": "Test organisation",
            "contact": "the test team",
            "independent_contact": "the ethics board",
            "audience": "the county council",
            "purpose": "To learn how children would like to ask for help.",
            "influence_scope": "how help works",
            "setting": "community",
            "ethics_reference": "REC-TEST-1",
            "feedback_due": today + dt.timedelta(days=60),
            "analysis_cutoff": today + dt.timedelta(days=30),
        }
        with app.app_context():
            instrument_store.store(instrument, approved=True)
            consultation = consultations.create_consultation(
                title="Bundled",
                instrument_id=instrument.id,
                instrument_version=instrument.version,
                instrument_hash=instrument.content_hash,
                languages=list(languages),
                age_bands=list(bands),
                facilitated=facilitated,
                country_profile="example-uk",
                details={**defaults, **details},
            )
            from survey.services.translations import set_wording
            from tests.factories import consultation_wording

            for code, words in consultation_wording(languages, {**defaults, **details}).items():
                set_wording(consultation, code, words)
            consultations.open_consultation(consultation, today=today, demo=True)
            if facilitated:
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
            return consultation.id

    return factory


PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture
def new_phone(browser, live_server) -> Iterator:
    """Open a page in a fresh phone-sized browser context (a new "device"); all closed afterwards.

    Each page records requests to other hosts in ``page.outside_requests``.
    """
    contexts = []

    def factory(**options):
        context = browser.new_context(base_url=live_server, **{**PHONE, **options})
        contexts.append(context)
        page = context.new_page()
        page.outside_requests = []
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((live_server, "data:", "about:"))
                else page.outside_requests.append(request.url)
            ),
        )
        return page

    yield factory
    for context in contexts:
        context.close()

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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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

    def _watch(request) -> None:  # noqa: ANN001
        if not request.url.startswith((live_server, "data:", "about:")):
            outside.append(request.url)

    page.on("request", _watch)
    page.outside_requests = outside
    yield page
    context.close()

"""Read-aloud in a real browser (issue 20): nothing is fetched or played until the child presses
"Listen"; one tap plays the question's audio, from this server."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _violations

pytestmark = pytest.mark.browser


def test_one_tap_on_listen_plays_the_audio_and_nothing_plays_before(page, bundled_consultation, issue_codes) -> None:
    code = issue_codes(bundled_consultation(), 1)[0]
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "/audio/" in request.url else None)
    page.goto("/?lang=ar")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")
    page.check("input[name=age][value='9']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")

    # Each native control gave way to a button named in the page's language; nothing was fetched.
    controls = page.locator("main audio.listen")
    assert controls.count() >= 3
    assert page.locator("main .listen-button").count() == controls.count()
    assert page.locator("main").get_by_role("button", name="استمع").count() == controls.count()
    assert not controls.first.is_visible()
    assert fetched == []
    assert page.evaluate("[...document.querySelectorAll('audio')].every(a => a.paused)")
    assert _violations(page) == []

    page.locator("main .listen-button").first.click()
    page.wait_for_function(
        "() => { const a = document.querySelector('main audio.listen'); return a.currentTime > 0 || a.ended; }",
        timeout=15000,
    )
    assert len(fetched) == 1 and fetched[0].startswith(page.url.split("/p/")[0] + "/audio/")
    assert page.evaluate(
        "document.querySelector('main .listen-button').classList.contains('playing')"
        " || document.querySelector('main audio.listen').ended"
    )
    assert page.outside_requests == []


def test_the_recordings_console_passes_axe(page, world) -> None:
    from tests.browser.test_accessibility import _sign_in

    _sign_in(page, "ada")
    for language in ("en", "ar"):
        page.goto(f"/admin/instruments/reporting-mechanisms/audio?language={language}")
        assert page.locator("h1").inner_text().startswith("Read-aloud audio")
        assert _violations(page) == [], language

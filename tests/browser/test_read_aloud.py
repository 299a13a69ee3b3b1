"""Read-aloud in a real browser (issue 20): nothing is fetched or played until the child presses
"Listen"; one tap plays the question's audio, from this server."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _violations

pytestmark = pytest.mark.browser


def _to_first_question(page, code: str, language: str) -> None:
    page.goto(f"/?lang={language}")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")
    page.check("input[name=age][value='9']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")


def test_one_tap_on_listen_plays_the_audio_and_nothing_plays_before(page, bundled_consultation, issue_codes) -> None:
    code = issue_codes(bundled_consultation(), 1)[0]
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "/audio/" in request.url else None)
    # The player read-aloud.js makes is not in the page: note it when it is told to play.
    page.add_init_script(
        "const play = HTMLMediaElement.prototype.play;"
        "HTMLMediaElement.prototype.play = function () { window.played = this; return play.call(this); };"
    )
    _to_first_question(page, code, "ar")

    # Each link to an audio file became a button named in the page's language; nothing was fetched.
    controls = page.locator("main .listen")
    assert controls.count() >= 3
    assert page.locator("main").get_by_role("button", name="استمع").count() == controls.count()
    assert page.locator("main").get_by_role("link", name="استمع").count() == 0
    # A question's control sits at the end of its words, and the question keeps them as its name.
    legend = page.locator("main fieldset legend").first
    assert legend.locator(".listen").count() == 1
    assert "استمع" not in (legend.locator("xpath=..").get_attribute("aria-label") or "")
    assert fetched == []
    assert page.evaluate("document.querySelectorAll('audio, video').length") == 0
    assert page.evaluate("window.played === undefined")  # nothing plays by itself
    assert _violations(page) == []
    box = controls.first.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # a touch target

    url = page.url
    controls.first.click()
    page.wait_for_function(
        "() => window.played && (window.played.currentTime > 0 || window.played.ended)", timeout=15000
    )
    assert page.url == url  # played in place
    assert len(fetched) == 1 and fetched[0].startswith(page.url.split("/p/")[0] + "/audio/")
    assert page.evaluate("window.played.src") == fetched[0]
    assert page.outside_requests == []


def test_without_javascript_each_listen_is_a_link_the_browser_plays(new_phone, bundled_consultation, issue_codes):
    code = issue_codes(bundled_consultation(), 1)[0]
    page = new_phone(java_script_enabled=False)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url) if "/audio/" in request.url else None)
    _to_first_question(page, code, "en")
    links = page.locator("main").get_by_role("link", name="Listen")
    assert links.count() >= 3 and links.count() == page.locator("main .listen").count()
    assert fetched == []  # nothing is fetched before a press
    page.locator("main input[type=checkbox]").first.check()
    with page.expect_navigation() as navigation:
        links.first.click()
    response = navigation.value
    assert response.status == 200 and response.headers["content-type"] == "audio/ogg"
    assert "immutable" in response.headers["cache-control"]
    assert len(fetched) >= 1 and all(url == response.url for url in fetched)
    assert page.locator("video").count() == 1  # the browser's own player, for the file
    page.go_back()  # and back on the page, the answer already given is still there
    page.wait_for_url("**/p/q/0")
    assert page.locator("main input[type=checkbox]").first.is_checked()


def test_the_recordings_console_passes_axe(page, world) -> None:
    from tests.browser.test_accessibility import _sign_in

    _sign_in(page, "ada")
    for language in ("en", "ar"):
        page.goto(f"/admin/instruments/reporting-mechanisms/audio?language={language}")
        assert page.locator("h1").inner_text().startswith("Read-aloud audio")
        assert _violations(page) == [], language

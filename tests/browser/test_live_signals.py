"""The facilitator's live view in Chromium: a new "talk to someone" request cannot be missed.

It is said by screen readers (an aria-live region), shown in the tab's title and in words on the
page, and beeps once the facilitator turned the sound on; all under the page's strict CSP (no
inline script) and with nothing loaded from other hosts.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_accessibility import _sign_in, _violations
from tests.conftest import World

#: Counts the tones the page starts (an init script is the browser's own, not the page's).
COUNT_TONES = """
window.__tones = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__tones += 1; return start.apply(this, args); };
"""


def test_a_new_request_is_announced_titled_highlighted_and_beeps(app, page, world: World, issue_codes) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.add_init_script(COUNT_TONES)
    page.clock.install()
    _sign_in(page, "fiona")
    page.goto(f"/facilitate/{world.consultation}/live")
    announcer = page.locator("[data-live-announce]")
    assert announcer.get_attribute("aria-live") == "assertive"
    expect(page.locator(".signal-alert")).to_have_count(0)
    sound = page.locator("[data-live-sound]")
    expect(sound).to_be_visible()
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    tones_before = page.evaluate("window.__tones")
    assert tones_before >= 1  # turning it on plays a sample

    child = app.test_client()
    assert child.post("/", data={"code": issue_codes(world.consultation, 1)[0], "seat": "Table 3"}).status_code == 302
    assert child.post("/p/talk").status_code == 200

    page.clock.fast_forward(16_000)  # the next check
    expect(announcer).to_have_text("New request to talk, seat: TABLE 3")
    expect(page).to_have_title(re.compile(r"^\(1\) Someone would like to talk"))
    alert = page.locator(".signal-alert[role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Waiting to talk to someone now: 1")
    expect(page.locator("[data-signal-status=open] .signal-badge")).to_have_text("NEW")
    assert page.evaluate("window.__tones") > tones_before
    assert page.url.endswith("/live")  # swapped in place, not reloaded: the sound stays on
    expect(sound).to_have_attribute("aria-pressed", "true")
    assert _violations(page) == []

    # "I'm going": the request stays listed, no longer new, and nothing is said again.
    page.click("[data-signal-status=open] button[value=acknowledged]")
    page.wait_for_load_state()
    expect(page.locator(".signal-badge")).to_have_count(0)
    expect(page.locator(".signal-alert")).to_have_count(0)
    assert not [text for text in problems if "Content Security Policy" in text], problems
    assert page.outside_requests == []

"""Pages a child can manage on a small phone (issue 16): measured in Chromium at 360 x 740.

The bundled consultation, walked the way a child walks it, in English (youngest band) and
Arabic (right to left, oldest band):

* the header (with the quick-exit button) takes at most a fifth of the screen, and no page is
  wider than the screen;
* the quick-exit button is on the screen, whole, at every point while each page is scrolled
  from top to bottom (a child mid-page can leave without scrolling back up), and never lies over
  a question, an answer or its label: it sits in a bar across the top of the screen, under which
  the page passes only as it leaves the screen;
* going back through the page with the keyboard (Shift+Tab) never leaves the focused control
  hidden under that bar;
* the youngest band's information page brings the Yes button within about two screens, with
  everything else one tap away under "Tell me more";
* the comfort matrix (7 rows) stays a manageable length, each row its own group.

Set ``SAUTI_SCREENSHOTS=/some/dir`` to keep a full-page PNG of every page seen.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.test_accessibility import _violations

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 360, 740
HEADER_LIMIT = HEIGHT / 5  # 148 px
YES_LIMIT = 1500  # about two screens
#: In a facilitated session the header has a third row ("I'd like to talk to someone"), and the
#: information names two limits of privacy; French, Spanish and Swahili run longer than English.
YES_LIMIT_FACILITATED = 1650
#: The 7-row comfort matrix, help panel included: 3,125-3,561 px before issue 16, now 1,900-2,450.
MATRIX_LIMIT = 2600

#: Scrolls the page from top to bottom in small steps; at each step lists every input, label,
#: legend or button of the main content that the quick-exit control overlaps, and every step at
#: which the quick-exit button is not wholly on the screen.  A control that is a bar across the
#: whole width at the screen's top edge (or lies inside one) covers nothing: what passes beneath
#: it is leaving the screen, as it would past the top edge itself.
_OVERLAPS_JS = """
(step) => {
  const inTopBar = r => Array.from(document.querySelectorAll(".quick-exit")).some(bar => {
    const b = bar.getBoundingClientRect();
    return b.top <= 0.5 && b.left <= 0.5 && b.right >= window.innerWidth - 0.5
      && r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5;
  });
  const exits = () => Array.from(document.querySelectorAll("[data-quick-exit], .quick-exit-button, .quick-exit"))
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0 && !inTopBar(r));
  const button = document.querySelector("[data-quick-exit]");
  const content = Array.from(document.querySelectorAll(
    "main input, main label, main legend, main button, main textarea, main select, main summary"));
  const hits = [];
  const bottom = document.documentElement.scrollHeight;
  for (let y = 0; y <= bottom; y += step) {
    window.scrollTo(0, y);
    const b = button.getBoundingClientRect();
    if (b.top < -0.5 || b.bottom > window.innerHeight + 0.5 || b.height === 0) {
      hits.push(`${window.scrollY}: the quick-exit button is off the screen`);
    }
    for (const exit of exits()) {
      for (const el of content) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) { continue; }
        if (r.left < exit.right && exit.left < r.right && r.top < exit.bottom && exit.top < r.bottom) {
          const words = (el.textContent || el.value || "").trim().slice(0, 30);
          hits.push(`${window.scrollY}: ${el.tagName.toLowerCase()} "${words}"`);
        }
      }
    }
  }
  window.scrollTo(0, 0);
  return hits;
}
"""

#: From the bottom of the page, Shift+Tab back through every control: where one is given the
#: focus under the bar that holds the quick exit (the bar's own controls apart).
_FOCUS_HIDDEN_JS = """
() => {
  const bar = document.querySelector(".quick-exit");
  const active = document.activeElement;
  const inTheBar = Boolean(bar && active && bar.contains(active));
  if (!bar || !active || inTheBar || !document.querySelector("main").contains(active)) { return [null, inTheBar]; }
  const r = active.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) { return [null, false]; }
  const words = (active.textContent || active.value || active.name || "").trim().slice(0, 30);
  const under = r.top < bar.getBoundingClientRect().bottom - 0.5;
  return [under ? `${active.tagName.toLowerCase()} "${words}"` : null, false];
}
"""

#: The bottom of the child header (and of the quick-exit control) with the page at its top.
_HEADER_BOTTOM_JS = """
() => {
  window.scrollTo(0, 0);
  const parts = Array.from(document.querySelectorAll("header, [data-quick-exit], .quick-exit-button, .quick-exit"));
  return Math.max(...parts.map(e => e.getBoundingClientRect().bottom + window.scrollY));
}
"""


def _shot(page, name: str) -> None:
    if os.environ.get("SAUTI_SCREENSHOTS"):
        folder = Path(os.environ["SAUTI_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _phone(new_phone, **options):
    return new_phone(viewport={"width": WIDTH, "height": HEIGHT}, **options)


class Tour:
    """Measures each page it is shown; keeps a screenshot when asked to."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.name = name
        self.headers: dict[str, float] = {}
        self.overlaps: dict[str, list[str]] = {}
        self.wide: dict[str, int] = {}
        self.shots = Path(os.environ["SAUTI_SCREENSHOTS"]) if os.environ.get("SAUTI_SCREENSHOTS") else None
        self.count = 0

    def measure(self, label: str | None = None) -> None:
        label = label or self.page.url.split("/", 3)[-1]
        self.count += 1
        self.headers[label] = self.page.evaluate(_HEADER_BOTTOM_JS)
        width = self.page.evaluate("() => document.documentElement.scrollWidth")
        if width > WIDTH:
            self.wide[label] = width
        hits = self.page.evaluate(_OVERLAPS_JS, 40)
        hits += self._hidden_by_the_bar()
        if hits:
            self.overlaps[label] = hits[:5]
        if self.shots:
            self.shots.mkdir(parents=True, exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-") or "start"
            self.page.screenshot(path=str(self.shots / f"{self.name}-{self.count:02d}-{safe}.png"), full_page=True)

    def _hidden_by_the_bar(self) -> list[str]:
        """Shift+Tab from the page's end back to its top; the controls that got the focus unseen."""
        page = self.page
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        page.evaluate(
            "() => Array.from(document.querySelectorAll('a[href], button, input, textarea, summary')).pop()?.focus()"
        )
        hidden = []
        for _ in range(120):
            page.keyboard.press("Shift+Tab")
            found, in_the_bar = page.evaluate(_FOCUS_HIDDEN_JS)  # one round trip a key press
            if found:
                hidden.append(f"focused under the bar: {found}")
            if in_the_bar:
                break
        page.evaluate("() => window.scrollTo(0, 0)")
        return hidden

    def too_tall(self) -> dict[str, float]:
        return {label: bottom for label, bottom in self.headers.items() if bottom > HEADER_LIMIT}


def _walk(page, tour: Tour, code: str, *, age: str, lang: str) -> None:
    page.goto(f"/?lang={lang}")
    tour.measure("start")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")
    tour.measure("age")
    page.check(f"input[name=age][value='{age}']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")
    tour.measure("about")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/*")
    pages = 0
    while "/p/q/" in page.url:
        pages += 1
        assert pages < 60
        tour.measure()
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
    tour.measure("end")
    for path in ("/help", "/p/upset", "/p/stop"):
        page.goto(path)
        tour.measure(path)


@pytest.mark.parametrize(("lang", "age", "facilitated"), [("en", "9", False), ("ar", "15", True)])
def test_header_and_quick_exit_leave_the_page_to_the_child(
    app, new_phone, bundled_consultation, issue_codes, lang: str, age: str, facilitated: bool
) -> None:
    consultation = bundled_consultation(facilitated=facilitated)
    page = _phone(new_phone)
    tour = Tour(page, f"{lang}-{age}")
    code = issue_codes(consultation, 1)[0]
    _walk(page, tour, code, age=age, lang=lang)
    assert tour.count > 20
    problems = {
        "header taller than a fifth of the screen": tour.too_tall(),
        "quick exit over the page's content": tour.overlaps,
        "wider than the screen": tour.wide,
    }
    assert {name: found for name, found in problems.items() if found} == {}


def _to_about(page, code: str, *, age: str, lang: str) -> None:
    page.goto(f"/?lang={lang}")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")
    page.check(f"input[name=age][value='{age}']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")


def _top_of(page, selector: str) -> float:
    return page.evaluate("(s) => document.querySelector(s).getBoundingClientRect().top + window.scrollY", selector)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_youngest_band_reaches_yes_within_two_screens(
    app, new_phone, bundled_consultation, issue_codes, lang: str
) -> None:
    consultation = bundled_consultation()
    page = _phone(new_phone)
    _to_about(page, issue_codes(consultation, 1)[0], age="9", lang=lang)
    yes = "button[name=decision][value=yes]"
    _shot(page, f"about-A-{lang}")
    assert _top_of(page, yes) <= YES_LIMIT
    # Everything else is one tap away, and comes before the choice in reading order.
    more = page.locator("main details.more-information")
    assert more.count() == 1
    hidden = more.locator(":scope > :not(summary)").first
    assert not hidden.is_visible()
    more.locator("summary").click()
    assert hidden.is_visible()
    assert page.evaluate("""() => {
        const more = document.querySelector("main details.more-information");
        const yes = document.querySelector("button[name=decision][value=yes]");
        return Boolean(more.compareDocumentPosition(yes) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert _violations(page) == []


def test_youngest_band_reaches_yes_in_every_language_in_a_session(
    app, new_phone, bundled_consultation, issue_codes
) -> None:
    languages = ("en", "fr", "es", "ar", "sw")
    consultation = bundled_consultation(languages=languages, facilitated=True)
    tops = {}
    for lang, code in zip(languages, issue_codes(consultation, len(languages)), strict=True):
        page = _phone(new_phone)
        _to_about(page, code, age="9", lang=lang)
        tops[lang] = _top_of(page, "button[name=decision][value=yes]")
    assert {lang: top for lang, top in tops.items() if top > YES_LIMIT_FACILITATED} == {}, tops


def test_youngest_band_information_keeps_every_part_without_javascript(
    app, new_phone, bundled_consultation, issue_codes
) -> None:
    import sqlalchemy as sa

    from survey.extensions import db
    from survey.models import Participant
    from survey.services import journey

    consultation = bundled_consultation(languages=("en",))
    page = _phone(new_phone, java_script_enabled=False)
    _to_about(page, issue_codes(consultation, 1)[0], age="9", lang="en")
    page.locator("main details.more-information summary").click()
    shown = page.locator("main").inner_text()
    with app.app_context():
        participant = db.session.scalars(sa.select(Participant)).one()
        text = journey.information_text(participant, "en")
    for paragraph in text.paragraphs():
        assert paragraph.lstrip("• ") in shown, paragraph


def _to_matrix(page, code: str, *, age: str, lang: str) -> None:
    _to_about(page, code, age=age, lang=lang)
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/*")
    while not page.locator("fieldset.matrix").count():
        assert "/p/q/" in page.url, "no matrix page"
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))


@pytest.mark.parametrize(("lang", "age"), [("en", "9"), ("en", "15"), ("ar", "15")])
def test_comfort_matrix_a_row_at_a_time(app, new_phone, bundled_consultation, issue_codes, lang: str, age: str) -> None:
    consultation = bundled_consultation()
    page = _phone(new_phone)
    _to_matrix(page, issue_codes(consultation, 1)[0], age=age, lang=lang)
    _shot(page, f"matrix-{lang}-{age}")
    rows = page.locator("fieldset.matrix fieldset.matrix-row")
    assert rows.count() == 7
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= MATRIX_LIMIT, f"the matrix page is {height} px long"
    # Each row fits on the screen by itself, so a child answers it without scrolling.
    tallest = max(rows.nth(i).bounding_box()["height"] for i in range(7))
    assert tallest <= HEIGHT / 2
    # ...and nothing runs off the side of the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    assert _violations(page) == []


def test_a_reserved_answer_clears_the_other_choices(app, new_phone, bundled_consultation, issue_codes) -> None:
    """With JavaScript, "I'd rather not say" and "I don't know" clear the other choices, and back."""
    consultation = bundled_consultation(languages=("en",))
    page = _phone(new_phone)
    _to_about(page, issue_codes(consultation, 1)[0], age="9", lang="en")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/*")
    while not page.locator("input[name=q_TR1]").count():
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    checked = "input[name=q_TR1]:checked"
    page.check("input[name=q_TR1][value=parent]")
    page.check("input[name=q_TR1][value=friend]")
    page.check("input[name=q_TR1][value=_rns]")
    assert page.locator(checked).evaluate_all("els => els.map(e => e.value)") == ["_rns"]
    page.check("input[name=q_TR1][value=_dk]")
    assert page.locator(checked).evaluate_all("els => els.map(e => e.value)") == ["_dk"]
    page.check("input[name=q_TR1][value=teacher]")
    assert page.locator(checked).evaluate_all("els => els.map(e => e.value)") == ["teacher"]
    while not page.locator("textarea[name=q_ID2]").count():
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    page.locator("textarea[name=q_ID2]").press_sequentially("A big button")
    page.check("input[name=rns_ID2]")
    assert page.locator("textarea[name=q_ID2]").input_value() == ""
    page.locator("textarea[name=q_ID2]").press_sequentially("Help")
    assert not page.locator("input[name=rns_ID2]").is_checked()


def test_header_fits_in_every_shipped_language(app, new_phone, bundled_consultation, issue_codes) -> None:
    """The longest header: a facilitated session (with "I'd like to talk to someone"), each language."""
    languages = ("en", "fr", "es", "ar", "sw")
    consultation = bundled_consultation(languages=languages, facilitated=True)
    codes = issue_codes(consultation, len(languages))
    heights = {}
    for lang, code in zip(languages, codes, strict=True):
        page = _phone(new_phone)
        _to_about(page, code, age="12", lang=lang)
        page.click("button[name=decision][value=yes]")
        page.wait_for_url("**/p/q/*")
        assert page.locator("html").get_attribute("lang") == lang
        heights[lang] = page.evaluate(_HEADER_BOTTOM_JS)
        _shot(page, f"header-{lang}")
    assert {lang: h for lang, h in heights.items() if h > HEADER_LIMIT} == {}, heights

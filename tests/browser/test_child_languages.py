"""A child completes the demonstration consultation in Kiswahili, and another in Arabic, in Chromium,
and every page is entirely in the child's language (issue 17).

The consultation is the one ``sauti demo --languages en,sw,ar`` runs (bundled questionnaire,
consent texts and generic country profile as shipped).  On each page the visible text (and the
alt and aria-label texts), with every "Tell me more" opened, is checked for words of Sauti's
other languages (:mod:`tests.language_words`); only what is marked with its own ``lang`` (the
language menu's "English") may be in another language.  The youngest age group here (the
oldest goes right to left in test_bundled_journey.py); every page of every age group in every
shipped language is checked without a browser in tests/survey/test_child_languages.py.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.child import Child, participant_states
from tests.language_words import foreign_in

pytestmark = pytest.mark.browser

#: The text a person sees or hears, leaving out what is marked as another language.
_VISIBLE_JS = """
(lang) => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const own = (el) => { const marked = el.closest("[lang]"); return !marked || marked.lang.split("-")[0] === lang; };
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !own(el) || el.closest("script, style, template")) { continue; }
    if (!el.checkVisibility({checkVisibilityCSS: true})) { continue; }
    parts.push(node.textContent);
  }
  for (const el of document.body.querySelectorAll("[alt], [aria-label], [placeholder], [title]")) {
    if (!own(el) || !el.checkVisibility({checkVisibilityCSS: true})) { continue; }
    for (const name of ["alt", "aria-label", "placeholder", "title"]) {
      if (el.getAttribute(name)) { parts.push(el.getAttribute(name)); }
    }
  }
  return parts.join(" ");
}
"""


@pytest.fixture
def demo_codes(app):
    from survey.services.demo import set_up_demo

    with app.app_context():
        return [card.code for card in set_up_demo(code_count=2, languages=["en", "sw", "ar"]).cards]


class LanguageTour:
    """Reads each page a child reaches and keeps what is not in the child's language."""

    def __init__(self, page, language: str, direction: str) -> None:
        self.page, self.language, self.direction = page, language, direction
        self.foreign: dict[str, list[str]] = {}
        self.pages = 0

    def check(self, name: str | None = None) -> None:
        html = self.page.locator("html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (self.language, self.direction), name
        found = foreign_in(self.page.evaluate(_VISIBLE_JS, self.language), self.language)
        if found:
            self.foreign[name or self.page.url] = found
        self.pages += 1


def _complete(page, code: str, language: str, direction: str, age: str) -> LanguageTour:
    tour = LanguageTour(page, language, direction)
    # Open boxes are left empty (typing is slow; the words around them are what is checked).
    child = Child(page, choose=lambda group: "" if group["kind"] == "text" else None)
    page.goto(f"/?lang={language}")
    tour.check("start")
    # Only the consultation's languages are offered, each by its own name.
    assert page.locator(".language-menu nav a").all_inner_texts() == ["English", "Kiswahili", "العربية"]
    child.enter_code(code)
    tour.check("age")
    child.give_age(age)
    tour.check("about")
    child.assent()
    child.finish_pages(on_page=tour.check)
    tour.check("end")
    child.keep_answers()
    tour.check("done")
    return tour


def test_a_child_completes_the_consultation_entirely_in_kiswahili(app, new_phone, demo_codes) -> None:
    page = new_phone()
    tour = _complete(page, demo_codes[0], "sw", "ltr", age="9")
    assert tour.foreign == {} and tour.pages > 15
    assert participant_states(app).count("completed") == 1
    assert page.outside_requests == []


def test_a_child_completes_the_consultation_entirely_in_arabic(app, new_phone, demo_codes) -> None:
    page = new_phone()
    tour = _complete(page, demo_codes[1], "ar", "rtl", age="9")
    assert tour.foreign == {} and tour.pages > 15
    # The helpline number keeps its own order inside the right-to-left page.
    number = page.locator(".helplines a[href^='tel:']").first
    assert number.get_attribute("dir") == "ltr" and re.fullmatch(r"116 111", number.inner_text())
    assert participant_states(app).count("completed") == 1
    assert page.outside_requests == []


def _shown_answers(page) -> tuple[set, dict]:
    checked = page.locator("main input:checked").evaluate_all("els => els.map(e => e.name + '=' + e.value)")
    typed = page.locator("main textarea").evaluate_all("els => Object.fromEntries(els.map(e => [e.name, e.value]))")
    return set(checked), typed


def _choose_language(page, language: str) -> None:
    page.click("details.language-menu summary")  # the languages fold into one button
    page.click(f"nav.languages [lang={language}]")
    page.wait_for_url(re.compile(rf".*/p/q/\d+\?lang={language}$"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_switching_language_keeps_the_ticks_and_words_of_the_page(
    app, new_phone, bundled_consultation, issue_codes, javascript
) -> None:
    """F13 (independent review, December 2026): choosing a language on a question page lost what
    the child had ticked or typed there.  The page comes back in the new language with it, with
    or without JavaScript; nothing is saved until Next."""
    from tests.browser.child import TEXT_ANSWER, stored_answers

    page = new_phone(java_script_enabled=javascript)
    child = Child(page)
    child.enter_code(issue_codes(bundled_consultation(languages=("en", "sw", "ar")), 1)[0])
    child.give_age("12")
    child.assent()
    child.answer_page()  # ticks on the first page, not sent
    ticked, _typed = _shown_answers(page)
    assert ticked
    at = page.url
    _choose_language(page, "sw")
    assert page.url.split("?")[0] == at
    assert page.locator("html").get_attribute("lang") == "sw"
    assert _shown_answers(page)[0] == ticked
    assert stored_answers(app) == {}
    while not page.locator("main textarea").count():  # on to a page with a text box
        child.answer_page()
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    before = stored_answers(app)
    child.answer_page()  # typed words (and any ticks), not sent
    ticked, typed = _shown_answers(page)
    assert set(typed.values()) == {TEXT_ANSWER}
    _choose_language(page, "ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert _shown_answers(page) == (ticked, typed)
    assert stored_answers(app) == before
    page.click("button[name=nav][value=next]")  # Next saves them, in the chosen language
    page.wait_for_url(re.compile(r".*/p/(q/\d+|end|noted.*)$"))
    assert page.locator("html").get_attribute("lang") == "ar"
    assert TEXT_ANSWER in [value for answers in stored_answers(app).values() for value in answers.values()]

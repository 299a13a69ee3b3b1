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

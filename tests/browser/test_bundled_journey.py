"""A child takes the bundled consultation on a phone-sized Chromium, from the code to "thank you".

Issue 5, item 7: English (youngest band: faces and pictograms) and Arabic (oldest band: 5-point
scales, right to left), every page answered by taps and typing, then the database is compared
with what was given.  Then the side paths: skipping, "I'd rather not say", the upset page,
stop-and-delete, quick exit by button and by keyboard, resume on a new device, switching
language mid-survey, and the whole thing with JavaScript turned off.  axe-core checks each new
kind of page as it first appears, in both languages.
"""

from __future__ import annotations

import re

import pytest

from instruments.bundled import load_bundled
from tests.browser.child import RNS, TEXT_ANSWER, Child, expected_answers, participant_states, stored_answers
from tests.browser.test_accessibility import _violations

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0600-\u06FF]")

#: What a survey page shows, to run axe once for each new kind of page.
_FEATURES_JS = """
() => {
  const main = document.querySelector("main");
  const f = [];
  const has = (sel) => main.querySelector(sel) !== null;
  if (has("fieldset.matrix")) f.push("matrix");
  if (has(".options.faces")) f.push("faces");
  if (has("img.pictogram")) f.push("pictogram");
  if (has("textarea")) f.push("text");
  if (has(".note-item")) f.push("note");
  if (has(".section-notice")) f.push("section-notice");
  if (has("input[type=checkbox][name^=q_]")) f.push("multi");
  if (has("fieldset.item:not(.matrix) input[type=radio]")) f.push("single");
  if (has(".errors")) f.push("error");
  return f;
}
"""


class AxeTour:
    """Runs axe on a page when it shows something no earlier page showed."""

    def __init__(self, page) -> None:
        self.page = page
        self.checked: set[str] = set()
        self.problems: dict[str, list[str]] = {}

    def check(self, name: str) -> None:
        self.problems[name] = _violations(self.page)

    def check_if_new(self) -> None:
        features = set(self.page.evaluate(_FEATURES_JS))
        if features - self.checked:
            self.checked |= features
            self.check(f"{self.page.url.split('/p/')[-1]} {sorted(features)}")

    def failures(self) -> dict[str, list[str]]:
        return {name: found for name, found in self.problems.items() if found}


@pytest.fixture
def instrument():
    return load_bundled("reporting-mechanisms")


def _only_child(app) -> dict[str, str]:
    answers = stored_answers(app)
    assert len(answers) <= 1
    return next(iter(answers.values()), {})


def test_english_youngest_band_completes_with_skips(
    app, new_phone, bundled_consultation, issue_codes, instrument
) -> None:
    consultation = bundled_consultation()
    page = new_phone()
    axe = AxeTour(page)

    def choose(group: dict) -> object:
        name = group["name"]
        if name == "q_AW1":
            return RNS  # "I'd rather not say": its own stored code
        if name == "q_AW3":
            return ""  # skipped: nothing is stored
        return None

    child = Child(page, choose=choose)
    page.goto("/")
    axe.check("start")
    child.enter_code(issue_codes(consultation, 1)[0])
    axe.check("age")
    child.give_age("9")
    axe.check("about")
    child.assent()
    seen_faces = seen_pictograms = tried_maximum = skipped_section = False
    pages = 0
    while "/p/q/" in page.url:
        pages += 1
        assert pages < 60
        assert page.locator("progress").count() == 1
        assert page.locator("button[name=nav][value=next]").is_visible()
        axe.check_if_new()
        groups = {group["name"]: group for group in child.groups()}
        if "q_BA1" in groups and not skipped_section:
            # The sensitive block can be skipped as a whole from its notice.
            skipped_section = True
            page.click("button[name=nav][value=skip_section]")
            page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
            continue
        if "q_TR1" in groups and not tried_maximum:
            # Four answers where three is the maximum: the page explains and keeps the choices.
            tried_maximum = True
            limit = groups["q_TR1"]["limit"]
            assert limit == 3
            for value in groups["q_TR1"]["values"][: limit + 1]:
                page.check(f"input[name=q_TR1][value='{value}']")
            page.click("button[name=nav][value=next]")
            page.wait_for_load_state()
            assert page.locator(".errors").inner_text().strip() == "Please choose up to 3 answers."
            assert page.locator("input[name=q_TR1]:checked").count() == limit + 1
            axe.check_if_new()
            for value in groups["q_TR1"]["values"][: limit + 1]:
                page.uncheck(f"input[name=q_TR1][value='{value}']")
        if page.locator(".options.faces").count():
            seen_faces = True
            # Three faces for the youngest band, with "I'd rather not say" kept apart.
            assert page.locator(".options.faces .choice").count() == 3
            assert page.locator(".options.faces img.pictogram[alt]").count() == 3
        if page.locator("img.pictogram").count():
            seen_pictograms = True
            alts = page.locator("img.pictogram").evaluate_all("els => els.map(e => e.alt)")
            assert all(alt.strip() for alt in alts)
            assert page.locator("img.pictogram").evaluate_all("els => els.every(e => e.naturalWidth > 0)")
        if "q_ID2" in groups:
            # The "don't write names" notice sits with the box, and the counter counts as the child types.
            assert "Please don't write names" in page.locator("#q_ID2-notice").inner_text()
            page.locator("#q_ID2").press_sequentially("Help")
            assert page.locator("#q_ID2-count").inner_text().strip() == "4 / 500"
        child.answer_page()
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
    assert seen_faces and seen_pictograms and tried_maximum and skipped_section
    axe.check("end")
    child.keep_answers()
    assert page.locator("h1").inner_text() == "Thank you!"
    axe.check("done")

    stored = _only_child(app)
    expected = expected_answers(instrument, child.given)
    assert stored == expected
    assert stored["AW1"] == RNS and "AW3" not in stored
    assert not [item for item in stored if item.startswith("BA")]  # the skipped part
    assert stored["ID2"] == TEXT_ANSWER
    assert participant_states(app) == ["completed"]
    assert axe.failures() == {}
    assert page.outside_requests == []


def test_arabic_oldest_band_completes_right_to_left(
    app, new_phone, bundled_consultation, issue_codes, instrument
) -> None:
    consultation = bundled_consultation()
    page = new_phone()
    axe = AxeTour(page)
    child = Child(page)
    page.goto("/?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    axe.check("start")
    child.enter_code(issue_codes(consultation, 1)[0])
    axe.check("age")
    child.give_age("15")
    assert ARABIC.search(page.locator("main").inner_text())
    axe.check("about")
    child.assent()
    pages = 0
    seen_scale = False
    while "/p/q/" in page.url:
        pages += 1
        assert pages < 60
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("html").get_attribute("lang") == "ar"
        groups = child.groups()
        for group in groups:
            if group["label"].strip():
                assert ARABIC.search(group["label"]), group
        if "q_TR4" in {group["name"] for group in groups}:
            # The oldest band gets the 5-point labelled scale, not faces.
            seen_scale = True
            assert page.locator(".options.faces").count() == 0
            assert page.locator("input[name=q_TR4]:not([value^='_'])").count() == 5
        axe.check_if_new()
        child.answer_page()
        page.click("button[name=nav][value=next]")
        page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
    assert seen_scale and pages > 20
    axe.check("end")
    for path in ("/help", "/p/upset", "/p/stop"):
        page.goto(path)
        assert page.locator("html").get_attribute("dir") == "rtl"
        axe.check(path)
    page.goto("/p/end")
    child.keep_answers()
    assert ARABIC.search(page.locator("h1").inner_text())
    axe.check("done")

    assert _only_child(app) == expected_answers(instrument, child.given)
    assert participant_states(app) == ["completed"]
    assert axe.failures() == {}
    assert page.outside_requests == []


def _start(page, code: str, *, age: str = "12", lang: str | None = None) -> Child:
    child = Child(page)
    child.enter_code(code, lang=lang)
    child.give_age(age)
    child.assent()
    return child


def _answer_pages(child: Child, count: int) -> None:
    for _ in range(count):
        child.answer_page()
        child.page.click("button[name=nav][value=next]")
        child.page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))


def _assert_shows_given(page, child: Child) -> None:
    """The page shows checked exactly what the child gave on it (and something was given)."""
    checked: dict[str, list[str]] = {}
    for name, value in page.locator("main input:checked").evaluate_all("els => els.map(e => [e.name, e.value])"):
        checked.setdefault(name, []).append(value)
    assert checked
    for name, values in checked.items():
        given = child.given[name]
        assert (given if isinstance(given, list) else [given]) == values, name


def test_upset_path_then_back_to_the_same_page(app, new_phone, bundled_consultation, issue_codes) -> None:
    page = new_phone()
    child = _start(page, issue_codes(bundled_consultation(), 1)[0])
    _answer_pages(child, 2)
    left_at = page.url
    page.click("text=I feel upset")
    page.wait_for_url("**/p/upset")
    assert page.locator("h1").inner_text() == "It's okay to feel this way"
    assert "Childline: 0800 1111" in page.locator(".help-panel").inner_text()
    page.click("text=Go back to the questions")
    page.wait_for_url(left_at)
    page.click("button[name=nav][value=back]")
    page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    # The previous page shows what was chosen there.
    _assert_shows_given(page, child)


def test_stop_and_delete_leaves_nothing(app, new_phone, bundled_consultation, issue_codes) -> None:
    consultation = bundled_consultation()
    codes = issue_codes(consultation, 2)
    other = new_phone()
    _answer_pages(_start(other, codes[1]), 1)  # someone else's answers stay
    page = new_phone()
    _answer_pages(_start(page, codes[0]), 3)
    assert len(stored_answers(app)) == 2
    page.click("nav.child-tools >> text=Stop")
    page.wait_for_url("**/p/stop")
    page.click("button[name=choice][value=delete]")
    page.wait_for_url("**/p/stopped*")
    assert "Everything you answered has been deleted" in page.content()
    assert _violations(page) == []
    answers = stored_answers(app)
    assert len(answers) == 1 and answers == stored_answers(app)
    assert "withdrawn" in participant_states(app)
    page.goto("/p/q/0")
    assert page.url.endswith("/")  # the session is gone too


def test_quick_exit_by_button_and_by_keyboard(app, new_phone, bundled_consultation, issue_codes) -> None:
    codes = issue_codes(bundled_consultation(), 2)
    for code, how in zip(codes, ("button", "keyboard"), strict=True):
        page = new_phone()
        _answer_pages(_start(page, code, lang="ar" if how == "keyboard" else None), 1)
        if how == "button":
            page.click(".quick-exit-button")
        else:
            page.locator("main").click(position={"x": 5, "y": 5})
            for _ in range(3):
                page.keyboard.press("Shift")
        page.wait_for_url("**/notes")
        # A neutral screen: no survey words, no help panel, nothing about the consultation.
        text = page.locator("body").inner_text()
        assert "survey" not in text.lower() and "Childline" not in text and "Bundled" not in text
        assert _violations(page) == []
        page.go_back()
        assert "/p/q/" not in page.url
        page.goto("/p/")
        assert page.url.endswith("/"), how


def test_resume_on_a_new_device_lands_on_the_page_left(
    app, browser, live_server, new_phone, bundled_consultation, issue_codes
) -> None:
    code = issue_codes(bundled_consultation(), 1)[0]
    page = new_phone()
    child = _start(page, code)
    _answer_pages(child, 3)
    left_at = page.url
    before = stored_answers(app)
    page.context.close()  # the tab (and the device's cookies) are gone

    page = new_phone()
    resumed = Child(page)
    resumed.enter_code(code.lower().replace("-", " "))
    assert page.url == left_at
    page.click("button[name=nav][value=back]")
    page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    _assert_shows_given(page, child)
    assert stored_answers(app) == before


def test_switching_language_mid_survey_keeps_answers(app, new_phone, bundled_consultation, issue_codes) -> None:
    page = new_phone()
    child = _start(page, issue_codes(bundled_consultation(), 1)[0])
    _answer_pages(child, 3)
    before = stored_answers(app)
    at = page.url
    page.click("details.language-menu summary")  # the languages fold into one button
    page.click("nav.languages [lang=ar]")  # a button sending the page on a question page
    page.wait_for_url(re.compile(r".*/p/q/\d+\?lang=ar$"))
    assert page.url.split("?")[0] == at
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert ARABIC.search(page.locator("main legend, main label").first.inner_text())
    page.click("button[name=nav][value=back]")
    page.wait_for_url(re.compile(r".*/p/q/\d+$"))
    assert page.locator("html").get_attribute("dir") == "rtl"  # the choice is remembered
    _assert_shows_given(page, child)
    page.click("details.language-menu summary")
    page.click("nav.languages [lang=en]")
    page.wait_for_url("**?lang=en")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert stored_answers(app) == before


def test_works_with_javascript_turned_off(app, new_phone, bundled_consultation, issue_codes, instrument) -> None:
    page = new_phone(java_script_enabled=False)
    child = _start(page, issue_codes(bundled_consultation(), 1)[0], age="13")
    _answer_pages(child, 4)
    assert participant_states(app)[0] in ("answering", "assented")
    stored = _only_child(app)
    assert stored and stored == {
        item: value for item, value in expected_answers(instrument, child.given).items() if item in stored
    }
    # Without scripts the quick exit is a plain link that still lands somewhere neutral.
    page.click(".quick-exit-button")
    page.wait_for_url("**/notes")
    page.goto("/p/")
    assert page.url.endswith("/")


def test_shared_device_returns_to_the_start_and_keeps_nothing(
    app, new_phone, bundled_consultation, issue_codes
) -> None:
    page = new_phone()
    child = _start(page, issue_codes(bundled_consultation(shared_device=True), 1)[0])
    page.goto("/p/end")
    child.keep_answers()
    assert page.locator("h1").inner_text() == "Thank you!"
    assert _violations(page) == []
    # The screen will go back to the start for the next child; a slow reader can stop that.
    notice = page.locator("[data-return-to]")
    assert notice.is_visible()
    notice.locator("button").click()
    assert not notice.is_visible()
    page.goto("/p/")
    assert page.url.endswith("/")  # the device holds no session any more

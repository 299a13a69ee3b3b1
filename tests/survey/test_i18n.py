"""Locale selection and right-to-left layout; the catalogues are current and compiled."""

from __future__ import annotations

import pytest

from survey.translations_check import stale_catalogues

WELCOME = {
    "en": "Hello! Welcome.",
}


def _lang_and_dir(html: str) -> tuple[str, str]:
    import re

    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', html)
    assert match
    return match.group(1), match.group(2)


def test_default_is_english(client) -> None:
    html = client.get("/").get_data(as_text=True)
    assert _lang_and_dir(html) == ("en", "ltr")
    assert WELCOME["en"] in html


@pytest.mark.parametrize("language", ["fr", "es", "ar", "sw"])
def test_each_shipped_language_is_translated(client, language: str) -> None:
    html = client.get(f"/?lang={language}").get_data(as_text=True)
    assert _lang_and_dir(html)[0] == language
    assert WELCOME["en"] not in html, "the page is still in English"


def test_arabic_is_right_to_left(client) -> None:
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert _lang_and_dir(html) == ("ar", "rtl")


def test_explicit_choice_then_session_then_accept_language(client) -> None:
    assert _lang_and_dir(client.get("/", headers={"Accept-Language": "sw"}).get_data(as_text=True))[0] == "sw"
    client.get("/?lang=fr")
    # The session's choice beats the browser's preference.
    html = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert _lang_and_dir(html)[0] == "fr"
    # An unknown language is ignored, not an error.
    assert client.get("/?lang=xx").status_code == 200


def test_a_browser_s_languages_are_matched_against_what_this_child_may_use(app, make_consultation, issue_codes) -> None:
    """The same Accept-Language header (its best match kept per header and offered languages)
    gives French to a child whose consultation offers it and English to one whose does not."""
    header = {"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}
    shown = {}
    for languages in (("en", "fr"), ("en",)):
        client = app.test_client()
        code = issue_codes(make_consultation(languages=languages), 1)[0]
        assert client.post("/", data={"code": code}, headers=header).status_code == 302
        shown[languages] = _lang_and_dir(client.get("/p/age", headers=header).get_data(as_text=True))[0]
    assert shown == {("en", "fr"): "fr", ("en",): "en"}
    long_header = {"Accept-Language": "de;q=0.1, " * 40 + "fr"}  # fr: offered by an open consultation
    assert _lang_and_dir(app.test_client().get("/", headers=long_header).get_data(as_text=True))[0] == "fr"


def test_catalogues_are_current_and_compiled() -> None:
    assert stale_catalogues() == []


def test_one_babel_locale_per_language_and_its_code_as_babel_says(app) -> None:
    from babel import Locale
    from flask_babel import force_locale, get_locale

    from survey.i18n import kept_locale, locale_code

    for code in app.config["SUPPORTED_LOCALES"]:
        assert kept_locale(code) is kept_locale(code) and kept_locale(code) == Locale.parse(code)
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        chosen = get_locale()
        assert chosen is kept_locale("fr") and locale_code() == str(chosen) == "fr"
        with force_locale("sw"):  # feedback sheets in another language
            assert locale_code() == str(get_locale()) == "sw"
        assert locale_code() == "fr"
    with app.test_request_context("/?lang=ar"):
        assert locale_code() == "ar" and get_locale() is kept_locale("ar")

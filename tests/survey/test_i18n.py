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


def test_catalogues_are_current_and_compiled() -> None:
    assert stale_catalogues() == []

"""Locale selection and text direction for the interface."""

from __future__ import annotations

from flask import current_app, request, session

from survey.config import RTL_LANGUAGES

LOCALE_SESSION_KEY = "lang"

#: Language names in the language itself, for the language switcher.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "sw": "Kiswahili",
}


def select_locale() -> str:
    """An explicit ``?lang=`` choice, then the session's, then Accept-Language, then the default."""
    supported = current_app.config["SUPPORTED_LOCALES"]
    explicit = request.args.get("lang", "")
    if explicit in supported:
        session[LOCALE_SESSION_KEY] = explicit
        return explicit
    remembered = session.get(LOCALE_SESSION_KEY)
    if remembered in supported:
        return remembered
    best = request.accept_languages.best_match(supported)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0].split("-")[0] in RTL_LANGUAGES else "ltr"

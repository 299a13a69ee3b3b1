"""Locale selection and text direction for the interface."""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import lazy_gettext as _l

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


#: Words staff see for participant and consultation states (the stored values stay English codes).
STATE_LABELS = {
    "issued": _l("code issued"),
    "assented": _l("said yes"),
    "answering": _l("answering"),
    "completed": _l("finished"),
    "withdrawn": _l("withdrew"),
    "declined": _l("said no"),
    "expired": _l("expired"),
    "draft": _l("draft"),
    "open": _l("open"),
    "closed": _l("closed"),
    "archived": _l("archived"),
    "permission_seen": _l("form seen"),
    "withheld": _l("withheld"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))

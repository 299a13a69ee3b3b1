"""Locale selection and text direction for the interface."""

from __future__ import annotations

from babel import Locale
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

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


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the Babel locale of :func:`choose_locale`'s choice, one
    object per language code for the process (:func:`kept_locale`)."""
    return kept_locale(choose_locale())


#: One Babel ``Locale`` per language code, with its code: Flask-Babel parses the selector's string
#: into a new ``Locale`` on every request (``Locale.parse`` returns a ``Locale`` given one as it
#: is), and ``str()`` of a locale works its identifier out again each time it is asked.
_kept_locales: dict[str, Locale] = {}
_locale_codes: dict[int, tuple[Locale, str]] = {}


def kept_locale(code: str) -> Locale:
    """The process's one ``Locale`` for ``code`` (codes come from the configured languages).

    >>> kept_locale("fr") is kept_locale("fr"), str(kept_locale("fr"))
    (True, 'fr')
    """
    locale = _kept_locales.get(code)
    if locale is None:
        locale = Locale.parse(code)
        if len(_kept_locales) < 64:  # the configured languages: a handful
            _kept_locales[code] = locale
            _locale_codes[id(locale)] = (locale, str(locale))
    return locale


def locale_code() -> str:
    """``str(get_locale())``: this request's language code (as Flask-Babel gives it: a
    ``force_locale`` block counts), without working the identifier out again."""
    locale = get_locale()
    known = _locale_codes.get(id(locale))
    return known[1] if known is not None and known[0] is locale else str(locale)


def choose_locale() -> str:
    """An explicit ``?lang=`` choice, then the session's, then Accept-Language, then the default,
    among the languages this request may use (:func:`offered_locales`); outside a request (the
    command line), the default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = offered_locales()
    asked = request._get_current_object()  # one proxy look-up
    kept = session._get_current_object()
    explicit = asked.args.get("lang", "") if asked.query_string else ""
    if explicit in supported:
        kept[LOCALE_SESSION_KEY] = explicit
        return explicit
    remembered = kept.get(LOCALE_SESSION_KEY)
    if remembered in supported:
        return remembered
    best = _best_match(asked.headers.get("Accept-Language", ""), supported)
    default = current_app._get_current_object().config["BABEL_DEFAULT_LOCALE"]
    return best or (default if default in supported else supported[0])


#: Accept-Language headers' best matches among the offered languages: a browser sends the
#: same header on every request, and parsing it was a tenth of choosing the language.
_best_matches: dict[tuple[str, tuple[str, ...]], str | None] = {}
_HEADERS_KEPT = 1024
_HEADER_KEPT_LENGTH = 200


def _best_match(header: str, supported: list[str]) -> str | None:
    """``request.accept_languages.best_match(supported)`` for the header ``header``.

    >>> _best_match("fr-CH, fr;q=0.9, en;q=0.8", ["en", "fr"]), _best_match("", ["en"])
    ('fr', None)
    """
    key = (header, tuple(supported))
    if key in _best_matches:
        return _best_matches[key]
    best = parse_accept_header(header, LanguageAccept).best_match(supported)
    if len(header) <= _HEADER_KEPT_LENGTH:  # a long header (never a browser's) is not kept
        if len(_best_matches) >= _HEADERS_KEPT:
            _best_matches.clear()
        _best_matches[key] = best
    return best


def offered_locales() -> list[str]:
    """The languages this request may be shown in.

    A child in a consultation gets only the consultation's languages (each one checked, when the
    consultation opened, to have every text a child reads); a child-facing page before a code is
    entered offers the languages of the open consultations; staff pages offer every catalogue.
    """
    here = g._get_current_object()
    offered = here.get("_sauti_offered")
    if offered is not None:
        return offered
    app = current_app._get_current_object()  # one proxy look-up
    supported = list(app.config["SUPPORTED_LOCALES"])
    offered = supported
    from survey.access import request_is_child_facing

    asked = request._get_current_object()
    if request_is_child_facing(app, asked.endpoint, asked.path):
        from survey.services.participants import current_participant, open_consultation_languages

        participant = current_participant()
        languages = participant.consultation.language_list if participant is not None else open_consultation_languages()
        offered = [code for code in languages if code in supported] or offered
    here._sauti_offered = offered
    return offered


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0].split("-")[0] in RTL_LANGUAGES else "ltr"


def isolated(value: str, language: str | None) -> str:
    """``value`` set apart (Unicode first-strong isolate) inside a right-to-left text, so that a
    left-to-right run in it, such as "Childline (0800 1111)", keeps its own order and its
    brackets; unchanged in a left-to-right language."""
    if language and text_direction(language) == "rtl" and value:
        return "\u2068" + value + "\u2069"
    return value


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
    # guardian-permission rules (consent.profiles.PermissionMode)
    "active_opt_in": _l("guardians say yes first (opt-in)"),
    "passive_opt_out": _l("guardians may say no (opt-out)"),
    "not_required_from_age": _l("not needed from a set age"),
    "waived_with_substitute_protection": _l("waived by an ethics committee, with another protection"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))

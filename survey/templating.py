"""Template globals: the current language, its direction, and the language switcher."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request
from flask_babel import get_locale

from survey.access import request_is_child_facing
from survey.i18n import LANGUAGE_NAMES, locale_code, offered_locales, state_label, text_direction
from survey.services.participants import current_participant
from survey.services.safeguarding import help_context

#: What a child's screen reads from its address besides the language, kept when the child
#: switches language: the thank-you and stopped pages' outcome ("your answers were kept" turned
#: into "were deleted" when the switcher dropped it).  Only these, and only as the pages set them
#: ("1"), so that an address made up by anyone cannot multiply the kept screens.
CHILD_PAGE_FLAGS = ("kept", "shared", "deleted")


def language_query(child_facing: bool) -> str:
    """The query string a language link starts with (ending in "&"), this address's without ``lang``."""
    if child_facing:
        pairs = [(name, "1") for name in CHILD_PAGE_FLAGS if request.args.get(name) == "1"]
    else:
        pairs = [(name, value) for name, value in request.args.items(multi=True) if name != "lang"]
    return urlencode(pairs) + "&" if pairs else ""


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict:
        locale = locale_code() if get_locale() is not None else current_app.config["BABEL_DEFAULT_LOCALE"]
        # From the endpoint, not from the access hook: an error raised before the hook ran
        # (a CSRF failure, say) must still get the child's page layout.
        child_facing = request_is_child_facing(current_app, request.endpoint, request.path)
        values = {
            "current_locale": locale,
            "text_direction": text_direction(locale),
            # A child sees only the languages they may use here (their consultation's), by name.
            "interface_languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in offered_locales()],
            "language_query": language_query(child_facing),
            "child_facing": child_facing,
            "state_label": state_label,
            "language_name": lambda code: LANGUAGE_NAMES.get(code, code),
        }
        if child_facing:
            participant = current_participant()
            values.update(help_context(participant.consultation if participant else None, locale))
            values["in_child_session"] = participant is not None
            values["facilitated_session"] = participant is not None and participant.consultation.facilitated
        return values

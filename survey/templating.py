"""Template globals: the current language, its direction, and the language switcher."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale

from survey.access import is_child_facing, rule_for
from survey.i18n import LANGUAGE_NAMES, offered_locales, state_label, text_direction
from survey.services.participants import current_participant
from survey.services.safeguarding import help_context


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict:
        locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
        # From the endpoint, not from the access hook: an error raised before the hook ran
        # (a CSRF failure, say) must still get the child's page layout.
        child_facing = is_child_facing(rule_for(current_app, request.endpoint))
        values = {
            "current_locale": locale,
            "text_direction": text_direction(locale),
            # A child sees only the languages they may use here (their consultation's), by name.
            "interface_languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in offered_locales()],
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

"""Who an API call acts for: a bearer token, its scopes, its owner's roles, and its rate limit.

:func:`enforce` runs in the one access hook (:mod:`survey.access`, rule kind ``token``) before
every API view.  The API never reads the staff session cookie: a call is authenticated by its
token or refused, so a browser cannot be tricked into making one (which is why the API's
blueprints are exempt from CSRF checks: CSRF rides on cookies, and the API ignores them).
"""

from __future__ import annotations

from flask import abort, current_app, g, request

from survey import throttle
from survey.services import api_tokens


def presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def enforce(scopes: tuple[str, ...]) -> None:
    """Refuse the call unless it carries a live token holding every scope in ``scopes``.

    401 without a usable token, 403 when a scope is missing (or its owner lost the role it
    needs), 429 past the token's rate limit, 503 when the rate-limit store cannot be reached.
    """
    token = presented_token()
    caller = api_tokens.authenticate(token) if token else None
    if caller is None:
        abort(401)
    g.api_caller = caller
    try:
        within = throttle.hit(current_app.config["API_RATE_LIMIT"], f"api-token:{caller.token_id}")
    except throttle.ThrottleUnavailable:
        abort(503)
    if not within:
        abort(429)
    if not set(scopes) <= caller.scopes:
        abort(403)


def caller() -> api_tokens.Caller:
    """The caller of this API request (set by :func:`enforce`)."""
    return g.api_caller

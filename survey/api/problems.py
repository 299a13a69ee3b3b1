"""Errors of the API as problem details (RFC 9457, ``application/problem+json``).

Only requests under the API's prefix get them; every other page keeps the HTML error page
(survey/errors.py asks :func:`is_api_request` first).
"""

from __future__ import annotations

import http

import marshmallow as ma
from flask import Response, current_app, json, request
from werkzeug.exceptions import HTTPException

PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"

#: What the caller reads in ``detail``: plain words, never internals.
DETAILS = {
    400: "The request was not understood.",
    401: "A valid API token is needed: send it as 'Authorization: Bearer <token>'. Tokens are made on "
    "the 'API tokens' page of the console.",
    403: "This token may not read this. Its scopes, or its owner's roles, do not allow it.",
    404: "There is nothing here, or this token may not see it.",
    405: "This method is not allowed here: the API only reads.",
    406: "The API answers in JSON or CSV only.",
    409: "There is nothing to serve yet.",
    422: "Some parameters were not valid; see 'errors'.",
    429: "Too many requests with this token. Wait a minute and try again.",
    500: "Something went wrong on the server. Nothing was changed.",
    503: "The service is busy. Try again in a minute.",
}


class ProblemSchema(ma.Schema):
    """A problem details object (RFC 9457)."""

    type = ma.fields.String(required=True, metadata={"description": "'about:blank': the status says it all"})
    title = ma.fields.String(required=True, metadata={"description": "The HTTP status phrase"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong, in plain words"})
    errors = ma.fields.Dict(metadata={"description": "Invalid parameters and why (422 only)"})


def is_api_request() -> bool:
    path = request._get_current_object().path  # type: ignore[attr-defined]  # every response asks
    return path == PREFIX or path.startswith(_UNDER_PREFIX)


_UNDER_PREFIX = PREFIX + "/"


def problem(
    status: int, detail: str | None = None, *, errors: dict | None = None, headers: dict[str, str] | None = None
) -> Response:
    try:
        title = http.HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or DETAILS.get(status, title)}
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """The problem for an HTTP error raised in (or before) an API view."""
    status = error.code or 500
    if status == 304:  # a conditional GET whose ETag still matches: no body
        return current_app.response_class(status=304)
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 405:
        headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or ("GET", "HEAD"))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="sauti"'
    if status == 429:
        headers.setdefault("Retry-After", "60")
    detail = data.get("detail")
    return problem(status, detail, errors=_plain(errors) if errors else None, headers=headers)


def _plain(errors: object) -> dict:
    """webargs' messages as a JSON object (location -> field -> messages)."""
    if isinstance(errors, dict):
        return {str(key): value for key, value in errors.items()}
    return {"request": errors}

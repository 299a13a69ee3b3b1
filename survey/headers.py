"""Security headers on every response.  Nothing is ever loaded from another host."""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


#: The header names in lower case, with their (name, value): looked up once per response.
_BY_LOWER_NAME = {name.lower(): (name, value) for name, value in SECURITY_HEADERS.items()}


def init_app(app: Flask) -> None:
    @app.after_request
    def _set_headers(response: Response) -> Response:
        # As ``setdefault`` for each header (a view's own value stays), in one pass: a setdefault
        # per header searched and checked the header list twice each, on every response.
        present = {name.lower() for name, _value in response.headers}
        response.headers.extend([header for lower, header in _BY_LOWER_NAME.items() if lower not in present])
        if response.mimetype == "text/html":
            # Pages may show a child's answers: never keep them in a shared device's cache.
            response.headers["Cache-Control"] = "no-store"
        return response

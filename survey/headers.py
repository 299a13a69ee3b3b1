"""Security headers on every response.  Nothing is ever loaded from another host.

The headers are added by :class:`SecurityHeaders`, a WSGI layer around the Flask app, not by
``after_request`` hooks: they are the same on every response, and as hooks they cost each of a
child's requests three hook calls, a context look-up and Werkzeug's checks of every value
(about 3 % of a request's instructions; issue 24).  The layer sits inside the trusted-proxy fix
(:mod:`survey.serving`), so it sees the scheme the proxy reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

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

#: The ``Server`` header: no server name or version for anyone to look up.  Granian would
#: otherwise send "granian"; a header the app sets replaces it.
SERVER_HEADER = "Sauti"

#: ``Strict-Transport-Security`` on responses served over HTTPS: browsers then never try plain
#: HTTP for this host for a year.  Sent only over HTTPS (RFC 6797 §7.2).
HSTS = "max-age=31536000"

#: Pages may show a child's answers: never kept in a shared device's cache.
HTML_CACHE_CONTROL = "no-store"

#: The headers added unless the view set its own, in lower case with their (name, value).
_DEFAULTS = {name.lower(): (name, value) for name, value in SECURITY_HEADERS.items()}
_DEFAULTS_OVER_HTTPS = {**_DEFAULTS, "strict-transport-security": ("Strict-Transport-Security", HSTS)}


def with_security_headers(status_headers: list[tuple[str, str]], over_https: bool) -> list[tuple[str, str]]:
    """A response's headers with the security headers added: each as a default (a view's own
    value stays), ``Server`` always Sauti's, and ``Cache-Control: no-store`` on every HTML page.

    >>> headers = with_security_headers([("Content-Type", "text/html; charset=utf-8"),
    ...                                  ("X-Frame-Options", "SAMEORIGIN"), ("Cache-Control", "max-age=60")], False)
    >>> [value for name, value in headers if name in ("X-Frame-Options", "Cache-Control", "Server")]
    ['SAMEORIGIN', 'Sauti', 'no-store']
    >>> any(name == "Strict-Transport-Security" for name, _ in headers)
    False
    >>> dict(with_security_headers([], True))["Strict-Transport-Security"]
    'max-age=31536000'
    """
    html = False
    present = set()
    kept = []
    for name, value in status_headers:
        lower = name.lower()
        if lower == "content-type":
            html = value.split(";", 1)[0].strip().lower() == "text/html"
        elif lower in ("server", "cache-control"):
            continue  # put back below: Server always ours, Cache-Control unless an HTML page
        present.add(lower)
        kept.append((name, value))
    defaults = _DEFAULTS_OVER_HTTPS if over_https else _DEFAULTS
    kept.extend(header for lower, header in defaults.items() if lower not in present)
    kept.append(("Server", SERVER_HEADER))
    if html:
        kept.append(("Cache-Control", HTML_CACHE_CONTROL))
    else:
        kept.extend((name, value) for name, value in status_headers if name.lower() == "cache-control")
    return kept


class SecurityHeaders:
    """WSGI middleware adding :func:`with_security_headers` to every response of ``wsgi_app``."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        over_https = environ.get("wsgi.url_scheme") == "https"

        def start_with_headers(status: str, headers: list[tuple[str, str]], exc_info=None):
            return start_response(status, with_security_headers(headers, over_https), exc_info)

        return self.wsgi_app(environ, start_with_headers)


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI callable; call before :func:`survey.serving.init_app` adds the proxy fix."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]

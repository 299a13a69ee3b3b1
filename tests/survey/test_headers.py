"""Security headers on every response, and nothing loaded from another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.conftest import World

EXTERNAL = re.compile(r"^(https?:)?//", re.I)


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        for name in ("src", "srcset", "poster", "data"):
            if attributes.get(name):
                self.loaded.append(attributes[name])
        if tag == "link" and attributes.get("href"):
            self.loaded.append(attributes["href"])
        if tag == "form" and attributes.get("action"):
            self.loaded.append(attributes["action"])


def _pages(world: World):
    for visitor, client in world.clients.items():
        for path in (
            "/",
            "/help",
            "/notes",
            "/p/",
            "/staff/sign-in",
            "/staff/",
            "/admin/users",
            f"/facilitate/{world.consultation}/",
            f"/reports/{world.consultation}/",
            "/no-such-page",
        ):
            yield visitor, path, client.get(path)


def test_every_response_carries_the_security_headers(world: World) -> None:
    for visitor, path, response in _pages(world):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (visitor, path)
        # The policy names no other host: every source is a keyword, 'self' or data:.
        sources = {token for directive in csp.split(";") for token in directive.split()[1:]}
        assert sources <= {"'self'", "'none'", "data:"}, sources
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        permissions = headers["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()"):
            assert feature in permissions


def test_no_page_loads_anything_from_another_host(world: World) -> None:
    for visitor, path, response in _pages(world):
        if response.mimetype != "text/html":
            continue
        parser = _Resources()
        parser.feed(response.get_data(as_text=True))
        external = [url for url in parser.loaded if EXTERNAL.match(url)]
        assert external == [], (visitor, path, external)


def test_static_files_have_headers_too(client) -> None:
    response = client.get("/static/css/sauti.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_child_pages_are_not_cached_and_the_cookie_is_strict(client) -> None:
    response = client.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    from survey.config import DefaultConfig

    assert DefaultConfig.SESSION_COOKIE_SAMESITE == "Strict"
    assert DefaultConfig.SESSION_COOKIE_HTTPONLY is True
    assert DefaultConfig.SESSION_COOKIE_SECURE is True

"""Pages link the minified stylesheet, and it is exactly the readable one minified.

``static/css/sauti.css`` is the stylesheet people edit; phones load ``sauti.min.css`` (about 2.9 KB
less on every first load).  After changing sauti.css, run::

    .venv/bin/python -m rcssmin < survey/static/css/sauti.css > survey/static/css/sauti.min.css
"""

from __future__ import annotations

from pathlib import Path

import rcssmin

CSS = Path(__file__).resolve().parents[2] / "survey" / "static" / "css"


def test_the_minified_stylesheet_is_the_readable_one_minified() -> None:
    expected = rcssmin.cssmin((CSS / "sauti.css").read_text(encoding="utf-8"))
    shipped = (CSS / "sauti.min.css").read_text(encoding="utf-8")
    assert shipped.strip() == expected.strip(), "sauti.min.css is out of date: see this test's docstring"


def test_pages_link_the_minified_stylesheet(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "/static/css/sauti.min.css" in page and "/static/css/sauti.css" not in page

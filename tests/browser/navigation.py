"""Clicking something that loads a new page, and waiting for that page before reading it."""

from __future__ import annotations


def click_and_load(page, selector: str) -> None:
    """Click ``selector`` and return once the page it leads to has loaded.

    ``page.click`` returns once the navigation has started; a read straight after it (a count, an
    axe run, the page's text) does not wait, and can see the old page or a half-built one (CI once
    read an empty document after a form that answers on its own address).
    """
    with page.expect_navigation(wait_until="load"):
        page.click(selector)

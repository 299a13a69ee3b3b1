"""Clicking something that loads a new page, and waiting for that page before reading it."""

from __future__ import annotations


def click_and_load(page, selector: str) -> None:
    """Click ``selector`` and return once the page it leads to has loaded.

    A form that answers on its own address (a refusal with its errors, a confirmation) gives
    ``wait_for_url`` nothing to wait for, and a read straight after the click can see the old page
    or a half-built one (CI once read an empty document).
    """
    with page.expect_navigation(wait_until="load"):
        page.click(selector)

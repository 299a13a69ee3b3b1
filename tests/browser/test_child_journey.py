"""Assent, stop-and-delete and withdrawal by code, in a real browser (issue 4's browser checks)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Participant
from tests.browser.navigation import click_and_load

pytestmark = pytest.mark.browser


def _start(page, code: str, age: str = "12") -> None:
    page.goto("/")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/age")
    page.check(f"input[name=age][value='{age}']")
    page.click("main button[type=submit]")
    page.wait_for_url("**/p/about")


def _answers(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Answer.item)))


def test_assent_then_stop_and_delete(app, page, world, issue_codes) -> None:
    _start(page, issue_codes(world.consultation, 1)[0])
    # A wrong comprehension answer explains again; the choice stays open.
    page.check("#check_0_1")
    page.click("button[name=decision][value=yes]")
    # The page comes back at the same address: wait for it to load rather than for the URL.
    page.wait_for_load_state()
    assert page.locator(".explain").count() == 1
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")
    page.check("input[name=q_who][value=friend]")
    page.click("button[name=nav][value=next]")
    page.wait_for_url("**/p/q/1")
    assert _answers(app) == ["who"]
    page.click("text=Stop")
    page.wait_for_url("**/p/stop")
    page.click("button[name=choice][value=delete]")
    page.wait_for_url("**/p/stopped*")
    assert "Everything you answered has been deleted" in page.content()
    assert _answers(app) == []


def test_saying_no_keeps_nothing(app, page, world, issue_codes) -> None:
    _start(page, issue_codes(world.consultation, 1)[0], age="9")
    page.click("button[name=decision][value=no]")
    page.wait_for_url("**/p/declined")
    with app.app_context():
        assert set(db.session.scalars(sa.select(Participant.state))) == {"declined", "issued"}
    assert _answers(app) == []


def test_withdrawal_code_after_finishing(app, page, world, issue_codes) -> None:
    card = issue_codes.cards(world.consultation, 1)[0]
    _start(page, card.code, age="15")
    page.check("#check_0_0")
    page.check("#check_1_0")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/q/0")
    page.check("input[name=q_who][value=parent]")
    page.click("button[name=nav][value=next]")
    page.wait_for_url("**/p/q/1")
    page.goto("/p/end")
    page.click("button[name=decision][value=yes]")
    page.wait_for_url("**/p/done*")
    assert _answers(app) == ["who"]
    page.goto("/")
    page.click("text=Finished already and changed your mind?")
    page.wait_for_url("**/change")
    page.fill("#code", card.withdrawal_code.lower().replace("-", " "))
    click_and_load(page, "main button[type=submit]")
    assert "Anything kept with this code has been deleted" in page.content()
    assert _answers(app) == []

"""Driving a child's survey in the browser the way a child does: taps, typing, the Next button.

``Child.answer_page`` reads what the page shows (one ``evaluate`` round trip), decides an answer
for each question, gives it with real clicks and typing, and remembers what it gave by form field
name; ``expected_answers`` turns that into the values the database must hold per item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import sqlalchemy as sa

from instruments.model import ItemType, matrix_key
from survey.extensions import db
from survey.models import Answer, Participant

RNS = "_rns"

#: What each question group on the page looks like, read in one round trip.
_GROUPS_JS = """
() => {
  const form = document.querySelector("main form[method=post]");
  if (!form) { return []; }
  const groups = new Map();
  for (const input of form.querySelectorAll("input[type=radio], input[type=checkbox], textarea, select")) {
    if (!input.name.startsWith("q_") && !input.name.startsWith("rns_")) { continue; }
    const key = input.name;
    if (!groups.has(key)) {
      const item = input.closest(".item");
      const hint = item ? Array.from(item.querySelectorAll(".hint")).map(h => h.textContent).join(" ") : "";
      const limit = hint.match(/(\\d+)/g);
      groups.set(key, {name: key, kind: input.type === "textarea" ? "text" : input.tagName === "SELECT"
                       ? "select" : input.type, values: [], limit: input.type === "checkbox" && limit
                       ? parseInt(limit[limit.length - 1], 10) : null,
                       label: item ? (item.querySelector("legend, label") || {}).textContent || "" : ""});
    }
    if (input.type === "radio" || input.type === "checkbox") { groups.get(key).values.push(input.value); }
  }
  return Array.from(groups.values());
}
"""

TEXT_ANSWER = "A big button in every game that goes to a real person"


class Child:
    """One child on one page object; ``given`` maps form field names to what was entered."""

    def __init__(self, page, *, choose: Callable[[dict], object] | None = None) -> None:
        self.page = page
        self.given: dict[str, object] = {}
        self.turn = 0
        self.choose = choose  # an override: return a value, a list, RNS, "" (skip) or None (default)
        self.seen_kinds: set[str] = set()

    # ------------------------------------------------------------------ start
    def enter_code(self, code: str, *, lang: str | None = None) -> None:
        self.page.goto(f"/?lang={lang}" if lang else "/")
        self.page.fill("#code", code)
        self.page.click("main button[type=submit]")
        self.page.wait_for_url(re.compile(r".*/p/(age|about|q/\d+)$"))

    def give_age(self, age: str) -> None:
        self.page.check(f"input[name=age][value='{age}']")
        self.page.click("main button[type=submit]")
        self.page.wait_for_url("**/p/about")

    def assent(self) -> None:
        self.page.click("button[name=decision][value=yes]")
        self.page.wait_for_url("**/p/q/*")

    # ------------------------------------------------------------------ pages
    def groups(self) -> list[dict]:
        return self.page.evaluate(_GROUPS_JS)

    def answer_page(self) -> list[dict]:
        """Answer every question on this page; returns the groups it found."""
        groups = self.groups()
        for group in groups:
            self.turn += 1
            wanted = self.choose(group) if self.choose else None
            if wanted is None:
                wanted = self._default(group)
            self._give(group, wanted)
        return groups

    def _default(self, group: dict) -> object:
        options = [v for v in group["values"] if not v.startswith("_") and v not in ("none", "nothing")]
        if group["kind"] == "radio":
            return options[self.turn % len(options)]
        if group["kind"] == "checkbox":
            if group["name"].startswith("rns_"):
                return ""
            return options[:2]
        if group["kind"] == "text":
            return TEXT_ANSWER
        return ""

    def _give(self, group: dict, wanted: object) -> None:
        name = group["name"]
        if wanted == "":
            return
        if group["kind"] == "radio":
            self.page.check(f"input[name='{name}'][value='{wanted}']")
            self.given[name] = wanted
        elif group["kind"] == "checkbox" and name.startswith("rns_"):
            self.page.check(f"input[name='{name}']")
            self.given[name] = True
        elif group["kind"] == "checkbox":
            for value in wanted if isinstance(wanted, list) else [wanted]:
                self.page.check(f"input[name='{name}'][value='{value}']")
            self.given[name] = list(wanted) if isinstance(wanted, list) else [wanted]
        elif group["kind"] == "text":
            box = self.page.locator(f"textarea[name='{name}']")
            box.fill("")
            box.press_sequentially(str(wanted))
            self.given[name] = str(wanted)

    def finish_pages(self, on_page: Callable[[], None] | None = None, limit: int = 60) -> int:
        """Answer and press Next until the end page; returns the number of question pages seen."""
        count = 0
        while "/p/q/" in self.page.url:
            count += 1
            assert count <= limit, "the survey never ended"
            if on_page:
                on_page()
            self.answer_page()
            self.page.click("button[name=nav][value=next]")
            self.page.wait_for_url(re.compile(r".*/p/(q/\d+|end)$"))
        return count

    def keep_answers(self) -> None:
        self.page.wait_for_url("**/p/end")
        self.page.click("button[name=decision][value=yes]")
        self.page.wait_for_url("**/p/done*")


def expected_answers(instrument, given: dict[str, object]) -> dict[str, str]:
    """What the database should hold for each item, from the fields the child filled in."""
    expected: dict[str, str] = {}
    for item in instrument.items:
        name = "q_" + item.name
        if item.type is ItemType.MATRIX:
            rows = {
                row.name: given["q_" + matrix_key(item.name, row.name)]
                for row in instrument.rows_for(item)
                if "q_" + matrix_key(item.name, row.name) in given
            }
            if rows:
                expected[item.name] = json.dumps(rows, sort_keys=True)
        elif given.get("rns_" + item.name):
            expected[item.name] = RNS
        elif item.type is ItemType.SELECT_MULTIPLE and name in given:
            chosen = given[name]
            expected[item.name] = RNS if RNS in chosen else json.dumps(chosen)
        elif name in given:
            expected[item.name] = str(given[name]).strip()
    return expected


def stored_answers(app) -> dict[str, dict[str, str]]:
    """Every stored answer, by participant id and item."""
    with app.app_context():
        rows = db.session.execute(sa.select(Answer.participant_id, Answer.item, Answer.value)).all()
        result: dict[str, dict[str, str]] = {}
        for participant, item, value in rows:
            result.setdefault(participant, {})[item] = value
        return result


def participant_states(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Participant.state)))

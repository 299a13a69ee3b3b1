"""Review F8: a facilitator cannot learn one child's decision from the counts, on the bundled demo
consultation with its real roles (``sauti demo``'s facilitator and analyst).

The rule is :mod:`survey.services.progress`: live, only "in progress" (a card is in it from
code entry, so the Yes or No moves nothing); decisions only in a closed session's log, each
part shown when it and the rest are both at least k, zero hidden like a small count, no total.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from survey.extensions import db
from tests.conftest import sign_in

DECISION_WORDS = ("finished", "withdrew", "said no", "expired", "ended")


@pytest.fixture
def demo(app):
    """``sauti demo``'s consultation (bundled questionnaire, session running), its staff signed in."""
    from survey.services.demo import set_up_demo

    with app.app_context():
        result = set_up_demo(code_count=40)
        consultation = result.consultation.id
        codes = [card.code for card in result.cards]
        passwords = result.new_credentials
    staff = {}
    for name in ("demo-facilitator", "demo-analyst"):
        staff[name] = app.test_client()
        assert sign_in(staff[name], name, passwords[name]).status_code == 302
    return {"app": app, "consultation": consultation, "codes": iter(codes), "staff": staff}


_devices = iter(range(1, 10_000))


def _at_information(demo):
    """A child on their own device: code, then age (nothing decided yet)."""
    client = demo["app"].test_client()
    n = next(_devices)
    client.environ_base["REMOTE_ADDR"] = f"10.20.{n // 200}.{n % 200 + 1}"
    assert client.post("/", data={"code": next(demo["codes"])}).status_code == 302
    assert client.post("/p/age", data={"age": "12"}).status_code == 302
    return client


def _decide(client, decision: str):
    data = {"check_0": "0", "check_1": "0", "decision": decision}
    response = client.post("/p/about", data=data)
    if response.status_code == 200:  # a wrong comprehension answer is explained once
        response = client.post("/p/about", data={**data, "explained": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def _finish(client, keep: bool) -> None:
    assert client.post("/p/end", data={"decision": "yes" if keep else "no"}).status_code == 302


def _pages(demo) -> dict[str, str]:
    """Every count a facilitator sees: the consultation page, the live view, the session log."""
    facilitator, c = demo["staff"]["demo-facilitator"], demo["consultation"]
    shown = {}
    for path in (f"/facilitate/{c}/", f"/facilitate/{c}/live", f"/facilitate/{c}/session"):
        html = unescape(facilitator.get(path).get_data(as_text=True))
        tables = re.findall(r"<table>.*?</table>", html, re.S)
        shown[path] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", " ".join(tables)))
    return shown


def _started_today(demo) -> str:
    live = _pages(demo)[f"/facilitate/{demo['consultation']}/live"]
    return re.search(r"started today (\S+)", live).group(1)


def _answering(demo, n: int) -> list:
    """``n`` children who said yes and are answering (the room around the children watched)."""
    children = [_at_information(demo) for _ in range(n)]
    for child in children:
        _decide(child, "yes")
    return children


def test_the_yes_or_no_at_the_information_step_moves_no_figure(demo) -> None:
    """Review F8: a No stayed "not started" while a Yes moved to "in progress" at once."""
    _answering(demo, 10)
    assert _started_today(demo) == "10"
    no, yes = _at_information(demo), _at_information(demo)
    entered = _pages(demo)
    assert _started_today(demo) == "12"  # counted from code entry, before the child decides
    assert _decide(no, "no").location.endswith("/p/declined")
    assert _pages(demo) == entered
    _decide(yes, "yes")
    assert _pages(demo) == entered


def test_keeping_or_deleting_at_the_end_shows_the_same(demo) -> None:
    """Review F8: "finished 0" beside a hidden "withdrew" and an exact live "ended" told a No at the
    end (ended + 1, finished still 0), and the first Yes too ("finished" 0 -> s)."""
    assert _started_today(demo) == "s"  # 0 is hidden like a small number
    for _ in range(8):  # the reviewer's first eight cards: stopped and deleted
        child = _at_information(demo)
        _decide(child, "yes")
        assert child.post("/p/stop", data={"choice": "delete"}).status_code == 302
    _answering(demo, 10)
    start = _pages(demo)
    for page in start.values():
        assert not re.search(r"\b0\b", page.replace("asked to talk: 0", "")), page  # no exact 0
        for word in DECISION_WORDS:
            assert word not in page, (word, page)
    deleting = _answering(demo, 1)[0]
    answering = _pages(demo)
    assert answering != start  # one more child started today
    _finish(deleting, keep=False)  # "No, please delete them"
    assert _pages(demo) == answering  # nothing moves when a child deletes ...
    keeping = _answering(demo, 1)[0]
    two_more = _pages(demo)
    _finish(keeping, keep=True)  # "Yes, you can use my answers"
    assert _pages(demo) == two_more  # ... nor when a child keeps


def test_stopping_deleting_withdrawing_or_withholding_moves_no_figure(demo) -> None:
    """The second review (session 12): "stop for now" left "in progress" as it was while "stop and
    delete" lowered it; a withdrawal code and a guardian's withholding lowered it only for a card
    in use.  Nothing a child or guardian does after the code moves the live figure."""
    children = _answering(demo, 12)
    start = _pages(demo)
    assert children[0].post("/p/stop", data={"choice": "later"}).status_code == 302
    assert _pages(demo) == start
    assert children[1].post("/p/stop", data={"choice": "delete"}).status_code == 302
    assert _pages(demo) == start


def _figures(html: str) -> list[int]:
    tables = " ".join(re.findall(r"<table>.*?</table>", unescape(html), re.S))
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<td>\d{4}-\d\d-\d\d</td>", "", tables))
    return [int(n) for n in re.findall(r"(?<![\w-])\d+(?![\w-])", text.replace("asked to talk: ", "talk "))]


def test_someone_with_both_roles_cannot_subtract_one_page_from_another(demo) -> None:
    """Review F8: the consultation page's exact total of endings minus the analyst's "Completed"
    gave the hidden number of children who withdrew; nor may the analyst's own stages."""
    c = demo["consultation"]
    for child in _answering(demo, 12):
        _finish(child, keep=True)
    for child in _answering(demo, 2):
        assert child.post("/p/stop", data={"choice": "delete"}).status_code == 302
    _decide(_at_information(demo), "no")
    with demo["app"].app_context():  # the demo's facilitator is made the consultation's analyst too
        from survey.models import Consultation, User
        from survey.services import accounts, consultations

        person = db.session.scalar(sa.select(User).where(User.username == "demo-facilitator"))
        accounts.update_user(person, roles=["facilitator", "analyst"])
        consultations.add_member(db.session.get(Consultation, c), person, "analyst")
    facilitator = analyst = demo["staff"]["demo-facilitator"]  # one person, both roles
    closed = facilitator.post(f"/facilitate/{c}/session", data={"close-referral_category": ""})
    assert closed.status_code == 303, closed.get_data(as_text=True)[:500]
    shown = []
    for path in (f"/facilitate/{c}/", f"/facilitate/{c}/live", f"/facilitate/{c}/session"):
        shown += _figures(facilitator.get(path).get_data(as_text=True))
    results = analyst.get(f"/reports/{c}/")
    assert results.status_code == 200
    results = results.get_data(as_text=True)
    shown += _figures(results)
    assert 40 in shown and 12 in shown, shown  # cards issued and children who finished: not hidden
    hidden = {"withdrew": 2, "said no": 1}
    for name, count in hidden.items():
        assert count not in shown, name
        pairs = [(a, b) for a in shown for b in shown if a - b == count]
        assert not pairs, (name, pairs)


def test_a_session_log_shows_a_part_only_when_it_and_the_rest_reach_k() -> None:
    import json

    from survey.services.progress import release_parts, session_summary

    assert release_parts({"completed": 12, "stopped_early": 0, "declined": 0}, k=10) == dict.fromkeys(
        ("completed", "stopped_early", "declined"), "s"
    )
    assert release_parts({"a": 30, "b": 10, "c": 10}, k=10) == {"a": "30", "b": "10", "c": "10"}
    # Never one part hidden alone: the children present are known, so it would be the rest.
    assert release_parts({"a": 30, "b": 10, "c": 0}, k=10) == {"a": "30", "b": "s", "c": "s"}
    # Bands all shown give the number who began; with "finished" shown and "stopped early"
    # hidden, that would give "stopped early" back: the bands are hidden too.
    log = {"completed": 30, "stopped_early": 3, "declined": 10, "bands": {"B": 16, "C": 17}, "signals": 1}
    shown = session_summary(json.dumps(log), k=10)
    assert shown["endings"] == {"completed": "30", "stopped_early": "s", "declined": "s"}
    assert shown["bands"] == {"B": "s", "C": "s"}
    log |= {"stopped_early": 13, "bands": {"B": 20, "C": 23}}
    assert session_summary(json.dumps(log), k=10)["bands"] == {"B": "20", "C": "23"}

"""A facilitator never sees what one child decided: cards show only what handing them out needs,
decisions appear only as counts through the disclosure gate, on every facilitator page.

Cards are matched to named guardian slips, so a card's stage ("said no", "withdrew") or a
count of 1 would tell a teacher which child it was.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.conftest import World

DECISION_WORDS = ("said no", "withdrew", "finished", "expired")


@pytest.fixture
def decided(app, world: World, issue_codes) -> World:
    """In the world's consultation: 11 children finished, 1 said no, 2 stopped and deleted.

    (The world's own child entered a code and has not started.)  Each goes the way a child
    does, through the pages.
    """
    devices = iter(range(2, 250))

    def child_at_information():
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{next(devices)}"  # each child's own device
        assert client.post("/", data={"code": issue_codes(world.consultation, 1)[0]}).status_code == 302
        client.post("/p/age", data={"age": "12"})
        return client

    def assent(client):
        response = client.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
        assert response.status_code == 302

    for _ in range(11):
        child = child_at_information()
        assent(child)
        assert child.post("/p/end", data={"decision": "yes"}).status_code == 302
    no = child_at_information()
    assert no.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "no"}).location.endswith("/p/declined")
    for _ in range(2):
        child = child_at_information()
        assent(child)
        assert child.post("/p/stop", data={"choice": "delete"}).status_code == 302
    return world


def _rows(html: str, caption: str) -> dict[str, str]:
    table = re.search(r"<caption>" + re.escape(caption) + r"</caption>(.*?)</table>", unescape(html), re.S)
    assert table, f"no table {caption!r}"
    return {
        head.strip(): cell.strip()
        for head, cell in re.findall(r'<th scope="row">([^<]*)</th>\s*<td>([^<]*)</td>', table.group(1))
    }


def test_the_cards_page_shows_no_childs_decision(decided: World) -> None:
    html = decided.clients["facilitator"].get(f"/facilitate/{decided.consultation}/cards").get_data(as_text=True)
    every_card = re.search(r"<caption>Every card</caption>(.*?)</table>", html, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", every_card, re.S)[1:]
    assert len(rows) == 15
    for row in rows:
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        assert len(cells) == 2 and cells[0].isdigit(), cells  # the number and the guardian permission
    for word in (*DECISION_WORDS, "answering", "said yes"):
        assert f">{word}<" not in html, word


def test_no_decision_is_shown_while_children_take_part(decided: World) -> None:
    """Decisions are never live (services.progress): the overview and the live view show only
    how many children started today, whatever each then decided (here all 15 who entered a code:
    finished, said no, withdrew or still answering alike), and that only from k up."""
    for page in ("", "live"):
        html = decided.clients["facilitator"].get(f"/facilitate/{decided.consultation}/{page}").get_data(as_text=True)
        assert _rows(html, "Children by stage") == {"started today": "15"}
        assert "How children's cards ended" not in html
        for word in DECISION_WORDS:
            assert f">{word}" not in html, word


def test_the_session_log_hides_small_counts_of_decisions(decided: World) -> None:
    facilitator = decided.clients["facilitator"]
    response = facilitator.post(
        f"/facilitate/{decided.consultation}/session",
        data={"close-number_present": "15", "close-referral_category": ""},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    html = facilitator.get(f"/facilitate/{decided.consultation}/session").get_data(as_text=True)
    log = re.search(r"<caption>Session log</caption>(.*?)</table>", html, re.S).group(1)
    assert "said no: s" in log and "finished: s" in log
    assert not re.search(r"said no: \d|declined", log)
    assert "{" not in log  # no raw record


def test_a_card_counts_from_code_entry_on_every_facilitator_view(app, world: World, issue_codes) -> None:
    """A card counts once its code is typed, and nothing afterwards moves it: not the Yes or No,
    not "stop and delete" (the exact figure is shown from k = 10 up)."""
    facilitator = world.clients["facilitator"]

    def stages() -> list[dict[str, str]]:
        pages = (f"/facilitate/{world.consultation}/", f"/facilitate/{world.consultation}/live")
        return [_rows(facilitator.get(page).get_data(as_text=True), "Children by stage") for page in pages]

    def at_information():
        client = app.test_client()
        assert client.post("/", data={"code": issue_codes(world.consultation, 1)[0]}).status_code == 302
        client.post("/p/age", data={"age": "12"})
        return client

    children = [at_information() for _ in range(11)]  # with the world's child: 12
    assert stages() == [{"started today": "12"}] * 2
    no, yes = children[:2]
    assert no.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "no"}).location.endswith("/p/declined")
    yes.post("/p/about", data={"check_0": "0", "check_1": "0", "decision": "yes"})
    assert stages() == [{"started today": "12"}] * 2
    yes.post("/p/stop", data={"choice": "delete"})
    assert stages() == [{"started today": "12"}] * 2  # a deletion moves nothing either


def test_a_waiting_child_is_impossible_to_miss_without_scripts(app, world: World) -> None:
    child = world.clients["child"]
    assert child.post("/p/talk").status_code == 200
    html = world.clients["facilitator"].get(f"/facilitate/{world.consultation}/live").get_data(as_text=True)
    alert = re.search(r'<div class="signal-alert" role="alert">(.*?)</div>', html, re.S)
    assert alert and "Waiting to talk to someone now: 1" in alert.group(1)
    assert re.search(r"<title>\(1\) Someone would like to talk", html)  # seen in the tab too
    assert '<span class="signal-badge">NEW</span>' in html  # in words, not only in colour
    assert 'aria-live="assertive"' in html
    assert "js/live-refresh.js" in html and "<script>" not in html  # no inline script under the CSP

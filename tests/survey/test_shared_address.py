"""A class behind one address: right codes cost nothing, wrong ones are still bounded.

A school's NAT, or the reverse proxy the deployment guide recommends, makes a whole class one
client address.  Only failed tries count against the per-client and server-wide budgets, and
the trusted-proxy setting (``TRUSTED_PROXIES``) lets the address a proxy reports be the client.
"""

from __future__ import annotations

import time

from consent.codes import new_code


def test_sixty_children_behind_one_address_get_in_and_ten_thousand_guesses_do_not(
    app, make_consultation, issue_codes
) -> None:
    consultation = make_consultation()
    codes = issue_codes(consultation, 61)
    started = time.monotonic()
    statuses = []
    for code in codes[:60]:
        child = app.test_client()
        child.environ_base["REMOTE_ADDR"] = "192.0.2.10"  # the school's one public address
        statuses.append(child.post("/", data={"code": code}).status_code)
    assert time.monotonic() - started < 60
    assert statuses == [302] * 60  # on the old code, the 11th and later got "Too many tries" (429)

    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    started = time.monotonic()
    guesses = [guesser.post("/", data={"code": new_code()}).status_code for _ in range(10_000)]
    minutes = -(-(time.monotonic() - started) // 60)
    assert guesses.count(302) == 0
    assert guesses.count(400) <= 10 * (minutes + 1)  # ten wrong codes a minute per address
    assert guesses.count(429) >= 10_000 - 10 * (minutes + 1)
    # The last card still works, from another address.
    child = app.test_client()
    child.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert child.post("/", data={"code": codes[60]}).status_code == 302


def test_the_server_wide_failure_budget_grows_with_open_consultations(make_app) -> None:
    app = make_app(CODE_FAILURES_PER_CLIENT="1000 per minute", CODE_FAILURES_PER_CONSULTATION="5 per minute")
    from survey.services import participants

    with app.test_request_context():
        limits = {key: text for text, key in participants._failure_limits("x")}
        assert limits["code:global"] == "5 per 1 minute"
    statuses = []
    for n in range(8):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        statuses.append(client.post("/", data={"code": new_code()}).status_code)
    # Five wrong codes from five different addresses use the server-wide budget up.
    assert statuses == [400] * 5 + [429] * 3


def test_a_trusted_proxy_reports_the_client(make_app) -> None:
    app = make_app(TRUSTED_PROXIES=1)
    statuses = []
    for device in range(2):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # nginx on the same machine
        for _ in range(12):
            response = client.post("/", data={"code": new_code()}, headers={"X-Forwarded-For": f"10.0.0.{device + 1}"})
            statuses.append(response.status_code)
    # Each device behind the proxy has its own ten failures a minute.
    assert statuses == ([400] * 10 + [429] * 2) * 2


def test_without_trusted_proxies_forwarded_addresses_are_ignored(app) -> None:
    client = app.test_client()
    statuses = [
        client.post("/", data={"code": new_code()}, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(12)
    ]
    assert statuses == [400] * 10 + [429] * 2


def test_a_megabyte_code_is_refused_with_a_short_page(client) -> None:
    response = client.post("/", data={"code": "A" * 1_000_000})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That is too long" in html
    assert len(html) < 50_000 and "AAAAAAAAAA" not in html  # the old page echoed the megabyte back


def test_a_megabyte_withdrawal_code_is_not_echoed(client) -> None:
    response = client.post("/change", data={"code": "B" * 1_000_000})
    assert response.status_code == 400
    assert "BBBBBBBBBB" not in response.get_data(as_text=True)


def test_redis_down_tells_the_child_the_service_is_briefly_unavailable(make_app) -> None:
    from tests.conftest import free_port

    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    for code in (new_code(), "ABCD-EFGH-JKMN"):
        response = app.test_client().post("/", data={"code": code})
        assert response.status_code == 503  # was 429 "Too many tries"
        html = response.get_data(as_text=True)
        assert "cannot be checked just now" in html and "Too many tries" not in html

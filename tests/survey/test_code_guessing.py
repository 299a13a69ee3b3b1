"""Guessing codes gets nowhere, and a child with a real code still gets in."""

from __future__ import annotations

import math
import time

from consent.codes import ALPHABET, CODE_LENGTH, new_code


def test_ten_thousand_guesses_get_nowhere(app, make_consultation, issue_codes) -> None:
    consultation = make_consultation()
    real = issue_codes(consultation, 1)[0]
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    statuses = {"in": 0, "refused": 0, "throttled": 0}
    started = time.monotonic()
    for _ in range(10_000):
        status = attacker.post("/", data={"code": new_code()}).status_code
        statuses["in" if status == 302 else "throttled" if status == 429 else "refused"] += 1
    minutes = math.ceil((time.monotonic() - started) / 60)  # each minute's window allows ten more
    assert statuses["in"] == 0
    # Ten tries a minute per device: everything after the tenth of each minute is refused unseen.
    assert statuses["refused"] <= 10 * minutes and statuses["throttled"] >= 10_000 - 10 * minutes
    child = app.test_client()
    child.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert child.post("/", data={"code": real}).status_code == 302


def test_codes_carry_more_than_50_bits_without_look_alikes() -> None:
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 50
    assert not set("0O1IL") & set(ALPHABET)

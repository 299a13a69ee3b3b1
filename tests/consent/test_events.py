"""Consent events: day-dated, version-bound, nothing for a "No"."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from consent.events import (
    ConsentEvent,
    ConsentEventType,
    ConsentMethod,
    assent_event,
    withdrawal_event,
)
from consent.storage_policy import forbidden_columns
from consent.texts import TextRef, bundled_texts, render_text

REF = TextRef("child_information/en/B/v1", "ab" * 32)
DAY = date(2026, 11, 29)


def test_yes_is_recorded_with_version_and_date():
    e = assent_event(REF, said_yes=True, on=DAY, site_code="S-07")
    assert (e.event_type, e.outcome, e.text_id, e.content_hash, e.event_date, e.site_code) == (
        ConsentEventType.ASSENT,
        "yes",
        REF.text_id,
        REF.content_hash,
        DAY,
        "S-07",
    )
    assert e.method is ConsentMethod.ELECTRONIC_TAP


def test_no_stores_nothing():
    assert assent_event(REF, said_yes=False, on=DAY) is None


def test_own_consent_and_method():
    e = assent_event(REF, said_yes=True, on=DAY, own_consent=True, method="verbal_witnessed")
    assert e.event_type is ConsentEventType.CONSENT
    assert e.method is ConsentMethod.VERBAL_WITNESSED


def test_from_a_rendered_text():
    text = bundled_texts().latest("child_information", "en", "A")
    names = (
        "organisation",
        "independent_contact",
        "contact",
        "minutes",
        "pages",
        "audience",
        "influence_scope",
        "feedback_date",
        "cutoff_date",
        "helpline",
    )
    values = dict.fromkeys(names, "x")
    shown = render_text(text, values)
    e = assent_event(shown, said_yes=True, on=DAY)
    assert (e.text_id, e.content_hash) == (text.text_id, text.content_hash)


def test_withdrawal_event():
    e = withdrawal_event(REF, on=DAY)
    assert (e.event_type, e.outcome) == (ConsentEventType.WITHDRAWAL, "withdrawn")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"event_date": datetime(2026, 11, 29, 10, 30)}, TypeError),
        ({"event_date": "2026-11-29"}, TypeError),
        ({"outcome": "no"}, ValueError),
        ({"event_type": "withdrawal"}, ValueError),
        ({"content_hash": "abc"}, ValueError),
        ({"text_id": ""}, ValueError),
        ({"method": "telepathy"}, ValueError),
    ],
)
def test_event_validation(kwargs, error):
    args = {
        "event_type": "assent",
        "outcome": "yes",
        "text_id": REF.text_id,
        "content_hash": REF.content_hash,
        "method": "electronic_tap",
        "event_date": DAY,
    }
    args.update(kwargs)
    with pytest.raises(error):
        ConsentEvent(**args)


def test_event_fields_pass_the_storage_policy():
    columns = [(f.name, "Date" if f.name == "event_date" else "String") for f in dataclasses.fields(ConsentEvent)]
    assert forbidden_columns({"consent_events": columns}) == []

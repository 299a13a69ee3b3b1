"""The model: fallbacks, bands, hashing, immutability, the package boundary."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from instruments import (
    DEFAULT_BANDS,
    DONT_KNOW,
    RATHER_NOT_SAY,
    RESERVED_CODES,
    Item,
    ItemType,
    Sensitivity,
    Text,
    band_at_least,
    band_for_age,
    load_bundled,
)
from instruments.model import FrozenMap, Media


def test_reserved_codes_are_distinct():
    assert RATHER_NOT_SAY != DONT_KNOW
    assert RESERVED_CODES == {RATHER_NOT_SAY, DONT_KNOW}


def test_bands():
    assert [b.code for b in DEFAULT_BANDS] == ["A", "B", "C"]
    assert band_for_age(8).code == "A" and band_for_age(17).code == "C"
    assert band_for_age(7) is None and band_for_age(18) is None
    assert band_at_least("B", "B") and not band_at_least("A", "C")
    with pytest.raises(ValueError):
        band_at_least("Z", "A")


def test_label_fallbacks():
    item = Item(
        "q",
        ItemType.TEXT,
        label=Text(en="Long question", fr="Question longue"),
        label_bands={"A": Text(en="Short")},
        hint=Text(en="Hint"),
    )
    assert item.label_for("en", "A") == "Short"
    assert item.label_for("fr", "A", "en") == "Question longue"
    assert item.label_for("sw", "A", "en") == "Short"
    assert item.label_for("sw", "B", "en") == "Long question"
    assert item.label_for("sw", "B") == ""
    assert item.hint_for("fr", None, "en") == "Hint"


def test_items_are_immutable_and_hashable():
    item = Item("q", "text", label={"en": "Q"}, sensitivity="S2")
    assert item.type is ItemType.TEXT and item.sensitivity is Sensitivity.S2
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "x"
    assert hash(item) == hash(Item("q", "text", label={"en": "Q"}, sensitivity=2))
    assert isinstance(item.media, Media) and not item.media
    assert FrozenMap(a=1) == {"a": 1} and FrozenMap(a=1) != FrozenMap(a=2)


def test_sensitivity_parse():
    assert Sensitivity.parse("s3") is Sensitivity.S3
    with pytest.raises(ValueError):
        Sensitivity.parse("high")


def test_instrument_navigation():
    inst = load_bundled()
    assert inst.item("TR1").name == "TR1"
    with pytest.raises(KeyError):
        inst.item("nope")
    assert len(inst.pages) >= 38
    assert inst.section_of("BA2").name == "barriers"
    with pytest.raises(ValueError):
        inst.items_for_band("D")
    a_pages = inst.pages_for_band("A")
    assert all(item.shown_to("A") for page in a_pages for item in page.items)
    assert [s.name for s in inst.sections_for_band("A")][0] == "devices"
    assert "CH2_helpline" in inst.answer_names()
    assert inst.approved_languages[0].code == "en"
    assert inst.label("TR1", "en", "A").startswith("What if something made you feel scared")


def test_content_hash_tracks_what_children_see_only():
    inst = load_bundled()
    base = inst.content_hash
    approved = dataclasses.replace(
        inst, version="9", languages=tuple(dataclasses.replace(lang, status="approved") for lang in inst.languages)
    )
    assert approved.content_hash == base
    first = inst.sections[0]
    page = first.pages[0]
    item = dataclasses.replace(page.items[0], label=Text(dict(page.items[0].label, en="Changed")))
    changed = dataclasses.replace(
        inst,
        sections=(
            dataclasses.replace(first, pages=(dataclasses.replace(page, items=(item,)), *first.pages[1:])),
            *inst.sections[1:],
        ),
    )
    assert changed.content_hash != base
    reordered = dataclasses.replace(inst, sections=(inst.sections[1], inst.sections[0], *inst.sections[2:]))
    assert reordered.content_hash != base


def test_importing_instruments_never_imports_flask_or_survey():
    code = (
        "import sys, instruments; instruments.load_bundled(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'survey')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

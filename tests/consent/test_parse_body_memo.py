"""parse_body keeps each body's parse: the same body gives the same sections, and a changed body
(one word) is parsed afresh."""

from __future__ import annotations

from consent.texts.markup import Paragraph, parse_body

BODY = (
    "[purpose]\nWe want to hear what you think about {influence_scope}.\n[choice]\nTake part?\n> yes: Yes\n> no: No\n"
)


def test_a_changed_body_is_parsed_again() -> None:
    first = parse_body(BODY)
    assert parse_body(BODY) == first
    changed = parse_body(BODY.replace("what you think", "what you feel"))
    assert changed != first
    assert changed[0].blocks[0] == Paragraph("We want to hear what you feel about {influence_scope}.")
    assert first[0].blocks[0] == Paragraph("We want to hear what you think about {influence_scope}.")

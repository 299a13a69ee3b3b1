"""``${name}`` in a label or hint: the child's own earlier answer, shown in the words.

XLSForm (pyxform) turns ``${name}`` in a label into the answer to ``name`` (an ``<output>``);
Sauti does the same when it draws a page. A choice is shown by its label in the child's
language (never its code); an unanswered item, a reserved answer ("I'd rather not say") or a
row the form left out shows nothing.

Examples
--------
>>> from instruments.model import Choice, Instrument, Item, Language, Page, Section, Text
>>> pet = Item(name="pet", type="select_multiple", label=Text(en="Pets?"), choices="p")
>>> nick = Item(name="nick", type="text", label=Text(en="Name?"))
>>> inst = Instrument(id="d", version="1", languages=(Language("en", "English"),),
...     sections=(Section("s", (Page("p", (pet, nick)),)),),
...     choice_lists={"p": (Choice("cat", Text(en="a cat")), Choice("dog", Text(en="a dog")))})
>>> show_answers("Hi ${nick}, you have ${pet}.", inst, {"nick": "Ana", "pet": "cat dog"}, "en")
'Hi Ana, you have a cat, a dog.'
>>> show_answers("Hi ${nick}${today}!", inst, {"nick": "_rns"}, "en")
'Hi !'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from instruments.model import RESERVED_CODES, Instrument

__all__ = ["has_answer_references", "show_answers"]

_REF_RE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}")


def has_answer_references(text: str | None) -> bool:
    """Whether ``text`` shows an earlier answer (so a page drawn with it is the child's own)."""
    return text is not None and "${" in text and _REF_RE.search(text) is not None


def show_answers(
    text: str, instrument: Instrument, answers: Mapping[str, Any], lang: str, band: str | None = None
) -> str:
    """``text`` with each ``${name}`` replaced by the answer to ``name``, as the child sees it."""
    if not has_answer_references(text):
        return text
    default = instrument.settings.default_language

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = answers.get(name)
        if value is None or isinstance(value, Mapping) or str(value) in RESERVED_CODES:
            return ""
        try:
            item = instrument.item(name)
        except KeyError:
            return str(value) if not name.startswith("_") else ""
        if not item.type.has_choices:
            return str(value)
        labels = {c.name: c.label_for(lang, default) for c in instrument.choices_for(item, band)}
        return ", ".join(labels.get(token, token) for token in str(value).split())

    return _REF_RE.sub(one, text)

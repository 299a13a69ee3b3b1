"""A questionnaire's texts for translators: export one language as PO, read a translated PO back.

PO is what translators' tools read (Poedit, Weblate, OmegaT, Lokalize, Virtaal...).  Each
entry's ``msgctxt`` says where the text sits (``sections/1/items/0/label``), ``msgid`` is the
source-language text, ``msgstr`` the translation.  Placeholders such as ``{helpline}`` and
``${name}`` stay as they are in the translation.  The other format translators use is XLSForm
(a ``label::Kiswahili (sw)`` column per language): :func:`instruments.export_xlsform` writes
it and :func:`instruments.load_instrument` reads it back.

Reading a PO gives a *new version* of the questionnaire (a stored version never changes), and
its language starts its review again.

Examples
--------
>>> import io
>>> from instruments import load_bundled
>>> po = export_po(load_bundled(), "sw")
>>> b'msgid "Watoto' in po or b'msgctxt "title"' in po
True
>>> edited = po.replace(b'msgstr "Watoto wanapaswa kuombaje msaada?"', b'msgstr "Watoto waombe msaada vipi?"')
>>> updated, changed = import_po(load_bundled(), "sw", edited, version="1.1.1")
>>> updated.version, changed, updated.title.get_for("sw")
('1.1.1', 1, 'Watoto waombe msaada vipi?')
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from instruments.model import Instrument

__all__ = ["export_po", "import_po", "text_nodes"]


def text_nodes(data: object, codes: frozenset[str], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every translatable text in an instrument's native dictionary, with its path.

    A text is a mapping whose keys are all language codes of the instrument.

    Examples
    --------
    >>> sorted(p for p, _ in text_nodes({"title": {"en": "Hi"}, "id": "x"}, frozenset({"en"})))
    ['title']
    """
    if isinstance(data, dict):
        if data and set(data) <= codes and all(isinstance(v, str) for v in data.values()):
            yield path, data
            return
        for key, value in data.items():
            yield from text_nodes(value, codes, f"{path}/{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from text_nodes(value, codes, f"{path}/{index}")


def _native(instrument: Instrument) -> dict[str, Any]:
    from instruments.native import instrument_to_dict

    return instrument_to_dict(instrument)


def export_po(instrument: Instrument, language: str) -> bytes:
    """The questionnaire's texts as a PO file for translating into ``language``.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> b"Language: ar" in export_po(load_bundled(), "ar")
    True
    """
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    source = instrument.settings.default_language
    catalog = Catalog(locale=language, project=f"{instrument.id} {instrument.version}", fuzzy=False, charset="utf-8")
    for path, text in text_nodes(_native(instrument), frozenset(instrument.language_codes)):
        if text.get(source):
            catalog.add(text[source], text.get(language, ""), context=path)
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False)
    return out.getvalue()


def import_po(instrument: Instrument, language: str, po: bytes, *, version: str) -> tuple[Instrument, int]:
    """The questionnaire with the PO file's translations into ``language``, as ``version``;
    returns it and how many texts changed.  Entries whose source text no longer matches (the
    questionnaire changed since the export) are left out, and so are empty and fuzzy ones.

    Raises
    ------
    ValueError
        When the file is not a PO file, is for another language, or the version is unchanged.
    """
    from babel.messages.pofile import PoFileError, read_po

    from instruments.native import instrument_from_dict

    if version == instrument.version:
        raise ValueError("Give the translated questionnaire a new version number.")
    try:
        catalog = read_po(io.BytesIO(po), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"This is not a PO file that can be read ({error}).") from error
    if catalog.locale is not None and str(catalog.locale).split("_")[0] != language.split("-")[0]:
        raise ValueError(f"This file is for {catalog.locale}, not {language}.")
    source = instrument.settings.default_language
    translated: dict[tuple[str | None, object], str] = {
        (m.context, m.id): m.string
        for m in catalog
        if m.id and isinstance(m.string, str) and m.string.strip() and not m.fuzzy
    }
    data = _native(instrument)
    if language not in instrument.language_codes:
        raise ValueError(f"The questionnaire has no language {language}; declare it first.")
    changed = 0
    for path, text in text_nodes(data, frozenset(instrument.language_codes)):
        new = translated.get((path, text.get(source)))
        if new is not None and new != text.get(language):
            text[language] = new
            changed += 1
    data["version"] = version
    for entry in data.get("languages") or ():
        if entry.get("code") == language and language != source:
            entry["status"] = "translated"  # new wording: its review starts again
    return instrument_from_dict(data), changed

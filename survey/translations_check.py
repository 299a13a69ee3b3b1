"""Is every interface catalogue current with the code, and every compiled file with its catalogue?"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from survey.catalogues import babel, extract, paths

#: A message id as Babel reads it: a string, or the singular and plural of a plural message.
MessageId = str | tuple[str, ...] | list[str]


def _compiled(po_path: str, language: str) -> tuple[bytes, list[MessageId], list[MessageId]]:
    """The .mo bytes for a catalogue, with its untranslated and fuzzy message ids."""
    with open(po_path, "rb") as handle:
        catalog = read_po(handle, locale=language)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue(), untranslated, fuzzy


def _frozen(value):  # a message id or string: text, or a list for plural forms
    return tuple(value) if isinstance(value, list) else value


def _messages(mo: bytes) -> dict:
    # Plural messages (ngettext) come back with lists of forms, which cannot be dict keys.
    return {_frozen(m.id): _frozen(m.string) for m in read_mo(io.BytesIO(mo)) if m.id}


def _catalogues(folder: str):
    for language in sorted(os.listdir(folder)):
        po_path = os.path.join(folder, language, "LC_MESSAGES", "messages.po")
        if os.path.exists(po_path):
            yield language, po_path


def compile_catalogues() -> list[str]:
    """Write every language's messages.mo (exactly what :func:`stale_catalogues` expects)."""
    written = []
    for language, po_path in _catalogues(paths()[1]):
        Path(po_path[:-3] + ".mo").write_bytes(_compiled(po_path, language)[0])
        written.append(language)
    return written


def stale_catalogues() -> list[str]:
    """Return one line per problem; an empty list means the catalogues are current."""
    _, folder, _ = paths()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "messages.pot")
        extract(pot)
        if babel(
            "update",
            "--check",
            "-i",
            pot,
            "-d",
            folder,
            "--no-fuzzy-matching",
            "--omit-header",
            "--ignore-pot-creation-date",
        ):
            problems.append("a catalogue lacks strings that the code now uses (or keeps removed ones)")
    for language, po_path in _catalogues(folder):
        compiled, untranslated, fuzzy = _compiled(po_path, language)
        if untranslated:
            problems.append(f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[0]!r}")
        if fuzzy:
            problems.append(f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[0]!r}")
        mo_path = Path(po_path[:-3] + ".mo")
        # Compare messages, not bytes: a header-less catalogue gets today's date in its metadata.
        if not mo_path.exists() or _messages(mo_path.read_bytes()) != _messages(compiled):
            problems.append(f"{language}: messages.mo is not compiled from messages.po")
    return problems

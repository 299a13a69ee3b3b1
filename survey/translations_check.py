"""Is every interface catalogue current with the code, and every compiled file with its catalogue?"""

from __future__ import annotations

import io
import os
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def stale_catalogues() -> list[str]:
    """Return one line per problem; an empty list means the catalogues are current."""
    from survey.cli import _babel, _extract, _paths

    _, folder, _ = _paths()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "messages.pot")
        _extract(pot)
        if _babel("update", "--check", "-i", pot, "-d", folder, "--no-fuzzy-matching",
                  "--omit-header", "--ignore-pot-creation-date"):
            problems.append("a catalogue lacks strings that the code now uses (or keeps removed ones)")
    for language in sorted(os.listdir(folder)):
        po_path = os.path.join(folder, language, "LC_MESSAGES", "messages.po")
        if not os.path.exists(po_path):
            continue
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=language)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        if untranslated:
            problems.append(f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[0]!r}")
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        if fuzzy:
            problems.append(f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[0]!r}")
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        mo_path = po_path[:-3] + ".mo"
        if not os.path.exists(mo_path) or open(mo_path, "rb").read() != buffer.getvalue():
            problems.append(f"{language}: messages.mo is not compiled from messages.po")
    return problems

"""Plain-text preview of an instrument for one band and language (for the CLI)."""

from __future__ import annotations

from instruments.model import (
    DONT_KNOW,
    RATHER_NOT_SAY,
    RESERVED_LABELS,
    Instrument,
    ItemType,
)

__all__ = ["preview_text"]


def preview_text(instrument: Instrument, band: str, lang: str | None = None, research_mode: bool = False) -> str:
    """The pages a child in ``band`` sees in ``lang``, as text.

    Examples
    --------
    >>> from instruments import load_bundled
    >>> text = preview_text(load_bundled(), "A", "en")
    >>> text.splitlines()[0]
    '# How should children be able to ask for help? (band A, en)'
    >>> "BA4" in preview_text(load_bundled(), "C", "en")
    False
    """
    default = instrument.settings.default_language
    lang = lang or default
    title = instrument.title.get_for(lang, (default,)) or instrument.id
    lines = [f"# {title} (band {band}, {lang})"]
    number = 0
    for section in instrument.sections_for_band(band, research_mode):
        section_title = section.title.get_for(lang, (default,))
        lines.append("")
        lines.append(f"## {section_title or section.name}")
        notice = section.notice.get_for(lang, (default,))
        if notice:
            lines.append(f"[notice] {notice}" + (" [skip this part]" if section.skippable else ""))
        for page in section.pages:
            number += 1
            lines.append(f"--- page {number}: {page.name}" + (f" (if {page.relevance})" if page.relevance else ""))
            for item in page.items:
                if item.type is ItemType.CALCULATE:
                    continue
                label = item.label_for(lang, band, default)
                cond = f"  (if {item.relevance})" if item.relevance else ""
                lines.append(f"{item.name} [{item.type.value}, {item.sensitivity.name}] {label}{cond}")
                hint = item.hint_for(lang, band, default)
                if hint:
                    lines.append(f"    hint: {hint}")
                if item.type is ItemType.TEXT:
                    lines.append(f"    notice: {item.notice_for(lang, default)}")
                if item.type is ItemType.MATRIX:
                    for row in instrument.rows_for(item):
                        lines.append(f"    row {row.name}: {row.label_for(lang, default)}")
                for choice in instrument.choices_for(item, band):
                    lines.append(f"    ( ) {choice.label_for(lang, default)}")
                if item.max_choices:
                    lines.append(f"    (pick up to {item.max_choices})")
                if item.type.answerable:
                    codes = [DONT_KNOW] if item.allow_dont_know else []
                    for code in [*codes, RATHER_NOT_SAY]:
                        text = RESERVED_LABELS[code].get_for(lang, (default, "en"))
                        lines.append(f"    ( ) {text}")
    return "\n".join(lines) + "\n"

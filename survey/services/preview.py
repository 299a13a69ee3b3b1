"""A read-only preview of a consultation's questionnaire as a child of one age group sees it.

It draws the same page forms the child's pages draw (``survey.pages.builder``), with the
consultation's helplines filled in, for one band and one language.  It reads the stored
questionnaire and writes nothing: no participant, no code, no answer, no audit event.
"""

from __future__ import annotations

import dataclasses

from instruments.model import Item
from survey.models import Consultation
from survey.pages.builder import FieldSpec, PageForm, build_page_form


@dataclasses.dataclass(frozen=True)
class PreviewPage:
    """One page as drawn for the child: its section's notice, its items and an empty form."""

    number: int
    section_notice: str | None
    specs: tuple[FieldSpec, ...]
    form: PageForm
    conditional: tuple[str, ...]  # labels of items shown only after certain earlier answers


def preview_pages(consultation: Consultation, band: str, language: str) -> list[PreviewPage]:
    """Every page a child in ``band`` may see, in ``language``, in order (nothing stored)."""
    from survey.services.consent_rules import research_allowed
    from survey.services.placeholders import instrument_for_children

    instrument = instrument_for_children(consultation)
    default = instrument.settings.default_language
    pages = []
    for section in instrument.sections_for_band(band, research_allowed(consultation)):
        notice = section.notice.get_for(language, (default,)) if section.notice else None
        for position, page in enumerate(section.pages):
            items: tuple[Item, ...] = page.items
            form_class, specs = build_page_form(items, instrument, language, band, {})
            conditional = tuple(spec.label for spec in specs if spec.item.relevance or page.relevance)
            pages.append(
                PreviewPage(
                    len(pages) + 1, notice if position == 0 else None, specs, form_class(formdata=None), conditional
                )
            )
    return pages

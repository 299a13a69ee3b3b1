"""Printable code cards: an A4 PDF, two columns of cards a page, with cut lines.

Each card has the code, a QR code of the start address with the code filled in, the helpline,
and a tear-off strip with the withdrawal code.  The codes exist in full only in this PDF:
the database keeps their hashes.

What the child reads on a card is given in each of the consultation's languages (its
Flask-Babel catalogue), one short paragraph each, Arabic shaped and right to left; the card
grows with the number of languages (ten cards a page for one language, fewer for more).  The
font is the one every printed output embeds (:func:`analysis.pdf.add_fonts`), so every
language's script prints, not "?".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from flask_babel import force_locale
from flask_babel import gettext as _

from consent.profiles import CountryProfile
from survey.config import RTL_LANGUAGES

if TYPE_CHECKING:
    from fpdf import FPDF

CARD_W, MIN_CARD_H = 95.0, 55.0  # mm: 2 columns x up to 5 rows on A4 with margins
MARGIN_X, MARGIN_Y = 10.0, 11.0
PAGE_H = 297.0
PAD = 4.0  # inside a card
TEXT_W = CARD_W - 2 * PAD
QR = 25.0
TOP = 3 + QR + 1  # the code, the address and the QR code
LINE, STRIP_LINE = 3.0, 2.8  # line heights (mm) of the instructions and the tear-off strip
SIZE, STRIP_SIZE = 6.8, 6.0  # their font sizes (pt)
GREY = (90, 90, 90)


def _qr_png(text: str) -> io.BytesIO:
    import segno  # here, with fpdf: only a card sheet needs it

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=4, border=1)
    buffer.seek(0)
    return buffer


def _card_texts(languages: Sequence[str], helpline) -> list[tuple[str, str, str, str]]:
    """(language, "Your code", instruction, tear-off sentence) for each language, from its catalogue."""
    texts = []
    for language in languages:
        with force_locale(language):
            texts.append(
                (
                    language,
                    _("Your code"),
                    _(
                        "Type your code at the address above, or scan the square. Help: %(helpline)s, %(number)s.",
                        helpline=helpline.name,
                        number=helpline.number.replace(" ", "\u00a0"),  # never split over two lines
                    ),
                    _("Keep this. Changed your mind after finishing? Type this code at:"),
                )
            )
    return texts


def _paragraph(pdf: FPDF, x: float, y: float, text: str, language: str, size: float, line: float, dry: bool) -> float:
    """Set ``text`` in a block ``TEXT_W`` wide at (x, y), right-aligned when it reads right to left;
    its height in mm (only measured when ``dry``)."""
    from analysis.pdf import FONT, set_shaping

    set_shaping(pdf, text, language)
    pdf.set_font(FONT, "", size)
    align = "R" if language in RTL_LANGUAGES else "L"
    if dry:
        lines = cast("list[str]", pdf.multi_cell(TEXT_W, line, text, align=align, dry_run=True, output="LINES"))
        return len(lines) * line
    pdf.set_xy(x, y)
    pdf.multi_cell(TEXT_W, line, text, align=align)
    return pdf.get_y() - y


def _fit(pdf: FPDF, text: str, width: float, size: float, family: str | None = None, style: str = "") -> str:
    """Set the font at ``size``, or smaller (to 4.5 pt) so ``text`` fits in ``width`` on one line;
    ``text``, cut short with "…" if it still does not fit."""
    from analysis.pdf import FONT

    family = family or FONT
    pdf.set_font(family, style, size)
    while size > 4.5 and pdf.get_string_width(text) > width:
        size -= 0.25
        pdf.set_font(family, style, size)
    while len(text) > 1 and pdf.get_string_width(text) > width:
        text = text[:-2] + "…"
    return text


def code_cards_pdf(
    cards,
    start_url: str,
    withdraw_url: str,
    profile: CountryProfile,
    title: str,
    languages: Sequence[str] = ("en",),
) -> bytes:
    """The PDF bytes for ``cards`` (objects with ``code``, ``withdrawal_code`` and ``number``),
    the child's words in each of ``languages`` (the consultation's), the page's note to the
    facilitator in the current locale."""
    # here, not at start-up: fpdf and its fonts take 0.3 s to import, and building the app needs neither
    from fpdf import FPDF

    from analysis.pdf import FONT_MONO, add_fonts, set_shaping

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    add_fonts(pdf, mono=True)
    pdf.set_auto_page_break(False)
    pdf.set_title(_("Code cards"))
    pdf.set_creator("Sauti")
    helpline = profile.helplines[0]
    texts = _card_texts(languages or ("en",), helpline)
    # Every card carries the same sentences: measure them once for the card's height.
    pdf.add_page()
    middle = sum(_paragraph(pdf, 0, 0, said, lang, SIZE, LINE, dry=True) + 0.6 for lang, _c, said, _k in texts)
    strip = sum(_paragraph(pdf, 0, 0, keep, lang, STRIP_SIZE, STRIP_LINE, dry=True) for lang, _c, _s, keep in texts)
    label = " · ".join(dict.fromkeys(your_code for _l, your_code, _s, _k in texts))
    strip_h = 1.2 + strip + 6.0
    card_h = max(MIN_CARD_H, TOP + middle + 1 + strip_h)
    rows = max(1, min(5, int((PAGE_H - 2 * MARGIN_Y) // card_h)))
    per_page = 2 * rows
    note = _("%(title)s: cut along the dashed lines; give each child one card.", title=title)
    for index, card in enumerate(cards):
        slot = index % per_page
        if slot == 0:
            if index:
                pdf.add_page()
            set_shaping(pdf, note)
            line = _fit(pdf, note, 2 * CARD_W, 7)
            pdf.set_text_color(*GREY)
            pdf.set_xy(MARGIN_X, 4)
            pdf.cell(2 * CARD_W, 4, line)
        x = MARGIN_X + (slot % 2) * CARD_W
        y = MARGIN_Y + (slot // 2) * card_h
        pdf.set_draw_color(150, 150, 150)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        pdf.rect(x, y, CARD_W, card_h)
        tear_y = y + card_h - strip_h
        pdf.line(x, tear_y, x + CARD_W, tear_y)
        pdf.set_dash_pattern()
        heading = f"#{card.number}   {label}" if card.number else label
        set_shaping(pdf, heading)
        pdf.set_text_color(*GREY)
        pdf.set_xy(x + PAD, y + 3)
        pdf.cell(TEXT_W - QR - 2, 4, _fit(pdf, heading, TEXT_W - QR - 2, 7.5))
        pdf.set_text_color(0, 0, 0)
        set_shaping(pdf, "")
        pdf.set_font(FONT_MONO, "B", 15)
        pdf.set_xy(x + PAD, y + 8)
        pdf.cell(TEXT_W - QR - 2, 8, card.code)
        address = _fit(pdf, start_url, TEXT_W - QR - 2, 8)
        pdf.set_xy(x + PAD, y + 19)
        pdf.cell(TEXT_W - QR - 2, 5, address)
        pdf.image(_qr_png(f"{start_url}?code={card.code}"), x=x + CARD_W - PAD - QR, y=y + 3, w=QR, h=QR)
        top = y + TOP
        for language, _code, said, _keep in texts:
            top += _paragraph(pdf, x + PAD, top, said, language, SIZE, LINE, dry=False) + 0.6
        top = tear_y + 1.2
        for language, _code, _said, keep in texts:
            top += _paragraph(pdf, x + PAD, top, keep, language, STRIP_SIZE, STRIP_LINE, dry=False)
        set_shaping(pdf, "")
        address = _fit(pdf, withdraw_url, TEXT_W - 42, 7.5)
        pdf.set_xy(x + PAD, top + 0.6)
        pdf.cell(TEXT_W - 42, 5, address)
        pdf.set_font(FONT_MONO, "B", 11)
        pdf.set_xy(x + CARD_W - PAD - 40, top + 0.3)
        pdf.cell(40, 5.5, card.withdrawal_code, align="R")
    return bytes(pdf.output())
